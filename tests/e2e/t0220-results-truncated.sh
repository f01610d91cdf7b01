#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# A truncated last line in ft_results.jsonl (power loss, kill -9) is skipped with a
# warning by the readers, never fatal.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-ok
run_fixtures $P --iterations 1 --timeout 120
is "$FTSCOPE_RC" 0 "ftscope run exits 0"
results=$RUN_DIR/ft_results.jsonl
ok test -s "$results" "ft_results.jsonl has a line"
good=$(head -n 1 "$results")
# Half of a line that was being written, without its newline.
printf '%s' '{"package": "ftfix-half", "category": "compatible", "iterations_comp' >>"$results"

run_ftscope show "$RUN_DIR"
is "$FTSCOPE_RC" 0 "ftscope show exits 0 on a truncated results file"
ok grep -qi warn "$FTSCOPE_ERR" "ftscope show warns about the bad line"
ok grep -q "$P" "$FTSCOPE_OUT" "ftscope show still lists $P"
ok test -z "$(grep ftfix-half "$FTSCOPE_OUT")" "the truncated package is not shown"

run_ftscope export "$RUN_DIR" --format json
is "$FTSCOPE_RC" 0 "ftscope export --format json exits 0"
ok jq -e . "$FTSCOPE_OUT" "the export is valid JSON"
is "$(jq -r '[.[].package] | join(",")' "$FTSCOPE_OUT")" "$P" "the export holds $P only"
ok grep -qi warn "$FTSCOPE_ERR" "ftscope export warns about the bad line"

run_ftscope export "$RUN_DIR" --format csv
is "$FTSCOPE_RC" 0 "ftscope export --format csv exits 0"
is "$(grep -c . "$FTSCOPE_OUT")" 2 "the CSV has a header and one row"

# A corrupt line before a good one is skipped the same way.
{ echo '{"package": "ftfix-garbage", "category":'; echo 'not json at all'; echo "$good"; } >"$results"
run_ftscope show "$RUN_DIR"
is "$FTSCOPE_RC" 0 "ftscope show exits 0 with corrupt lines before a good one"
ok grep -q "$P" "$FTSCOPE_OUT" "ftscope show still lists $P"
ok grep -qi warn "$FTSCOPE_ERR" "ftscope show warns about the corrupt lines"

done_testing
