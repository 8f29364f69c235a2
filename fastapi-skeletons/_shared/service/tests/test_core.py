"""Behaviour every golden-path service shares: probes, request ids, JSON logs, settings."""

from __future__ import annotations

import asyncio
import json
import logging
import sys

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.core.lifecycle import Lifecycle
from app.core.logging import JsonFormatter
from app.main import create_app
from app.settings import Settings


def test_health_is_ok(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_startup_reports_started_after_lifespan(client: TestClient) -> None:
    response = client.get("/startup")
    assert response.status_code == 200
    assert response.json() == {"status": "started"}


def test_ready_turns_false_once_shutdown_begins(client: TestClient) -> None:
    lifecycle: Lifecycle = client.app.state.lifecycle
    lifecycle.begin_shutdown("SIGTERM")
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "shutting_down", "reason": "SIGTERM"}
    # Liveness must not follow readiness: a draining pod is not a broken pod.
    assert client.get("/health").status_code == 200


def test_answers_close_the_connection_once_shutdown_begins(client: TestClient) -> None:
    # Kept alive until then: the client may send its next request on the connection.
    assert "connection" not in client.get("/health").headers
    client.app.state.lifecycle.begin_shutdown("SIGTERM")
    # During the drain every answer, of any route, tells the client to reconnect.
    assert client.get("/health").headers["connection"] == "close"
    assert client.get("/ready").headers["connection"] == "close"


def test_ready_fails_when_a_readiness_check_fails(client: TestClient) -> None:
    async def broken() -> str:
        raise ConnectionError("dependency down")

    client.app.state.lifecycle.add_readiness_check("extra-dependency", broken)
    response = client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["extra-dependency"] == {"ok": False, "detail": "ConnectionError: dependency down"}


def test_ready_check_that_hangs_is_cut_off_by_the_timeout(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"readiness_check_timeout_seconds": 0.2}))

    async def hangs() -> str:
        await asyncio.sleep(30)
        return "never"

    app.state.lifecycle.add_readiness_check("slow-dependency", hangs)
    with TestClient(app) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["slow-dependency"]["detail"] == "timed out after 0.2s"


def test_startup_and_ready_wait_for_startup_holds(client: TestClient) -> None:
    lifecycle: Lifecycle = client.app.state.lifecycle
    lifecycle.hold_startup("warm-up")
    assert client.get("/startup").json() == {"status": "starting", "pending": ["warm-up"]}
    assert client.get("/startup").status_code == 503
    assert client.get("/ready").status_code == 503
    lifecycle.release_startup("warm-up")
    assert client.get("/startup").status_code == 200


def test_request_id_is_generated_and_echoed(client: TestClient) -> None:
    generated = client.get("/health").headers["x-request-id"]
    assert len(generated) == 32
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    # A hostile id (log injection, overlong) is replaced, never echoed.
    hostile = client.get("/health", headers={"X-Request-ID": "x\" injected=1"}).headers["x-request-id"]
    assert hostile != "x\" injected=1" and len(hostile) == 32


def test_unhandled_errors_become_json_500_with_request_id(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "req-1"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error", "request_id": "req-1"}


def test_json_formatter_emits_one_json_object_with_extras() -> None:
    formatter = JsonFormatter("svc")
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.LogRecord("app.x", logging.ERROR, __file__, 1, "failed %s", ("job",), sys.exc_info())
    record.request_id = "r1"
    line = formatter.format(record)
    assert "\n" not in line.split('"exc_info"')[0]
    payload = json.loads(line)
    assert payload["message"] == "failed job"
    assert payload["level"] == "error"
    assert payload["service"] == "svc"
    assert payload["request_id"] == "r1"
    assert "ValueError: bad" in payload["exc_info"]


def test_requests_are_logged_as_json(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    client.get("/health")  # probes log at DEBUG, so they must not appear at INFO
    client.get("/openapi.json", headers={"X-Request-ID": "log-me"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["message"] == "request"]
    assert [r["path"] for r in requests] == ["/openapi.json"]
    assert requests[0]["request_id"] == "log-me"
    assert requests[0]["status"] == 200
    assert requests[0]["duration_ms"] >= 0


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("SHUTDOWN_DRAIN_SECONDS", "0")
    settings = Settings()
    assert (settings.log_level, settings.port, settings.shutdown_drain_seconds) == ("DEBUG", 9000, 0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("LOG_LEVEL", "verbose"), ("PORT", "70000"), ("SHUTDOWN_DRAIN_SECONDS", "-1"), ("APP_NAME", "")],
)
def test_invalid_settings_are_rejected(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError):
        Settings()
