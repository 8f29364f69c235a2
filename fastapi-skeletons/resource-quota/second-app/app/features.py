"""A small API that reports the resources Kubernetes gave its container."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from app.core.lifecycle import Lifecycle
from app.settings import Settings


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def container_limits(root: Path) -> dict[str, object]:
    """cgroup v2 limits: memory.max in MiB and cpu.max as CPUs (None = unlimited)."""
    memory = _read(root / "memory.max")
    cpu = _read(root / "cpu.max")
    memory_mb = round(int(memory) / (1024 * 1024), 1) if memory and memory.isdigit() else None
    cpus = None
    if cpu:
        quota, _, period = cpu.partition(" ")
        if quota.isdigit() and period.isdigit():
            cpus = round(int(quota) / int(period), 3)
    return {"memory_limit_mb": memory_mb, "cpu_limit": cpus}


def setup(app: FastAPI, settings: Settings, lifecycle: Lifecycle) -> None:
    @app.get("/", summary="Greeting")
    async def index() -> dict[str, str]:
        return {"app": settings.app_name, "message": settings.greeting}

    @app.get("/limits", summary="The container's resource limits, as the kernel enforces them")
    async def limits() -> dict[str, object]:
        return container_limits(settings.cgroup_root)
