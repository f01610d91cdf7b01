#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# A wait-for cycle in which every owner is read from a lock word (here two pthread mutexes
# taken in opposite order) is a deadlock the moment it is seen: `ftscope run` says so
# without waiting for --deadlock-window (60 s here), and also when another thread of the
# tree keeps running (10 ms sleeps), which the window rule ("every thread blocked") would
# never call a deadlock. The hang's snapshot holds the certain cycle.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd cc

"$FIXTURES/native/build.sh" "$TEST_TMP/native" >/dev/null 2>&1 || bail_out "native fixtures did not build"
chmod -R a+rX "$TEST_TMP/native"

tracers=ptrace
"$FTSCOPE" doctor 2>/dev/null | grep -q "ok.*eBPF recorder" && tracers="ptrace ebpf"
n=0
for tracer in $tracers; do
	for mode in plain busy; do
		n=$((n + 1))
		[ -d "$TEST_TMP/results" ] && mv "$TEST_TMP/results" "$TEST_TMP/results-$n"
		run_fixtures ftfix-ok --iterations 1 --tracer "$tracer" --no-detect-extensions \
			--deadlock-window 60 --timeout 40 \
			--test-command-override "$TEST_TMP/native/deadlock_native $mode"
		what="$tracer, $mode"
		note "$what: $(jqpkg ftfix-ok '.iterations[0] | {status, killed_by, duration_s, tracer, hang: (.hang | {reason, detected_after_s})}')"
		is "$(jqpkg ftfix-ok .iterations[0].status)" deadlock "$what: the iteration is a deadlock"
		is "$(jqpkg ftfix-ok .iterations[0].tracer)" "$tracer" "$what: traced with $tracer"
		jqpkg_true ftfix-ok '.iterations[0].duration_s < 15' \
			"$what: decided in seconds, not after the 60 s window or the 40 s timeout"
		jqpkg_true ftfix-ok '[.iterations[0].hang.cycles[] | select(.certain)] | length == 1' \
			"$what: the hang names one certain cycle"
		f=$RUN_DIR/$(jqpkg ftfix-ok .iterations[0].artifacts)/$(jqpkg ftfix-ok .iterations[0].forensics)
		if [ -f "$f" ]; then
			is "$(jq '[.[] | select(.reason == "deadlock") | .cycles[] | select(.certain)] | length' "$f")" 1 \
				"$what: the snapshot has the certain cycle"
			is "$(jq '[.[] | select(.reason == "deadlock") | .processes[].threads[] | select(.wait.lock == "pthread_mutex" and .wait.owner_certain)] | length' "$f")" 2 \
				"$what: both waits are pthread mutexes with their owners read from the lock word"
		else
			fail "$what: forensics file $f"
		fi
	done
done
done_testing
