"""Payments: authorises an order's amount (only orders may) and reports a payment's
status (orders and the gateway may). State is kept in memory (one replica)."""

from __future__ import annotations

from typing import Literal

from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, Field

from app.core.lifecycle import Lifecycle
from app.mesh.auth import require_caller
from app.mesh.wiring import setup_mesh
from app.settings import Settings


class PaymentRequest(BaseModel):
    order_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    amount_cents: int = Field(ge=1, le=10_000_000)


class Payment(PaymentRequest):
    status: Literal["authorized", "declined"]


def setup(app: FastAPI, settings: Settings, lifecycle: Lifecycle) -> None:
    setup_mesh(app, settings, lifecycle, callers=("gateway", "orders"), downstreams={})
    payments: dict[str, Payment] = {}

    @app.post("/payments", response_model=Payment, status_code=201, dependencies=[Depends(require_caller("orders"))])
    async def authorize(request: PaymentRequest) -> Payment:
        # Keyed by order: a repeated request returns the first decision, never charges twice.
        if request.order_id not in payments:
            status = "authorized" if request.amount_cents <= settings.payment_limit_cents else "declined"
            payments[request.order_id] = Payment(**request.model_dump(), status=status)
        return payments[request.order_id]

    @app.get(
        "/payments/{order_id}", response_model=Payment, dependencies=[Depends(require_caller("gateway", "orders"))]
    )
    async def get_payment(order_id: str) -> Payment:
        if order_id not in payments:
            raise HTTPException(status_code=404, detail=f"no payment for order {order_id}")
        return payments[order_id]
