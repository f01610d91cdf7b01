#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# `make demo` checks itself: when its packages do not come out as their fixtures are made to
# (here every install fails the same way: build isolation forced on with no index, so no
# backend can be fetched), scripts/demo.sh exits non-zero naming each package and its
# install error; `ftscope run` ends with one line saying every package failed the same
# way, and `ftscope show` leads with it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd jq

# ftscope, with every install's build isolation on (and --offline: no index to get
# setuptools from): every package fails to install, for the same reason.
wrap=$TEST_TMP/ftscope-isolated
cat >"$wrap" <<EOF
#!/bin/sh
[ "\$1" = run ] && { shift; exec "$FTSCOPE" run --env PIP_NO_BUILD_ISOLATION=1 "\$@"; }
exec "$FTSCOPE" "\$@"
EOF
chmod +x "$wrap"

rc=0
FTSCOPE=$wrap FTSCOPE_DEMO_DIR=$TEST_TMP/demo timeout 600 bash "$SRC_ROOT/scripts/demo.sh" \
	>"$TEST_TMP/demo.out" 2>"$TEST_TMP/demo.err" || rc=$?
[ "$rc" -ne 0 ] || diag "$(tail -20 "$TEST_TMP/demo.out")"
ok test "$rc" -ne 0 "the demo exits non-zero when its packages do not come out as expected"
nomatch="install error: ERROR: No matching distribution found for setuptools"
for p in ok race deadlock segv nogil importfail; do
	like "$(grep "demo: FAIL: ftfix-$p " "$TEST_TMP/demo.err")" \
		"ftfix-$p is install_failure, expected .*; $nomatch" \
		"ftfix-$p is named, with its install error"
done
uniform='Every package \(6\) failed the same way, install_failure: .*setuptools'
# the last line of `ftscope run`'s output: the one before the demo's "$ build/ftscope show"
last_run_line=$(awk '/^demo: \$ build\/ftscope show/ { print last; exit } NF { last = $0 }' \
	"$TEST_TMP/demo.out")
like "$last_run_line" \
	"$uniform" "the run's output ends with the one cause"
run=$(ls -d "$TEST_TMP"/demo/results/ft_* | head -1)
run_ftscope show "$run"
like "$(head -1 "$FTSCOPE_OUT")" "$uniform" "show leads with it"
ok test "$(grep -c 'failed the same way' "$FTSCOPE_OUT")" = 1 "once"
done_testing
