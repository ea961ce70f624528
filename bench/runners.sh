#!/usr/bin/env bash
# Remote runner benchmark (issue 15, docs/benchmarks.md): a real `slipway
# serve` and R real `slipway runner` processes on loopback.
# 1. Throughput and dispatch latency: a project (executor remote) whose
#    pipeline has N no-op jobs in K = R x C chains (job i needs job i-K), so
#    that a job becomes ready when a slot frees. Each script appends the
#    moment it starts (ms) to a file; the jobs API gives when each job was
#    queued (started_at - queued_duration: pending, GitLab's ready), when a
#    runner took it (started_at) and when it ended. Prints jobs/s over the
#    pipeline (first queued to last finished) and, per job, ready -> lease
#    and ready -> script start (also without the first R x C jobs, which
#    wait for the commit to reach each runner): median, p90, p99, max.
# 2. A runner killed with SIGKILL during a job: the time from the kill to the
#    job's failing (runner_system_failure) with --runner-lease-timeout L s.
# No hyperfine: both figures are measured inside one run.
# Usage: bench/runners.sh [build-dir] [jobs] [runners] [concurrency] [lease-timeout-s]
# With PERF_OUT=FILE, `perf record -g` samples the server during phase 1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
jobs=${2:-1000}
runners=${3:-4}
concurrency=${4:-4}
lease=${5:-3}
slipway=$build/slipway
[ -x "$slipway" ] || { echo "build slipway first: $slipway" >&2; exit 2; }
work=$(mktemp -d)
chmod 755 "$work"
pids=()
runner_pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

chains=$((runners * concurrency))
repo=$work/repo
mkdir -p "$repo"
python3 - "$jobs" "$chains" "$work/starts" >"$repo/.gitlab-ci.yml" <<'PY'
import sys
jobs, chains, starts = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for i in range(jobs):
    needs = f"[j{i - chains}]" if i >= chains else "[]"
    print(f"j{i}:\n  needs: {needs}\n  script:\n"
          f"    - echo \"$CI_JOB_ID $(date +%s%3N)\" >> {starts}")
PY
(cd "$repo" && git init -q -b main && git add -A && git -c user.email=b@e -c user.name=b commit -qm b)
data=$work/data
admin=$("$slipway" token create --data "$data" --name bench --role admin)
"$slipway" project add --data "$data" app "$repo" --executor remote >/dev/null
slow=$work/slow  # Project 2: one job that sleeps (phase 2).
mkdir -p "$slow"
printf 'slow:\n  script:\n    - sleep 120\n' >"$slow/.gitlab-ci.yml"
(cd "$slow" && git init -q -b main && git add -A && git -c user.email=b@e -c user.name=b commit -qm b)
"$slipway" project add --data "$data" slow "$slow" --executor remote >/dev/null

start_server() {  # extra serve options; sets url
  : >"$work/serve.out"
  "$slipway" serve --data "$data" --listen 127.0.0.1:0 --log-level warn --jobs "$chains" \
    --max-pipelines 1 "$@" >"$work/serve.out" 2>"$work/serve.err" &
  server=$!
  pids+=("$server")
  while ! grep -q "listening on" "$work/serve.out"; do
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
    sleep 0.05
  done
  url=$(awk '{print $NF}' "$work/serve.out")
}
start_runner() {  # name [extra]; sets runner
  local token
  token=$("$slipway" token create --data "$data" --name "$1" --role runner)
  "$slipway" runner --url "$url" --token "$token" --dir "$work/$1" --concurrency "$2" \
    >"$work/$1.log" 2>&1 &
  runner=$!
  pids+=("$runner")
  runner_pids+=("$runner")
}
api() { curl -sf -H "PRIVATE-TOKEN: $admin" "$@"; }
wait_online() {  # count
  until [ "$(api "$url/api/v4/runners" | python3 -c \
    'import json,sys; print(sum(r["online"] for r in json.load(sys.stdin)))')" = "$1" ]; do
    sleep 0.1
  done
}

# 1. Throughput and dispatch latency.
start_server --runner-lease-timeout 30
for r in $(seq 1 "$runners"); do start_runner "runner-$r" "$concurrency"; done
wait_online "$runners"
perf_pid=
if [ -n "${PERF_OUT:-}" ]; then
  perf record -g -o "$PERF_OUT" -p "$server" >/dev/null 2>&1 &
  perf_pid=$!
fi
pipeline=$(api -X POST "$url/api/v4/projects/1/pipeline?ref=main" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
until api "$url/api/v4/projects/1/pipelines/$pipeline" | python3 -c \
  'import json,sys; sys.exit(0 if json.load(sys.stdin)["status"] in ("success","failed","canceled") else 1)'; do
  sleep 0.5
done
[ -n "$perf_pid" ] && kill -INT "$perf_pid" && wait "$perf_pid" || true
# CPU time (user + system, clock ticks) since each started: the server's and
# the runners' own (fields 14, 15 of /proc/PID/stat), and the job processes'
# the runners waited for (16, 17).
cpu() { awk '{ sub(/^.*\) /, ""); print $12 + $13, $14 + $15 }' "/proc/$1/stat"; }
server_cpu=$(cpu "$server")
runner_cpu=$(for p in "${runner_pids[@]}"; do cpu "$p"; done |
  awk '{ own += $1; jobs += $2 } END { print own, jobs }')
for page in $(seq 1 $(((jobs + 99) / 100))); do
  api "$url/api/v4/projects/1/pipelines/$pipeline/jobs?per_page=100&page=$page"
  echo
done >"$work/jobs.json"
python3 - "$work/jobs.json" "$work/starts" "$jobs" "$runners" "$concurrency" \
  "$(getconf CLK_TCK) $server_cpu $runner_cpu" <<'PY'
import json, sys
from datetime import datetime
def ms(iso):
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000
jobs = [j for line in open(sys.argv[1]) if line.strip() for j in json.loads(line)]
starts = dict(map(int, l.split()) for l in open(sys.argv[2]))
n, runners, conc = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
bad = [j["name"] for j in jobs if j["status"] != "success"]
assert len(jobs) == n and not bad, f"{len(jobs)} jobs, not successful: {bad[:5]}"
ready = {j["id"]: ms(j["started_at"]) - j["queued_duration"] * 1000 for j in jobs}
leased = {j["id"]: j["queued_duration"] * 1000 for j in jobs}
names = {j["id"]: j["name"] for j in jobs}
to_script = {i: starts[i] - ready[i] for i in ready}
span = (max(ms(j["finished_at"]) for j in jobs) - min(ready.values())) / 1000
def q(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(p * len(v)))]
print(f"{n} jobs, {runners} runners x {conc}: {span:.2f} s, {n / span:.1f} jobs/s")
print("| figure | median | p90 | p99 | max |\n|---|---|---|---|---|")
# The first R x C jobs are each runner's first of the commit: they wait for
# its bundle, git fetch and checkout, once per runner and commit.
warm = {i: d for i, d in to_script.items() if int(names[i][1:]) >= runners * conc}
for name, d in (("ready -> leased (ms)", leased), ("ready -> script starts (ms)", to_script),
                ("ready -> script starts, after the first R x C jobs (ms)", warm)):
    vals = list(d.values())
    print(f"| {name} | {q(vals, .5):.0f} | {q(vals, .9):.0f} | {q(vals, .99):.0f} | {max(vals):.0f} |")
tck, server, _, runners_own, jobs_cpu = map(float, sys.argv[6].split())
print(f"CPU per job (ms, since start): server {server / tck / n * 1000:.1f}, "
      f"runners {runners_own / tck / n * 1000:.1f}, job processes {jobs_cpu / tck / n * 1000:.1f}")
PY

# 2. A runner killed with SIGKILL: its job fails within the lease timeout.
for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()
start_server --runner-lease-timeout "$lease"
start_runner victim 1
wait_online 1
pipeline=$(api -X POST "$url/api/v4/projects/2/pipeline?ref=main" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
job_status() { api "$url/api/v4/projects/2/pipelines/$pipeline/jobs" | python3 -c \
  'import json,sys; j=json.load(sys.stdin)[0]; print(j["status"], j.get("failure_reason") or "")'; }
until [ "$(job_status | cut -d' ' -f1)" = "running" ]; do sleep 0.05; done
sleep 1  # The script runs.
killed=$(date +%s%3N)
kill -9 "$runner"
until [ "$(job_status | cut -d' ' -f1)" != "running" ]; do sleep 0.02; done
ended=$(date +%s%3N)
echo "runner killed -9 during a job: $(job_status) after $((ended - killed)) ms" \
  "(--runner-lease-timeout $lease s)"
