#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# A crash the suite survives: the test's child process segfaults on purpose and the test
# passes. The iteration is a pass; the child's crash is still recorded, not as the runner's.
# Also: a runner that crashes under a shell that goes on is still a crash (ptrace sees it).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

fixture_registry childcrash segv
run_fixtures ftfix-childcrash --iterations 2 --tracer ptrace --no-detect-extensions
is "$FTSCOPE_RC" 0 "run exits 0"
is "$(jqpkg ftfix-childcrash .category)" compatible "the suite passes: compatible"
jqpkg_true ftfix-childcrash '[.iterations[] | .status] | all(. == "pass")' "every iteration passes"
jqpkg_true ftfix-childcrash '.iterations | all(.crashes | length == 1 and .[0].runner == false and .[0].signal == "SIGSEGV")' \
	"each iteration lists the child's SIGSEGV, not as the runner's"
jqpkg_true ftfix-childcrash '.iterations | all(.crashes[0].signature | test("string_at"))' \
	"the child crash has its own signature (ctypes.string_at)"
jqpkg_true ftfix-childcrash '.iterations | all(.crashes[0].parent_comm | startswith("python"))' \
	"its parent is the test's Python"

mv "$TEST_TMP/results" "$TEST_TMP/results-1"
run_fixtures ftfix-segv --iterations 2 --tracer ptrace --no-detect-extensions \
	--test-command-override "python -m pytest tests; echo the shell goes on"
jqpkg_true ftfix-segv '[.iterations[] | select(.status == "crash")] | length >= 1' \
	"runner crash under a shell that exits 0: still a crash"
jqpkg_true ftfix-segv '[.iterations[] | select(.status == "crash")] | all(.exit_code == 0 and .crash_signal == "SIGSEGV")' \
	"exit code 0 from the shell, SIGSEGV from the runner"
done_testing
