#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# bench/dump_vs_gdb.sh as a smoke test: one round on a small target. It must run to its end
# and print its ratios and hold time; what the numbers are decides nothing here (a busy test
# machine makes them whatever it likes), but the script's own checks do: the target must
# come out of every dump unharmed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd gdb flock

rc=0
N=1 THREADS=8 DEPTH=2 FTSCOPE_PYTHON="$FT_PYTHON" bash "$SRC_ROOT/bench/dump_vs_gdb.sh" >out 2>err || rc=$?
[ "$rc" = 2 ] && skip_all "$(tr '\n' ' ' <err)"
is "$rc" 0 "bench/dump_vs_gdb.sh ran to its end"
[ "$rc" = 0 ] || diag "$(tail -20 err)"
note "$(grep -E '^(ratio|ftscope hold|ftscope |gdb |cold |off )' out)"
ok grep -q '^ratio gdb/ftscope, warm cache: ' out "it prints the warm ratio"
ok grep -q '^ratio gdb/ftscope, empty cache' out "and the first-dump ratio"
ok grep -q '^ftscope hold (target stopped), hold_ms: median' out "and the hold time"
ok grep -q 'target afterwards: finished normally' out "the target was not harmed"
done_testing
