"""The service answers which environment it runs in (what the smoke check relies on)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app import __version__
from app.main import create_app
from app.settings import Settings


def test_index_names_the_service_its_version_and_environment() -> None:
    with TestClient(create_app(Settings(environment="staging", greeting="Hi"))) as client:
        response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {
        "service": Settings().app_name,
        "version": __version__,
        "environment": "staging",
        "greeting": "Hi",
    }


def test_the_smoke_check_matches_the_json_the_service_sends() -> None:
    # validate-deployment.sh looks for "environment":"<env>" in the raw body.
    with TestClient(create_app(Settings(environment="prod"))) as client:
        assert '"environment":"prod"' in client.get("/").text
