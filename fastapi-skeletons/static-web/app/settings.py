"""Settings of the static web service (environment variables, see k8s/configmap.yaml)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field

from app.core.settings import ServiceSettings


class Settings(ServiceSettings):
    app_name: str = Field(default=${{ values.name | dump }}, min_length=1, max_length=63)
    # The page comes from the ConfigMap, mounted as a file (k8s/deployment.yaml).
    content_path: Path = Path("/srv/content/index.html")
    greeting: str = Field(default="Hello from the Golden Path", max_length=500)
    # Set from the downward API, so every response shows which replica answered.
    pod_name: str = Field(default="local", max_length=253)


@lru_cache
def get_settings() -> Settings:
    return Settings()
