"""Serves the HTML page provided by the ConfigMap, plus a small JSON info endpoint."""

from __future__ import annotations

import hashlib
import html
import logging
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from app import __version__
from app.core.lifecycle import Lifecycle
from app.settings import Settings

log = logging.getLogger("app.content")

# Placeholders the page may contain; replaced (HTML-escaped) on every request.
POD_PLACEHOLDER = "__POD_NAME__"
VERSION_PLACEHOLDER = "__APP_VERSION__"
MAX_CONTENT_BYTES = 1024 * 1024  # a ConfigMap holds at most 1 MiB anyway

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class ContentUnavailable(Exception):
    pass


@dataclass
class _Cached:
    mtime_ns: int
    size: int
    text: str


class ContentStore:
    """Reads the page from disk, re-reading it when the file changes.

    Kubernetes updates a mounted ConfigMap in place (without restarting the pod), so an
    edited page is served within about a minute of `kubectl apply`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cached: _Cached | None = None

    def read(self) -> str:
        try:
            stat = self.path.stat()
            if self._cached and (self._cached.mtime_ns, self._cached.size) == (stat.st_mtime_ns, stat.st_size):
                return self._cached.text
            if stat.st_size > MAX_CONTENT_BYTES:
                raise ContentUnavailable(f"{self.path} is larger than {MAX_CONTENT_BYTES} bytes")
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ContentUnavailable(f"cannot read {self.path}: {exc.__class__.__name__}") from exc
        if not text.strip():
            raise ContentUnavailable(f"{self.path} is empty")
        self._cached = _Cached(stat.st_mtime_ns, stat.st_size, text)
        log.info("content loaded", extra={"path": str(self.path), "bytes": stat.st_size})
        return text

    def sha256(self) -> str:
        return hashlib.sha256(self.read().encode("utf-8")).hexdigest()


def _error_page(message: str) -> str:
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Content unavailable</title></head>"
        f"<body><h1>Content unavailable</h1><p>{html.escape(message)}</p></body></html>"
    )


def setup(app: FastAPI, settings: Settings, lifecycle: Lifecycle) -> None:
    store = ContentStore(settings.content_path)
    pod_name = settings.pod_name

    async def content_check() -> str:
        store.read()
        return str(settings.content_path)

    lifecycle.add_readiness_check("content", content_check)

    @app.get("/", response_class=HTMLResponse, summary="The custom page from the ConfigMap")
    async def index() -> HTMLResponse:
        try:
            page = store.read()
        except ContentUnavailable as exc:
            log.warning("content unavailable", extra={"error": str(exc)})
            return HTMLResponse(_error_page(str(exc)), status_code=503, headers=SECURITY_HEADERS)
        page = page.replace(POD_PLACEHOLDER, html.escape(pod_name)).replace(VERSION_PLACEHOLDER, __version__)
        return HTMLResponse(page, headers=SECURITY_HEADERS)

    @app.get("/api/info", summary="Which replica answered, and with which configuration")
    async def info() -> dict[str, object]:
        try:
            digest: str | None = store.sha256()
        except ContentUnavailable:
            digest = None
        return {
            "app": settings.app_name,
            "version": __version__,
            "environment": settings.environment,
            "greeting": settings.greeting,
            "pod": pod_name,
            "content_path": str(settings.content_path),
            "content_sha256": digest,
        }
