#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# bench/jobs.sh as a smoke test: one round of --jobs 1 against --jobs 2 over two fixture
# packages, one iteration each. It must run to its end and print the speed-up and the
# categories of both; the numbers decide nothing here.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd git jq

rc=0
ROUNDS=1 ITERS=1 JOBS=2 PKGS="ok segv" FTSCOPE_PYTHON="$FT_PYTHON" \
	bash "$SRC_ROOT/bench/jobs.sh" >out 2>err || rc=$?
[ "$rc" = 2 ] && skip_all "$(tr '\n' ' ' <err)"
is "$rc" 0 "bench/jobs.sh ran to its end"
[ "$rc" = 0 ] || diag "$(tail -20 out err)"
note "$(grep -E 'speed-up|packages/hour' out)"
like "$(cat out)" 'speed-up of --jobs 2 over --jobs 1: [0-9.]+x' "it prints the speed-up"
like "$(grep ftfix-segv out)" 'ftfix-segv +crash 0/1 \| crash 0/1' "and each package's category with both"
ok grep -q '^categories: ' out "and whether --jobs changed a category"
done_testing
