#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftfix-nogil: a working extension without a Py_mod_gil slot re-enables the GIL when it is
# imported without PYTHON_GIL set. With --detect-extensions the probe must see that (it
# cannot with PYTHON_GIL=0, labeille's bug): "compatible_gil_fallback", module named.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-nogil
MOD=ftfix_nogil._core
run_fixtures $P --iterations 2 --timeout 120 --detect-extensions
is "$FTSCOPE_RC" 0 "ftscope run exits 0"

is "$(jqpkg $P .category)" compatible_gil_fallback "category is compatible_gil_fallback"
is "$(jqpkg $P .pass_count)" 2 "both iterations passed"
jqpkg_true $P '.extension_compat | type == "object"' "extension_compat is present"
is "$(jqpkg $P .extension_compat.gil_fallback_active)" true "extension_compat.gil_fallback_active"
is "$(jqpkg $P .extension_compat.is_pure_python)" false "extension_compat.is_pure_python is false"
is "$(jqpkg $P .extension_compat.import_ok)" true "extension_compat.import_ok"
jqpkg_true $P '.extension_compat.extensions | any(.module_name == "'$MOD'" and
	.is_extension == true and .import_ok == true and .triggered_gil_fallback == true)' \
	"extensions[] has $MOD: an extension that triggered the GIL fallback"
jqpkg_true $P '.extension_compat.extensions | all(.module_name != "'$MOD'" or .import_error == null)' \
	"$MOD imported without error"
jqpkg_true $P '.gil_fallback_modules | index("'$MOD'") != null' "gil_fallback_modules has $MOD"
ok test -s "$RUN_DIR/artifacts/$P/probe.json" "artifacts/$P/probe.json was written"
# The iterations themselves ran with PYTHON_GIL=0, which keeps the GIL off: no warning there.
jqpkg_true $P 'all(.iterations[]; .gil == "0" and .status == "pass")' \
	"iterations ran with PYTHON_GIL=0 and passed"

done_testing
