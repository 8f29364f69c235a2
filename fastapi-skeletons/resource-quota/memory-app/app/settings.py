"""Settings of the memory-intensive service."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field

from app.core.settings import ServiceSettings


class Settings(ServiceSettings):
    app_name: str = Field(default=${{ values.serviceName | dump }}, min_length=1, max_length=63)
    # Upper bound of one POST /allocate. Deliberately above the container's memory limit:
    # exceeding the limit (and being OOMKilled) is what this service demonstrates.
    max_allocation_mb: int = Field(default=2048, ge=1, le=65536)
    # Where the container's cgroup v2 files are (memory.max, memory.current, cpu.max).
    cgroup_root: Path = Path("/sys/fs/cgroup")


@lru_cache
def get_settings() -> Settings:
    return Settings()
