"""Wires the mesh into a service: tracing, the callers it accepts, the services it calls,
their circuits in /ready, and a 503 (with Retry-After) when a required service is down."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.core.lifecycle import Lifecycle
from app.mesh import tracing
from app.mesh.auth import CallerVerifiers, OwnKey
from app.mesh.downstream import Downstream, DownstreamUnavailable
from app.mesh.settings import MeshSettings


def setup_mesh(
    app: FastAPI,
    settings: MeshSettings,
    lifecycle: Lifecycle,
    *,
    callers: tuple[str, ...],
    downstreams: dict[str, str],
) -> None:
    """``callers``: the services whose keys this one accepts; ``downstreams``: name -> base
    URL of the services it calls. Tests replace ``app.state.downstreams[name]``."""
    provider = tracing.create_tracer_provider(settings)
    tracing.instrument(app, provider, lifecycle)
    app.state.tracer_provider = provider

    if callers:
        app.state.caller_verifiers = CallerVerifiers(settings.caller_verifiers_dir, callers)
        lifecycle.add_readiness_check("api-key-verifiers", app.state.caller_verifiers.readiness)

    app.state.downstreams = {}
    if downstreams:
        own_key = OwnKey(settings.api_key_file)
        lifecycle.add_readiness_check("api-key", own_key.readiness)
        for name, url in downstreams.items():
            app.state.downstreams[name] = Downstream(name, url, settings, own_key, provider)

            async def circuit(name: str = name) -> str:
                return await app.state.downstreams[name].readiness()

            lifecycle.add_readiness_check(f"circuit:{name}", circuit)

    async def close_clients() -> None:
        for downstream in app.state.downstreams.values():
            await downstream.close()

    lifecycle.on_shutdown(close_clients)

    @app.exception_handler(DownstreamUnavailable)
    async def unavailable(request: Request, exc: DownstreamUnavailable) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after_seconds)} if exc.retry_after_seconds else {}
        return JSONResponse({"detail": str(exc), "service": exc.service}, status_code=503, headers=headers)

    @app.get("/circuits", tags=["probes"], summary="State of the circuit breaker of every service this one calls")
    async def circuits() -> dict[str, dict[str, object]]:
        return {name: d.circuit for name, d in app.state.downstreams.items()}
