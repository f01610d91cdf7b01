#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftfix-slow: a test that computes silently for 6 s, twice the stall threshold, is busy,
# not hung: "compatible", never killed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-slow
run_fixtures $P --iterations 1 --timeout 120 --stall-threshold 3 --deadlock-window 2
is "$FTSCOPE_RC" 0 "ftscope run exits 0"

is "$(jqpkg $P .category)" compatible "category is compatible"
is "$(jqpkg $P ".iterations[0].status")" pass "the iteration passed"
is "$(jqpkg $P ".iterations[0].killed_by")" null "the iteration was not killed"
is "$(jqpkg $P ".iterations[0].exit_code")" 0 "the iteration exited 0"
jqpkg_true $P '.iterations[0].hang == null' "no hang record"
jqpkg_true $P '.deadlock_count == 0 and .timeout_count == 0' "no deadlock or timeout counted"
jqpkg_true $P '.iterations[0].duration_s >= 5.5' \
	"it really ran past the thresholds ($(jqpkg $P ".iterations[0].duration_s") s)"
jqpkg_true $P '.iterations[0].cpu_s == null or .iterations[0].cpu_s >= 2' \
	"it burned CPU the whole time (cpu_s $(jqpkg $P ".iterations[0].cpu_s"))"
jqpkg_true $P '.iterations[0].test_results | to_entries | length == 1 and
	(.[0].key | test("test_long_silent_computation")) and .[0].value == "PASSED"' \
	"test_long_silent_computation PASSED"

done_testing
