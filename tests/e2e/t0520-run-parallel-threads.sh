#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# run --parallel-threads: ftfix-unsafecache's library has a thread-unsafe global cache and
# its tests run in one thread. Plain, it is compatible and no concurrency was exercised;
# with --parallel-threads 4, pytest-run-parallel runs each test in 4 threads at once: the
# package is no longer compatible (stress_only, the failing test named), the test marked
# thread_unsafe is run single-threaded and passes, the stress iterations are kept apart.
# A suite run by unittest gets no stress iterations, and the results say why.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
"$FT_PYTHON" -c 'import pytest_run_parallel' 2>/dev/null ||
	skip_all "pytest-run-parallel is not installed in $FT_PYTHON (scripts/setup.sh installs it)"

P=ftfix-unsafecache
T=test_cache.py::test_squares
run_fixtures $P --iterations 2 --timeout 120
is "$FTSCOPE_RC" 0 "plain run exits 0"
is "$(jqpkg $P .category)" compatible "plain: compatible"
is "$(jqpkg $P .concurrency_exercised)" false "plain: concurrency not exercised"
is "$(jqpkg $P '.stress // "none"')" none "plain: no stress block"

mv "$TEST_TMP/results" "$TEST_TMP/results-plain"
run_fixtures $P --iterations 2 --timeout 120 --parallel-threads 4 --parallel-iterations 3
is "$FTSCOPE_RC" 0 "--parallel-threads 4 exits 0"
note "stress: $(jqpkg $P '.stress | del(.iterations) | tostring')"
ok test "$(jqpkg $P .category)" != compatible "under stress: not compatible"
is "$(jqpkg $P .category)" intermittent "the category of all iterations: plain pass, stress fail"
jqpkg_true $P '.pass_count == 2 and .iterations_completed == 2' "the plain iterations all pass"
jqpkg_true $P '.stress_only == true and (.stress_failing_tests | any(endswith("'$T'")))' \
	"stress_only, naming $T"
jqpkg_true $P '.stress.threads == 4 and .stress.plugin_iterations == 3 and .stress.iterations_completed == 2 and
	.stress.pass_count == 0 and (.stress.plugin_version | test("^[0-9]"))' \
	"the stress block: 4 threads x 3, 2 iterations, none passing, the plugin's version"
jqpkg_true $P 'all(.stress.iterations[]; (.parallel_failed | any(endswith("'$T'"))) and
	(.parallel_failed | all(test("marked|constant") | not)))' \
	"every stress iteration: $T PARALLEL FAILED, and only the racing test"
jqpkg_true $P '.stress.thread_unsafe_tests | to_entries |
	any((.key | endswith("test_squares_marked_unsafe")) and (.value | test("thread_unsafe marker")))' \
	"the thread_unsafe marker is honoured: that test ran single-threaded, with its reason"
jqpkg_true $P '.stress.failed_tests | all(test("marked_unsafe") | not)' \
	"the marked test did not fail"
jqpkg_true $P '.concurrency_exercised == true and (.concurrency_exercised_by | index("stress"))' \
	"concurrency exercised, by stress"
ok test -d "$RUN_DIR/artifacts/$P/stress-1" "stress iterations have their own artifacts"
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.parallel_threads)" 4 "ft_meta.json: parallel_threads"
run_ftscope show "$RUN_DIR"
ok grep -q "intermittent .*stress x4: 0/2 passed; fails only under stress" "$FTSCOPE_OUT" \
	"show gives the stress finding"
run_ftscope report "$RUN_DIR" --format markdown
ok grep -q "^| $P | intermittent (stress only) | stress | stress x4: 0/2 passed" "$FTSCOPE_OUT" \
	"report: the Stress section, how concurrency was exercised"
run_ftscope report "$RUN_DIR" --format html
ok grep -q '<section id="stress">' "$FTSCOPE_OUT" "report --format html: the Stress section"
run_ftscope flaky "$RUN_DIR" --package $P
ok grep -q "^Stress: *stress x4: 0/2 passed.*(passes plain)" "$FTSCOPE_OUT" "flaky: the stress line"
run_ftscope compare "$TEST_TMP/results-plain" "$RUN_DIR"
ok grep -q "$P.*new: stress x4" "$FTSCOPE_OUT" "compare: a new stress-only failure"

mv "$TEST_TMP/results" "$TEST_TMP/results-stress"
run_fixtures $P --iterations 1 --timeout 120 --parallel-threads 4 \
	--test-command-override "python -m unittest discover -s tests -v"
is "$FTSCOPE_RC" 0 "a unittest suite with --parallel-threads exits 0"
jqpkg_true $P '.stress.iterations == [] and (.stress.skipped_reason | test("does not run pytest"))' \
	"no stress iterations for a unittest suite, and the reason"
is "$(jqpkg $P .category)" compatible "its plain iteration decides: compatible"
done_testing
