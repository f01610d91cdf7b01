#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# What one traced event costs a test: the supervisor's price per operation, where the
# end-to-end suite bench (overhead.sh) can only see the sum through the noise of a whole
# suite. Under --tracer ptrace the kernel stops a task and waits for ftscope at every thread
# start (the creator's clone event and the new thread's first stop), every process exit (its
# exit stop), every fork/exec, and every signal delivered; nothing else (no syscall tracing).
# With FTSCOPE_ARGS=--seize-threads a thread start is no stop (ftscope seizes the thread as the
# kernel's process event names it); its end is still a wakeup (a reap).
# A free-threaded Python workload times, in batches, each kind of operation:
#   thread    threading.Thread(...).start(); join()          (clone + first stop; with
#                                                             --seize-threads a seize)
#   spawn     os.posix_spawn("/bin/true") + waitpid           (vfork, exec, exit stop, SIGCHLD)
#   signal    os.kill(getpid(), SIGUSR1) with a Python handler (signal-delivery-stop)
#   compute   a pure-Python loop                               (control: nothing to trace)
# and prints the median time per operation over its batches. Modes bare / none / ptrace /
# ebpf run in ROUNDS rounds (order rotated per round); the report is the median over rounds
# per mode and the difference to bare in microseconds per operation.
#
#   bash bench/ptrace_events.sh
#   ROUNDS=9 bash bench/ptrace_events.sh
#   FTSCOPE_ARGS=--seize-threads bash bench/ptrace_events.sh   (threads seized, no stops)
#   ROUNDS=1 BATCHES=2 SCALE=0.05 bash bench/ptrace_events.sh   (a quick look: `make check`)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

ROUNDS=${ROUNDS:-5}
BATCHES=${BATCHES:-9} # batches per operation kind, per run
SCALE=${SCALE:-1}     # operations per batch, relative to 200 threads, 100 spawns, 2000 signals
TEST_USER=${TEST_USER:-nobody}

need_root
need_cmd setpriv
need_ftscope
need_python
need_ptrace
bench_check
TEST_UID=$(id -u "$TEST_USER")
TEST_GID=$(id -g "$TEST_USER")

WORK=$(mktemp -d /tmp/ftscope-bench-events.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
chmod 755 "$WORK"

PKG=$WORK/pkg
bench_package "$PKG" ftbench-events
cat >"$WORK/events.py" <<'EOF'
"""Time each kind of traced operation in batches; print 'kind median_us_per_op'."""
import os, signal, statistics, sys, threading, time

BATCHES = int(os.environ.get("FTBENCH_BATCHES", "9"))
SCALE = float(os.environ.get("FTBENCH_SCALE", "1"))

def per_op(fn, n):
    ts = []
    for _ in range(BATCHES):
        t0 = time.perf_counter()
        fn(n)
        ts.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(ts)

def threads(n):
    for _ in range(n):
        t = threading.Thread(target=int)
        t.start()
        t.join()

def spawn(n):
    for _ in range(n):
        pid = os.posix_spawn("/bin/true", ["true"], {})
        os.waitpid(pid, 0)

hits = 0
def on_usr1(signum, frame):
    global hits
    hits += 1

def signals(n):
    for _ in range(n):
        os.kill(os.getpid(), signal.SIGUSR1)

def compute(n):
    s = 0
    for i in range(n):
        s += i * i
    return s

signal.signal(signal.SIGUSR1, on_usr1)
nsig = max(1, int(2000 * SCALE))
for kind, fn, n in (("thread", threads, max(1, int(200 * SCALE))),
                    ("spawn", spawn, max(1, int(100 * SCALE))),
                    ("signal", signals, nsig), ("compute", compute, max(1, int(200000 * SCALE)))):
    print(kind, f"{per_op(fn, n):.3f}", file=sys.stderr, flush=True)
assert hits == BATCHES * nsig, hits
EOF
chmod 644 "$WORK/events.py"

: >"$WORK/samples" # mode round kind us
run_bare() { # round
	(cd "$PKG" && env -u PYTHONHOME -u PYTHONPATH PATH="$VENV/bin:$PATH" VIRTUAL_ENV="$VENV" \
		PYTHON_GIL=0 HOME="$WORK/home" FTBENCH_BATCHES="$BATCHES" FTBENCH_SCALE="$SCALE" \
		setpriv --reuid="$TEST_UID" --regid="$TEST_GID" --clear-groups \
		python "$WORK/events.py" >/dev/null 2>"$WORK/bare.err") ||
		{ echo "bare run failed:" >&2; cat "$WORK/bare.err" >&2; exit 1; }
	awk -v r="$1" 'NF == 2 { print "bare", r, $1, $2 }' "$WORK/bare.err" >>"$WORK/samples"
}

run_ftscope() { # tracer round
	local res=$WORK/res-$1-$2 err extra=()
	[ -z "${FTSCOPE_ARGS:-}" ] || read -ra extra <<<"$FTSCOPE_ARGS"
	"$FTSCOPE" run "${extra[@]}" --target-python "$PY" --package-dir "$PKG" \
		--test-command-override "python $WORK/events.py" --no-detect-extensions \
		--iterations 1 --tracer "$1" --user "$TEST_USER" --results-dir "$res" \
		--env FTBENCH_BATCHES="$BATCHES" --env FTBENCH_SCALE="$SCALE" \
		--venvs-dir "$WORK/venvs" --repos-dir "$WORK/repos" --offline >"$WORK/ft.out" 2>"$WORK/ft.err" ||
		{ echo "ftscope run --tracer $1 failed:" >&2; tail -20 "$WORK/ft.err" >&2; exit 1; }
	err=$(find "$res" -path '*/artifacts/*/1/stderr' | head -1)
	grep -q '^compute ' "$err" 2>/dev/null ||
		{ echo "ftscope run --tracer $1: no timings in ${err:-its stderr}" >&2; exit 1; }
	awk -v m="$1" -v r="$2" 'NF == 2 && $2 ~ /^[0-9.]+$/ { print m, r, $1, $2 }' "$err" >>"$WORK/samples"
}

echo "ptrace events: $ROUNDS rounds, modes interleaved (order rotated per round)"
echo "test user: $TEST_USER"
use_ftscope_copy "$WORK"
machine_note
bench_venv "$PKG"
bench_rounds "$ROUNDS"

echo
"$PY" - "$WORK/samples" <<'PYEOF'
import statistics as st, sys
from collections import defaultdict
by = defaultdict(list)
for line in open(sys.argv[1]):
    mode, rnd, kind, us = line.split()
    by[(mode, kind)].append(float(us))
modes = [m for m in ("bare", "none", "ptrace", "ebpf") if any(k[0] == m for k in by)]
kinds = ["thread", "spawn", "signal", "compute"]
print("median us per operation (median over rounds of each run's median over its batches)")
print(f"{'operation':<10}" + "".join(f"{m:>10}" for m in modes)
      + "".join(f"{m + '-bare':>13}" for m in modes if m != "bare"))
for k in kinds:
    med = {m: st.median(by[(m, k)]) for m in modes}
    row = f"{k:<10}" + "".join(f"{med[m]:>10.2f}" for m in modes)
    row += "".join(f"{med[m] - med['bare']:>+13.2f}" for m in modes if m != "bare")
    print(row)
print("thread: start+join; spawn: posix_spawn(/bin/true)+waitpid; signal: kill(self)+handler;"
      " compute: one loop step")
PYEOF
