#!/usr/bin/env bash
# Masking benchmark (issue 14): what hiding a secret costs a job that prints
# a lot. One job prints 40 MB (30 MB of random bytes as base64, 100
# columns); `slipway run --secret TOKEN` (every write scanned for the token
# and its encoded forms, util/secret_mask.h) is timed against `slipway run`
# with no secret, with hyperfine (Debian package), the two alternating.
# Usage: bench/mask.sh [build-dir]   (RUNS, default 5)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
slipway=$build/slipway
[ -x "$slipway" ] || { echo "build slipway first: $slipway" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (scripts/install-deps.sh)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git init -q -b main "$work/repo"
printf 'out:\n  script:\n    - head -c 30000000 /dev/urandom | base64 -w 100\n' \
  > "$work/repo/.gitlab-ci.yml"
git -C "$work/repo" add .gitlab-ci.yml
git -C "$work/repo" -c user.name=bench -c user.email=bench@example.com commit -qm bench
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u +%FT%TZ)"
cd "$work/repo"
export TOKEN=glpat-Xy9zQ7w_e3RtAbCdEf
hyperfine --runs "${RUNS:-5}" --warmup 1 -N "$slipway run" "$slipway run --secret TOKEN"
