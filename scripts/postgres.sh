#!/usr/bin/env bash
# Starts a private PostgreSQL cluster for the tests on a loopback port and prints its URL:
#   scripts/postgres.sh start [DIR] [PORT]   (default /tmp/portcullis-pg, 55432)
#   scripts/postgres.sh stop [DIR]
# initdb refuses to run as root, so the cluster belongs to the `postgres` user when run as root.
# Trust authentication is for this loopback-only test cluster; never use it for a real one.
set -euo pipefail
cmd=${1:-start}
dir=${2:-/tmp/portcullis-pg}
port=${3:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
  start)
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres: "$dir"
      as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir" -w -l "$dir/server.log" \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=on" start >/dev/null
    fi
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null
    ;;
  *) echo "usage: postgres.sh start|stop [DIR] [PORT]" >&2; exit 2 ;;
esac
