"""API-key authentication between services.

Each calling service has one key (its Secret "<app>-<caller>-api-key", mounted only into
the caller). The services it may call get the SHA-256 digests of that key (the Secret
"<app>-<caller>-api-key-verifiers"), so no callee holds a key it could call others with.

A request's ``X-API-Key`` is hashed and compared with every digest of every accepted
caller with ``hmac.compare_digest`` and without stopping at a match, so the time taken
says nothing about which key (or how much of it) matched. No key: 401. A key of no
accepted caller, or of a caller this route does not allow: 403.

Up to three digests per caller are valid at once (current, next, previous): that is what
lets a key be rotated without a moment where the caller's key is refused (docs/auth.md).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader

log = logging.getLogger("app.auth")

API_KEY_HEADER = "X-API-Key"
VERIFIER_SLOTS = ("current", "next", "previous")


def verifier_of(key: str) -> str:
    """What a callee stores for a key: its SHA-256 digest, hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _read(path: Path) -> str | None:
    """The stripped content of a file, None when missing or empty. Read on every use (a
    few small files per request): the kubelet updates mounted Secrets in place, so a
    rotated key takes effect without a restart."""
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


@dataclass
class CallerVerifiers:
    """The key digests of the callers this service accepts, read from <dir>/<caller>/<slot>."""

    directory: Path
    callers: tuple[str, ...]

    def digests(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for caller in self.callers:
            values = (_read(self.directory / caller / slot) for slot in VERIFIER_SLOTS)
            found[caller] = [v.lower() for v in values if v]
        return found

    def identify(self, presented: str) -> str | None:
        """The caller whose key this is, or None. Constant time in the key's content."""
        presented_digest = verifier_of(presented).encode("ascii")
        match: str | None = None
        for caller, digests in self.digests().items():
            for digest in digests:
                # Every digest is compared, also after a match.
                if hmac.compare_digest(presented_digest, digest.encode("ascii")):
                    match = caller
        return match

    async def readiness(self) -> str:
        missing = [caller for caller, digests in self.digests().items() if not digests]
        if missing:
            raise RuntimeError(f"no key verifier for caller(s) {', '.join(missing)} in {self.directory}")
        return f"accepting {', '.join(self.callers)}" if self.callers else "no callers"


@dataclass
class OwnKey:
    """The key this service sends (re-read on every call, like the verifiers)."""

    path: Path

    def get(self) -> str:
        key = _read(self.path)
        if key is None:
            raise RuntimeError(f"no API key in {self.path} (scripts/create-api-keys.sh creates it)")
        return key

    async def readiness(self) -> str:
        self.get()
        return f"key in {self.path}"


# auto_error: a request without the header gets 401 with WWW-Authenticate: APIKey.
_api_key_header = APIKeyHeader(name=API_KEY_HEADER, auto_error=True, description="The calling service's API key")


def require_caller(*allowed: str) -> Callable[..., Awaitable[str]]:
    """A FastAPI dependency: the identity of the calling service, which must be one of ``allowed``."""
    allowed_set = frozenset(allowed)

    async def caller_identity(request: Request, api_key: str = Security(_api_key_header)) -> str:
        verifiers: CallerVerifiers = request.app.state.caller_verifiers
        caller = verifiers.identify(api_key)
        if caller is None:
            log.warning("unknown API key", extra={"path": request.url.path})
            raise HTTPException(status_code=403, detail="API key not accepted")
        if caller not in allowed_set:
            log.warning("caller not allowed", extra={"caller": caller, "path": request.url.path})
            raise HTTPException(status_code=403, detail=f"{caller} may not call {request.method} {request.url.path}")
        request.state.caller = caller
        return caller

    return caller_identity

