"""RESTful CRUD API for items, kept in memory (one replica; see docs/architecture.md)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Annotated

from fastapi import FastAPI, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, Field

from app.core.lifecycle import Lifecycle
from app.settings import Settings

ItemId = Annotated[int, Path(ge=1, description="Item id")]


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


class Item(ItemIn):
    id: int
    created_at: datetime
    updated_at: datetime


class ItemStore:
    """A small in-memory repository; the lock keeps concurrent writes consistent."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._items: dict[int, Item] = {}
        self._next_id = 1
        self._lock = asyncio.Lock()

    async def list(self, limit: int, offset: int) -> list[Item]:
        return list(self._items.values())[offset : offset + limit]

    async def get(self, item_id: int) -> Item | None:
        return self._items.get(item_id)

    async def create(self, data: ItemIn) -> Item:
        async with self._lock:
            if len(self._items) >= self.max_items:
                raise HTTPException(status_code=507, detail=f"store is full ({self.max_items} items)")
            now = datetime.now(timezone.utc)
            item = Item(id=self._next_id, created_at=now, updated_at=now, **data.model_dump())
            self._items[item.id] = item
            self._next_id += 1
            return item

    async def update(self, item_id: int, data: ItemIn) -> Item | None:
        async with self._lock:
            current = self._items.get(item_id)
            if current is None:
                return None
            updated = current.model_copy(update={**data.model_dump(), "updated_at": datetime.now(timezone.utc)})
            self._items[item_id] = updated
            return updated

    async def delete(self, item_id: int) -> bool:
        async with self._lock:
            return self._items.pop(item_id, None) is not None


def setup(app: FastAPI, settings: Settings, lifecycle: Lifecycle) -> None:
    store = ItemStore(settings.max_items)
    app.state.store = store

    async def seed() -> None:
        if settings.seed_items and not await store.list(1, 0):
            await store.create(ItemIn(name="Kubernetes in Action", description="Book, 2nd edition"))
            await store.create(ItemIn(name="Mechanical keyboard", description="Tenkeyless, brown switches"))

    lifecycle.on_startup(seed)

    @app.get("/api/items", response_model=list[Item], tags=["items"])
    async def list_items(
        limit: int = Query(default=100, ge=1, le=1000), offset: int = Query(default=0, ge=0)
    ) -> list[Item]:
        return await store.list(limit, offset)

    @app.post("/api/items", response_model=Item, status_code=status.HTTP_201_CREATED, tags=["items"])
    async def create_item(data: ItemIn, response: Response) -> Item:
        item = await store.create(data)
        response.headers["Location"] = f"/api/items/{item.id}"
        return item

    @app.get("/api/items/{item_id}", response_model=Item, tags=["items"])
    async def get_item(item_id: ItemId) -> Item:
        item = await store.get(item_id)
        if item is None:
            raise HTTPException(status_code=404, detail=f"item {item_id} not found")
        return item

    @app.put("/api/items/{item_id}", response_model=Item, tags=["items"])
    async def update_item(item_id: ItemId, data: ItemIn) -> Item:
        item = await store.update(item_id, data)
        if item is None:
            raise HTTPException(status_code=404, detail=f"item {item_id} not found")
        return item

    @app.delete("/api/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["items"])
    async def delete_item(item_id: ItemId) -> Response:
        if not await store.delete(item_id):
            raise HTTPException(status_code=404, detail=f"item {item_id} not found")
        return Response(status_code=status.HTTP_204_NO_CONTENT)
