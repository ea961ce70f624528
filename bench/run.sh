#!/usr/bin/env bash
# Run benchmark: slipway run vs gitlab-ci-local 4.64.1 (shell executor,
# --shell-isolation: a clean artifact space per job, the fair comparison) vs
# make -j2 (the floor) on the same generated pipelines, in one invocation.
#
# slipway and make: hyperfine, RUNS timed runs (default 10) after 2 warm-up
# runs. slipway runs one after another in the same project, as a developer
# runs it: .slipway/ keeps the earlier runs' logs (each run deletes its own
# snapshot and workspaces when it ends). Deleting .slipway/ before every run
# would time the file system, not slipway: on ext4 without a journal (this
# machine's) creating files soon after deleting thousands costs a scan of the
# recently deleted inodes per file (see docs/benchmarks.md).
# gitlab-ci-local: GLCL_RUNS timed runs (default 1; it takes seconds to
# minutes per run), timed with GNU time. Prints a Markdown table: min and median wall seconds,
# ratios of medians (and of minimums for slipway / make), peak RSS (MiB).
# Usage: bench/run.sh [build-dir] [--quick]   (--quick skips the slow peer runs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
quick=${2:-}
runs=${RUNS:-10}
glcl_runs=${GLCL_RUNS:-1}
slipway=$build/slipway
[ -x "$slipway" ] || { echo "build slipway first: $slipway" >&2; exit 2; }
(cd "$root/bench" && [ -x node_modules/.bin/gitlab-ci-local ] || npm ci --no-audit --no-fund >/dev/null)
glcl=$root/bench/node_modules/.bin/gitlab-ci-local
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home  # gitlab-ci-local keeps state under HOME; keep it out of the user's.
mkdir -p "$HOME"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u +%FT%TZ)"

# rss DIR CMD... -> peak RSS in KiB of one run (exits on failure).
rss() {
  local dir=$1; shift
  (cd "$dir" && /usr/bin/time -o "$work/rss" -f %M "$@" >"$work/out" 2>&1) || {
    echo "failed in $dir: $*" >&2; tail -20 "$work/out" >&2; exit 1; }
  tail -1 "$work/rss"
}

# glcl_times DIR -> "median_seconds peak_rss_kib" over GLCL_RUNS runs of
# gitlab-ci-local (wall from GNU time; its runs take seconds).
glcl_times() {
  local dir=$1 i rc=0
  : >"$work/g.txt"
  for ((i = 0; i < glcl_runs; i++)); do
    (cd "$dir" && /usr/bin/time -o "$work/g1" -f "%e %M" \
      "$glcl" --shell-isolation --concurrency 2 --no-color >"$work/out" 2>&1) || rc=$?
    [ "$rc" = 0 ] || { echo "gitlab-ci-local exited $rc in $dir:" >&2; tail -5 "$work/out" >&2; }
    tail -1 "$work/g1" >>"$work/g.txt"
  done
  python3 -c 'import statistics,sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
print("%.3f %d" % (statistics.median(float(r[0]) for r in rows), max(int(r[1]) for r in rows)))' "$work/g.txt"
}

# times JSON INDEX -> "min median" in seconds of one hyperfine result.
times() {
  python3 -c 'import json,statistics,sys
r = json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["times"]
print("%.4f %.4f" % (min(r), statistics.median(r)))' "$1" "$2"
}

new_repo() {  # kind n -> dir
  local dir=$work/$1-$2
  python3 "$root/bench/gen_run_pipeline.py" "$1" "$dir" "$2" >"$dir.cp"
  (cd "$dir" && git init -q -b main && git add -A && git -c user.email=b@e -c user.name=b commit -qm b)
  echo "$dir"
}

printf '| pipeline | slipway s min / median | make -j2 s min / median | gitlab-ci-local s | glcl / slipway | slipway / make (median, min) | slipway MiB | glcl MiB |\n'
printf '|---|---|---|---|---|---|---|---|\n'
row() {  # label dir run_glcl
  local label=$1 dir=$2 run_glcl=$3
  (cd "$dir" && hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/h.json" \
    "$slipway run --jobs 2" "make -s -j2 all" >/dev/null 2>&1) || {
    echo "slipway or make failed on $label" >&2; (cd "$dir" && "$slipway" run --jobs 2 | tail -20) >&2; exit 1; }
  read -r s_min s_med < <(times "$work/h.json" 0)
  read -r m_min m_med < <(times "$work/h.json" 1)
  local s_m g_t="-" g_m="-" ratio="-"
  rm -rf "$dir/.slipway"
  s_m=$(rss "$dir" "$slipway" run --jobs 2)
  if [ "$run_glcl" = yes ]; then
    read -r g_t g_m < <(glcl_times "$dir")
    g_m=$((g_m / 1024))
    ratio=$(printf '%.1fx' "$(echo "$g_t / $s_med" | bc -l)")
    g_t=$(printf '%.2f' "$g_t")
  fi
  printf '| %s | %.3f / %.3f | %.3f / %.3f | %s | %s | %.2fx, %.2fx | %d | %s |\n' "$label" \
    "$s_min" "$s_med" "$m_min" "$m_med" "$g_t" "$ratio" \
    "$(echo "$s_med / $m_med" | bc -l)" "$(echo "$s_min / $m_min" | bc -l)" $((s_m / 1024)) "$g_m"
}

for n in 20 100 300; do row "$n trivial jobs, one stage" "$(new_repo flat $n)" yes; done
row "needs chain of 20" "$(new_repo chain 20)" yes
if [ "$quick" = --quick ]; then
  row "needs chain of 100" "$(new_repo chain 100)" no
else
  row "needs chain of 100" "$(new_repo chain 100)" yes
fi
row "needs chain of 300" "$(new_repo chain 300)" no
row "project of 2000 files, 6 jobs in 2 stages" "$(new_repo files 2000)" yes
dag=$(new_repo sleepdag 0)
row "sleep DAG (critical path $(cat "$dag.cp") s)" "$dag" yes

demo=$work/demo
cp -r "$root/examples/demo" "$demo"
# gitlab-ci-local cannot resolve a `needs` on one parallel:matrix instance
# ("build: [gcc]"); both runners get the form it understands.
sed -i 's/needs: \["build: \[gcc\]"\]/needs: [build]/' "$demo/.gitlab-ci.yml"
(cd "$demo" && git init -q -b main && git add -A && git -c user.email=b@e -c user.name=b commit -qm b)
# Warm-up runs first: compilers and headers come into the page cache.
(cd "$demo" && hyperfine -N --warmup 1 --runs "$(( (runs + 1) / 2 ))" --export-json "$work/h.json" \
  "$slipway run --jobs 2" >/dev/null 2>&1)
glcl_times "$demo" >/dev/null  # Its warm-up run.
read -r g_t g_m < <(glcl_times "$demo")
read -r s_min s_med < <(times "$work/h.json" 0)
rm -rf "$demo/.slipway"
s_m=$(rss "$demo" "$slipway" run --jobs 2)
printf '| C project (examples/demo: build x2, test, lint, package) | %.3f / %.3f | - | %.2f | %.1fx | - | %d | %d |\n' \
  "$s_min" "$s_med" "$g_t" "$(echo "$g_t / $s_med" | bc -l)" $((s_m / 1024)) $((g_m / 1024))
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
