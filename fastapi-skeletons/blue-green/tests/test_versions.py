"""Blue (v1) and green (v2) run the same code; the version decides what they serve."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.settings import Settings
from tests.conftest import BLUE_VERSION, GREEN_VERSION


@pytest.mark.parametrize("path", ["/", "/api/info", "/api/items", "/health", "/ready", "/nope"])
def test_every_response_names_the_version_and_the_slot(blue: TestClient, green: TestClient, path: str) -> None:
    for client, version, slot in ((blue, BLUE_VERSION, "blue"), (green, GREEN_VERSION, "green")):
        response = client.get(path)
        assert response.headers["x-app-version"] == version, path
        assert response.headers["x-app-slot"] == slot, path


def test_health_reports_the_version(blue: TestClient, green: TestClient) -> None:
    assert blue.get("/health").json() == {"status": "ok", "version": BLUE_VERSION, "slot": "blue"}
    assert green.get("/health").json() == {"status": "ok", "version": GREEN_VERSION, "slot": "green"}


def test_info_lists_the_features_of_each_version(blue: TestClient, green: TestClient) -> None:
    assert blue.get("/api/info").json()["features"] == ["items"]
    assert green.get("/api/info").json()["features"] == ["items", "item-ratings", "recommendations"]
    assert blue.get("/api/info").json()["version"] == BLUE_VERSION
    assert green.get("/api/info").json()["version"] == GREEN_VERSION


def test_v2_adds_the_recommendations_endpoint(blue: TestClient, green: TestClient) -> None:
    assert blue.get("/api/v2/recommendations").status_code == 404
    response = green.get("/api/v2/recommendations", params={"limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == GREEN_VERSION
    assert [item["name"] for item in body["items"]] == ["Flat white", "Espresso"]
    assert green.get("/api/v2/recommendations", params={"limit": 0}).status_code == 422


def test_v2_adds_a_rating_to_every_item_and_keeps_the_v1_fields(blue: TestClient, green: TestClient) -> None:
    v1 = blue.get("/api/items").json()
    v2 = green.get("/api/items").json()
    assert all(set(item) == {"id", "name", "price"} for item in v1)
    assert all(set(item) == {"id", "name", "price", "rating"} for item in v2)
    # Backwards compatible: a v1 client reads the same fields from v2.
    assert [{k: item[k] for k in ("id", "name", "price")} for item in v2] == v1
    assert "rating" not in blue.get("/api/items/1").json()
    assert green.get("/api/items/1").json()["rating"] == 4.7
    assert green.get("/api/items/99").status_code == 404


def test_index_shows_the_v2_banner_on_green_only(blue: TestClient, green: TestClient) -> None:
    assert "banner" not in blue.get("/").json()
    assert green.get("/").json()["banner"].startswith("New in 2.0")


@pytest.mark.parametrize("version", ["3.0.0", "10.1.2"])
def test_later_majors_keep_the_v2_features(make_client, version: str) -> None:  # type: ignore[no-untyped-def]
    client = make_client(version, "blue")
    assert client.get("/api/v2/recommendations").status_code == 200


@pytest.mark.parametrize("bad", ["", "v2.0.0", "2.0", "2.0.0-rc1", "latest"])
def test_app_version_must_be_x_y_z(bad: str) -> None:
    with pytest.raises(ValidationError):
        Settings(app_version=bad)


def test_version_and_slot_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_VERSION", "1.2.3")
    monkeypatch.setenv("SLOT", "blue")
    settings = Settings()
    assert (settings.app_version, settings.slot, settings.major) == ("1.2.3", "blue", 1)
