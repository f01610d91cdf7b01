#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# A thread that crashes in its first moments (its target is the faulting call). By default
# every thread is traced from its first instruction (a clone stop and a first stop), so the
# crash always stops before any handler and is signed from its native stack. With
# --seize-threads threads are seized from the kernel's process events a few tens of
# microseconds after they start: the crash either was seized in time (a native signature) or
# says it was not (no_crash_stop), and the iteration is still signed, from faulthandler's
# Python frame. Never a crash without a word.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

code='import ctypes, threading
t = threading.Thread(target=ctypes.string_at, args=(0,))
t.start()
t.join()'

fixture_registry ok
run_fixtures ftfix-ok --iterations 3 --tracer ptrace --no-detect-extensions \
	--test-command-override "python -c '$code'"
note "clone stops: $(jqpkg ftfix-ok '[.iterations[] | .crashes[0] | {signature, no_crash_stop}]')"
jqpkg_true ftfix-ok '[.iterations[] | .status] | all(. == "crash")' "clone stops: every iteration crashes"
jqpkg_true ftfix-ok '.iterations | all(.crashes[0].signature | test("^SIGSEGV \\| .*string_at"))' \
	"clone stops: every crash signed from its native stack"
jqpkg_true ftfix-ok '.iterations | all(.crashes[0].tid > 0 and .crashes[0].tid != .crashes[0].pid)' \
	"clone stops: the crashing thread is named, not the main one"

mv "$TEST_TMP/results" "$TEST_TMP/results-1"
run_fixtures ftfix-ok --iterations 3 --tracer ptrace --no-detect-extensions --seize-threads \
	--test-command-override "python -c '$code'"
note "seized: $(jqpkg ftfix-ok '[.iterations[] | .crashes[0] | {signature, no_crash_stop}]')"
jqpkg_true ftfix-ok '[.iterations[] | .status] | all(. == "crash")' "seized: every iteration crashes"
jqpkg_true ftfix-ok '.iterations | all(.crashes[0] | ((.signature // "") | test("string_at")) or ((.no_crash_stop // "") | test("not seized yet")))' \
	"seized: each crash is signed natively or says its thread was not seized yet"
jqpkg_true ftfix-ok '.iterations | all(.crash_signature | test("string_at"))' \
	"seized: each iteration is signed (natively, else from faulthandler's frame)"
done_testing
