"""openapi.json (the API entity's definition in catalog-info.yaml) is this app's schema."""

from __future__ import annotations

import json
from pathlib import Path

from app.main import create_app
from app.settings import Settings

SCHEMA = Path(__file__).resolve().parents[1] / "openapi.json"
REGENERATE = "python -c 'import json; from app.main import create_app; print(json.dumps(create_app().openapi(), indent=2))' > openapi.json"


def test_the_committed_schema_is_the_apps_own() -> None:
    committed = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert committed == create_app(Settings()).openapi(), f"openapi.json is out of date; regenerate it: {REGENERATE}"


def test_every_route_but_the_probes_declares_its_api_key_or_is_public_on_purpose() -> None:
    schema = create_app(Settings()).openapi()
    public = {"/", "/health", "/ready", "/startup", "/circuits"} | {p for p in schema["paths"] if p.startswith("/api/")}
    unprotected = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if path not in public and not operation.get("security")
    ]
    assert unprotected == []
