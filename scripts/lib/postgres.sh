# shellcheck shell=bash
# Starts a throw-away PostgreSQL server (Debian's) on loopback for tests.
#   start_postgres  -> exports PGHOST PGPORT PGUSER PGPASSWORD DATABASE_URL, sets PG_DIR
#   stop_postgres   -> stops it and removes its data
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.

start_postgres() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  [ -x "$bin/initdb" ] || die "PostgreSQL server binaries not found; install them with: sudo apt-get install -y postgresql"
  PG_DIR="$(mktemp -d /tmp/golden-path-pg.XXXXXX)"
  export PGPORT="${PGPORT_TEST:-$(free_port)}" PGHOST=127.0.0.1 PGUSER=portal PGPASSWORD="test-$RANDOM-$RANDOM"
  local as=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_DIR"
    as=(runuser -u postgres --)
  fi
  printf '%s' "$PGPASSWORD" >"$PG_DIR/pwfile"; chmod 644 "$PG_DIR/pwfile"
  "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U "$PGUSER" --pwfile="$PG_DIR/pwfile" -A scram-sha-256 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log"; die "initdb failed"; }
  "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-p $PGPORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
    || { cat "$PG_DIR/server.log"; die "PostgreSQL did not start"; }
  export DATABASE_URL="postgresql://$PGUSER:$PGPASSWORD@127.0.0.1:$PGPORT/postgres"
  PG_BIN="$bin" PG_AS="${as[*]}"
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT"
}

stop_postgres() {
  [ -n "${PG_DIR:-}" ] || return 0
  # shellcheck disable=SC2086
  $PG_AS "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=
}
