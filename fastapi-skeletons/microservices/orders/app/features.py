"""Orders: places an order (only the gateway may) by reserving stock at inventory and
then authorising the payment at payments, a chain of required calls: when either fails
the order fails (the reservation is released), with 503 when a service is unavailable.
State is kept in memory (one replica)."""

from __future__ import annotations

import logging
import uuid
from typing import Literal

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, Field

from app.core.lifecycle import Lifecycle
from app.mesh.auth import require_caller
from app.mesh.downstream import Downstream, DownstreamUnavailable
from app.mesh.wiring import setup_mesh
from app.settings import Settings

log = logging.getLogger("app.orders")

PRICES_CENTS = {"widget": 1_999, "gadget": 4_950, "gizmo": 120_000}


class OrderRequest(BaseModel):
    sku: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    quantity: int = Field(ge=1, le=1000)


class Order(OrderRequest):
    id: str
    amount_cents: int
    status: Literal["paid"]


def _fail_from(response_status: int, service: str, detail: object) -> HTTPException:
    """A 4xx of a required service, as this service's answer. 401/403 mean this service's
    key or the policy matrix is wrong: the client can do nothing about it (502)."""
    if response_status in (401, 403):
        log.error("rejected by a service we call", extra={"service": service, "status": response_status})
        return HTTPException(status_code=502, detail=f"{service} refused this service's API key")
    return HTTPException(status_code=response_status, detail=detail)


def setup(app: FastAPI, settings: Settings, lifecycle: Lifecycle) -> None:
    setup_mesh(
        app,
        settings,
        lifecycle,
        callers=("gateway",),
        downstreams={"inventory": settings.inventory_url, "payments": settings.payments_url},
    )
    orders: dict[str, Order] = {}
    gateway_only = Depends(require_caller("gateway"))

    def service(name: str) -> Downstream:
        return app.state.downstreams[name]

    @app.post("/orders", response_model=Order, status_code=201, dependencies=[gateway_only])
    async def place(request: OrderRequest) -> Order:
        if request.sku not in PRICES_CENTS:
            raise HTTPException(status_code=404, detail=f"unknown SKU {request.sku}")
        order_id = uuid.uuid4().hex
        amount = PRICES_CENTS[request.sku] * request.quantity
        reserved = await service("inventory").request(
            "POST", "/reservations", json={"order_id": order_id, **request.model_dump()}
        )
        if reserved.status_code != 201:
            raise _fail_from(reserved.status_code, "inventory", reserved.json().get("detail"))
        try:
            paid = await service("payments").request(
                "POST", "/payments", json={"order_id": order_id, "amount_cents": amount}
            )
        except DownstreamUnavailable:
            await _release(order_id)
            raise
        if paid.status_code != 201 or paid.json().get("status") != "authorized":
            await _release(order_id)
            if paid.status_code == 201:
                raise HTTPException(status_code=402, detail="payment declined")
            raise _fail_from(paid.status_code, "payments", paid.json().get("detail"))
        orders[order_id] = Order(id=order_id, amount_cents=amount, status="paid", **request.model_dump())
        log.info("order placed", extra={"order_id": order_id, "sku": request.sku, "quantity": request.quantity})
        return orders[order_id]

    async def _release(order_id: str) -> None:
        try:
            await service("inventory").request("DELETE", f"/reservations/{order_id}")
        except DownstreamUnavailable:
            log.warning("could not release a reservation", extra={"order_id": order_id})

    @app.get("/orders/{order_id}", response_model=Order, dependencies=[gateway_only])
    async def get_order(order_id: str) -> Order:
        if order_id not in orders:
            raise HTTPException(status_code=404, detail=f"no order {order_id}")
        return orders[order_id]

    @app.get("/orders", response_model=list[Order], dependencies=[gateway_only])
    async def list_orders() -> list[Order]:
        return list(orders.values())
