#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# --resume that cannot be fooled (issue 11, high 4): a relative run path (`--resume ft_X`
# from the results directory, as people type it) works as an absolute one, and a last line
# of ft_results.jsonl cut short (kill -9 while it was written) is moved aside, named in a
# warning, so the resumed package's line is not glued onto it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

fixture_registry ok whoami
run_fixtures ftfix-ok,ftfix-whoami --iterations 2 --no-detect-extensions
is "$FTSCOPE_RC" 0 "run exits 0"
R=$(results_file)
meta=$RUN_DIR/ft_meta.json
line=$(grep '"package":"ftfix-whoami"' "$R")
half=${line:0:300}
# As after a kill -9 while whoami's line was written: half of it, no newline; the meta still
# says running.
{ grep -v '"package":"ftfix-whoami"' "$R"; printf '%s' "$half"; } >"$TEST_TMP/r.tmp"
cat "$TEST_TMP/r.tmp" >"$R"
jq '.status = "running"' "$meta" >"$TEST_TMP/m.tmp" && cat "$TEST_TMP/m.tmp" >"$meta"

pushd "$TEST_TMP/results" >/dev/null || bail_out "no results directory"
run_ftscope run --resume "$(basename "$RUN_DIR")"
popd >/dev/null || true
is "$FTSCOPE_RC" 0 "--resume with a relative path exits 0"
ok jq -e -R 'fromjson | type == "object"' "$R" "every line of ft_results.jsonl is a JSON object"
is "$(pkg_line_count ftfix-ok)" 1 "ftfix-ok, finished, is not run again"
is "$(pkg_line_count ftfix-whoami)" 1 "ftfix-whoami has its one line"
is "$(jqpkg ftfix-whoami .category)" compatible "ftfix-whoami is compatible"
is "$(jqpkg ftfix-whoami .pass_count)" 2 "both its iterations passed"
ok test -s "$RUN_DIR/artifacts/ftfix-whoami/1/junit.xml" \
	"its junit report is in the run's artifacts"
frag=$RUN_DIR/ft_results.jsonl.fragment-1
is "$(cat "$frag" 2>/dev/null)" "$half" \
	"the cut-short line was moved to ft_results.jsonl.fragment-1"
ok grep -q "was cut short; moved it to '$frag'" "$FTSCOPE_ERR" "a warning names it"
is "$(jqfile "$meta" .status)" complete "the run is complete"
run_ftscope show "$RUN_DIR"
ok grep -q "ftfix-whoami" "$FTSCOPE_OUT" "show lists ftfix-whoami"
done_testing
