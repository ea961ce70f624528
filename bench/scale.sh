#!/usr/bin/env bash
# What one PostgreSQL can carry for slipway (docs/scale.md): the database
# side of job claims, live log writes and NOTIFY wake-ups, measured with
# pgbench on slipway's own schema (made by slipway's migrations) in a
# throwaway PostgreSQL 15 on loopback (scripts/postgres.sh, fsync on).
#   claim   UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1)
#           of a pending job, by 1, 4 and 16 clients at once: claims/s.
#   log     INSERT of a 4 KiB chunk into job_log_chunks (the live log):
#           chunks/s and MB/s, 4 and 16 clients.
#   notify  NOTIFY with 0, 16 and 128 sessions LISTENing on the channel:
#           notifications/s (each one reaches every listener).
#   per job what a real `slipway serve` on that database writes for one
#           job: a pipeline of JOBS (default 200) jobs that each print 100
#           lines, run through the API; transactions, rows and log bytes
#           per job, from pg_stat_database.
# Each pgbench case runs SECONDS_PER_CASE seconds (default 10).
# Usage: bench/scale.sh [build-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
seconds=${SECONDS_PER_CASE:-10}
slipway=$build/slipway
bindir=/usr/lib/postgresql/15/bin
[ -x "$slipway" ] || { echo "build slipway first: $slipway" >&2; exit 2; }
jobs=${JOBS:-200}
work=$(mktemp -d)
chmod 755 "$work"  # A root server's jobs run as another user.
listeners=()
pid=
cleanup() {
  # Each listener is a process group of its own (setsid): psql and its sleep.
  for p in "${listeners[@]}"; do kill -- "-$p" 2>/dev/null || true; done
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  bash "$root/scripts/postgres.sh" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u +%FT%TZ)"
url=$(bash "$root/scripts/postgres.sh" start "$work/pg" 2>/dev/null)
# slipway's migrations make the schema (any command that opens the store).
token=$("$slipway" token create --data "$work/data" --database "$url" --name bench --role admin)
port=${url##*:}
port=${port%%/*}
pgbench() { runuser -u postgres -- "$bindir/pgbench" -h 127.0.0.1 -p "$port" -U slipway -n \
  -T "$seconds" -j 2 "$@" slipway_test; }
psql() { runuser -u postgres -- "$bindir/psql" -h 127.0.0.1 -p "$port" -U slipway -qtA \
  -v ON_ERROR_STOP=1 -d slipway_test "$@"; }


# What a real server writes per job: JOBS jobs of 100 log lines each.
repo=$work/repo
mkdir -p "$repo"
python3 - "$jobs" >"$repo/.gitlab-ci.yml" <<'PY'
import sys
for i in range(int(sys.argv[1])):
    print(f"job{i}:\n  script:\n    - for i in $(seq 1 100); do echo \"line $i of job {i}\"; done")
PY
(cd "$repo" && git init -q -b main && git add -A && git -c user.email=b@e -c user.name=b commit -qm b)
project=$("$slipway" project add --data "$work/data" --database "$url" app "$repo")
"$slipway" serve --data "$work/data" --database "$url" --listen 127.0.0.1:0 --log-level warn \
  >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
while ! grep -q "listening on" "$work/serve.out"; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
  sleep 0.05
done
api=$(awk '{print $NF}' "$work/serve.out")/api/v4/projects/$project
counters() {
  psql -F' ' -c "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted
                   FROM pg_stat_database WHERE datname = current_database()"
}
psql -c "SELECT pg_stat_force_next_flush()" >/dev/null
read -r c0 i0 u0 d0 < <(counters)
log0=$(psql -c "SELECT coalesce(sum(size), 0) FROM job_log_chunks")
start=$(date +%s.%N)
pipeline=$(curl -sf -H "PRIVATE-TOKEN: $token" -H 'Content-Type: application/json' \
  -d '{"ref":"main"}' "$api/pipeline" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
status() { curl -sf -H "PRIVATE-TOKEN: $token" "$api/pipelines/$pipeline" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }
while [ "$(status)" != success ]; do sleep 0.2; done
took=$(python3 -c "import time; print('%.1f' % ($(date +%s.%N) - $start))")
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
sleep 1  # The statistics collector flushes on backend exit.
read -r c1 i1 u1 d1 < <(counters)
log1=$(psql -c "SELECT coalesce(sum(size), 0) FROM job_log_chunks")
per() { python3 -c "print('%.1f' % (($2 - $1) / $jobs))"; }
echo "| a real server, $jobs jobs of 100 log lines ($took s) | per job |"
echo "|---|---|"
echo "| transactions committed | $(per "$c0" "$c1") |"
echo "| rows inserted / updated / deleted | $(per "$i0" "$i1") / $(per "$u0" "$u1") / $(per "$d0" "$d1") |"
echo "| log bytes stored | $(per "$log0" "$log1") |"
echo

# One project, one pipeline, a million pending jobs to claim from.
psql <<'SQL' >/dev/null
INSERT INTO pipelines (project_id, iid, ref, sha, status, source, created_at, updated_at)
  SELECT id, 1000, 'main', repeat('a', 40), 'running', 'push', 0, 0 FROM projects;
INSERT INTO jobs (pipeline_id, name, stage, status, created_at)
  SELECT (SELECT max(id) FROM pipelines), 'job ' || g, 'test', 'pending', 0
  FROM generate_series(1, 1000000) g;
VACUUM ANALYZE jobs;
SQL
cat >"$work/claim.sql" <<'SQL'
UPDATE jobs SET status = 'running', runner = 'bench', started_at = 1
 WHERE id = (SELECT id FROM jobs WHERE status = 'pending' ORDER BY id
             FOR UPDATE SKIP LOCKED LIMIT 1);
SQL
cat >"$work/log.sql" <<'SQL'
\set job random(1, 1000000)
INSERT INTO job_log_chunks (job_id, byte_offset, size, data)
  VALUES (:job, nextval('bench_offsets'), 4096, convert_to(repeat('x', 4096), 'UTF8'));
SQL
psql -c "CREATE SEQUENCE bench_offsets" >/dev/null
printf 'NOTIFY slipway_bench, '"'"'pipeline 42'"'"';\n' >"$work/notify.sql"
chmod 644 "$work"/*.sql

tps() { sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1; }
echo "| case | clients | per second |"
echo "|---|---|---|"
for c in 1 4 16; do
  echo "| claim a pending job (SKIP LOCKED), schema as it is | $c | $(pgbench -c "$c" -f "$work/claim.sql" | tps) |"
done
# The claimed jobs pile up in front of the pending ones in id order; an
# index of the pending jobs alone keeps each claim at one index probe.
psql -c "CREATE INDEX bench_pending ON jobs (id) WHERE status = 'pending'" >/dev/null
for c in 1 4 16; do
  echo "| the same, with an index of pending jobs | $c | $(pgbench -c "$c" -f "$work/claim.sql" | tps) |"
done
claimed=$(psql -c "SELECT count(*) FROM jobs WHERE status = 'running' AND runner = 'bench'")
for c in 4 16; do
  t=$(pgbench -c "$c" -f "$work/log.sql" | tps)
  echo "| append a 4 KiB log chunk | $c | $t chunks = $(python3 -c "print('%.1f' % ($t * 4096 / 1e6))") MB/s |"
done
for n in 0 16 128; do
  while [ "${#listeners[@]}" -lt "$n" ]; do
    # A session that LISTENs and stays connected, idle, as a replica would.
    setsid bash -c '(echo "LISTEN slipway_bench;"; sleep 3600) | "$@"' listener \
      runuser -u postgres -- "$bindir/psql" -h 127.0.0.1 -p "$port" -U slipway -qtA \
      -d slipway_test >/dev/null 2>&1 &
    listeners+=($!)
  done
  sleep 1
  echo "| NOTIFY, $n listening sessions | 4 | $(pgbench -c 4 -f "$work/notify.sql" | tps) |"
done
echo "jobs claimed in all: $claimed (each exactly once: $(psql -c \
  "SELECT count(*) = count(DISTINCT id) FROM jobs WHERE runner = 'bench'"))"
