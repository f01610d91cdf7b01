#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# bench/deadlock_latency.sh as a smoke test: one iteration under ptrace of both deadlocks (a
# Python lock-order inversion, decided by the window; two pthread mutexes, a certain cycle).
# It must run to its end with every iteration a deadlock; the latencies decide nothing here.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd cc

rc=0
ITERS=1 WINDOW=1 TRACERS=ptrace FTSCOPE_PYTHON="$FT_PYTHON" bash "$SRC_ROOT/bench/deadlock_latency.sh" >out 2>err || rc=$?
[ "$rc" = 2 ] && skip_all "$(tr '\n' ' ' <err)"
is "$rc" 0 "bench/deadlock_latency.sh ran to its end, every iteration a deadlock"
[ "$rc" = 0 ] || diag "$(tail -20 out err)"
note "$(grep -E 'onset -> recorded' out)"
ok grep -q '^mutex, --tracer ptrace: onset -> recorded' out "it measures the certain cycle with ptrace"
ok grep -q '^python, --tracer ptrace: onset -> recorded' out "and the window with ptrace"
done_testing
