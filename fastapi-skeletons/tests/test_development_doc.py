"""The shared docs/development.md names the base image the Dockerfile really uses.

The Dockerfile's FROM lines (with ARG defaults resolved) are the truth; the doc rendered
into every repository must name those images and no other python base.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SKELETONS = Path(__file__).resolve().parents[1]
DOCKERFILE = SKELETONS / "_shared" / "service" / "Dockerfile"
DEVELOPMENT = SKELETONS / "_shared" / "repo" / "docs" / "development.md"


def base_images(dockerfile: str) -> set[str]:
    """The external images the stages start from (not earlier stages), ARG defaults applied."""
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", dockerfile, re.M))
    stages: set[str] = set()
    images: set[str] = set()
    for image, alias in re.findall(r"^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", dockerfile, re.M | re.I):
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), image)
        if image not in stages:
            images.add(image)
        if alias:
            stages.add(alias)
    return images


def base_image_problems(doc: str, dockerfile: str) -> list[str]:
    expected = base_images(dockerfile)
    named = set(re.findall(r"`(python:[^`\s]+)`", doc))
    problems = [f"development.md does not name the base image {image}" for image in sorted(expected - named)]
    problems += [f"development.md names {image}, which the Dockerfile does not use" for image in sorted(named - expected)]
    return problems


def test_development_doc_names_the_dockerfile_base_image() -> None:
    assert base_images(DOCKERFILE.read_text())
    assert base_image_problems(DEVELOPMENT.read_text(), DOCKERFILE.read_text()) == []


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ("the final `python:3.12-slim` stage", "does not name the base image python:3.13.1-slim"),
        ("the final `python:3.12-slim` stage", "names python:3.12-slim, which the Dockerfile does not use"),
        ("no image named at all", "does not name the base image"),
    ],
)
def test_base_image_check_catches_a_stale_doc(doc: str, expected: str) -> None:
    dockerfile = "ARG PYTHON_IMAGE=python:3.13.1-slim\nFROM ${PYTHON_IMAGE} AS builder\nFROM builder AS test\nFROM ${PYTHON_IMAGE}\n"
    assert base_images(dockerfile) == {"python:3.13.1-slim"}
    assert any(expected in problem for problem in base_image_problems(doc, dockerfile))
