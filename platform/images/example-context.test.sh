#!/usr/bin/env bash
# example-context.sh: both service parts give a build context with no template syntax
# left (the shared Dockerfile's {%- if values.slotVersions %} block dropped, the rest of
# the Dockerfile kept), and bad input is refused.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for part in static-web postgres; do
  out="$(bash "${here}/example-context.sh" "${part}" "${work}/${part}")" || fail "${part}: example-context.sh failed"
  [[ "${out}" == "${work}/${part}" ]] || fail "${part}: printed '${out}', not the target"
  # shellcheck disable=SC2016 # literal template syntax
  ! grep -rn -e '{%' -e '\${{' "${out}" || fail "${part}: template syntax left (above)"
  grep -q '^ARG APP_VERSION' "${out}/Dockerfile" && fail "${part}: the slotVersions block was kept"
  grep -q '^USER 10001:10001$' "${out}/Dockerfile" || fail "${part}: lines after the conditional block are missing"
  grep -q '^CMD \["python", "-m", "app"\]$' "${out}/Dockerfile" || fail "${part}: the Dockerfile's end is missing"
  [[ -f "${out}/app/__init__.py" || -f "${out}/app/main.py" ]] || fail "${part}: no app/ copied"
done

msg="$(bash "${here}/example-context.sh" no-such-part "${work}/x" 2>&1)" && fail "an unknown part was accepted"
[[ "${msg}" == *"no service part 'no-such-part'"* ]] || fail "unclear error for an unknown part: ${msg}"
msg="$(bash "${here}/example-context.sh" 2>&1)" && fail "no arguments were accepted"
[[ "${msg}" == *usage:* ]] || fail "no usage line without arguments: ${msg}"
echo "example-context.sh: static-web and postgres contexts without template syntax, bad input refused"
