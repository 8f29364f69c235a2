"""Settings every service has, read from environment variables (pydantic-settings)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class ServiceSettings(BaseSettings):
    """Base settings. Every field maps to an upper-case environment variable (APP_NAME, PORT, ...)."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, frozen=True)

    app_name: str = Field(default="service", min_length=1, max_length=63)
    environment: str = Field(default="development", min_length=1, max_length=32)
    log_level: LogLevel = "INFO"
    host: str = "0.0.0.0"
    port: int = Field(default=8000, ge=1, le=65535)
    # After SIGTERM the service keeps serving for this long while /ready answers 503,
    # so Kubernetes and load balancers stop routing to the pod before it stops listening.
    shutdown_drain_seconds: float = Field(default=5.0, ge=0, le=60)
    # Then uvicorn waits at most this long for in-flight requests to finish.
    graceful_timeout_seconds: int = Field(default=20, ge=1, le=300)
    # Upper bound for each readiness check, so /ready answers within the probe's timeout.
    readiness_check_timeout_seconds: float = Field(default=1.5, gt=0, le=30)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value
