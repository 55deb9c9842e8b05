#!/usr/bin/env bash
# Opt-in check (not part of the test suite): run README's SLURM sweep on a real single-node
# SLURM cluster on this machine, then check the results and stop every daemon it started.
#
#   sudo scripts/slurm_check.sh            # needs root and Debian/Ubuntu packages (apt-get)
#   SKIP_INSTALL=1 scripts/slurm_check.sh  # the packages are already installed
#   PYTHON=/path/to/venv/bin/python scripts/slurm_check.sh
#
# What it does: installs slurm-wlm, munge, slurmdbd and mariadb-server (SLURM 22.05 on Debian
# 12), writes a one-node configuration under a fresh work directory (ProctrackType=
# proctrack/linuxproc, TaskPlugin=task/none, everything run as root; accounting through
# slurmdbd, without which a job that dies with no result hangs submitit's job.result()),
# starts mariadb, munged, slurmdbd, slurmctld and slurmd, runs the README's command (hydra's
# submitit_slurm launcher submits the sweep as a job array), checks summary.csv, sacct and
# the store, runs the sweep again and checks that everything is reused, then stops the
# daemons. Daemons talk over 127.0.0.1 (mariadb without TCP, munge over its Unix socket).
# It took 135 s on 2 shared cores with the packages installed (installing them: 33 s).
set -euo pipefail

PYTHON=${PYTHON:-python}
REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$(mktemp -d /tmp/asdex_slurm.XXXXXX)}
STATE=$WORK/slurm
STARTED=()  # pid files of the daemons this script started, stopped on exit
start_time=$SECONDS

log() { echo "[slurm_check $((SECONDS - start_time))s] $*"; }
fail() { echo "[slurm_check] FAILED: $*" >&2; exit 1; }

stop_daemons() {
    local pidfile pid
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        pidfile=${STARTED[i]}
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        fi
    done
    log "daemons stopped; work directory $WORK"
}
trap stop_daemons EXIT

[ "$(id -u)" = 0 ] || fail "run as root (SLURM's daemons and munge are started here as root)"

if [ -z "${SKIP_INSTALL:-}" ]; then
    log "installing slurm-wlm munge slurmdbd mariadb-server"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge slurmdbd mariadb-server
fi
for cmd in slurmctld slurmd slurmdbd sacctmgr sbatch srun sacct munged mariadbd; do
    command -v "$cmd" >/dev/null || fail "$cmd is missing (install slurm-wlm munge slurmdbd mariadb-server)"
done
"$PYTHON" -c "import hydra_plugins.hydra_submitit_launcher" 2>/dev/null \
    || fail "$PYTHON lacks hydra-submitit-launcher (pip install hydra-submitit-launcher)"

mkdir -p "$STATE"/{ctld,d,dbd,db,log,munge} "$WORK/run"
NCPU=$(nproc)
MEM_MB=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)

# ---------------------------------------------------------------- mariadb (socket only)
log "starting mariadb"
mysql_install_db --user=root --datadir="$STATE/db" >"$STATE/log/mysql_install.log" 2>&1
mariadbd --user=root --datadir="$STATE/db" --socket="$STATE/mysql.sock" \
    --pid-file="$STATE/mysql.pid" --skip-networking --bind-address=127.0.0.1 \
    >"$STATE/log/mariadb.log" 2>&1 &
STARTED+=("$STATE/mysql.pid")
for _ in $(seq 100); do [ -S "$STATE/mysql.sock" ] && break; sleep 0.2; done
[ -S "$STATE/mysql.sock" ] || fail "mariadb did not start (see $STATE/log/mariadb.log)"

# ---------------------------------------------------------------- munge (Unix socket)
log "starting munged"
[ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
chown root:root /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
MUNGE_SOCKET=/run/munge/munge.socket.2
mkdir -p /run/munge
if ! munge -n >/dev/null 2>&1; then
    munged --force --key-file=/etc/munge/munge.key --socket="$MUNGE_SOCKET" \
        --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/log/munged.log" \
        --seed-file="$STATE/munge/seed"
    STARTED+=("$STATE/munge/munged.pid")
fi
munge -n | unmunge >/dev/null || fail "munge does not work"

# ---------------------------------------------------------------- configuration
cat >"$STATE/slurm.conf" <<EOF
ClusterName=asdexcheck
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=$MEM_MB State=UNKNOWN
PartitionName=cpu Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
cat >"$STATE/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=root
PidFile=$STATE/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageLoc=slurm_acct_db
StorageUser=root
StorageHost=localhost
StoragePort=0
EOF
chmod 600 "$STATE/slurmdbd.conf"
export SLURM_CONF=$STATE/slurm.conf
# slurmdbd reads its configuration next to slurm.conf; it talks to mariadb over the socket.
mkdir -p /run/mysqld && ln -sf "$STATE/mysql.sock" /run/mysqld/mysqld.sock

# ---------------------------------------------------------------- SLURM daemons
log "starting slurmdbd, slurmctld, slurmd"
slurmdbd
STARTED+=("$STATE/slurmdbd.pid")
for _ in $(seq 100); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.3; done
sacctmgr -n list cluster >/dev/null 2>&1 || fail "slurmdbd did not start (see $STATE/log/slurmdbd.log)"
sacctmgr -i add cluster asdexcheck >/dev/null 2>&1 || true
slurmctld -i
STARTED+=("$STATE/slurmctld.pid")
slurmd -N localhost
STARTED+=("$STATE/slurmd.pid")
for _ in $(seq 100); do
    sinfo -h -o %T 2>/dev/null | grep -q idle && break
    sleep 0.3
done
sinfo -h -o %T | grep -q idle || fail "the node did not come up (see $STATE/log/)"
log "cluster up: $(sinfo -h -o '%P %D %T %C')"

# ---------------------------------------------------------------- README's command
cd "$WORK/run"
STORE=$WORK/shared/asdex_artifacts
run_sweep() {
    # README's SLURM command, verbatim (STORE stands for /shared/$USER/asdex_artifacts):
    "$PYTHON" -m asdex_pipe -m hydra/launcher=submitit_slurm \
        hydra.launcher.partition=cpu hydra.launcher.timeout_min=60 hydra.launcher.cpus_per_task=1 \
        store.root=$STORE n=100,1000 coloring=star,acyclic stages=[sparsity,coloring,verify]
}

check_sweep() {  # $1: expected sparsity/coloring status of every job
    local summary
    summary=$(ls -t multirun/*/*/summary.csv | head -1)
    "$PYTHON" - "$summary" "$1" <<'PY'
import csv, json, sys
from pathlib import Path
summary, expected = Path(sys.argv[1]), sys.argv[2]
rows = list(csv.DictReader(open(summary)))
assert len(rows) == 4, rows
for row in rows:
    assert row["status"] == "ok" and row["verify"] == "True", row
    assert row["host"] and float(row["wall_s"]) > 0, row
    result = json.loads((summary.parent / row["job"] / "result.json").read_text())
    stages = {result["stages"][s]["status"] for s in ("sparsity", "coloring")}
    if expected == "reused":
        assert stages == {"reused"}, (row["job"], stages)
print(f"{summary}: 4 jobs ok ({expected})")
PY
}

log "sweep 1 (computes)"
run_sweep >"$STATE/log/sweep1.out" 2>&1 || { tail -40 "$STATE/log/sweep1.out"; fail "sweep 1 failed"; }
check_sweep computed
n_sparsity=$(find "$STORE/sparsity" -maxdepth 1 -name '*.json' | wc -l)
n_coloring=$(find "$STORE/coloring" -maxdepth 1 -name '*.json' | wc -l)
[ "$n_sparsity" = 2 ] && [ "$n_coloring" = 4 ] \
    || fail "expected 2 sparsity and 4 coloring artifacts, got $n_sparsity and $n_coloring"
completed=$(sacct -n -X -o State --starttime now-1hours | grep -c COMPLETED || true)
[ "$completed" -ge 4 ] || fail "sacct shows $completed completed jobs, expected 4"
log "sacct: $completed array jobs COMPLETED"

log "sweep 2 (reuses)"
run_sweep >"$STATE/log/sweep2.out" 2>&1 || { tail -40 "$STATE/log/sweep2.out"; fail "sweep 2 failed"; }
check_sweep reused
sacct -X -o JobID,JobName%12,State,Elapsed,NodeList --starttime now-1hours | tail -n +1
log "PASSED in $((SECONDS - start_time)) s"
