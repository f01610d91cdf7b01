#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Under --tracer ebpf no thread is traced from its start: the recorder reads the registers
# of a thread that raises a crash signal (in the kernel, at the signal), and the crash is
# signed at its process's exit stop from those registers and the process's memory, which is
# still there. So a thread that crashes at its first instruction is signed natively, and the
# same bugs get the same signature ids as under ptrace, whose crash stops hold each thread.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_ebpf

code='import ctypes, threading
t = threading.Thread(target=ctypes.string_at, args=(0,))
t.start()
t.join()'

fixture_registry ok segv abort
run_fixtures ftfix-ok --iterations 3 --tracer ebpf --no-detect-extensions \
	--test-command-override "python -c '$code'"
note "$(jqpkg ftfix-ok '[.iterations[] | .crashes[0] | {signature, registers, tid, pid}]')"
jqpkg_true ftfix-ok '[.iterations[] | .status] | all(. == "crash")' "every iteration crashes"
jqpkg_true ftfix-ok '.iterations | all(.ptrace_stops.threads == "on-demand")' \
	"threads are traced on demand (ptrace_stops.threads)"
# (ptrace's clone stops: 2 clone and 2 first stops, the shell's fork of python and the thread)
jqpkg_true ftfix-ok '.iterations | all(.ptrace_stops | .clone <= 1 and .new_task <= 1)' \
	"the thread's start made no stop (one clone stop: the shell starting python)"
jqpkg_true ftfix-ok '.iterations | all(.crashes[0].signature | test("^SIGSEGV \\| .*string_at"))' \
	"a thread crashing at its start is signed from its native stack"
jqpkg_true ftfix-ok '.iterations | all(.crashes[0] | .registers == "recorder" and .tid > 0 and .tid != .pid)' \
	"from the recorder's registers of the crashing thread, not the main one"
jqpkg_true ftfix-ok '.iterations | all(.crashes[0].si_code == 1)' "si_code: SEGV_MAPERR"
forensics=$RUN_DIR/artifacts/ftfix-ok/1/forensics.json
is "$(jqfile "$forensics" '[.[] | select(.reason == "crash")][0].processes[0].threads | map(select(.crashed)) | length')" 1 \
	"the crashing thread is in the crash snapshot, marked"

# A container's own pid namespace: the programs see the host's pids, not ftscope's, so the
# recorder would see nothing of the tree (and sign no crash). It refuses there; auto uses
# ptrace, whose clone stops sign the same crash.
if command -v unshare >/dev/null && unshare --pid --fork --mount-proc true 2>/dev/null; then
	FTSCOPE_PREFIX="unshare --pid --fork --mount-proc" run_ftscope doctor --tracer ebpf
	is "$FTSCOPE_RC" 1 "own pid namespace: doctor --tracer ebpf fails"
	like "$(ftscope_out)$(ftscope_err)" "pid namespace of its own.*--pid=host" "own pid namespace: doctor says why and the fix"
	mv "$TEST_TMP/results" "$TEST_TMP/results-ebpf-0"
	FTSCOPE_PREFIX="unshare --pid --fork --mount-proc" \
		run_fixtures ftfix-ok --iterations 2 --tracer auto --no-detect-extensions \
		--test-command-override "python -c '$code'"
	jqpkg_true ftfix-ok '.iterations | all(.tracer == "ptrace" and .ptrace_stops.threads == "clone-stops")' \
		"own pid namespace: auto runs ptrace with clone stops"
	jqpkg_true ftfix-ok '.iterations | all(.crashes[0].signature // "" | test("^SIGSEGV \\| .*string_at"))' \
		"own pid namespace: the thread's crash is still signed from its native stack"
else
	for t in "own pid namespace: doctor --tracer ebpf fails" "own pid namespace: doctor says why and the fix" \
		"own pid namespace: auto runs ptrace with clone stops" \
		"own pid namespace: the thread's crash is still signed from its native stack"; do
		skip "$t" "unshare --pid cannot run here"
	done
fi

# A process started by a thread not traced: followed from the recorder's fork event, its
# crash signed like any other.
code2='import subprocess, sys, threading
def work():
    subprocess.run([sys.executable, "-c", "import ctypes; ctypes.string_at(0)"])
t = threading.Thread(target=work)
t.start()
t.join()'
mv "$TEST_TMP/results" "$TEST_TMP/results-ebpf-1" 2>/dev/null
run_fixtures ftfix-ok --iterations 2 --tracer ebpf --no-detect-extensions \
	--test-command-override "python -c '$code2'"
note "$(jqpkg ftfix-ok '[.iterations[] | {crashes: [.crashes[] | {signature, runner, registers}], seized: .ptrace_stops.seized}]')"
jqpkg_true ftfix-ok '.iterations | all(.ptrace_stops.seized >= 1)' \
	"the process a thread started is seized from the recorder's fork event"
jqpkg_true ftfix-ok '.iterations | all(.crashes | any(.runner == false and (.signature // "" | test("^SIGSEGV \\| .*string_at"))))' \
	"its crash is signed from its native stack"
mv "$TEST_TMP/results" "$TEST_TMP/results-ebpf-2"

# The same bugs, the same ids: ptrace's crash stops against the recorder's registers.
crashed='[.iterations[] | select(.status == "crash")]'
run_fixtures ftfix-segv,ftfix-abort --iterations 2 --tracer ptrace --no-detect-extensions
id_segv=$(jqpkg ftfix-segv "$crashed | .[0].crash_signature_id")
id_abort=$(jqpkg ftfix-abort "$crashed | .[0].crash_signature_id")
mv "$TEST_TMP/results" "$TEST_TMP/results-ptrace"
run_fixtures ftfix-segv,ftfix-abort --iterations 2 --tracer ebpf --no-detect-extensions
note "ebpf: $(jqpkg ftfix-segv "[$crashed[] | {crash_signature, crash_signature_id}]") $(jqpkg ftfix-abort "[$crashed[] | {crash_signature, crash_signature_id}]")"
jqpkg_true ftfix-segv "$crashed | length >= 1" "segv crashed under ebpf"
jqpkg_true ftfix-segv "[$crashed[] | .crash_signature_id] | unique == [\"$id_segv\"]" \
	"segv: the id ptrace's crash stop gives"
jqpkg_true ftfix-abort "[$crashed[] | .crash_signature_id] | unique == [\"$id_abort\"]" \
	"abort: the id ptrace's crash stop gives"
jqpkg_true ftfix-abort "$crashed | all(.crash_python_frame != null)" \
	"abort: with the innermost Python frame"
done_testing
