#!/usr/bin/env bash
# Installs dependencies, builds slipway twice (normal with GCC; ASan+UBSan with
# clang, which also builds the fuzz targets), runs every test in both, then
# runs the fuzz targets for a bounded time.
# Exit status is non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# playwright-core for the browser test, at the version package-lock.json pins
# (it drives Debian's Chromium; it downloads no browser).
npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
jobs=$(nproc)
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/slipway-ccache}"

# The store tests also run against a PostgreSQL server on loopback.
if [ -z "${SLIPWAY_TEST_POSTGRES_URL:-}" ]; then
  SLIPWAY_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start)
  export SLIPWAY_TEST_POSTGRES_URL
  trap 'bash scripts/postgres.sh stop' EXIT
fi

status=0
run_suite() {  # name, build dir, extra cmake args...
  local name=$1 dir=$2; shift 2
  echo "=== $name: configure and build ($dir)"
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  ninja -C "$dir" -j "$jobs"
  echo "=== $name: tests"
  (cd "$dir" && ctest -j "$jobs" --output-on-failure --timeout 300) || status=1
}

run_suite "release" build -DCMAKE_BUILD_TYPE=RelWithDebInfo
# One clang tree serves the ASan+UBSan tests and the libFuzzer targets: the
# engine is compiled once for both (-fsanitize=fuzzer-no-link only adds the
# coverage hooks the fuzzers need). -O1 with line tables keeps the build and
# the sanitized tests fast and the reports readable.
run_suite "asan+ubsan (clang)" build-san -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
  -DSLIPWAY_SANITIZE=ON -DSLIPWAY_FUZZ=ON

if [ -x scripts/fuzz.sh ]; then
  echo "=== fuzz (bounded)"
  FUZZ_BUILD_DIR=build-san bash scripts/fuzz.sh || status=1
fi
exit $status
