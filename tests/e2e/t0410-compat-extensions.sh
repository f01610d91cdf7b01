#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftscope compat on a real run of ftfix-nogil and ftfix-segv: `run` stores the source scan
# (extension_compat.source_scan); ftfix-segv's C source declares Py_MOD_GIL_NOT_USED and no
# module re-enabled the GIL; ftfix-nogil declares nothing and re-enables the GIL.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd jq

run_fixtures ftfix-nogil,ftfix-segv,ftfix-ok --iterations 1 --timeout 120 --detect-extensions
is "$FTSCOPE_RC" 0 "ftscope run exits 0"

# What `run` stored.
jqpkg_true ftfix-segv '.extension_compat.source_scan.files_scanned >= 2' "segv: source_scan stored"
jqpkg_true ftfix-segv '.extension_compat.source_scan.declarations | length == 1 and
	(.[0] | .file == "ftfix_segv/_poke.c" and .kind == "Py_mod_gil" and .is_not_used == true
	 and .line_number > 0 and (.line_text | test("Py_mod_gil, *Py_MOD_GIL_NOT_USED")))' \
	"segv: one NOT_USED Py_mod_gil declaration in ftfix_segv/_poke.c, relative path"
jqpkg_true ftfix-segv '.extension_compat.source_scan.files_with_mod_gil == 1' \
	"segv: files_with_mod_gil is 1"
jqpkg_true ftfix-segv '.extension_compat.extensions | length >= 1' \
	"segv: the probe's fields are still there next to the scan"
jqpkg_true ftfix-nogil '.extension_compat.source_scan.declarations == []' \
	"nogil: no declaration (its comments and docstring mention Py_mod_gil)"
jqpkg_true ftfix-nogil '.extension_compat.gil_fallback_active == true' "nogil: GIL fallback seen"
line=$(grep -n 'Py_mod_gil, Py_MOD_GIL_NOT_USED' "$FIXTURES/pkgs/ftfix-segv/ftfix_segv/_poke.c" |
	cut -d: -f1)
is "$(jqpkg ftfix-segv '.extension_compat.source_scan.declarations[0].line_number')" "$line" \
	"segv: the declaration's line number is the slot's"

run_ftscope compat "$RUN_DIR"
is "$FTSCOPE_RC" 0 "compat exits 0"
out=$(ftscope_out)
like "$out" "ftfix-segv +\\([a-z_]+\\)" "segv listed with its category"
like "$out" "ftfix_segv/_poke.c:$line +Py_mod_gil +NOT_USED" "segv: the declaration, file:line, NOT_USED"
like "$out" "Verdict: free-threading ready: extensions declare Py_MOD_GIL_NOT_USED and none re-enabled the GIL" \
	"segv: ready verdict"
like "$out" "ftfix_nogil._core +re-enables the GIL" "nogil: the module that re-enables the GIL"
like "$out" "GIL re-enabled by: ftfix_nogil._core \\(import probe\\)" "nogil: named, by the probe"
like "$out" "Verdict: GIL fallback: module ftfix_nogil._core has no Py_mod_gil slot" \
	"nogil: GIL-fallback verdict"
like "$out" "Verdict: pure Python" "ok: pure Python"
like "$out" "Summary: 3 packages: 1 free-threading ready, 1 GIL fallback, 1 pure Python" "summary"

run_ftscope compat "$RUN_DIR" --extensions-only
is "$FTSCOPE_RC" 0 "compat --extensions-only exits 0"
ok test "$(grep -c '^ftfix-ok' "$FTSCOPE_OUT")" = 0 "--extensions-only leaves out the pure-Python package"
ok grep -q '^ftfix-segv' "$FTSCOPE_OUT" "and keeps the extensions"

run_ftscope compat "$RUN_DIR" --json
is "$FTSCOPE_RC" 0 "compat --json exits 0"
J=$TEST_TMP/compat.json
cp "$FTSCOPE_OUT" "$J"
is "$(jqfile "$J" '[.[].package] | join(",")')" "ftfix-nogil,ftfix-ok,ftfix-segv" "sorted by name"
is "$(jqfile "$J" '.[] | select(.package == "ftfix-segv") | .verdict_kind')" ready "segv: ready"
is "$(jqfile "$J" '.[] | select(.package == "ftfix-nogil") | .verdict_kind')" gil_fallback \
	"nogil: gil_fallback"
is "$(jqfile "$J" '.[] | select(.package == "ftfix-nogil") | .gil_fallback_modules | join(",")')" \
	ftfix_nogil._core "nogil: fallback module"
is "$(jqfile "$J" '.[] | select(.package == "ftfix-ok") | .verdict_kind')" pure_python "ok: pure_python"

run_ftscope compat "$RUN_DIR" --package ftfix-nogil
like "$(ftscope_out)" "^ftfix-nogil" "--package shows that package"
ok test "$(grep -c '^ftfix-segv' "$FTSCOPE_OUT")" = 0 "and only it"
run_ftscope compat --help
is "$FTSCOPE_RC" 0 "compat --help exits 0"
ok grep -qe --extensions-only "$FTSCOPE_OUT" "compat --help documents --extensions-only"
run_ftscope compat "$RUN_DIR" extra
is "$FTSCOPE_RC" 2 "an extra argument is a usage error (2)"
done_testing
