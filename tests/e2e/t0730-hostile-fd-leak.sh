#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# No descriptor reaches the test but 0, 1 and 2 (issue 11, high 5): with `exec 7<secret;
# ftscope run ...`, ftfix-hostile-fd's test reads every descriptor it inherited and fails if
# one holds the secret.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
hostile_dirs

P=ftfix-hostile-fd
FTFIX_TEST_COMMAND="python -m pytest -s tests" fixture_registry hostile-fd
exec 7<"$SECRET"
# The test looks for the secret by its prefix: the whole of it appears nowhere but in $SECRET.
run_fixtures $P --iterations 1 --env "FTFIX_SECRET_MARK=${SECRET_MARK%%-[0-9]*}-"
exec 7<&-
is "$FTSCOPE_RC" 0 "run exits 0"
is "$(jqpkg $P .category)" compatible "the test found no inherited descriptor with the secret"
ok grep -q "hostile-fd: 0 descriptor(s)" "$RUN_DIR/artifacts/$P/1/stdout" "it says so"
ok test -z "$(grep -rl "$SECRET_MARK" "$RUN_DIR" 2>/dev/null)" "the secret is nowhere in the run"
done_testing
