#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# SIGTERM outside the iterations: during a package's install ftscope stops within 2 s,
# kills the install's process tree, records no install_failure (the package is
# interrupted, with no verdict) and --resume finishes the run; while the interpreter is
# being profiled (before the run exists) it stops within 2 s and records nothing.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

# Seconds (with decimals) from $1 (an $EPOCHREALTIME) to now.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

# term_when PID FILE WHAT: once FILE exists (WHAT is under way), SIGTERM ftscope (PID) and
# check that it ends within 2 s with status 130; its status in $FTSCOPE_RC.
term_when() {
	local pid=$1 file=$2 what=$3 t0 took
	for _ in $(seq 1 1200); do
		[ -e "$file" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	ok test -e "$file" "$what"
	t0=$EPOCHREALTIME
	kill -TERM "$pid"
	for _ in $(seq 1 3000); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	FTSCOPE_RC=0
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		FTSCOPE_RC=timeout
	fi
	wait "$pid" || FTSCOPE_RC=$?
	took=$(since "$t0")
	ok awk -v t="$took" 'BEGIN { exit !(t < 2) }' \
		"ftscope ends within 2 s of SIGTERM (${took} s)"
	is "$FTSCOPE_RC" 130 "it exits 130"
}

# --- during an install
fixture_registry slowinstall
mkdir -p "$TEST_TMP/flag" && chmod 1777 "$TEST_TMP/flag"
flag=$TEST_TMP/flag/hold
touch "$flag"
mapfile -t dirs < <(ftscope_run_dirs)
opts=(--target-python "$FT_PYTHON" --registry-dir "$REGISTRY" --packages ftfix-slowinstall
	--iterations 2 --timeout 60 --env "FTFIX_SLOWINSTALL_FLAG=$flag" "${dirs[@]}")
FTSCOPE_CMD="ftscope run ${opts[*]} (SIGTERM during the install)"
"$FTSCOPE" run "${opts[@]}" >"$FTSCOPE_OUT" 2>"$FTSCOPE_ERR" </dev/null &
term_when $! "$flag.started" "the install started (and waits)"
sleep 0.3
mapfile -t left < <(procs_under "$TEST_TMP")
is "${#left[@]}" 0 "no process of the install survives"
[ ${#left[@]} -eq 0 ] || describe_pids "${left[@]}"
RUN_DIR=$(run_dir)
is "$(jqfile "$RUN_DIR/ft_meta.json" .status)" interrupted "ft_meta.json status is interrupted"
P=ftfix-slowinstall
is "$(jqpkg $P .interrupted)" true "the package is recorded as interrupted"
is "$(jqpkg $P .install_error)" null "with no install error"
is "$(jqpkg $P .category)" unknown "and no category (not install_failure)"
ok grep -q "ftscope run --resume" "$FTSCOPE_ERR" "ftscope says how to resume"

rm -f "$flag"
run_ftscope run --resume "$RUN_DIR"
is "$FTSCOPE_RC" 0 "--resume exits 0"
is "$(jqfile "$RUN_DIR/ft_meta.json" .status)" complete "the run is complete"
is "$(jqpkg $P .interrupted)" false "the package's last line is not interrupted"
is "$(jqpkg $P .category)" compatible "the package is compatible"
is "$(jqpkg $P .iterations_completed)" 2 "2 iterations"

# --- while the interpreter is profiled, before the run exists
slowpy=$TEST_TMP/slowpy/python3.13t
mkdir -p "${slowpy%/*}"
printf '#!/bin/sh\ntouch %s/profiling\nsleep 60\nexec %s "$@"\n' "$TEST_TMP/flag" \
	"$FT_PYTHON" >"$slowpy"
chmod 755 "$slowpy"
rm -rf "$TEST_TMP/results2"
"$FTSCOPE" run --target-python "$slowpy" --registry-dir "$REGISTRY" --packages $P \
	--results-dir "$TEST_TMP/results2" --repos-dir "$TEST_TMP/repos" \
	--venvs-dir "$TEST_TMP/venvs" >"$FTSCOPE_OUT" 2>"$FTSCOPE_ERR" </dev/null &
term_when $! "$TEST_TMP/flag/profiling" "the interpreter is being profiled"
like "$(cat "$FTSCOPE_ERR")" \
	"interrupted while the interpreter was being profiled.*nothing was recorded" \
	"and says nothing was recorded"
is "$(find "$TEST_TMP/results2" -mindepth 1 | wc -l)" 0 "no run directory was made"
mapfile -t left < <(procs_under "$TEST_TMP")
is "${#left[@]}" 0 "the profiling process is gone"
[ ${#left[@]} -eq 0 ] || describe_pids "${left[@]}"
done_testing
