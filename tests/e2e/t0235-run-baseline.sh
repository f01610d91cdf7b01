#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# PEP 779 against the default build (issue 17): with --baseline-python (the default, GIL,
# build of the same CPython, as `scripts/setup.sh --with-baseline` makes it), each suite
# also runs under it; pep779_baseline (free-threaded build vs default build) sits next to
# pep779 (PYTHON_GIL=0 vs =1 on the free-threaded interpreter), each saying what it
# compares. A free-threaded or other-version interpreter is refused as the baseline.
# Skips without the baseline build ($BASELINE_PYTHON, or the one setup caches).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
BASE=${BASELINE_PYTHON:-${FTSCOPE_CACHE:-/var/cache/ftscope}/python3.13/bin/python3.13}
[ -x "$BASE" ] || skip_all "no baseline interpreter (scripts/setup.sh --with-baseline builds it)"

P=ftfix-ok
run_fixtures $P --iterations 2 --compare-with-gil --baseline-python "$BASE"
is "$FTSCOPE_RC" 0 "ftscope run --baseline-python exits 0"
is "$(jqpkg $P .iterations_completed)" 2 "the verdict counts the free-threaded iterations only"
is "$(jqpkg $P '.baseline_iterations | length')" 2 "--iterations baseline iterations"
jqpkg_true $P 'all(.baseline_iterations[]; .status == "pass")' "they passed"
jqpkg_true $P '.pep779_baseline.time_ratio > 0 and .pep779_baseline.gil_passes == 2' \
	"pep779_baseline: a wall-time ratio over the two baseline passes"
jqpkg_true $P '.pep779_baseline | has("rss_ratio") and has("time_ok") and has("rss_ok")' \
	"pep779_baseline: the memory ratio and both verdicts"
like "$(jqpkg $P .pep779_baseline.compares)" "free-threaded build .* default \(GIL\) build" \
	"pep779_baseline says it compares the two builds"
like "$(jqpkg $P .pep779.compares)" "PYTHON_GIL=0 vs PYTHON_GIL=1" \
	"pep779 says it compares the two modes of one interpreter"
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.baseline_python)" "$BASE" "meta: baseline_python"
is "$(jqfile "$RUN_DIR/ft_meta.json" .baseline_profile.gil_disabled)" false \
	"meta: the baseline is a default build"
ok test -s "$RUN_DIR/artifacts/$P/install-baseline.log" "the baseline install has its log"
ok test -f "$RUN_DIR/artifacts/$P/base-1/iteration.json" "baseline iterations have artifacts"
run_ftscope report "$RUN_DIR"
like "$(ftscope_out)" "against the default \(GIL\) build" "the report shows the builds' ratios"
like "$(ftscope_out)" "Time, GIL" "next to the same-interpreter ones"
run_ftscope report "$RUN_DIR" --format html
like "$(ftscope_out)" "<h3>Free-threaded build against the default build</h3>" \
	"the HTML report shows the builds' ratios too"
like "$(ftscope_out)" "<th class=\"num\">Time, default build</th>" "with the same columns"
run_ftscope report "$RUN_DIR" --format text
like "$(grep $P "$FTSCOPE_OUT")" "vs default build: time [0-9]+\.[0-9]{2}" \
	"the text report names the builds' time ratio"
run_ftscope show "$RUN_DIR"
like "$(grep $P "$FTSCOPE_OUT")" "vs default build: time [0-9]+\.[0-9]{2}" "and so does show"

rm -rf "$TEST_TMP/results"
run_fixtures $P --iterations 1 --baseline-python "$FT_PYTHON"
is "$FTSCOPE_RC" 1 "a free-threaded baseline is refused"
like "$(ftscope_err)" "is a free-threaded build" "and the error says why"
done_testing
