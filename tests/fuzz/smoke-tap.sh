#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# TAP for prove from the last `make fuzz-smoke` (build/fuzz/smoke.result, written by
# run-fuzzers.sh --record): one test per fuzz target, so a crash found by the smoke run
# fails `make check` in prove's summary. Skips when the smoke run did not happen.
root=$(cd "$(dirname "$0")/../.." && pwd)
result=${FUZZ_SMOKE_RESULT:-$root/build/fuzz/smoke.result}
if [ ! -s "$result" ]; then
	reason=$(cat "$result.skip" 2>/dev/null)
	echo "1..0 # SKIP ${reason:-fuzz-smoke did not run}"
	exit 0
fi
n=0 bad=0
while read -r target status detail; do
	n=$((n + 1))
	if [ "$status" = ok ]; then
		echo "ok $n - $target: $detail"
	else
		echo "not ok $n - $target: $detail"
		bad=$((bad + 1))
	fi
done <"$result"
echo "1..$n"
[ $bad -eq 0 ]
