#!/usr/bin/env bash
# A throwaway PostgreSQL server for the memory store tests (massgen-plugins-postgres).
#
#   eval "$(.ci/postgres.sh start)"   # installs PostgreSQL if missing, starts a server in a
#                                     # temporary directory, prints the export lines:
#                                     #   MASSGEN_TEST_POSTGRES_URL=postgresql://...
#                                     #   MASSGEN_TEST_POSTGRES_DIR=/tmp/massgen-pg.XXXX
#   .ci/postgres.sh stop              # stops it and removes the directory (uses $MASSGEN_TEST_POSTGRES_DIR)
#
# The URL is also written to $MASSGEN_TEST_POSTGRES_DIR/url. Everything else goes to stderr.
# As root (CI) the server runs as the unprivileged "postgres" user (initdb refuses root).
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    local candidate
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir; return 0
    fi
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) /usr/local/pgsql/bin; do
        if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then echo "$candidate"; return 0; fi
    done
    if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
    return 1
}

install_postgres() {
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        log "PostgreSQL is not installed and I cannot install it (need root and apt-get)"; exit 1
    fi
    log "installing PostgreSQL with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
}

as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then
        if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
    else
        "$@"
    fi
}

free_port() {
    python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

start() {
    local bindir dir port
    bindir="$(find_bindir)" || { install_postgres; bindir="$(find_bindir)"; }
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
    fi
    dir="$(mktemp -d "${TMPDIR:-/tmp}/massgen-pg.XXXXXX")"
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    port="$(free_port)"
    as_server_user "$bindir/initdb" -D "$dir/data" -U massgen -A trust -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    as_server_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
        start >&2 || { cat "$dir/server.log" >&2; exit 1; }
    as_server_user "$bindir/createdb" -h 127.0.0.1 -p "$port" -U massgen massgen_test
    local url="postgresql://massgen@127.0.0.1:$port/massgen_test"
    echo "$url" >"$dir/url"
    log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir)"
    echo "export MASSGEN_TEST_POSTGRES_URL=$url"
    echo "export MASSGEN_TEST_POSTGRES_DIR=$dir"
}

stop() {
    local dir="${1:-${MASSGEN_TEST_POSTGRES_DIR:-}}" bindir
    [ -n "$dir" ] && [ -d "$dir/data" ] || { log "nothing to stop"; return 0; }
    bindir="$(find_bindir)"
    as_server_user "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
    rm -rf "$dir"
}

case "${1:-start}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
