#!/usr/bin/env bash
# Entry point of localhost/golden-path/postgres: the environment contract of the official
# `postgres` image (docker-library/postgres), on Debian trixie's PostgreSQL 17.
#
#   POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER
#   (default postgres), POSTGRES_DB (default $POSTGRES_USER), POSTGRES_INITDB_ARGS,
#   POSTGRES_INITDB_WALDIR, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256), PGDATA
#   (default /var/lib/postgresql/data), PGPORT (default 5432); each POSTGRES_* also as
#   <VAR>_FILE (a mounted secret). /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz|*.sql.xz
#   run once, on an empty PGDATA.
#
# Differences from the official image, on purpose:
#   - SIGTERM means a *fast* shutdown (roll back open transactions, checkpoint, exit), as
#     SIGINT does: Kubernetes sends SIGTERM, and PostgreSQL's own meaning of SIGTERM
#     (smart shutdown) would wait for every pooled client to disconnect until the kubelet
#     kills it. The image's StopSignal is SIGINT as well.
#   - Started as root, it drops to postgres (uid 999) with setpriv (Debian's util-linux)
#     instead of gosu.
#   - Locale C.UTF-8 (built into glibc) instead of en_US.utf8 (none generated).
# Writes only to PGDATA, /var/run/postgresql and /tmp, so it runs with a read-only root
# filesystem, as non-root, without capabilities (Pod Security "restricted").
set -Eeuo pipefail

# file_env VAR [DEFAULT]: VAR, or the contents of the file named by VAR_FILE.
file_env() {
  local var="$1" file_var="${1}_FILE" def="${2:-}" val
  if [[ -n "${!var:-}" && -n "${!file_var:-}" ]]; then
    printf >&2 'error: both %s and %s are set (but are exclusive)\n' "${var}" "${file_var}"
    exit 1
  fi
  val="${def}"
  if [[ -n "${!var:-}" ]]; then
    val="${!var}"
  elif [[ -n "${!file_var:-}" ]]; then
    val="$(<"${!file_var}")"
  fi
  export "${var}=${val}"
  unset "${file_var}"
}

setup_env() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "${POSTGRES_USER}"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=}"
  export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
  DATABASE_ALREADY_EXISTS=
  if [[ -s "${PGDATA}/PG_VERSION" ]]; then
    DATABASE_ALREADY_EXISTS=true
  fi
}

create_db_directories() {
  # chmod fails where we are not the owner (an emptyDir or volume root): initdb and
  # postgres check the modes that matter themselves.
  mkdir -p "${PGDATA}"
  chmod 00700 "${PGDATA}" 2>/dev/null || :
  mkdir -p /var/run/postgresql 2>/dev/null || :
  chmod 03775 /var/run/postgresql 2>/dev/null || :
  if [[ -n "${POSTGRES_INITDB_WALDIR:-}" ]]; then
    mkdir -p "${POSTGRES_INITDB_WALDIR}"
    chmod 00700 "${POSTGRES_INITDB_WALDIR}" 2>/dev/null || :
  fi
  if [[ "$(id -u)" == 0 ]]; then
    find "${PGDATA}" \! -user postgres -exec chown postgres: '{}' +
    find /var/run/postgresql \! -user postgres -exec chown postgres: '{}' +
    if [[ -n "${POSTGRES_INITDB_WALDIR:-}" ]]; then
      find "${POSTGRES_INITDB_WALDIR}" \! -user postgres -exec chown postgres: '{}' +
    fi
  fi
}

verify_minimum_env() {
  if [[ -z "${POSTGRES_PASSWORD}" && "${POSTGRES_HOST_AUTH_METHOD}" != trust ]]; then
    cat >&2 <<'EOM'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.

       See PostgreSQL documentation about "trust":
       https://www.postgresql.org/docs/current/auth-trust.html
EOM
    exit 1
  fi
  if [[ "${POSTGRES_HOST_AUTH_METHOD}" == trust ]]; then
    cat >&2 <<'EOM'
********************************************************************************
WARNING: POSTGRES_HOST_AUTH_METHOD has been set to "trust". This will allow
         anyone with access to the Postgres port to access your database without
         a password, even if POSTGRES_PASSWORD is set.
********************************************************************************
EOM
  fi
}

init_database_dir() {
  # initdb needs a user name for the current uid; an arbitrary uid (e.g. OpenShift's)
  # has no /etc/passwd entry and the root filesystem may be read-only: nss_wrapper
  # serves one from /tmp instead.
  local uid gid wrapper
  uid="$(id -u)"
  gid="$(id -g)"
  if ! getent passwd "${uid}" >/dev/null; then
    for wrapper in /usr/lib/*/libnss_wrapper.so; do [[ -s "${wrapper}" ]] && break; done
    if [[ -s "${wrapper}" ]]; then
      NSS_WRAPPER_PASSWD="$(mktemp)"
      NSS_WRAPPER_GROUP="$(mktemp)"
      export LD_PRELOAD="${wrapper}" NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
      printf 'postgres:x:%s:%s:PostgreSQL:%s:/bin/false\n' "${uid}" "${gid}" "${PGDATA}" > "${NSS_WRAPPER_PASSWD}"
      printf 'postgres:x:%s:\n' "${gid}" > "${NSS_WRAPPER_GROUP}"
    fi
  fi
  local args=(--username="${POSTGRES_USER}")
  if [[ -n "${POSTGRES_INITDB_WALDIR:-}" ]]; then
    args+=(--waldir="${POSTGRES_INITDB_WALDIR}")
  fi
  # POSTGRES_INITDB_ARGS is a shell-quoted string, as in the official image. The
  # password goes through a pipe (never a file or argv); the process substitution must
  # be part of the initdb command itself, or its descriptor is closed before initdb runs.
  if [[ -n "${POSTGRES_PASSWORD}" ]]; then
    eval 'initdb "${args[@]}" --pwfile=<(printf "%s\n" "${POSTGRES_PASSWORD}") '"${POSTGRES_INITDB_ARGS}"
  else
    eval 'initdb "${args[@]}" '"${POSTGRES_INITDB_ARGS}"
  fi
  if [[ "${LD_PRELOAD:-}" == *libnss_wrapper.so ]]; then
    rm -f "${NSS_WRAPPER_PASSWD}" "${NSS_WRAPPER_GROUP}"
    unset LD_PRELOAD NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP
  fi
}

# Connections from anywhere but the container itself need the password (initdb's own
# lines keep local socket and loopback connections on trust, as the official image does).
setup_hba_conf() {
  local method="${POSTGRES_HOST_AUTH_METHOD:-}"
  if [[ -z "${method}" ]]; then
    method="$(postgres -C password_encryption "$@")"
  fi
  {
    printf '\n'
    if [[ "${method}" == trust ]]; then
      printf '# warning trust is enabled for all connections\n'
      printf '# see https://www.postgresql.org/docs/current/auth-trust.html\n'
    fi
    printf 'host all all all %s\n' "${method}"
  } >> "${PGDATA}/pg_hba.conf"
}

process_sql() {
  local db_args=()
  if [[ -n "${POSTGRES_DB}" ]]; then
    db_args=(--dbname "${POSTGRES_DB}")
  fi
  PGHOST='' PGHOSTADDR='' psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER}" --no-password --no-psqlrc "${db_args[@]}" "$@"
}

# A server on the Unix socket only, for the database setup and the init scripts.
temp_server_start() {
  local opts
  opts="$(printf '%q ' "$@" -c "listen_addresses=" -p "${PGPORT:-5432}")"
  PGUSER="${PGUSER:-${POSTGRES_USER}}" pg_ctl -D "${PGDATA}" -o "${opts}" -w start
}

temp_server_stop() {
  PGUSER="${PGUSER:-postgres}" pg_ctl -D "${PGDATA}" -m fast -w stop
}

# POSTGRES_DB='' for process_sql only (connect to "postgres"); the --set still passes the
# real name, as the official image does.
# shellcheck disable=SC2097,SC2098
setup_db() {
  local exists
  exists="$(POSTGRES_DB='' process_sql --dbname postgres --set db="${POSTGRES_DB}" --tuples-only \
    <<<"SELECT 1 FROM pg_database WHERE datname = :'db' ;")"
  if [[ -z "${exists// /}" ]]; then
    POSTGRES_DB='' process_sql --dbname postgres --set db="${POSTGRES_DB}" <<<'CREATE DATABASE :"db" ;'
    printf '\n'
  fi
}

process_init_files() {
  local f
  printf '\n'
  for f in "$@"; do
    case "${f}" in
      *.sh)
        if [[ -x "${f}" ]]; then
          printf '%s: running %s\n' "$0" "${f}"
          "${f}"
        else
          printf '%s: sourcing %s\n' "$0" "${f}"
          # shellcheck disable=SC1090
          . "${f}"
        fi
        ;;
      *.sql) printf '%s: running %s\n' "$0" "${f}"; process_sql -f "${f}"; printf '\n' ;;
      *.sql.gz) printf '%s: running %s\n' "$0" "${f}"; gunzip -c "${f}" | process_sql; printf '\n' ;;
      *.sql.xz) printf '%s: running %s\n' "$0" "${f}"; xzcat "${f}" | process_sql; printf '\n' ;;
      *) printf '%s: ignoring %s\n' "$0" "${f}" ;;
    esac
    printf '\n'
  done
}

# True if the arguments ask postgres for help or a config value (no server start).
want_help() {
  local arg
  for arg; do
    case "${arg}" in
      -'?'|--help|--describe-config|-V|--version) return 0 ;;
    esac
  done
  return 1
}

# Run postgres as a child and turn SIGTERM into SIGINT (fast shutdown); SIGQUIT stays
# an immediate shutdown, SIGHUP a configuration reload.
run_postgres() {
  "$@" &
  local child=$! status
  trap 'kill -INT "${child}" 2>/dev/null || :' TERM INT
  trap 'kill -QUIT "${child}" 2>/dev/null || :' QUIT
  trap 'kill -HUP "${child}" 2>/dev/null || :' HUP
  set +e
  # A trapped signal interrupts `wait`; keep waiting until postgres is gone.
  while kill -0 "${child}" 2>/dev/null; do
    wait "${child}"
  done
  wait "${child}"
  status=$?
  exit "${status}"
}

main() {
  if [[ "${1:-}" == -* ]]; then
    set -- postgres "$@"
  fi
  if [[ "${1:-}" == postgres ]] && ! want_help "$@"; then
    setup_env
    create_db_directories
    if [[ "$(id -u)" == 0 ]]; then
      exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
    fi
    if [[ -z "${DATABASE_ALREADY_EXISTS}" ]]; then
      verify_minimum_env
      # Fail early (not after initdb) if the init folder is unreadable.
      ls /docker-entrypoint-initdb.d/ >/dev/null
      init_database_dir
      setup_hba_conf "${@:2}"
      export PGPASSWORD="${PGPASSWORD:-${POSTGRES_PASSWORD}}"
      temp_server_start "${@:2}"
      setup_db
      shopt -s nullglob
      process_init_files /docker-entrypoint-initdb.d/*
      shopt -u nullglob
      temp_server_stop
      unset PGPASSWORD
      printf '\nPostgreSQL init process complete; ready for start up.\n\n'
    else
      printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
    fi
    run_postgres "$@"
  fi
  exec "$@"
}

main "$@"
