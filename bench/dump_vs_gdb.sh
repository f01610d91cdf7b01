#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# All-thread dump of a live free-threaded process: `ftscope dump PID --json` against
# `gdb -p PID -batch -ex 'thread apply all bt'` on the same process.
#
# The target is a PYTHON_GIL=0 process with THREADS threads (default 100), each blocked on its
# own threading.Event inside a recursive function DEPTH (default 5) frames deep. After one
# untimed warm-up of each tool (whose outputs are kept to count what each one shows), the two
# tools are timed alternately N times each (default 5; the order flips every round). The
# warm-up also fills ftscope's symbol cache (a private one); ftscope is then also timed
# with an empty cache each time (a host's first dump: it answers, then a child it leaves
# builds and saves the tables; the benchmark waits for that child, untimed, before going on)
# and with the cache off. Each run is timed by a small Python driver (posix_spawn + wait4):
# wall time, and the CPU time (user + system) of the tool, which a busy machine does not
# inflate nearly as much. After every single run the target is checked: alive, not stopped,
# no tracer left, every thread still there. At the end the events are set and the target must
# finish normally (all threads join, exit status 0), which shows it was not harmed.
# ftscope's own hold time (how long the target was stopped) comes from `hold_ms` of N more
# untimed dumps.
#
#   bash bench/dump_vs_gdb.sh            N=5 THREADS=100 DEPTH=5 by default
#   N=3 THREADS=1000 bash bench/dump_vs_gdb.sh
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

N=${N:-5}
THREADS=${THREADS:-100}
DEPTH=${DEPTH:-5}

need_root
need_cmd gdb awk flock
need_ftscope
need_python
need_ptrace
bench_check

WORK=$(mktemp -d /tmp/ftscope-bench-dump.XXXXXX)
TARGET_PID=
cleanup() {
	if [ -n "$TARGET_PID" ] && kill -0 "$TARGET_PID" 2>/dev/null; then
		kill -KILL "$TARGET_PID" 2>/dev/null || true
		wait "$TARGET_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$WORK/target.py" <<'EOF'
import os, sys, threading

nthreads, depth, fifo = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
events = [threading.Event() for _ in range(nthreads)]
ready = threading.Barrier(nthreads + 1)

def recurse(i, depth):
    if depth == 1:
        ready.wait()
        events[i].wait()          # untimed: blocks in a PyMutex/parking-lot futex wait
        return
    recurse(i, depth - 1)

threads = [threading.Thread(target=recurse, args=(i, depth), name=f"worker-{i}")
           for i in range(nthreads)]
for t in threads:
    t.start()
ready.wait()
print("READY", os.getpid(), flush=True)
with open(fifo) as f:             # the main thread blocks here until the benchmark is done
    f.read()
for e in events:
    e.set()
for t in threads:
    t.join()
print("DONE", sum(not t.is_alive() for t in threads), flush=True)
EOF

mkfifo "$WORK/go"
PYTHON_GIL=0 "$PY" "$WORK/target.py" "$THREADS" "$DEPTH" "$WORK/go" >"$WORK/target.out" 2>"$WORK/target.err" &
TARGET_PID=$!
for _ in $(seq 1 300); do
	grep -q READY "$WORK/target.out" 2>/dev/null && break
	kill -0 "$TARGET_PID" 2>/dev/null || { cat "$WORK/target.err" >&2; echo "target died" >&2; exit 1; }
	sleep 0.1
done
grep -q READY "$WORK/target.out" || { echo "target not ready after 30 s" >&2; exit 1; }
TASKS=$(ls "/proc/$TARGET_PID/task" | wc -l)

# check_target WHEN: the target is alive, running (not in a ptrace/job-control stop), has no
# tracer attached and still has all its threads.
check_target() {
	local st tp n
	kill -0 "$TARGET_PID" 2>/dev/null || { echo "FAIL: target died after $1" >&2; exit 1; }
	st=$(awk '/^State:/ { print $2 }' "/proc/$TARGET_PID/status")
	tp=$(awk '/^TracerPid:/ { print $2 }' "/proc/$TARGET_PID/status")
	n=$(ls "/proc/$TARGET_PID/task" | wc -l)
	if [ "$st" = t ] || [ "$st" = T ] || [ "$tp" != 0 ] || [ "$n" != "$TASKS" ]; then
		echo "FAIL: after $1 the target is state=$st tracer=$tp tasks=$n (want $TASKS)" >&2
		exit 1
	fi
	# Every worker thread must still be asleep (state S), none left stopped.
	if grep -l '^State:[[:space:]]*[tT]' /proc/"$TARGET_PID"/task/*/status >/dev/null 2>&1; then
		echo "FAIL: after $1 some thread of the target is still stopped" >&2
		exit 1
	fi
}

# ftscope keeps sorted symbol tables and flattened DWARF line tables per build-id; the
# benchmark gives it its own cache, filled by the warm-up dump (see "cold" and "off" below).
export FTSCOPE_SYMBOL_CACHE="$WORK/symcache"
run_ftscope() { "$FTSCOPE" dump "$TARGET_PID" --json; }
run_gdb() { gdb -p "$TARGET_PID" -batch -ex 'thread apply all bt'; }

# timed FILE CMD...: run CMD (stdout to /dev/null, stderr to $BENCH_ERR) and append
# "wall_s cpu_s" to FILE: wall from spawn to reap, CPU = user + system of CMD (wait4).
cat >"$WORK/timed.py" <<'EOF'
import os, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
null = os.open(os.devnull, os.O_WRONLY)
err = os.open(os.environ["BENCH_ERR"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
t0 = time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ,
                      file_actions=[(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, err, 2)])
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(out, "a") as f:
    f.write(f"{wall:.6f} {ru.ru_utime + ru.ru_stime:.6f}\n")
sys.exit(os.waitstatus_to_exitcode(status))
EOF
export BENCH_ERR="$WORK/err"
timed() {
	local file=$1
	shift
	"$PY" "$WORK/timed.py" "$file" "$@" || { cat "$WORK/err" >&2; echo "failed: $*" >&2; exit 1; }
}
# wait_builder DIR: a dump that found tables missing leaves a child that builds and saves
# them, holding DIR/.build.lock; wait for it (untimed) and note how long that took.
wait_builder() {
	local t0 t1
	[ -e "$1/.build.lock" ] || return 0
	t0=$(now)
	flock "$1/.build.lock" true
	t1=$(now)
	elapsed "$t0" "$t1" >>"$WORK/t.build"
}

echo "dump_vs_gdb: pid $TARGET_PID, $TASKS tasks ($THREADS workers blocked in Event.wait, $DEPTH recursive frames deep), N=$N"
machine_note
use_ftscope_copy "$WORK"
echo "gdb:     $(gdb --version | head -1)"
echo

: >"$WORK/t.build"
# Warm-up (untimed): page cache, gdb's symbol loading; keep what each tool produced.
run_ftscope >"$WORK/ftscope.json" 2>"$WORK/ftscope.err" || { cat "$WORK/ftscope.err" >&2; echo "ftscope dump failed" >&2; exit 1; }
wait_builder "$FTSCOPE_SYMBOL_CACHE"
check_target "ftscope warm-up"
run_gdb >"$WORK/gdb.txt" 2>&1 || { tail "$WORK/gdb.txt" >&2; echo "gdb failed" >&2; exit 1; }
check_target "gdb warm-up"

: >"$WORK/t.ftscope"
: >"$WORK/t.gdb"
for i in $(seq 1 "$N"); do
	if [ $((i % 2)) = 1 ]; then order="ftscope gdb"; else order="gdb ftscope"; fi
	for tool in $order; do
		if [ "$tool" = ftscope ]; then
			timed "$WORK/t.ftscope" "$FTSCOPE" dump "$TARGET_PID" --json
		else
			timed "$WORK/t.gdb" gdb -p "$TARGET_PID" -batch -ex 'thread apply all bt'
		fi
		check_target "$tool run $i"
	done
done

# Without a warm symbol cache (src/symbolizer/diskcache.c): "cold" is a dump on a host where no
# ftscope ran before (an empty cache each time: ELF symbols sorted, the lines of the DWARF
# units of the frames present; the whole tables are built and saved afterwards by a child of
# the dump), "off" parses what it needs every time and saves nothing (FTSCOPE_SYMBOL_CACHE="").
: >"$WORK/t.cold"
: >"$WORK/t.off"
for i in $(seq 1 "$N"); do
	FTSCOPE_SYMBOL_CACHE="$WORK/cold.$i" timed "$WORK/t.cold" "$FTSCOPE" dump "$TARGET_PID" --json
	wait_builder "$WORK/cold.$i"
	check_target "ftscope cold-cache run $i"
	rm -rf "$WORK/cold.$i"
	FTSCOPE_SYMBOL_CACHE="" timed "$WORK/t.off" "$FTSCOPE" dump "$TARGET_PID" --json
	check_target "ftscope no-cache run $i"
done

# ftscope's hold time (untimed runs, to a file).
: >"$WORK/hold"
for i in $(seq 1 "$N"); do
	run_ftscope >"$WORK/hold.json" 2>/dev/null
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); d=d[0] if isinstance(d,list) else d; print(d.get("hold_ms","nan"))' "$WORK/hold.json" >>"$WORK/hold"
	check_target "ftscope hold run $i"
done

# What each produced (from the warm-up outputs).
read -r F_THREADS F_NATIVE F_PY F_FULL F_MERGED <<<"$("$PY" - "$WORK/ftscope.json" "$DEPTH" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); depth = int(sys.argv[2])
snap = d[0] if isinstance(d, list) else d
threads = [t for p in snap["processes"] for t in p["threads"]]
native = sum(1 for t in threads for f in t.get("frames", []) if not f.get("python"))
py = sum(1 for t in threads for f in t.get("frames", []) if f.get("python"))
# a worker is complete when its Python stack shows all DEPTH recursive frames and Event.wait
full = sum(1 for t in threads
           if sum(1 for f in t.get("frames", []) if f.get("python") and f["function"] == "recurse") == depth
           and any(f.get("python") and f["function"] == "Event.wait" for f in t.get("frames", [])))
merged = sum(1 for t in threads if t.get("merged"))
print(len(threads), native, py, full, merged)
EOF
)"
G_THREADS=$(grep -c '^Thread [0-9]' "$WORK/gdb.txt" || true)
G_NATIVE=$(grep -c '^#[0-9]' "$WORK/gdb.txt" || true)
G_EVAL=$(grep -c '_PyEval_EvalFrameDefault' "$WORK/gdb.txt" || true)
G_PYNAMES=$(grep -c 'recurse' "$WORK/gdb.txt" || true)

col() { awk -v c="$2" '{ print $c }' "$1"; } # col FILE N: the Nth column
read -r _ F_MED F_MIN F_MAX _ <<<"$(col "$WORK/t.ftscope" 1 | stats)"
read -r _ G_MED G_MIN G_MAX _ <<<"$(col "$WORK/t.gdb" 1 | stats)"
read -r _ C_MED C_MIN C_MAX _ <<<"$(col "$WORK/t.cold" 1 | stats)"
read -r _ O_MED O_MIN O_MAX _ <<<"$(col "$WORK/t.off" 1 | stats)"
read -r _ FC_MED _ <<<"$(col "$WORK/t.ftscope" 2 | stats)"
read -r _ GC_MED _ <<<"$(col "$WORK/t.gdb" 2 | stats)"
read -r _ CC_MED _ <<<"$(col "$WORK/t.cold" 2 | stats)"
read -r _ OC_MED _ <<<"$(col "$WORK/t.off" 2 | stats)"
read -r _ H_MED H_MIN H_MAX _ <<<"$(stats <"$WORK/hold")"
read -r _ B_MED _ <<<"$(stats <"$WORK/t.build")"

# Release the workers: the target must finish by itself, all threads joined.
echo go >"$WORK/go"
rc=0
for _ in $(seq 1 100); do kill -0 "$TARGET_PID" 2>/dev/null || break; sleep 0.1; done
wait "$TARGET_PID" || rc=$?
TARGET_PID=
if [ "$rc" = 0 ] && grep -q "^DONE $THREADS\$" "$WORK/target.out"; then
	AFTER="finished normally after $((5 * N + 2)) attaches: all $THREADS threads joined, exit 0"
else
	AFTER="HARMED: exit $rc, output: $(tr '\n' ' ' <"$WORK/target.out") $(tail -3 "$WORK/target.err" | tr '\n' ' ')"
fi

runs() { col "$1" 1 | paste -sd' ' | awk '{ for (i = 1; i <= NF; i++) printf "%.3f ", $i }'; }
printf '%-10s %12s %12s %12s %12s   %s\n' tool "median (s)" "min (s)" "max (s)" "CPU med (s)" "runs (wall)"
printf '%-10s %12.4f %12.4f %12.4f %12.4f   %s\n' ftscope "$F_MED" "$F_MIN" "$F_MAX" "$FC_MED" "$(runs "$WORK/t.ftscope")"
printf '%-10s %12.4f %12.4f %12.4f %12.4f   %s\n' gdb "$G_MED" "$G_MIN" "$G_MAX" "$GC_MED" "$(runs "$WORK/t.gdb")"
echo
echo "ftscope without its warm symbol cache (not interleaved with gdb):"
printf '%-10s %12.4f %12.4f %12.4f %12.4f   %s\n' cold "$C_MED" "$C_MIN" "$C_MAX" "$CC_MED" "$(runs "$WORK/t.cold")"
printf '%-10s %12.4f %12.4f %12.4f %12.4f   %s\n' off "$O_MED" "$O_MIN" "$O_MAX" "$OC_MED" "$(runs "$WORK/t.off")"
printf 'after a cold dump, its child built and saved the tables in %.2f s more (median, untimed)\n' "$B_MED"
echo
awk -v g="$G_MED" -v f="$F_MED" -v gm="$G_MIN" -v fm="$F_MIN" -v gc="$GC_MED" -v fc="$FC_MED" 'BEGIN {
	r = g / f
	printf "ratio gdb/ftscope, warm cache: %.1fx (median wall), %.1fx (min wall), %.1fx (median CPU)   goal >= 30x: %s (median wall), %s (median CPU)\n", r, gm / fm, gc / fc, (r >= 30 ? "met" : "NOT met"), (gc / fc >= 30 ? "met" : "NOT met")
}'
awk -v g="$G_MED" -v c="$C_MED" -v gc="$GC_MED" -v cc="$CC_MED" 'BEGIN {
	r = g / c
	printf "ratio gdb/ftscope, empty cache (first dump on a host): %.1fx (median wall), %.1fx (median CPU)   goal >= 10x: %s (median wall), %s (median CPU)\n", r, gc / cc, (r >= 10 ? "met" : "NOT met"), (gc / cc >= 10 ? "met" : "NOT met")
}'
awk -v g="$G_MED" -v o="$O_MED" -v gc="$GC_MED" -v oc="$OC_MED" 'BEGIN {
	printf "ratio gdb/ftscope, cache off: %.1fx (median wall), %.1fx (median CPU)\n", g / o, gc / oc
}'
printf 'ftscope hold (target stopped), hold_ms: median %.1f ms, min %.1f, max %.1f (%d dumps)   goal <= 10 ms: %s\n' \
	"$H_MED" "$H_MIN" "$H_MAX" "$N" "$(awk -v h="$H_MED" 'BEGIN { print (h <= 10 ? "met" : "NOT met") }')"
echo "(wall times on a shared machine move with its load; CPU times much less: compare the two."
echo " The CPU verdict counts all of ftscope's CPU, its line-preparation thread's included, against gdb's.)"
echo
echo "what each produced (warm-up outputs):"
printf '  ftscope: %s threads, %s native frames, %s Python frames (%s of %s workers with all %s recurse frames + Event.wait; %s threads merged)\n' \
	"$F_THREADS" "$F_NATIVE" "$F_PY" "$F_FULL" "$THREADS" "$DEPTH" "$F_MERGED"
printf '  gdb:     %s threads, %s native frames, 0 Python frames (%s _PyEval_EvalFrameDefault frames, "recurse" named %s times)\n' \
	"$G_THREADS" "$G_NATIVE" "$G_EVAL" "$G_PYNAMES"
echo "target afterwards: $AFTER"
case $AFTER in HARMED*) exit 1 ;; esac
