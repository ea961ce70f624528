#!/usr/bin/env bash
# Installs every Debian package slipway needs to build, test and benchmark.
# Idempotent: packages already present are left as they are.
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config git clang libclang-rt-14-dev
  libyaml-cpp-dev libyaml-dev libre2-dev nlohmann-json3-dev libcli11-dev libsqlite3-dev libssl-dev
  libxxhash-dev libgtest-dev libgmock-dev libbenchmark-dev
  bash coreutils git python3 rsync hyperfine time bc make
  libpq-dev postgresql-15 postgresql-client-15
  libboost1.74-dev zlib1g-dev chromium wrk python3-gitlab
  groff-base man-db zsh fish
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
