#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Hostile suites: 40 MB of output is drained and bounded on disk; a fork storm is contained
# by the pids cgroup and a daemon that outlives the test is killed; nothing is left behind.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

fixture_registry flood forks
run_fixtures ftfix-flood --iterations 1 --max-output 1M --no-detect-extensions \
	--test-command-override "python -m pytest -s tests"
is "$(jqpkg ftfix-flood .iterations[0].status)" pass "flood: the test passes"
jqpkg_true ftfix-flood '.iterations[0].stdout_bytes >= 40000000' "flood: all 40 MB were read"
is "$(jqpkg ftfix-flood .iterations[0].output_truncated)" true "flood: marked truncated"
size=$(stat -c %s "$RUN_DIR/artifacts/ftfix-flood/1/stdout")
ok test "$size" -lt 1200000 "flood: stdout file bounded ($size bytes)"
ok grep -q "ftscope: output truncated" "$RUN_DIR/artifacts/ftfix-flood/1/stdout" "flood: the file says so"
ok grep -q "1 passed" "$RUN_DIR/artifacts/ftfix-flood/1/stdout" "flood: the tail (pytest's summary) is kept"

mv "$TEST_TMP/results" "$TEST_TMP/results-1"
cgroup_ok=1
"$FTSCOPE" doctor 2>/dev/null | grep -q "ok.*pids cgroup" || cgroup_ok=0
start=$(date +%s)
run_fixtures ftfix-forks --iterations 1 --max-pids 200 --no-detect-extensions
end=$(date +%s)
is "$FTSCOPE_RC" 0 "forks: run exits 0"
if [ "$cgroup_ok" = 1 ]; then
	is "$(jqpkg ftfix-forks .iterations[0].status)" pass "forks: the storm is contained, the test passes"
	jqpkg_true ftfix-forks '.iterations[0].task_limit_hits >= 1' "forks: the task limit was hit"
	jqpkg_true ftfix-forks '.iterations[0].peak_tasks <= 200' "forks: never more than 200 tasks"
else
	skip "forks: containment" "no pids cgroup on this host"
fi
# The storm does not hang the run: the iteration ends on its own, not by its timeout (wall
# time alone depends on the host's load).
jqpkg_true ftfix-forks '.iterations[0].status != "timeout" and .iterations[0].hang == null' \
	"forks: the iteration ended on its own (run took $((end - start)) s)"
sleep 0.5
left=$(pgrep -f "ftfix_forks|ftfix-forks" | wc -l)
is "$left" 0 "forks: no process left behind (the daemon too)"
done_testing
