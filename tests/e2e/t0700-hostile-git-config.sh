#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# No git as root on anything test code touched (issue 11, critical 1). ftfix-hostile-git's
# test appends `[remote "origin"] uploadpack = <script>` (and fsmonitor, sshCommand, hooks)
# to its checkout's .git/config, and to root's clone in --repos-dir if it can reach it. The
# next run with the same --repos-dir fetches (a shallow clone: `git fetch` through the CLI,
# which runs uploadpack for a local remote): the script must never run, as root or at all.
# A clone that test code could have written (as older ftscope versions left them) is
# cloned afresh, never fetched into.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd git
relax_fs_protections
hostile_dirs

P=ftfix-hostile-git
FTFIX_TEST_COMMAND="python -m pytest -s tests" fixture_registry hostile-git
opts=(--iterations 1 --no-detect-extensions --env "FTFIX_HOSTILE_OUT=$HOSTILE_OUT"
	--env "FTFIX_HOSTILE_REPOS=$TEST_TMP/repos")

run_fixtures $P "${opts[@]}"
is "$FTSCOPE_RC" 0 "first run exits 0"
is "$(jqpkg $P .category)" compatible "the hostile suite passes"
out=$RUN_DIR/artifacts/$P/1/stdout
ok grep -q "hostile-git: planted in .*/src/.git" "$out" \
	"the test planted its commands in the checkout it ran in (a staged copy)"
ok grep -q "hostile-git: cannot plant in $TEST_TMP/repos/$P/.git" "$out" \
	"it could not reach root's clone"
is "$(stat -c %U:%a "$TEST_TMP/repos/$P")" root:700 "root's clone is root's, 0700"
ok test -f "$TEST_TMP/repos/$P/.git/shallow" \
	"root's clone is shallow (the next sync fetches with git)"

mv "$TEST_TMP/results" "$TEST_TMP/results-1"
run_fixtures $P "${opts[@]}"
is "$FTSCOPE_RC" 0 "second run, same --repos-dir, exits 0"
is "$(jqpkg $P .category)" compatible "and the package still passes"
pwned=$(cd "$HOSTILE_OUT" && ls pwned-* 2>/dev/null)
is "$pwned" "" "nothing the test planted ran (no pwned-<uid> file)"
[ -z "$pwned" ] || diag "$(cat "$HOSTILE_OUT"/pwned-*)"

# A clone test code could write (older ftscope versions gave theirs to it and took them back
# before git ran): the top is root's, so git's safe.directory check passes, but its config
# holds the attack and is someone else's. ftscope must not run git in it.
printf '#!/bin/sh\nid > "%s/pwned-$(id -u)-$$"\nexec git upload-pack "$@"\n' "$HOSTILE_OUT" \
	>"$HOSTILE_OUT/pwn.sh"
chmod 755 "$HOSTILE_OUT/pwn.sh"
printf '[remote "origin"]\n\tuploadpack = %s\n' "$HOSTILE_OUT/pwn.sh" \
	>>"$TEST_TMP/repos/$P/.git/config"
chown nobody "$TEST_TMP/repos/$P/.git/config"
mv "$TEST_TMP/results" "$TEST_TMP/results-2"
run_fixtures $P "${opts[@]}"
is "$FTSCOPE_RC" 0 "third run, over a clone test code owned, exits 0"
ok grep -q "is not root's alone .*cloning it afresh" "$FTSCOPE_ERR" \
	"that clone is replaced, with a note"
is "$(stat -c %U "$TEST_TMP/repos/$P/.git/config")" root "by root's own"
pwned=$(cd "$HOSTILE_OUT" && ls pwned-* 2>/dev/null)
is "$pwned" "" "still nothing planted ran"
done_testing
