#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# The habits of a Unix tool: `ftscope help CMD` is `ftscope CMD --help`, -h works for every
# command (exit 0, that command's usage and the exit statuses), a mistyped command gets a
# suggestion, and a bad option or a missing value is one line naming it (exit 2).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope

cmds=$("$FTSCOPE" --help | awk '/^commands:/{f=1; next} f && /^  [a-z]/{print $1}')
ok test "$(echo "$cmds" | wc -w)" -ge 11 "ftscope --help lists the commands ($(echo $cmds))"
for cmd in $cmds; do
	run_ftscope help "$cmd"
	is "$FTSCOPE_RC" 0 "help $cmd exits 0"
	ok grep -q "^usage: .*ftscope $cmd\\b" "$FTSCOPE_OUT" "help $cmd prints $cmd's usage"
	ok grep -q "^Exit status: 0" "$FTSCOPE_OUT" "help $cmd documents the exit statuses"
	cp "$FTSCOPE_OUT" help.txt
	run_ftscope "$cmd" -h
	is "$FTSCOPE_RC" 0 "$cmd -h exits 0"
	ok cmp -s help.txt "$FTSCOPE_OUT" "$cmd -h prints what help $cmd does"
done
run_ftscope show /nonexistent --help
is "$FTSCOPE_RC" 0 "--help after other arguments still wins"

run_ftscope rnu
is "$FTSCOPE_RC" 2 "a mistyped command exits 2"
is "$(ftscope_err)" "ftscope: error: 'rnu' is not an ftscope command; did you mean 'run'?" \
	"it suggests the nearest command"
run_ftscope deadlock x
like "$(ftscope_err)" "did you mean 'deadlocks'\\?" "deadlock -> deadlocks"
run_ftscope frobnicate
unlike "$(ftscope_err)" "did you mean" "no suggestion when nothing is close"

run_ftscope show --bogus
is "$FTSCOPE_RC" 2 "an unknown option exits 2"
is "$(wc -l <"$FTSCOPE_ERR")" 1 "in one line"
like "$(ftscope_err)" "unknown option '--bogus'" "naming the option"
run_ftscope dump -q 1
is "$(ftscope_err)" "ftscope: error: unknown option '-q' (see 'ftscope dump --help')" "a short one too"
run_ftscope deadlocks --package
is "$FTSCOPE_RC" 2 "a missing value exits 2"
is "$(ftscope_err)" "ftscope: error: option '--package' needs a value (see 'ftscope deadlocks --help')" \
	"and says the option needs a value, in one line"
run_ftscope run --target-python
is "$FTSCOPE_RC" 2 "run: a missing value exits 2"
is "$(ftscope_err)" "ftscope: error: option '--target-python' needs a value (see 'ftscope run --help')" \
	"run: the option needs a value, in one line"
run_ftscope run --no-such-option
is "$(wc -l <"$FTSCOPE_ERR")" 1 "run: an unknown option is one line"
done_testing
