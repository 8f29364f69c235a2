"""Prints mutmut's results the way scripts/mutation.sh shows every tool's result: one
score line, then one line per surviving mutant (file:line, mutant, replacement).

Run from tools/manifest-checks after `mutmut run` (reads mutants/, calls `mutmut show`).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

MUTMUT = [sys.executable, "-m", "mutmut"]


def _stats() -> dict[str, int]:
    subprocess.run([*MUTMUT, "export-cicd-stats"], check=True, capture_output=True)
    return json.loads(Path("mutants/mutmut-cicd-stats.json").read_text())


def _survivors() -> list[str]:
    out = subprocess.run([*MUTMUT, "results"], check=True, capture_output=True, text=True).stdout
    return [line.split(":")[0].strip() for line in out.splitlines() if line.strip().endswith(": survived")]


def _function_lines(source: str, qualname: str) -> range:
    """Line range of a function (`name`) or method (`Class.name`), decorators included."""
    *owner, name = qualname.split(".")
    for node in ast.walk(ast.parse(source)):
        if owner and isinstance(node, ast.ClassDef) and node.name == owner[0]:
            node = next((n for n in node.body if getattr(n, "name", None) == name), None)
            if node is not None:
                break
        elif not owner and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            break
    else:
        return range(1, len(source.splitlines()) + 1)
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return range(first, node.end_lineno + 1)


def _describe(key: str) -> tuple[str, int, str]:
    """(file, line, replacement) of one mutant, from the diff `mutmut show` prints."""
    # manifest_checks.policy.x_image_problem__mutmut_16 / ...xǁInventoryǁof__mutmut_4
    module, _, mangled = key.rpartition(".")
    qualname = re.sub(r"__mutmut_\d+$", "", mangled)[2:].strip("ǁ").replace("ǁ", ".")
    file = module.replace(".", "/") + ".py"
    diff = subprocess.run([*MUTMUT, "show", key], check=True, capture_output=True, text=True).stdout
    removed = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    lines = Path(file).read_text().splitlines()
    span = _function_lines("\n".join(lines), qualname)
    line = next((n for n in span if removed and lines[n - 1].strip() == removed[0].strip()), span.start)
    replacement = " ".join(part.strip() for part in added) or "(line removed)"
    return file, line, replacement


def main() -> None:
    label = sys.argv[1] if len(sys.argv) > 1 else "manifest-checks"
    stats = _stats()
    killed = stats["killed"] + stats["timeout"]
    alive = stats["survived"] + stats["no_tests"] + stats["suspicious"]
    valid = killed + alive
    score = 100.0 if valid == 0 else 100 * killed / valid
    print(f"score {score:.2f} {label}: killed {killed} of {valid}, survived {stats['survived']}, "
          f"no coverage {stats['no_tests']}, type errors 0")
    for key in _survivors():
        file, line, replacement = _describe(key)
        print(f"  {file}:{line}  {key.rpartition('.')[2]}  {replacement[:100]}")


if __name__ == "__main__":
    main()
