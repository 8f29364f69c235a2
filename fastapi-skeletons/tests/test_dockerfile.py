"""The generated services' Dockerfile says what its final image leaves out ("no compiler,
no pip, no root user"); these tests parse the final stage and fail when a claim and the
instructions disagree.

A multi-stage build starts the final stage again from the base image, so whatever the
base ships (python:*-slim ships pip and ensurepip) is in the image unless that stage
removes it: removing it in the builder proves nothing. The build itself also checks (a
RUN that fails while pip can be imported); this test makes sure that check stays there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SKELETONS = Path(__file__).resolve().parents[1]
DOCKERFILES = sorted(p for p in SKELETONS.rglob("Dockerfile") if "tests" not in p.relative_to(SKELETONS).parts)
CLAIM = re.compile(r"\bno (pip|compiler|root user)\b")
# Bases that ship no pip (and no shell to remove it with).
PIP_FREE_BASE = re.compile(r"^(scratch$|gcr\.io/distroless/)")
# pip as an argument of its own (not inside --disable-pip-version-check or a path).
PIP_ARGUMENT = r"(?<![\w./=-])pip(?![\w./=-])"
# Bases that ship no compiler.
SLIM_BASE = re.compile(r"(-slim|-alpine|^scratch$|^gcr\.io/distroless/)")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def runs(self) -> str:
        return "\n".join(args for keyword, args in self.instructions if keyword == "RUN")


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) in order: continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not current):
            continue  # Docker drops comment lines, also inside a continued instruction
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, args = current.partition(" ")
        out.append((keyword.upper(), args.strip()))
        current = ""
    return out


def header_claims(text: str) -> set[str]:
    """The claims of the comment block at the top (before the first instruction)."""
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line.lstrip("# "))
    return set(CLAIM.findall(" ".join(header)))


def stages(text: str) -> list[Stage]:
    args: dict[str, str] = {}
    out: list[Stage] = []
    for keyword, rest in instructions(text):
        if keyword == "ARG" and not out:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            parts = rest.split()
            base = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), ""), parts[0])
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            out.append(Stage(base, name))
        elif out:
            out[-1].instructions.append((keyword, rest))
    return out


def _copies_from_stages(stage: Stage) -> list[tuple[str, str]]:
    """(stage name, source path) of every COPY --from=<stage> in the stage."""
    out = []
    for keyword, rest in stage.instructions:
        if keyword != "COPY":
            continue
        tokens = rest.split()
        source = next((t.split("=", 1)[1] for t in tokens if t.startswith("--from=")), None)
        paths = [t for t in tokens if not t.startswith("--")]
        if source is not None:
            out += [(source, p) for p in paths[:-1]]
    return out


def claim_problems(text: str) -> list[str]:
    claims = header_claims(text)
    all_stages = stages(text)
    if not all_stages:
        return ["no FROM"]
    final = all_stages[-1]
    runs = final.runs()
    problems: list[str] = []
    if "pip" in claims:
        if not PIP_FREE_BASE.match(final.base):
            # The module, not only the executables: `python -m pip` needs no pip on PATH.
            removes_pip = re.search(rf"pip\s+uninstall\b[^;&|]*{PIP_ARGUMENT}", runs) or re.search(
                r"\brm\b[^;&|]*(site|dist)-packages/pip(\s|/|$)", runs)
            if not removes_pip:
                problems.append(f"claims no pip, but the final stage starts from {final.base}, which ships pip, "
                                "and no RUN of that stage removes it")
            if not re.search(r"\brm\b[^;&|]*ensurepip", runs):
                problems.append("claims no pip, but the final stage keeps ensurepip, which installs it again")
            if "find_spec" not in runs:
                problems.append("claims no pip, but the final stage's build does not fail when pip is still there")
        by_name = {s.name: s for s in all_stages if s.name}
        for source, path in _copies_from_stages(final):
            stage = by_name.get(source)
            made = re.search(rf"(-m\s+venv|\bvirtualenv)((\s+--?[\w-]+)*)\s+{re.escape(path)}(\s|$)",
                             stage.runs() if stage else "")
            if not made:
                continue  # not a virtualenv made by that stage
            created_without = "--without-pip" in made.group(2).split() or "--no-pip" in made.group(2).split()
            uninstalled = re.search(rf"{re.escape(path)}/bin/pip\s+uninstall\b[^;&|]*{PIP_ARGUMENT}", stage.runs())
            if not (created_without or uninstalled):
                problems.append(f"claims no pip, but the virtualenv {path} copied from stage {source} has it")
    if "root user" in claims:
        users = [rest for keyword, rest in final.instructions if keyword == "USER"]
        uid = users[-1].split(":")[0] if users else "0"
        if not uid.isdigit() or int(uid) == 0:
            problems.append(f"claims no root user, but the final stage runs as {uid!r} (use a numeric UID other than 0)")
    if "compiler" in claims:
        if not SLIM_BASE.search(final.base):
            problems.append(f"claims no compiler, but the final stage starts from {final.base}, which ships one")
        if re.search(r"apt-get\s+install|apk\s+add|dnf\s+install|yum\s+install", runs):
            problems.append("claims no compiler, but the final stage installs packages")
    return problems


def test_the_skeletons_have_a_dockerfile() -> None:
    assert "_shared/service/Dockerfile" in [p.relative_to(SKELETONS).as_posix() for p in DOCKERFILES]


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.relative_to(SKELETONS).as_posix())
def test_dockerfile_claims_hold_for_its_final_stage(path: Path) -> None:
    text = path.read_text()
    assert header_claims(text) == {"pip", "compiler", "root user"}
    assert claim_problems(text) == []


# What the Dockerfile looked like when its "no pip" was untrue: the final stage started
# again from python:*-slim (with pip) and removed pip only from the builder's venv.
UNTRUE_NO_PIP = """\
# Two stages: the builder creates a virtualenv with the pinned dependencies; the final
# image gets only that venv and the app code: no compiler, no pip, no root user.
ARG PYTHON_IMAGE=python:3.12.13-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --only-binary=:all: -r /tmp/requirements.txt \\
 && /opt/venv/bin/pip check \\
 && /opt/venv/bin/pip uninstall --yes pip
COPY app /app/app

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app/app /app/app
USER 10001:10001
CMD ["python", "-m", "app"]
"""


def _current() -> str:
    return (SKELETONS / "_shared" / "service" / "Dockerfile").read_text()


def _without_line(text: str, needle: str) -> str:
    lines = text.splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if needle in line]
    return "".join(lines[:index] + lines[index + 1:])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (lambda: UNTRUE_NO_PIP, "which ships pip"),
        (lambda: UNTRUE_NO_PIP, "keeps ensurepip"),
        # The builder's venv made with its own pip and never cleaned: copied with pip in it.
        (lambda: _current().replace("python -m venv --without-pip /opt/venv", "python -m venv /opt/venv"),
         "virtualenv /opt/venv copied from stage builder has it"),
        (lambda: _current().replace("pip setuptools wheel; \\", "setuptools wheel; \\")
         .replace("/usr/local/bin/pip /usr/local/bin/pip3 ", ""), "which ships pip"),
        (lambda: _current().replace("if u.find_spec(m)]", "if False]"), "does not fail when pip"),
        (lambda: _current().replace("USER 10001:10001", "USER root"), "runs as 'root'"),
        (lambda: _current().replace("USER 10001:10001", "USER 0:0"), "runs as '0'"),
        (lambda: _without_line(_current(), "USER 10001:10001"), "runs as '0'"),
        (lambda: _current().replace("WORKDIR /app\n", "WORKDIR /app\nRUN apt-get install -y gcc\n", 1),
         "installs packages"),
        (lambda: _current().replace("ARG PYTHON_IMAGE=python:3.12.13-slim-bookworm", "ARG PYTHON_IMAGE=python:3.12.13"),
         "which ships one"),
    ],
)
def test_claim_check_rejects_a_final_stage_that_contradicts_the_header(text, expected: str) -> None:
    problems = claim_problems(text())
    assert any(expected in p for p in problems), problems


def test_claim_check_accepts_a_pip_free_base_without_removal() -> None:
    distroless = UNTRUE_NO_PIP.replace("FROM ${PYTHON_IMAGE}\n", "FROM gcr.io/distroless/python3-debian12:nonroot\n")
    assert claim_problems(distroless) == []
