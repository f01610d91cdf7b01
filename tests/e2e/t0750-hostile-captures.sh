#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Capture files the test cannot replace (issue 11, critical 3): ftfix-hostile-captures's test
# replaces `stdout` and `stderr` wherever it finds them (next to its junit report, where they
# were, and in the run's artifacts) with a 1.5 GB sparse file (odd iterations) or a FIFO
# (even ones). The captures are root's, in a directory only root writes: the run neither
# hangs nor bloats, and both iterations are recorded.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
relax_fs_protections

P=ftfix-hostile-captures
FTFIX_TEST_COMMAND="python -m pytest -s tests" fixture_registry hostile-captures
mapfile -t dirs < <(ftscope_run_dirs)
start=$(date +%s)
FTSCOPE_E2E_TIMEOUT=300 run_ftscope_rss run --target-python "$FT_PYTHON" --registry-dir \
	"$REGISTRY" --packages $P "${dirs[@]}" --iterations 2 --timeout 60 --no-detect-extensions \
	--env "FTFIX_HOSTILE_RESULTS=$TEST_TMP/results"
took=$(($(date +%s) - start))
RUN_DIR=$(run_dir)
is "$FTSCOPE_RC" 0 "run exits 0 (no hang)"
is "$(jqpkg $P .category)" compatible "both iterations pass"
is "$(jqpkg $P .iterations_completed)" 2 "and are recorded"
# (a FIFO in the artifacts, as the attack left it before, must not hang this test either)
in_file() { [ -f "$2" ] && [ ! -L "$2" ] && grep -q "$1" "$2"; }
ok in_file "hostile-captures: sparse" "$RUN_DIR/artifacts/$P/1/stdout" \
	"iteration 1 planted sparse files"
ok in_file "hostile-captures: FIFO" "$RUN_DIR/artifacts/$P/2/stdout" "iteration 2 planted FIFOs"
# the attack was made: in its own out/<n>/ it replaced both names, and it went for the
# run's own captures too (where it replaced nothing)
for i in 1 2; do
	ok in_file "hostile-captures: [a-zA-Z]* in .*/out/$i: \['.*stderr', '.*stdout'\]" \
		"$RUN_DIR/artifacts/$P/$i/stdout" "iteration $i replaced the files of its own directory"
	ok in_file "hostile-captures: [a-zA-Z]* in .*/artifacts/$P/$i: \[\]" \
		"$RUN_DIR/artifacts/$P/$i/stdout" "iteration $i went for the run's captures, in vain"
done
for i in 1 2; do
	for f in stdout stderr; do
		p=$RUN_DIR/artifacts/$P/$i/$f
		ok test -f "$p" -a ! -L "$p" "$i/$f is a regular file"
		is "$(stat -c %U "$p")" root "$i/$f is root's"
		ok test "$(stat -c %s "$p")" -lt 1048576 "$i/$f is small ($(stat -c %s "$p") bytes)"
	done
done
ok test "$took" -lt 150 "the run took $took s"
ok test "$FTSCOPE_MAXRSS_KB" -lt 1048576 \
	"peak RSS of ftscope and its children: $FTSCOPE_MAXRSS_KB KiB"
done_testing
