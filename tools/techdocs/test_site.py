"""The docs build like TechDocs builds them, and the five diagrams are pictures in the site.

The built site comes from TECHDOCS_SITE_DIR (run-tests.sh builds it once with
`mkdocs build --strict`); without it this module builds its own copy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import check_site as cs

pytestmark = pytest.mark.skipif(shutil.which("dot") is None,
                                reason="Graphviz `dot` missing: apt-get install graphviz")


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    given = os.environ.get("TECHDOCS_SITE_DIR")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("site")
    mkdocs = Path(sys.executable).with_name("mkdocs")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    subprocess.run([str(mkdocs), "build", "--strict", "-f", str(cs.MKDOCS_YML), "-d", str(out)],
                   check=True, cwd=cs.REPO_ROOT, env=env, capture_output=True)
    return out


def test_diagram_sources_render_without_warnings():
    assert cs.check_sources() == []
    assert {s.diagram_id for s in cs.diagram_sources()} >= set(cs.EXPECTED_DIAGRAMS)


def test_built_site_has_every_page_and_diagram(site, capsys):
    errors = cs.check_site(site)
    diagrams = cs.built_diagrams(site)
    with capsys.disabled():
        print(f"\n[site] {len(diagrams)} diagrams rendered to inline SVG: "
              + ", ".join(f"{d.diagram_id}@{d.page}({d.nodes}n/{d.edges}e)" for d in diagrams))
    assert errors == []
    assert {d.diagram_id for d in diagrams} >= set(cs.EXPECTED_DIAGRAMS)


def test_diagram_svgs_survive_the_techdocs_sanitizer(site):
    """TechDocs runs DOMPurify with FORBID_TAGS=[style] and drops scripts: the SVGs must
    carry their look in attributes and need no script, style element or foreignObject."""
    seen = 0
    for page in site.rglob("*.html"):
        for svg in cs.SVG_RE.findall(page.read_text(encoding="utf-8")):
            if not cs.SVG_TITLE_RE.search(svg):
                continue
            seen += 1
            for forbidden in ("<script", "<style", "<foreignObject", "href=\"http"):
                assert forbidden not in svg, f"{page}: diagram contains {forbidden}"
    assert seen >= len(cs.EXPECTED_DIAGRAMS)


def test_no_page_loads_remote_scripts(site):
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=\"https?://", text), f"{page} loads a remote script"


# ----------------------------------------------------------------- the checks can fail

def _fake_site(tmp_path: Path, body: str, page: str = "deployments/fastapi-multi-tier") -> Path:
    site = tmp_path / "site"
    (site / page).mkdir(parents=True)
    (site / page / "index.html").write_text(f"<html><body>{body}</body></html>")
    (site / "techdocs_metadata.json").write_text('{"site_name": "x"}')
    return site


def _svg(gid: str, nodes: int = 5, edges: int = 4) -> str:
    parts = [f'<svg viewBox="0 0 1 1"><g id="graph0" class="graph"><title>{gid}</title>']
    parts += ['<g class="node"><text>n</text></g>'] * nodes + ['<g class="edge"></g>'] * edges
    return "".join(parts) + "</g></svg>"


def test_missing_diagram_is_reported(tmp_path):
    errors = cs.check_site(_fake_site(tmp_path, _svg("multi_tier_flow")))
    assert any("'gitops_flow' produced no SVG" in e for e in errors)
    assert not any("'multi_tier_flow' produced no SVG" in e for e in errors)


def test_empty_or_misplaced_diagram_is_reported(tmp_path):
    errors = cs.check_site(_fake_site(tmp_path, _svg("multi_tier_flow", nodes=1, edges=0)))
    assert any("'multi_tier_flow' looks empty" in e for e in errors)
    errors = cs.check_site(_fake_site(tmp_path / "b", _svg("control_plane_ha"), page="index"))
    assert any("'control_plane_ha' is on index" in e for e in errors)


def test_render_error_text_is_reported(tmp_path):
    errors = cs.check_site(_fake_site(tmp_path, "<pre>Error : [Errno 2] No such file: 'dot'</pre>"))
    assert any("failed to render" in e for e in errors)


def test_bad_dot_source_is_reported(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "page.md").write_text("# x\n\n```graphviz dot x.svg\ndigraph broken_one {\n  a -> \n```\n")
    errors = cs.check_sources(docs)
    assert any("`dot` failed for broken_one" in e for e in errors)
    assert any("expected diagram 'gitops_flow' has no" in e for e in errors)


def test_prose_word_count_ignores_code_and_comments():
    md = "# Title here\n\nOne two [three](https://x.example/a-b-c).\n\n```yaml\na: b c d e\n```\n<!-- x y z -->\n"
    assert cs.prose_words(md) == 5  # Title here One two [three]. (no "#", code or comment)


# ----------------------------------------------------------------- what the diagrams claim

def _diagram(gid: str) -> cs.Graph:
    [source] = [d for d in cs.diagram_sources() if d.diagram_id == gid]
    return cs.diagram_graph(source.source, source.command)


def test_network_policy_attached_to_a_service_is_reported():
    bad = ('digraph np { svc [label="Service backend"]; pod [label="backend Pod"]; '
           'np [label="NetworkPolicy\\nfrom frontend", shape=note]; svc -> pod; np -> svc [arrowhead=none]; }')
    assert any("policies select Pods" in p for p in cs.diagram_rule_problems(bad))
    assert cs.diagram_rule_problems(bad.replace("np -> svc", "np -> pod")) == []


def _moves_gated(g: cs.Graph) -> list[str]:
    """The moves between environments that a push reaches only through their validation.
    A health check's "gates the merge" edge is a second gate on the same move, not a way
    around the first: it is left out of the paths."""
    g = cs.Graph(g.labels, [e for e in g.edges if e[2] != "gates the merge"])
    push = g.node("Developer")
    moves = {"dev": "overlays/dev", "staging": "PR: promote digest to staging",
             "prod": "PR: promote digest to prod"}
    return [env for env, move in moves.items()
            if g.node(move) in g.reachable(push)
            and g.node(move) not in g.reachable(push, avoiding=frozenset({g.node(f"validate {env}")}))]


def test_gitops_validation_gates_promotion_to_staging_and_prod():
    assert _moves_gated(_diagram("gitops_flow")) == ["dev", "staging", "prod"]


def test_gate_check_fails_when_a_promotion_bypasses_validation():
    source = [d for d in cs.diagram_sources() if d.diagram_id == "gitops_flow"][0]
    # A direct edge from the dev commit to the prod pull request, past "validate prod".
    bypass = source.source.replace("  odev -> flux", "  odev -> prp;\n  odev -> flux", 1)
    assert bypass != source.source
    assert _moves_gated(cs.diagram_graph(bypass, source.command)) == ["dev", "staging"]


def test_gate_check_fails_when_validation_is_a_dead_end():
    dead_end = ('digraph g { dev [label="deploy/overlays/dev"]; stg [label="deploy/overlays/staging"]; '
                'ns [label="namespace dev"]; val [label="validation", shape=note]; '
                'dev -> ns; ns -> val; dev -> stg [label="promotion PR"]; }')
    g = cs.diagram_graph(dead_end)
    assert g.reachable(g.node("validation")) == set()


def test_microservices_diagram_claims_no_tls_that_does_not_exist():
    # The template serves plain HTTP on every hop (no certificate, no mesh).
    g = _diagram("microservices_topology")
    assert not [label for _, _, label in g.edges if "HTTPS" in label.upper()]
