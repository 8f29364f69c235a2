"""Application factory: ``create_app(settings)`` builds a fully wired FastAPI app.

Run it with ``python -m app`` (see ``app/__main__.py``), or for development:
``uvicorn app.main:create_app --factory --reload``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__, features
from app.core import health, middleware
from app.core.lifecycle import Lifecycle, install_signal_handlers
from app.core.logging import configure_logging
from app.settings import Settings, get_settings

log = logging.getLogger("app")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.app_name)
    lifecycle = Lifecycle()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info(
            "starting",
            extra={"version": __version__, "environment": settings.environment, "port": settings.port},
        )
        install_signal_handlers(lifecycle, settings.shutdown_drain_seconds)
        await lifecycle.run_startup()
        try:
            yield
        finally:
            await lifecycle.run_shutdown()
            log.info("stopped")

    app = FastAPI(title=settings.app_name, version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.lifecycle = lifecycle
    middleware.install(app, lifecycle)
    app.include_router(health.router)
    features.setup(app, settings, lifecycle)
    return app
