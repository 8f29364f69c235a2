"""Settings every service of the mesh has, on top of the golden-path service settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from app.core.settings import ServiceSettings

URL = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$"


class MeshSettings(ServiceSettings):
    # One folder per caller this service accepts, holding the SHA-256 verifiers of the
    # caller's keys (files current, next, previous: see docs/auth.md). Mounted from the
    # caller's "-api-key-verifiers" Secret, never its key.
    caller_verifiers_dir: Path = Path("/var/run/secrets/callers")
    # The key this service sends to the services it calls (file "current" of its own
    # "-api-key" Secret). Re-read when it changes, so a rotation needs no restart.
    api_key_file: Path = Path("/var/run/secrets/api-key/current")
    # OTLP/HTTP endpoint of the trace collector (Jaeger, an OpenTelemetry Collector), e.g.
    # http://jaeger.tracing:4318. Empty: spans are created and propagated, not exported.
    otel_exporter_otlp_endpoint: str = Field(default="", pattern=r"^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?)?$")
    # Every outgoing call: connecting, and the whole call, are bounded.
    downstream_connect_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    downstream_timeout_seconds: float = Field(default=3.0, gt=0, le=60)
    # Tries of an idempotent call (GET, PUT, DELETE) that failed to connect or got 502/503/504.
    downstream_attempts: int = Field(default=3, ge=1, le=5)
    downstream_backoff_seconds: float = Field(default=0.05, ge=0, le=5)
    # The breaker opens after this many failed calls in a row and lets a trial call through
    # after the recovery time (half-open); a success closes it, a failure opens it again.
    breaker_failure_threshold: int = Field(default=5, ge=1, le=100)
    breaker_recovery_seconds: float = Field(default=10.0, gt=0, le=600)
    # The other services, by their Service DNS names (<service>.<namespace>.svc.cluster.local);
    # each service uses those it calls (topology.yaml).
    orders_url: str = Field(
        default=${{ ("http://" ~ values.name ~ "-orders." ~ values.namespace ~ ".svc.cluster.local:80") | dump }},
        pattern=URL,
    )
    inventory_url: str = Field(
        default=${{ ("http://" ~ values.name ~ "-inventory." ~ values.namespace ~ ".svc.cluster.local:80") | dump }},
        pattern=URL,
    )
    payments_url: str = Field(
        default=${{ ("http://" ~ values.name ~ "-payments." ~ values.namespace ~ ".svc.cluster.local:80") | dump }},
        pattern=URL,
    )
