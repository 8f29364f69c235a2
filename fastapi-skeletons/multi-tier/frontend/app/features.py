"""Frontend pages: list, create, show and delete items through the backend API."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import FastAPI, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from app.backend import BackendClient, BackendError
from app.core.lifecycle import Lifecycle
from app.pages import HEADERS, error_page, item_page, items_page, layout
from app.settings import Settings

log = logging.getLogger("app.pages")

MAX_FORM_BYTES = 16 * 1024
ItemId = Annotated[int, Path(ge=1)]


def setup(app: FastAPI, settings: Settings, lifecycle: Lifecycle) -> None:
    # Tests may replace app.state.backend (e.g. with a client over httpx.MockTransport).
    app.state.backend = BackendClient(settings)

    async def close_backend() -> None:
        await app.state.backend.close()

    lifecycle.on_shutdown(close_backend)
    # Readiness deliberately ignores the backend: when it is down the frontend must stay in
    # the Service to explain that (503 page) instead of vanishing behind connection errors.

    def page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
        html = layout(title, body, settings.app_name, settings.backend_url)
        return HTMLResponse(html, status_code=status_code, headers=HEADERS)

    def failure(exc: BackendError) -> HTMLResponse:
        return page(exc.title, error_page(exc.status_code, exc.title, exc.explanation), exc.status_code)

    def backend(request: Request) -> BackendClient:
        return request.app.state.backend

    def request_id(request: Request) -> str | None:
        return getattr(request.state, "request_id", None)

    async def read_form(request: Request) -> dict[str, str] | HTMLResponse:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return page("Unsupported form", error_page(415, "Unsupported form", "Send the form as URL-encoded."), 415)
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return page("Form too large", error_page(413, "Form too large", "At most 16 KiB."), 413)
        fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {key: values[0] for key, values in fields.items()}

    @app.get("/", response_class=HTMLResponse, summary="List of items, fetched from the backend")
    async def index(request: Request) -> HTMLResponse:
        try:
            response = await backend(request).request("GET", "/api/items", request_id=request_id(request))
            items = BackendClient.json(response)
            if response.status_code != 200 or not isinstance(items, list):
                raise BackendError(502, "Bad answer from the backend", f"Listing items answered HTTP {response.status_code}.")
        except BackendError as exc:
            return failure(exc)
        return page("Items", items_page(items))

    @app.get("/items/{item_id}", response_class=HTMLResponse)
    async def show(request: Request, item_id: ItemId) -> HTMLResponse:
        try:
            response = await backend(request).request("GET", f"/api/items/{item_id}", request_id=request_id(request))
            if response.status_code == 404:
                return page("Not found", error_page(404, "Item not found", f"There is no item {item_id}."), 404)
            item = BackendClient.json(response)
        except BackendError as exc:
            return failure(exc)
        return page(str(item.get("name", "Item")), item_page(item))

    @app.post("/items", response_model=None)
    async def create(request: Request) -> HTMLResponse | RedirectResponse:
        form = await read_form(request)
        if isinstance(form, HTMLResponse):
            return form
        payload = {"name": form.get("name", "").strip(), "description": form.get("description", "").strip()}
        try:
            response = await backend(request).request("POST", "/api/items", json=payload, request_id=request_id(request))
        except BackendError as exc:
            return failure(exc)
        if response.status_code == 422:
            return page("Invalid item", error_page(400, "Invalid item", "A name of 1 to 200 characters is required."), 400)
        if response.status_code != 201:
            return failure(BackendError(502, "Bad answer from the backend", f"Creating answered HTTP {response.status_code}."))
        return RedirectResponse("/", status_code=303)

    @app.post("/items/{item_id}/delete", response_model=None)
    async def delete(request: Request, item_id: ItemId) -> HTMLResponse | RedirectResponse:
        try:
            response = await backend(request).request("DELETE", f"/api/items/{item_id}", request_id=request_id(request))
        except BackendError as exc:
            return failure(exc)
        if response.status_code not in (204, 404):
            return failure(BackendError(502, "Bad answer from the backend", f"Deleting answered HTTP {response.status_code}."))
        return RedirectResponse("/", status_code=303)

    @app.get("/api/backend-status", summary="Can this frontend reach the backend right now?")
    async def backend_status(request: Request) -> JSONResponse:
        client = backend(request)
        try:
            response = await client.request("GET", "/ready", request_id=request_id(request))
        except BackendError as exc:
            return JSONResponse({"backend_url": client.base_url, "reachable": False, "detail": exc.explanation}, status_code=exc.status_code)
        ready = response.status_code == 200
        return JSONResponse(
            {"backend_url": client.base_url, "reachable": True, "ready": ready, "status": response.status_code},
            status_code=200 if ready else 503,
        )
