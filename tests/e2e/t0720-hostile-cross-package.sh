#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Isolation between packages (issue 11, high 5): under --jobs 2, each package's code runs as
# a test uid of its own, so ftfix-hostile-cross, which looks for ftfix-hostile-victim's
# processes and sends them (and their parent, the victim's pytest) SIGSEGV for 12 s, and
# tries to write into the victim's checkout, workspace and artifacts, can do neither.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

A=ftfix-hostile-cross V=ftfix-hostile-victim
FTFIX_TEST_COMMAND="python -m pytest -s tests" fixture_registry hostile-cross hostile-victim
run_fixtures $A,$V --jobs 2 --iterations 2 --no-detect-extensions --timeout 120 \
	--env FTFIX_HOSTILE_SECONDS=12 --env FTFIX_VICTIM_SECONDS=4 \
	--env "FTFIX_HOSTILE_RESULTS=$TEST_TMP/results"
is "$FTSCOPE_RC" 0 "run exits 0"
is "$(jqpkg $V .category)" compatible "the victim is compatible"
is "$(jqpkg $V .pass_count)" 2 "both of its iterations passed"
is "$(jqpkg $V .crash_count)" 0 "none was made a crash"
summary=$(grep -h "hostile-cross:" "$RUN_DIR"/artifacts/$A/*/stdout | head -n 1)
note "$summary"
like "$summary" "victims seen [1-9]" "the attacker found the victim's processes"
like "$summary" "signals delivered 0, refused [1-9]" "and could signal none of them"
# refused > 0: it did try the victim's files (a fixture that finds none proves nothing)
like "$summary" "files written 0, refused [1-9]" "nor write any of the files it tried"
users=$(jq -rs 'map(.test_user) | unique | length' "$(results_file)")
is "$users" 2 "the two packages ran as two different test users"
jqpkg_true $V '.test_user | test("^ftscope-[0-9]+$")' "a test uid from ftscope's range"
done_testing
