#!/usr/bin/env bash
# A throwaway Prometheus (Debian's `prometheus` package) for slipway's
# deployment checks: listening on 127.0.0.1 only, scraping the targets it is
# given every second, its data in a directory of its own.
#
#   scripts/prometheus.sh start DIR [TARGET...]  installs prometheus from
#                                  Debian if missing, writes DIR/prometheus.yml
#                                  scraping each TARGET (host:port, its
#                                  /metrics) every 1 s, starts the server on a
#                                  free port and prints its URL on stdout once
#                                  it is ready. Progress goes to stderr.
#   scripts/prometheus.sh stop DIR  stops it (the data stays in DIR).
#   scripts/prometheus.sh url DIR   prints the URL of the running server.
#
# For example, beside the delivery example's service on port 8080:
#   url=$(scripts/prometheus.sh start /tmp/prom 127.0.0.1:8080)
#   curl "$url/api/v1/query?query=up"
set -euo pipefail

command=${1:-}
dir=${2:-}
[ -n "$command" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|url DIR [TARGET...]" >&2; exit 2; }
shift 2 || true

log() { echo "prometheus.sh: $*" >&2; }

install_server() {
  command -v prometheus >/dev/null && return
  log "installing prometheus from Debian"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends prometheus >&2
  # The package starts a system-wide server on :9090; this script runs its own.
  $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

url() { echo "http://127.0.0.1:$(cat "$dir/port")"; }

running() { [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; }

start() {
  install_server
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)
  if running; then url; return; fi
  {
    echo "global: {scrape_interval: 1s, evaluation_interval: 1s}"
    echo "scrape_configs:"
    echo "  - job_name: targets"
    echo "    static_configs:"
    echo "      - targets: [$(IFS=,; echo "${*:-}")]"
  } >"$dir/prometheus.yml"
  free_port >"$dir/port"
  local port
  port=$(cat "$dir/port")
  log "starting on 127.0.0.1:$port"
  setsid prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" >"$dir/server.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  for _ in $(seq 600); do
    if curl -fsS "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1; then url; return; fi
    running || { tail -20 "$dir/server.log" >&2; exit 1; }
    sleep 0.1
  done
  log "not ready after 60 s"; tail -20 "$dir/server.log" >&2; exit 1
}

stop() {
  if running; then
    kill "$(cat "$dir/pid")"
    while running; do sleep 0.1; done
    rm -f "$dir/pid"
  else
    log "not running ($dir)"
  fi
}

case "$command" in
  start) start "$@" ;;
  stop) stop ;;
  url) running && url || { log "not running ($dir)"; exit 1; } ;;
  *) echo "usage: $0 start|stop|url DIR [TARGET...]" >&2; exit 2 ;;
esac
