"""scripts/trace_check.py reads a Jaeger trace the way verify.sh's TRACE check needs."""

from __future__ import annotations

from tests import repo_scripts

trace_check = repo_scripts.load("trace_check")

APP = "shop"


def span(span_id: str, service: str, kind: str, parent: str | None) -> dict:
    return {
        "spanID": span_id,
        "processID": service,
        "tags": [{"key": "span.kind", "value": kind}],
        "references": [{"refType": "CHILD_OF", "spanID": parent}] if parent else [],
    }


def order_trace() -> dict:
    """POST /api/orders as the services produce it (server/client spans per hop)."""
    spans = [
        span("g-server", "gateway", "server", "caller"),
        span("g-client", "gateway", "client", "g-server"),
        span("o-server", "orders", "server", "g-client"),
        span("o-client-1", "orders", "client", "o-server"),
        span("i-server", "inventory", "server", "o-client-1"),
        span("o-client-2", "orders", "client", "o-server"),
        span("p-server", "payments", "server", "o-client-2"),
    ]
    processes = {s: {"serviceName": f"{APP}-{s}"} for s in ("gateway", "orders", "inventory", "payments")}
    return {"spans": spans, "processes": processes}


def test_a_complete_trace_passes_and_is_described() -> None:
    lines, problems = trace_check.problems_in(order_trace(), "caller", APP)
    assert problems == []
    assert lines[0] == "7 spans: gateway 2, inventory 1, orders 3, payments 1"
    assert "orders -> inventory: inventory server span i-server under orders client span o-client-1" in lines


def test_a_missing_hop_or_a_broken_parent_link_is_reported() -> None:
    trace = order_trace()
    trace["spans"] = [s for s in trace["spans"] if s["spanID"] != "i-server"]
    assert trace_check.problems_in(trace, "caller", APP)[1] == ["no inventory server span under a client span of orders"]
    # The gateway did not continue the caller's trace context.
    assert trace_check.problems_in(order_trace(), "someone-else", APP)[1] == [
        "no gateway server span is the child of the caller's span someone-else"
    ]
