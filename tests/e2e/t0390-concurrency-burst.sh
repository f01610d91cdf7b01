#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# The concurrency flag is exact: ftfix-burst starts 20 bursts of 16 threads that meet the
# main thread at a barrier and end within a millisecond or so. The peak is 17 threads of one
# process, which /proc samples miss and clone/exit events count exactly: under ptrace
# (source "ptrace") and under eBPF (source "ebpf"), peak_threads is 17 and the package's
# concurrency_exercised is true, by its own threads.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-burst
run_fixtures $P --iterations 2 --timeout 120 --tracer ptrace
is "$FTSCOPE_RC" 0 "run --tracer ptrace exits 0"
note "ptrace: $(jqpkg $P '[.iterations[].concurrency] | tostring')"
jqpkg_true $P 'all(.iterations[]; .concurrency.peak_threads == 17 and
	.concurrency.source == "ptrace")' "ptrace: peak_threads is exactly 17, from ptrace"
jqpkg_true $P '.concurrency_exercised and (.concurrency_exercised_by | index("own_threads"))' \
	"ptrace: concurrency exercised, by its own threads"

mv "$TEST_TMP/results" "$TEST_TMP/results-ptrace"
run_ftscope doctor
if grep -q "ok.*eBPF recorder" "$FTSCOPE_OUT"; then
	run_fixtures $P --iterations 2 --timeout 120 --tracer ebpf
	is "$FTSCOPE_RC" 0 "run --tracer ebpf exits 0"
	note "ebpf: $(jqpkg $P '[.iterations[].concurrency] | tostring')"
	jqpkg_true $P 'all(.iterations[]; .concurrency.peak_threads == 17 and
		.concurrency.source == "ebpf")' "ebpf: peak_threads is exactly 17"
	# both interval counters lose a window when a 1->2 and a 2->1 transition race on two
	# CPUs, so they are not compared; both are there, within the threads' CPU time
	jqpkg_true $P 'all(.iterations[].recorder.concurrency; (.cpu_overlap_ms | type == "number")
		and (.cpu_overlap_tree_ms | type == "number") and .cpu_overlap_ms <= .on_cpu_ms)' \
		"ebpf: per-process and tree overlap reported"
else
	skip "eBPF" "doctor: BPF not available here"
fi
done_testing
