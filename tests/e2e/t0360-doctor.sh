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

# has LINE-ERE: doctor's output has a line matching it whole (a check's line is "  STATUS
# NAME  TEXT", columns of spaces)
has() { grep -Eq "^$1\$" "$FTSCOPE_OUT"; }

run_ftscope doctor --target-python "$FT_PYTHON"
is "$FTSCOPE_RC" 0 "doctor passes on this host"
ok has "All required checks passed\." "and says so last"
ok has "  ok +root +yes" "it runs as root"
ok has "  ok +ptrace +permitted: --tracer ptrace .*" "ptrace permitted"
ok has "Target Python: $FT_PYTHON" "the interpreter is named"
ok has "  ok +free-threaded +3\.13\.[0-9]+ .*" "the interpreter is free-threaded 3.13"
ok has "  ok +python readable +3\.13\.[0-9]+ free-threaded, runtime found .*, [1-9][0-9]* thread state\(s\) with [1-9][0-9]* frame\(s\)" \
	"its runtime is readable from outside: a thread with a frame seen"
ok has "  ok +pytest-run-parallel +[0-9]+\.[0-9]+(\.[0-9]+)? .*" \
	"setup's pytest-run-parallel is found, with its version"
if [ -x /usr/bin/python3 ]; then
	run_ftscope doctor --target-python /usr/bin/python3
	is "$FTSCOPE_RC" 1 "a GIL-only interpreter fails the check"
	ok has "  FAIL +free-threaded +target Python '/usr/bin/python3' .* is not a free-threaded build: .*" \
		"and says why, naming it"
	ok has "Some checks failed\." "and that a check failed"
else
	skip "GIL interpreter" "no /usr/bin/python3"
fi
FTSCOPE_SYMBOL_CACHE=$TEST_TMP/sc run_ftscope doctor
ok has "  ok +symbol cache +$TEST_TMP/sc: 0 files.*" "the symbol cache is named (empty)"
FTSCOPE_SYMBOL_CACHE= run_ftscope doctor
ok has "  ok +symbol cache +off \(FTSCOPE_SYMBOL_CACHE is empty\).*" \
	"FTSCOPE_SYMBOL_CACHE= turns it off, and doctor says so"
run_ftscope doctor --tracer bogus
is "$FTSCOPE_RC" 2 "doctor refuses an unknown tracer (bad usage)"
like "$(ftscope_err)" "--tracer wants auto, none, ptrace or ebpf, not 'bogus'" \
	"naming the tracers of the table"
run_ftscope doctor --help
is "$(head -n 1 "$FTSCOPE_OUT")" \
	"usage: ftscope doctor [--target-python PATH] [--tracer auto|ebpf|ptrace|none]" \
	"--help lists them too"
run_ftscope doctor --target-python /nonexistent/python
is "$FTSCOPE_RC" 1 "a missing interpreter fails"
ok has "  FAIL +free-threaded +target Python '/nonexistent/python' does not exist" \
	"and says it does not exist"
done_testing
