#!/usr/bin/env python3
"""Whether Jaeger holds the whole trace of one order (scripts/verify.sh, TRACE).

    trace_check.py JAEGER_URL TRACE_ID PARENT_SPAN_ID APP

Reads GET <JAEGER_URL>/api/traces/<TRACE_ID> (Jaeger's query API) for the trace of one
POST /api/orders and checks: the gateway's server span is the child of PARENT_SPAN_ID
(the caller's traceparent), and for every edge of topology.yaml on that request's path
(all but gateway -> payments, which only reading an order takes) a server span of the
callee is the child of a client span of the caller, which descends from the caller's own
server span. Prints the spans per
service and the edges; exits 1 (saying what is missing) otherwise. Standard library only.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Edges a POST /api/orders does not take.
NOT_ON_THE_PATH = {("gateway", "payments")}


def edges() -> list[tuple[str, str]]:
    text = (ROOT / "topology.yaml").read_text()
    return re.findall(r"\{from: *([a-z]+), *to: *([a-z]+),", text)


def problems_in(trace: dict, parent: str, app: str) -> tuple[list[str], list[str]]:
    services = {pid: p["serviceName"] for pid, p in trace["processes"].items()}
    spans = {s["spanID"]: s for s in trace["spans"]}

    def service_of(span: dict) -> str:
        return services[span["processID"]].removeprefix(f"{app}-")

    def kind_of(span: dict) -> str:
        return next((t["value"] for t in span.get("tags", []) if t["key"] == "span.kind"), "")

    def parent_of(span: dict) -> str | None:
        return next((r["spanID"] for r in span.get("references", []) if r["refType"] == "CHILD_OF"), None)

    def ancestors(span: dict) -> list[dict]:
        found, current = [], parent_of(span)
        while current in spans:
            found.append(spans[current])
            current = parent_of(spans[current])
        return found

    lines, problems = [], []
    per_service: dict[str, int] = {}
    for span in spans.values():
        per_service[service_of(span)] = per_service.get(service_of(span), 0) + 1
    lines.append(f"{len(spans)} spans: " + ", ".join(f"{s} {n}" for s, n in sorted(per_service.items())))
    servers = [s for s in spans.values() if kind_of(s) == "server"]
    gateway_roots = [s for s in servers if service_of(s) == "gateway" and parent_of(s) == parent]
    if not gateway_roots:
        problems.append(f"no gateway server span is the child of the caller's span {parent}")
    for caller, callee in edges():
        linked = [
            s
            for s in servers
            if service_of(s) == callee
            and parent_of(s) in spans
            and service_of(spans[parent_of(s)]) == caller
            and kind_of(spans[parent_of(s)]) == "client"
            and any(service_of(a) == caller and kind_of(a) == "server" for a in ancestors(spans[parent_of(s)]))
        ]
        if not linked and (caller, callee) not in NOT_ON_THE_PATH:
            problems.append(f"no {callee} server span under a client span of {caller}")
        elif linked:
            lines.append(f"{caller} -> {callee}: {callee} server span {linked[0]['spanID']} under {caller} client span {parent_of(linked[0])}")
    return lines, problems


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    url, trace_id, parent, app = argv
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/api/traces/{trace_id}", timeout=5) as response:
            data = json.load(response)["data"]
    except Exception as error:  # not there yet, or Jaeger not reachable
        print(f"trace {trace_id}: {error}", file=sys.stderr)
        return 1
    if not data:
        print(f"trace {trace_id}: not in Jaeger (yet)", file=sys.stderr)
        return 1
    lines, problems = problems_in(data[0], parent, app)
    for line in lines:
        print(line)
    for problem in problems:
        print(f"trace {trace_id}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
