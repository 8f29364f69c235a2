#!/usr/bin/env bash
# `make mutation`: mutation testing of the logic that guards traffic and manifests.
# StrykerJS plants one-line bugs (mutants) in plugins/rollouts-common and in the pure
# modules of rollouts-backend and the scaffolder module; mutmut does the same in the
# manifest policy rules (tools/manifest-checks). A mutant no test fails on is a bug the
# tests would let through. Prints each package's mutation score and those mutants
# (file:line, mutator, replacement), and fails when a package is below its threshold.
# Mutants that cannot be killed because they do not change behaviour are listed with the
# reason in plugins/rollouts-common/MUTATION.md and tools/manifest-checks/MUTATION.md.
#
#   MUTATION_SAMPLE=1   what `make test` runs (its `mutation` stage): only the
#                       guard-critical files (blue-green readiness, label selectors,
#                       probe findings, manifest policy rules), without the TypeScript
#                       checker, to fit the CI budget
#   MUTATION_PACKAGES   the packages to run (default: all, in the order below)
#   MUTATION_CONCURRENCY  test runners per tool (default 1: the machines have 2 cores)
set -uo pipefail
source "$(dirname "$0")/lib/toolchain.sh"

SAMPLE="${MUTATION_SAMPLE:-0}"
CONCURRENCY="${MUTATION_CONCURRENCY:-1}"

# package | directory | threshold (%) | files of the sample ("-": not in the sample)
# The goal is 90% for rollouts-common and the policy rules; the backend's and the
# scaffolder module's pure modules have floors a little under their first scores.
PACKAGES=(
  "rollouts-common|plugins/rollouts-common|90|src/blueGreen.ts,src/labelSelector.ts,src/probes.ts"
  "rollouts-backend|plugins/rollouts-backend|80|-"
  "scaffolder-golden-path|plugins/scaffolder-backend-module-golden-path|75|-"
  "manifest-checks|tools/manifest-checks|90|manifest_checks/policy.py"
)
read -r -a SELECTED <<<"${MUTATION_PACKAGES:-rollouts-common rollouts-backend scaffolder-golden-path manifest-checks}"

# stryker <dir> <sample files>: writes <dir>/.cache/mutation/mutation.json
# The sampled run is incremental: Stryker diffs the mutated files and the test files
# against its previous report and re-tests only the mutants a change can affect. What
# it does not diff (the package's other files, the lockfile, these settings, Node) keys
# the report's place in the cache: a change there starts from nothing.
incremental_file() { # incremental_file DIR SAMPLE
  local dir="$1" sample="$2" key file
  local others=(":!$dir/**/*.test.ts")
  for file in ${sample//,/ }; do others+=(":!$dir/$file"); done
  key="$(
    cd "$REPO_ROOT" || exit 1
    node --version
    sha256sum yarn.lock scripts/mutation.sh scripts/mutation/*
    git ls-files -z -- "$dir" "${others[@]}" | xargs -0 -r sha256sum
  )" || return 1
  key="$(printf '%s' "$key" | sha256sum | cut -c1-16)"
  echo "${XDG_CACHE_HOME:-$HOME/.cache}/golden-path-portal/mutation/$(basename "$dir")-$key/incremental.json"
}

stryker() {
  local dir="$1" sample="$2" args=(run "$REPO_ROOT/scripts/mutation/stryker.config.mjs" --concurrency "$CONCURRENCY")
  if [ "$SAMPLE" = 1 ]; then
    local incremental
    incremental="$(incremental_file "$dir" "$sample")" || return 1
    mkdir -p "$(dirname "$incremental")"
    args+=(--mutate "$sample" --checkers "" --incremental --incrementalFile "$incremental")
    log "incremental report: $incremental"
  fi
  rm -f "$REPO_ROOT/$dir/.cache/mutation/mutation.json"
  (cd "$REPO_ROOT/$dir" && CI=true nice -n 10 "$REPO_ROOT/node_modules/.bin/stryker" "${args[@]}" \
    >"$REPO_ROOT/$dir/.cache/stryker.log" 2>&1) \
    || { tail -40 "$REPO_ROOT/$dir/.cache/stryker.log" >&2; return 1; }
}

# mutmut on tools/manifest-checks (its pyproject.toml says what), in the pinned venv.
mutmut_policy() {
  (
    source "$REPO_ROOT/tools/manifest-checks/scripts/lib.sh"
    mc_ensure_venv "$MC_DIR/requirements-dev.txt"
    cd "$MC_DIR" || exit 1
    rm -rf mutants # its results are reused between runs otherwise; a fresh run is the gate
    nice -n 10 "$MC_VENV/bin/mutmut" run --max-children "$CONCURRENCY" >"$MC_DIR/.cache/mutmut.log" 2>&1 \
      || { tail -40 "$MC_DIR/.cache/mutmut.log" >&2; exit 1; }
    "$MC_VENV/bin/python" scripts/mutation_summary.py manifest-checks
  )
}

cd "$REPO_ROOT" || exit 1
ensure_node
ensure_yarn
[ -x node_modules/.bin/stryker ] || ensure_node_modules

RESULTS=() failed=0
for name in "${SELECTED[@]}"; do
  entry=""
  for candidate in "${PACKAGES[@]}"; do [ "${candidate%%|*}" = "$name" ] && entry="$candidate"; done
  [ -n "$entry" ] || die "unknown package '$name' (known: ${PACKAGES[*]%%|*})"
  IFS='|' read -r _ dir threshold sample <<<"$entry"
  [ "$SAMPLE" = 1 ] && [ "$sample" = - ] && continue
  if [ "$SAMPLE" = 1 ]; then log "mutation testing $name (sample: $sample)"; else log "mutation testing $name"; fi
  start=$SECONDS
  mkdir -p "$dir/.cache/mutation"
  summary="$dir/.cache/mutation/summary.txt"
  if [ "$name" = manifest-checks ]; then
    mutmut_policy >"$summary"
  else
    stryker "$dir" "$sample" && node scripts/mutation/summary.mjs "$dir/.cache/mutation/mutation.json" "$name" >"$summary"
  fi || { RESULTS+=("FAIL $name: the run failed ($((SECONDS - start))s)"); failed=1; continue; }
  cat "$summary"
  score="$(awk 'NR == 1 { print $2 }' "$summary")"
  verdict=PASS
  if awk -v s="$score" -v t="$threshold" 'BEGIN { exit !(s < t) }'; then verdict=FAIL; failed=1; fi
  RESULTS+=("$verdict $name: mutation score $score% (threshold $threshold%) ($((SECONDS - start))s)")
done

echo
log "Mutation scores (surviving mutants above; the equivalent ones: plugins/rollouts-common/MUTATION.md, tools/manifest-checks/MUTATION.md)"
for line in "${RESULTS[@]}"; do echo "  $line"; done
exit "$failed"
