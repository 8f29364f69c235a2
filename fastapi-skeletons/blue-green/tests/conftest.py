"""Fixtures: the same app at the blue (v1) and the green (v2) version."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

BLUE_VERSION = ${{ values.slotVersions.blue | dump }}
GREEN_VERSION = ${{ values.slotVersions.green | dump }}


@pytest.fixture
def settings() -> Settings:
    return Settings(environment="test", app_version=GREEN_VERSION, slot="green", pod_name="shop-green-abc")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def make_client() -> Iterator[Callable[[str, str], TestClient]]:
    """make_client(version, slot): a client of the app as that slot runs it."""
    clients: list[TestClient] = []

    def make(version: str, slot: str) -> TestClient:
        client = TestClient(create_app(Settings(environment="test", app_version=version, slot=slot)))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def blue(make_client: Callable[[str, str], TestClient]) -> TestClient:
    return make_client(BLUE_VERSION, "blue")


@pytest.fixture
def green(make_client: Callable[[str, str], TestClient]) -> TestClient:
    return make_client(GREEN_VERSION, "green")


@pytest.fixture
def service_env() -> dict[str, str]:
    return {"APP_VERSION": GREEN_VERSION, "SLOT": "green"}
