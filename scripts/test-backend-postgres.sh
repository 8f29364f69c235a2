#!/usr/bin/env bash
# Proves the production database path: the backend starts on a real PostgreSQL server
# with app-config.production.yaml, creates its plugin databases, ingests the catalog,
# and still has the data after a restart. On a free port: it runs in make test's host
# lane, beside stages that use 7007.
set -euo pipefail
source "$(dirname "$0")/lib/toolchain.sh"
source "$(dirname "$0")/lib/postgres.sh"
source "$(dirname "$0")/lib/backend.sh"
ensure_toolchain

ARTIFACTS="$REPO_ROOT/artifacts/backend-postgres"
mkdir -p "$ARTIFACTS"
PORT_DIR="$(mktemp -d)"
trap 'stop_backend; stop_postgres; rm -rf "$PORT_DIR"' EXIT
start_postgres
use_free_backend_port "$PORT_DIR"

export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT="$PGPORT" POSTGRES_USER="$PGUSER" POSTGRES_PASSWORD="$PGPASSWORD"
export BACKEND_SECRET="test-secret-$RANDOM$RANDOM" AUTH_GITHUB_CLIENT_ID=unused AUTH_GITHUB_CLIENT_SECRET=unused
export PORTAL_CATALOG_FILE="$REPO_ROOT/catalog-info.yaml" PORTAL_SKELETONS_DIR="$REPO_ROOT/fastapi-skeletons"
configs=(--config "$REPO_ROOT/app-config.yaml" --config "$REPO_ROOT/app-config.production.yaml" --config "$BACKEND_PORT_CONFIG")

entity_count() {
  curl -sf -H "Authorization: Bearer $BACKEND_SECRET" \
    "http://127.0.0.1:$BACKEND_PORT/api/catalog/entities/by-query?limit=1&filter=kind=component" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["totalItems"])'
}

start_backend "$ARTIFACTS/backend-1.log" "${configs[@]}"
count=0
for _ in $(seq 1 60); do
  count="$(entity_count || echo 0)"
  [ "$count" -ge 4 ] && break
  sleep 2
done
[ "$count" -ge 4 ] || die "the catalog did not ingest catalog-info.yaml on PostgreSQL (components: $count)"
log "catalog on PostgreSQL holds $count components"

databases="$(psql -d postgres -Atc "select datname from pg_database where datname like 'backstage_plugin_%' order by 1")"
echo "$databases" | grep -qx backstage_plugin_catalog || die "no backstage_plugin_catalog database on PostgreSQL; found: $databases"
log "plugin databases: $(echo "$databases" | tr '\n' ' ')"
rows="$(psql -d backstage_plugin_catalog -Atc 'select count(*) from final_entities')"
[ "$rows" -gt 0 ] || die "final_entities is empty"

stop_backend
start_backend "$ARTIFACTS/backend-2.log" "${configs[@]}"
count_after="$(entity_count)"
[ "$count_after" -ge "$count" ] || die "after a restart the catalog lost entities ($count -> $count_after)"
log "after restart: $count_after components (data kept in PostgreSQL)"
echo "backend-postgres: 3 passed, 0 failed"
