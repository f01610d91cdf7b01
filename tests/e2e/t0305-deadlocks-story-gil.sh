#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# `ftscope deadlocks` groups iterations by what hung: two free-threaded iterations and two
# --compare-with-gil ones of the lock-order fixture are one story ("2 of 2 iterations, same
# cycle; also with the GIL: 2 of 2"), told from the GIL iterations' forensics.json too, with
# both thread names, the waiting and the taking lines in its first 25 lines and the whole
# output well under 80 lines; --full adds every iteration's stacks, GIL ones labelled.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-deadlock
SRC=$FIXTURES/pkgs/$P/ftfix_deadlock/__init__.py
at() { awk -v fn="$1" -v pat="$2" '$0 ~ "^def " fn {f=1} f && index($0, pat) {print NR; exit}' "$SRC"; }
run_fixtures $P --iterations 2 --compare-with-gil --timeout 120 --deadlock-window 2 --tracer ptrace \
	--fail-on deadlock,crash
is "$FTSCOPE_RC" 3 "--fail-on deadlock: the run exits 3"
ok grep -q "^--fail-on: 1 package in the given categories: $P (deadlock)$" "$FTSCOPE_OUT" "and says which package"
is "$(jqpkg $P '[.iterations[], .gil_enabled_iterations[] | .forensics] | join(",")')" \
	"forensics.json,forensics.json,forensics.json,forensics.json" "four iterations with forensics"

run_ftscope deadlocks "$RUN_DIR"
is "$FTSCOPE_RC" 0 "deadlocks exits 0"
head -n 25 "$FTSCOPE_OUT" >story
ok grep -q "^$P: deadlock (lock-order cycle) in 2 of 2 iterations (1, 2), same cycle; also with the GIL: 2 of 2 (gil-1, gil-2)$" story \
	"one group: 2 of 2, same cycle, also with the GIL"
is "$(grep -c "^$P: " "$FTSCOPE_OUT")" 1 "told once"
ok grep -q "\"a_to_b\" (thread" story "a_to_b by name"
ok grep -q "\"b_to_a\" (thread" story "b_to_a by name"
ok grep -q "holds acc.lock_a, taken at .*__init__.py:$(at _a_to_b 'with acc.lock_a:')  with acc.lock_a:" story "a_to_b's taking line"
ok grep -q "waits for acc.lock_b at .*__init__.py:$(at _a_to_b 'with acc.lock_b:')  with acc.lock_b:" story "a_to_b's waiting line"
ok grep -q "holds acc.lock_b, taken at .*__init__.py:$(at _b_to_a 'with acc.lock_b:')  with acc.lock_b:" story "b_to_a's taking line"
ok grep -q "waits for acc.lock_a at .*__init__.py:$(at _b_to_a 'with acc.lock_a:')  with acc.lock_a:" story "b_to_a's waiting line"
n=$(wc -l <"$FTSCOPE_OUT")
ok test "$n" -lt 40 "the story is short: $n lines for four iterations"

run_ftscope deadlocks "$RUN_DIR" --full
ok grep -q "^=== $P, iteration gil-2 (PYTHON_GIL=1)" "$FTSCOPE_OUT" "--full: the GIL iterations' stacks, labelled"
ok grep -q "^=== $P, iteration 1 (PYTHON_GIL=0)" "$FTSCOPE_OUT" "--full: the free-threaded ones"
run_ftscope deadlocks "$RUN_DIR" --json
is "$(jq -c '[.[] | .gil]' "$FTSCOPE_OUT")" "[false,false,true,true]" "--json: the GIL iterations too"
done_testing
