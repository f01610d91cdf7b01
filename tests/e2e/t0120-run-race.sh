#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftfix-race: a pure-Python data race fails some iterations without the GIL and none with
# it: "intermittent" (or "incompatible" if every FT iteration lost the race), gil_comparison
# "ft_only", and the failures are pinned on the racing test.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-race
N=10 # about half the runs race hard enough to fail (see the fixture): P(no failure) ~ 0.1 %
RACY=test_concurrent_bumps
run_fixtures $P --iterations $N --timeout 120 --compare-with-gil
is "$FTSCOPE_RC" 0 "ftscope run exits 0"

category=$(jqpkg $P .category)
like "$category" '^(intermittent|incompatible)$' "category is intermittent or incompatible"
note "category: $category, FT pass rate $(jqpkg $P .pass_rate)"
is "$(jqpkg $P .iterations_completed)" $N "iterations_completed is $N"
jqpkg_true $P '.fail_count > 0' "fail_count > 0"
jqpkg_true $P '.crash_count == 0 and .deadlock_count == 0 and .timeout_count == 0' \
	"no crash, deadlock or timeout"
jqpkg_true $P '.pass_count + .fail_count == '$N "pass_count + fail_count == $N"
jqpkg_true $P '.pass_rate == (.pass_count / '$N' * 10000 | round / 10000)' \
	"pass_rate is pass_count / iterations"
jqpkg_true $P 'all(.iterations[]; .gil == "0")' "FT iterations ran with PYTHON_GIL=0"
jqpkg_true $P '[.iterations[] | select(.status == "fail")] | length > 0 and
	all(.exit_code == 1 and .killed_by == null and .tests_failed == 1)' \
	"failing iterations exited 1 with exactly one failed test"

# Evidence: the racing test, and only it, failed.
jqpkg_true $P '[.iterations[] | .test_results // {} | to_entries[] |
	select(.value == "FAILED") | .key] | length > 0 and all(test("'$RACY'"))' \
	"test_results show $RACY, and only it, FAILED"
jqpkg_true $P '[.iterations[] | .test_results // {} | to_entries[] |
	select(.key | test("test_single_thread")) | .value] | length == '$N' and all(. == "PASSED")' \
	"test_single_thread PASSED in every iteration"
if [ "$category" = intermittent ]; then
	jqpkg_true $P '.flaky_tests | keys | length == 1 and all(test("'$RACY'"))' \
		"flaky_tests names $RACY"
	jqpkg_true $P '(.flaky_tests | to_entries[0].value) == .fail_count' \
		"its flaky count is the number of failed iterations"
else
	skip "flaky_tests names $RACY" "every FT iteration failed"
	skip "its flaky count is the number of failed iterations" "every FT iteration failed"
fi

# With the GIL the same suite always passes.
jqpkg_true $P '.gil_enabled_pass_rate == 1' "gil_enabled_pass_rate is 1"
jqpkg_true $P '.gil_enabled_iterations | length == '$N' and
	all(.status == "pass" and .gil == "1")' "$N GIL iterations, all passed with PYTHON_GIL=1"
is "$(jqpkg $P .gil_comparison)" ft_only "gil_comparison is ft_only"
ok test -d "$RUN_DIR/artifacts/$P/gil-1" "GIL iteration artifacts are in gil-1/"
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.compare_with_gil)" true \
	"ft_meta.json records compare_with_gil"

done_testing
