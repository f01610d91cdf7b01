#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# A crash inside functions the compiler inlined (ftfix-inlinecrash: -O2, always_inline):
# the stacks show each inlined function as a frame of its own, as gdb and `eu-stack -i`
# do, and the crash signature starts at the innermost one (ftfix_inl_store), the name a
# -O0 build of the same code would give. Without inline expansion the signature would start
# at the only real frame, ftfix_inl_fill_impl.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

run_fixtures ftfix-inlinecrash --iterations 1 --tracer ptrace --no-detect-extensions
is "$FTSCOPE_RC" 0 "the run exits 0"
crashed='[.iterations[] | select(.status == "crash")]'
jqpkg_true ftfix-inlinecrash "$crashed | length == 1" "the iteration crashed"
is "$(jqpkg ftfix-inlinecrash "$crashed | .[0].crash_signature")" \
	"SIGSEGV | ftfix_inl_store | ftfix_inl_fill_row | ftfix_inl_fill_impl | py test_fill.py:test_fill_crashes" \
	"the signature: the inlined functions, innermost first, then the real frame"
F=$RUN_DIR/artifacts/ftfix-inlinecrash/1/forensics.json
ok test -s "$F" "crash forensics written"
frames='[.[] | select(.reason == "crash")][0].processes[0].threads[] | select(.crashed) | .frames'
is "$(jqfile "$F" "[$frames[] | select(.module != null and (.module | startswith(\"_store\")))] | map(.function + (if .inlined then \"*\" else \"\" end) + \"@\" + ((.line // 0) | tostring)) | join(\" \")")" \
	"ftfix_inl_store*@22 ftfix_inl_fill_row*@27 ftfix_inl_fill_impl@36 fill@46" \
	"forensics: inlined frames marked, each at its own line (the store, then the call sites)"
is "$(jqfile "$F" "[$frames[] | select(.module != null and (.module | startswith(\"_store\")))] | map(.offset) | unique | length")" 2 \
	"the inlined frames share their real frame's pc"
run_ftscope crashes "$RUN_DIR"
like "$(cat "$FTSCOPE_OUT")" "#0 +ftfix_inl_store \\[inlined\\] in _store[^ ]*\\.so\\+0x[0-9a-f]+ \\(_store\\.c:22\\)" \
	"ftscope crashes: the inlined function, marked, at the faulting line"
done_testing
