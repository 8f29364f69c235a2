"""Memory accounting: process RSS and the container's cgroup limits."""

from __future__ import annotations

import resource
from pathlib import Path

MIB = 1024 * 1024


def rss_mb() -> float:
    """Resident memory of this process, from /proc (Linux), else the peak from getrusage."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_memory(root: Path) -> dict[str, float | None]:
    """memory.max / memory.current in MiB (cgroup v2, with the v1 names as a fallback)."""
    limit = _read(root / "memory.max") or _read(root / "memory" / "memory.limit_in_bytes")
    current = _read(root / "memory.current") or _read(root / "memory" / "memory.usage_in_bytes")

    def mib(value: str | None) -> float | None:
        if value is None or value == "max" or not value.isdigit():
            return None
        number = int(value)
        # cgroup v1 reports "no limit" as a huge number.
        return None if number >= 2**62 else round(number / MIB, 1)

    return {"limit_mb": mib(limit), "usage_mb": mib(current)}


def cgroup_cpu(root: Path) -> dict[str, float | None]:
    """cpu.max ("quota period") as a number of CPUs (cgroup v1: cpu.cfs_quota_us and
    cpu.cfs_period_us); None when unlimited."""
    value = _read(root / "cpu.max")
    if not value:
        v1_quota = _read(root / "cpu" / "cpu.cfs_quota_us")
        v1_period = _read(root / "cpu" / "cpu.cfs_period_us")
        value = f"{v1_quota} {v1_period}" if v1_quota and v1_period else None
    if not value:
        return {"limit_cpus": None}
    quota, _, period = value.partition(" ")
    # "max" (v2) or -1 (v1): no limit.
    if not quota.isdigit() or not period.isdigit() or int(period) == 0:
        return {"limit_cpus": None}
    return {"limit_cpus": round(int(quota) / int(period), 3)}
