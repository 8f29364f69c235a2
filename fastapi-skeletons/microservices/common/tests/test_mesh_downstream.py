"""Calls to other services (app/mesh/downstream.py): key, timeouts, retries, breaker."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from app.mesh.auth import OwnKey
from app.mesh.downstream import Downstream, DownstreamUnavailable
from app.mesh.settings import MeshSettings
from tests.mesh_support import KEYS, FakeService


def make(tmp_path: Path, fake: FakeService | httpx.AsyncBaseTransport, **overrides: object) -> Downstream:
    key_file = tmp_path / "current"
    key_file.write_text(KEYS["gateway"])
    settings = MeshSettings(
        app_name="caller",
        downstream_backoff_seconds=0,
        breaker_failure_threshold=3,
        breaker_recovery_seconds=1,
        **overrides,
    )
    transport = fake.transport() if isinstance(fake, FakeService) else fake
    return Downstream("callee", "http://callee", settings, OwnKey(key_file), transport=transport)


def ok_service() -> FakeService:
    return FakeService({"GET /things": lambda r: httpx.Response(200, json=[]), "POST /things": lambda r: httpx.Response(201)})


def test_every_call_sends_this_services_key(tmp_path: Path) -> None:
    fake = ok_service()
    asyncio.run(make(tmp_path, fake).request("GET", "/things"))
    assert fake.requests[0].headers["x-api-key"] == KEYS["gateway"]


def test_an_idempotent_call_is_retried_after_a_connection_error_a_bounded_number_of_times(tmp_path: Path) -> None:
    fake = ok_service()
    fake.down = True
    with pytest.raises(DownstreamUnavailable, match="could not connect"):
        asyncio.run(make(tmp_path, fake, downstream_attempts=3).request("GET", "/things"))
    assert len(fake.requests) == 3


def test_an_idempotent_call_is_retried_after_503_and_succeeds(tmp_path: Path) -> None:
    answers = iter([httpx.Response(503), httpx.Response(200, json=["a"])])
    fake = FakeService({"GET /things": lambda r: next(answers)})
    response = asyncio.run(make(tmp_path, fake).request("GET", "/things"))
    assert response.json() == ["a"]
    assert len(fake.requests) == 2


def test_a_post_is_never_repeated(tmp_path: Path) -> None:
    fake = FakeService({"POST /things": lambda r: httpx.Response(503)})
    with pytest.raises(DownstreamUnavailable, match="answered HTTP 503"):
        asyncio.run(make(tmp_path, fake).request("POST", "/things", json={}))
    fake.down = True
    with pytest.raises(DownstreamUnavailable, match="could not connect"):
        asyncio.run(make(tmp_path, fake).request("POST", "/things", json={}))
    assert len(fake.requests) == 2


def test_a_500_is_not_retried_and_a_4xx_is_the_answer(tmp_path: Path) -> None:
    fake = FakeService({"GET /boom": lambda r: httpx.Response(500), "GET /missing": lambda r: httpx.Response(404)})
    downstream = make(tmp_path, fake)
    with pytest.raises(DownstreamUnavailable, match="answered HTTP 500"):
        asyncio.run(downstream.request("GET", "/boom"))
    assert asyncio.run(downstream.request("GET", "/missing")).status_code == 404
    assert len(fake.requests) == 2


def test_a_hung_service_costs_at_most_the_timeout_and_a_post_is_not_repeated(tmp_path: Path) -> None:
    async def scenario() -> tuple[float, int]:
        connections = 0
        release = asyncio.Event()

        async def accept_and_never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            await release.wait()
            writer.close()
            await writer.wait_closed()

        server = await asyncio.start_server(accept_and_never_answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        key_file = tmp_path / "current"
        key_file.write_text(KEYS["gateway"])
        settings = MeshSettings(app_name="caller", downstream_timeout_seconds=0.3)
        downstream = Downstream("callee", f"http://127.0.0.1:{port}", settings, OwnKey(key_file))
        start = time.monotonic()
        with pytest.raises(DownstreamUnavailable, match="no answer within 0.3s"):
            await downstream.request("POST", "/things", json={})
        elapsed = time.monotonic() - start
        await downstream.close()
        release.set()
        server.close()
        await server.wait_closed()
        return elapsed, connections

    elapsed, connections = asyncio.run(scenario())
    assert 0.25 < elapsed < 1.5
    assert connections == 1


def test_the_breaker_opens_fails_fast_and_closes_after_a_successful_trial(tmp_path: Path) -> None:
    fake = ok_service()
    downstream = make(tmp_path, fake, downstream_attempts=1)
    fake.down = True
    for _ in range(3):
        with pytest.raises(DownstreamUnavailable, match="could not connect"):
            asyncio.run(downstream.request("GET", "/things"))
    assert downstream.circuit["state"] == "open"
    # Open: no request leaves, the failure is immediate and says when to retry.
    sent = len(fake.requests)
    with pytest.raises(DownstreamUnavailable, match="circuit open") as raised:
        asyncio.run(downstream.request("GET", "/things"))
    assert raised.value.retry_after_seconds == 1
    assert len(fake.requests) == sent
    # After the recovery time one trial goes through; the service is back: closed.
    fake.down = False
    time.sleep(1.05)
    assert downstream.circuit["state"] == "half_open"
    assert asyncio.run(downstream.request("GET", "/things")).status_code == 200
    assert downstream.circuit == {"state": "closed", "failures": 0}


def test_a_failed_trial_opens_the_breaker_again(tmp_path: Path) -> None:
    fake = ok_service()
    fake.down = True
    downstream = make(tmp_path, fake, downstream_attempts=1)
    for _ in range(3):
        with pytest.raises(DownstreamUnavailable):
            asyncio.run(downstream.request("GET", "/things"))
    time.sleep(1.05)
    with pytest.raises(DownstreamUnavailable, match="could not connect"):
        asyncio.run(downstream.request("GET", "/things"))
    assert downstream.circuit["state"] == "open"


def test_client_errors_never_open_the_breaker(tmp_path: Path) -> None:
    fake = FakeService({"GET /missing": lambda r: httpx.Response(404)})
    downstream = make(tmp_path, fake)
    for _ in range(10):
        asyncio.run(downstream.request("GET", "/missing"))
    assert downstream.circuit == {"state": "closed", "failures": 0}
