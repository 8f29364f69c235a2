"""The repository's Python scripts (scripts/*.py), imported for testing."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from tests.manifest_policy import repo_root

ROOT = repo_root(Path(__file__).resolve().parents[1])


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
