#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# --tracer ebpf: the recorder's blocked-thread map declares the deadlock within the window,
# the lock-wait summary names the contended locks (resolved through the snapshot), signals
# and the process lifecycle are recorded, and "was concurrency exercised?" is answered:
# yes for the deadlock's threads, no for a single-threaded suite.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_ebpf

fixture_registry deadlock slow
run_fixtures ftfix-deadlock,ftfix-slow --iterations 1 --tracer ebpf --deadlock-window 2 \
	--stall-threshold 30 --timeout 120 --no-detect-extensions
is "$FTSCOPE_RC" 0 "run exits 0"
is "$(jq -r .config.tracer "$RUN_DIR/ft_meta.json")" ebpf "meta: tracer ebpf"
ok grep -q "tracer: ebpf" "$FTSCOPE_ERR" "the choice is printed"
D=ftfix-deadlock
is "$(jqpkg $D .iterations[0].status)" deadlock "deadlock"
is "$(jqpkg $D .iterations[0].tracer)" ebpf "traced with the recorder"
jqpkg_true $D '.iterations[0].hang.detected_after_s >= 2 and .iterations[0].hang.detected_after_s < 3' \
	"declared within the window plus a fraction ($(jqpkg $D .iterations[0].hang.detected_after_s) s)"
jqpkg_true $D '[.iterations[0].recorder.lock_waits.top[] | select(.lock == "threading.Lock")] | length == 2' \
	"the lock-wait summary names the two contended threading.Locks"
jqpkg_true $D '[.iterations[0].recorder.lock_waits.top[] | select(.lock == "threading.Lock") | .lock_object] | unique | length == 2' \
	"as two distinct lock objects"
jqpkg_true $D '.iterations[0].recorder.lifecycle | any(.event == "exit")' "lifecycle events recorded"
jqpkg_true $D '.iterations[0].recorder.signals | length > 0' "signals recorded"
is "$(jqpkg $D .concurrency_exercised)" true "deadlock fixture: concurrency exercised"
is "$(jqpkg ftfix-slow .category)" compatible "the silent CPU-bound test passes"
is "$(jqpkg ftfix-slow .concurrency_exercised)" false "single-threaded suite: no concurrency exercised"
run_ftscope show "$RUN_DIR"
ok grep -q "ftfix-slow.*no concurrency exercised" "$FTSCOPE_OUT" "show says so next to the category"
done_testing
