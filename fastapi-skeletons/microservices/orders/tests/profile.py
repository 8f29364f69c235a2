"""What the shared fixtures (tests/conftest.py) need to know about orders: it accepts the
gateway and calls inventory and payments (faked here)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.mesh_support import FakeService, body

CALLERS = ("gateway",)
OWN_KEY = "orders"
STOCK = {"widget": 3, "gizmo": 5}
PAYMENT_LIMIT_CENTS = 100_000


def inventory() -> FakeService:
    def reserve(request: httpx.Request) -> httpx.Response:
        wanted = body(request)
        if STOCK.get(str(wanted["sku"]), 0) < int(str(wanted["quantity"])):
            return httpx.Response(409, json={"detail": "not enough"})
        return httpx.Response(201, json=wanted)

    return FakeService({"POST /reservations": reserve, "DELETE /reservations/*": lambda r: httpx.Response(204)})


def payments() -> FakeService:
    def authorize(request: httpx.Request) -> httpx.Response:
        payment = body(request)
        status = "authorized" if int(str(payment["amount_cents"])) <= PAYMENT_LIMIT_CENTS else "declined"
        return httpx.Response(201, json={**payment, "status": status})

    return FakeService({"POST /payments": authorize})


FAKES: dict[str, Callable[[], FakeService]] = {"inventory": inventory, "payments": payments}
