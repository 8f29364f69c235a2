"""The payments API: orders authorises, orders and the gateway read."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.mesh_support import KEYS

AS_ORDERS = {"X-API-Key": KEYS["orders"]}
AS_GATEWAY = {"X-API-Key": KEYS["gateway"]}


def test_orders_authorises_and_both_callers_read(client: TestClient) -> None:
    response = client.post("/payments", json={"order_id": "o-1", "amount_cents": 1999}, headers=AS_ORDERS)
    assert response.status_code == 201
    assert response.json() == {"order_id": "o-1", "amount_cents": 1999, "status": "authorized"}
    assert client.get("/payments/o-1", headers=AS_GATEWAY).json()["status"] == "authorized"
    assert client.get("/payments/o-1", headers=AS_ORDERS).json()["status"] == "authorized"


def test_the_gateway_may_read_but_not_charge(client: TestClient) -> None:
    response = client.post("/payments", json={"order_id": "o-2", "amount_cents": 10}, headers=AS_GATEWAY)
    assert response.status_code == 403
    assert response.json() == {"detail": "gateway may not call POST /payments"}


def test_without_a_key_401_and_with_a_wrong_one_403(client: TestClient) -> None:
    assert client.get("/payments/o-1").status_code == 401
    assert client.get("/payments/o-1", headers={"X-API-Key": "guess"}).status_code == 403


def test_amounts_over_the_limit_are_declined_and_a_repeat_never_charges_twice(client: TestClient) -> None:
    big = {"order_id": "o-3", "amount_cents": 100_001}
    assert client.post("/payments", json=big, headers=AS_ORDERS).json()["status"] == "declined"
    again = {"order_id": "o-3", "amount_cents": 5}
    assert client.post("/payments", json=again, headers=AS_ORDERS).json() == {**big, "status": "declined"}


def test_an_unknown_payment_is_404(client: TestClient) -> None:
    assert client.get("/payments/nope", headers=AS_GATEWAY).status_code == 404
