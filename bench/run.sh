#!/usr/bin/env bash
# Run benchmark: slipway run vs gitlab-ci-local 4.64.1 (shell executor,
# --shell-isolation: a clean artifact space per job, the fair comparison) vs
# make -j2 (the floor) on the same generated pipelines, in one invocation.
# Prints a Markdown table: wall time (s), ratios, peak RSS (MiB).
# Usage: bench/run.sh [build-dir] [--quick]   (--quick skips the slow peer runs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
quick=${2:-}
slipway=$build/slipway
[ -x "$slipway" ] || { echo "build slipway first: $slipway" >&2; exit 2; }
(cd "$root/bench" && [ -x node_modules/.bin/gitlab-ci-local ] || npm ci --no-audit --no-fund >/dev/null)
glcl=$root/bench/node_modules/.bin/gitlab-ci-local
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home  # gitlab-ci-local keeps state under HOME; keep it out of the user's.
mkdir -p "$HOME"

# measure DIR CMD... -> "seconds peak_kib exit"
measure() {
  local dir=$1; shift
  local t0 t1 rss rc=0
  t0=$(date +%s.%N)
  (cd "$dir" && /usr/bin/time -o "$work/rss" -f %M "$@" >"$work/out" 2>&1) || rc=$?
  t1=$(date +%s.%N)
  rss=$(tail -1 "$work/rss")
  echo "$(echo "$t1 - $t0" | bc -l) $rss $rc"
}

new_repo() {  # kind n -> dir
  local dir=$work/$1-$2
  python3 "$root/bench/gen_run_pipeline.py" "$1" "$dir" "$2" >"$dir.cp"
  (cd "$dir" && git init -q -b main && git add -A && git -c user.email=b@e -c user.name=b commit -qm b)
  echo "$dir"
}

printf '| pipeline | slipway s | gitlab-ci-local s | make -j2 s | glcl / slipway | slipway / make | slipway MiB | glcl MiB |\n'
printf '|---|---|---|---|---|---|---|---|\n'
row() {  # label dir run_glcl
  local label=$1 dir=$2 run_glcl=$3
  read -r s_t s_m s_rc < <(measure "$dir" "$slipway" run --jobs 2)
  [ "$s_rc" = 0 ] || { echo "slipway failed on $label:" >&2; tail -20 "$work/out" >&2; exit 1; }
  read -r m_t m_m m_rc < <(measure "$dir" make -s -j2 all)
  local g_t="-" g_m="-" ratio="-"
  if [ "$run_glcl" = yes ]; then
    read -r g_t g_m g_rc < <(measure "$dir" "$glcl" --shell-isolation --concurrency 2 --no-color)
    [ "$g_rc" = 0 ] || { echo "gitlab-ci-local exited $g_rc on $label:" >&2; tail -5 "$work/out" >&2; }
    ratio=$(printf '%.1fx' "$(echo "$g_t / $s_t" | bc -l)")
    g_m=$((g_m / 1024)); g_t=$(printf '%.2f' "$g_t")
  fi
  printf '| %s | %.3f | %s | %.3f | %s | %.2fx | %d | %s |\n' "$label" "$s_t" "$g_t" "$m_t" "$ratio" \
    "$(echo "$s_t / $m_t" | bc -l)" $((s_m / 1024)) "$g_m"
}

for n in 20 100 300; do row "$n trivial jobs, one stage" "$(new_repo flat $n)" yes; done
row "needs chain of 20" "$(new_repo chain 20)" yes
if [ "$quick" = --quick ]; then
  row "needs chain of 100" "$(new_repo chain 100)" no
else
  row "needs chain of 100" "$(new_repo chain 100)" yes
fi
row "needs chain of 300" "$(new_repo chain 300)" no
dag=$(new_repo sleepdag 0)
row "sleep DAG (critical path $(cat "$dag.cp") s)" "$dag" yes
demo=$work/demo
cp -r "$root/examples/demo" "$demo"
# gitlab-ci-local cannot resolve a `needs` on one parallel:matrix instance
# ("build: [gcc]"); both runners get the form it understands.
sed -i 's/needs: \["build: \[gcc\]"\]/needs: [build]/' "$demo/.gitlab-ci.yml"
(cd "$demo" && git init -q -b main && git add -A && git -c user.email=b@e -c user.name=b commit -qm b)
# One untimed run of each first: compilers and headers come into the page cache.
measure "$demo" "$slipway" run --jobs 2 >/dev/null
measure "$demo" "$glcl" --shell-isolation --concurrency 2 --no-color >/dev/null
read -r s_t s_m s_rc < <(measure "$demo" "$slipway" run --jobs 2)
read -r g_t g_m g_rc < <(measure "$demo" "$glcl" --shell-isolation --concurrency 2 --no-color)
[ "$s_rc" = 0 ] && [ "$g_rc" = 0 ] || echo "demo: slipway exited $s_rc, gitlab-ci-local exited $g_rc" >&2
printf '| C project (examples/demo: build x2, test, lint, package) | %.3f | %.2f | - | %.1fx | - | %d | %d |\n' \
  "$s_t" "$g_t" "$(echo "$g_t / $s_t" | bc -l)" $((s_m / 1024)) $((g_m / 1024))
