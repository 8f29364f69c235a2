"""Probe behaviour you can observe and break on purpose.

* slow start: /startup and /ready stay 503 for STARTUP_DELAY_SECONDS;
* /ready checks the optional downstream dependency (DEPENDENCY_URL);
* with ENABLE_FAILURE_SIMULATION=true, POST /simulate/unhealthy | unready | slow | recover
  make the probes fail so you can watch Kubernetes restart the container or take the pod
  out of the Service.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import httpx
from fastapi import FastAPI, Query, Request

from app.core.lifecycle import Lifecycle
from app.settings import Settings

log = logging.getLogger("app.simulation")

SLOWED_PATHS = frozenset({"/health", "/ready"})


@dataclass
class Simulation:
    unhealthy: bool = False
    unready: bool = False
    slow_seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {"unhealthy": self.unhealthy, "unready": self.unready, "slow_seconds": self.slow_seconds}


def setup(app: FastAPI, settings: Settings, lifecycle: Lifecycle) -> None:
    sim = Simulation()
    app.state.simulation = sim
    started_at = time.monotonic()

    async def warm_up() -> None:
        await asyncio.sleep(settings.startup_delay_seconds)
        lifecycle.release_startup("warm-up")

    async def begin_warm_up() -> None:
        if settings.startup_delay_seconds > 0:
            lifecycle.hold_startup("warm-up")
            log.info("warming up", extra={"seconds": settings.startup_delay_seconds})
            lifecycle.spawn(warm_up(), "warm-up")

    lifecycle.on_startup(begin_warm_up)

    async def simulated_liveness() -> str:
        if sim.unhealthy:
            raise RuntimeError("simulated failure: POST /simulate/recover to heal (or let Kubernetes restart me)")
        return "ok"

    async def simulated_readiness() -> str:
        if sim.unready:
            raise RuntimeError("simulated: not accepting traffic")
        return "ok"

    lifecycle.add_liveness_check("simulation", simulated_liveness)
    lifecycle.add_readiness_check("simulation", simulated_readiness)

    if settings.dependency_url:
        dependency = httpx.AsyncClient(timeout=settings.dependency_timeout_seconds)

        async def dependency_check() -> str:
            response = await dependency.get(settings.dependency_url)
            if response.status_code >= 500:
                raise RuntimeError(f"{settings.dependency_url} answered HTTP {response.status_code}")
            return f"{settings.dependency_url} answered HTTP {response.status_code}"

        async def close_dependency() -> None:
            await dependency.aclose()

        lifecycle.add_readiness_check("dependency", dependency_check)
        lifecycle.on_shutdown(close_dependency)

    @app.middleware("http")
    async def slow_probes(request: Request, call_next):  # type: ignore[no-untyped-def]
        # A hung process: the probe's timeoutSeconds expires before the answer comes.
        if sim.slow_seconds and request.url.path in SLOWED_PATHS:
            await asyncio.sleep(sim.slow_seconds)
        return await call_next(request)

    @app.get("/", summary="What this pod is doing")
    async def index() -> dict[str, object]:
        return {
            "app": settings.app_name,
            "pod": settings.pod_name,
            "uptime_seconds": round(time.monotonic() - started_at, 1),
            "started": lifecycle.started,
            "startup_delay_seconds": settings.startup_delay_seconds,
            "failure_simulation_enabled": settings.enable_failure_simulation,
            "simulation": sim.as_dict(),
        }

    if not settings.enable_failure_simulation:
        return

    @app.get("/simulate", tags=["simulation"])
    async def simulation_state() -> dict[str, object]:
        return sim.as_dict()

    @app.post("/simulate/unhealthy", tags=["simulation"], summary="/health answers 500: liveness restarts the container")
    async def make_unhealthy() -> dict[str, object]:
        sim.unhealthy = True
        log.warning("simulation: unhealthy")
        return sim.as_dict()

    @app.post("/simulate/unready", tags=["simulation"], summary="/ready answers 503: the pod leaves the Service")
    async def make_unready() -> dict[str, object]:
        sim.unready = True
        log.warning("simulation: unready")
        return sim.as_dict()

    @app.post("/simulate/slow", tags=["simulation"], summary="/health and /ready answer after N seconds")
    async def make_slow(seconds: float = Query(ge=0.1, le=120)) -> dict[str, object]:
        sim.slow_seconds = seconds
        log.warning("simulation: slow probes", extra={"seconds": seconds})
        return sim.as_dict()

    @app.post("/simulate/recover", tags=["simulation"], summary="Clear every simulated failure")
    async def recover() -> dict[str, object]:
        sim.unhealthy = sim.unready = False
        sim.slow_seconds = 0.0
        log.info("simulation: recovered")
        return sim.as_dict()
