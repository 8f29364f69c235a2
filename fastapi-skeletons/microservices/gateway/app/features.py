"""Gateway: the only service reachable from outside the cluster.

* ``POST /api/orders`` forwards to orders (which calls inventory, then payments): a chain.
* ``GET /api/orders/{id}`` asks orders and payments at the same time (a fan-out). Orders is
  required: without it there is no answer (503). Payments is optional: without it the
  order is still shown, with ``"payment": null`` and ``"degraded": ["payments: ..."]``.
* ``GET /api/orders`` lists the orders (orders).

Clients of the gateway are not authenticated here (put your user authentication, e.g. an
OAuth2 proxy or Ingress auth, in front of it); the services behind it are.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel, Field

from app.core.lifecycle import Lifecycle
from app.mesh.downstream import Downstream, DownstreamUnavailable
from app.mesh.wiring import setup_mesh
from app.settings import Settings


class OrderRequest(BaseModel):
    sku: str = Field(pattern=r"^[a-z0-9-]{1,40}$", examples=["widget"])
    quantity: int = Field(ge=1, le=1000, examples=[2])


def _relay(response: Any, service: str) -> Any:
    """A required service's answer: its JSON on success, its 4xx as ours (401/403 mean
    the gateway's own key or the policy matrix is wrong: 502, nothing the client can fix)."""
    if response.status_code < 400:
        return response.json()
    if response.status_code in (401, 403):
        raise HTTPException(status_code=502, detail=f"{service} refused the gateway's API key")
    raise HTTPException(status_code=response.status_code, detail=response.json().get("detail"))


def setup(app: FastAPI, settings: Settings, lifecycle: Lifecycle) -> None:
    setup_mesh(
        app,
        settings,
        lifecycle,
        callers=(),
        downstreams={"orders": settings.orders_url, "payments": settings.payments_url},
    )

    def service(name: str) -> Downstream:
        return app.state.downstreams[name]

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"service": settings.app_name, "api": "/docs"}

    @app.post("/api/orders", status_code=201)
    async def place_order(request: OrderRequest) -> Any:
        return _relay(await service("orders").request("POST", "/orders", json=request.model_dump()), "orders")

    @app.get("/api/orders")
    async def list_orders() -> Any:
        return _relay(await service("orders").request("GET", "/orders"), "orders")

    @app.get("/api/orders/{order_id}")
    async def get_order(order_id: str, response: Response) -> dict[str, Any]:
        order_call = service("orders").request("GET", f"/orders/{order_id}")
        payment_call = service("payments").request("GET", f"/payments/{order_id}")
        order_result, payment_result = await asyncio.gather(order_call, payment_call, return_exceptions=True)
        if isinstance(order_result, BaseException):
            raise order_result  # required: DownstreamUnavailable becomes 503
        order = _relay(order_result, "orders")
        degraded: list[str] = []
        payment = None
        if isinstance(payment_result, DownstreamUnavailable):
            degraded.append(f"payments: {payment_result.reason}")
        elif isinstance(payment_result, BaseException):
            raise payment_result
        elif payment_result.status_code == 200:
            payment = payment_result.json()
        elif payment_result.status_code != 404:
            degraded.append(f"payments: answered HTTP {payment_result.status_code}")
        if degraded:
            # Still a 200: the answer is useful, and says what is missing.
            response.headers["X-Degraded"] = "payments"
        return {"order": order, "payment": payment, "degraded": degraded}
