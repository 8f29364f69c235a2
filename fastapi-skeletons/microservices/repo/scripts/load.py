#!/usr/bin/env python3
"""Steady load on one URL, and what it measured, per phase (scripts/verify.sh, BREAKER).

    load.py run URL OUT.tsv [--concurrency N] [--seconds S] [--timeout T]
        GETs URL from N threads until S seconds passed or OUT.tsv.stop exists; writes
        one line per request: start time, seconds taken, HTTP status (0: no answer),
        and whether the answer was degraded (header X-Degraded).
    load.py summary OUT.tsv MARKS.tsv
        MARKS.tsv: lines "<unix time> <phase name>", each starting a phase. Prints, per
        phase: requests, error rate (no answer or 5xx), degraded answers, p50/p95/max
        latency in ms. Standard library only.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path


def run(url: str, out: Path, concurrency: int, seconds: float, timeout: float) -> None:
    stop_file = out.with_name(out.name + ".stop")
    deadline = time.time() + seconds
    lock = threading.Lock()
    with out.open("w") as log:

        def worker() -> None:
            while time.time() < deadline and not stop_file.exists():
                start = time.time()
                status, degraded = 0, 0
                try:
                    with urllib.request.urlopen(url, timeout=timeout) as response:
                        response.read()
                        status, degraded = response.status, int(bool(response.headers.get("X-Degraded")))
                except urllib.error.HTTPError as error:
                    status = error.code
                except Exception:  # no answer: refused, reset, timed out
                    status = 0
                with lock:
                    log.write(f"{start:.3f}\t{time.time() - start:.4f}\t{status}\t{degraded}\n")
                    log.flush()

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def summary(out: Path, marks: Path) -> list[dict[str, object]]:
    phases = [(float(t), name) for t, name in (line.split(maxsplit=1) for line in marks.read_text().splitlines() if line)]
    records = [line.split("\t") for line in out.read_text().splitlines() if line]
    rows = []
    for index, (begin, name) in enumerate(phases):
        end = phases[index + 1][0] if index + 1 < len(phases) else float("inf")
        inside = [(float(d), int(s), int(g)) for t, d, s, g in records if begin <= float(t) < end]
        if not inside:
            rows.append({"phase": name, "requests": 0})
            continue
        latencies = [d * 1000 for d, _, _ in inside]
        errors = sum(1 for _, s, _ in inside if s == 0 or s >= 500)
        rows.append(
            {
                "phase": name,
                "requests": len(inside),
                "error_rate": errors / len(inside),
                "degraded": sum(g for _, _, g in inside),
                "p50_ms": statistics.median(latencies),
                "p95_ms": percentile(latencies, 0.95),
                "max_ms": max(latencies),
            }
        )
    return rows


def main(argv: list[str]) -> int:
    if argv[:1] == ["run"] and len(argv) >= 3:
        options = dict(zip(argv[3::2], argv[4::2]))
        run(
            argv[1],
            Path(argv[2]),
            int(options.get("--concurrency", 4)),
            float(options.get("--seconds", 120)),
            float(options.get("--timeout", 10)),
        )
        return 0
    if argv[:1] == ["summary"] and len(argv) == 3:
        print("phase\trequests\terror_rate\tdegraded\tp50_ms\tp95_ms\tmax_ms")
        for row in summary(Path(argv[1]), Path(argv[2])):
            if row["requests"] == 0:
                print(f"{row['phase']}\t0\t-\t-\t-\t-\t-")
                continue
            print(
                f"{row['phase']}\t{row['requests']}\t{row['error_rate']:.1%}\t{row['degraded']}\t"
                f"{row['p50_ms']:.1f}\t{row['p95_ms']:.1f}\t{row['max_ms']:.1f}"
            )
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
