#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# --tsan instruments the package: ftfix-cexrace's C extension declares no sanitizer flags,
# so ThreadSanitizer sees its races only when ftscope builds it with -fsanitize=thread
# (CFLAGS/LDFLAGS of the install). Its value race (ftfix_cexrace_writer against
# ftfix_cexrace_reader) must come out as a race signature naming both functions. With
# FTFIX_CEXRACE_SEGV=1 its reader dereferences a pointer the writer sets to NULL: TSAN
# catches the SIGSEGV, prints "ERROR: ThreadSanitizer: SEGV" and exits 0 (exitcode=0), and the
# iteration must still be a crash, signed from the report's stack. The fixture makes both
# meetings certain (relaxed-atomic flags: real-time order, no happens-before for TSAN), so
# every run has the race and every SEGV iteration segfaults.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_tsan_runtime

P=ftfix-cexrace
run_fixtures $P --iterations 1 --timeout 180 --tsan
is "$FTSCOPE_RC" 0 "ftscope run --tsan exits 0"
is "$(jqpkg $P .category)" tsan_warnings "category is tsan_warnings, not compatible"
jqpkg_true $P '[.tsan_races[] | select(.kind == "data race" and
	(.signature | test("ftfix_cexrace_reader")) and (.signature | test("ftfix_cexrace_writer")))]
	| length == 1' "one data race whose signature names the reader and the writer"
jqpkg_true $P '.iterations[0].status == "pass"' "the iteration itself passes"

mv "$TEST_TMP/results" "$TEST_TMP/results-race"
run_fixtures $P --iterations 2 --timeout 180 --tsan --env FTFIX_CEXRACE_SEGV=1
is "$FTSCOPE_RC" 0 "ftscope run --tsan (SEGV) exits 0"
note "iterations: $(jqpkg $P '[.iterations[] | {status, exit_code, crash_signature}] | tostring')"
jqpkg_true $P '[.iterations[] | select(any(.tsan_reports[]; .kind == "SEGV"))] | length == 2' \
	"TSAN reported the SEGV in both iterations (the reader meets the NULL for certain)"
jqpkg_true $P 'all(.iterations[] | select(any(.tsan_reports[]; .kind == "SEGV"));
	.status == "crash" and .exit_code == 0 and .crash_signal == "SIGSEGV" and
	.crash_source == "tsan" and
	(.crash_signature | startswith("SIGSEGV | ftfix_cexrace_box_reader")))' \
	"each such iteration is a crash although the runner exited 0, signed by the reader"
is "$(jqpkg $P .category)" crash "the package is a crash"
done_testing
