#!/usr/bin/env bash
# Takeover after `kill -9` of a server replica (docs/replicas.md): two real
# `slipway serve` replicas (a and b) on one throwaway PostgreSQL 15
# (scripts/postgres.sh, loopback), one data directory, their own builds
# directories. Each run: replica a (started again under its id when a run
# killed it) gets a pipeline whose one job sleeps; once the job is running,
# hyperfine times `kill -9` of a until replica b's API shows that job ended
# (failed with runner_system_failure: b took the pipeline over and
# recovered it). Each lease timeout given (seconds) is one hyperfine case.
# Usage: bench/replicas.sh [build-dir] [lease-timeout ...]   (default: 30 3)
#        RUNS (default 3) runs per case.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = prepare ] || [ "${1:-}" = takeover ]; then
  # The steps hyperfine runs; the state is in $BENCH_WORK.
  work=$BENCH_WORK
  step=$1
  start_a() {
    setsid "$BENCH_SLIPWAY" serve --data "$work/data" --database "$BENCH_URL" \
      --builds-dir "$work/builds-a" --replica-id a --listen 127.0.0.1:0 --log-level warn \
      --lease-timeout "$BENCH_LEASE" --runner-lease-timeout "$BENCH_RUNNER_LEASE" \
      >"$work/a.out" 2>>"$work/a.err" &
    echo $! >"$work/a.pid"
    while ! grep -q "listening on" "$work/a.out"; do sleep 0.02; done
    awk '{print $NF}' "$work/a.out" >"$work/a.url"
  }
  if [ "$step" = prepare ]; then
    # The job a killed replica left runs on (nothing else kills it here).
    if [ -s "$work/marks/job.pid" ]; then
      kill -9 -- "-$(cat "$work/marks/job.pid")" 2>/dev/null || true
      rm -f "$work/marks/job.pid"
    fi
    a_pid=$(cat "$work/a.pid" 2>/dev/null || true)
    if [ -z "$a_pid" ] || ! kill -0 "$a_pid" 2>/dev/null; then start_a; fi
    a=$(cat "$work/a.url")
    id=$(curl -sf -X POST -H "PRIVATE-TOKEN: $BENCH_TOKEN" \
      "$a/api/v4/projects/1/pipeline?ref=main" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    echo "$id" >"$work/pipeline"
    until [ -s "$work/marks/job.pid" ]; do sleep 0.02; done
    exit 0
  fi
  id=$(cat "$work/pipeline")
  b=$(cat "$work/b.url")
  kill -9 "$(cat "$work/a.pid")"
  until curl -sf -H "PRIVATE-TOKEN: $BENCH_TOKEN" \
    "$b/api/v4/projects/1/pipelines/$id/jobs?include_retried=true" |
    grep -q '"failure_reason":"runner_system_failure"'; do
    sleep 0.05
  done
  exit 0
fi

build=${1:-$root/build}
shift || true
leases=("$@")
[ ${#leases[@]} -gt 0 ] || leases=(30 3)
runs=${RUNS:-3}
slipway=$build/slipway
[ -x "$slipway" ] || { echo "build slipway first: $slipway" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 2; }
work=$(mktemp -d)
chmod 755 "$work"  # A root server's jobs run as another user.
b_pid=
cleanup() {
  [ -s "$work/a.pid" ] && kill -9 "$(cat "$work/a.pid")" 2>/dev/null || true
  [ -s "$work/marks/job.pid" ] && kill -9 -- "-$(cat "$work/marks/job.pid")" 2>/dev/null || true
  if [ -n "$b_pid" ]; then kill "$b_pid" 2>/dev/null || true; wait "$b_pid" 2>/dev/null || true; fi
  bash "$root/scripts/postgres.sh" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u +%FT%TZ)"
url=$(bash "$root/scripts/postgres.sh" start "$work/pg" 2>/dev/null)
mkdir -p "$work/marks" "$work/repo"
chmod 1777 "$work/marks"
cat >"$work/repo/.gitlab-ci.yml" <<EOF
held:
  script:
    - echo \$\$ > $work/marks/job.pid
    - sleep 600
EOF
(cd "$work/repo" && git init -q -b main && git add -A &&
  git -c user.email=b@e -c user.name=b commit -qm b)
"$slipway" project add --data "$work/data" --database "$url" app "$work/repo" >/dev/null
token=$("$slipway" token create --data "$work/data" --database "$url" --name bench --role admin)
export BENCH_WORK=$work BENCH_URL=$url BENCH_TOKEN=$token BENCH_SLIPWAY=$slipway

for lease in "${leases[@]}"; do
  # serve refuses a lease timeout below 2/3 of the runner lease timeout
  # plus 1 s (docs/replicas.md): the longest runner lease it takes, at most
  # the default 30 (no runner here); 1 s leaves none.
  runner_lease=$((3 * (lease - 1) / 2))
  [ "$runner_lease" -le 30 ] || runner_lease=30
  [ "$runner_lease" -ge 1 ] || { echo "--lease-timeout $lease: replicas need at least 2" >&2; exit 2; }
  export BENCH_LEASE=$lease BENCH_RUNNER_LEASE=$runner_lease
  if [ -n "$b_pid" ]; then kill "$b_pid"; wait "$b_pid" 2>/dev/null || true; fi
  [ -s "$work/a.pid" ] && kill -9 "$(cat "$work/a.pid")" 2>/dev/null || true
  rm -f "$work/a.pid"
  "$slipway" serve --data "$work/data" --database "$url" --builds-dir "$work/builds-b" \
    --replica-id b --listen 127.0.0.1:0 --log-level warn --lease-timeout "$lease" \
    --runner-lease-timeout "$runner_lease" \
    >"$work/b.out" 2>"$work/b.err" &
  b_pid=$!
  while ! grep -q "listening on" "$work/b.out"; do sleep 0.05; done
  awk '{print $NF}' "$work/b.out" >"$work/b.url"
  hyperfine ${HYPERFINE_FLAGS:-} --runs "$runs" --export-json "$work/lease-$lease.json" \
    --prepare "bash $0 prepare" -n "kill -9, --lease-timeout $lease" "bash $0 takeover"
  python3 - "$work/lease-$lease.json" "$lease" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"][0]["times"]
print(f"--lease-timeout {sys.argv[2]}: takeover median {statistics.median(r):.2f} s, "
      f"min {min(r):.2f} s, max {max(r):.2f} s over {len(r)} runs")
PY
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
