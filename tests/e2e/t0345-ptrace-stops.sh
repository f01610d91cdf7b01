#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# What tracing cost the tests: the iteration counts the ptrace stops the supervisor serviced,
# by cause, and the processes of the tree exactly. A suite that starts 40 threads and 3
# subprocesses shows at least 43 clone events and 43 first stops, an exec and an exit stop per
# process but none per thread (threads run without exit stops), and every process. With
# --seize-threads its threads are seized as the kernel's process events name them, without a
# stop (clone stops for the processes only); where those events do not reach ftscope (a pid
# namespace of its own) it falls back to clone stops and says why.
# A test that signals itself without end (a stop per signal, back to back) cannot keep the
# supervisor servicing stops: the timeout still ends the iteration on time.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

code='import subprocess, sys, threading, time
ts = [threading.Thread(target=time.sleep, args=(0.1,)) for _ in range(40)]
for t in ts: t.start()
for t in ts: t.join()
for _ in range(3): subprocess.run([sys.executable, "-S", "-c", "pass"], check=True)
print("40 threads and 3 children done")'

fixture_registry ok
run_fixtures ftfix-ok --iterations 1 --tracer ptrace --no-detect-extensions \
	--test-command-override "python -c '$code'"
is "$FTSCOPE_RC" 0 "run exits 0"
is "$(jqpkg ftfix-ok .iterations[0].status)" pass "the command passes under ptrace"
is "$(jqpkg ftfix-ok .iterations[0].tracer)" ptrace "traced with ptrace"
note "stops: $(jqpkg ftfix-ok .iterations[0].ptrace_stops) processes: $(jqpkg ftfix-ok .iterations[0].processes)"
is "$(jqpkg ftfix-ok .iterations[0].ptrace_stops.threads)" clone-stops "threads by clone stops (the default)"
jqpkg_true ftfix-ok '.iterations[0].ptrace_stops | .clone >= 43 and .new_task >= 43' \
	"a clone event and a first stop for each of 40 threads and 3 children"
jqpkg_true ftfix-ok '.iterations[0].ptrace_stops | .exec >= 3 and .exit >= 3' \
	"an exec and an exit stop for each child process"
jqpkg_true ftfix-ok '.iterations[0].ptrace_stops | .exit < 10' \
	"no exit stop for the 40 threads"
jqpkg_true ftfix-ok '.iterations[0].ptrace_stops | .total == .clone + .new_task + .exec + .exit + .signal + .other' \
	"the causes add up to the total"
jqpkg_true ftfix-ok '.iterations[0].processes >= 4 and .iterations[0].processes <= 6' \
	"every process counted: the test's Python and its 3 children (and a shell)"

mv "$TEST_TMP/results" "$TEST_TMP/results-1"
run_fixtures ftfix-ok --iterations 1 --tracer ptrace --no-detect-extensions --seize-threads \
	--test-command-override "python -c '$code'"
note "--seize-threads: $(jqpkg ftfix-ok .iterations[0].ptrace_stops)"
is "$(jqpkg ftfix-ok .iterations[0].status)" pass "--seize-threads: the command passes"
if [ "$(jqpkg ftfix-ok .iterations[0].ptrace_stops.threads)" = seized ]; then
	pass "--seize-threads: threads seized from the process events"
	jqpkg_true ftfix-ok '.iterations[0].ptrace_stops | .clone >= 3 and .clone < 10 and .new_task < 10' \
		"--seize-threads: clone stops for the 3 children, none for the 40 threads"
	jqpkg_true ftfix-ok '.iterations[0].ptrace_stops | .seized >= 40' \
		"--seize-threads: the 40 threads seized without a stop"
	jqpkg_true ftfix-ok '.iterations[0].ptrace_stops | .seize_lag_max_us > 0 and .seize_lag_mean_us <= .seize_lag_max_us' \
		"--seize-threads: how long after their start they were seized"
else
	# where the kernel's process events do not reach ftscope (a container's namespaces)
	why=$(jqpkg ftfix-ok .iterations[0].ptrace_stops.why_clone_stops)
	is "$(jqpkg ftfix-ok .iterations[0].ptrace_stops.threads)" clone-stops "--seize-threads: clone stops, and why: $why"
	skip "--seize-threads: clone stops for the children only" "the process events do not reach ftscope here: $why"
	skip "--seize-threads: the 40 threads seized without a stop" "$why"
	skip "--seize-threads: how long after their start they were seized" "$why"
fi
jqpkg_true ftfix-ok '.iterations[0].ptrace_stops | .exit >= 3 and .exit < 10' \
	"--seize-threads: an exit stop per process, none for the 40 threads"

mv "$TEST_TMP/results" "$TEST_TMP/results-1b"
if command -v unshare >/dev/null && unshare --pid --fork --mount-proc true 2>/dev/null; then
	# A container's own pid namespace: the kernel sends its process events to the initial
	# one only (and ignores a listener elsewhere); ftscope falls back and says why.
	FTSCOPE_PREFIX="unshare --pid --fork --mount-proc" \
		run_fixtures ftfix-ok --iterations 1 --tracer ptrace --no-detect-extensions --seize-threads \
		--test-command-override "python -c '$code'"
	is "$(jqpkg ftfix-ok .iterations[0].status)" pass "own pid namespace: the command passes"
	is "$(jqpkg ftfix-ok .iterations[0].ptrace_stops.threads)" clone-stops \
		"own pid namespace: threads by clone stops"
	jqpkg_true ftfix-ok '.iterations[0].ptrace_stops | (.why_clone_stops | length) > 0 and .new_task >= 43' \
		"own pid namespace: why, and a first stop for each thread and child"
	mv "$TEST_TMP/results" "$TEST_TMP/results-1c"
else
	for t in "own pid namespace: the command passes" "own pid namespace: threads by clone stops" \
		"own pid namespace: why, and a first stop for each thread and child"; do
		skip "$t" "unshare --pid cannot run here"
	done
fi
storm='import os, signal
signal.signal(signal.SIGUSR1, lambda *a: None)
while True: os.kill(os.getpid(), signal.SIGUSR1)'
run_fixtures ftfix-ok --iterations 1 --tracer ptrace --no-detect-extensions --timeout 3 \
	--test-command-override "python -c '$storm'"
note "signal storm: $(jqpkg ftfix-ok '.iterations[0] | {status, killed_by, duration_s, ptrace_stops}')"
is "$(jqpkg ftfix-ok .iterations[0].killed_by)" timeout "signal storm: ended by the 3 s timeout"
jqpkg_true ftfix-ok '.iterations[0].duration_s < 6' "signal storm: on time (under 6 s)"
jqpkg_true ftfix-ok '.iterations[0].ptrace_stops.signal > 1000' "signal storm: every signal was a stop"

mv "$TEST_TMP/results" "$TEST_TMP/results-2"
run_fixtures ftfix-ok --iterations 1 --tracer none --no-detect-extensions \
	--test-command-override "python -c '$code'"
is "$(jqpkg ftfix-ok .iterations[0].status)" pass "the command passes untraced"
is "$(jqpkg ftfix-ok .iterations[0].ptrace_stops)" null "no ptrace, no stops"
done_testing
