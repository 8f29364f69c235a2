"""Settings of the backend API."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from app.core.settings import ServiceSettings


class Settings(ServiceSettings):
    app_name: str = Field(default=${{ values.serviceName | dump }}, min_length=1, max_length=63)
    # Demo data so the frontend has something to show on first start.
    seed_items: bool = True
    max_items: int = Field(default=1000, ge=1, le=100_000)


@lru_cache
def get_settings() -> Settings:
    return Settings()
