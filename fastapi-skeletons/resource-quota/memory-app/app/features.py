"""A memory-intensive API built on pandas and numpy.

POST /allocate?mb=N builds a pandas DataFrame of N MiB of random floats (the memory is
really touched, not just reserved) and keeps it, so the container's memory grows until
its limit: then the kernel OOM-kills it (exit code 137, reason OOMKilled).
"""

from __future__ import annotations

import asyncio
import gc
import logging

import numpy as np
import pandas as pd
from fastapi import FastAPI, HTTPException, Query

from app.core.lifecycle import Lifecycle
from app.memory import MIB, cgroup_cpu, cgroup_memory, rss_mb
from app.settings import Settings

log = logging.getLogger("app.memory")

COLUMNS = 8  # float64 columns per row: 64 bytes a row


def build_frame(mb: int, seed: int = 0) -> pd.DataFrame:
    rows = max(1, mb * MIB // (COLUMNS * 8))
    data = np.random.default_rng(seed).random((rows, COLUMNS))  # writes every page
    return pd.DataFrame(data, columns=[f"c{i}" for i in range(COLUMNS)], copy=False)


def setup(app: FastAPI, settings: Settings, lifecycle: Lifecycle) -> None:
    held: list[pd.DataFrame] = []
    app.state.held = held
    lock = asyncio.Lock()

    def held_mb() -> float:
        return round(sum(int(df.memory_usage(index=False, deep=False).sum()) for df in held) / MIB, 1)

    def report() -> dict[str, object]:
        return {
            "held_mb": held_mb(),
            "frames": len(held),
            "rss_mb": rss_mb(),
            **cgroup_memory(settings.cgroup_root),
            **cgroup_cpu(settings.cgroup_root),
        }

    @app.get("/memory", summary="Process and container memory, and what this app holds")
    async def memory() -> dict[str, object]:
        return report()

    @app.post("/allocate", summary="Allocate (and by default keep) a DataFrame of N MiB")
    async def allocate(
        mb: int = Query(ge=1, description="MiB to allocate"),
        hold: bool = Query(default=True, description="keep the frame (memory stays used)"),
    ) -> dict[str, object]:
        if mb > settings.max_allocation_mb:
            raise HTTPException(status_code=422, detail=f"mb must be at most {settings.max_allocation_mb} (MAX_ALLOCATION_MB)")
        limit = cgroup_memory(settings.cgroup_root)["limit_mb"]
        log.warning(
            "allocating",
            extra={"mb": mb, "held_mb": held_mb(), "rss_mb": rss_mb(), "limit_mb": limit},
        )
        async with lock:
            # Off the event loop, so probes keep answering while numpy fills the memory.
            frame = await asyncio.to_thread(build_frame, mb, len(held))
            summary = {"rows": len(frame), "columns": COLUMNS, "mean": round(float(frame["c0"].mean()), 4)}
            if hold:
                held.append(frame)
            else:
                del frame
                gc.collect()
        return {"allocated_mb": mb, "frame": summary, **report()}

    @app.post("/release", summary="Drop every held DataFrame")
    async def release() -> dict[str, object]:
        async with lock:
            held.clear()
            gc.collect()
        return report()

    @app.get("/", summary="What this service is for")
    async def index() -> dict[str, object]:
        return {
            "app": settings.app_name,
            "try": "POST /allocate?mb=100, GET /memory, POST /release",
            "max_allocation_mb": settings.max_allocation_mb,
        }
