"""Settings of the frontend: where the backend is and how long to wait for it."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from app.core.settings import ServiceSettings


class Settings(ServiceSettings):
    app_name: str = Field(default=${{ values.serviceName | dump }}, min_length=1, max_length=63)
    # The backend's Service DNS name. Inside the namespace the short name
    # (http://${{ values.name }}-backend) resolves too; the full name works from anywhere in the cluster.
    backend_url: str = Field(
        default=${{ ("http://" ~ values.name ~ "-backend." ~ values.namespace ~ ".svc.cluster.local:80") | dump }},
        pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$",
    )
    backend_connect_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    backend_timeout_seconds: float = Field(default=5.0, gt=0, le=60)


@lru_cache
def get_settings() -> Settings:
    return Settings()
