#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# A test still computing (CPU progress) when --timeout passes is a timeout, not a deadlock:
# killed at the timeout, every process reaped, and the package is not "deadlock".
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

run_fixtures ftfix-slow --iterations 1 --timeout 3 --stall-threshold 60 --deadlock-window 2 \
	--no-detect-extensions
is "$FTSCOPE_RC" 0 "run exits 0"
is "$(jqpkg ftfix-slow .iterations[0].status)" timeout "status timeout"
is "$(jqpkg ftfix-slow .iterations[0].killed_by)" timeout "killed by the timeout"
is "$(jqpkg ftfix-slow .iterations[0].hang.reason)" timeout "hang reason timeout"
jqpkg_true ftfix-slow '.iterations[0].duration_s >= 3 and .iterations[0].duration_s < 15' \
	"ended shortly after 3 s ($(jqpkg ftfix-slow .iterations[0].duration_s) s)"
is "$(jqpkg ftfix-slow .deadlock_count)" 0 "no deadlock counted"
is "$(jqpkg ftfix-slow .timeout_count)" 1 "timeout_count 1"
is "$(jqpkg ftfix-slow .category)" incompatible "never passed: incompatible (labeille's rule)"
is "$(jqpkg ftfix-slow .hang_count.timeout)" 1 "hang_count.timeout 1"
is "$(procs_under "$TEST_TMP" | wc -l)" 0 "no process left"
done_testing
