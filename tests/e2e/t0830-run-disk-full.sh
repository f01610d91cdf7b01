#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# The results directory is a 3 MB tmpfs; ftfix-flood (40 MB of output per iteration) fills
# it in its first iteration. The run must end with status "disk_full" in ft_meta.json,
# exit 1 with a message that says so, keep ft_results.jsonl whole (no half line), and tell
# the truth about the package (installed, one iteration done, interrupted), not
# "install_failure 0/0". Once space is freed, --resume finishes the run.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd mount umount

mkdir -p full
mount -t tmpfs -o size=3m ftscope-test-full "$TEST_TMP/full" 2>/dev/null ||
	skip_all "cannot mount a tmpfs here"
trap 'umount "$TEST_TMP/full" 2>/dev/null; _e2e_cleanup' EXIT

FTFIX_TEST_COMMAND="python -m pytest -s tests" fixture_registry ok flood
mapfile -t dirs < <(ftscope_run_dirs)
run_ftscope run --target-python "$FT_PYTHON" --registry-dir "$REGISTRY" \
	--packages ftfix-ok,ftfix-flood --iterations 2 --timeout 120 "${dirs[@]:0:4}" --offline \
	--results-dir "$TEST_TMP/full"
is "$FTSCOPE_RC" 1 "ftscope run exits 1"
like "$(ftscope_err)" "disk of .* is full.*disk_full" "the message says the disk is full"
like "$(ftscope_err)" "ftscope run --resume" "and how to continue"
RUN_DIR=$(echo "$TEST_TMP"/full/ft_*)
ok test -d "$RUN_DIR" "the run directory is there"
is "$(jq -r .status "$RUN_DIR/ft_meta.json")" disk_full "ft_meta.json: status disk_full"

ok "$FT_PYTHON" -c "
import json, sys
data = open(sys.argv[1], 'rb').read()
assert data.endswith(b'\n'), 'a half line at the end'
for line in data.decode().splitlines():
    json.loads(line)
" "$RUN_DIR/ft_results.jsonl" "ft_results.jsonl: whole lines of JSON only"
is "$(jqpkg ftfix-ok .category)" compatible "the package before the full disk: compatible"
is "$(jqpkg ftfix-flood .install_ok)" true "ftfix-flood: installed (not an install failure)"
is "$(jqpkg ftfix-flood .interrupted)" true "ftfix-flood: recorded as interrupted"
jqpkg_true ftfix-flood '.iterations_completed >= 1 and .category != "install_failure"' \
	"ftfix-flood: its iterations are there ($(jqpkg ftfix-flood .iterations_completed))"
like "$(ftscope_out)" "ftfix-flood +[a-z_]+ +[1-9]/[1-9] passed \\(interrupted\\)" \
	"the summary line tells the truth"
run_ftscope show "$RUN_DIR"
like "$(ftscope_out)" "disk filled up" "show says the disk filled up"

# space again: --resume completes it
mount -o remount,size=256m "$TEST_TMP/full"
run_ftscope run --resume "$RUN_DIR"
is "$FTSCOPE_RC" 0 "--resume with space again: exit 0"
is "$(jq -r .status "$RUN_DIR/ft_meta.json")" complete "ft_meta.json: status complete"
is "$(jqpkg ftfix-flood .iterations_completed)" 2 "ftfix-flood: both iterations"
is "$(jqpkg ftfix-flood .interrupted)" false "ftfix-flood: no longer interrupted"

done_testing
