#!/usr/bin/env bash
# Start/stop a throw-away PostgreSQL server on a loopback port for the catalog tests.
# usage: pg-test-server.sh start|stop PORT
set -euo pipefail
action=$1; port=$2
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
dir=/tmp/petacube-pg-$port
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$action" in
  start)
    if [ -f "$dir/postmaster.pid" ] && run "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then exit 0; fi
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    run "$bindir/initdb" -D "$dir" -A trust -U postgres >/dev/null
    run "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null
    run "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE ROLE petacube LOGIN SUPERUSER" >/dev/null
    run "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres -O petacube petacube
    echo "PostgreSQL test server on 127.0.0.1:$port"
    ;;
  stop)
    [ -d "$dir" ] && run "$bindir/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
esac
