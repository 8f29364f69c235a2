"""Request logging with a request id, a JSON 500 for unexpected errors, and
``Connection: close`` on every answer once shutdown has begun."""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.core.lifecycle import Lifecycle

log = logging.getLogger("app.request")

PROBE_PATHS = frozenset({"/health", "/ready", "/startup"})
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def install(app: FastAPI, lifecycle: Lifecycle) -> None:
    @app.middleware("http")
    async def log_requests(request: Request, call_next):  # type: ignore[no-untyped-def]
        incoming = request.headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.state.request_id = request_id
        start = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:
            log.exception(
                "unhandled error",
                extra={"request_id": request_id, "method": request.method, "path": request.url.path},
            )
            response = JSONResponse({"detail": "Internal Server Error", "request_id": request_id}, status_code=500)
        response.headers["X-Request-ID"] = request_id
        if lifecycle.shutting_down:
            # A kept-alive connection would otherwise stay on this pod until the server
            # closes it at the end of the drain, possibly just as the client sends its
            # next request on it (a reset: a lost request). Closed after this answer, the
            # client reconnects, and the Service routes the new connection to a ready pod.
            response.headers["Connection"] = "close"
        # Probes hit every few seconds: keep them out of the INFO log.
        level = logging.DEBUG if request.url.path in PROBE_PATHS else logging.INFO
        log.log(
            level,
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - start) * 1000, 2),
            },
        )
        return response
