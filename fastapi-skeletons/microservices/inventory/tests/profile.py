"""What the shared fixtures (tests/conftest.py) need to know about inventory."""

from __future__ import annotations

from collections.abc import Callable

from tests.mesh_support import FakeService

CALLERS = ("orders",)
OWN_KEY: str | None = None  # calls no one
FAKES: dict[str, Callable[[], FakeService]] = {}
