"""Test helpers for the mesh: key files as the Secrets mount them, and fake services."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from app.mesh.auth import verifier_of
from app.mesh.downstream import Downstream

# Test keys only; real ones are made by scripts/create-api-keys.sh and live in Secrets.
KEYS = {"gateway": "test-gateway-key-0123456789abcdef", "orders": "test-orders-key-0123456789abcdef"}


def write_verifiers(directory: Path, caller: str, **slots: str) -> None:
    """<directory>/<caller>/<slot> = digest of the key, as the verifiers Secret is mounted."""
    folder = directory / caller
    folder.mkdir(parents=True, exist_ok=True)
    for slot in ("current", "next", "previous"):
        path = folder / slot
        if slot in slots:
            path.write_text(verifier_of(slots[slot]) + "\n")
        elif path.exists():
            path.unlink()


def mesh_files(tmp_path: Path, callers: tuple[str, ...], own: str | None) -> dict[str, object]:
    """Settings overrides: verifiers of ``callers``' test keys, and ``own``'s key to send."""
    verifiers = tmp_path / "callers"
    verifiers.mkdir(exist_ok=True)
    for caller in callers:
        write_verifiers(verifiers, caller, current=KEYS[caller])
    key_file = tmp_path / "api-key" / "current"
    if own is not None:
        key_file.parent.mkdir(exist_ok=True)
        key_file.write_text(KEYS[own] + "\n")
    return {"caller_verifiers_dir": verifiers, "api_key_file": key_file}


Route = Callable[[httpx.Request], httpx.Response]


class FakeService:
    """A service reached over httpx.MockTransport: answers from ``routes`` ("METHOD /path"
    -> handler), records every request, and can be switched off (connection refused)."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        for pattern, handler in self.routes.items():
            method, path = pattern.split(" ", 1)
            if request.method == method and _matches(path, request.url.path):
                return handler(request)
        return httpx.Response(404, json={"detail": "not found"})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def _matches(pattern: str, path: str) -> bool:
    parts, actual = pattern.strip("/").split("/"), path.strip("/").split("/")
    return len(parts) == len(actual) and all(p == "*" or p == a for p, a in zip(parts, actual))


def body(request: httpx.Request) -> dict[str, object]:
    return json.loads(request.content)


def use_fake(app: Any, name: str, fake: FakeService) -> None:
    """Point the app's client for service ``name`` at ``fake``: same settings, key, breaker
    rules and tracing, only the network is replaced."""
    real: Downstream = app.state.downstreams[name]
    app.state.downstreams[name] = Downstream(
        name, str(real.client.base_url), real.settings, real.own_key, app.state.tracer_provider, fake.transport()
    )
