#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Run ftscope's libFuzzer targets (built by `make fuzz-build` into BUILD/fuzz/).
#
#   run-fuzzers.sh --check CC            exit 0 if CC can build libFuzzer targets
#   run-fuzzers.sh [--record FILE] BUILD SECONDS TARGET...
#
# Each target runs SECONDS seconds from the seeds in tests/fuzz/corpus/<target>/; new inputs
# go to BUILD/fuzz/corpus/<target>/, crashing inputs to BUILD/fuzz/artifacts/<target>-*,
# the full output to BUILD/fuzz/<target>.log. One line per target is printed. Exit 1 if a
# target crashed, leaked or timed out -- unless --record: then "<target> ok|fail <detail>"
# lines go to FILE (read by smoke-tap.sh under prove) and the exit status is 0.
set -u

if [ "${1:-}" = --check ]; then
	cc=${2:-clang}
	command -v "$cc" >/dev/null 2>&1 || exit 1
	tmp=$(mktemp -d) || exit 1
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' \
		>"$tmp/t.c"
	"$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/t" "$tmp/t.c" >/dev/null 2>&1
	rc=$?
	rm -rf "$tmp"
	exit $rc
fi

record=
if [ "${1:-}" = --record ]; then
	record=$2
	shift 2
	: >"$record"
fi
if [ $# -lt 3 ]; then
	echo "usage: run-fuzzers.sh [--record FILE] BUILD SECONDS TARGET..." >&2
	exit 2
fi
build=$1 secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
failed=0
for t in "$@"; do
	bin=$build/fuzz/$t name=${t#fuzz_}
	corpus=$build/fuzz/corpus/$name seeds=$here/corpus/$name log=$build/fuzz/$t.log
	mkdir -p "$corpus" "$build/fuzz/artifacts"
	[ -d "$seeds" ] || seeds=
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$build/fuzz/artifacts/$t-" "$corpus" ${seeds:+"$seeds"} \
		>"$log" 2>&1 </dev/null
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		inputs=$(find "$corpus" -type f | wc -l)
		detail="${runs:-?} runs in ${secs}s, corpus $inputs inputs"
		echo "  FUZZ      $t: ok, $detail"
		[ -n "$record" ] && echo "$t ok $detail" >>"$record"
	else
		crash=$(grep -o "Test unit written to .*" "$log" | tail -1)
		what=$(grep -m1 -E \
			'^==[0-9]+==ERROR|^SUMMARY|runtime error|deadly signal|timeout' "$log")
		echo "  FUZZ      $t: FAILED (exit $rc): ${what:-see $log} ${crash}"
		tail -n 40 "$log" | sed 's/^/    /'
		[ -n "$record" ] && echo "$t fail exit $rc: ${what:-see $log} ${crash}" >>"$record"
		failed=1
	fi
done
[ -n "$record" ] && exit 0
exit $failed
