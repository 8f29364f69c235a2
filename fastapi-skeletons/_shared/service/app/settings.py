"""Settings of this service. Extend ``ServiceSettings`` with the feature's own fields."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from app.core.settings import ServiceSettings


class Settings(ServiceSettings):
    app_name: str = Field(default=${{ (values.serviceName or values.name) | dump }}, min_length=1, max_length=63)


@lru_cache
def get_settings() -> Settings:
    return Settings()
