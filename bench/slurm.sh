#!/usr/bin/env bash
# Slurm executor benchmark: what a job costs on Slurm through slipway against
# submitting the same script to the same cluster by hand.
#   A. `slipway run --executor slurm` of a pipeline of one job whose script
#      is `true`: load, snapshot, workspace, sbatch, follow, report.
#   B. by hand, `sbatch --wait` of a script running `true` (what a person
#      types; sbatch --wait looks at the job every 2 s, then less often).
#   C. by hand, the floor: `sbatch --parsable` of that script, then
#      `scontrol show job` every 50 ms until it ended — as fast as the end
#      of the same submission can be seen from outside, which is what the
#      executor does.
# hyperfine, RUNS timed runs each (default 20) after 2 warm-up runs, on the
# cluster SLURM_CONF names (default: scripts/slurm.sh start).
# Usage: bench/slurm.sh [build-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
runs=${RUNS:-20}
slipway=$build/slipway
[ -x "$slipway" ] || { echo "build slipway first: $slipway" >&2; exit 2; }
if [ -z "${SLURM_CONF:-}" ]; then
  SLURM_CONF=$(bash "$root/scripts/slurm.sh" start)
  export SLURM_CONF
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u +%FT%TZ)"

project=$work/project
mkdir -p "$project"
printf 'job:\n  script:\n    - "true"\n' >"$project/.gitlab-ci.yml"
(cd "$project" && git init -q -b main && git add -A &&
  git -c user.email=b@e -c user.name=b commit -qm b)
printf '#!/bin/bash\ntrue\n' >"$work/job.sh"
cat >"$work/floor.sh" <<SH
id=\$(sbatch --parsable --output=/dev/null --chdir=$work $work/job.sh)
while scontrol show job -o "\$id" | grep -qE 'JobState=(PENDING|CONFIGURING|RUNNING|COMPLETING) '; do
  sleep 0.05
done
SH

(cd "$project" && hyperfine --warmup 2 --runs "$runs" --export-json "$work/slurm.json" \
  -n "slipway run --executor slurm" "$slipway run --color never --executor slurm" \
  -n "sbatch --wait" "sbatch --wait --quiet --output=/dev/null --chdir=$work $work/job.sh" \
  -n "sbatch + scontrol every 50 ms" "bash $work/floor.sh" >/dev/null)

python3 - "$work/slurm.json" <<'PY'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
med = lambda r: statistics.median(r["times"])
mean = lambda r: statistics.mean(r["times"])
ours = results[0]
print("| command | median s | mean s | min s | max s | slipway / this (median, mean) |")
print("|---|---|---|---|---|---|")
for r in results:
    ratio = "" if r is ours else "%.2fx, %.2fx" % (med(ours) / med(r), mean(ours) / mean(r))
    print("| %s | %.3f | %.3f | %.3f | %.3f | %s |" % (
        r["command"], med(r), mean(r), min(r["times"]), max(r["times"]), ratio))
PY
