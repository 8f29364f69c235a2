"""The second service answers and reports the limits from its cgroup."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.features import container_limits


def test_index(client: TestClient) -> None:
    body = client.get("/").json()
    assert body["message"] == "I fit in what the quota leaves."


def test_limits_come_from_the_cgroup(client: TestClient) -> None:
    assert client.get("/limits").json() == {"memory_limit_mb": 256.0, "cpu_limit": 0.2}


def test_unlimited_or_unreadable_cgroup(tmp_path: Path) -> None:
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert container_limits(tmp_path) == {"memory_limit_mb": None, "cpu_limit": None}
    assert container_limits(tmp_path / "missing") == {"memory_limit_mb": None, "cpu_limit": None}
