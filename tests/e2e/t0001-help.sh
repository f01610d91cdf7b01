#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Every subcommand answers --help (exit 0), documents the options `run` must have, and
# usage errors exit 2 with a message.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope

run_ftscope --help
is "$FTSCOPE_RC" 0 "ftscope --help exits 0"
ok grep -qi usage "$FTSCOPE_OUT" "ftscope --help prints a usage on stdout"
for cmd in run show export merge; do
	ok grep -qw "$cmd" "$FTSCOPE_OUT" "ftscope --help lists '$cmd'"
done

run_ftscope run --help
is "$FTSCOPE_RC" 0 "ftscope run --help exits 0"
for opt in --target-python --registry-dir --packages --top --package-dir --iterations \
	--timeout --stall-threshold --deadlock-window --repos-dir --venvs-dir --results-dir \
	--compare-with-gil --detect-extensions --no-detect-extensions --stop-on-first-pass \
	--env --resume --work-dir --no-check-stability --check-stability --install-from \
	--trust-ft-wheels --trust-ft-wheels-any-version --baseline-python --shard --list; do
	ok grep -qe "$opt\\b" "$FTSCOPE_OUT" "ftscope run --help documents $opt"
done

run_ftscope show --help
is "$FTSCOPE_RC" 0 "ftscope show --help exits 0"
ok grep -qe --sort "$FTSCOPE_OUT" "ftscope show --help documents --sort"
ok grep -qe --limit "$FTSCOPE_OUT" "ftscope show --help documents --limit"

run_ftscope export --help
is "$FTSCOPE_RC" 0 "ftscope export --help exits 0"
ok grep -qe --format "$FTSCOPE_OUT" "ftscope export --help documents --format"

run_ftscope frobnicate
is "$FTSCOPE_RC" 2 "an unknown command exits 2"
ok grep -q frobnicate "$FTSCOPE_ERR" "the error names the unknown command"
ok test ! -e results "an unknown command creates nothing"

run_ftscope run --no-such-option
is "$FTSCOPE_RC" 2 "run with an unknown option exits 2"
ok grep -q -e --no-such-option "$FTSCOPE_ERR" "the error names the bad option"

run_ftscope run --iterations notanumber --target-python /nonexistent/python
is "$FTSCOPE_RC" 2 "run --iterations with a non-number exits 2"

run_ftscope show
is "$FTSCOPE_RC" 2 "show without a run directory exits 2"

run_ftscope export --format xml "$TEST_TMP"
is "$FTSCOPE_RC" 2 "export with an unknown format exits 2"

done_testing
