#!/usr/bin/env bash
# A throwaway OCI registry (Debian's docker-registry, the CNCF distribution
# registry) for slipway's tests, listening on 127.0.0.1 only, storing its
# blobs in a directory of its own.
#
#   scripts/registry.sh [start] [DIR]  installs docker-registry from Debian if
#                                      missing, starts it on a free port with
#                                      its storage in DIR (default:
#                                      .slipway-registry in the repository)
#                                      and prints its address (127.0.0.1:PORT)
#                                      on stdout. Starting a running registry
#                                      just prints its address again.
#   scripts/registry.sh stop [DIR]     stops it (the storage stays in DIR).
#   scripts/registry.sh addr [DIR]     prints the address of the running one.
#
# No authentication and plain HTTP: slipway speaks HTTP to registries on
# loopback only. Progress goes to stderr, the address alone to stdout:
#   export SLIPWAY_TEST_REGISTRY=$(scripts/registry.sh start)
set -euo pipefail

command=${1:-start}
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${2:-$repo/.slipway-registry}
binary=/usr/bin/docker-registry

log() { echo "registry.sh: $*" >&2; }

install_registry() {
  [ -x "$binary" ] && command -v skopeo >/dev/null && return
  log "installing docker-registry and skopeo from Debian"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends docker-registry skopeo >&2
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

addr() { echo "127.0.0.1:$(cat "$dir/port")"; }

running() {
  [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null &&
    python3 - "$(addr)" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen("http://%s/v2/" % sys.argv[1], timeout=2).read()
PY
}

start() {
  install_registry
  mkdir -p "$dir/storage"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/port" ] && running; then addr; return; fi
  free_port >"$dir/port"
  local port
  port=$(cat "$dir/port")
  cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
  log "starting on 127.0.0.1:$port"
  setsid "$binary" serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  # Ready when /v2/ answers (the registry has no readiness signal of its own).
  for _ in $(seq 1 200); do
    if running; then addr; return; fi
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then break; fi
    sleep 0.05
  done
  tail -20 "$dir/registry.log" >&2
  log "the registry did not start"
  exit 1
}

stop() {
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    kill "$(cat "$dir/pid")"
    rm -f "$dir/pid"
  else
    log "not running ($dir)"
  fi
}

case "$command" in
  start) start ;;
  stop) stop ;;
  addr) running && addr || { log "not running ($dir)"; exit 1; } ;;
  *) echo "usage: $0 [start|stop|addr] [DIR]" >&2; exit 2 ;;
esac
