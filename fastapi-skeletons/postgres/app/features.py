"""CRUD API for items, stored in PostgreSQL. Readiness follows the database."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

import psycopg
from fastapi import FastAPI, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.core.lifecycle import Lifecycle
from app.db import UNAVAILABLE, Database
from app.settings import Settings

log = logging.getLogger("app.items")

ItemId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Item id (PostgreSQL BIGINT)")]


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


class Item(ItemIn):
    id: int
    created_at: datetime
    updated_at: datetime


def setup(app: FastAPI, settings: Settings, lifecycle: Lifecycle) -> None:
    db = Database(settings)
    app.state.db = db
    lifecycle.on_startup(db.open)
    lifecycle.on_shutdown(db.close)

    async def database_check() -> str:
        await db.verify_schema()
        return await db.ping()

    lifecycle.add_readiness_check("database", database_check)

    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
        return JSONResponse(
            {"detail": "database unavailable, try again later", "database": settings.safe_target()},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )

    for exc_type in UNAVAILABLE:
        app.add_exception_handler(exc_type, database_unavailable)

    async def schema_missing(request: Request, exc: Exception) -> JSONResponse:
        # The database came back empty: this request fails, the next one re-creates the
        # schema (the readiness check does it within one period as well).
        db.schema_lost()
        return await database_unavailable(request, exc)

    app.add_exception_handler(psycopg.errors.UndefinedTable, schema_missing)

    @app.get("/api/items", response_model=list[Item], tags=["items"])
    async def list_items(
        limit: int = Query(default=50, ge=1, le=500), offset: int = Query(default=0, ge=0)
    ) -> list[dict[str, object]]:
        await db.ensure_schema()
        return await db.list_items(limit, offset)

    @app.post("/api/items", response_model=Item, status_code=status.HTTP_201_CREATED, tags=["items"])
    async def create_item(item: ItemIn, response: Response) -> dict[str, object]:
        await db.ensure_schema()
        created = await db.create_item(item.name, item.description)
        response.headers["Location"] = f"/api/items/{created['id']}"
        return created

    @app.get("/api/items/{item_id}", response_model=Item, tags=["items"])
    async def get_item(item_id: ItemId) -> dict[str, object]:
        await db.ensure_schema()
        found = await db.get_item(item_id)
        if found is None:
            raise HTTPException(status_code=404, detail=f"item {item_id} not found")
        return found

    @app.put("/api/items/{item_id}", response_model=Item, tags=["items"])
    async def update_item(item_id: ItemId, item: ItemIn) -> dict[str, object]:
        await db.ensure_schema()
        updated = await db.update_item(item_id, item.name, item.description)
        if updated is None:
            raise HTTPException(status_code=404, detail=f"item {item_id} not found")
        return updated

    @app.delete("/api/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["items"])
    async def delete_item(item_id: ItemId) -> Response:
        await db.ensure_schema()
        if not await db.delete_item(item_id):
            raise HTTPException(status_code=404, detail=f"item {item_id} not found")
        return Response(status_code=status.HTTP_204_NO_CONTENT)
