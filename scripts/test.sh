#!/usr/bin/env bash
# Installs dependencies, builds slipway twice (normal and ASan+UBSan), runs every
# test in both, then runs the fuzz targets for a bounded time.
# Exit status is non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# playwright-core for the browser test, at the version package-lock.json pins
# (it drives Debian's Chromium; it downloads no browser).
npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
jobs=$(nproc)
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/slipway-ccache}"
# A clone in another directory reuses the cache (paths hashed relative to it).
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR=1

# Servers this script starts are stopped when it ends.
cleanup=()
trap 'for c in "${cleanup[@]}"; do $c; done' EXIT

# The store tests also run against a PostgreSQL server on loopback.
if [ -z "${SLIPWAY_TEST_POSTGRES_URL:-}" ]; then
  SLIPWAY_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start)
  export SLIPWAY_TEST_POSTGRES_URL
  cleanup+=("bash scripts/postgres.sh stop")
fi

# The image tests pull from an OCI registry on loopback (Debian's
# docker-registry), pushing their test images with skopeo.
if [ -z "${SLIPWAY_TEST_REGISTRY:-}" ]; then
  SLIPWAY_TEST_REGISTRY=$(bash scripts/registry.sh start)
  export SLIPWAY_TEST_REGISTRY
  cleanup+=("bash scripts/registry.sh stop")
fi

# The Slurm executor tests submit to a single-node Slurm on loopback
# (Debian's slurm-wlm and munge, docs/slurm.md).
if [ -z "${SLIPWAY_TEST_SLURM:-}" ]; then
  SLIPWAY_TEST_SLURM=$(bash scripts/slurm.sh start)
  export SLIPWAY_TEST_SLURM
  cleanup+=("bash scripts/slurm.sh stop")
fi

status=0
run_suite() {  # name, build dir, extra cmake args...
  local name=$1 dir=$2; shift 2
  echo "=== $name: configure and build ($dir)"
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  ninja -C "$dir" -j "$jobs"
  echo "=== $name: tests"
  # --no-tests=error: a tree configured without tests (scripts/demo.sh's
  # build/, say) must fail here, not pass by running nothing.
  (cd "$dir" && ctest -j "$jobs" --output-on-failure --timeout 300 --no-tests=error) || status=1
}

# Every option that matters is given explicitly: a cache left by another
# configuration (the demo turns the tests off) must not decide what runs.
run_suite "release" build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLIPWAY_TESTS=ON \
  -DSLIPWAY_SANITIZE=OFF -DSLIPWAY_FUZZ=OFF
run_suite "asan+ubsan" build-asan -DCMAKE_BUILD_TYPE=Debug -DSLIPWAY_TESTS=ON \
  -DSLIPWAY_SANITIZE=ON -DSLIPWAY_FUZZ=OFF

if [ -x scripts/fuzz.sh ]; then
  echo "=== fuzz (bounded)"
  bash scripts/fuzz.sh || status=1
fi
exit $status
