#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftfix-ok: a correct package is "compatible"; the results carry per-iteration and per-test
# evidence, and show / export read them back.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-ok
run_fixtures $P --iterations 3 --timeout 120
is "$FTSCOPE_RC" 0 "ftscope run exits 0"
ok test -n "$RUN_DIR" "one run directory under results/"
like "${RUN_DIR##*/}" '^ft_[0-9]{8}_[0-9]{6}(_[0-9]+)?$' "run directory is named ft_YYYYMMDD_HHMMSS"
is "$(jqfile "$RUN_DIR/ft_meta.json" .status)" complete "ft_meta.json status is complete"
is "$(jqfile "$RUN_DIR/ft_meta.json" .packages_completed)" 1 "ft_meta.json packages_completed is 1"
is "$(pkg_line_count $P)" 1 "one result line for $P"

is "$(jqpkg $P .category)" compatible "category is compatible"
is "$(jqpkg $P .iterations_completed)" 3 "iterations_completed is 3"
is "$(jqpkg $P .pass_count)" 3 "pass_count is 3"
jqpkg_true $P '.pass_rate == 1' "pass_rate is 1"
is "$(jqpkg $P '.fail_count + .crash_count + .timeout_count + .deadlock_count')" 0 \
	"no fails, crashes, timeouts or deadlocks"
is "$(jqpkg $P '.install_ok and .import_ok')" true "install_ok and import_ok"
is "$(jqpkg $P .interrupted)" false "not interrupted"
jqpkg_true $P '[.iterations[].index] == [1,2,3]' "iterations are indexed 1, 2, 3"
jqpkg_true $P '.iterations | length == 3 and all(.status == "pass")' "every iteration passed"
jqpkg_true $P 'all(.iterations[]; .exit_code == 0 and .killed_by == null)' \
	"every iteration exited 0 and was not killed"
jqpkg_true $P 'all(.iterations[]; .gil == "0")' "iterations ran with PYTHON_GIL=0"
jqpkg_true $P 'all(.iterations[]; .tests_passed == 4 and .tests_failed == 0)' \
	"every iteration counted 4 passed tests, 0 failed"
jqpkg_true $P '.iterations[0].test_results | to_entries |
	any(.key | test("test_word_count")) and all(.value == "PASSED")' \
	"test_results lists test_word_count, every test PASSED"
jqpkg_true $P '.iterations[0].test_results | length == 4' "test_results has the 4 tests"
jqpkg_true $P '.flaky_tests == {}' "no flaky tests"

commit=$(git -C "$TEST_TMP/fx/src/$P" rev-parse HEAD)
like "$(jqpkg $P .commit)" '^[0-9a-f]{40}$' "commit is a 40-hex id"
is "$(jqpkg $P .commit)" "$commit" "commit is the fixture repository's HEAD"
is "$(jqpkg $P .install_from)" source "install_from is source"
jqpkg_true $P '.duration_s > 0 and .mean_duration_s > 0' "durations are recorded"

art=$RUN_DIR/artifacts/$P
ok test -s "$art/1/junit.xml" "artifacts/$P/1/junit.xml exists"
ok grep -q 'test_word_count' "$art/1/junit.xml" "junit.xml names the tests"
ok test -s "$art/3/junit.xml" "artifacts/$P/3/junit.xml exists"
ok test -f "$art/1/stdout" "artifacts/$P/1/stdout exists"
ok test -f "$art/1/stderr" "artifacts/$P/1/stderr exists"
ok test -s "$art/install.log" "artifacts/$P/install.log exists"
ok jq -e '.status == "pass" and .index == 1' "$art/1/iteration.json" \
	"artifacts/$P/1/iteration.json is the iteration record"

run_ftscope show "$RUN_DIR"
is "$FTSCOPE_RC" 0 "ftscope show exits 0"
ok grep -q "$P.*compatible" "$FTSCOPE_OUT" "ftscope show lists $P as compatible"

run_ftscope export "$RUN_DIR" --format csv -o "$TEST_TMP/out.csv"
is "$FTSCOPE_RC" 0 "ftscope export --format csv exits 0"
like "$(head -n 1 "$TEST_TMP/out.csv")" '^package,category,pass_rate' "CSV header starts package,category,pass_rate"
ok grep -q "^$P,compatible,1" "$TEST_TMP/out.csv" "CSV has the $P row"
is "$(grep -c . "$TEST_TMP/out.csv")" 2 "CSV has a header and one row"

run_ftscope export "$RUN_DIR" --format json
is "$FTSCOPE_RC" 0 "ftscope export --format json exits 0"
is "$(jq -r '.[0].package + " " + .[0].category' "$FTSCOPE_OUT")" "$P compatible" \
	"JSON export holds the package"

done_testing
