"""The generated services' pytest settings (_shared/service/pyproject.toml): warnings are
errors, except pytest's own unclosed scandir iterator, which made a generated
repository's passing run fail at random (templates stage, fastapi-static-web)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SHARED_PYPROJECT = Path(__file__).resolve().parents[1] / "_shared" / "service" / "pyproject.toml"

LEAKED_SCANDIR = """
import gc, os

def test_leaks_a_scandir_iterator():
    entries = os.scandir(".")
    next(entries, None)
    del entries
    gc.collect()
"""

LEAKED_FILE = """
import gc

def test_leaks_a_file():
    handle = open(__file__)
    del handle
    gc.collect()
"""


def pytest_settings() -> str:
    """The [tool.pytest.ini_options] table alone (the [project] table holds template syntax)."""
    text = SHARED_PYPROJECT.read_text()
    start = text.index("[tool.pytest.ini_options]")
    end = text.find("\n[", start + 1)
    return text[start:] if end == -1 else text[start : end + 1]


def run_pytest(tmp_path: Path, test_source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pyproject.toml").write_text(pytest_settings())
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_example.py").write_text(test_source)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_pytests_own_unclosed_scandir_iterator_does_not_fail_the_run(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, LEAKED_SCANDIR)
    assert result.returncode == 0, result.stdout + result.stderr


def test_other_resource_leaks_still_fail_the_run(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, LEAKED_FILE)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "PytestUnraisableExceptionWarning" in result.stdout + result.stderr
