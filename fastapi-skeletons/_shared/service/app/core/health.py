"""Probe endpoints: /health (liveness), /ready (readiness), /startup (startup probe)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["probes"])


@router.get("/health", summary="Liveness: is the process able to answer?")
async def health(request: Request) -> JSONResponse:
    lifecycle = request.app.state.lifecycle
    ok, body = await lifecycle.liveness(request.app.state.settings.readiness_check_timeout_seconds)
    return JSONResponse(body, status_code=200 if ok else 500)


@router.get("/ready", summary="Readiness: should this pod receive traffic?")
async def ready(request: Request) -> JSONResponse:
    lifecycle = request.app.state.lifecycle
    ok, body = await lifecycle.readiness(request.app.state.settings.readiness_check_timeout_seconds)
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/startup", summary="Startup: has start-up finished?")
async def startup(request: Request) -> JSONResponse:
    lifecycle = request.app.state.lifecycle
    if lifecycle.started:
        return JSONResponse({"status": "started"})
    return JSONResponse({"status": "starting", "pending": lifecycle.startup_pending}, status_code=503)
