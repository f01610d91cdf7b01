#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Privileges: run as root through sudo, the test code runs as the sudo user; as plain root,
# as nobody; only --user root makes it root. The fixture's test fails when it is root and
# prints the uid it saw.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
id nobody >/dev/null 2>&1 || skip_all "no user 'nobody'"
nobody_uid=$(id -u nobody)

fixture_registry whoami
# As if started by `sudo` from user nobody.
SUDO_USER=nobody run_fixtures ftfix-whoami --iterations 1 --no-detect-extensions \
	--test-command-override "python -m pytest -s tests"
is "$FTSCOPE_RC" 0 "run exits 0"
is "$(jqpkg ftfix-whoami .category)" compatible "the suite passes: it did not run as root"
ok grep -q "ftfix-whoami: uid=$nobody_uid user=nobody" "$RUN_DIR/artifacts/ftfix-whoami/1/stdout" \
	"the test saw uid $nobody_uid (the sudo user)"
is "$(jq -r .config.run_as_user "$RUN_DIR/ft_meta.json")" nobody "ft_meta.json records the user"
is "$(stat -c %U "$RUN_DIR/ft_results.jsonl")" root "the supervisor's own files stay root's"

mv "$TEST_TMP/results" "$TEST_TMP/results-1"
run_fixtures ftfix-whoami --iterations 1 --no-detect-extensions --user root
is "$(jqpkg ftfix-whoami .category)" incompatible "--user root: the test runs as root (and fails, as designed)"
ok grep -q "ftscope: warning: test code runs as root" "$FTSCOPE_ERR" "and ftscope says so"

mkdir -p "$TEST_TMP/private" && chmod 0700 "$TEST_TMP/private"
run_ftscope run --target-python "$FT_PYTHON" --registry-dir "$REGISTRY" --packages ftfix-whoami \
	--repos-dir "$TEST_TMP/private/repos" --venvs-dir "$TEST_TMP/venvs" --results-dir "$TEST_TMP/results-3"
is "$FTSCOPE_RC" 1 "a repos dir the test user cannot reach is refused"
ok grep -q "cannot reach '$TEST_TMP/private/repos'" "$FTSCOPE_ERR" "with a message naming it"
done_testing
