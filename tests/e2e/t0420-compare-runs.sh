#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftscope compare: on two handwritten runs, every kind of change (category transitions both
# ways, a pass-rate change within a category and one under 5 points, crash signatures new,
# resolved and persisting, deadlocks new and resolved, packages added and removed, the
# aggregate counts); then on two real runs (ftfix-ok + ftfix-segv, then ftfix-ok +
# ftfix-race), where the segfault's signature is resolved.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_cmd jq

# mkrun DIR RUN_ID: a run directory whose ft_results.jsonl is stdin (one JSON per line).
mkrun() {
	mkdir -p "$1"
	jq -n --arg id "$2" '{run_id: $id, status: "complete"}' >"$1/ft_meta.json"
	jq -c . >"$1/ft_results.jsonl"
}
pkg() { # NAME CATEGORY PASS_RATE CRASHES DEADLOCKS ITERATIONS_JSON
	jq -nc --arg n "$1" --arg c "$2" --argjson r "$3" --argjson cr "$4" --argjson dl "$5" \
		--argjson it "$6" '{package: $n, category: $c, pass_rate: $r, crash_count: $cr,
		deadlock_count: $dl, iterations_completed: ($it | length), iterations: $it}'
}
SEGV='{"index":1,"status":"crash","crash_signal":"SIGSEGV","crash_signature":"SIGSEGV | f | g | py a.py:t","crash_signature_id":"aaaaaaaaaaaaaaaa"}'
PERSIST='{"index":1,"status":"crash","crash_signal":"SIGBUS","crash_signature":"SIGBUS | h | k","crash_signature_id":"bbbbbbbbbbbbbbbb"}'
LABEILLE='{"index":2,"status":"crash","crash_signal":"SIGABRT","crash_signature":"SIGABRT: Fatal Python error: Aborted"}'
PASS='{"index":2,"status":"pass"}'
{
	pkg p-fixed crash 0.5 1 0 "[$SEGV,$PASS]"
	pkg p-broke compatible 1 0 0 "[$PASS]"
	pkg p-hang deadlock 0 0 1 '[{"index":1,"status":"deadlock"}]'
	pkg p-better intermittent 0.5 0 0 "[$PASS]"
	pkg p-noise intermittent 0.5 0 0 "[$PASS]"
	pkg p-gone compatible 1 0 0 "[$PASS]"
	pkg p-persist crash 0 1 0 "[$PERSIST]"
} | mkrun "$TEST_TMP/A/ft_20260101_000000" ft_20260101_000000
{
	pkg p-fixed compatible 1 0 0 "[$PASS]"
	pkg p-broke deadlock 0 0 2 '[{"index":1,"status":"deadlock"},{"index":2,"status":"deadlock"}]'
	pkg p-hang compatible 1 0 0 "[$PASS]"
	pkg p-better intermittent 0.8 0 0 "[$PASS]"
	pkg p-noise intermittent 0.52 0 0 "[$PASS]"
	pkg p-new compatible 1 0 0 "[$PASS]"
	pkg p-persist crash 0 2 0 "[$PERSIST,$LABEILLE]"
} | mkrun "$TEST_TMP/B/ft_20260202_000000" ft_20260202_000000

run_ftscope compare "$TEST_TMP/A/ft_20260101_000000" "$TEST_TMP/B" --json
is "$FTSCOPE_RC" 0 "compare --json exits 0 (B given as its results directory)"
J=$TEST_TMP/cmp.json
cp "$FTSCOPE_OUT" "$J"
is "$(jqfile "$J" '.run_a + " " + .run_b')" "ft_20260101_000000 ft_20260202_000000" "run labels"
is "$(jqfile "$J" '[.improvements[].package] | join(",")')" "p-hang,p-fixed,p-better" \
	"improvements, largest severity change first; a +30-point pass rate counts"
is "$(jqfile "$J" '[.regressions[].package] | join(",")')" "p-broke" "regressions"
is "$(jqfile "$J" '.unchanged')" 2 "unchanged: the <5-point change and the persisting crash"
is "$(jqfile "$J" '.improvements[] | select(.package == "p-fixed") | .detail')" \
	"crash → compatible; pass rate 50% → 100%; crashes resolved" "p-fixed's detail (labeille's wording)"
is "$(jqfile "$J" '.regressions[0].detail')" "compatible → deadlock; pass rate 100% → 0%; new deadlocks" \
	"p-broke's detail"
is "$(jqfile "$J" '.improvements[] | select(.package == "p-better") | .pass_rate_delta')" 0.3 \
	"pass_rate_delta"
is "$(jqfile "$J" '.packages_only_in_a | join(",")')" p-gone "removed package"
is "$(jqfile "$J" '.packages_only_in_b | join(",")')" p-new "new package"
is "$(jqfile "$J" '[.crash_signatures.resolved[].id] | join(",")')" aaaaaaaaaaaaaaaa "resolved signature, by id"
is "$(jqfile "$J" '[.crash_signatures.persisting[] | "\(.id):\(.count_a):\(.count_b)"] | join(",")')" \
	"bbbbbbbbbbbbbbbb:1:1" "persisting signature with its counts"
is "$(jqfile "$J" '[.crash_signatures.new[].signature] | join(",")')" \
	"SIGABRT: Fatal Python error: Aborted" "a new signature without an id is matched by its text"
is "$(jqfile "$J" '.deadlocks.resolved | join(",")')" p-hang "resolved deadlock"
is "$(jqfile "$J" '.deadlocks.new | join(",")')" p-broke "new deadlock"
is "$(jqfile "$J" '.aggregate | "\(.compatible) \(.crash) \(.deadlock) \(.packages)"')" \
	"[2,3] [2,1] [1,1] [7,7]" "aggregate: compatible, crash, deadlock, packages"

FTSCOPE_SYMBOLS=ascii run_ftscope compare "$TEST_TMP/A/ft_20260101_000000" "$TEST_TMP/B/ft_20260202_000000"
is "$FTSCOPE_RC" 0 "compare exits 0"
out=$(ftscope_out)
like "$out" "Free-Threading Compatibility Changes: ft_20260101_000000 -> ft_20260202_000000" "title"
like "$out" "Improvements \\(3\\):" "improvements counted"
like "$out" "p-fixed +crash -> compatible; pass rate 50% -> 100%; crashes resolved" "an improvement line"
like "$out" "Regressions \\(1\\):" "regressions counted"
like "$out" "Unchanged: 2 packages" "unchanged"
like "$out" "New packages in ft_20260202_000000 \\(1\\): p-new" "new packages"
like "$out" "Removed from ft_20260202_000000 \\(1\\): p-gone" "removed packages"
like "$out" "Resolved \\(1\\):"$'\n'" +aaaaaaaaaaaaaaaa  SIGSEGV \\| f \\| g \\| py a.py:t" "resolved signature listed"
like "$out" "Deadlocks:"$'\n'"  Resolved \\(1\\): p-hang \\(1 in ft_20260101_000000\\)"$'\n'"  New \\(1\\): p-broke" \
	"deadlocks resolved and new"
like "$out" "Compatible: +2 -> 3 +\\(\\+1\\)" "aggregate compatible"
like "$out" "Crashes: +2 -> 1 +\\(-1\\)" "aggregate crashes"
like "$out" "Deadlocks: +1 -> 1 +\\(0\\)" "aggregate deadlocks"

run_ftscope compare "$TEST_TMP/A/ft_20260101_000000"
is "$FTSCOPE_RC" 2 "one run is a usage error (2)"
run_ftscope compare "$TEST_TMP/A/ft_20260101_000000" "$TEST_TMP/nope"
is "$FTSCOPE_RC" 1 "a missing run exits 1"
run_ftscope compare --help
is "$FTSCOPE_RC" 0 "compare --help exits 0"

# Real runs: the segfaulting package goes, the racing one comes.
if [ "$(id -u)" != 0 ] || [ -z "$FT_PYTHON" ]; then
	skip "real runs" "needs root and FT_PYTHON"
	done_testing
fi
fixture_registry ok segv race
run_fixtures ftfix-ok,ftfix-segv --iterations 2 --timeout 120 --no-detect-extensions
is "$FTSCOPE_RC" 0 "run A exits 0"
A=$RUN_DIR
mv "$TEST_TMP/results" "$TEST_TMP/results-A"
A=$TEST_TMP/results-A/${A##*/}
run_fixtures ftfix-ok,ftfix-race --iterations 2 --timeout 120 --no-detect-extensions
is "$FTSCOPE_RC" 0 "run B exits 0"
B=$RUN_DIR
segv_id=$(jq -r 'select(.package == "ftfix-segv") | [.iterations[] | select(.status == "crash")][0].crash_signature_id' \
	"$A/ft_results.jsonl")
note "segv crash signature id: $segv_id"
if [ "$segv_id" = null ]; then
	skip "real-run comparison" "ftfix-segv did not crash in run A (it does in ~95% of runs)"
	done_testing
fi

run_ftscope compare "$A" "$B" --json
is "$FTSCOPE_RC" 0 "compare A B exits 0"
cp "$FTSCOPE_OUT" "$J"
is "$(jqfile "$J" '[.crash_signatures.resolved[] | select(.packages_a == ["ftfix-segv"]) | .id] | join(",")')" \
	"$segv_id" "the segfault's signature is resolved"
is "$(jqfile "$J" '.crash_signatures.new | length')" 0 "no new crash signature"
is "$(jqfile "$J" '.packages_only_in_a | join(",")')" ftfix-segv "ftfix-segv only in A"
is "$(jqfile "$J" '.packages_only_in_b | join(",")')" ftfix-race "ftfix-race only in B"
ncrash() { jq -s '[.[] | select(.category == "crash")] | length' "$1/ft_results.jsonl"; }
is "$(jqfile "$J" '.aggregate.crash | join(" ")')" "$(ncrash "$A") $(ncrash "$B")" \
	"aggregate Crashes a -> b: the crash packages of each run"
FTSCOPE_SYMBOLS=ascii run_ftscope compare "$A" "$B"
like "$(ftscope_out)" "ftfix-segv \\(package not in the second run\\): [0-9]+ crash" \
	"the text says why the signature went away"
done_testing
