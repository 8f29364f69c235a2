"""Static checks of fastapi-skeletons/ and templates/ that need no Backstage.

Rendering through the real scaffolder is tested elsewhere (the portal's template tests);
these catch the mistakes that are cheap to catch early: unpinned or diverging Python
pins, template syntax traps, unpinned actions, parts that do not exist, and form schemas
that accept the hostile examples or reject the good ones.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from schema_check import validate, with_form_defaults

SKELETONS = Path(__file__).resolve().parents[1]
TEMPLATES = SKELETONS.parent / "templates"
TEMPLATE_NAMES = sorted(p.parent.name for p in TEMPLATES.glob("*/template.yaml"))
PIN = re.compile(r"^([A-Za-z0-9_.-]+(?:\[[a-z,]+\])?)==([0-9][0-9A-Za-z.+!-]*)$")


def skeleton_text_files() -> list[Path]:
    """Files inside parts (not this test folder, not the README at the root)."""
    return [
        p
        for p in SKELETONS.rglob("*")
        if p.is_file()
        and len(p.relative_to(SKELETONS).parts) > 1
        and p.relative_to(SKELETONS).parts[0] != "tests"
        and "__pycache__" not in p.parts
    ]


def requirement_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


# --- Python pins -------------------------------------------------------------------------
def pin_problems(files: dict[str, list[str]]) -> list[str]:
    problems, versions = [], defaultdict(set)
    for name, lines in files.items():
        for line in lines:
            match = PIN.match(line)
            if not match:
                problems.append(f"{name}: not pinned with ==: {line}")
                continue
            versions[match.group(1).lower().replace("_", "-")].add(match.group(2))
    problems += [f"{pkg} pinned to different versions: {sorted(v)}" for pkg, v in versions.items() if len(v) > 1]
    return problems


def test_every_python_requirement_is_pinned_and_consistent() -> None:
    files = {str(p.relative_to(SKELETONS)): requirement_lines(p) for p in SKELETONS.rglob("requirements*.txt")}
    assert len(files) >= 5
    assert pin_problems(files) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a": ["fastapi>=0.1"]}, "not pinned"),
        ({"a": ["fastapi"]}, "not pinned"),
        ({"a": ["fastapi==1.0"], "b": ["fastapi==1.1"]}, "different versions"),
    ],
)
def test_pin_check_rejects_bad_requirements(files: dict[str, list[str]], expected: str) -> None:
    assert any(expected in p for p in pin_problems(files))


# --- template syntax traps ---------------------------------------------------------------
RAW = re.compile(r"\{%-?\s*raw\s*%\}.*?\{%\s*endraw\s*%\}", re.S)
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def syntax_problems(name: str, text: str) -> list[str]:
    problems = []
    outside_raw = RAW.sub("", text)
    if "{#" in outside_raw:
        problems.append(f"{name}: '{{#' starts a template comment (write it differently, e.g. no ${{#var}})")
    if re.search(r"\{%-?\s*endraw\s*-%\}|\{%-\s*endraw", text):
        problems.append(f"{name}: whitespace control on endraw is not supported by the scaffolder")
    # Names bound by {% for x in ... %}, {% for k, v in ... %} and {% set x = ... %} are
    # template variables too.
    bound = re.findall(r"\{%-?\s*(?:for|set)\s+(\w+(?:\s*,\s*\w+)*)", outside_raw)
    variables = {"values", *(name.strip() for names in bound for name in names.split(","))}
    for expression in EXPRESSION.findall(outside_raw):
        body = expression.strip().lstrip("(")
        if body.startswith(('"', "'")):
            continue  # a string literal, e.g. ${{ "${{ matrix.x }}" }}
        head = re.match(r"[A-Za-z_]\w*", body)
        if head is None or head.group(0) not in variables:
            problems.append(f"{name}: '${{{{{expression}}}}}' is not a values expression (GitHub expression outside a raw block?)")
    return problems


def test_skeleton_files_have_no_template_syntax_traps() -> None:
    problems = []
    for path in skeleton_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        problems += syntax_problems(str(path.relative_to(SKELETONS)), text)
    assert problems == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n=${#items[@]}", "template comment"),
        ("run: echo ${{ github.sha }}", "not a values expression"),
        ("{% raw %}${{ github.sha }}\n{%- endraw %}", "endraw"),
    ],
)
def test_syntax_check_rejects_traps(text: str, expected: str) -> None:
    assert any(expected in p for p in syntax_problems("x", text))


def test_syntax_check_accepts_raw_github_expressions() -> None:
    assert syntax_problems("x", "a: ${{ values.name | dump }}\n{% raw %}b: ${{ github.sha }}{% endraw %}\n") == []


# --- workflows: actions pinned by commit SHA ---------------------------------------------
USES = re.compile(r"uses:\s*([^\s#]+)(\s*#\s*(\S+))?")


def action_problems(text: str) -> list[str]:
    problems = []
    for ref, _, comment in USES.findall(text):
        if ref.startswith("./"):
            continue
        if not re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref):
            problems.append(f"{ref}: not pinned to a full commit SHA")
        elif not comment or not re.fullmatch(r"v\d+(\.\d+)*", comment):
            problems.append(f"{ref}: needs a '# vX.Y.Z' comment")
    return problems


def test_workflow_actions_are_pinned_by_sha() -> None:
    workflows = list(SKELETONS.glob("**/.github/workflows/*.y*ml"))
    assert workflows
    for workflow in workflows:
        text = workflow.read_text()
        assert USES.search(text)
        assert action_problems(text) == [], workflow
        assert "persist-credentials: false" in text
        assert re.search(r"^permissions:\n  contents: read", text, re.M)


@pytest.mark.parametrize(
    "line", ["uses: actions/checkout@v5", "uses: actions/checkout@08c6903", "uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8"]
)
def test_action_check_rejects_unpinned_refs(line: str) -> None:
    assert action_problems(line) != []


# --- templates ---------------------------------------------------------------------------
def load_template(name: str) -> dict:
    return yaml.safe_load((TEMPLATES / name / "template.yaml").read_text())


def test_the_templates_exist() -> None:
    assert TEMPLATE_NAMES == [
        "fastapi-blue-green",
        "fastapi-gitops",
        "fastapi-health-monitoring",
        "fastapi-microservices",
        "fastapi-multi-tier",
        "fastapi-postgres",
        "fastapi-resource-quota",
        "fastapi-static-web",
    ]


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_renders_existing_parts_and_publishes(name: str) -> None:
    template = load_template(name)
    assert template["apiVersion"] == "scaffolder.backstage.io/v1beta3"
    assert template["metadata"]["name"] == name
    actions = [step["action"] for step in template["spec"]["steps"]]
    # Publishing is checked before anything is rendered, and rolled back after a failure.
    # One template publishes to the local Gitea or to GitHub, by the repoUrl host: exactly
    # one of the two publish steps runs.
    assert actions[0] == "golden-path:publish:preflight"
    # "Deploy with Flux" (templates/README.md), where a template opts in: images built
    # before anything is published, Flux and the rollout after the registration; the
    # rollback stays last.
    deploy_after = ["golden-path:flux:register", "golden-path:kubernetes:wait"]
    core = [a for a in actions if a not in deploy_after]
    assert core[-4:] == ["publish:gitea", "publish:github", "catalog:register", "golden-path:publish:rollback"]
    if "golden-path:flux:register" in actions:
        # After the catalog: one registration per environment (the GitOps template has
        # three), the rollout wait where a template has one, then the rollback.
        after_catalog = actions[actions.index("catalog:register") + 1 : -1]
        assert actions[-1] == "golden-path:publish:rollback"
        assert after_catalog and set(after_catalog) <= set(deploy_after), after_catalog
        assert after_catalog == sorted(after_catalog, key=deploy_after.index), after_catalog
        assert actions.index("golden-path:local:build-images") < actions.index("publish:gitea")
    conditions = {step["action"]: step.get("if") for step in template["spec"]["steps"]}
    assert conditions["publish:gitea"] == "${{ (parameters.repoUrl | parseRepoUrl).host != 'github.com' }}"
    assert conditions["publish:github"] == "${{ (parameters.repoUrl | parseRepoUrl).host == 'github.com' }}"
    for step in template["spec"]["steps"]:
        if step["action"] == "golden-path:fetch:skeleton":
            for part in step["input"]["parts"]:
                assert (SKELETONS / part).is_dir(), f"{name}: unknown part {part}"
            values = step["input"]["values"]
            for key in (
                "name",
                "description",
                "owner",
                "namespace",
                "repoHost",
                "repoOwner",
                "repoName",
                "repoWebUrl",
                "imageRegistry",
                "services",
                "imageTag",
            ):
                assert key in values, f"{name}: step {step['id']} does not pass values.{key}"
            for service in values["services"]:
                assert service["path"] == "." or (SKELETONS / part).is_dir()


# The files a later part may replace in an earlier one: the documented extension points
# of _shared (fastapi-skeletons/README.md). Any other file both carry is an accident: the
# later one silently wins (a template's own tests/fake_kubectl.py once replaced the
# shared test helper of the same name, and the generated tests could not import it).
OVERRIDABLE = {
    "app/__init__.py",
    "app/features.py",
    "app/settings.py",
    "tests/conftest.py",
    "requirements.txt",
    "mkdocs.yml",
    "catalog-info.yaml",
}


def part_files(part: Path) -> set[str]:
    return {
        str(p.relative_to(part))
        for p in part.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def accidental_overrides(parts: dict[str, set[str]]) -> list[str]:
    """Files that two parts of one render both carry, outside OVERRIDABLE."""
    owner: dict[str, str] = {}
    problems = []
    for part, files in parts.items():
        for f in sorted(files):
            if f in owner and f not in OVERRIDABLE:
                problems.append(f"{part} replaces {owner[f]}/{f}")
            owner.setdefault(f, part)
    return problems


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_parts_replace_only_the_extension_points(name: str) -> None:
    for step in load_template(name)["spec"]["steps"]:
        if step["action"] == "golden-path:fetch:skeleton":
            parts = {part: part_files(SKELETONS / part) for part in step["input"]["parts"]}
            assert accidental_overrides(parts) == [], f"{name}, step {step['id']}"


def test_override_check_reports_a_file_two_parts_carry() -> None:
    parts = {
        "_shared/service": {"tests/fake_kubectl.py", "app/settings.py"},
        "postgres": {"tests/fake_kubectl.py", "app/settings.py"},
    }
    assert accidental_overrides(parts) == ["postgres replaces _shared/service/tests/fake_kubectl.py"]


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_examples_pass_and_invalid_examples_fail_the_form_schema(name: str) -> None:
    template = load_template(name)
    examples = sorted((TEMPLATES / name / "examples").glob("*.yaml"))
    invalid = sorted((TEMPLATES / name / "invalid-examples").glob("*.yaml"))
    assert any(p.name == "typical.yaml" for p in examples)
    assert invalid
    # Examples hold what a user types; the Create page adds the defaults.
    for path in examples:
        errors = validate(template, with_form_defaults(template, yaml.safe_load(path.read_text())))
        assert errors == [], f"{path.name}: {errors}"
    for path in invalid:
        values = with_form_defaults(template, yaml.safe_load(path.read_text()))
        assert validate(template, values) != [], f"{path.name} was accepted"


@pytest.mark.parametrize("name", ["fastapi-static-web", "fastapi-postgres"])
def test_defaulted_fields_are_required_from_api_callers(name: str) -> None:
    template = load_template(name)
    typical = yaml.safe_load((TEMPLATES / name / "examples" / "typical.yaml").read_text())
    defaulted = set(with_form_defaults(template, {})) - set(typical)
    assert defaulted
    errors = validate(template, typical)
    assert sorted(errors) == sorted(f"{field}: required" for field in defaulted)
