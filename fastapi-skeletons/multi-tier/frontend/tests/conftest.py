"""Fixtures: the frontend talks to a fake backend over httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone

import httpx
import pytest
from fastapi.testclient import TestClient

from app.backend import BackendClient
from app.main import create_app
from app.settings import Settings


class FakeBackend:
    """Just enough of the backend API, recording every request it gets."""

    def __init__(self) -> None:
        self.items: dict[int, dict] = {}
        self.requests: list[httpx.Request] = []
        self.next_id = 1

    def add(self, name: str, description: str = "") -> dict:
        now = datetime.now(timezone.utc).isoformat()
        item = {"id": self.next_id, "name": name, "description": description, "created_at": now, "updated_at": now}
        self.items[self.next_id] = item
        self.next_id += 1
        return item

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/ready":
            return httpx.Response(200, json={"status": "ready"})
        if path == "/api/items" and request.method == "GET":
            return httpx.Response(200, json=list(self.items.values()))
        if path == "/api/items" and request.method == "POST":
            import json

            body = json.loads(request.content)
            if not body.get("name"):
                return httpx.Response(422, json={"detail": [{"loc": ["body", "name"]}]})
            return httpx.Response(201, json=self.add(body["name"], body.get("description", "")))
        item_id = int(path.rsplit("/", 1)[-1])
        if request.method == "GET":
            item = self.items.get(item_id)
            return httpx.Response(200, json=item) if item else httpx.Response(404, json={"detail": "not found"})
        if request.method == "DELETE":
            return httpx.Response(204 if self.items.pop(item_id, None) else 404)
        return httpx.Response(405)


@pytest.fixture
def settings() -> Settings:
    return Settings(environment="test", backend_url="http://shop-backend.shop.svc.cluster.local:80")


@pytest.fixture
def fake_backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(handler: Callable[[httpx.Request], httpx.Response] | None = None, **overrides: object) -> TestClient:
        app_settings = settings.model_copy(update=overrides)
        app = create_app(app_settings)
        if handler is not None:
            app.state.backend = BackendClient(app_settings, transport=httpx.MockTransport(handler))
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient], fake_backend: FakeBackend) -> TestClient:
    return make_client(fake_backend)


@pytest.fixture
def service_env() -> dict[str, str]:
    return {"BACKEND_URL": "http://127.0.0.1:9"}
