#!/usr/bin/env bash
# A throwaway single-node Slurm cluster (Debian's slurm-wlm and munge) for
# slipway's Slurm executor tests and benchmark: munged, slurmctld and slurmd
# as background daemons (no systemd), every file of theirs — key, config,
# state, spool, logs, sockets — in a directory of its own.
#
#   scripts/slurm.sh [start] [DIR]  installs slurm-wlm and munge from Debian
#                                   if missing, writes DIR/slurm.conf (DIR
#                                   default: .slipway-slurm in the
#                                   repository) for one node on 127.0.0.1,
#                                   starts the daemons on free ports, waits
#                                   until sinfo shows the node idle and prints
#                                   the path of slurm.conf on stdout. Starting
#                                   a running cluster prints the path again.
#   scripts/slurm.sh stop [DIR]     stops the daemons (DIR stays).
#   scripts/slurm.sh addr [DIR]     prints the path of the running one's
#                                   slurm.conf.
#
# Slurm's commands find the cluster through SLURM_CONF, so:
#   export SLIPWAY_TEST_SLURM=$(scripts/slurm.sh start) SLURM_CONF=$SLIPWAY_TEST_SLURM
# Jobs run as the user who submits them. There are no cgroups: processes are
# tracked by parentage (proctrack/linuxproc) and not confined (task/none).
# The munge key is made here and lives in DIR: a test cluster, not a real one.
set -euo pipefail

command=${1:-start}
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${2:-$repo/.slipway-slurm}

log() { echo "slurm.sh: $*" >&2; }

install_slurm() {
  command -v slurmctld >/dev/null && command -v munged >/dev/null && return
  log "installing slurm-wlm and munge from Debian"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends slurm-wlm munge >&2
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

node_idle() {
  [ "$(SLURM_CONF=$dir/slurm.conf sinfo -h -N -o %t 2>/dev/null)" = idle ]
}

running() {
  alive "$dir/munged.pid" && alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" &&
    SLURM_CONF=$dir/slurm.conf sinfo -h >/dev/null 2>&1
}

write_config() {
  local user cpus memory
  user=$(id -un)
  cpus=$(nproc)
  memory=$(awk '/^MemTotal:/ { print int($2 / 1024 / 2) }' /proc/meminfo)
  cat >"$dir/slurm.conf" <<CONF
# Written by scripts/slurm.sh: one node on loopback, for tests.
ClusterName=slipway
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups: this machine's are not delegated. Processes are tracked by
# parentage; a job's processes are not confined.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
LaunchParameters=use_interactive_step
PlugStackConfig=$dir/plugstack.conf
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# Start a job the moment it is submitted or another ends (no batching
# delay), and keep finished jobs' records 60 s for their exit codes.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,default_queue_depth=100
MinJobAge=60
# scancel: SIGTERM, then SIGKILL this many seconds later.
KillWait=5
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=60
InactiveLimit=0
NodeName=slipway NodeAddr=127.0.0.1 NodeHostname=$(hostname -s) CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  : >"$dir/plugstack.conf"
}

start() {
  install_slurm
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/slurm.conf" ] && running; then echo "$dir/slurm.conf"; return; fi
  stop_daemons
  mkdir -p "$dir/state" "$dir/spool"
  chmod 700 "$dir"
  if [ ! -s "$dir/munge.key" ]; then
    head -c 1024 /dev/urandom >"$dir/munge.key"
  fi
  chmod 400 "$dir/munge.key"
  write_config
  log "starting munged"
  # --force: the key and socket live in DIR, not /etc/munge and /run/munge,
  # whose ownership checks a test directory does not pass.
  munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munged.seed" \
    >&2 || { tail -20 "$dir/munged.log" >&2; exit 1; }
  log "starting slurmctld and slurmd ($dir)"
  SLURM_CONF=$dir/slurm.conf slurmctld -i >&2 ||
    { tail -20 "$dir/slurmctld.log" >&2; exit 1; }
  SLURM_CONF=$dir/slurm.conf slurmd -N slipway >&2 ||
    { tail -20 "$dir/slurmd.log" >&2; exit 1; }
  # Ready when the node reports idle (slurmd registered with slurmctld).
  for _ in $(seq 1 300); do
    if node_idle; then echo "$dir/slurm.conf"; return; fi
    sleep 0.1
  done
  tail -20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2
  log "the node did not become idle"
  exit 1
}

stop_one() {  # pid file: SIGTERM, then wait for the daemon to go
  alive "$1" || return 0
  local pid
  pid=$(cat "$1")
  kill "$pid"
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

stop_daemons() {
  stop_one "$dir/slurmd.pid"
  stop_one "$dir/slurmctld.pid"
  stop_one "$dir/munged.pid"
}

stop() {
  if [ -d "$dir" ] && { alive "$dir/slurmd.pid" || alive "$dir/slurmctld.pid" ||
    alive "$dir/munged.pid"; }; then
    stop_daemons
  else
    log "not running ($dir)"
  fi
}

case "$command" in
  start) start ;;
  stop) stop ;;
  addr) running && echo "$dir/slurm.conf" || { log "not running ($dir)"; exit 1; } ;;
  *) echo "usage: $0 [start|stop|addr] [DIR]" >&2; exit 2 ;;
esac
