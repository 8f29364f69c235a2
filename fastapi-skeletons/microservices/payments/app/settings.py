"""Settings of the payments service: the mesh's, and the amount above which it declines."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from app.mesh.settings import MeshSettings


class Settings(MeshSettings):
    app_name: str = Field(default=${{ values.serviceName | dump }}, min_length=1, max_length=63)
    # Larger amounts are declined: a deterministic way to show the declined path.
    payment_limit_cents: int = Field(default=100_000, ge=1)


@lru_cache
def get_settings() -> Settings:
    return Settings()
