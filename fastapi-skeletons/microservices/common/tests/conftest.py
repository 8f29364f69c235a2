"""Fixtures of every service: its app with the test keys of the callers it accepts, the
key it sends, and fake services behind its clients. What differs per service is in
tests/profile.py (CALLERS, OWN_KEY, FAKES)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests import profile
from tests.mesh_support import FakeService, mesh_files, use_fake


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # A small breaker and no back-off, so the tests see it open quickly.
    return Settings(
        environment="test",
        downstream_backoff_seconds=0,
        breaker_failure_threshold=3,
        breaker_recovery_seconds=1,
        **mesh_files(tmp_path, profile.CALLERS, own=profile.OWN_KEY),
    )


@pytest.fixture
def fakes() -> dict[str, FakeService]:
    """The services this one calls, faked (profile.FAKES), by name."""
    return {name: make() for name, make in profile.FAKES.items()}


@pytest.fixture
def client(settings: Settings, fakes: dict[str, FakeService]) -> Iterator[TestClient]:
    app = create_app(settings)
    for name, fake in fakes.items():
        use_fake(app, name, fake)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def service_env(tmp_path: Path) -> dict[str, str]:
    """Extra environment for tests that start the real server process."""
    files = mesh_files(tmp_path, profile.CALLERS, own=profile.OWN_KEY)
    return {"CALLER_VERIFIERS_DIR": str(files["caller_verifiers_dir"]), "API_KEY_FILE": str(files["api_key_file"])}
