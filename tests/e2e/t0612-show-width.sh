#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# show fits the width it is given (the terminal's, else $COLUMNS): no line longer, no word of
# Details cut (the same words as at a wide width, only wrapped), and without a width (a pipe,
# no COLUMNS) the table is as before. On a committed recorded run (tests/fixtures/golden).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope

RUNS=$TEST_TMP/runs
mkdir -p "$RUNS"
cp -r "$FIXTURES/golden/runs/." "$RUNS/"
RUN=$RUNS/ft_20261205_084539
export FTSCOPE_SYMBOLS=ascii LC_ALL=C.UTF-8 TZ=UTC

# the package table only: from its header to the first empty line, without the rule
# (words(): its rows; the Details header goes when Details go below the rows)
table() { awk '/^Package /{on=1} on && /^$/{exit} on && !/^-+$/' "$1"; }
words() { table "$1" | tail -n +2 | tr -s ' \n' '\n\n' | sort; }

COLUMNS=400 run_ftscope show "$RUN"
cp "$FTSCOPE_OUT" "$TEST_TMP/wide"
is "$FTSCOPE_RC" 0 "show at 400 columns exits 0"
for w in 60 80 100; do
	COLUMNS=$w run_ftscope show "$RUN"
	longest=$(table "$FTSCOPE_OUT" | awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
	ok test "$longest" -le "$w" "COLUMNS=$w: the table's longest line is $longest columns"
	ok cmp -s <(words "$TEST_TMP/wide") <(words "$FTSCOPE_OUT") \
		"COLUMNS=$w: the same words as at 400 columns (wrapped, none cut)"
done
unset COLUMNS
run_ftscope show "$RUN"
ok grep -q "^Package  *Category  *Pass Rate" "$FTSCOPE_OUT" "without a width: the table as before"
done_testing
