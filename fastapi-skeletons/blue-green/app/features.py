"""The service's routes. v1 and v2 are the same code: the major version of APP_VERSION
switches the v2 features on (a new endpoint and a new response field), so blue (1.x) and
green (2.x) differ only in the image they run.

Every response carries the headers X-App-Version and X-App-Slot, and /health reports
both, so a client (and scripts/verify.sh) can always tell which slot answered.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request

from app.core.lifecycle import Lifecycle
from app.settings import Settings

# The catalogue both versions serve. v2 adds a rating to each item.
ITEMS = [
    {"id": 1, "name": "Espresso", "price": 2.5, "rating": 4.7},
    {"id": 2, "name": "Cappuccino", "price": 3.2, "rating": 4.5},
    {"id": 3, "name": "Flat white", "price": 3.4, "rating": 4.8},
    {"id": 4, "name": "Filter coffee", "price": 2.2, "rating": 4.1},
]
V1_FIELDS = ("id", "name", "price")

# What each major version offers; /api/info lists them.
FEATURES = {1: ["items"], 2: ["items", "item-ratings", "recommendations"]}


def features_of(major: int) -> list[str]:
    return FEATURES[2] if major >= 2 else FEATURES[1]


def setup(app: FastAPI, settings: Settings, lifecycle: Lifecycle) -> None:
    v2 = settings.major >= 2
    lifecycle.report_in_health(version=settings.app_version, slot=settings.slot)

    @app.middleware("http")
    async def version_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        response.headers["X-App-Version"] = settings.app_version
        response.headers["X-App-Slot"] = settings.slot
        return response

    @app.get("/", summary="Who answered: service, version and slot")
    async def index() -> dict[str, object]:
        body: dict[str, object] = {
            "service": settings.app_name,
            "version": settings.app_version,
            "slot": settings.slot,
            "message": f"Hello from {settings.app_name} {settings.app_version} ({settings.slot})",
        }
        if v2:
            body["banner"] = "New in 2.0: item ratings and recommendations (/api/v2/recommendations)"
        return body

    @app.get("/api/info", summary="Version, slot, replica and the features this version has")
    async def info() -> dict[str, object]:
        return {
            "app": settings.app_name,
            "version": settings.app_version,
            "slot": settings.slot,
            "pod": settings.pod_name,
            "environment": settings.environment,
            "features": features_of(settings.major),
        }

    @app.get("/api/items", summary="The catalogue (v2 adds each item's rating)")
    async def items() -> list[dict[str, object]]:
        if v2:
            return [dict(item) for item in ITEMS]
        return [{key: item[key] for key in V1_FIELDS} for item in ITEMS]

    @app.get("/api/items/{item_id}", summary="One item")
    async def item(item_id: int) -> dict[str, object]:
        for entry in ITEMS:
            if entry["id"] == item_id:
                return dict(entry) if v2 else {key: entry[key] for key in V1_FIELDS}
        raise HTTPException(status_code=404, detail=f"no item {item_id}")

    if v2:

        @app.get("/api/v2/recommendations", summary="New in 2.0: the best-rated items")
        async def recommendations(limit: int = 2) -> dict[str, object]:
            if not 1 <= limit <= len(ITEMS):
                raise HTTPException(status_code=422, detail=f"limit must be 1..{len(ITEMS)}")
            best = sorted(ITEMS, key=lambda entry: entry["rating"], reverse=True)[:limit]
            return {"version": settings.app_version, "items": [dict(entry) for entry in best]}
