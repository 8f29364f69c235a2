"""Placing an order: a chain of required calls (inventory, then payments)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.mesh_support import KEYS, FakeService

AS_GATEWAY = {"X-API-Key": KEYS["gateway"]}


def test_an_order_reserves_then_pays_with_the_orders_key(
    client: TestClient, fakes: dict[str, FakeService]
) -> None:
    response = client.post("/orders", json={"sku": "widget", "quantity": 2}, headers=AS_GATEWAY)
    assert response.status_code == 201
    order = response.json()
    assert order | {"id": "x"} == {"id": "x", "sku": "widget", "quantity": 2, "amount_cents": 3998, "status": "paid"}
    assert [r.url.path for r in fakes["inventory"].requests] == ["/reservations"]
    assert [r.url.path for r in fakes["payments"].requests] == ["/payments"]
    assert {r.headers["x-api-key"] for r in fakes["inventory"].requests + fakes["payments"].requests} == {KEYS["orders"]}
    assert client.get(f"/orders/{order['id']}", headers=AS_GATEWAY).json() == order
    assert client.get("/orders", headers=AS_GATEWAY).json() == [order]


def test_only_the_gateway_may_order(client: TestClient) -> None:
    assert client.post("/orders", json={"sku": "widget", "quantity": 1}).status_code == 401
    as_orders = {"X-API-Key": KEYS["orders"]}
    assert client.post("/orders", json={"sku": "widget", "quantity": 1}, headers=as_orders).status_code == 403


def test_out_of_stock_is_409_and_nothing_is_charged(client: TestClient, fakes: dict[str, FakeService]) -> None:
    response = client.post("/orders", json={"sku": "widget", "quantity": 4}, headers=AS_GATEWAY)
    assert response.status_code == 409
    assert fakes["payments"].requests == []


def test_a_declined_payment_releases_the_reservation(client: TestClient, fakes: dict[str, FakeService]) -> None:
    # One gizmo costs 1200.00, over the fake payments' limit.
    response = client.post("/orders", json={"sku": "gizmo", "quantity": 1}, headers=AS_GATEWAY)
    assert response.status_code == 402
    assert [r.method for r in fakes["inventory"].requests] == ["POST", "DELETE"]


def test_payments_down_fails_the_order_with_503_and_releases_the_reservation(
    client: TestClient, fakes: dict[str, FakeService]
) -> None:
    fakes["payments"].down = True
    response = client.post("/orders", json={"sku": "widget", "quantity": 1}, headers=AS_GATEWAY)
    assert response.status_code == 503
    assert response.json() == {"detail": "payments unavailable: could not connect (ConnectError)", "service": "payments"}
    assert [r.method for r in fakes["inventory"].requests] == ["POST", "DELETE"]
    # The POST was sent once: a payment is never repeated.
    assert len(fakes["payments"].requests) == 1


def test_the_payments_breaker_opens_and_shows_in_ready(client: TestClient, fakes: dict[str, FakeService]) -> None:
    fakes["payments"].down = True
    for _ in range(3):
        client.post("/orders", json={"sku": "widget", "quantity": 1}, headers=AS_GATEWAY)
    sent = len(fakes["payments"].requests)
    response = client.post("/orders", json={"sku": "widget", "quantity": 1}, headers=AS_GATEWAY)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert len(fakes["payments"].requests) == sent
    ready = client.get("/ready")
    # An open circuit is reported, but never makes this pod unready.
    assert ready.status_code == 200
    assert ready.json()["checks"]["circuit:payments"]["detail"].startswith("circuit open")
    assert client.get("/circuits").json()["payments"]["state"] == "open"
