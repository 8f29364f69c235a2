#!/usr/bin/env python3
"""Checks on the docs sources and on a built TechDocs site, and the page/word report.

Diagrams are Graphviz sources in ```graphviz fences:

    ```graphviz dot <file-name>.svg
    digraph <diagram_id> { ... }
    ```

mkdocs-techdocs-core's `markdown_inline_graphviz` extension runs `dot` while the site is
built and inlines the SVG (no JavaScript, nothing fetched: it survives the TechDocs
sanitizer and needs no internet). The graph id becomes the SVG's <title>, which is how
the checks below find each diagram in the built HTML.

    python tools/techdocs/check_site.py --site DIR   # verify a built site, print the report
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_DIR = REPO_ROOT / "docs"
MKDOCS_YML = REPO_ROOT / "mkdocs.yml"

# diagram id -> page (docs-relative, without .md) that must show it
EXPECTED_DIAGRAMS = {
    "multi_tier_flow": "deployments/fastapi-multi-tier",
    "microservices_topology": "deployments/fastapi-microservices",
    "blue_green_switch": "deployments/fastapi-blue-green",
    "gitops_flow": "deployments/fastapi-gitops",
    "control_plane_ha": "theory/q09-architecture",
}
MIN_NODES = 4
MIN_EDGES = 3

GRAPHVIZ_FENCE_RE = re.compile(
    r"^```graphviz[ ]* (?P<command>\w+)\s+(?P<filename>\S+)\s*\n(?P<content>.*?)^```\s*$",
    re.MULTILINE | re.DOTALL)
GRAPH_ID_RE = re.compile(r"^\s*(?:strict\s+)?(?:di)?graph\s+(?P<id>[A-Za-z_][A-Za-z0-9_]*)\s*\{", re.MULTILINE)
SVG_RE = re.compile(r"<svg\b.*?</svg>", re.DOTALL)
SVG_TITLE_RE = re.compile(r'<g id="graph0" class="graph"[^>]*>\s*<title>(?P<title>[^<]+)</title>')
FENCED_BLOCK_RE = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.MULTILINE | re.DOTALL)
COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass
class DiagramSource:
    path: Path
    line: int
    diagram_id: str
    command: str
    source: str


@dataclass
class BuiltDiagram:
    page: str
    diagram_id: str
    nodes: int
    edges: int
    texts: int


# --------------------------------------------------------------------------- sources

def diagram_sources(docs_dir: Path = DOCS_DIR) -> list[DiagramSource]:
    found: list[DiagramSource] = []
    for md in sorted(docs_dir.rglob("*.md")):
        text = md.read_text(encoding="utf-8")
        for m in GRAPHVIZ_FENCE_RE.finditer(text):
            gid = GRAPH_ID_RE.search(m.group("content"))
            found.append(DiagramSource(
                path=md, line=text.count("\n", 0, m.start()) + 1,
                diagram_id=gid.group("id") if gid else "",
                command=m.group("command"), source=m.group("content")))
    return found


def render_dot(source: str, command: str = "dot") -> tuple[int, str, str]:
    exe = shutil.which(command)
    if exe is None:
        raise RuntimeError(f"Graphviz '{command}' is not on PATH; install it (apt-get install graphviz)")
    proc = subprocess.run([exe, "-Tsvg"], input=source, capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


@dataclass
class Graph:
    labels: dict[str, str]               # node name -> label, line breaks as spaces
    edges: list[tuple[str, str, str]]    # (tail, head, edge label)

    def node(self, prefix: str) -> str:
        """The one node whose label starts with prefix (case-insensitive)."""
        hits = [n for n, label in self.labels.items() if label.lower().startswith(prefix.lower())]
        if len(hits) != 1:
            raise KeyError(f"{len(hits)} nodes labelled {prefix!r}...: {hits}")
        return hits[0]

    def reachable(self, start: str, avoiding: frozenset[str] = frozenset()) -> set[str]:
        """The nodes a path from start reaches, without passing through `avoiding`."""
        seen, todo = {start}, [start]
        while todo:
            here = todo.pop()
            for tail, head, _ in self.edges:
                if tail == here and head not in seen and head not in avoiding:
                    seen.add(head)
                    todo.append(head)
        return seen - {start}


def diagram_graph(source: str, command: str = "dot") -> Graph:
    """Nodes and edges of a Graphviz source, as laid out by `dot -Tjson0`."""
    exe = shutil.which(command)
    if exe is None:
        raise RuntimeError(f"Graphviz '{command}' is not on PATH; install it (apt-get install graphviz)")
    proc = subprocess.run([exe, "-Tjson0"], input=source, capture_output=True, text=True, timeout=60, check=True)
    data = json.loads(proc.stdout)

    def text(label: str | None, name: str) -> str:
        label = name if label in (None, "\\N") else label
        return re.sub(r"\s+", " ", re.sub(r"\\[nlr]", " ", label)).strip()

    by_id = {o["_gvid"]: o["name"] for o in data.get("objects", [])}
    labels = {o["name"]: text(o.get("label"), o["name"]) for o in data.get("objects", [])
              if "nodes" not in o and "subgraphs" not in o}  # subgraphs list their members
    edges = [(by_id[e["tail"]], by_id[e["head"]], text(e.get("label") or "", ""))
             for e in data.get("edges", []) if e.get("style") != "invis"]
    return Graph(labels, edges)


def diagram_rule_problems(source: str, command: str = "dot") -> list[str]:
    """What a diagram draws that Kubernetes does not do.

    netpol-on-service: NetworkPolicies select Pods. A NetworkPolicy node connected to a
    Service node says the policy guards the Service; connect it to the Pods it selects.
    """
    g = diagram_graph(source, command)
    problems = []
    for tail, head, _ in g.edges:
        pair = (g.labels.get(tail, ""), g.labels.get(head, ""))
        for policy, other in (pair, pair[::-1]):
            if policy.startswith("NetworkPolic") and other.startswith("Service"):
                problems.append(f"the NetworkPolicy note is attached to {other!r}: policies select Pods, "
                                "not Services; attach it to the Pods it selects")
    return problems


def check_sources(docs_dir: Path = DOCS_DIR) -> list[str]:
    errors: list[str] = []
    sources = diagram_sources(docs_dir)
    ids = [s.diagram_id for s in sources]
    for s in sources:
        where = f"{s.path.relative_to(docs_dir.parent) if s.path.is_relative_to(docs_dir.parent) else s.path}:{s.line}"
        if not s.diagram_id:
            errors.append(f"{where}: graphviz fence without a named graph (write `digraph my_id {{`)")
            continue
        if ids.count(s.diagram_id) > 1:
            errors.append(f"{where}: diagram id {s.diagram_id!r} is used more than once")
        rc, out, err = render_dot(s.source, s.command)
        if rc != 0 or "<svg" not in out:
            errors.append(f"{where}: `{s.command}` failed for {s.diagram_id}: {err.strip()}")
        elif err.strip():
            errors.append(f"{where}: `{s.command}` warned for {s.diagram_id}: {err.strip()}")
        else:
            errors.extend(f"{where}: {s.diagram_id}: {p}" for p in diagram_rule_problems(s.source, s.command))
    for gid, page in EXPECTED_DIAGRAMS.items():
        if gid not in ids:
            errors.append(f"docs/{page}.md: expected diagram {gid!r} has no ```graphviz source")
    return errors


# --------------------------------------------------------------------------- built site

def _page_name(site_dir: Path, html_file: Path) -> str:
    rel = html_file.relative_to(site_dir).as_posix()
    return rel.removesuffix("index.html").rstrip("/") or "index"


def built_diagrams(site_dir: Path) -> list[BuiltDiagram]:
    out: list[BuiltDiagram] = []
    for page in sorted(site_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        for svg in SVG_RE.findall(text):
            m = SVG_TITLE_RE.search(svg)
            if not m:
                continue  # icons of the theme
            out.append(BuiltDiagram(
                page=_page_name(site_dir, page), diagram_id=html.unescape(m.group("title")),
                nodes=svg.count('class="node"'), edges=svg.count('class="edge"'), texts=svg.count("<text")))
    return out


def nav_pages(mkdocs_yml: Path = MKDOCS_YML) -> list[str]:
    class _Loader(yaml.SafeLoader):
        pass
    _Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    config = yaml.load(mkdocs_yml.read_text(encoding="utf-8"), Loader=_Loader)
    pages: list[str] = []

    def walk(item):
        if isinstance(item, str):
            if item.endswith(".md"):
                pages.append(item)
        elif isinstance(item, dict):
            for v in item.values():
                walk(v)
        elif isinstance(item, list):
            for v in item:
                walk(v)
    walk(config.get("nav", []))
    return pages


def check_site(site_dir: Path, docs_dir: Path = DOCS_DIR, mkdocs_yml: Path = MKDOCS_YML) -> list[str]:
    errors: list[str] = []
    if not (site_dir / "techdocs_metadata.json").is_file():
        errors.append(f"{site_dir}: techdocs_metadata.json missing (was the site built with techdocs-core?)")
    else:
        meta = json.loads((site_dir / "techdocs_metadata.json").read_text())
        if not meta.get("site_name"):
            errors.append("techdocs_metadata.json has no site_name")
    for md in nav_pages(mkdocs_yml):
        stem = md.removesuffix(".md")
        target = site_dir / ("index.html" if stem == "index" else f"{stem.removesuffix('/index')}/index.html")
        if not target.is_file():
            errors.append(f"nav page {md} was not built ({target} missing)")
    for page in sorted(site_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        if "<pre>Error :" in text:
            errors.append(f"{_page_name(site_dir, page)}: a diagram failed to render (markdown_inline_graphviz "
                          "printed an error; is Graphviz `dot` on the generator's PATH?)")
    diagrams = built_diagrams(site_dir)
    for gid, page in EXPECTED_DIAGRAMS.items():
        hits = [d for d in diagrams if d.diagram_id == gid]
        if not hits:
            errors.append(f"diagram {gid!r} produced no SVG in the built site (expected on {page})")
            continue
        if len(hits) > 1:
            errors.append(f"diagram {gid!r} appears {len(hits)} times: {[d.page for d in hits]}")
        d = hits[0]
        if d.page != page:
            errors.append(f"diagram {gid!r} is on {d.page}, expected {page}")
        if d.nodes < MIN_NODES or d.edges < MIN_EDGES or d.texts < d.nodes:
            errors.append(f"diagram {gid!r} looks empty: {d.nodes} nodes, {d.edges} edges, {d.texts} labels")
    return errors


# --------------------------------------------------------------------------- report

def prose_words(markdown: str) -> int:
    text = FENCED_BLOCK_RE.sub(" ", markdown)
    text = COMMENT_RE.sub(" ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)          # link targets are not words
    text = re.sub(r"<[^>]+>", " ", text)
    return len([w for w in re.split(r"\s+", text) if re.search(r"[A-Za-z0-9]", w)])


def page_report(docs_dir: Path = DOCS_DIR) -> list[tuple[str, int, int, int]]:
    """(page, prose words, yaml blocks, diagrams) for every markdown page."""
    import snippets  # same folder

    per_page_snips: dict[Path, int] = {}
    for s in snippets.extract(docs_dir):
        per_page_snips[s.path] = per_page_snips.get(s.path, 0) + 1
    per_page_diags: dict[Path, int] = {}
    for d in diagram_sources(docs_dir):
        per_page_diags[d.path] = per_page_diags.get(d.path, 0) + 1
    rows = []
    for md in sorted(docs_dir.rglob("*.md")):
        rows.append((md.relative_to(docs_dir).as_posix(), prose_words(md.read_text(encoding="utf-8")),
                     per_page_snips.get(md, 0), per_page_diags.get(md, 0)))
    return rows


def print_report(docs_dir: Path = DOCS_DIR) -> None:
    rows = page_report(docs_dir)
    width = max(len(r[0]) for r in rows)
    print(f"{'page'.ljust(width)}  words  yaml  diagrams")
    for page, words, snips, diags in rows:
        print(f"{page.ljust(width)}  {words:5d}  {snips:4d}  {diags:8d}")
    print(f"{'TOTAL'.ljust(width)}  {sum(r[1] for r in rows):5d}  {sum(r[2] for r in rows):4d}  "
          f"{sum(r[3] for r in rows):8d}   ({len(rows)} pages)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the docs sources and a built TechDocs site.")
    parser.add_argument("--site", type=Path, help="built site directory to verify")
    parser.add_argument("--report", action="store_true", help="print per-page word/snippet/diagram counts")
    args = parser.parse_args(argv)
    errors = check_sources()
    if args.site:
        errors += check_site(args.site)
        for d in built_diagrams(args.site):
            print(f"diagram {d.diagram_id:24s} on {d.page:40s} {d.nodes:3d} nodes {d.edges:3d} edges")
    if args.report:
        print_report()
    for e in errors:
        print(f"check_site: FAIL {e}", file=sys.stderr)
    print(f"check_site: {'FAILED' if errors else 'ok'} ({len(errors)} problems)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
