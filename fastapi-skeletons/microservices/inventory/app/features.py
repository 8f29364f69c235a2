"""Inventory: stock per SKU and reservations for orders. Called only by orders.

State is kept in memory (one replica; a restart restocks): the template is about the calls
between services, not about storage (see the PostgreSQL template for that).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, Field

from app.core.lifecycle import Lifecycle
from app.mesh.auth import require_caller
from app.mesh.wiring import setup_mesh
from app.settings import Settings

INITIAL_STOCK = {"widget": 100, "gadget": 25, "gizmo": 5}
SKU = r"^[a-z0-9-]{1,40}$"


class ReservationRequest(BaseModel):
    order_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    sku: str = Field(pattern=SKU)
    quantity: int = Field(ge=1, le=1000)


class Reservation(ReservationRequest):
    pass


class Stock(BaseModel):
    sku: str
    available: int


def setup(app: FastAPI, settings: Settings, lifecycle: Lifecycle) -> None:
    setup_mesh(app, settings, lifecycle, callers=("orders",), downstreams={})
    stock = dict(INITIAL_STOCK)
    reservations: dict[str, Reservation] = {}
    orders_only = Depends(require_caller("orders"))

    @app.get("/stock/{sku}", response_model=Stock, dependencies=[orders_only])
    async def get_stock(sku: str) -> Stock:
        if sku not in stock:
            raise HTTPException(status_code=404, detail=f"unknown SKU {sku}")
        return Stock(sku=sku, available=stock[sku])

    @app.post("/reservations", response_model=Reservation, status_code=201, dependencies=[orders_only])
    async def reserve(request: ReservationRequest) -> Reservation:
        # Keyed by order: the same order reserving again gets its reservation, not a second one.
        if request.order_id in reservations:
            return reservations[request.order_id]
        if request.sku not in stock:
            raise HTTPException(status_code=404, detail=f"unknown SKU {request.sku}")
        if stock[request.sku] < request.quantity:
            raise HTTPException(status_code=409, detail=f"only {stock[request.sku]} {request.sku} left")
        stock[request.sku] -= request.quantity
        reservations[request.order_id] = Reservation(**request.model_dump())
        return reservations[request.order_id]

    @app.delete("/reservations/{order_id}", status_code=204, dependencies=[orders_only])
    async def release(order_id: str) -> None:
        reservation = reservations.pop(order_id, None)
        if reservation is not None:
            stock[reservation.sku] += reservation.quantity
