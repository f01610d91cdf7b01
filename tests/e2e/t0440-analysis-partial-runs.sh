#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# flaky, compat, compare and crashes read runs that are still going or were interrupted:
# a package line marked interrupted, a truncated last line (kill -9 mid-write), a run with
# no finished package yet. Also the per-test statistics on a known sequence.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_cmd jq

R=$TEST_TMP/results/ft_20260303_000000
mkdir -p "$R"
jq -n '{run_id: "ft_20260303_000000", status: "running", packages_total: 3}' >"$R/ft_meta.json"
# pkg-flaky: 10 iterations, test_b fails in 3 (1, 4, 8), test_c errors in iteration 8 too
jq -nc '{package: "pkg-flaky", category: "intermittent", pass_count: 7, fail_count: 3,
	iterations_completed: 10, interrupted: true,
	extension_compat: {is_pure_python: false, import_ok: true,
		extensions: [{module_name: "pkg._x", is_extension: true, import_ok: true,
			      triggered_gil_fallback: false}],
		source_scan: {files_scanned: 4, files_with_mod_gil: 1, declarations: [
			{file: "src/x.c", line_number: 10, line_text: "{Py_mod_gil,", kind: "Py_mod_gil",
			 is_not_used: true}]}},
	iterations: [range(1; 11) as $i | {index: $i,
		status: (if ($i == 1 or $i == 4 or $i == 8) then "fail" else "pass" end),
		test_results: {"t.py::test_a": "PASSED",
			"t.py::test_b": (if ($i == 1 or $i == 4 or $i == 8) then "FAILED" else "PASSED" end),
			"t.py::test_c": (if $i == 8 then "ERROR" else "PASSED" end),
			"t.py::test_skip": "SKIPPED"}}]}' >"$R/ft_results.jsonl"
jq -nc '{package: "pkg-crash", category: "crash", pass_count: 1, crash_count: 1,
	iterations_completed: 2, iterations: [{index: 1, status: "pass"},
	{index: 2, status: "crash", crash_signal: "SIGSEGV", crash_signature: "SIGSEGV | f | g",
	 crash_signature_id: "abcdefabcdefabcd"}]}' >>"$R/ft_results.jsonl"
printf '{"package": "pkg-half", "category": "compat' >>"$R/ft_results.jsonl" # cut mid-line

run_ftscope flaky "$R" --json
is "$FTSCOPE_RC" 0 "flaky reads a running run with a truncated line"
like "$(ftscope_err)" "skipped 1 unreadable line" "and warns about the cut line"
J=$TEST_TMP/f.json
cp "$FTSCOPE_OUT" "$J"
is "$(jqfile "$J" '[.[].package] | join(",")')" "pkg-flaky,pkg-crash" \
	"default targets: intermittent and crash packages that passed at least once"
is "$(jqfile "$J" '.[0] | "\(.sequence) \(.max_consecutive_passes) \(.max_consecutive_failures)"')" \
	"F..F...F.. 3 1" "sequence and streaks"
is "$(jqfile "$J" '.[0].flaky_tests | map("\(.test_id)=\(.fail_count)/\(.total_seen)") | join(",")')" \
	"t.py::test_b=3/10,t.py::test_c=1/10" "flaky tests by rate; SKIPPED is not counted as a run"
is "$(jqfile "$J" '.[0].flaky_tests[0].fail_rate_ci95 | map(. * 10000 | round) | join(",")')" \
	"1078,6032" "Wilson 95% interval of 3/10: [0.1078, 0.6032]"
is "$(jqfile "$J" '.[0].flaky_tests[0].iterations_to_catch')" 9 "3/10 is caught in 9 iterations"
is "$(jqfile "$J" '.[0].flaky_tests[1].iterations_to_catch')" 29 "1/10 in 29"
is "$(jqfile "$J" '.[0].pattern')" random_test "pattern: the failing sets differ (random_test)"
is "$(jqfile "$J" '.[1].pattern')" consistent_crash "pkg-crash: consistent_crash"
is "$(jqfile "$J" '.[0].iterations_to_catch')" 9 "the package's failure rate, 3/10: 9 iterations"

run_ftscope compat "$R"
is "$FTSCOPE_RC" 0 "compat reads it"
like "$(ftscope_out)" "src/x.c:10 +Py_mod_gil +NOT_USED" "the stored declaration"
like "$(ftscope_out)" "free-threading ready.*but its tests are not there yet without the GIL \\(intermittent\\)" \
	"ready, with the caveat that the tests still fail"
run_ftscope crashes "$R" --json
is "$FTSCOPE_RC" 0 "crashes reads it"
is "$(jq -r '.[0].id' "$FTSCOPE_OUT")" abcdefabcdefabcd "the crash of the partial run"
run_ftscope compare "$R" "$R" --json
is "$FTSCOPE_RC" 0 "compare reads it"
is "$(jq -r '.unchanged' "$FTSCOPE_OUT")" 2 "a run against itself: nothing changed"

# A run that has not finished a package yet.
E=$TEST_TMP/results/ft_20260304_000000
mkdir -p "$E"
jq -n '{run_id: "ft_20260304_000000", status: "running"}' >"$E/ft_meta.json"
run_ftscope flaky "$E"
is "$FTSCOPE_RC" 0 "flaky on a run without results exits 0"
like "$(ftscope_out)" "No intermittent packages found" "and says so"
run_ftscope compat "$E"
is "$FTSCOPE_RC" 0 "compat too"
run_ftscope crashes "$E"
like "$(ftscope_out)" "No crashes in 1 run" "crashes too"
run_ftscope compare "$R" "$E"
is "$FTSCOPE_RC" 0 "compare too"
like "$(ftscope_out)" "Removed from ft_20260304_000000 \\(2\\)" "everything is 'removed'"
# The results directory holds both runs: the newest is read.
run_ftscope flaky "$TEST_TMP/results"
like "$(ftscope_err)$(ftscope_out)" "ft_20260304_000000" "a results directory: its newest run"
done_testing
