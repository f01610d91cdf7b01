#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# A survey in shards: `run --shard K/N` takes floor or ceil of P/N of the selection (--list
# shows which), `merge` joins three shards into one run whose categories, counts and report
# are the single host's; show, crashes, export (and the other readers) read it. Merging a
# shard with itself, the same package twice, other options or another interpreter version
# are refused with the difference named; a missing shard gives a partial run that
# `run --resume` finishes with just the missing packages.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd jq

# Packages whose category does not depend on luck (no race fixture here).
fixture_registry ok nogil importfail segv
mapfile -t dirs < <(ftscope_run_dirs)
base=(--target-python "$FT_PYTHON" --registry-dir "$REGISTRY" "${dirs[@]}")
all="ftfix-ok ftfix-nogil ftfix-importfail ftfix-segv"

# ---- the assignment, without running anything
for n in 1 2 3 4 5 6; do
	got=() sizes=()
	for k in $(seq 1 "$n"); do
		run_ftscope run "${base[@]}" --shard "$k/$n" --list
		mapfile -t part <"$FTSCOPE_OUT"
		got+=("${part[@]}")
		sizes+=("${#part[@]}")
	done
	lo=$((4 / n)) hi=$(((4 + n - 1) / n)) balanced=1
	for s in "${sizes[@]}"; do
		[ "$s" -eq "$lo" ] || [ "$s" -eq "$hi" ] || balanced=0
	done
	is "$(printf '%s\n' "${got[@]}" | sort | tr '\n' ' ')" \
		"$(printf '%s\n' $all | sort | tr '\n' ' ')" "N=$n: every package in exactly one shard"
	is "$balanced" 1 "N=$n: shard sizes ${sizes[*]} are floor or ceil of 4/$n"
done
# --list writes nothing: not the repos/venvs/results directories it was given, nor, run in
# an empty directory without them, the ./repos, ./venvs, ./results it would use.
is "$(find "$TEST_TMP/repos" "$TEST_TMP/venvs" "$TEST_TMP/results" 2>/dev/null)" "" \
	"--list created none of the directories given to it"
mkdir "$TEST_TMP/list-cwd"
cd "$TEST_TMP/list-cwd" || exit 1
run_ftscope run --target-python "$FT_PYTHON" --registry-dir "$REGISTRY" --offline --shard 1/2 --list
cd - >/dev/null || exit 1
is "$FTSCOPE_RC/$(ftscope_out | tr '\n' ' ')" "0/ftfix-ok ftfix-importfail " "--list in an empty directory lists shard 1/2"
is "$(find "$TEST_TMP/list-cwd" -mindepth 1)" "" "and leaves the directory empty"
run_ftscope run "${base[@]}" --shard 2/3 --list
first=$(ftscope_out | tr '\n' ' ')
run_ftscope run "${base[@]}" --shard 2/3 --list
is "$(ftscope_out | tr '\n' ' ')" "$first" "the assignment is stable"
is "$first" "ftfix-nogil " "round-robin in registry order: shard 2/3 of 4 is the 2nd package"
run_ftscope run "${base[@]}" --top 3 --shard 1/2 --list
is "$(ftscope_out | tr '\n' ' ')" "ftfix-ok ftfix-importfail " "after --top: of 3 packages, shard 1/2 gets 1st and 3rd"
run_ftscope run "${base[@]}" --jobs 64 --list
like "$(ftscope_err)" "--jobs 64 on [0-9]+ CPUs leaves a package fewer than two cores" \
	"--jobs that leaves a package fewer than two cores warns"
run_ftscope run "${base[@]}" --jobs 1 --list
unlike "$(ftscope_err)" "fewer than two cores" "--jobs 1 does not"
run_ftscope run "${base[@]}" --shard 3/2 --list
is "$FTSCOPE_RC" 2 "--shard 3/2 is a usage error"
run_ftscope run "${base[@]}" --shard slurm --list
isnt_ok=$FTSCOPE_RC
like "$(ftscope_err)" "SLURM_ARRAY_TASK_ID is not set" "--shard slurm outside an array job says what is missing"
is "$((isnt_ok != 0))" 1 "and fails"
SLURM_ARRAY_TASK_ID=12 SLURM_ARRAY_TASK_MIN=10 SLURM_ARRAY_TASK_COUNT=3 \
	run_ftscope run "${base[@]}" --shard slurm --list
is "$(ftscope_out | tr '\n' ' ')" "ftfix-importfail " "--shard slurm: task 12 of 10-12 is shard 3/3"
JOB_COMPLETION_INDEX=1 run_ftscope run "${base[@]}" --shard k8s/3 --list
is "$(ftscope_out | tr '\n' ' ')" "ftfix-nogil " "--shard k8s/3: completion index 1 is shard 2/3"

# ---- three shards and one single-host run
opts=(--iterations 2 --timeout 120)
for k in 1 2 3; do
	run_into "s$k" "${base[@]}" "${opts[@]}" --shard "$k/3"
	is "$FTSCOPE_RC" 0 "shard $k/3 runs"
	eval "S$k=\$RUN_DIR"
done
run_into single "${base[@]}" "${opts[@]}"
SINGLE=$RUN_DIR
is "$(jq -c '[.shard.index, .shard.count, .packages_total]' "$S1/ft_meta.json")" "[1,3,2]" \
	"ft_meta.json: shard 1 of 3, with 2 packages"
is "$(jq -r '.selection.hash' "$S2/ft_meta.json")" "$(jq -r '.selection.hash' "$SINGLE/ft_meta.json")" \
	"a shard records the hash of the whole selection"
is "$(jq -r '.selection.packages | join(" ")' "$S3/ft_meta.json")" "$all" "and the selection"
is "$(jq -r '.result_options_hash' "$S3/ft_meta.json")" "$(jq -r '.result_options_hash' "$SINGLE/ft_meta.json")" \
	"and the hash of the options that change results"

M=$TEST_TMP/merged
run_ftscope merge -o "$M" "$S3" "$S1" "$S2"
is "$FTSCOPE_RC" 0 "merge of three shards"
summary() { # package category counts, sorted
	jq -r '[.package, .category, .iterations_completed, .pass_count, .fail_count,
		.crash_count, .deadlock_count, .timeout_count] | @tsv' "$1/ft_results.jsonl" | sort
}
is "$(summary "$M")" "$(summary "$SINGLE")" "merged = single run: categories and counts"
is "$(jq -r '.package' "$M/ft_results.jsonl" | tr '\n' ' ')" "$all " \
	"every package once, in selection order"
is "$(jq -r '.status' "$M/ft_meta.json")" complete "status complete"
is "$(jq -r '.packages_total' "$M/ft_meta.json")" 4 "packages_total: the whole selection"
is "$(jq -r '.merged_from | length' "$M/ft_meta.json")" 3 "merged_from lists the shards"
is "$(jq -r '.shard' "$M/ft_meta.json")" null "the merged run is no shard"
is "$(stat -c %h "$M/artifacts/ftfix-ok/1/stdout")" 2 "artifacts are hard links"
# What a merged run is: each shard's host, system profile, start, end and duration kept; the
# run's own start and end span the shards, its duration is that wall time, and the shards'
# durations added up are named as such.
is "$(jq -r '[.merged_from[] | (.system_profile.hostname == .hostname) and
	(.duration_s > 0) and (.started_at != null) and (.finished_at != null)] | all' "$M/ft_meta.json")" \
	true "merged_from: every shard's host, system profile, start, end and duration"
is "$(jq -r '.started_at' "$M/ft_meta.json")" \
	"$(jq -rs 'map(.started_at) | min' "$S1/ft_meta.json" "$S2/ft_meta.json" "$S3/ft_meta.json")" \
	"started_at: the earliest shard's start"
is "$(jq -r '.finished_at' "$M/ft_meta.json")" \
	"$(jq -rs 'map(.finished_at) | max' "$S1/ft_meta.json" "$S2/ft_meta.json" "$S3/ft_meta.json")" \
	"finished_at: the latest shard's end"
is "$(jq -r '.total_duration_s == ((.finished_at | fromdateiso8601) - (.started_at | fromdateiso8601))' \
	"$M/ft_meta.json")" true "total_duration_s: the wall time from the first start to the last end"
sum=$(jq -s 'map(.total_duration_s) | add' "$S1/ft_meta.json" "$S2/ft_meta.json" "$S3/ft_meta.json")
is "$(jq -r --argjson sum "$sum" '(.shards_duration_sum_s - $sum) | fabs < 0.011' "$M/ft_meta.json")" \
	true "shards_duration_sum_s: the shards' durations added up"
host=$(jq -r '.system_profile.hostname' "$S1/ft_meta.json")
is "$(jq -r '.system_profile.hostname + " " + .system_profile.cpu_model' "$M/ft_meta.json")" \
	"$host $(jq -r '.system_profile.cpu_model' "$S1/ft_meta.json")" \
	"system_profile: what the shards' one host had"
is "$(jq -r '.system_profile.timestamp' "$M/ft_meta.json")" null \
	"and null where the shards' profiles differ (the moment each was taken)"
report_norm() { grep -v -E '^- \*\*(Run|Date):|^\*Generated by' "$1"; }
run_ftscope report "$M" --format markdown -o "$TEST_TMP/m.md"
is "$FTSCOPE_RC" 0 "report reads the merged run"
run_ftscope report "$SINGLE" --format markdown -o "$TEST_TMP/s.md"
is "$(report_norm "$TEST_TMP/m.md")" "$(report_norm "$TEST_TMP/s.md")" \
	"report identical to the single run's but for the run line (id, merged from) and times"
like "$(cat "$TEST_TMP/m.md")" "- \*\*Run:\*\* [^ ]* \(complete; merged from 3 shards on host $host\)" \
	"the report says it was merged from 3 shards, and on which host"
like "$(cat "$TEST_TMP/m.md")" "- \*\*Date:\*\* .* \(.*; .* in its 3 shards together\)" \
	"and the shards' durations added up next to its wall time"
run_ftscope show "$M"
is "$FTSCOPE_RC" 0 "show reads it"
like "$(ftscope_out)" "Run: merged \(complete\)" "as a complete run"
like "$(ftscope_out)" "Merged from: 3 shards on host $host" "merged from 3 shards on one host"
like "$(ftscope_out)" "ftfix-segv +! crash" "with its packages"
# Shards on different hosts: the run names them all, and each kind of system with its hosts.
cp -a "$S3" "$TEST_TMP/nodeb"
jq '.system_profile.hostname = "node-b" | .system_profile.cpu_model = "Other CPU" |
	.system_profile.cpu_cores_logical = 64' "$S3/ft_meta.json" >"$TEST_TMP/nodeb/ft_meta.json"
run_ftscope merge -o "$TEST_TMP/m2" "$S1" "$S2" "$TEST_TMP/nodeb"
is "$FTSCOPE_RC" 0 "merge of shards from two hosts"
is "$(jq -r '[.system_profile.hostname, .system_profile.cpu_model] | @json' "$TEST_TMP/m2/ft_meta.json")" \
	'[null,null]' "system_profile: no one host's name or CPU for the whole run"
is "$(jq -r '[.merged_from[].system_profile.hostname] | join(" ")' "$TEST_TMP/m2/ft_meta.json")" \
	"$host $host node-b" "merged_from keeps each shard's own"
run_ftscope show "$TEST_TMP/m2"
like "$(ftscope_out)" "Merged from: 3 shards on hosts $host, node-b" "show names both hosts"
like "$(ftscope_out)" "Systems: .* on $host; Other CPU, 64 CPUs, .* on node-b" \
	"and each kind of system with its hosts"
run_ftscope report "$TEST_TMP/m2" --format markdown -o "$TEST_TMP/m2.md"
like "$(cat "$TEST_TMP/m2.md")" "- \*\*Systems:\*\* .* on $host; Other CPU, 64 CPUs, .* on node-b" \
	"so does the report"
run_ftscope crashes "$M"
is "$FTSCOPE_RC" 0 "crashes reads it"
like "$(ftscope_out)" "ftfix-segv \(2\)" "both crashes of ftfix-segv"
like "$(ftscope_out)" "merged/artifacts/ftfix-segv/1/forensics.json" "with the merged run's snapshot"
run_ftscope export "$M" --format csv
is "$FTSCOPE_RC" 0 "export reads it"
is "$(ftscope_out | tail -n +2 | cut -d, -f1,2 | sort | tr '\n' ' ')" \
	"ftfix-importfail,import_failure ftfix-nogil,compatible_gil_fallback ftfix-ok,compatible ftfix-segv,crash " \
	"export: every package with its category"
for cmd in flaky compat deadlocks; do
	run_ftscope "$cmd" "$M"
	is "$FTSCOPE_RC" 0 "$cmd reads it"
done
run_ftscope compare "$SINGLE" "$M" --json
is "$(jq -r '.unchanged' "$FTSCOPE_OUT")" 4 "compare: the single run and the merged one agree"

# ---- refusals
run_ftscope merge -o "$TEST_TMP/x1" "$S1" "$S1"
is "$FTSCOPE_RC" 1 "merging a shard with itself is refused"
like "$(ftscope_err)" "given twice: merging a run with itself" "saying so"
ok test ! -e "$TEST_TMP/x1" "and leaves no output"
cp -a "$S1" "$TEST_TMP/copy1"
run_ftscope merge -o "$TEST_TMP/x2" "$S1" "$TEST_TMP/copy1"
is "$FTSCOPE_RC" 1 "the same packages in two runs are refused"
like "$(ftscope_err)" "package 'ftfix-ok' is in two of the runs" "naming the package"
cp -a "$S2" "$TEST_TMP/iters"
jq '.config.iterations = 3' "$S2/ft_meta.json" >"$TEST_TMP/iters/ft_meta.json"
run_ftscope merge -o "$TEST_TMP/x3" "$S1" "$TEST_TMP/iters"
is "$FTSCOPE_RC" 1 "other options are refused"
like "$(ftscope_err)" "different iterations: 2 vs 3" "naming the option and both values"
jq '.python_profile.version = "3.13.0"' "$S2/ft_meta.json" >"$TEST_TMP/iters/ft_meta.json"
run_ftscope merge -o "$TEST_TMP/x4" "$S1" "$TEST_TMP/iters"
like "$(ftscope_err)" "different python.version: \"3.13.[0-9]+\" vs \"3.13.0\"" \
	"another interpreter version is refused, named"
jq '.selection.hash = "0123456789abcdef"' "$S2/ft_meta.json" >"$TEST_TMP/iters/ft_meta.json"
run_ftscope merge -o "$TEST_TMP/x5" "$S1" "$TEST_TMP/iters"
like "$(ftscope_err)" "shards of different selections" "another selection is refused"
run_ftscope merge -o "$M" "$S1"
like "$(ftscope_err)" "exists already" "an existing output is refused"

# A symlink in a shard's artifacts is not followed into the merged run.
cp -a "$S3" "$TEST_TMP/evil3"
mkdir -p "$TEST_TMP/evil3/artifacts/ftfix-importfail"
ln -s /etc/shadow "$TEST_TMP/evil3/artifacts/ftfix-importfail/leak"
run_ftscope merge -o "$TEST_TMP/x6" "$S1" "$S2" "$TEST_TMP/evil3"
is "$FTSCOPE_RC" 0 "a merge with a planted symlink goes on"
ok test ! -e "$TEST_TMP/x6/artifacts/ftfix-importfail/leak" "without taking the symlink"
ok test -d "$TEST_TMP/x6/artifacts/ftfix-importfail" "but with the rest of that package's artifacts"

# Another file system: the artifacts are copied (a hard link cannot cross it).
if [ "$(stat -c %d /dev/shm 2>/dev/null)" != "$(stat -c %d "$TEST_TMP")" ] && [ -d /dev/shm ]; then
	SHM=$(mktemp -d /dev/shm/ftscope-t0260.XXXXXX)
	cp -a "$S2" "$SHM/s2"
	run_ftscope merge -o "$TEST_TMP/x7" "$S1" "$SHM/s2" "$S3"
	like "$(ftscope_out)" "[1-9][0-9]* copied" "from another file system the artifacts are copied"
	is "$(cat "$TEST_TMP/x7/artifacts/ftfix-nogil/1/stdout")" "$(cat "$S2/artifacts/ftfix-nogil/1/stdout")" \
		"with their content"
	is "$(stat -c %h "$TEST_TMP/x7/artifacts/ftfix-nogil/1/stdout")" 1 "as files of their own"
	rm -rf "$SHM"
else
	skip "copies across file systems" "/dev/shm is on the test directory's file system"
fi

# ---- a missing shard, then --resume
P=$TEST_TMP/partial
run_ftscope merge -o "$P" "$S1" "$S3"
is "$FTSCOPE_RC" 0 "merging two of three shards works"
like "$(ftscope_out)" "not finished: ftfix-nogil" "and says which package is missing"
is "$(jq -r '.status' "$P/ft_meta.json")" partial "status partial"
is "$(jq -r '.packages_missing | join(",")' "$P/ft_meta.json")" ftfix-nogil "packages_missing"
run_ftscope show "$P"
like "$(ftscope_out)" "partial: merged without every shard, 3 of 4 packages" "show says partial"
# The partial merge merged again with the missing shard: OUT was merged from the three shards,
# not from a merge and a shard (merged_from flat, their durations summed).
run_ftscope merge -o "$TEST_TMP/mm" "$P" "$S2"
is "$FTSCOPE_RC" 0 "a partial merge merged with the missing shard"
is "$(jq -r '.status' "$TEST_TMP/mm/ft_meta.json")" complete "is complete"
is "$(summary "$TEST_TMP/mm")" "$(summary "$SINGLE")" "and equals the single run"
is "$(jq -r '[.merged_from[].shard.index] | sort | map(tostring) | join(" ")' "$TEST_TMP/mm/ft_meta.json")" \
	"1 2 3" "merged_from: the three shards, flat (no merge inside)"
is "$(jq -r --argjson sum "$sum" '(.shards_duration_sum_s - $sum) | fabs < 0.011' "$TEST_TMP/mm/ft_meta.json")" \
	true "shards_duration_sum_s: the three shards' durations added up"
run_ftscope show "$TEST_TMP/mm"
like "$(ftscope_out)" "Merged from: 3 shards on host $host" "show: merged from 3 shards"
sum_before=$(jq -r '.shards_duration_sum_s' "$P/ft_meta.json")
run_ftscope run --resume "$P"
is "$FTSCOPE_RC" 0 "run --resume on the partial merge"
is "$(jq -r --argjson b "$sum_before" '.shards_duration_sum_s > $b' "$P/ft_meta.json")" true \
	"the resume's time is added to the shards' summed durations"
like "$(ftscope_err)" "resuming: 1 of 4 packages left" "runs only the missing package"
is "$(jq -r '.status' "$P/ft_meta.json")" complete "then the run is complete"
is "$(jq -r '.packages_missing' "$P/ft_meta.json")" null "with nothing missing"
is "$(summary "$P")" "$(summary "$SINGLE")" "and equals the single run"

done_testing
