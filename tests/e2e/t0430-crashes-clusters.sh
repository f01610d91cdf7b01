#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftscope crashes: on handwritten runs, near-identical signatures (2 of 3 frames in order)
# merge into one cluster with their variants, other signals and orders do not, child crashes
# are counted and marked, first/last seen follow the runs' order; then on two real runs of
# ftfix-segv + ftfix-abort under ptrace: two clusters, each counted across both runs, with a
# symbolized example stack naming the faulting C function.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_cmd jq

mkrun() { # DIR RUN_ID < JSONL
	mkdir -p "$1"
	jq -n --arg id "$2" '{run_id: $id, status: "complete"}' >"$1/ft_meta.json"
	jq -c . >"$1/ft_results.jsonl"
}
it() { # INDEX SIGNATURE ID [CHILD_SIGNATURE CHILD_ID]
	jq -nc --argjson i "$1" --arg s "$2" --arg id "$3" --arg cs "${4:-}" --arg cid "${5:-}" '
		{index: $i, status: "crash", crash_signal: ($s | split(" ")[0]), crash_signature: $s,
		 crash_signature_id: $id,
		 crashes: ([{pid: 100, signal: ($s | split(" ")[0]), runner: true, signature: $s,
			     signature_id: $id}] +
			   (if $cs == "" then [] else [{pid: 200, comm: "python", runner: false,
				signal: ($cs | split(" ")[0]), signature: $cs, signature_id: $cid}] end))}'
}
pkgline() { # NAME ITERATION_JSON...
	local n=$1
	shift
	printf '%s\n' "$@" | jq -sc --arg n "$n" '{package: $n, category: "crash", iterations: .}'
}
S1="SIGSEGV | dict_lookup | insertdict | setitem | py a.py:t"
S2="SIGSEGV | dict_lookup | insertdict | other | py b.py:u"   # 2 of 3 in order: merges
S3="SIGSEGV | insertdict | dict_lookup | py c.py:v"           # reversed: does not
S4="SIGABRT | dict_lookup | insertdict | setitem"              # another signal: does not
C1="SIGSEGV | strlen | string_at | py __init__.py:string_at"  # a child's
{
	pkgline pkg-a "$(it 1 "$S1" 1111111111111111)" "$(it 2 "$S2" 2222222222222222)"
	pkgline pkg-b "$(it 1 "$S3" 3333333333333333 "$C1" cccccccccccccccc)"
} | mkrun "$TEST_TMP/r1/ft_20260101_000000" ft_20260101_000000
{
	pkgline pkg-b "$(it 1 "$S1" 1111111111111111)" "$(it 2 "$S4" 4444444444444444)"
	echo '{"package": "pkg-c", "category": "compatible", "iterations": [{"index": 1, "status": "pass"}]}'
} | mkrun "$TEST_TMP/r2/ft_20260202_000000" ft_20260202_000000

# Given newest first: ordered by run id all the same.
run_ftscope crashes "$TEST_TMP/r2" "$TEST_TMP/r1/ft_20260101_000000" --json
is "$FTSCOPE_RC" 0 "crashes --json exits 0"
J=$TEST_TMP/c.json
cp "$FTSCOPE_OUT" "$J"
is "$(jqfile "$J" 'length')" 4 "four clusters: merged S1+S2, S3, S4, the child's"
is "$(jqfile "$J" '.[0] | "\(.id) \(.count) \(.variants | length)"')" "1111111111111111 3 2" \
	"the biggest cluster first: S1 (twice) with S2 merged in, named after S1"
is "$(jqfile "$J" '.[0].variants | map("\(.id):\(.count)") | join(",")')" \
	"1111111111111111:2,2222222222222222:1" "its variants, most frequent first"
is "$(jqfile "$J" '.[0].packages | to_entries | map("\(.key)=\(.value)") | join(",")')" \
	"pkg-a=2,pkg-b=1" "its packages with counts"
is "$(jqfile "$J" '.[0].runs | join(",")')" "ft_20260101_000000,ft_20260202_000000" "seen in both runs"
is "$(jqfile "$J" '.[0].first_seen | "\(.run) \(.package) \(.iteration)"')" \
	"ft_20260101_000000 pkg-a 1" "first seen"
is "$(jqfile "$J" '.[0].last_seen | "\(.run) \(.package) \(.iteration)"')" \
	"ft_20260202_000000 pkg-b 1" "last seen"
is "$(jqfile "$J" '.[0].frames | join(",")')" "dict_lookup,insertdict,setitem" "its frames"
is "$(jqfile "$J" '.[0].python_frame')" "a.py:t" "its Python frame"
is "$(jqfile "$J" '[.[] | select(.id == "3333333333333333")] | length')" 1 \
	"the reversed frames stay apart"
is "$(jqfile "$J" '[.[] | select(.id == "4444444444444444") | .signal] | join(",")')" SIGABRT \
	"another signal stays apart"
is "$(jqfile "$J" '.[] | select(.id == "cccccccccccccccc") | "\(.child_count) \(.runner_count) \(.first_seen.child)"')" \
	"1 0 true" "the child process's crash is counted and marked"
is "$(jqfile "$J" '[.[].example] | unique | tostring')" "[null]" "no forensics, no example"

FTSCOPE_SYMBOLS=ascii run_ftscope crashes "$TEST_TMP/r1" "$TEST_TMP/r2"
is "$FTSCOPE_RC" 0 "crashes exits 0"
out=$(ftscope_out)
like "$out" "Crash clusters: 4, from 6 crashes \\(5 in test runners, 1 in child processes\\) in 2 runs" "header"
like "$out" "\\[1\\] SIGSEGV  1111111111111111  3 crashes \\(test runner\\)" "first cluster line"
like "$out" "variants: +2 \\(signatures sharing >= 2 frames in order\\)" "variants listed"
like "$out" "2222222222222222 +1x  SIGSEGV \\| dict_lookup \\| insertdict \\| other" "the merged variant"
like "$out" "1 crash \\(child process the suite survived\\)" "the child crash is marked"

run_ftscope crashes "$TEST_TMP/r1" "$TEST_TMP/r2" --package pkg-a --json
is "$(jq -r '[.[].count] | add' "$FTSCOPE_OUT")" 2 "--package pkg-a: its two crashes"
run_ftscope crashes "$TEST_TMP/r2" --package pkg-c
is "$FTSCOPE_RC" 0 "a package without crashes: exit 0"
like "$(ftscope_out)" "No crashes in 1 run \\(ft_20260202_000000\\) for pkg-c" "and says so"
run_ftscope crashes "$TEST_TMP/r2" --package nope
is "$FTSCOPE_RC" 1 "an unknown package exits 1"
run_ftscope crashes
is "$FTSCOPE_RC" 2 "no RUN_DIR is a usage error (2)"
run_ftscope crashes --help
is "$FTSCOPE_RC" 0 "crashes --help exits 0"

# Real runs under ptrace.
if [ "$(id -u)" != 0 ] || [ -z "$FT_PYTHON" ]; then
	skip "real runs" "needs root and FT_PYTHON"
	done_testing
fi
fixture_registry segv abort
run_fixtures ftfix-segv,ftfix-abort --iterations 2 --timeout 120 --tracer ptrace --no-detect-extensions
is "$FTSCOPE_RC" 0 "run 1 exits 0"
mv "$TEST_TMP/results" "$TEST_TMP/results-1"
run_fixtures ftfix-segv,ftfix-abort --iterations 1 --timeout 120 --tracer ptrace --no-detect-extensions
is "$FTSCOPE_RC" 0 "run 2 exits 0"
crashes_in() { # RESULTS_DIR PKG
	jq -r --arg p "$2" 'select(.package == $p) | [.iterations[] | select(.status == "crash")] | length' \
		"$1"/ft_*/ft_results.jsonl
}
n_segv=$(($(crashes_in "$TEST_TMP/results-1" ftfix-segv) + $(crashes_in "$TEST_TMP/results" ftfix-segv)))
n_abort=$(($(crashes_in "$TEST_TMP/results-1" ftfix-abort) + $(crashes_in "$TEST_TMP/results" ftfix-abort)))
note "segv crashed $n_segv times, abort $n_abort times"

run_ftscope crashes "$TEST_TMP/results-1" "$TEST_TMP/results" --json
is "$FTSCOPE_RC" 0 "crashes over both runs exits 0"
cp "$FTSCOPE_OUT" "$J"
is "$(jqfile "$J" 'length')" 2 "two clusters"
is "$(jqfile "$J" '[.[] | select(.signal == "SIGSEGV")][0] | "\(.count) \(.frames[0]) \(.packages | keys | join(","))"')" \
	"$n_segv ftfix_segv_poke_impl ftfix-segv" "the segfault: every crash, its frame, its package"
is "$(jqfile "$J" '[.[] | select(.signal == "SIGABRT")][0] | "\(.count) \(.frames[0])"')" \
	"$n_abort ftfix_abort_enter_impl" "the abort: every crash, its frame"
if [ "$(crashes_in "$TEST_TMP/results" ftfix-segv)" -ge 1 ] && [ "$(crashes_in "$TEST_TMP/results" ftfix-abort)" -ge 1 ]; then
	ok jq -e 'all(.runs | length == 2)' "$J" "each cluster is counted across both runs"
else
	skip "each cluster is counted across both runs" "a fixture did not crash in run 2"
fi
ok jq -e '[.[] | select(.signal == "SIGSEGV")][0].example.snapshot.processes[0].threads[0] |
	.crashed and (.frames[0].function == "ftfix_segv_poke_impl")' "$J" \
	"the segfault's example: the crashing thread, innermost frame ftfix_segv_poke_impl"

run_ftscope crashes "$TEST_TMP/results-1" "$TEST_TMP/results"
out=$(ftscope_out)
like "$out" "frames: +ftfix_segv_poke_impl \\| poke" "text: the frames"
like "$out" "example: +ft_[0-9_]+, ftfix-segv iteration [0-9]+ \\(.*forensics.json\\)" "text: where the example is from"
like "$out" "Thread [0-9]+ \"[^\"]*\" \\(CRASHED\\)" "text: the crashing thread"
like "$out" "#0 +ftfix_segv_poke_impl in _poke[^ ]*\\.so\\+0x[0-9a-f]+ \\(_poke\\.c:[0-9]+\\)" \
	"text: ftfix_segv_poke_impl symbolized with file:line"
like "$out" "py +test_concurrent_poke.<locals>.work" "text: the Python frame in the merged stack"
done_testing
