"""Without a reachable database the service degrades: alive, not ready, clear 503s."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.settings import Settings


def test_liveness_does_not_depend_on_the_database(client: TestClient) -> None:
    assert client.get("/health").status_code == 200


def test_not_ready_while_the_database_is_unreachable(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 503
    check = response.json()["checks"]["database"]
    assert check["ok"] is False
    assert check["detail"]


def test_crud_answers_503_with_retry_after(client: TestClient, unreachable_settings: Settings) -> None:
    for method, path, body in [
        ("GET", "/api/items", None),
        ("POST", "/api/items", {"name": "x"}),
        ("GET", "/api/items/1", None),
    ]:
        response = client.request(method, path, json=body)
        assert response.status_code == 503, (method, path, response.text)
        assert response.headers["retry-after"] == "5"
        assert response.json()["database"] == unreachable_settings.safe_target()


def test_password_never_leaks_into_errors_or_settings_repr() -> None:
    settings = Settings(db_host="db.internal", db_password="s3cr3t-pw", db_user="svc", db_name="shop")
    assert "s3cr3t-pw" in settings.conninfo()
    assert "s3cr3t-pw" not in repr(settings)
    assert settings.safe_target() == "db.internal:5432/shop"


def test_database_url_takes_precedence_and_gets_timeouts() -> None:
    settings = Settings(database_url="postgresql://u:p@h1:6543/d1", db_host="ignored", db_statement_timeout_ms=1234)
    conninfo = settings.conninfo()
    assert "host=h1" in conninfo and "port=6543" in conninfo and "dbname=d1" in conninfo
    assert "statement_timeout=1234" in conninfo
    assert "connect_timeout=3" in conninfo
