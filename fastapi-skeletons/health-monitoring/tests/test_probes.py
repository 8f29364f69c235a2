"""Each probe endpoint, the slow start, the dependency check and the failure simulation."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_all_probes_green_after_start(client: TestClient) -> None:
    assert client.get("/startup").status_code == 200
    assert client.get("/health").status_code == 200
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"simulation": {"ok": True, "detail": "ok"}}


def test_slow_start_keeps_startup_and_ready_at_503_until_warm(make_client: Callable[..., TestClient]) -> None:
    client = make_client(startup_delay_seconds=1.0)
    assert client.get("/startup").json() == {"status": "starting", "pending": ["warm-up"]}
    assert client.get("/ready").status_code == 503
    # The process is alive while it warms up (the startup probe holds liveness back anyway).
    assert client.get("/health").status_code == 200
    assert _wait_for(lambda: client.get("/startup").status_code == 200, timeout=5)
    assert client.get("/ready").status_code == 200


def test_simulate_unhealthy_fails_liveness_only(client: TestClient) -> None:
    assert client.post("/simulate/unhealthy").json()["unhealthy"] is True
    health = client.get("/health")
    assert health.status_code == 500
    assert health.json()["checks"]["simulation"]["ok"] is False
    assert client.get("/ready").status_code == 200
    client.post("/simulate/recover")
    assert client.get("/health").status_code == 200


def test_simulate_unready_fails_readiness_only(client: TestClient) -> None:
    client.post("/simulate/unready")
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["simulation"] == {"ok": False, "detail": "RuntimeError: simulated: not accepting traffic"}
    assert client.get("/health").status_code == 200
    client.post("/simulate/recover")
    assert client.get("/ready").status_code == 200


def test_simulate_slow_delays_the_probe_endpoints(client: TestClient) -> None:
    client.post("/simulate/slow", params={"seconds": 0.6})
    start = time.monotonic()
    assert client.get("/health").status_code == 200
    assert time.monotonic() - start >= 0.6
    start = time.monotonic()
    assert client.get("/").status_code == 200  # only the probes hang
    assert time.monotonic() - start < 0.5
    client.post("/simulate/recover")
    assert client.get("/simulate").json() == {"unhealthy": False, "unready": False, "slow_seconds": 0.0}


@pytest.mark.parametrize("seconds", ["0", "121", "-1", "abc"])
def test_slow_simulation_is_bounded(client: TestClient, seconds: str) -> None:
    assert client.post("/simulate/slow", params={"seconds": seconds}).status_code == 422


def test_simulation_endpoints_do_not_exist_when_disabled(make_client: Callable[..., TestClient]) -> None:
    client = make_client(enable_failure_simulation=False)
    for path in ("/simulate/unhealthy", "/simulate/unready", "/simulate/recover"):
        assert client.post(path).status_code == 404
    assert client.post("/simulate/slow", params={"seconds": 5}).status_code == 404
    assert client.get("/").json()["failure_simulation_enabled"] is False


@pytest.fixture
def dependency() -> Iterator[dict[str, object]]:
    """A real HTTP server standing in for a downstream service; its answer is adjustable."""
    state: dict[str, object] = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(int(state["status"]))  # type: ignore[arg-type]
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/health"
    yield state
    server.shutdown()
    server.server_close()


def test_readiness_follows_the_downstream_dependency(
    make_client: Callable[..., TestClient], dependency: dict[str, object]
) -> None:
    client = make_client(dependency_url=dependency["url"])
    assert client.get("/ready").json()["checks"]["dependency"]["ok"] is True
    dependency["status"] = 503
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert "answered HTTP 503" in ready.json()["checks"]["dependency"]["detail"]
    # Liveness never looks at the dependency: restarting would not fix it.
    assert client.get("/health").status_code == 200


def test_unreachable_dependency_makes_the_pod_unready(make_client: Callable[..., TestClient]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(dependency_url=f"http://127.0.0.1:{port}/health")
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["dependency"]["detail"].startswith("ConnectError")


def test_index_reports_state(client: TestClient) -> None:
    body = client.get("/").json()
    assert body["pod"] == "pod-a"
    assert body["started"] is True
    assert body["failure_simulation_enabled"] is True
