#!/usr/bin/env bash
# Installs every Debian package slipway needs to build, test and benchmark, and
# creates the user `slipway serve` runs jobs as when it runs as root
# (docs/server.md, "Security model").
# Idempotent: packages and a user already present are left as they are.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
packages=(
  build-essential cmake ninja-build ccache pkg-config git clang libclang-rt-14-dev clang-format-14
  libyaml-cpp-dev libyaml-dev libre2-dev nlohmann-json3-dev libcli11-dev libsqlite3-dev libssl-dev
  libxxhash-dev libgtest-dev libgmock-dev libbenchmark-dev
  bash coreutils git python3 rsync hyperfine time bc make
  libpq-dev postgresql-15 postgresql-client-15
  libboost1.74-dev zlib1g-dev libzstd-dev libisal-dev chromium wrk python3-gitlab
  groff-base man-db zsh fish
  docker-registry skopeo busybox-static
  bubblewrap slirp4netns util-linux
  prometheus
  slurm-wlm munge
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The job user: a system user without a login shell or home, with 65536
# subordinate uids and gids (subuid(5)) from which each project gets its own
# (project N runs as start + N), placed above every range already given out
# in /etc/subuid and /etc/subgid so that no id is shared with another user.
job_user=slipway-job
if ! getent passwd "$job_user" >/dev/null; then
  $sudo useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment "slipway CI jobs" "$job_user"
fi
job_uid=$(id -u "$job_user")
has_range() {  # file: whether it gives the job user a range (by name or uid)
  [ -r "$1" ] && awk -F: -v name="$job_user" -v uid="$job_uid" \
    '$1 == name || $1 == uid { found = 1 } END { exit !found }' "$1"
}
if ! has_range /etc/subuid || ! has_range /etc/subgid; then
  start=$(cat /etc/subuid /etc/subgid 2>/dev/null | awk -F: '
    BEGIN { end = 100000 }
    $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ && $2 + $3 > end { end = $2 + $3 }
    END { print end }')
  start=$(( (start + 65535) / 65536 * 65536 ))
  range="$start-$((start + 65535))"
  has_range /etc/subuid || $sudo usermod --add-subuids "$range" "$job_user"
  has_range /etc/subgid || $sudo usermod --add-subgids "$range" "$job_user"
fi
