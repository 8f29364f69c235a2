"""The demo service's promises, in process (the cluster tests watch them on a real node)."""

from __future__ import annotations

import importlib

import pytest
from fastapi.testclient import TestClient


def client(monkeypatch: pytest.MonkeyPatch, **env: str) -> TestClient:
    monkeypatch.setenv("STARTUP_DELAY_SECONDS", "0")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    import app.main

    importlib.reload(app.main)
    return TestClient(app.main.create_app())


def test_index_says_version_and_slot(monkeypatch):
    c = client(monkeypatch, APP_VERSION="2.0.0", SLOT="green")
    body = c.get("/").json()
    assert body["version"] == "2.0.0" and body["slot"] == "green"
    assert c.get("/features").status_code == 200


def test_version_1_has_no_features_endpoint(monkeypatch):
    assert client(monkeypatch, APP_VERSION="1.0.0").get("/features").status_code == 404


def test_chaos_routes_exist_only_when_enabled(monkeypatch):
    assert client(monkeypatch, DEMO_CHAOS="").post("/chaos/unhealthy").status_code == 404


def test_unhealthy_fails_liveness_but_not_readiness(monkeypatch):
    c = client(monkeypatch, DEMO_CHAOS="true")
    assert c.get("/health").status_code == 200
    assert c.post("/chaos/unhealthy").status_code == 200
    assert c.get("/health").status_code == 500
    assert c.get("/ready").status_code == 200


def test_unready_fails_readiness_for_a_while(monkeypatch):
    c = client(monkeypatch, DEMO_CHAOS="true")
    assert c.post("/chaos/unready", params={"seconds": 30}).status_code == 200
    assert c.get("/ready").status_code == 503
    assert c.get("/health").status_code == 200
    assert c.post("/chaos/unready", params={"seconds": 0}).status_code == 422


def test_draining_is_not_ready(monkeypatch):
    c = client(monkeypatch)
    c.app.state.demo.draining = True
    assert c.get("/ready").json() == {"status": "draining: shutting down"}


def test_oom_holds_memory_in_steps(monkeypatch):
    c = client(monkeypatch, DEMO_CHAOS="true")
    body = c.post("/chaos/oom", params={"step_mb": 1, "limit_mb": 3}).json()
    assert body["held_mb"] == 3
    assert c.post("/chaos/oom", params={"step_mb": 0}).status_code == 422


def test_sigterm_drains_before_stopping(monkeypatch):
    import asyncio
    import signal

    import uvicorn

    from app.__main__ import DrainingServer

    c = client(monkeypatch)
    server = DrainingServer(uvicorn.Config(c.app), drain_seconds=30)
    server.handle_exit(signal.SIGTERM, None)
    assert c.app.state.demo.draining is True
    assert server.should_exit is False  # still serving while the pod leaves the Service
    assert c.get("/ready").status_code == 503
    assert asyncio.run(server.on_tick(1)) is False  # before the drain ends
    monkeypatch.setattr("time.monotonic", lambda: server.drain_until + 1)
    assert asyncio.run(server.on_tick(1)) is True
    server.handle_exit(signal.SIGTERM, None)  # a second signal stops at once
    assert server.should_exit is True
