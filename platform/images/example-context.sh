#!/usr/bin/env bash
# Assemble the Docker build context of a generated FastAPI repository from the skeleton
# parts, the way the scaffolder renders them (fastapi-skeletons/README.md): the shared
# service part first, then the template's own part replacing files of it. Only what the
# Dockerfile reads is copied (Dockerfile, .dockerignore, requirements.txt, app/); the
# template expressions in those files are ${{ <value> | dump }}, rendered as the JSON
# string "example-<part>", and {%- if values.X %} blocks, rendered as false.
#
# usage: platform/images/example-context.sh static-web|postgres <empty target dir>
set -euo pipefail
# shellcheck source=platform/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

part="${1:-}" out="${2:-}"
[[ -n "${part}" && -n "${out}" ]] || die "usage: $0 static-web|postgres <target dir>"
skel="${REPO_ROOT}/fastapi-skeletons"
[[ -d "${skel}/${part}/app" ]] || die "no service part '${part}' with an app/ in ${skel}"
mkdir -p "${out}"
cp "${skel}/_shared/service/Dockerfile" "${skel}/_shared/service/.dockerignore" "${skel}/_shared/service/requirements.txt" "${out}/"
cp -R "${skel}/_shared/service/app" "${out}/app"
cp -R "${skel}/${part}/app/." "${out}/app/"
[[ -f "${skel}/${part}/requirements.txt" ]] && cp "${skel}/${part}/requirements.txt" "${out}/requirements.txt"
find "${out}/app" -name '__pycache__' -prune -exec rm -rf {} +
# Conditional blocks ({%- if values.X %} ... {%- endif %}, not nested) are for values
# this example leaves unset (e.g. slotVersions, the blue-green template's): rendered as
# false, i.e. dropped.
grep -rlF '{%- if values.' "${out}" | while read -r f; do
  sed -i -E '/^\{%-? if values\.[A-Za-z]+ -?%\}$/,/^\{%-? endif -?%\}$/d' "${f}"
done
# shellcheck disable=SC2016 # literal template syntax
grep -rlF '${{' "${out}" | while read -r f; do
  sed -i -E 's/\$\{\{[^}]*\| *dump *\}\}/"example-'"${part}"'"/g' "${f}"
done
# shellcheck disable=SC2016
if grep -rn -e '\${{' -e '{%' "${out}"; then
  die "template expressions left in ${out} (above): extend $0 to render them"
fi
printf '%s\n' "${out}"
