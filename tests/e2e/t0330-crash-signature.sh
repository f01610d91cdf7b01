#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Crash signatures under ptrace: the faulting C function and the innermost Python frame, no
# abort machinery, and the same id across iterations and across runs.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

fixture_registry segv abort
run_fixtures ftfix-segv,ftfix-abort --iterations 2 --tracer ptrace --no-detect-extensions
is "$FTSCOPE_RC" 0 "first run exits 0"
first=$RUN_DIR
crashed='[.iterations[] | select(.status == "crash")]'
jqpkg_true ftfix-segv "$crashed | length >= 1" "segv crashed"
jqpkg_true ftfix-segv "$crashed | all(.crash_signature | startswith(\"SIGSEGV | ftfix_segv_poke_impl\"))" \
	"segv signature starts with the faulting function"
jqpkg_true ftfix-segv "$crashed | all(.crash_python_frame | test(\"^test_poke.py:\"))" \
	"and names the innermost Python frame (test_poke.py)"
jqpkg_true ftfix-segv "[$crashed[] | .crash_signature_id] | unique | length == 1" "one id across iterations"
jqpkg_true ftfix-abort "$crashed | all(.crash_signature | test(\"^SIGABRT \\\\| ftfix_abort_enter_impl\"))" \
	"abort signature: the asserting function first, no raise/abort/__assert_fail"
jqpkg_true ftfix-abort "$crashed | all(.crash_frames | all(test(\"raise|abort$|__assert|pthread_kill\") | not))" \
	"no abort machinery in the frames"
id_segv=$(jqpkg ftfix-segv "$crashed | .[0].crash_signature_id")
id_abort=$(jqpkg ftfix-abort "$crashed | .[0].crash_signature_id")
ok test "$id_segv" != "$id_abort" "two bugs, two ids"
jqpkg_true ftfix-segv "$crashed | all(.crashes | any(.runner and .signal == \"SIGSEGV\" and .si_code == 1))" \
	"the runner's crash: SEGV_MAPERR at the fault"

# A second run: same ids.
mv "$TEST_TMP/results" "$TEST_TMP/results-1"
run_fixtures ftfix-segv,ftfix-abort --iterations 1 --tracer ptrace --no-detect-extensions
is "$(jqpkg ftfix-segv "$crashed | .[0].crash_signature_id")" "$id_segv" "segv: same id in another run"
is "$(jqpkg ftfix-abort "$crashed | .[0].crash_signature_id")" "$id_abort" "abort: same id in another run"
ok test -s "$RUN_DIR/artifacts/ftfix-segv/1/forensics.json" "crash forensics written"
is "$(jqfile "$RUN_DIR/artifacts/ftfix-segv/1/forensics.json" '[.[] | select(.reason == "crash")][0].processes[0].threads | map(select(.crashed)) | length')" 1 \
	"the crashing thread is marked"
: "$first"
done_testing
