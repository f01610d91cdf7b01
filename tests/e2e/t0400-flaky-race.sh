#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftscope flaky on a real run of ftfix-race (8 iterations): the racing test is listed with its
# failure count, rate, Wilson 95% interval and the iterations that catch it; the package's
# pattern, failure modes and streaks agree with its iterations.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd jq

P=ftfix-race
RACY=tests/test_counter.py::test_concurrent_bumps
N=8
run_fixtures $P --iterations $N --timeout 120 --no-detect-extensions
is "$FTSCOPE_RC" 0 "ftscope run exits 0"
category=$(jqpkg $P .category)
fails=$(jqpkg $P .fail_count)
passes=$(jqpkg $P .pass_count)
note "category $category, $fails of $N iterations failed"

# The package's profile, whatever the race did this time.
run_ftscope flaky "$RUN_DIR" --package $P --json
is "$FTSCOPE_RC" 0 "flaky --package --json exits 0"
J=$TEST_TMP/flaky.json
cp "$FTSCOPE_OUT" "$J"
is "$(jqfile "$J" 'length')" 1 "one profile"
is "$(jqfile "$J" '.[0].total_iterations')" $N "total_iterations is $N"
is "$(jqfile "$J" '.[0].pass_count')" "$passes" "pass_count matches the run"
is "$(jqfile "$J" '.[0].sequence | length')" $N "one sequence character per iteration"
is "$(jqfile "$J" '.[0].sequence | gsub("[^F]"; "") | length')" "$fails" \
	"the sequence has an F per failed iteration"
is "$(jqfile "$J" '.[0].failure_modes.fail // 0')" "$fails" "failure modes: fail = $fails"
ok jq -e '.[0] | .pass_rate_ci95[0] <= .pass_rate and .pass_rate <= .pass_rate_ci95[1]' "$J" \
	"the pass rate lies in its 95% interval"
ok jq -e '.[0] | .max_consecutive_passes + .max_consecutive_failures >= 1 and
	.max_consecutive_passes <= '$N' and .max_consecutive_failures <= '$N "$J" "streaks are sane"

if [ "$category" = intermittent ]; then
	jqpkg_true $P '.flaky_tests | has("'$RACY'")' "the run's flaky_tests names the racing test"
	# consistent_test needs two failed iterations with the same failing-test set
	want_pattern=consistent_test
	[ "$fails" -ge 2 ] || want_pattern=unknown
	is "$(jqfile "$J" '.[0].pattern')" $want_pattern \
		"pattern: $want_pattern (only the racing test ever fails)"
	is "$(jqfile "$J" '[.[0].flaky_tests[].test_id] | join(",")')" "$RACY" \
		"flaky tests: the racing test, only it"
	is "$(jqfile "$J" '.[0].flaky_tests[0].fail_count')" "$fails" "its fail count"
	is "$(jqfile "$J" '.[0].flaky_tests[0].total_seen')" $N "seen in every iteration"
	ok jq -e '.[0].flaky_tests[0] | .fail_rate_ci95[0] < .fail_rate and
		.fail_rate < .fail_rate_ci95[1] and .fail_rate_ci95[0] > 0 and .fail_rate_ci95[1] < 1' \
		"$J" "its failure rate lies strictly inside its 95% interval"
	# Wilson bounds, recomputed here (z = 1.95996)
	ok jq -e '.[0].flaky_tests[0] | .fail_count as $k | .total_seen as $n | ($k / $n) as $p |
		1.959963984540054 as $z | (1 + $z * $z / $n) as $d |
		(($p + $z * $z / (2 * $n)) / $d) as $c |
		($z * (($p * (1 - $p) / $n + $z * $z / (4 * $n * $n)) | sqrt) / $d) as $h |
		((.fail_rate_ci95[0] - ($c - $h)) | fabs) < 0.0001 and
		((.fail_rate_ci95[1] - ($c + $h)) | fabs) < 0.0001' "$J" "the interval is Wilson's"
	ok jq -e '.[0].flaky_tests[0] | .fail_rate as $p |
		.iterations_to_catch == ((0.05 | log) / ((1 - $p) | log) | ceil)' "$J" \
		"iterations to catch = ceil(ln 0.05 / ln(1 - p))"
	ok jq -e '.[0].always_failing_tests == []' "$J" "no test failed every time"

	# Default targets: intermittent packages that passed at least once.
	run_ftscope flaky "$RUN_DIR"
	is "$FTSCOPE_RC" 0 "flaky RUN exits 0"
	out=$(ftscope_out)
	like "$out" "Flakiness Profile: $P" "the default target is the intermittent package"
	like "$out" "Pass rate: +$passes/$N \\([0-9.]+%; 95% CI [0-9.]+%-[0-9.]+%\\)" \
		"pass rate with its interval"
	like "$out" "Pattern: +$want_pattern" "the pattern"
	like "$out" "Failure modes: +fail: $fails" "the failure modes"
	like "$out" "test_concurrent_bumps +$fails/$N +[0-9.]+% +[0-9.]+-[0-9.]+% +[0-9]+ iterations?" \
		"the racing test: fails/seen, rate, interval, iterations to catch it"
	ok grep -q "To see a failure:" "$FTSCOPE_OUT" "iterations to see a failure of the package"
else
	for t in "flaky_tests names the racing test" "pattern" "flaky tests" "fail count" \
		"seen" "interval" "Wilson" "iterations to catch" "no always-failing" \
		"default run" "default exit" "default pass rate" "default pattern" "default modes" \
		"default test line" "default catch line"; do
		skip "$t" "the race was $category in this run"
	done
fi

run_ftscope flaky "$RUN_DIR" --package nosuchpkg
is "$FTSCOPE_RC" 1 "an unknown --package exits 1"
like "$(ftscope_err)" "nosuchpkg" "and names it"
run_ftscope flaky --help
is "$FTSCOPE_RC" 0 "flaky --help exits 0"
ok grep -qe --package "$FTSCOPE_OUT" "flaky --help documents --package"
run_ftscope flaky
is "$FTSCOPE_RC" 2 "flaky without RUN_DIR is a usage error (2)"
run_ftscope flaky "$RUN_DIR" --frobnicate
is "$FTSCOPE_RC" 2 "an unknown option is a usage error (2)"
done_testing
