#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftfix-sigstop: a test does kill(0, SIGSTOP), stopping its whole process group. Nothing
# runs and nothing waits on a lock: after --stall-threshold it is a stall (killed_by and
# hang.reason "stall", status "timeout"), the package a hang that is not a deadlock
# ("incompatible" here, every iteration hung), and nothing of the tree is left.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-sigstop
run_fixtures $P --iterations 1 --timeout 120 --stall-threshold 3 --deadlock-window 2
is "$FTSCOPE_RC" 0 "ftscope run exits 0"

is "$(jqpkg $P ".iterations[0].killed_by")" stall "killed as a stall"
is "$(jqpkg $P ".iterations[0].hang.reason")" stall "hang.reason is stall"
is "$(jqpkg $P ".iterations[0].status")" timeout "status timeout: a hang, not a deadlock"
jqpkg_true $P '.iterations[0].duration_s < 60' \
	"caught by the stall threshold, not the timeout ($(jqpkg $P ".iterations[0].duration_s") s)"
jqpkg_true $P '[.iterations[0].hang.threads[] | select(.comm == "python")] | length > 0 and
	all(.state == "T" or .state == "t")' "the hang record shows python stopped"
is "$(jqpkg $P .category)" incompatible "category incompatible, not deadlock"
jqpkg_true $P '.deadlock_count == 0 and .timeout_count == 1' "counted as a timeout, no deadlock"
jqpkg_true $P '.hang_count == {"deadlock": 0, "stall": 1, "timeout": 0}' \
	"hang_count: one stall ($(jqpkg $P .hang_count))"

run_ftscope show "$RUN_DIR"
show=$(ftscope_out)
like "$show" "$P .*1 stall" "show names the stall"
ok test "$(grep -ci deadlock <<<"$show")" = 0 "show says nothing of a deadlock"
ok test -z "$(pgrep -f 'ftfix-sigstop|test_stop' || true)" "no process of the test is left"

done_testing
