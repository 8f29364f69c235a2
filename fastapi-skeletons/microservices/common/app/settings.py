"""Settings of this service: the mesh's (keys, peers, timeouts, breaker, tracing) and its name."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from app.mesh.settings import MeshSettings


class Settings(MeshSettings):
    app_name: str = Field(default=${{ values.serviceName | dump }}, min_length=1, max_length=63)


@lru_cache
def get_settings() -> Settings:
    return Settings()
