#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftfix-importfail: the package installs but cannot be imported: "import_failure" with the
# ImportError's text, and no test iteration is run.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-importfail
run_fixtures $P --iterations 2 --timeout 120 --detect-extensions
ok test "$FTSCOPE_RC" -ne 2 "ftscope run is not a usage error (exit $FTSCOPE_RC)"
is "$(jqfile "$RUN_DIR/ft_meta.json" .status)" complete "ft_meta.json status is complete"

is "$(jqpkg $P .category)" import_failure "category is import_failure"
is "$(jqpkg $P .install_ok)" true "install_ok is true"
is "$(jqpkg $P .import_ok)" false "import_ok is false"
like "$(jqpkg $P .import_error)" "deliberately broken" "import_error has the ImportError's text"
is "$(jqpkg $P .iterations_completed)" 0 "iterations_completed is 0"
is "$(jqpkg $P '.iterations | length')" 0 "no iterations recorded"
ok test ! -e "$RUN_DIR/artifacts/$P/1" "no iteration artifacts"

done_testing
