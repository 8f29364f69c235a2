"""A fake kubectl for testing the repository's scripts: a small Python program (given by
each test module, understanding exactly the calls its script makes) behind an executable
wrapper, with a state folder and an empty TMPDIR to prove nothing is left behind.
Named apart from the tests/fake_kubectl.py programs some templates bring, which would
otherwise replace this module in the generated repository."""

from __future__ import annotations

import stat
import sys
from pathlib import Path


def install(tmp_path: Path, program: str) -> dict[str, Path]:
    """The wrapper ("kubectl"), its state folder ("state") and an empty TMPDIR ("tmpdir")."""
    state, tmpdir = tmp_path / "state", tmp_path / "tmp"
    state.mkdir()
    tmpdir.mkdir()
    fake = tmp_path / "fake_kubectl.py"
    fake.write_text(program)
    wrapper = tmp_path / "kubectl"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{fake}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return {"kubectl": wrapper, "state": state, "tmpdir": tmpdir}
