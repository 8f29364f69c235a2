#!/usr/bin/env bash
# Every template, every example input set: rendered through the real Backstage
# scaffolder (dry-run), then the output is checked as a developer would use it:
#   - schema (strict) and policy checks of k8s/, lint of the GitHub workflows
#   - the generated service's own pytest suite, in a clean venv from its pinned
#     requirements (against a real PostgreSQL server where the template uses one)
#   - mkdocs build --strict of the generated TechDocs
#   - a Chromium screenshot of the static web app serving its ConfigMap content
#   - publishing to a real Gitea (tests/templates/src/giteaPublish.test.ts, in the same
#     Jest run) and platform/gitea/gitea.sh itself (platform/gitea/gitea.test.sh), each
#     with a throw-away GITEA_HOME on a free port, stopped and removed at the end
# The generated repositories stay in artifacts/templates for the cluster stage.
#
# Usage: scripts/test-templates.sh [render|check]   (default: both)
#   render  every template through the scaffolder into artifacts/templates, and published
#           to Gitea (the templates stage: the cluster stages need only this)
#   check   the skeletons' static checks, then every check of the repositories render
#           left there (the template-checks stage, which runs beside the cluster stages)
set -euo pipefail
MODE="${1:-all}"
case "$MODE" in
  render | check | all) ;;
  *) echo "usage: $0 [render|check] (got '$MODE')" >&2; exit 2 ;;
esac
source "$(dirname "$0")/lib/toolchain.sh"
source "$(dirname "$0")/lib/postgres.sh"
source "$(dirname "$0")/lib/python.sh"
ensure_toolchain
ensure_techdocs_venv

OUT="$REPO_ROOT/artifacts/templates"
trap 'stop_postgres; [ -n "${APP_PID:-}" ] && kill "$APP_PID" 2>/dev/null; true' EXIT

render() {
  rm -rf "$OUT"
  mkdir -p "$OUT"
  log "building (or reusing) Gitea for the publishing tests"
  bash "$REPO_ROOT/platform/gitea/build.sh" >/dev/null

  log "rendering every template through the scaffolder (dry-run); publishing to a real Gitea"
  local rc=0
  GITEA_INTEGRATION=1 TEMPLATE_OUTPUT_DIR="$OUT" CI=true yarn --cwd tests/templates backstage-cli package test || rc=$?
  # Jest prints a file's results when the file ends: a run that ends before (a signal)
  # prints nothing at all, so say how it ended.
  [ "$rc" = 0 ] || die "the templates' Jest run ended with exit status $rc$([ "$rc" -gt 128 ] && echo " (signal $((rc - 128)))")"
}
if [ "$MODE" != check ]; then render; fi
[ "$MODE" != render ] || exit 0
compgen -G "$OUT/*/*/" >/dev/null \
  || die "no generated repositories in ${OUT#"$REPO_ROOT"/}: run 'scripts/test-templates.sh render' (the templates stage) first"

log "static checks of the skeletons and templates (pins, template syntax, examples)"
skeleton_venv="$(venv_for "$REPO_ROOT/fastapi-skeletons/tests/requirements.txt")"
(cd "$REPO_ROOT" && pytest_isolated "$skeleton_venv" fastapi-skeletons/tests)

start_postgres
CHECK_LOGS="$OUT/.checks"
mkdir -p "$CHECK_LOGS"

check() { # check LABEL COMMAND...: prints PASS or FAIL (with the output) and the time taken
  local label="$1" start=$SECONDS output; shift
  output="$(mktemp "$CHECK_LOGS/output.XXXXXX")"
  if "$@" >"$output" 2>&1; then
    echo "  PASS $label ($((SECONDS - start)) s)"
  else
    echo "  FAIL $label ($((SECONDS - start)) s)"; sed 's/^/      /' "$output" | tail -n 40
  fi
  rm -f "$output"
}

run_pytest() { # run_pytest SERVICE_DIR DATABASE
  local dir="$1" reqs=("$1/requirements.txt") venv
  [ -f "$dir/requirements-dev.txt" ] && reqs+=("$dir/requirements-dev.txt")
  venv="$(venv_for "${reqs[@]}")" || return 1
  local test_database_url="${DATABASE_URL%/*}/$2"
  # A clean environment as on a developer's machine: only the test database is given.
  (cd "$dir" && unset DATABASE_URL PGHOST PGPORT PGUSER PGPASSWORD &&
    REQUIRE_DATABASE=1 TEST_DATABASE_URL="$test_database_url" pytest_isolated "$venv")
}

mkdocs_build() { # mkdocs_build REPO_DIR
  local site; site="$(mktemp -d)"
  (cd "$1" && mkdocs build --strict --site-dir "$site"); local rc=$?
  rm -rf "$site"; return $rc
}

check_rendered_overlay() { # check_rendered_overlay DIR: kubectl kustomize DIR, schema and policy checked
  local rendered; rendered="$(mktemp)"
  kubectl kustomize "$1" >"$rendered" && "$REPO_ROOT/tools/manifest-checks/check.sh" "$rendered"; local rc=$?
  rm -f "$rendered"; return $rc
}

check_example() { # check_example REPO: every check of one generated repository
  local repo="$1" name="${1#"$OUT"/}" database reqs service
  echo "$(tput bold 2>/dev/null)==> checking $name$(tput sgr0 2>/dev/null)"
  manifest_args=(--catalog-info "$repo/catalog-info.yaml")
  [ -d "$repo/.github/workflows" ] && manifest_args+=(--workflows "$repo/.github/workflows")
  check "$name: manifests and workflows" "$REPO_ROOT/tools/manifest-checks/check.sh" "${manifest_args[@]}" "$repo/k8s" "$repo/overlays/local"
  # A GitOps repository: each environment as Flux applies it (rendered, so the overlays'
  # patches are checked merged), and its Flux / Argo CD objects against their CRD schemas.
  if [ -d "$repo/flux" ]; then
    for env in dev staging prod; do
      check "$name: overlays/$env rendered" check_rendered_overlay "$repo/overlays/$env"
    done
    gitops_dirs=("$repo/flux")
    [ -d "$repo/argocd" ] && gitops_dirs+=("$repo/argocd")
    check "$name: Flux and Argo CD objects" "$REPO_ROOT/tools/manifest-checks/check.sh" "${gitops_dirs[@]}"
  fi
  # A database of its own: examples are checked side by side.
  database="test_$(echo "$name" | tr -c 'a-z0-9\n' '_')"
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U "$PGUSER" "$database" \
    || echo "  FAIL $name: createdb $database"
  while IFS= read -r reqs; do
    service="$(dirname "$reqs")"
    check "$name: pytest ${service#"$repo"/}" run_pytest "$service" "$database"
  done < <(find "$repo" -name requirements.txt -not -path '*/node_modules/*' | sort)
  check "$name: mkdocs build --strict" mkdocs_build "$repo"
}

# Two examples at a time (TEMPLATE_CHECK_JOBS): much of a check is interpreter start-up
# and waiting; each example's report is printed whole, in order.
examples=()
for repo in "$OUT"/*/*/; do examples+=("${repo%/}"); done
jobs_max="${TEMPLATE_CHECK_JOBS:-2}" checks_start=$SECONDS
for i in "${!examples[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  log_file="$CHECK_LOGS/$(printf '%03d' "$i").log"
  (check_example "${examples[$i]}" && touch "$log_file.done") >"$log_file" 2>&1 &
done
wait
for i in "${!examples[@]}"; do
  log_file="$CHECK_LOGS/$(printf '%03d' "$i").log"
  [ -f "$log_file.done" ] || echo "  FAIL ${examples[$i]#"$OUT"/}: its checks stopped early" >>"$log_file"
done
cat "$CHECK_LOGS"/[0-9]*.log
echo "  (${#examples[@]} examples checked in $((SECONDS - checks_start)) s, $jobs_max at a time)"

screenshot_static_web() { # the brief's deliverable: the custom page, served from ConfigMap content
  # Each step ends the check on failure: `set -e` does not apply inside a function
  # whose status `check` tests.
  local repo="$OUT/fastapi-static-web/typical" shots="$REPO_ROOT/artifacts/screenshots"
  local content venv port title
  mkdir -p "$shots"
  content="$(mktemp -d)"
  # The same venv the generated test suite ran in (it has PyYAML from requirements-dev).
  venv="$(venv_for "$repo/requirements.txt" "$repo/requirements-dev.txt")" || return 1
  # Mount the ConfigMap's keys as files, as the kubelet does.
  "$venv/bin/python" - "$repo/k8s/configmap.yaml" "$content" <<'PY' || return 1
import pathlib, sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if doc and doc.get("kind") == "ConfigMap":
        for key, value in (doc.get("data") or {}).items():
            pathlib.Path(sys.argv[2], key).write_text(value)
PY
  title="$(sed -n 's:.*<h1>\(.*\)</h1>.*:\1:p' "$content/index.html" | head -n1)"
  [ -n "$title" ] || { echo "no <h1> in the ConfigMap's index.html"; return 1; }
  port="$(free_port)"
  (cd "$repo" && CONTENT_PATH="$content/index.html" "$venv/bin/python" -m uvicorn --factory app.main:create_app --port "$port") >"$OUT/static-web.log" 2>&1 &
  APP_PID=$!
  for _ in $(seq 1 30); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 1; done
  curl -sf "http://127.0.0.1:$port/" >"$OUT/static-web.html" || { echo "GET / failed"; cat "$OUT/static-web.log"; return 1; }
  grep -qF "$title" "$OUT/static-web.html" || { echo "the page does not show the ConfigMap's heading: $title"; return 1; }
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d)" --window-size=1280,900 \
    --screenshot="$shots/static-web.png" "http://127.0.0.1:$port/" 2>/dev/null || return 1
  test -s "$shots/static-web.png" || return 1
  kill "$APP_PID"; APP_PID=
  echo "screenshot of the page titled '$title' in artifacts/screenshots/static-web.png"
}
{
check "fastapi-static-web: Chromium screenshot of the ConfigMap page" screenshot_static_web
# The repositories run on the real node in the kube-integration stage; bad input to the
# script that does it is refused here (no cluster needed).
check "platform/local-repo.sh, gitops-loop.sh: bad input refused with a clear message" \
  bash "$REPO_ROOT/platform/local-repo.test.sh" "$OUT"
check "platform/images/context_files.py: the image cache key reads .dockerignore as BuildKit does" \
  python3 -m unittest discover -s "$REPO_ROOT/platform/images" -p 'test_*.py'
check "platform/images/example-context.sh: the skeleton's build contexts without template syntax" \
  bash "$REPO_ROOT/platform/images/example-context.test.sh"
check "scripts/lib/portal-local-overlay.sh: deploy/portal with the local images and config, bad input refused" \
  bash "$REPO_ROOT/scripts/lib/portal-local-overlay.test.sh"
check "scripts/test-portal-on-cluster.sh: without a cluster, refused with how to start one, nothing created" \
  bash "$REPO_ROOT/scripts/test-portal-on-cluster.test.sh"
check "scripts/lib/backend.sh: stop_backend waits for the backend's whole process group; its session takes the host lane's nice" \
  bash "$REPO_ROOT/scripts/lib/backend.test.sh"
check "shellcheck of every generated repository's scripts" "$REPO_ROOT/scripts/shellcheck.sh" "${examples[@]}"
check "platform/lib/oci.sh: the image name of compact and indented OCI indexes" \
  bash "$REPO_ROOT/platform/lib/oci.test.sh"
check "platform/gitea/gitea.sh: bad input refused, reuse, restart keeps data and token, taken port" \
  bash "$REPO_ROOT/platform/gitea/gitea.test.sh"
check "platform/jaeger/jaeger.sh: refused without JAEGER_HOME, a span in over OTLP and out of the query API, reuse, stop" \
  bash "$REPO_ROOT/platform/jaeger/jaeger.test.sh"
} >"$CHECK_LOGS/final.log" 2>&1
cat "$CHECK_LOGS/final.log"

# Every PASS/FAIL line above, counted from the logs the checks wrote.
cat "$CHECK_LOGS"/[0-9]*.log "$CHECK_LOGS/final.log" >"$CHECK_LOGS/all.txt"
passed="$(grep -c '^  PASS ' "$CHECK_LOGS/all.txt" || true)"
failed="$(grep -c '^  FAIL ' "$CHECK_LOGS/all.txt" || true)"
rm -rf "$CHECK_LOGS"
echo
echo "templates: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
