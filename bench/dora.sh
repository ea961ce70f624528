#!/usr/bin/env bash
# DORA query benchmark (issue 13): one project with 10,000 production
# deployments over a year (every 52.6 minutes, one in ten failed), 100,000
# recorded commits (10 per deployment), 500 incidents linked to failed
# deployments; `slipway dora` over the whole year, on SQLite and on
# PostgreSQL, timed with hyperfine. The figure is the whole command (process
# start, opening the store, the queries, the table): an upper bound on the
# query. Target: < 100 ms each.
# Usage: bench/dora.sh [build-dir]
# PostgreSQL: SLIPWAY_TEST_POSTGRES_URL (scripts/postgres.sh start), else skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
slipway=$build/slipway
[ -x "$slipway" ] || { echo "build slipway first: $slipway" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is missing (apt-get install hyperfine)" >&2; exit 2; }
work=$(mktemp -d)
# serve runs jobs as other users, who must pass through here (none run).
chmod 711 "$work"
pg_db=
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ -n "$pg_db" ] && psql -q "$SLIPWAY_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

t0=1735689600000   # 2025-01-01T00:00:00Z
step=3153600       # 365 days / 10,000, in ms
# $1: an expression giving 40 hex digits from an integer expression $2.
data_sql() {
  local hex_i=$1 hex_c=$2 series_d=$3 series_c=$4 series_i=$5
  cat <<SQL
INSERT INTO environments (project_id, name, external_url, tier, state, created_at, updated_at)
  VALUES (1, 'production', '', 'production', 'available', $t0, $t0);
INSERT INTO deployments (project_id, iid, environment_id, ref, sha, status, created_at, updated_at, finished_at)
  SELECT 1, i, 1, 'main', $hex_i, CASE WHEN i % 10 = 3 THEN 'failed' ELSE 'success' END,
         $t0 + i * $step - 600000, $t0 + i * $step, $t0 + i * $step FROM $series_d;
INSERT INTO deployment_commits (deployment_id, sha, committed_at)
  SELECT i / 10 + 1, $hex_c, $t0 + (i / 10 + 1) * $step - (i % 10 + 1) * 3600000 FROM $series_c;
INSERT INTO incidents (project_id, iid, title, status, source, deployment_id, created_at, updated_at, resolved_at)
  SELECT 1, i + 1, 'incident', 'resolved', 'api', i * 10 + 3, $t0 + (i * 10 + 3) * $step + 60000,
         $t0 + (i * 10 + 3) * $step + 1860000, $t0 + (i * 10 + 3) * $step + 1860000 FROM $series_i;
UPDATE projects SET last_deployment_iid = 10000, last_incident_iid = 500;
SQL
}

# Times `slipway dora ARGS…` three ways; prints one Markdown row each: wall
# time (the machine is shared: wall includes waiting for a core) and the CPU
# time the command used (user + system), means over 30 runs.
measure() {  # $1: label; the rest: slipway's arguments
  local label=$1
  shift
  hyperfine -N --warmup 3 --runs 30 --export-json "$work/h.json" \
    -n "$label: all six metrics" "$slipway $*" \
    -n "$label: lead_time_for_changes" "$slipway $* --metric lead_time_for_changes" \
    -n "$label: deployment_frequency daily" \
    "$slipway $* --metric deployment_frequency --interval daily" >/dev/null
  python3 - "$work/h.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("| %s | %.1f ms | %.1f ms |" % (r["command"], r["mean"] * 1000,
                                           (r["user"] + r["system"]) * 1000))
PY
}

# The same queries through a running server's API (GET /projects/1/dora/metrics,
# one metric each, as GitLab's endpoint takes them): no process start, the
# store already open. Prints rows as measure() does (CPU: the client's, not
# the server's: left blank).
measure_api() {  # $1: label; the rest: serve's store options
  local label=$1
  shift
  local token
  token=$("$slipway" token create --name bench --role read "$@")
  "$slipway" serve "$@" --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
  pid=$!
  while ! grep -q "listening on" "$work/serve.out"; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
    sleep 0.05
  done
  local base
  base=$(sed -n 's/.*listening on //p' "$work/serve.out" | head -1)
  local q="$base/api/v4/projects/1/dora/metrics?start_date=2025-01-01&end_date=2025-12-31"
  hyperfine -N --warmup 3 --runs 30 --export-json "$work/h.json" \
    -n "$label API: lead_time_for_changes, all" \
    "curl -sf -H PRIVATE-TOKEN:$token $q&interval=all&metric=lead_time_for_changes" \
    -n "$label API: change_failure_rate, monthly" \
    "curl -sf -H PRIVATE-TOKEN:$token $q&interval=monthly&metric=change_failure_rate" \
    -n "$label API: deployment_frequency, daily" \
    "curl -sf -H PRIVATE-TOKEN:$token $q&interval=daily&metric=deployment_frequency" >/dev/null
  python3 - "$work/h.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("| %s | %.1f ms | |" % (r["command"], r["mean"] * 1000))
PY
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}

echo "| query | wall (mean) | CPU user+sys (mean) |"
echo "|---|---|---|"

# SQLite.
mkdir -p "$work/data"
"$slipway" project add bench /srv/bench.git --no-check --data "$work/data" >/dev/null
rm -f "$work/data/slipway.db-shm"
data_sql "printf('%040x', i)" "printf('%040x', 1000000 + i)" \
  "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) SELECT i FROM n)" \
  "(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999) SELECT i FROM n)" \
  "(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 499) SELECT i FROM n)" |
  sqlite3 "$work/data/slipway.db"
sqlite3 "$work/data/slipway.db" "ANALYZE"
args=(dora --project bench --start-date 2025-01-01 --end-date 2025-12-31 --data "$work/data")
"$slipway" "${args[@]}" >&2
measure SQLite "${args[@]}"
measure_api SQLite --data "$work/data"

# PostgreSQL.
if [ -z "${SLIPWAY_TEST_POSTGRES_URL:-}" ]; then
  echo "PostgreSQL skipped: set SLIPWAY_TEST_POSTGRES_URL (scripts/postgres.sh start)" >&2
  exit 0
fi
pg_db=dora_bench_$$
psql -q "$SLIPWAY_TEST_POSTGRES_URL" -c "CREATE DATABASE $pg_db" >/dev/null
url=${SLIPWAY_TEST_POSTGRES_URL%/*}/$pg_db
"$slipway" project add bench /srv/bench.git --no-check --data "$work/pgdata" --database "$url" >/dev/null
data_sql "lpad(to_hex(i), 40, '0')" "lpad(to_hex(1000000 + i), 40, '0')" \
  "generate_series(1::bigint, 10000) AS i" "generate_series(0::bigint, 99999) AS i" \
  "generate_series(0::bigint, 499) AS i" |
  psql -q -v ON_ERROR_STOP=1 "$url" >/dev/null
psql -q "$url" -c "ANALYZE" >/dev/null
args=(dora --project bench --start-date 2025-01-01 --end-date 2025-12-31 --data "$work/pgdata"
  --database "$url")
"$slipway" "${args[@]}" >&2
measure PostgreSQL "${args[@]}"
measure_api PostgreSQL --data "$work/pgdata" --database "$url"
