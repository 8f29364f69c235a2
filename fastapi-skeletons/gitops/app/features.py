"""The service's routes: which build runs in which environment.

GET / is what the post-deploy smoke request of scripts/validate-deployment.sh asks for
through the Service: it answers the environment the overlay configured, so a request that
reaches the wrong environment's pods fails the check.
"""

from __future__ import annotations

from fastapi import FastAPI

from app import __version__
from app.core.lifecycle import Lifecycle
from app.settings import Settings


def setup(app: FastAPI, settings: Settings, lifecycle: Lifecycle) -> None:
    @app.get("/", summary="The service, its version and the environment it runs in")
    async def index() -> dict[str, str]:
        return {
            "service": settings.app_name,
            "version": __version__,
            "environment": settings.environment,
            "greeting": settings.greeting,
        }
