"""The backend's RESTful CRUD API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


def test_crud_roundtrip(client: TestClient) -> None:
    assert client.get("/api/items").json() == []
    created = client.post("/api/items", json={"name": "lamp", "description": "desk lamp"})
    assert created.status_code == 201
    item = created.json()
    assert created.headers["location"] == f"/api/items/{item['id']}"
    assert client.get(f"/api/items/{item['id']}").json() == item
    updated = client.put(f"/api/items/{item['id']}", json={"name": "floor lamp"}).json()
    assert (updated["name"], updated["description"]) == ("floor lamp", "")
    assert updated["created_at"] == item["created_at"]
    assert client.delete(f"/api/items/{item['id']}").status_code == 204
    assert client.get(f"/api/items/{item['id']}").status_code == 404


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_unknown_items_are_404(client: TestClient, method: str) -> None:
    response = client.request(method, "/api/items/999", json={"name": "x"})
    assert response.status_code == 404
    assert response.json() == {"detail": "item 999 not found"}


@pytest.mark.parametrize("payload", [{}, {"name": ""}, {"name": "x" * 201}, {"name": "ok", "description": 5}])
def test_invalid_payloads_are_422(client: TestClient, payload: dict) -> None:
    assert client.post("/api/items", json=payload).status_code == 422


def test_ids_must_be_positive(client: TestClient) -> None:
    assert client.get("/api/items/0").status_code == 422


def test_pagination(client: TestClient) -> None:
    for n in range(5):
        client.post("/api/items", json={"name": f"n{n}"})
    page = client.get("/api/items", params={"limit": 2, "offset": 1}).json()
    assert [i["name"] for i in page] == ["n1", "n2"]
    assert client.get("/api/items", params={"limit": 0}).status_code == 422


def test_store_limit_is_enforced(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"max_items": 1}))) as client:
        assert client.post("/api/items", json={"name": "a"}).status_code == 201
        assert client.post("/api/items", json={"name": "b"}).status_code == 507


def test_seed_items_on_start(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"seed_items": True}))) as client:
        names = [i["name"] for i in client.get("/api/items").json()]
    assert names == ["Kubernetes in Action", "Mechanical keyboard"]
