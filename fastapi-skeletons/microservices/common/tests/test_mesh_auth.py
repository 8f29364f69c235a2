"""API-key authentication between services (app/mesh/auth.py)."""

from __future__ import annotations

import hmac
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from app.mesh.auth import CallerVerifiers, OwnKey, require_caller
from tests.mesh_support import KEYS, write_verifiers


@pytest.fixture
def verifier_dir(tmp_path: Path) -> Path:
    for caller in ("gateway", "orders"):
        write_verifiers(tmp_path, caller, current=KEYS[caller])
    return tmp_path


@pytest.fixture
def client(verifier_dir: Path) -> TestClient:
    app = FastAPI()
    app.state.caller_verifiers = CallerVerifiers(verifier_dir, ("gateway", "orders"))

    @app.get("/orders-only", dependencies=[Depends(require_caller("orders"))])
    async def orders_only() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/both")
    async def both(caller: str = Depends(require_caller("gateway", "orders"))) -> dict[str, str]:
        return {"caller": caller}

    return TestClient(app)


def test_a_missing_key_is_401_with_the_scheme_to_use(client: TestClient) -> None:
    response = client.get("/both")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "APIKey"


def test_a_wrong_key_is_403(client: TestClient) -> None:
    response = client.get("/both", headers={"X-API-Key": "not-a-key"})
    assert response.status_code == 403
    assert response.json() == {"detail": "API key not accepted"}


def test_a_valid_key_of_a_caller_the_route_does_not_allow_is_403(client: TestClient) -> None:
    response = client.get("/orders-only", headers={"X-API-Key": KEYS["gateway"]})
    assert response.status_code == 403
    assert response.json() == {"detail": "gateway may not call GET /orders-only"}


def test_a_valid_key_is_mapped_to_its_caller(client: TestClient) -> None:
    assert client.get("/both", headers={"X-API-Key": KEYS["gateway"]}).json() == {"caller": "gateway"}
    assert client.get("/both", headers={"X-API-Key": KEYS["orders"]}).json() == {"caller": "orders"}
    assert client.get("/orders-only", headers={"X-API-Key": KEYS["orders"]}).status_code == 200


def test_every_digest_is_compared_in_constant_time_without_stopping_at_a_match(
    verifier_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_verifiers(verifier_dir, "gateway", current=KEYS["gateway"], previous="old-gateway-key")
    verifiers = CallerVerifiers(verifier_dir, ("gateway", "orders"))
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    # The first digest matches; the other two are still compared.
    assert verifiers.identify(KEYS["gateway"]) == "gateway"
    assert len(compared) == 3
    compared.clear()
    assert verifiers.identify("wrong") is None
    assert len(compared) == 3
    # Digests of equal length are compared, so not even the key's length leaks.
    assert {len(a) for a, _ in compared} | {len(b) for _, b in compared} == {64}


def test_rotation_accepts_old_and_new_key_at_every_step(verifier_dir: Path) -> None:
    """docs/auth.md: stage (next), promote (current <- next, previous <- old), retire."""
    verifiers = CallerVerifiers(verifier_dir, ("gateway",))
    old, new = KEYS["gateway"], "new-gateway-key-fedcba9876543210"
    own = OwnKey(verifier_dir / "own" / "current")
    own.path.parent.mkdir()

    def caller_sends(key: str) -> str:
        own.path.write_text(key)
        return own.get()

    sent = caller_sends(old)
    # 1. stage: callees learn the new key while the caller still sends the old one.
    write_verifiers(verifier_dir, "gateway", current=old, next=new)
    assert verifiers.identify(sent) == "gateway"
    assert verifiers.identify(new) == "gateway"
    # 2. promote: the caller switches; callees that have not seen the update yet still
    #    accept it (next), those that have accept both (current, previous).
    sent = caller_sends(new)
    assert sent == new
    write_verifiers(verifier_dir, "gateway", current=new, previous=old)
    assert verifiers.identify(sent) == "gateway"
    assert verifiers.identify(old) == "gateway"  # a caller pod not yet updated
    # 3. retire: the old key stops working.
    write_verifiers(verifier_dir, "gateway", current=new)
    assert verifiers.identify(new) == "gateway"
    assert verifiers.identify(old) is None


def test_readiness_fails_without_a_verifier_for_an_accepted_caller(tmp_path: Path) -> None:
    import asyncio

    write_verifiers(tmp_path, "gateway", current=KEYS["gateway"])
    with pytest.raises(RuntimeError, match="no key verifier for caller\\(s\\) orders"):
        asyncio.run(CallerVerifiers(tmp_path, ("gateway", "orders")).readiness())
    with pytest.raises(RuntimeError, match="scripts/create-api-keys.sh"):
        OwnKey(tmp_path / "missing").get()
