"""Settings of the health-monitoring demo service."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from app.core.settings import ServiceSettings


class Settings(ServiceSettings):
    app_name: str = Field(default=${{ values.name | dump }}, min_length=1, max_length=63)
    # Simulated slow start: /startup and /ready answer 503 for this long after start.
    startup_delay_seconds: float = Field(default=${{ values.startupDelaySeconds }}, ge=0, le=600)
    # POST /simulate/* exists only when this is true. Never enable it in production.
    enable_failure_simulation: bool = False
    # Optional downstream dependency checked by /ready (never by /health), e.g.
    # http://other-service.namespace.svc.cluster.local/health
    dependency_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    dependency_timeout_seconds: float = Field(default=1.0, gt=0, le=10)
    pod_name: str = Field(default="local", max_length=253)


@lru_cache
def get_settings() -> Settings:
    return Settings()
