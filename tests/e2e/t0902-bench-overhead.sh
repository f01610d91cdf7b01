#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# bench/overhead.sh as a smoke test: one round, one iteration of a small stdlib suite that
# spawns subprocesses. It must run to its end and print a verdict per tracer; the numbers
# decide nothing here, every iteration passing does.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

rc=0
ROUNDS=1 ITERS=1 SUITES=spawny TESTS_SPAWNY=test.test_base64 \
	FTSCOPE_PYTHON="$FT_PYTHON" bash "$SRC_ROOT/bench/overhead.sh" >out 2>err || rc=$?
[ "$rc" = 2 ] && skip_all "$(tr '\n' ' ' <err)"
is "$rc" 0 "bench/overhead.sh ran to its end"
[ "$rc" = 0 ] || diag "$(tail -20 out err)"
note "$(grep -E '^(  overhead|verdict|  ptrace stops)' out)"
ok grep -q '^verdict --tracer none: ' out "it gives a verdict for --tracer none"
ok grep -q '^verdict --tracer ptrace: ' out "and for --tracer ptrace"
ok grep -q 'supervisor\|superv\.' out "it counts the supervisor's own CPU"
done_testing
