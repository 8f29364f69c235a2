"""Calls to another service: API key, timeouts, bounded retries and a circuit breaker.

* Timeouts: connecting and the whole call are bounded (MeshSettings), so a hung service
  costs a caller at most that long.
* Retries: only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS), and only when the
  call did not connect or the service answered 502/503/504; at most
  ``downstream_attempts`` tries with exponential back-off. A POST is never repeated.
* Circuit breaker (the ``circuitbreaker`` library, which works with ``async def``): after
  ``breaker_failure_threshold`` failed calls in a row the circuit opens and calls fail at
  once with DownstreamUnavailable, without waiting for timeouts, so requests do not pile
  up behind a dead service. After ``breaker_recovery_seconds`` one call is let through
  (half-open): success closes the circuit, failure opens it again. 4xx answers are the
  caller's problem, not the service's: they never count as failures.
* Tracing: the client is instrumented (OpenTelemetry), so every call carries
  ``traceparent`` and is a child span of the request that made it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any

import httpx
from circuitbreaker import STATE_CLOSED, CircuitBreaker
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.trace import TracerProvider

from app.mesh.auth import API_KEY_HEADER, OwnKey
from app.mesh.settings import MeshSettings

log = logging.getLogger("app.downstream")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRYABLE_STATUS = frozenset({502, 503, 504})


@dataclass
class DownstreamUnavailable(Exception):
    """The service could not be used: down, too slow, failing, or its circuit is open."""

    service: str
    reason: str
    retry_after_seconds: int | None = None

    def __str__(self) -> str:
        return f"{self.service} unavailable: {self.reason}"


def _counts_as_failure(exc_type: type[BaseException], _exc: BaseException) -> bool:
    return issubclass(exc_type, DownstreamUnavailable)


class Downstream:
    """One service this service calls."""

    def __init__(
        self,
        name: str,
        base_url: str,
        settings: MeshSettings,
        own_key: OwnKey,
        tracer_provider: TracerProvider | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.own_key = own_key
        self.breaker = CircuitBreaker(
            failure_threshold=settings.breaker_failure_threshold,
            recovery_timeout=settings.breaker_recovery_seconds,
            expected_exception=_counts_as_failure,
            name=f"{settings.app_name}->{name}",
        )
        self.client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(settings.downstream_timeout_seconds, connect=settings.downstream_connect_timeout_seconds),
            transport=transport,
            headers={"User-Agent": settings.app_name},
            follow_redirects=False,
        )
        # instrument_client, not the global instrumentor: the latter misses clients with a
        # custom transport (such as the in-process ASGITransport of the tests).
        HTTPXClientInstrumentor.instrument_client(self.client, tracer_provider=tracer_provider)

    async def close(self) -> None:
        await self.client.aclose()

    @property
    def circuit(self) -> dict[str, Any]:
        state = self.breaker.state
        detail: dict[str, Any] = {"state": state, "failures": self.breaker.failure_count}
        if state != STATE_CLOSED:
            detail["retry_in_seconds"] = max(self.breaker.open_remaining, 0)
        return detail

    async def readiness(self) -> str:
        """For /ready's details only: never fails, an open circuit must not take this pod
        out of its Service (that would spread one service's outage to its callers)."""
        circuit = self.circuit
        return f"circuit {circuit['state']}, {circuit['failures']} failure(s) in a row"

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The service's answer (any status below 500), or DownstreamUnavailable."""
        if self.breaker.opened:
            raise DownstreamUnavailable(self.name, "circuit open", max(self.breaker.open_remaining, 1))
        key = self.own_key.get()
        with self.breaker:  # counts DownstreamUnavailable, resets on success
            return await self._with_retries(method.upper(), path, key, **kwargs)

    async def _with_retries(self, method: str, path: str, key: str, **kwargs: Any) -> httpx.Response:
        attempts = self.settings.downstream_attempts if method in IDEMPOTENT_METHODS else 1
        headers = {**kwargs.pop("headers", {}), API_KEY_HEADER: key}
        reason = "not tried"
        for attempt in range(1, attempts + 1):
            retryable = True
            try:
                response = await self.client.request(method, path, headers=headers, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                reason = f"could not connect ({type(exc).__name__})"
            except httpx.TimeoutException as exc:
                # The request may have been processed: repeating it could do it twice.
                reason = f"no answer within {self.settings.downstream_timeout_seconds:g}s ({type(exc).__name__})"
                retryable = False
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}"
                retryable = False
            else:
                if response.status_code < 500:
                    return response
                reason = f"answered HTTP {response.status_code}"
                retryable = response.status_code in RETRYABLE_STATUS
            if not retryable or attempt == attempts:
                break
            delay = self.settings.downstream_backoff_seconds * 2 ** (attempt - 1)
            log.info("retrying", extra={"downstream": self.name, "attempt": attempt, "reason": reason})
            await asyncio.sleep(delay * (0.5 + random.random()))
        log.warning("downstream failed", extra={"downstream": self.name, "method": method, "path": path, "reason": reason})
        raise DownstreamUnavailable(self.name, reason)
