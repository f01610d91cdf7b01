#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# A survey on a real Slurm: a single-node cluster on localhost (munged, slurmctld and
# slurmd from Debian's slurm-wlm and munge, which scripts/setup.sh installs), started here
# with a generated slurm.conf, its own munge key and socket, ports and state directories,
# and stopped at the end. scripts/slurm/ftscope-survey.sbatch runs as a 3-task array over
# the fixture registry; its merge job (afterany) joins the shards; the merged categories
# must be those of a single-host run. Skips, saying why, where Slurm cannot start.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd jq munged slurmctld slurmd sbatch squeue sinfo scontrol

S=$TEST_TMP/slurm
mkdir -p "$S/munge" "$S/state" "$S/spool" "$S/log"
chmod 0700 "$S/munge"
host=$(hostname -s)

# Free TCP ports on loopback for slurmctld and slurmd.
free_port() {
	"$FT_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
ctld_port=$(free_port)
slurmd_port=$(free_port)
while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done

stop_slurm() {
	local f pid
	for f in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munge/munged.pid"; do
		pid=$(cat "$f" 2>/dev/null) || continue
		kill -TERM "$pid" 2>/dev/null
	done
	for _ in $(seq 1 50); do
		local alive=0
		for f in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munge/munged.pid"; do
			pid=$(cat "$f" 2>/dev/null) || continue
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for f in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munge/munged.pid"; do
		pid=$(cat "$f" 2>/dev/null) || continue
		kill -KILL "$pid" 2>/dev/null
	done
}
trap 'stop_slurm; _e2e_cleanup' EXIT

# munge: a key of our own, a socket of our own (the host's munged, if any, is left alone).
dd if=/dev/urandom of="$S/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$S/munge/munge.key"
munged --force --key-file="$S/munge/munge.key" --socket="$S/munge/munge.socket" \
	--pid-file="$S/munge/munged.pid" --log-file="$S/munge/munged.log" \
	--seed-file="$S/munge/munged.seed" >"$S/log/munged.out" 2>&1 ||
	skip_all "munged does not start here: $(tail -2 "$S/log/munged.out" "$S/munge/munged.log" 2>/dev/null | tr '\n' ' ')"

export SLURM_CONF=$S/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=ftscope-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$S/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SlurmdTimeout=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
slurmctld -c >"$S/log/slurmctld.out" 2>&1 ||
	skip_all "slurmctld does not start here: $(tail -3 "$S/log/slurmctld.log" 2>/dev/null | tr '\n' ' ')"
slurmd -N "$host" >"$S/log/slurmd.out" 2>&1 ||
	skip_all "slurmd does not start here: $(tail -3 "$S/log/slurmd.log" 2>/dev/null | tr '\n' ' ')"
up=
for _ in $(seq 1 150); do
	state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1)
	case $state in idle* | mixed* | allocated*) up=1; break ;; esac
	sleep 0.2
done
[ -n "$up" ] || skip_all "the Slurm node did not come up (state '${state:-none}'): $(tail -3 "$S/log/slurmd.log" "$S/log/slurmctld.log" 2>/dev/null | tr '\n' ' ')"
pass "a single-node Slurm is up (node $host, $state)"

# ---- the survey: 3 shards of 4 packages, then the merge job
fixture_registry ok nogil importfail segv
ROOT=$TEST_TMP/survey
mkdir -p "$ROOT"
jid=$(cd "$TEST_TMP" && FTSCOPE_SURVEY_ROOT=$ROOT FTSCOPE_TARGET_PYTHON=$FT_PYTHON \
	FTSCOPE_REGISTRY_DIR=$REGISTRY FTSCOPE_RUN_ARGS="--offline --iterations 2 --timeout 120" \
	sbatch --parsable --array=1-3 --output="$S/log/task-%A_%a.out" \
	"$SRC_ROOT/scripts/slurm/ftscope-survey.sbatch" 2>"$S/log/sbatch.err")
like "$jid" '^[0-9]+$' "sbatch takes the array job" || diag "$(cat "$S/log/sbatch.err")"

# Wait for the array and the merge job it submits (afterany) to leave the queue.
done_=
for _ in $(seq 1 900); do
	if [ -z "$(squeue -h -o %i 2>/dev/null)" ] && [ -e "$ROOT/merged/ft_meta.json" ]; then
		done_=1
		break
	fi
	# every job gone but no merge: give up early
	if [ -z "$(squeue -h -o %i 2>/dev/null)" ] && [ -n "$(ls "$ROOT"/merge-*.out 2>/dev/null)" ]; then
		sleep 1
		[ -e "$ROOT/merged/ft_meta.json" ] && done_=1
		break
	fi
	sleep 1
done
ok test -n "$done_" "the array and its merge job finished"
if [ -z "$done_" ]; then
	diag "squeue: $(squeue 2>&1)"
	for f in "$S"/log/task-*.out "$ROOT"/merge-*.out; do
		[ -e "$f" ] && diag "$f:" "$(tail -5 "$f")"
	done
fi
for k in 1 2 3; do
	is "$(jq -c '[.shard.index, .shard.count, .shard.source]' "$ROOT"/shard-$k/results/ft_*/ft_meta.json 2>/dev/null)" \
		"[$k,3,\"slurm\"]" "task $k ran shard $k/3 (--shard slurm)"
done
is "$(jq -r '.cli_args | index("--shard") as $i | .[$i + 1]' "$ROOT"/shard-2/results/ft_*/ft_meta.json 2>/dev/null)" \
	2/3 "cli_args keep the shard as resolved (--resume needs no Slurm environment)"
is "$(jq -r .status "$ROOT/merged/ft_meta.json" 2>/dev/null)" complete "the merged run is complete"
is "$(jq -r '.merged_from | length' "$ROOT/merged/ft_meta.json" 2>/dev/null)" 3 "from 3 shards"

# ---- the same survey on one host
run_into single --target-python "$FT_PYTHON" --registry-dir "$REGISTRY" \
	--repos-dir "$TEST_TMP/repos" --venvs-dir "$TEST_TMP/venvs" --offline \
	--iterations 2 --timeout 120
cats() { jq -r '[.package, .category] | @tsv' "$1/ft_results.jsonl" 2>/dev/null | sort; }
is "$(cats "$ROOT/merged")" "$(cats "$RUN_DIR")" "merged categories = the single-host run's"
run_ftscope show "$ROOT/merged"
like "$(ftscope_out)" "Run: merged \(complete\)" "show reads the merged run"

stop_slurm
ok test -z "$(for f in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munge/munged.pid"; do
	p=$(cat "$f" 2>/dev/null) && kill -0 "$p" 2>/dev/null && echo "$p"; done)" \
	"the Slurm daemons are stopped"
done_testing
