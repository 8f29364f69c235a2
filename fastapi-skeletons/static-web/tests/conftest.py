"""Fixtures: a settings object whose page lives in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

PAGE = """<!doctype html>
<html><head><title>Test page</title></head>
<body><h1>Custom content</h1><p>Served by __POD_NAME__, version __APP_VERSION__</p></body></html>
"""


@pytest.fixture
def content_file(tmp_path: Path) -> Path:
    path = tmp_path / "index.html"
    path.write_text(PAGE, encoding="utf-8")
    return path


@pytest.fixture
def settings(content_file: Path) -> Settings:
    return Settings(environment="test", content_path=content_file, pod_name="web-7d9f-abcde", greeting="Hi there")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def service_env(content_file: Path) -> dict[str, str]:
    return {"CONTENT_PATH": str(content_file)}
