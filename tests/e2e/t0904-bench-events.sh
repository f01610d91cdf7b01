#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# bench/ptrace_events.sh as a smoke test: one round of small batches. It must run to its end
# and print the price of each traced operation; the prices decide nothing here.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd setpriv

rc=0
ROUNDS=1 BATCHES=2 SCALE=0.05 FTSCOPE_PYTHON="$FT_PYTHON" bash "$SRC_ROOT/bench/ptrace_events.sh" >out 2>err || rc=$?
[ "$rc" = 2 ] && skip_all "$(tr '\n' ' ' <err)"
is "$rc" 0 "bench/ptrace_events.sh ran to its end"
[ "$rc" = 0 ] || diag "$(tail -20 out err)"
note "$(grep -E '^(operation|thread|spawn|signal|compute) ' out)"
for op in thread spawn signal compute; do
	ok grep -q "^$op " out "a price for $op"
done
done_testing
