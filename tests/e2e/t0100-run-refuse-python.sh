#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# A --target-python that does not exist, or is not a free-threaded build, is refused up
# front with a clear message, and no package is run.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
fixture_registry ok

# Lines written to any ft_results.jsonl under ./results (0 when there is none).
result_lines() {
	cat results/ft_*/ft_results.jsonl 2>/dev/null | grep -c . || true
}

FT_PYTHON=/nonexistent/bin/python3.13t run_fixtures ftfix-ok --iterations 1 --timeout 30
ok test "$FTSCOPE_RC" -ne 0 "a missing --target-python fails (exit $FTSCOPE_RC)"
ok test -s "$FTSCOPE_ERR" "an error message is printed on stderr"
ok grep -qF /nonexistent/bin/python3.13t "$FTSCOPE_ERR" "the message names the path"
is "$(result_lines)" 0 "no package result was written"
ok test ! -d repos/ftfix-ok "nothing was cloned"

# Interpreters that do not run: the refusal says why (exit status or signal, and the
# first line of stderr, or that there was none).
refused_why() { # refused_why SCRIPT-BODY REGEX NAME
	printf '#!/bin/sh\n%s\n' "$1" >badpy
	chmod +x badpy
	rm -rf results repos venvs
	FT_PYTHON=$TEST_TMP/badpy run_fixtures ftfix-ok --iterations 1 --timeout 30
	ok test "$FTSCOPE_RC" -ne 0 "$3: refused (exit $FTSCOPE_RC)"
	like "$(ftscope_err)" "target Python '.*badpy' does not run $2" "$3: the message says why"
	is "$(result_lines)" 0 "$3: no package result was written"
}
refused_why 'echo "boom: no such runtime" >&2; echo second >&2; exit 3' \
	'\(exit status 3\): boom: no such runtime$' "exit 3 with stderr"
refused_why 'exit 1' '\(exit status 1, nothing on stderr\)$' "a silent exit 1"
refused_why 'kill -SEGV $$' '\(killed by SIGSEGV' "a crash"
refused_why 'printf "\033[2J\342\200\256 evil\n" >&2; exit 2' \
	'\(exit status 2\): \\x1b\[2J\\u202e evil$' "stderr with escapes, printed escaped"

gil_python=
for p in /usr/bin/python3 /usr/bin/python3.11; do
	if [ -x "$p" ] && [ "$("$p" -c 'import sysconfig; print(sysconfig.get_config_var("Py_GIL_DISABLED") or 0)' 2>/dev/null)" = 0 ]; then
		gil_python=$p
		break
	fi
done
if [ -z "$gil_python" ]; then
	skip "a GIL-only --target-python is refused" "no GIL-build python3 on this host"
else
	rm -rf results repos venvs
	FT_PYTHON=$gil_python run_fixtures ftfix-ok --iterations 1 --timeout 30
	ok test "$FTSCOPE_RC" -ne 0 "a GIL-only --target-python ($gil_python) is refused (exit $FTSCOPE_RC)"
	ok grep -qi "free-threaded" "$FTSCOPE_ERR" "the message says it is not free-threaded"
	ok grep -qF "$gil_python" "$FTSCOPE_ERR" "the message names the interpreter"
	is "$(result_lines)" 0 "no package result was written"
	ok test ! -d repos/ftfix-ok "nothing was cloned"
fi

done_testing
