#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for slipway's tests, listening on
# 127.0.0.1 only, with its data in a directory of its own.
#
#   scripts/postgres.sh [start] [DIR]  installs PostgreSQL 15 from Debian if
#                                      missing, initialises DIR (default:
#                                      .slipway-postgres in the repository),
#                                      starts the server on a free port and
#                                      prints its connection URL on stdout.
#                                      Starting an already running server just
#                                      prints its URL again.
#   scripts/postgres.sh stop [DIR]     stops it (the data stays in DIR).
#   scripts/postgres.sh url [DIR]      prints the URL of the running server.
#
# Authentication is `trust` on loopback: anyone on this machine may connect,
# so use it for tests only. Progress goes to stderr, the URL alone to stdout:
#   export SLIPWAY_TEST_POSTGRES_URL=$(scripts/postgres.sh start)
set -euo pipefail

command=${1:-start}
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${2:-$repo/.slipway-postgres}
bindir=/usr/lib/postgresql/15/bin
db_user=slipway
db_name=slipway_test

log() { echo "postgres.sh: $*" >&2; }

as_owner() {
  # initdb and the server refuse to run as root: use the postgres user then.
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

install_server() {
  [ -x "$bindir/initdb" ] && return
  log "installing postgresql-15 from Debian"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends postgresql-15 postgresql-client-15 >&2
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

url() { echo "postgresql://$db_user@127.0.0.1:$(cat "$dir/port")/$db_name"; }

running() { [ -f "$dir/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; }

start() {
  install_server
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  if running; then url; return; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    log "initialising $dir/data"
    as_owner "$bindir/initdb" -D "$dir/data" -U "$db_user" --auth=trust --no-locale \
      --encoding=UTF8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  free_port >"$dir/port"
  local port
  port=$(cat "$dir/port")
  log "starting on 127.0.0.1:$port"
  # Sockets only in DIR (not /var/run/postgresql), TCP only on loopback.
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=on" \
    >&2 || { tail -20 "$dir/server.log" >&2; exit 1; }
  if ! as_owner "$bindir/psql" -h 127.0.0.1 -p "$port" -U "$db_user" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$db_name'" | grep -q 1; then
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$db_user" "$db_name"
  fi
  url
}

stop() {
  if running; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >&2
  else
    log "not running ($dir)"
  fi
}

case "$command" in
  start) start ;;
  stop) stop ;;
  url) running && url || { log "not running ($dir)"; exit 1; } ;;
  *) echo "usage: $0 [start|stop|url] [DIR]" >&2; exit 2 ;;
esac
