#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftfix-deadlock: a lock-order deadlock is called "deadlock" within seconds (not at the
# 120 s timeout), with the blocked threads and their Python stacks as evidence, and no
# process of the test tree survives.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-deadlock
start=$(date +%s)
run_fixtures $P --iterations 2 --timeout 120 --deadlock-window 2
elapsed=$(($(date +%s) - start))
is "$FTSCOPE_RC" 0 "ftscope run exits 0"
ok test "$elapsed" -lt 100 "the whole run took ${elapsed}s, far from 2 x 120 s"

is "$(jqpkg $P .category)" deadlock "category is deadlock"
is "$(jqpkg $P .iterations_completed)" 2 "iterations_completed is 2"
is "$(jqpkg $P .deadlock_count)" 2 "deadlock_count is 2"
is "$(jqpkg $P .timeout_count)" 2 "timeout_count (timeouts + deadlocks) is 2"
is "$(jqpkg $P .hang_count.deadlock)" 2 "hang_count.deadlock is 2"
jqpkg_true $P '.pass_count == 0 and .crash_count == 0' "no pass, no crash"

for i in 0 1; do
	n=$((i + 1))
	it=".iterations[$i]"
	is "$(jqpkg $P "$it.status")" deadlock "iteration $n: status deadlock"
	is "$(jqpkg $P "$it.killed_by")" deadlock "iteration $n: killed_by deadlock"
	is "$(jqpkg $P "$it.hang.reason")" lock_wait "iteration $n: hang.reason lock_wait"
	jqpkg_true $P "$it.duration_s < 20" "iteration $n: verdict in under 20 s ($(jqpkg $P "$it.duration_s") s)"
	jqpkg_true $P "$it.hang.detected_after_s >= 1.5 and $it.hang.detected_after_s < 20" \
		"iteration $n: detected after about the 2 s window ($(jqpkg $P "$it.hang.detected_after_s") s)"
	jqpkg_true $P "[$it.hang.threads[] | select(.blocked and .syscall == \"futex\")] | length >= 2" \
		"iteration $n: at least 2 threads blocked in futex"
	jqpkg_true $P "$it.hang.threads | all(.tid > 0 and .pid > 0)" \
		"iteration $n: threads have pid and tid"
	jqpkg_true $P "$it.hang.python_stacks == null or ($it.hang.python_stacks | test(\"test_deadlock.py\"))" \
		"iteration $n: python_stacks (if any) show test_deadlock.py"
	jqpkg_true $P "$it.hang.python_stacks == null or ($it.hang.python_stacks | test(\"_a_to_b\") and test(\"_b_to_a\"))" \
		"iteration $n: python_stacks (if any) show both lock-taking threads"
done
if [ "$(jqpkg $P '.iterations[0].hang.python_stacks')" = null ]; then
	diag "note: hang.python_stacks is null (no faulthandler dump was taken)"
fi
ok test -f "$RUN_DIR/artifacts/$P/1/iteration.json" "iteration 1 artifacts written"

# Nothing of the killed test trees is left behind.
sleep 0.5
mapfile -t left < <(procs_under "$TEST_TMP")
is "${#left[@]}" 0 "no process of the run survives"
[ ${#left[@]} -eq 0 ] || describe_pids "${left[@]}"
if command -v pgrep >/dev/null; then
	ok test -z "$(pgrep -f "$TEST_TMP/.*$P")" "pgrep finds nothing for the fixture path"
fi

done_testing
