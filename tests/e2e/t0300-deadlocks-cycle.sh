#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# The Python lock-order deadlock under the ptrace tracer: the snapshot taken before the kill
# shows both worker threads in their Python functions at the `with` lines, each waiting on a
# threading.Lock held by the other, and the wait-for cycle with both TIDs; `ftscope
# deadlocks` prints it for a person.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-deadlock
SRC=$FIXTURES/pkgs/$P/ftfix_deadlock/__init__.py
# The lines of the inner `with` in each worker: where each thread blocks.
line_ab=$(awk '/^def _a_to_b/{f=1} f && /with acc.lock_b:/{print NR; exit}' "$SRC")
line_ba=$(awk '/^def _b_to_a/{f=1} f && /with acc.lock_a:/{print NR; exit}' "$SRC")

run_fixtures $P --iterations 1 --timeout 120 --deadlock-window 2 --tracer ptrace
is "$FTSCOPE_RC" 0 "ftscope run exits 0"
is "$(jqpkg $P .category)" deadlock "category deadlock"
jqpkg_true $P '.iterations[0].duration_s < 20' "verdict within seconds ($(jqpkg $P .iterations[0].duration_s) s)"
is "$(jqpkg $P .iterations[0].tracer)" ptrace "traced with ptrace"
is "$(jqpkg $P '.iterations[0].forensics')" forensics.json "forensics.json written"

F="$RUN_DIR/artifacts/$P/1/forensics.json"
ok test -s "$F" "artifacts/$P/1/forensics.json exists"
snap='.[] | select(.reason == "deadlock")'
t_ab=$(jqfile "$F" "$snap | .processes[].threads[] | select(any(.frames[]; .python and .function == \"_a_to_b\")) | .tid")
t_ba=$(jqfile "$F" "$snap | .processes[].threads[] | select(any(.frames[]; .python and .function == \"_b_to_a\")) | .tid")
like "$t_ab" '^[0-9]+$' "one thread is in _a_to_b (tid $t_ab)"
like "$t_ba" '^[0-9]+$' "one thread is in _b_to_a (tid $t_ba)"
is "$(jqfile "$F" "$snap | .processes[].threads[] | select(.tid == $t_ab) | [.frames[] | select(.python)][0] | \"\(.file | split(\"/\") | last):\(.line)\"")" \
	"__init__.py:$line_ab" "_a_to_b blocks at its inner \`with\` (line $line_ab)"
is "$(jqfile "$F" "$snap | .processes[].threads[] | select(.tid == $t_ba) | [.frames[] | select(.python)][0] | \"\(.file | split(\"/\") | last):\(.line)\"")" \
	"__init__.py:$line_ba" "_b_to_a blocks at its inner \`with\` (line $line_ba)"
is "$(jqfile "$F" "$snap | .processes[].threads[] | select(.tid == $t_ab) | .wait.lock")" threading.Lock \
	"it waits on a threading.Lock"
is "$(jqfile "$F" "$snap | .processes[].threads[] | select(.tid == $t_ab) | .wait.owner")" "$t_ba" \
	"_a_to_b's lock is held by the _b_to_a thread"
is "$(jqfile "$F" "$snap | .processes[].threads[] | select(.tid == $t_ba) | .wait.owner")" "$t_ab" \
	"_b_to_a's lock is held by the _a_to_b thread"
is "$(jqfile "$F" "$snap | .processes[].threads[] | select(.tid == $t_ab) | .frames | any(.function == \"_PyMutex_LockTimed\")")" \
	true "the native frames under it show the PyMutex slow path"
is "$(jqfile "$F" "[$snap | .cycles[] | .tids | sort] | tostring")" \
	"$(jq -rcn --argjson a "$t_ab" --argjson b "$t_ba" '[[$a, $b] | sort] | tostring')" \
	"the cycle is exactly the two workers"
is "$(jqpkg $P '.iterations[0].hang.cycles | length')" 1 "the results line carries the cycle"

run_ftscope deadlocks "$RUN_DIR" --package $P
is "$FTSCOPE_RC" 0 "ftscope deadlocks exits 0"
ok grep -q "Deadlock cycle.*thread $t_ab.*thread $t_ba\|Deadlock cycle.*thread $t_ba.*thread $t_ab" "$FTSCOPE_OUT" \
	"deadlocks prints the cycle with both TIDs"
ok grep -q "py   _a_to_b (.*__init__.py:$line_ab)" "$FTSCOPE_OUT" "deadlocks prints the Python frame"
ok grep -q "held by thread $t_ba" "$FTSCOPE_OUT" "deadlocks names the holder"
run_ftscope deadlocks "$RUN_DIR" --json
ok jq -e 'length == 1 and (.[0].snapshot.cycles[0].tids | length == 2)' "$FTSCOPE_OUT" "--json form"
done_testing
