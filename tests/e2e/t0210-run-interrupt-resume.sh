#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Ctrl-C in the middle of a package: ftscope exits 130 leaving a valid, readable run
# directory marked "interrupted" and no stray process; --resume finishes it in place.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd perl

fixture_registry ok slow
mapfile -t dirs < <(ftscope_run_dirs)
pkgs=ftfix-ok,ftfix-slow
opts=(--target-python "$FT_PYTHON" --registry-dir "$REGISTRY" --packages "$pkgs"
	--iterations 4 --timeout 120 --stall-threshold 3 --deadlock-window 2 "${dirs[@]}")

# Background jobs of a non-interactive shell start with SIGINT ignored; perl resets it to
# the default before exec'ing ftscope, so ftscope sees SIGINT as from a terminal's Ctrl-C.
FTSCOPE_CMD="ftscope run ${opts[*]} (interrupted)" # for failure diagnostics
perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "exec: $!\n"' -- \
	"$FTSCOPE" run "${opts[@]}" >"$FTSCOPE_OUT" 2>"$FTSCOPE_ERR" </dev/null &
pid=$!

# Interrupt once ftfix-ok is done and ftfix-slow's first (6 s) iteration is under way.
started=
for _ in $(seq 1 600); do
	kill -0 "$pid" 2>/dev/null || break
	RUN_DIR=$(run_dir 2>/dev/null) || RUN_DIR=
	if [ -n "$RUN_DIR" ] && [ "$(pkg_line_count ftfix-ok)" -ge 1 ] &&
		[ -d "$RUN_DIR/artifacts/ftfix-slow/1" ]; then
		started=1
		break
	fi
	sleep 0.2
done
ok test -n "$started" "ftfix-ok finished and ftfix-slow's first iteration started"
sleep 1.5
kill -INT "$pid" 2>/dev/null
# Give it 30 s to clean up, then kill it.
for _ in $(seq 1 150); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.2
done
if kill -0 "$pid" 2>/dev/null; then
	fail "ftscope exits within 30 s of SIGINT"
	kill -KILL "$pid" 2>/dev/null
else
	pass "ftscope exits within 30 s of SIGINT"
fi
FTSCOPE_RC=0
wait "$pid" || FTSCOPE_RC=$?
is "$FTSCOPE_RC" 130 "ftscope exits 130 after SIGINT"
RUN_DIR=$(run_dir)

sleep 0.5
mapfile -t left < <(procs_under "$TEST_TMP")
is "${#left[@]}" 0 "no process of the run survives the interrupt"
[ ${#left[@]} -eq 0 ] || describe_pids "${left[@]}"

meta=$RUN_DIR/ft_meta.json
ok jq -e . "$meta" "ft_meta.json is valid JSON"
is "$(jqfile "$meta" .status)" interrupted "ft_meta.json status is interrupted"
ok jq -e -R 'fromjson' "$RUN_DIR/ft_results.jsonl" "every ft_results.jsonl line is valid JSON"
is "$(jqpkg ftfix-ok .category)" compatible "ftfix-ok, finished before the interrupt, is compatible"
is "$(jqpkg ftfix-ok .interrupted)" false "ftfix-ok is not interrupted"
is "$(jqpkg ftfix-ok .iterations_completed)" 4 "ftfix-ok completed 4 iterations"
is "$(jqpkg ftfix-slow .interrupted)" true "ftfix-slow has a line with interrupted true"
jqpkg_true ftfix-slow '.iterations_completed < 4' "ftfix-slow completed fewer than 4 iterations"
jqpkg_true ftfix-slow '[.iterations[] | select(.killed_by != null)] | all(.killed_by == "interrupt")' \
	"an iteration cut short is killed_by interrupt"

run_ftscope show "$RUN_DIR"
is "$FTSCOPE_RC" 0 "ftscope show reads the interrupted run"
ok grep -q ftfix-ok "$FTSCOPE_OUT" "ftscope show lists ftfix-ok"

run_ftscope run --resume "$RUN_DIR" "${opts[@]}"
is "$FTSCOPE_RC" 0 "ftscope run --resume exits 0"
is "$(run_dir)" "$RUN_DIR" "--resume completes the same run directory"
is "$(jqfile "$meta" .status)" complete "ft_meta.json status is complete"
is "$(pkg_line_count ftfix-ok)" 1 "ftfix-ok, already complete, is not run again"
for p in ftfix-ok ftfix-slow; do
	is "$(jqpkg $p .interrupted)" false "$p: last line is not interrupted"
	is "$(jqpkg $p .iterations_completed)" 4 "$p: 4 iterations completed"
	is "$(jqpkg $p .category)" compatible "$p: compatible"
done
jqpkg_true ftfix-slow '[.iterations[].index] == [1,2,3,4]' "ftfix-slow iterations are 1..4"
jqpkg_true ftfix-slow '.iterations | all(.status == "pass")' "ftfix-slow iterations all passed"
is "$(jqfile "$meta" '.resumed_at | length')" 1 "ft_meta.json records one resume"
is "$(jqfile "$meta" .packages_completed)" 2 "ft_meta.json packages_completed is 2"

done_testing
