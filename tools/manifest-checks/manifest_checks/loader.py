"""Strict YAML loading: multi-document files, duplicate keys are errors."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml

YAML_SUFFIXES = (".yaml", ".yml")
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SKIP_DIRS = {".git", "node_modules", ".tools", "__pycache__", ".venv", "venv"}


class DuplicateKeyError(yaml.YAMLError):
    pass


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys.

    kubectl (sigs.k8s.io/yaml in strict mode) rejects them too; PyYAML would
    silently keep the last one and hide the mistake.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                continue  # let the base class raise its usual error
            if key in seen:
                raise DuplicateKeyError(
                    f"duplicate key {key!r} at line {key_node.start_mark.line + 1} "
                    f"(first at line {seen[key].line + 1})"
                )
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _construct_value(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    # A bare "=" is YAML 1.1's value tag; Kubernetes means the string "=".
    return str(node.value)


StrictLoader.add_constructor("tag:yaml.org,2002:value", _construct_value)


@dataclass
class Document:
    """One YAML document of a file (``data`` is None when it failed to parse)."""

    file: str
    index: int
    line: int
    data: Any
    error: str = ""


def load_documents(text: str, file: str) -> list[Document]:
    """Parse every document of ``text``; empty documents are dropped.

    A parse error ends the file: one Document with ``error`` set is returned
    for it (documents before the error are kept).
    """
    docs: list[Document] = []
    loader = StrictLoader(text)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            line = node.start_mark.line + 1 if node is not None else 1
            data = loader.construct_document(node) if node is not None else None
            if data is not None:
                docs.append(Document(file=file, index=index, line=line, data=data))
            index += 1
    except yaml.YAMLError as exc:
        docs.append(Document(file=file, index=index, line=_error_line(exc), data=None, error=_one_line(exc)))
    finally:
        loader.dispose()
    return docs


def load_file(path: str | os.PathLike[str]) -> list[Document]:
    p = Path(path)
    return load_documents(p.read_text(encoding="utf-8"), str(p))


def is_kustomization_file(path: str | os.PathLike[str]) -> bool:
    return Path(path).name in KUSTOMIZATION_NAMES


def is_kustomization_doc(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and str(data.get("apiVersion", "")).startswith("kustomize.config.k8s.io/")
    )


def find_yaml_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[str]]:
    """Expand files and directories (searched recursively) into YAML files.

    Returns (files, missing) where ``missing`` lists arguments that do not exist.
    """
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            for root, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
                for fn in sorted(filenames):
                    if fn.endswith(YAML_SUFFIXES) or fn == "Kustomization":
                        files.append(Path(root) / fn)
        else:
            missing.append(str(raw))
    # keep order, drop duplicates
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, missing


def _error_line(exc: yaml.YAMLError) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else 1


def _one_line(exc: yaml.YAMLError) -> str:
    return " ".join(str(exc).split())
