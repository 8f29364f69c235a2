#!/usr/bin/env bash
# ShellCheck (warnings and errors) on shell scripts; make test's lint stage runs it on the
# repository's own scripts, and the template-checks stage on every generated repository's.
#   scripts/shellcheck.sh              the repository's scripts (git ls-files '*.sh'), except
#                                      fastapi-skeletons/: those hold template syntax until
#                                      rendered, so they are checked in the generated repos
#   scripts/shellcheck.sh ROOT...      the *.sh files under each ROOT, a repository's root
# ShellCheck runs from each root, so `# shellcheck source=` paths (written from the
# repository's root) resolve: without them, a variable that only a sourced file reads
# looks unused. Prints each finding as file:line:column (of one copy when several files
# are identical) and exits 1 when there is one.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

command -v shellcheck >/dev/null 2>&1 ||
  { echo "shellcheck is not installed: apt-get install shellcheck (make test's setup stage does)" >&2; exit 2; }

declare -A seen=()
total=0 distinct=0 failed=0
# check_root ROOT LABEL FILE...: the files (relative to ROOT) not seen before, from ROOT.
check_root() {
  local root="$1" label="$2" unique=() sum path
  shift 2
  while read -r sum path; do
    [ -z "${seen[$sum]:-}" ] || continue
    seen[$sum]=1
    unique+=("$path")
  done < <(cd "$root" && sha256sum -- "$@")
  total=$((total + $#)) distinct=$((distinct + ${#unique[@]}))
  [ ${#unique[@]} -gt 0 ] || return 0
  # --external-sources follows `source`d files; --severity=warning leaves out style and
  # info notes. Two at a time: up to about 0.5 s of CPU per script.
  (cd "$root" && printf '%s\0' "${unique[@]}" |
    xargs -0 -P 2 -n 1 shellcheck --external-sources --severity=warning --format=gcc) |
    sed "s|^|$label|" || failed=1
}

if [ $# -eq 0 ]; then
  mapfile -t files < <(cd "$REPO_ROOT" && git ls-files -- '*.sh' ':!fastapi-skeletons/**')
  check_root "$REPO_ROOT" "" "${files[@]}"
else
  for root in "$@"; do
    [ -d "$root" ] || { echo "shellcheck: $root is not a folder (give repository roots)" >&2; exit 2; }
    mapfile -t files < <(cd "$root" && find . -name '*.sh' -not -path '*/node_modules/*' -not -path '*/.venv/*' | sed 's|^\./||' | sort)
    [ ${#files[@]} -gt 0 ] || { echo "shellcheck: no shell scripts in $root" >&2; exit 2; }
    check_root "$root" "${root%/}/" "${files[@]}"
  done
fi
if [ "$failed" = 1 ]; then
  echo "shellcheck: fix the findings above (https://www.shellcheck.net/wiki/SC<code> explains each), or disable one on its line with a '# shellcheck disable=SC<code>  # why' comment" >&2
  exit 1
fi
echo "shellcheck: $total scripts ($distinct distinct), no warnings"
