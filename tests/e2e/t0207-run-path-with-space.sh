#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# A checkout and a work directory named anything: spaces and a quote in both paths. The JUnit
# path ftscope hands pytest through PYTEST_ADDOPTS (which pytest splits like a shell) must stay
# one word, or pytest takes its halves for test paths, collects nothing and fails.
# Then the README's own form, from inside the checkout: `ftscope run --package-dir .` with the
# default results/, venvs/ and repos/, which land in the checkout itself. The copy staged for
# the test user must leave them out (it recursed into itself: every run was install_failure,
# "Too many levels of symbolic links"), also on a second run, when the first one's are there.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

src="$TEST_TMP/my checkout's copy"
work="$TEST_TMP/work dir 'x'"
mkdir -p "$src" "$work"
cp -r "$SRC_ROOT/tests/fixtures/pkgs/ftfix-ok/." "$src/"
run_ftscope run --target-python "$FT_PYTHON" --package-dir "$src" --iterations 1 --offline \
	--no-detect-extensions --work-dir "$work"
is "$FTSCOPE_RC" 0 "run exits 0"
RUN_DIR=$(ls -d "$work"/results/ft_* 2>/dev/null | head -1)
R=$RUN_DIR/ft_results.jsonl
is "$(jq -r .category "$R" 2>/dev/null)" compatible "the package is compatible"
ok test -s "$RUN_DIR/artifacts/ftfix-ok/1/junit.xml" "pytest wrote its JUnit report where told"
like "$(jq -r '.iterations[0].tests_passed // empty' "$R" 2>/dev/null)" \
	'^[1-9][0-9]*$' "and it ran the package's tests (not zero)"

for round in 1 2; do
	(cd "$src" && run_ftscope run --target-python "$FT_PYTHON" --package-dir . --iterations 1 \
		--offline --no-detect-extensions)
	RUN_DIR=$(ls -dt "$src"/results/ft_* 2>/dev/null | head -1)
	is "$(jq -r .category "$RUN_DIR/ft_results.jsonl" 2>/dev/null)" compatible \
		"run $round from inside the checkout, default directories: compatible"
done
is "$(ls -d "$src"/results/ft_* | wc -l)" 2 "both runs are in the checkout's results/"
done_testing
