#!/usr/bin/env bash
# The main demo: installs packages, builds slipway, then lints, lists and runs
# the sample C project in examples/demo (copied to a temporary git repository).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLIPWAY_TESTS=OFF >/dev/null
ninja -C build slipway slipway_docs  # the docs too, so that `cmake --install build` works
slipway=$root/build/slipway

demo=$(mktemp -d /tmp/slipway-demo.XXXXXX)
cp -r examples/demo/. "$demo"
cd "$demo"
git init -q -b main
git add -A
git -c user.name=demo -c user.email=demo@example.invalid commit -qm "demo project"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
step "$slipway" lint
step "$slipway" list
if "$slipway" run --help >/dev/null 2>&1; then
  step "$slipway" run --report report.json || true
  step head -c 400 report.json
  echo
fi
echo
echo "demo project left in $demo"
