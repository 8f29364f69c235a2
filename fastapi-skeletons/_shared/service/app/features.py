"""The service's own routes and checks. Replaced by each golden-path template."""

from __future__ import annotations

from fastapi import FastAPI

from app.core.lifecycle import Lifecycle
from app.settings import Settings


def setup(app: FastAPI, settings: Settings, lifecycle: Lifecycle) -> None:
    @app.get("/")
    async def index() -> dict[str, str]:
        return {"service": settings.app_name}
