#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftfix-segv: a C extension that dereferences NULL when two threads are inside it makes
# the test process die of SIGSEGV: category "crash", the signal and exit code recorded.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-segv
run_fixtures $P --iterations 3 --timeout 120
is "$FTSCOPE_RC" 0 "ftscope run exits 0"

is "$(jqpkg $P .category)" crash "category is crash"
is "$(jqpkg $P .iterations_completed)" 3 "iterations_completed is 3"
jqpkg_true $P '.crash_count >= 1' "crash_count >= 1 ($(jqpkg $P .crash_count))"
jqpkg_true $P '.crash_count == ([.iterations[] | select(.status == "crash")] | length)' \
	"crash_count matches the crashed iterations"
jqpkg_true $P '.deadlock_count == 0 and .timeout_count == 0' "no deadlock or timeout"

crashed='[.iterations[] | select(.status == "crash")]'
jqpkg_true $P "$crashed | length > 0 and all(.crash_signal == \"SIGSEGV\")" \
	"crashed iterations have crash_signal SIGSEGV"
# -11 when the signal ended the test command itself, 139 when its shell reported it.
jqpkg_true $P "$crashed | all(.exit_code == -11 or .exit_code == 139)" \
	"crashed iterations have exit_code -11 (or 139 from the shell)"
jqpkg_true $P "$crashed | all(.killed_by == null)" "crashed iterations were not killed by ftscope"
jqpkg_true $P "$crashed | all(.crash_signature | type == \"string\" and length > 0)" \
	"crashed iterations have a crash_signature"
jqpkg_true $P "$crashed | all(.crash_signature | test(\"SIGSEGV\"))" \
	"the crash signature names SIGSEGV"
# The full stderr is in the artifacts; stderr_tail (4 KiB) ends with the main thread's stack.
first=$(jqpkg $P "$crashed | .[0].index")
ok grep -q "Fatal Python error: Segmentation fault" "$RUN_DIR/artifacts/$P/$first/stderr" \
	"artifacts/$P/$first/stderr holds faulthandler's report"
jqpkg_true $P "$crashed | all(.stderr_tail | test(\"test_poke.py\"))" \
	"stderr_tail's Python traceback shows test_poke.py"
jqpkg_true $P '.failure_signatures | length >= 1' "failure_signatures is not empty"
# Symbolized signatures (ptrace tracer): the faulting C function is named.
jqpkg_true $P \
	"$crashed | all(.crash_signature | test(\"ftfix_segv_poke_impl\"))" \
	"the crash signature names ftfix_segv_poke_impl"

run_ftscope show "$RUN_DIR"
is "$FTSCOPE_RC" 0 "ftscope show exits 0"
ok grep -q "$P.*crash" "$FTSCOPE_OUT" "ftscope show lists $P as crash"

done_testing
