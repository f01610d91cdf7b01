#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftfix-installfail: setup.py fails: "install_failure" with the installer's message, and no
# test iteration is run.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-installfail
run_fixtures $P --iterations 2 --timeout 120
ok test "$FTSCOPE_RC" -ne 2 "ftscope run is not a usage error (exit $FTSCOPE_RC)"
is "$(jqfile "$RUN_DIR/ft_meta.json" .status)" complete "ft_meta.json status is complete"

is "$(jqpkg $P .category)" install_failure "category is install_failure"
is "$(jqpkg $P .install_ok)" false "install_ok is false"
like "$(jqpkg $P .install_error)" "deliberate install failure" "install_error has setup.py's message"
is "$(jqpkg $P .iterations_completed)" 0 "iterations_completed is 0"
is "$(jqpkg $P '.iterations | length')" 0 "no iterations recorded"
ok grep -q "deliberate install failure" "$RUN_DIR/artifacts/$P/install.log" \
	"artifacts/$P/install.log has the installer's output"
ok test ! -e "$RUN_DIR/artifacts/$P/1" "no iteration artifacts"

done_testing
