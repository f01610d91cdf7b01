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

run_fixtures $P --iterations 1 --timeout 120 --deadlock-window 2 --tracer ptrace --fail-on crash,intermittent
is "$FTSCOPE_RC" 0 "ftscope run exits 0 (--fail-on names other categories)"
ok grep -q "^1 package deadlocked; who waits for whom, and where: ftscope deadlocks .*/ft_[0-9_]*$" "$FTSCOPE_OUT" \
	"the run points to ftscope deadlocks"
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

# The two `with` lines where each worker took its first lock.
take_ab=$(awk '/^def _a_to_b/{f=1} f && /with acc.lock_a:/{print NR; exit}' "$SRC")
take_ba=$(awk '/^def _b_to_a/{f=1} f && /with acc.lock_b:/{print NR; exit}' "$SRC")
run_ftscope deadlocks "$RUN_DIR" --package $P
is "$FTSCOPE_RC" 0 "ftscope deadlocks exits 0"
head -n 25 "$FTSCOPE_OUT" >story
ok grep -q "^$P: deadlock (lock-order cycle) in 1 of 1 iteration (1)" story "the story begins with the verdict"
ok grep -Eq "Cycle.*: \"(a_to_b|b_to_a)\" -> \"(a_to_b|b_to_a)\" -> " story "the cycle by thread names"
ok grep -q "^    \"a_to_b\" (thread $t_ab)" story "the a_to_b thread, by name and tid"
ok grep -q "holds acc.lock_a, taken at .*__init__.py:$take_ab  with acc.lock_a:" story \
	"a_to_b holds acc.lock_a, taken at line $take_ab"
ok grep -q "waits for acc.lock_b at .*__init__.py:$line_ab  with acc.lock_b:  (held by \"b_to_a\"" story \
	"a_to_b waits for acc.lock_b at line $line_ab, held by b_to_a"
ok grep -q "holds acc.lock_b, taken at .*__init__.py:$take_ba  with acc.lock_b:" story \
	"b_to_a holds acc.lock_b, taken at line $take_ba"
ok grep -q "waits for acc.lock_a at .*__init__.py:$line_ba  with acc.lock_a:  (held by \"a_to_b\"" story \
	"b_to_a waits for acc.lock_a at line $line_ba, held by a_to_b"
ok grep -q "\"MainThread\" (thread [0-9]*): Thread.join at .*__init__.py:[0-9]*  t1.join()" story \
	"the main thread: one line, Thread.join"
ok test "$(wc -l <"$FTSCOPE_OUT")" -lt 40 "the whole story is short ($(wc -l <"$FTSCOPE_OUT") lines)"
ok grep -q "ftscope deadlocks .* --full" "$FTSCOPE_OUT" "it says how to see the full stacks"
run_ftscope deadlocks "$RUN_DIR" --package $P --full
ok grep -q "Deadlock cycle.*thread $t_ab.*thread $t_ba\|Deadlock cycle.*thread $t_ba.*thread $t_ab" "$FTSCOPE_OUT" \
	"--full: the cycle with both TIDs"
ok grep -q "py   _a_to_b (.*__init__.py:$line_ab)" "$FTSCOPE_OUT" "--full: the merged stacks' Python frame"
ok grep -q "held by thread $t_ba \"b_to_a\"" "$FTSCOPE_OUT" "--full: the holder"
run_ftscope deadlocks "$RUN_DIR" --json
ok jq -e 'length == 1 and (.[0].snapshot.cycles[0].tids | length == 2)' "$FTSCOPE_OUT" "--json form"
done_testing
