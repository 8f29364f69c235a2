"""Settings of the second, lightweight service."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field

from app.core.settings import ServiceSettings


class Settings(ServiceSettings):
    app_name: str = Field(default=${{ values.serviceName | dump }}, min_length=1, max_length=63)
    greeting: str = Field(default="I fit in what the quota leaves.", max_length=200)
    cgroup_root: Path = Path("/sys/fs/cgroup")


@lru_cache
def get_settings() -> Settings:
    return Settings()
