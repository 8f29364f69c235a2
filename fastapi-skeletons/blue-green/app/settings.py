"""Settings of the blue-green service (environment variables)."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import Field, field_validator

from app import __version__
from app.core.settings import ServiceSettings

SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


class Settings(ServiceSettings):
    app_name: str = Field(default=${{ values.name | dump }}, min_length=1, max_length=63)
    # APP_VERSION, baked into the image by the Dockerfile (--build-arg APP_VERSION=X.Y.Z).
    # Its major version decides which features are on (app/features.py).
    app_version: str = __version__
    # The pod's slot label (blue or green), from the downward API; "local" outside Kubernetes.
    slot: str = Field(default="local", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)
    pod_name: str = Field(default="local", max_length=253)

    @field_validator("app_version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not SEMVER.fullmatch(value):
            raise ValueError(f"APP_VERSION must be X.Y.Z, got {value!r}")
        return value

    @property
    def major(self) -> int:
        return int(self.app_version.split(".", 1)[0])


@lru_cache
def get_settings() -> Settings:
    return Settings()
