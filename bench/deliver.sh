#!/usr/bin/env bash
# Delivery benchmark (issue 13): how long a broken release is served. Runs
# the delivery example (examples/deliver/scenario.py) RUNS times (default 3)
# through the real `slipway serve` on loopback; each run deploys v1, then v2
# whose /healthz fails; its check (interval 1 s, failure limit 3: four
# failed measurements) fails the deploy and slipway rolls production back.
# The figure is measured from the outside, polling /version every 20 ms:
# from v2 first being served (its deploy script ended) to v1 being served
# again. Prints each run's figure and the median.
# Usage: bench/deliver.sh [build-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
runs=${RUNS:-3}
slipway=$build/slipway
[ -x "$slipway" ] || { echo "build slipway first: $slipway" >&2; exit 2; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u +%FT%TZ)"
figures=()
for i in $(seq "$runs"); do
  out=$(python3 "$root/examples/deliver/scenario.py" "$slipway")
  figure=$(sed -n 's/.*recovered in \([0-9.]*\) s.*/\1/p' <<<"$out")
  [ -n "$figure" ] || { echo "$out" >&2; echo "run $i: no figure" >&2; exit 1; }
  echo "run $i: v2 served for $figure s before v1 was served again"
  figures+=("$figure")
done
median=$(printf '%s\n' "${figures[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
echo "median of $runs: $median s (target: <= 5 s)"
