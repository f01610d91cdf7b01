#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Privileges: as root (plain, or through sudo), the test code runs as a test uid of its own
# (65100-65355, no /etc/passwd entry; a name in the worker's private view of it, or, in a
# chroot, in the chroot's own file while the uid is held: t0372), with HOME
# in its workspace; --user NAME picks a user; only --user root makes it root. The fixture's
# test fails when it is root and prints the uid it saw.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
id nobody >/dev/null 2>&1 || skip_all "no user 'nobody'"
nobody_uid=$(id -u nobody)
verbose=(--iterations 1 --no-detect-extensions --test-command-override "python -m pytest -s tests")

fixture_registry whoami
# As if started by `sudo` from user nobody: the sudo user's account is not where tests run.
SUDO_USER=nobody run_fixtures ftfix-whoami "${verbose[@]}"
is "$FTSCOPE_RC" 0 "run exits 0"
is "$(jqpkg ftfix-whoami .category)" compatible "the suite passes: it did not run as root"
out=$RUN_DIR/artifacts/ftfix-whoami/1/stdout
home_re="$TEST_TMP/venvs/.*/ftfix-whoami/home"
like "$(grep -o 'ftfix-whoami: .*' "$out")" \
	"^ftfix-whoami: uid=(65[1-3][0-9][0-9]) user=ftscope-\\1 home=$home_re\$" \
	"a test uid, named in the test's view of /etc/passwd, HOME in the workspace"
# Where / is a mount point, the test uid is named in a private view: /etc/passwd is never
# written. In a chroot whose / is not (fresh-machine.sh's new root), ftscope names it in the
# chroot's own file while it holds it (t0372), and the tests beside this one name theirs:
# there, this run's line must be gone.
if mountpoint -q /; then
	ok test -z "$(grep ftscope- /etc/passwd)" "the host's /etc/passwd is untouched"
else
	uid=$(grep -o 'ftfix-whoami: uid=[0-9]*' "$out" | grep -o '[0-9]*$')
	ok test -n "$uid" -a -z "$(grep "^ftscope-$uid:" /etc/passwd)" \
		"in a chroot: the test uid's line in /etc/passwd is gone after the run"
fi
is "$(jq -r .config.run_as_user "$RUN_DIR/ft_meta.json")" "test uids 65100-65355" \
	"ft_meta.json records the user"
is "$(stat -c %U "$RUN_DIR/ft_results.jsonl")" root "the supervisor's own files stay root's"

mv "$TEST_TMP/results" "$TEST_TMP/results-1"
run_fixtures ftfix-whoami "${verbose[@]}" --user nobody
is "$(jqpkg ftfix-whoami .category)" compatible "--user nobody: passes"
ok grep -q "ftfix-whoami: uid=$nobody_uid user=nobody" "$RUN_DIR/artifacts/ftfix-whoami/1/stdout" \
	"--user nobody: the test saw uid $nobody_uid"

mv "$TEST_TMP/results" "$TEST_TMP/results-2"
run_fixtures ftfix-whoami --iterations 1 --no-detect-extensions --user root
is "$(jqpkg ftfix-whoami .category)" incompatible "--user root: the test runs as root (and fails, as designed)"
ok grep -q "ftscope: warning: test code runs as root" "$FTSCOPE_ERR" "and ftscope says so"

# Root's clones and the results need not be reachable by the test user; the workspaces do.
mkdir -p "$TEST_TMP/private" && chmod 0700 "$TEST_TMP/private"
run_ftscope run --target-python "$FT_PYTHON" --registry-dir "$REGISTRY" --packages ftfix-whoami \
	--iterations 1 --repos-dir "$TEST_TMP/private/repos" --venvs-dir "$TEST_TMP/venvs" \
	--results-dir "$TEST_TMP/private/results"
is "$FTSCOPE_RC" 0 "a repos and results dir the test user cannot reach are fine"
run_ftscope run --target-python "$FT_PYTHON" --registry-dir "$REGISTRY" --packages ftfix-whoami \
	--repos-dir "$TEST_TMP/repos" --venvs-dir "$TEST_TMP/private/venvs" \
	--results-dir "$TEST_TMP/results-3"
is "$FTSCOPE_RC" 1 "a venvs dir the test user cannot reach is refused"
ok grep -q "cannot reach '$TEST_TMP/private/venvs'" "$FTSCOPE_ERR" "with a message naming it"
done_testing
