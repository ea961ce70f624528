#!/usr/bin/env bash
# Lint benchmark: a generated 1,000-job pipeline over 20 included files (extends,
# anchors with merge keys, !reference, rules), read by `slipway lint` and
# `slipway list`, beside `gitlab-ci-local --list` 4.64.1 on the same files.
# Prints mean wall times from hyperfine and the ratio; peak memory from GNU time.
# Usage: bench/lint.sh [build-dir]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
slipway=$build/slipway
[ -x "$slipway" ] || { echo "build slipway first: $slipway" >&2; exit 2; }
(cd "$root/bench" && [ -x node_modules/.bin/gitlab-ci-local ] || npm ci --no-audit --no-fund >/dev/null)
glcl=$root/bench/node_modules/.bin/gitlab-ci-local

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$root/bench/gen_lint_pipeline.py" "$work/p" --jobs 1000 --files 20 >/dev/null
cd "$work/p"
git init -q -b main && git add -A && git -c user.email=b@e -c user.name=bench commit -qm bench

"$slipway" lint >/dev/null  # Fails the benchmark early if the pipeline is not valid.
hyperfine --warmup 2 --runs 10 --export-json "$work/h.json" -N \
  "$slipway lint" "$slipway list" >/dev/null
hyperfine --warmup 1 --runs 3 --export-json "$work/g.json" \
  "$glcl --list" >/dev/null
mem() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
python3 - "$work/h.json" "$work/g.json" "$(mem "$slipway" lint)" "$(mem "$glcl" --list)" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))["results"]
g = json.load(open(sys.argv[2]))["results"][0]
lint, lst = h[0], h[1]
print("pipeline: 1000 jobs, 21 files")
print("%-28s %10s %10s" % ("command", "mean ms", "stddev"))
for r in (lint, lst, g):
    print("%-28s %10.1f %10.1f" % (r["command"].split("/")[-1], r["mean"] * 1e3, r["stddev"] * 1e3))
print("gitlab-ci-local --list / slipway list: %.0fx" % (g["mean"] / lst["mean"]))
print("peak RSS: slipway lint %s KiB, gitlab-ci-local --list %s KiB" % (sys.argv[3], sys.argv[4]))
PY
