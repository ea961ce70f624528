#!/usr/bin/env bash
# Sandbox benchmark: what running each job under bubblewrap costs.
#   1. 100 trivial jobs (bench/gen_run_pipeline.py flat 100) with
#      `slipway run -j2` on --executor shell, and on --executor sandbox with
#      --sandbox-network none and slirp: the extra milliseconds per job.
#   2. One bwrap start as the sandbox makes it (the same options, the host
#      read-only) against bare `bwrap --ro-bind / / true`: the floor.
# hyperfine, RUNS timed runs (default 10) after 2 warm-up runs. Needs root
# (the sandbox's network namespace) and bwrap, slirp4netns.
# Usage: bench/sandbox.sh [build-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
runs=${RUNS:-10}
slipway=$build/slipway
[ -x "$slipway" ] || { echo "build slipway first: $slipway" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u +%FT%TZ)"

dir=$work/flat100
python3 "$root/bench/gen_run_pipeline.py" flat "$dir" 100 >/dev/null
(cd "$dir" && git init -q -b main && git add -A && git -c user.email=b@e -c user.name=b commit -qm b)
(cd "$dir" && hyperfine -N --warmup 2 --runs "$runs" --export-json "$work/run.json" \
  "$slipway run -j2 --color never --executor shell" \
  "$slipway run -j2 --color never --executor sandbox --sandbox-network none" \
  "$slipway run -j2 --color never --executor sandbox --sandbox-network slirp" >/dev/null)

floor_dir=$work/floor
mkdir -p "$floor_dir/slot"
bwrap=$(command -v bwrap)
hyperfine -N --warmup 2 --runs "$((runs * 5))" --export-json "$work/bwrap.json" \
  "$bwrap --unshare-all --die-with-parent --new-session --hostname sandbox --cap-drop ALL --ro-bind / / --tmpfs /run --tmpfs /var/tmp --proc /proc --dev /dev --tmpfs /tmp --tmpfs /dev/shm --tmpfs $work --bind $floor_dir/slot $floor_dir/slot --chdir $floor_dir/slot -- true" \
  "$bwrap --ro-bind / / true" >/dev/null

python3 - "$work/run.json" "$work/bwrap.json" <<'PY'
import json, statistics, sys
run = json.load(open(sys.argv[1]))["results"]
bw = json.load(open(sys.argv[2]))["results"]
med = lambda r: statistics.median(r["times"])
shell = med(run[0])
print("| command | median s | min s | extra ms per job vs shell |")
print("|---|---|---|---|")
for r, name in zip(run, ["shell", "sandbox, network none", "sandbox, network slirp"]):
    extra = "" if r is run[0] else "%.1f" % ((med(r) - shell) * 1000 / 100)
    print("| 100 jobs, %s | %.3f | %.3f | %s |" % (name, med(r), min(r["times"]), extra))
for r, name in zip(bw, ["bwrap as the sandbox starts it", "bare bwrap --ro-bind / / true"]):
    print("| %s | %.4f | %.4f | |" % (name, med(r), min(r["times"])))
PY
