"""The inventory API: only orders may call it; reservations are per order."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.mesh_support import KEYS

AS_ORDERS = {"X-API-Key": KEYS["orders"]}


def test_stock_needs_the_orders_key(client: TestClient) -> None:
    assert client.get("/stock/widget").status_code == 401
    assert client.get("/stock/widget", headers={"X-API-Key": KEYS["gateway"]}).status_code == 403
    assert client.get("/stock/widget", headers=AS_ORDERS).json() == {"sku": "widget", "available": 100}


def test_a_reservation_takes_stock_once_per_order_and_a_release_returns_it(client: TestClient) -> None:
    reservation = {"order_id": "o-1", "sku": "gadget", "quantity": 5}
    assert client.post("/reservations", json=reservation, headers=AS_ORDERS).status_code == 201
    assert client.post("/reservations", json=reservation, headers=AS_ORDERS).status_code == 201
    assert client.get("/stock/gadget", headers=AS_ORDERS).json()["available"] == 20
    assert client.delete("/reservations/o-1", headers=AS_ORDERS).status_code == 204
    assert client.get("/stock/gadget", headers=AS_ORDERS).json()["available"] == 25


def test_more_than_the_stock_is_409_and_an_unknown_sku_404(client: TestClient) -> None:
    too_many = {"order_id": "o-2", "sku": "gizmo", "quantity": 6}
    response = client.post("/reservations", json=too_many, headers=AS_ORDERS)
    assert response.status_code == 409
    assert response.json() == {"detail": "only 5 gizmo left"}
    unknown = {"order_id": "o-3", "sku": "nothing", "quantity": 1}
    assert client.post("/reservations", json=unknown, headers=AS_ORDERS).status_code == 404


def test_the_gateway_may_not_reserve(client: TestClient) -> None:
    reservation = {"order_id": "o-4", "sku": "widget", "quantity": 1}
    assert client.post("/reservations", json=reservation, headers={"X-API-Key": KEYS["gateway"]}).status_code == 403


def test_ready_reports_the_accepted_callers(client: TestClient) -> None:
    checks = client.get("/ready").json()["checks"]
    assert checks["api-key-verifiers"] == {"ok": True, "detail": "accepting orders"}
