"""CRUD against a real PostgreSQL server (TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from fastapi.testclient import TestClient

from app.db import Database
from app.main import create_app
from app.settings import Settings

pytestmark = pytest.mark.database


def test_ready_reports_the_database(db_client: TestClient) -> None:
    response = db_client.get("/ready")
    assert response.status_code == 200, response.text
    check = response.json()["checks"]["database"]
    assert check["ok"] is True
    assert "PostgreSQL" in check["detail"]


def test_create_read_update_delete_roundtrip(db_client: TestClient) -> None:
    created = db_client.post("/api/items", json={"name": "first", "description": "written by a test"})
    assert created.status_code == 201
    item = created.json()
    assert created.headers["location"] == f"/api/items/{item['id']}"
    assert (item["name"], item["description"]) == ("first", "written by a test")

    assert db_client.get(f"/api/items/{item['id']}").json() == item

    updated = db_client.put(f"/api/items/{item['id']}", json={"name": "renamed"})
    assert updated.status_code == 200
    assert updated.json()["name"] == "renamed"
    assert updated.json()["description"] == ""
    assert updated.json()["updated_at"] >= item["updated_at"]

    assert db_client.delete(f"/api/items/{item['id']}").status_code == 204
    assert db_client.get(f"/api/items/{item['id']}").status_code == 404
    assert db_client.delete(f"/api/items/{item['id']}").status_code == 404


def test_rows_are_really_in_postgresql(db_client: TestClient, database_url: str) -> None:
    item = db_client.post("/api/items", json={"name": "visible to psql"}).json()
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT name FROM items WHERE id = %s", (item["id"],)).fetchone()
    assert row == ("visible to psql",)


def test_list_is_ordered_and_paginated(db_client: TestClient) -> None:
    ids = [db_client.post("/api/items", json={"name": f"item-{n}"}).json()["id"] for n in range(5)]
    assert [i["id"] for i in db_client.get("/api/items").json()] == ids
    page = db_client.get("/api/items", params={"limit": 2, "offset": 2}).json()
    assert [i["name"] for i in page] == ["item-2", "item-3"]


def test_data_survives_a_restart_of_the_service(db_settings: Settings, clean_database: str) -> None:
    with TestClient(create_app(db_settings)) as first:
        item_id = first.post("/api/items", json={"name": "durable"}).json()["id"]
    with TestClient(create_app(db_settings)) as second:
        assert second.get(f"/api/items/{item_id}").json()["name"] == "durable"


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"name": ""}, "name"), ({"name": "x" * 201}, "name"), ({"name": "ok", "description": "d" * 2001}, "description")],
)
def test_invalid_items_are_rejected_before_the_database(db_client: TestClient, payload: dict, field: str) -> None:
    response = db_client.post("/api/items", json=payload)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


@pytest.mark.parametrize("bad_id", ["0", "-1", "9223372036854775808", "abc"])
def test_out_of_range_ids_are_422_not_500(db_client: TestClient, bad_id: str) -> None:
    assert db_client.get(f"/api/items/{bad_id}").status_code == 422


def test_sql_injection_in_values_is_stored_as_text(db_client: TestClient) -> None:
    hostile = "x'); DROP TABLE items; --"
    item = db_client.post("/api/items", json={"name": hostile}).json()
    assert db_client.get(f"/api/items/{item['id']}").json()["name"] == hostile
    assert db_client.get("/api/items").status_code == 200


def test_migrations_are_idempotent_and_safe_in_parallel(db_settings: Settings, clean_database: str) -> None:
    async def migrate_concurrently() -> None:
        databases = [Database(db_settings) for _ in range(3)]
        for db in databases:
            await db.open()
        try:
            await asyncio.gather(*(db.ensure_schema() for db in databases))
            await databases[0].ensure_schema()
        finally:
            for db in databases:
                await db.close()

    asyncio.run(migrate_concurrently())
    with psycopg.connect(clean_database) as conn:
        versions = conn.execute("SELECT version FROM schema_migrations").fetchall()
    assert versions == [(1,)]


def test_service_recovers_when_the_database_restarts_connections(db_client: TestClient, database_url: str) -> None:
    """Pooled connections killed by the server (as in a pod restart) are replaced."""
    assert db_client.post("/api/items", json={"name": "before"}).status_code == 201
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND pid <> pg_backend_pid()",
            (db_client.app.state.settings.app_name,),
        )
    assert db_client.get("/api/items").status_code == 200
    assert db_client.get("/ready").status_code == 200


def test_recovers_when_the_database_comes_back_empty(db_client: TestClient, database_url: str) -> None:
    """A database that lost its data (an emptyDir instead of the PVC, a restored blank
    volume) must not leave the API failing until its pods restart."""
    assert db_client.post("/api/items", json={"name": "before"}).status_code == 201
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE items, schema_migrations")

    lost = db_client.get("/api/items")
    assert lost.status_code == 503, lost.text
    assert lost.headers["retry-after"] == "5"

    again = db_client.get("/api/items")
    assert again.status_code == 200, again.text
    assert again.json() == []


def test_readiness_recreates_a_missing_schema(db_client: TestClient, database_url: str) -> None:
    assert db_client.get("/ready").status_code == 200
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE items, schema_migrations")

    assert db_client.get("/ready").status_code == 200
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('items') IS NOT NULL").fetchone() == (True,)
