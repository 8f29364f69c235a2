"""HTTP client for the backend API, with timeouts and errors a person can act on."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from app.settings import Settings

log = logging.getLogger("app.backend")


@dataclass
class BackendError(Exception):
    """A failed backend call, already translated into what the user should see."""

    status_code: int
    title: str
    explanation: str

    def __str__(self) -> str:
        return f"{self.status_code} {self.title}: {self.explanation}"


class BackendClient:
    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = settings.backend_url.rstrip("/")
        self.timeout = settings.backend_timeout_seconds
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(settings.backend_timeout_seconds, connect=settings.backend_connect_timeout_seconds),
            transport=transport,
            headers={"User-Agent": f"{settings.app_name}/frontend"},
            follow_redirects=False,
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def request(self, method: str, path: str, *, request_id: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"X-Request-ID": request_id} if request_id else {}
        url = f"{self.base_url}{path}"
        try:
            response = await self._client.request(method, path, headers=headers, **kwargs)
        except httpx.ConnectTimeout as exc:
            raise self._unavailable(url, f"connecting timed out ({type(exc).__name__})") from exc
        except httpx.ConnectError as exc:
            raise self._unavailable(url, f"the connection failed ({exc or type(exc).__name__})") from exc
        except httpx.TimeoutException as exc:
            log.warning("backend timeout", extra={"url": url, "error": type(exc).__name__})
            raise BackendError(
                504,
                "The backend did not answer in time",
                f"{method} {url} took longer than {self.timeout:g} seconds ({type(exc).__name__}). "
                "The backend may be overloaded or stuck; its readiness probe takes it out of the "
                "Service when it cannot answer /ready.",
            ) from exc
        except httpx.HTTPError as exc:
            log.warning("backend protocol error", extra={"url": url, "error": repr(exc)})
            raise BackendError(502, "Bad answer from the backend", f"{method} {url} failed: {type(exc).__name__}.") from exc
        if response.status_code >= 500:
            log.warning("backend error status", extra={"url": url, "status": response.status_code})
            raise BackendError(
                502,
                "The backend reported an error",
                f"{method} {url} answered HTTP {response.status_code}. See the backend's logs: "
                "kubectl logs -l app.kubernetes.io/component=backend",
            )
        return response

    def _unavailable(self, url: str, reason: str) -> BackendError:
        log.warning("backend unavailable", extra={"url": url, "reason": reason})
        return BackendError(
            503,
            "The backend is unavailable",
            f"The frontend could not reach the backend API at {url}: {reason}. "
            "Usually the backend pods are not ready or not running. Check with: "
            "kubectl get pods,endpointslices -l app.kubernetes.io/component=backend",
        )

    @staticmethod
    def json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise BackendError(502, "Bad answer from the backend", "The backend's answer was not valid JSON.") from exc
