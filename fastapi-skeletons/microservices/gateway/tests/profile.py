"""What the shared fixtures (tests/conftest.py) need to know about the gateway: it
accepts no service key (it is the entry) and calls orders and payments (faked here)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.mesh_support import FakeService, body

CALLERS: tuple[str, ...] = ()
OWN_KEY = "gateway"
ORDER = {"id": "o-1", "sku": "widget", "quantity": 2, "amount_cents": 3998, "status": "paid"}
PAYMENT = {"order_id": "o-1", "amount_cents": 3998, "status": "authorized"}


def orders() -> FakeService:
    return FakeService(
        {
            "POST /orders": lambda r: httpx.Response(201, json={**ORDER, **body(r)}),
            "GET /orders": lambda r: httpx.Response(200, json=[ORDER]),
            "GET /orders/o-1": lambda r: httpx.Response(200, json=ORDER),
        }
    )


def payments() -> FakeService:
    return FakeService({"GET /payments/o-1": lambda r: httpx.Response(200, json=PAYMENT)})


FAKES: dict[str, Callable[[], FakeService]] = {"orders": orders, "payments": payments}
