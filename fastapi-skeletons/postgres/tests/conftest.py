"""Fixtures. Database tests run against a REAL PostgreSQL server.

* TEST_DATABASE_URL (or DATABASE_URL) points at a disposable database: the tests empty
  the `items` table.
* REQUIRE_DATABASE=1 turns a missing URL into an error instead of skipped tests (CI sets
  it, so the database tests can never be skipped silently there).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
REQUIRE_DATABASE = os.environ.get("REQUIRE_DATABASE", "") not in ("", "0", "false", "no")


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_DATABASE and not DATABASE_URL:
        raise pytest.UsageError(
            "REQUIRE_DATABASE=1 but neither TEST_DATABASE_URL nor DATABASE_URL is set: "
            "point TEST_DATABASE_URL at a disposable PostgreSQL database, "
            "e.g. postgresql://app@127.0.0.1:5432/app_test"
        )


def pytest_report_header(config: pytest.Config) -> str:
    if DATABASE_URL:
        target = Settings(database_url=DATABASE_URL).safe_target()
        return f"database tests: against {target}"
    return "database tests: SKIPPED (set TEST_DATABASE_URL; REQUIRE_DATABASE=1 makes this an error)"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unreachable_settings() -> Settings:
    """A database address where nothing listens: the service must degrade, not crash."""
    return Settings(
        environment="test",
        database_url=f"postgresql://app@127.0.0.1:{_closed_port()}/app",
        db_pool_timeout_seconds=0.5,
        db_connect_timeout_seconds=1,
        readiness_check_timeout_seconds=2,
    )


@pytest.fixture
def database_url() -> str:
    if not DATABASE_URL:
        pytest.skip("no TEST_DATABASE_URL: database test skipped (REQUIRE_DATABASE=1 makes this an error)")
    return DATABASE_URL


@pytest.fixture
def db_settings(database_url: str) -> Settings:
    return Settings(environment="test", database_url=database_url)


@pytest.fixture
def clean_database(database_url: str) -> Iterator[str]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS items, schema_migrations")
    yield database_url


@pytest.fixture
def settings(unreachable_settings: Settings) -> Settings:
    """The shared core tests run without a database: probes must not need one."""
    return unreachable_settings


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def db_client(db_settings: Settings, clean_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(db_settings)) as test_client:
        yield test_client


@pytest.fixture
def service_env() -> dict[str, str]:
    return {"DATABASE_URL": f"postgresql://app@127.0.0.1:{_closed_port()}/app", "DB_CONNECT_TIMEOUT_SECONDS": "1"}
