"""Fixtures of the second service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings


@pytest.fixture
def cgroup(tmp_path: Path) -> Path:
    (tmp_path / "memory.max").write_text(f"{256 * 1024 * 1024}\n")
    (tmp_path / "cpu.max").write_text("20000 100000\n")
    return tmp_path


@pytest.fixture
def settings(cgroup: Path) -> Settings:
    return Settings(environment="test", cgroup_root=cgroup)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def service_env() -> dict[str, str]:
    return {}
