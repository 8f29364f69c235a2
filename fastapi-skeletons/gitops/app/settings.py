"""Settings of the service (environment variables, see k8s/configmap.yaml and the overlays)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from app.core.settings import ServiceSettings


class Settings(ServiceSettings):
    app_name: str = Field(default=${{ values.name | dump }}, min_length=1, max_length=63)
    greeting: str = Field(default=${{ values.greeting | dump }}, max_length=300)


@lru_cache
def get_settings() -> Settings:
    return Settings()
