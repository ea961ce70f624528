#!/usr/bin/env bash
# Server benchmark: `slipway serve` on loopback, driven by wrk (Debian).
# - requests/s and p99 latency for listing pipelines (read from SQLite each
#   time) and for reading a finished pipeline and a finished job (answered
#   from the response cache);
# - N live-log watchers (SSE) on one busy job (bench/sse_watchers.py);
# - a finished job's 3 MB log (`GET .../trace`) read by 64 clients at once;
# - resident memory (VmRSS): idle; the highest seen during the wrk runs and
#   during the watchers (sampled every 100 ms, and VmHWM); and 5 s after the
#   last request, when the load has ended.
# The wrk runs are made twice, with the request log off (--log-level warn:
# no line per request) and on (info, the default: one JSON line per request
# on stderr, written to a file), on the same data, one server after the other.
# wrk and the server share the machine's cores. Prints Markdown tables.
# Usage: bench/serve.sh [build-dir] [seconds per wrk run] [watchers]
# With PERF_OUT=FILE, `perf record -g` samples the server while the watchers stream.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
seconds=${2:-10}
watchers=${3:-1000}
slipway=$build/slipway
[ -x "$slipway" ] || { echo "build slipway first: $slipway" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 2; }
work=$(mktemp -d)
chmod 755 "$work"  # A root server's jobs run as another user: they must reach DATA-builds.
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

repo=$work/repo
mkdir -p "$repo"
cat >"$repo/.gitlab-ci.yml" <<'YAML'
stages: [build, test]
build:
  stage: build
  script:
    - for i in $(seq 1 200); do echo "compiling unit $i"; done
test:
  stage: test
  script:
    - echo tests pass
log:
  stage: test
  script:
    - for i in $(seq 1 50000); do echo "line $i of a long job log, long enough to weigh 3 MB"; done
busy:
  stage: test
  rules:
    - if: $BUSY == "1"
  script:
    - sleep 2
    - for i in $(seq 1 400); do echo "busy line $i $(date +%s%N)"; sleep 0.01; done
YAML
(cd "$repo" && git init -q -b main && git add -A && git -c user.email=b@e -c user.name=b commit -qm b)
data=$work/data
token=$("$slipway" token create --data "$data" --name bench --role admin)
project=$("$slipway" project add --data "$data" app "$repo")
start_server() {  # log level; sets pid and url
  if [ -n "$pid" ]; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
  : >"$work/serve.out"
  "$slipway" serve --data "$data" --listen 127.0.0.1:0 --log-level "$1" >"$work/serve.out" 2>"$work/serve.err" &
  pid=$!
  while ! grep -q "listening on" "$work/serve.out"; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
    sleep 0.05
  done
  url=$(awk '{print $NF}' "$work/serve.out")
  api=$url/api/v4/projects/$project
  sleep 1
}
start_server warn  # The request log off for the first runs (below).
rss_kib() { awk -v k="$1" '$1 == k":" {print $2}' /proc/$pid/status; }
# The largest VmRSS seen while a phase runs: sampled every 100 ms.
sampler=
sample_start() {
  : >"$work/rss"
  while kill -0 "$pid" 2>/dev/null; do rss_kib VmRSS >>"$work/rss"; sleep 0.1; done &
  sampler=$!
}
sample_stop() {  # prints the largest sample, KiB
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
  sort -n "$work/rss" | tail -1
}

create() {  # variables-json -> pipeline id
  curl -sf -H "PRIVATE-TOKEN: $token" -H 'Content-Type: application/json' \
    -d "{\"ref\":\"main\",\"variables\":$1}" "$api/pipeline" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
status() { curl -sf -H "PRIVATE-TOKEN: $token" "$api/pipelines/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }
pipeline=$(create '[]')
while [ "$(status "$pipeline")" != success ]; do sleep 0.2; done
jobs_json=$(curl -sf -H "PRIVATE-TOKEN: $token" "$api/pipelines/$pipeline/jobs")
job_id() { python3 -c 'import json,sys; print(next(j["id"] for j in json.load(sys.stdin) if j["name"] == sys.argv[1]))' "$1" <<<"$jobs_json"; }
job=$(job_id build)
log_job=$(job_id log)

bench() {  # label path
  wrk -t2 -c64 -d"${seconds}s" --latency -H "PRIVATE-TOKEN: $token" "$url$2" >"$work/wrk" 2>&1
  local rps p99
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$work/wrk")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/, "", v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v*=1000}; printf "%.2f", v}' "$work/wrk")
  printf '| %s | %s | %s |\n' "$1" "$rps" "$p99"
}
cheap_benches() {
  bench "list pipelines (\`GET /projects/:id/pipelines\`)" "/api/v4/projects/$project/pipelines"
  bench "finished pipeline (\`GET /projects/:id/pipelines/:pid\`, cached)" "/api/v4/projects/$project/pipelines/$pipeline"
  bench "finished job (\`GET /projects/:id/jobs/:job_id\`, cached)" "/api/v4/projects/$project/jobs/$job"
}
# Log off first, then on (the server that stays for the rest).
echo "request log off (--log-level warn):"
echo
printf '| request | requests/s | p99 ms |\n|---|---|---|\n'
cheap_benches
bench "\`/healthz\`" "/healthz"
start_server info
idle_rss=$(rss_kib VmRSS)
log_before=$(wc -l <"$work/serve.err")
echo
echo "request log on (--log-level info, JSON lines to a file):"
echo
printf '| request | requests/s | p99 ms |\n|---|---|---|\n'
cheap_benches
sample_start
bench "\`/healthz\`" "/healthz"
bench "finished job's 3 MB log (\`GET /projects/:id/jobs/:job_id/trace\`)" "/api/v4/projects/$project/jobs/$log_job/trace"
load_rss=$(sample_stop)
load_hwm=$(rss_kib VmHWM)
echo
echo "log lines written during the runs with the log on: $(( $(wc -l <"$work/serve.err") - log_before )) ($(du -k "$work/serve.err" | cut -f1) KiB)"

busy_pipeline=$(create '[{"key":"BUSY","value":"1"}]')
busy_job=
while [ -z "$busy_job" ]; do
  busy_job=$(curl -sf -H "PRIVATE-TOKEN: $token" "$api/pipelines/$busy_pipeline/jobs?scope=running" |
    python3 -c 'import json,sys; print(next((j["id"] for j in json.load(sys.stdin) if j["name"] == "busy"), ""))')
  sleep 0.1
done
cpu_before=$(awk '{print $14 + $15}' /proc/$pid/stat)
[ -n "${PERF_OUT:-}" ] && { perf record -g -p $pid -o "$PERF_OUT" & perf_pid=$!; }
sample_start
watch_result=$(python3 "$root/bench/sse_watchers.py" "$url" "$token" "$project" "$busy_job" "$watchers")
watch_rss=$(sample_stop)
cpu_after=$(awk '{print $14 + $15}' /proc/$pid/stat)
[ -n "${PERF_OUT:-}" ] && { kill -INT $perf_pid; wait $perf_pid || true; }
peak_rss=$(rss_kib VmHWM)
sleep 5
after_rss=$(rss_kib VmRSS)
mib() { echo "$(( ($1 + 512) / 1024 ))"; }
echo
echo "live log: $watch_result; server CPU while streaming: $(( (cpu_after - cpu_before) * 10 )) ms"
echo
echo "| resident memory (VmRSS) | MiB |"
echo "|---|---|"
echo "| idle, after start | $(mib "$idle_rss") |"
echo "| during the wrk runs (highest sample; VmHWM) | $(mib "$load_rss") ($(mib "$load_hwm")) |"
echo "| during the $watchers watchers (highest sample) | $(mib "$watch_rss") |"
echo "| peak over the whole run (VmHWM) | $(mib "$peak_rss") |"
echo "| 5 s after the last request | $(mib "$after_rss") |"
