#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# What tracing cost the tests: the iteration counts the ptrace stops the supervisor serviced,
# by cause, and the processes of the tree exactly. A suite that starts 40 threads and 3
# subprocesses shows at least 43 clone events and 43 first stops, an exec and an exit stop
# per process but none per thread (threads run without exit stops), and every process.
# A test that signals itself without end (a stop per signal, back to back) cannot keep the
# supervisor servicing stops: the timeout still ends the iteration on time.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

code='import subprocess, sys, threading
ts = [threading.Thread(target=int) for _ in range(40)]
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
