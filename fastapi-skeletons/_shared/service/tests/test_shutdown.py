"""Graceful shutdown of the real server process (python -m app), as Kubernetes does it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_sigterm_drains_then_exits(service_env: dict[str, str]) -> None:
    port = _free_port()
    env = {
        **os.environ,
        **service_env,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SHUTDOWN_DRAIN_SECONDS": "1.5",
        "GRACEFUL_TIMEOUT_SECONDS": "5",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert _wait_until(lambda: httpx.get(f"{base}/health", timeout=1).status_code == 200, 30), "server did not start"
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        # During the drain the pod still serves, but tells Kubernetes to stop routing to it.
        ready = httpx.get(f"{base}/ready", timeout=1)
        assert ready.status_code == 503
        assert ready.json() == {"status": "shutting_down", "reason": "SIGTERM"}
        assert httpx.get(f"{base}/health", timeout=1).status_code == 200
        proc.wait(timeout=15)
        elapsed = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
        output = proc.communicate()[0]
    assert elapsed >= 1.4, f"exited after {elapsed:.2f}s, before the drain period ended"
    # uvicorn re-raises the captured SIGTERM after its graceful shutdown.
    assert proc.returncode in (0, -signal.SIGTERM), output
    assert '"message": "shutdown started; readiness is now false"' in output
    assert '"message": "stopped"' in output
