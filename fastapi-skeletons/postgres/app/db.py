"""PostgreSQL access: a psycopg 3 connection pool, the schema, and the item queries."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from app.settings import Settings

log = logging.getLogger("app.db")

# Schema changes are applied in order at start-up; each runs once (schema_migrations).
MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE IF NOT EXISTS items (
            id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name        TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
            description TEXT NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
            created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """,
    ),
]
# Any constant works; it serialises migrations when several replicas start at once.
MIGRATION_LOCK_ID = 748_311_902

# What callers can not fix by retrying the same request: the database is unreachable.
UNAVAILABLE = (psycopg.OperationalError, PoolTimeout)


class Database:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool = AsyncConnectionPool(
            settings.conninfo(),
            min_size=settings.db_pool_min_size,
            max_size=settings.db_pool_max_size,
            timeout=settings.db_pool_timeout_seconds,
            open=False,
            # Verify a connection before handing it out: after a database restart the
            # pooled connections are dead, and this replaces them transparently.
            check=AsyncConnectionPool.check_connection,
            kwargs={"autocommit": True, "row_factory": dict_row},
            name="app",
        )
        self._schema_ready = False
        self._schema_lock = asyncio.Lock()

    @property
    def schema_ready(self) -> bool:
        return self._schema_ready

    def schema_lost(self) -> None:
        """The tables are gone (a new, empty database behind the same address, e.g. a
        volume that did not persist): apply the migrations again on the next call instead
        of failing every request until the pod restarts."""
        self._schema_ready = False

    async def verify_schema(self) -> None:
        """Readiness: the schema this process applied is still there; re-applied if not."""
        await self.ensure_schema()
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT to_regclass('items') IS NOT NULL AS present")
            row = await cur.fetchone()
        if not (row and row["present"]):
            log.warning("schema missing: the database was replaced; applying the migrations again")
            self.schema_lost()
            await self.ensure_schema()

    async def open(self) -> None:
        # wait=False: the service starts (and answers /health) even while the database is
        # down; /ready reports the database until it is reachable.
        await self.pool.open(wait=False)

    async def close(self) -> None:
        await self.pool.close()

    async def ensure_schema(self) -> None:
        if self._schema_ready:
            return
        async with self._schema_lock:
            if self._schema_ready:
                return
            async with self.pool.connection() as conn:
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_ID,))
                    await conn.execute(
                        "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                    )
                    cur = await conn.execute("SELECT version FROM schema_migrations")
                    applied = {row["version"] for row in await cur.fetchall()}
                    for version, sql in MIGRATIONS:
                        if version not in applied:
                            await conn.execute(sql)
                            await conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                            log.info("migration applied", extra={"version": version})
            self._schema_ready = True

    async def ping(self) -> str:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT current_setting('server_version') AS version")
            row = await cur.fetchone()
        return f"{self.settings.safe_target()} (PostgreSQL {row['version'] if row else '?'})"

    # --- items --------------------------------------------------------------------------
    async def list_items(self, limit: int, offset: int) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id, name, description, created_at, updated_at FROM items ORDER BY id LIMIT %s OFFSET %s",
                (limit, offset),
            )
            return await cur.fetchall()

    async def get_item(self, item_id: int) -> dict[str, Any] | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id, name, description, created_at, updated_at FROM items WHERE id = %s", (item_id,)
            )
            return await cur.fetchone()

    async def create_item(self, name: str, description: str) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO items (name, description) VALUES (%s, %s)"
                " RETURNING id, name, description, created_at, updated_at",
                (name, description),
            )
            row = await cur.fetchone()
        assert row is not None
        return row

    async def update_item(self, item_id: int, name: str, description: str) -> dict[str, Any] | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE items SET name = %s, description = %s, updated_at = now() WHERE id = %s"
                " RETURNING id, name, description, created_at, updated_at",
                (name, description, item_id),
            )
            return await cur.fetchone()

    async def delete_item(self, item_id: int) -> bool:
        async with self.pool.connection() as conn:
            cur = await conn.execute("DELETE FROM items WHERE id = %s", (item_id,))
            return cur.rowcount == 1
