"""Fixtures: a fake cgroup folder so limits can be checked without a container."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


@pytest.fixture
def cgroup(tmp_path: Path) -> Path:
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "memory.max").write_text(f"{512 * 1024 * 1024}\n")
    (root / "memory.current").write_text(f"{100 * 1024 * 1024}\n")
    (root / "cpu.max").write_text("50000 100000\n")
    return root


@pytest.fixture
def settings(cgroup: Path) -> Settings:
    return Settings(environment="test", cgroup_root=cgroup, max_allocation_mb=64)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def service_env() -> dict[str, str]:
    return {}
