#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftscope doctor: what the host allows, and whether an interpreter is usable.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

run_ftscope doctor --target-python "$FT_PYTHON"
is "$FTSCOPE_RC" 0 "doctor passes on this host"
ok grep -q "ok.*ptrace.*permitted" "$FTSCOPE_OUT" "ptrace permitted"
ok grep -q "ok.*free-threaded.*3\.13" "$FTSCOPE_OUT" "the interpreter is free-threaded 3.13"
ok grep -q "ok.*python readable.*runtime found" "$FTSCOPE_OUT" "its runtime is readable from outside"
ok grep -q "ok.*pytest-run-parallel.*[0-9]\.[0-9]" "$FTSCOPE_OUT" \
	"setup's pytest-run-parallel is found, with its version"
if [ -x /usr/bin/python3 ]; then
	run_ftscope doctor --target-python /usr/bin/python3
	is "$FTSCOPE_RC" 1 "a GIL-only interpreter fails the check"
	ok grep -q "FAIL.*not a free-threaded build" "$FTSCOPE_OUT" "and says why"
else
	skip "GIL interpreter" "no /usr/bin/python3"
fi
FTSCOPE_SYMBOL_CACHE=$TEST_TMP/sc run_ftscope doctor
ok grep -q "ok.*symbol cache.*$TEST_TMP/sc: 0 files" "$FTSCOPE_OUT" "the symbol cache is named (empty)"
FTSCOPE_SYMBOL_CACHE= run_ftscope doctor
ok grep -q "symbol cache.*off" "$FTSCOPE_OUT" "FTSCOPE_SYMBOL_CACHE= turns it off, and doctor says so"
run_ftscope doctor --tracer bogus
ok test "$FTSCOPE_RC" != 0 "doctor refuses an unknown tracer"
like "$(ftscope_err)" "--tracer wants auto, none, ptrace or ebpf" "naming the tracers of the table"
run_ftscope doctor --help
like "$(head -n 1 "$FTSCOPE_OUT")" "--tracer auto\|ebpf\|ptrace\|none\]" "--help lists them too"
run_ftscope doctor --target-python /nonexistent/python
is "$FTSCOPE_RC" 1 "a missing interpreter fails"
done_testing
