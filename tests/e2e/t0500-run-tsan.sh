#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftfix-tsan: a C extension built with -fsanitize=thread races on a static counter. Under
# --tsan (uninstrumented interpreter: ftscope preloads the TSAN runtime) every iteration
# passes and ThreadSanitizer reports the race: category "tsan_warnings", one race signature
# naming the culprit, the same signature_id in every iteration. With a suppressions file
# that names the function, the package is "compatible".
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_tsan_runtime

P=ftfix-tsan
N=3
CULPRIT=ftfix_tsan_bump_impl

run_fixtures $P --iterations $N --timeout 120 --tsan
is "$FTSCOPE_RC" 0 "ftscope run --tsan exits 0"
is "$(jqpkg $P .category)" tsan_warnings "category is tsan_warnings"
jqpkg_true $P '.import_ok and (.extension_compat.extensions |
	any(.module_name == "ftfix_tsan._counter" and .import_ok))' \
	"the instrumented extension imports in the probe (runtime preloaded)"
jqpkg_true $P '.pass_count == '$N' and .iterations_completed == '$N "all $N iterations pass"
is "$(jqpkg $P .tsan_warning_iterations)" $N "tsan_warning_iterations is $N"
is "$(jqpkg $P '.tsan_warning_types | join(",")')" "data race" "tsan_warning_types: data race"
jqpkg_true $P 'all(.iterations[]; .tsan_warnings == ["data race"])' \
	"every iteration's tsan_warnings is [\"data race\"]"

# The race, parsed and signed.
jqpkg_true $P '[.tsan_races[] | select(.kind == "data race" and
	(.signature | test("'$CULPRIT'")))] | length == 1' \
	"tsan_races has one data race whose signature names $CULPRIT"
note "signature: $(jqpkg $P '.tsan_races[0].signature') ($(jqpkg $P '.tsan_races[0].signature_id'))"
jqpkg_true $P '[.iterations[].tsan_reports[] | select(.signature | test("'$CULPRIT'")) |
	.signature_id] | (unique | length == 1) and length >= '$N \
	"the same signature_id in every iteration"
jqpkg_true $P '.tsan_races[] | select(.signature | test("'$CULPRIT'")) |
	.iterations == '$N' and .count >= '$N' and .suppressed == false' \
	"the race is counted in all $N iterations, unsuppressed"
jqpkg_true $P 'all(.iterations[].tsan_reports[] | select(.signature | test("'$CULPRIT'"));
	(.frames_a[0] | test("^'$CULPRIT' \\(ftfix_tsan/_counter\\.c:[0-9]+\\)$")) and
	(.frames_b[0] | test("^'$CULPRIT' ")) and
	(.location | test("^global .counter.")) and
	(.summary | test("^data race .*_counter\\.c:[0-9]+ in '$CULPRIT'$")))' \
	"reports carry both stacks' frames, the global's location and the summary"
jqpkg_true $P 'all(.iterations[]; .tsan_reports_omitted == 0)' "nothing omitted"
ok compgen -G "$RUN_DIR/artifacts/$P/1/tsan.*" \
	"TSAN's log_path files are in the iteration's artifacts"
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.tsan_build)" true "ft_meta.json: tsan_build"
like "$(jqfile "$RUN_DIR/ft_meta.json" .config.tsan_preload)" \
	'libtsan\.so.* .*ftscope_tsan_init\.so$' \
	"ft_meta.json: the preloaded runtime and its early-init library"

# A suppression naming the function: nothing left to report.
mv "$TEST_TMP/results" "$TEST_TMP/results-unsuppressed"
printf '# ftfix-tsan: the counter race is known\nrace:%s\n' "$CULPRIT" >"$TEST_TMP/tsan.supp"
chmod 0644 "$TEST_TMP/tsan.supp"
run_fixtures $P --iterations 2 --timeout 120 --tsan-suppressions "$TEST_TMP/tsan.supp"
is "$FTSCOPE_RC" 0 "ftscope run --tsan-suppressions exits 0"
is "$(jqpkg $P .category)" compatible "with the race suppressed: compatible"
jqpkg_true $P '.tsan_warning_iterations == 0 and .tsan_warning_types == [] and
	([.tsan_races[] | select(.suppressed | not)] | length == 0)' "no unsuppressed TSAN report"
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.tsan_suppressions)" "$TEST_TMP/tsan.supp" \
	"ft_meta.json records the suppressions file (absolute)"
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.tsan_build)" true "--tsan-suppressions implies --tsan"

done_testing
