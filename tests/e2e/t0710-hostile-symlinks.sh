#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Root writes only where test code cannot (issue 11, critical 2). ftfix-hostile-symlink's test
# plants symlinks to a root-only file under every name root writes (the captures, the records,
# the temporary names of the old write-then-rename, for each of its ancestors' pids) in the
# directory of its junit report and in the run's artifacts. The root-only file must stay as
# it was, its content must reach no result, and every file of the run must be root's.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
relax_fs_protections
hostile_dirs

P=ftfix-hostile-symlink
sum=$(sha256sum <"$SECRET")
FTFIX_TEST_COMMAND="python -m pytest -s tests" fixture_registry hostile-symlink ok
run_fixtures $P,ftfix-ok --iterations 2 --jobs 2 --env "FTFIX_HOSTILE_SECRET=$SECRET" \
	--env "FTFIX_HOSTILE_RESULTS=$TEST_TMP/results"
is "$FTSCOPE_RC" 0 "run exits 0"
is "$(jqpkg $P .category)" compatible "the hostile suite passes"
is "$(jqpkg ftfix-ok .category)" compatible "and so does the package beside it"
ok grep -q "hostile-symlink: planted [1-9]" "$RUN_DIR/artifacts/$P/1/stdout" \
	"the test did plant symlinks (where it can: its own directory)"
is "$(sha256sum <"$SECRET")" "$sum" "the root-only file is unchanged"
is "$(stat -c %U:%a "$SECRET")" root:600 "and still root's, 0600"
ok test -z "$(grep -rl "$SECRET_MARK" "$RUN_DIR" 2>/dev/null)" \
	"its content reached no result or artifact"
is "$(find "$RUN_DIR" -type l | wc -l)" 0 "no symlink in the run directory"
is "$(find "$RUN_DIR" ! -user root | wc -l)" 0 "every file of the run is root's"
is "$(find "$RUN_DIR" -perm /022 | wc -l)" 0 "and writable by root alone"
is "$(stat -c %a "$RUN_DIR/artifacts")" 750 "artifacts/ is closed to other users"
done_testing
