"""Content rules of the portal docs that a build cannot check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import check_site as cs

DOCS = cs.DOCS_DIR
TEMPLATES = cs.REPO_ROOT / "templates"

THEORY = sorted((DOCS / "theory").glob("q[0-9][0-9]-*.md"))
EXPECTED_TEMPLATES = {
    "fastapi-static-web", "fastapi-postgres", "fastapi-multi-tier", "fastapi-health-monitoring",
    "fastapi-resource-quota", "fastapi-blue-green", "fastapi-microservices", "fastapi-gitops",
}
STATUS_RE = re.compile(r"^\*\*Template status:\*\* (?P<status>available|planned)\b", re.MULTILINE)


def template_status(page: Path) -> str:
    m = STATUS_RE.search(page.read_text(encoding="utf-8"))
    if not m:
        raise AssertionError(f"{page.name}: missing the line '**Template status:** available|planned'")
    return m.group("status")


def status_problems(docs: Path, templates: Path) -> list[str]:
    problems = []
    for page in sorted((docs / "deployments").glob("fastapi-*.md")):
        name = page.stem
        exists = (templates / name / "template.yaml").is_file()
        status = template_status(page)
        if exists and status != "available":
            problems.append(f"docs/deployments/{page.name}: templates/{name}/template.yaml exists now; "
                            "change '**Template status:** planned' to 'available' and check the guide against the template")
        if not exists and status == "available":
            problems.append(f"docs/deployments/{page.name}: says 'available' but templates/{name}/template.yaml "
                            "does not exist; write 'planned'")
        if f"](/create/templates/default/{name})" not in page.read_text(encoding="utf-8"):
            problems.append(f"docs/deployments/{page.name}: no link to /create/templates/default/{name}")
    return problems


NUMBER_WORDS = {w: n for n, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
# "<number> templates", with up to two words between: "eight golden-path templates".
TEMPLATE_COUNT_RE = re.compile(
    r"\b(?P<n>" + "|".join(NUMBER_WORDS) + r"|\d+)\s+(?:[\w*-]+\s+){0,2}?\**templates\b", re.IGNORECASE)


def template_count_problems(docs: Path, templates: Path) -> list[str]:
    """A page that counts the templates must give the number that exists in templates/."""
    count = len(list(templates.glob("*/template.yaml")))
    problems = []
    for page in sorted(docs.rglob("*.md")):
        prose = cs.FENCED_BLOCK_RE.sub(" ", page.read_text(encoding="utf-8"))
        for m in TEMPLATE_COUNT_RE.finditer(prose):
            n = m.group("n").lower()
            said = int(n) if n.isdigit() else NUMBER_WORDS[n]
            if said != count:
                problems.append(f"docs/{page.relative_to(docs).as_posix()}: says {m.group(0)!r}, but "
                                f"templates/ holds {count} templates")
    return problems


def test_pages_count_the_templates_that_exist():
    assert template_count_problems(DOCS, TEMPLATES) == []


def test_template_count_check_catches_a_wrong_number(tmp_path):
    docs, templates = tmp_path / "docs", tmp_path / "templates"
    docs.mkdir()
    for name in ("fastapi-a", "fastapi-b"):
        (templates / name).mkdir(parents=True)
        (templates / name / "template.yaml").write_text("kind: Template\n")
    page = docs / "portal.md"
    page.write_text("| **Software Templates** | the eight golden-path templates in `templates/` |\n")
    assert any("says 'eight golden-path templates'" in p for p in template_count_problems(docs, templates))
    page.write_text("The 3 **Software Templates** on the Create page.\n")
    assert template_count_problems(docs, templates) != []
    page.write_text("The two golden-path templates in `templates/`; three more are planned.\n")
    assert template_count_problems(docs, templates) == []


def test_ten_theory_pages_in_order():
    assert [p.name[:3] for p in THEORY] == [f"q{n:02d}" for n in range(1, 11)]


@pytest.mark.parametrize("page", THEORY, ids=[p.stem for p in THEORY])
def test_theory_page_quotes_its_question_and_links_kubernetes_io(page):
    text = page.read_text(encoding="utf-8")
    assert re.search(r"^> \*\*Question\.\*\*", text, re.MULTILINE), "quote the question first"
    assert "https://kubernetes.io/docs/" in text, "link the relevant kubernetes.io page"
    assert cs.prose_words(text) >= 500, "too short to answer every part of the question"


def test_one_guide_per_template():
    assert {p.stem for p in (DOCS / "deployments").glob("fastapi-*.md")} == EXPECTED_TEMPLATES


def test_template_status_matches_the_repository():
    assert status_problems(DOCS, TEMPLATES) == []


def test_status_check_catches_a_stale_page(tmp_path):
    docs, templates = tmp_path / "docs", tmp_path / "templates"
    (docs / "deployments").mkdir(parents=True)
    (templates / "fastapi-demo").mkdir(parents=True)
    (templates / "fastapi-demo" / "template.yaml").write_text("kind: Template\n")
    page = docs / "deployments" / "fastapi-demo.md"
    page.write_text("# x\n\n**Template status:** planned · [Create](/create/templates/default/fastapi-demo)\n")
    assert any("change '**Template status:** planned'" in p for p in status_problems(docs, templates))
    page.write_text("# x\n\n**Template status:** available · [Create](/create/templates/default/fastapi-demo)\n")
    assert status_problems(docs, templates) == []
    (templates / "fastapi-demo" / "template.yaml").unlink()
    assert any("does not exist" in p for p in status_problems(docs, templates))


def test_every_page_is_in_the_nav():
    in_nav = set(cs.nav_pages())
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert on_disk - in_nav == set(), "add these pages to the nav in mkdocs.yml"
    assert in_nav - on_disk == set(), "the nav names pages that do not exist"


def test_mkdocs_yml_uses_only_keys_techdocs_keeps():
    # The portal's generator drops every other key (and rewrites the file in place).
    allowed = {"site_name", "site_url", "site_description", "site_author", "repo_url", "repo_name",
               "edit_uri", "edit_uri_template", "docs_dir", "site_dir", "nav", "exclude_docs",
               "not_in_nav", "theme", "plugins", "markdown_extensions", "extra", "extra_css",
               "use_directory_urls", "strict", "dev_addr", "watch", "copyright", "remote_branch",
               "remote_name", "validation"}
    import yaml
    config = yaml.safe_load(cs.MKDOCS_YML.read_text(encoding="utf-8"))
    assert set(config) <= allowed
    assert config["plugins"] == ["techdocs-core"]
    assert config["site_name"] == "Golden Path Portal"
