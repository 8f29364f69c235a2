"""fastapi-demo: a small FastAPI service whose probes, memory and shutdown you can watch.

* ``GET /`` says which version and slot answered (blue runs 1.0.0, green 2.0.0);
  2.0.0 adds ``GET /features``.
* ``GET /health`` (liveness) fails after ``POST /chaos/unhealthy``: the kubelet restarts
  the container and the Rollouts tab shows the restart and its reason.
* ``GET /ready`` (readiness) is 503 while starting, after ``POST /chaos/unready`` and
  while draining on SIGTERM, so the pod leaves the Service before the process stops.
* ``POST /chaos/oom`` allocates memory until the kernel kills the container at its
  limit: ``OOMKilled``, exit code 137.

The ``/chaos`` routes exist only with ``DEMO_CHAOS=true`` (the demo manifests set it).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time

from fastapi import FastAPI, HTTPException, Response

VERSION = os.environ.get("APP_VERSION", "1.0.0")
SLOT = os.environ.get("SLOT", "")
STARTUP_DELAY_SECONDS = float(os.environ.get("STARTUP_DELAY_SECONDS", "1"))
CHAOS = os.environ.get("DEMO_CHAOS", "").lower() == "true"


def major(version: str) -> int:
    try:
        return int(version.split(".")[0])
    except ValueError:
        return 0


class State:
    """What the probes answer. One process, one event loop: no locking needed."""

    def __init__(self) -> None:
        self.started_at = time.monotonic()
        self.unhealthy = False
        self.unready_until = 0.0
        self.draining = False
        self.held: list[bytearray] = []

    def ready(self) -> tuple[bool, str]:
        now = time.monotonic()
        if now - self.started_at < STARTUP_DELAY_SECONDS:
            return False, "starting"
        if self.draining:
            return False, "draining: shutting down"
        if now < self.unready_until:
            return False, "not ready (POST /chaos/unready)"
        return True, "ready"


def create_app() -> FastAPI:
    state = State()
    app = FastAPI(title="fastapi-demo", version=VERSION)
    app.state.demo = state

    @app.get("/")
    async def index() -> dict[str, object]:
        return {
            "service": "fastapi-demo",
            "version": VERSION,
            "slot": SLOT,
            "pod": socket.gethostname(),
        }

    @app.get("/health")
    async def health(response: Response) -> dict[str, str]:
        if state.unhealthy:
            response.status_code = 500
            return {"status": "failing (POST /chaos/unhealthy): the kubelet will restart me"}
        return {"status": "ok"}

    @app.get("/ready")
    async def ready(response: Response) -> dict[str, str]:
        ok, why = state.ready()
        if not ok:
            response.status_code = 503
        return {"status": why}

    if major(VERSION) >= 2:

        @app.get("/features")
        async def features() -> dict[str, list[str]]:
            return {"features": ["features endpoint", "slot in every answer"]}

    if CHAOS:

        @app.post("/chaos/unhealthy")
        async def unhealthy() -> dict[str, str]:
            state.unhealthy = True
            return {"status": "liveness fails from now on"}

        @app.post("/chaos/unready")
        async def unready(seconds: float = 30) -> dict[str, str]:
            if not 0 < seconds <= 3600:
                raise HTTPException(422, "seconds must be in (0, 3600]")
            state.unready_until = time.monotonic() + seconds
            return {"status": f"readiness fails for {seconds:g} s"}

        @app.post("/chaos/oom")
        async def oom(step_mb: int = 16, limit_mb: int = 4096) -> dict[str, object]:
            """Holds memory in steps until the kernel's OOM killer stops the container."""
            if not 1 <= step_mb <= 256:
                raise HTTPException(422, "step_mb must be in [1, 256]")
            for _ in range(limit_mb // step_mb):
                chunk = bytearray(step_mb * 1024 * 1024)
                # Touch every page: untouched pages are not charged to the cgroup.
                for i in range(0, len(chunk), 4096):
                    chunk[i] = 1
                state.held.append(chunk)
                await asyncio.sleep(0)
            return {"held_mb": len(state.held) * step_mb, "status": "still alive: raise limit_mb"}

    return app
