"""The gateway: a chain (orders), a fan-out (orders + payments), and payments optional."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.profile import ORDER, PAYMENT
from tests.mesh_support import KEYS, FakeService


def test_placing_an_order_goes_to_orders_with_the_gateway_key(client: TestClient, fakes: dict[str, FakeService]) -> None:
    response = client.post("/api/orders", json={"sku": "widget", "quantity": 2})
    assert response.status_code == 201
    assert response.json() == ORDER
    assert fakes["orders"].requests[0].headers["x-api-key"] == KEYS["gateway"]


def test_an_order_is_read_from_orders_and_payments_at_once(
    client: TestClient, fakes: dict[str, FakeService]
) -> None:
    response = client.get("/api/orders/o-1")
    assert response.status_code == 200
    assert response.json() == {"order": ORDER, "payment": PAYMENT, "degraded": []}
    assert "x-degraded" not in response.headers
    assert len(fakes["orders"].requests) == len(fakes["payments"].requests) == 1


def test_without_payments_the_answer_is_degraded_not_failed(client: TestClient, fakes: dict[str, FakeService]) -> None:
    fakes["payments"].down = True
    response = client.get("/api/orders/o-1")
    assert response.status_code == 200
    assert response.headers["x-degraded"] == "payments"
    assert response.json() == {
        "order": ORDER,
        "payment": None,
        "degraded": ["payments: could not connect (ConnectError)"],
    }


def test_once_the_payments_breaker_is_open_degraded_answers_send_no_request(
    client: TestClient, fakes: dict[str, FakeService]
) -> None:
    fakes["payments"].down = True
    for _ in range(3):
        client.get("/api/orders/o-1")
    sent = len(fakes["payments"].requests)
    response = client.get("/api/orders/o-1")
    assert response.json()["degraded"] == ["payments: circuit open"]
    assert len(fakes["payments"].requests) == sent


def test_without_orders_there_is_no_answer(client: TestClient, fakes: dict[str, FakeService]) -> None:
    fakes["orders"].down = True
    response = client.get("/api/orders/o-1")
    assert response.status_code == 503
    assert response.json()["service"] == "orders"


def test_an_unknown_order_is_404_and_a_bad_request_422(client: TestClient) -> None:
    assert client.get("/api/orders/nope").status_code == 404
    assert client.post("/api/orders", json={"sku": "Widget!", "quantity": 0}).status_code == 422


def test_a_refused_gateway_key_is_a_502_not_the_clients_fault(client: TestClient, fakes: dict[str, FakeService]) -> None:
    import httpx

    fakes["orders"].routes["GET /orders"] = lambda r: httpx.Response(403, json={"detail": "API key not accepted"})
    response = client.get("/api/orders")
    assert response.status_code == 502
    assert response.json() == {"detail": "orders refused the gateway's API key"}
