#!/usr/bin/env bash
# ShellCheck (warnings and errors) on shell scripts; make test's lint stage runs it on the
# repository's own scripts, and the templates stage on every generated repository's.
#   scripts/shellcheck.sh              the repository's scripts (git ls-files '*.sh'), except
#                                      fastapi-skeletons/: those hold template syntax until
#                                      rendered, so they are checked in the generated repos
#   scripts/shellcheck.sh PATH...      the given scripts, and the *.sh files under given folders
# Prints each finding as file:line:column (of one copy when several files are identical)
# and exits 1 when there is one.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

command -v shellcheck >/dev/null 2>&1 ||
  { echo "shellcheck is not installed: apt-get install shellcheck (make test's setup stage does)" >&2; exit 2; }

files=()
if [ $# -eq 0 ]; then
  cd "$REPO_ROOT"
  mapfile -t files < <(git ls-files -- '*.sh' ':!fastapi-skeletons/**')
else
  for path in "$@"; do
    if [ -d "$path" ]; then
      mapfile -t -O "${#files[@]}" files < <(find "$path" -name '*.sh' -not -path '*/node_modules/*' -not -path '*/.venv/*' | sort)
    else
      files+=("$path")
    fi
  done
fi
[ ${#files[@]} -gt 0 ] || { echo "shellcheck: no shell scripts in $*" >&2; exit 2; }

# One file per distinct content: the generated repositories repeat the same scripts.
declare -A seen=()
unique=()
while read -r sum path; do
  [ -z "${seen[$sum]:-}" ] || continue
  seen[$sum]=1
  unique+=("$path")
done < <(sha256sum -- "${files[@]}")

# --external-sources follows `source`d files; --severity=warning leaves out style and
# info notes. Two at a time: about 0.4 s of CPU per script.
if ! printf '%s\0' "${unique[@]}" |
  xargs -0 -P 2 -n 8 shellcheck --external-sources --severity=warning --format=gcc; then
  echo "shellcheck: fix the findings above (https://www.shellcheck.net/wiki/SC<code> explains each), or disable one on its line with a '# shellcheck disable=SC<code>  # why' comment" >&2
  exit 1
fi
echo "shellcheck: ${#files[@]} scripts (${#unique[@]} distinct), no warnings"
