#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# `ftscope dump` of a native pthread lock-order deadlock: both threads wait in
# pthread_mutex_lock under their own functions, each mutex's owner is read from the lock word
# (certain, not inferred), and the cycle names both TIDs. The process stays as it was.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_cmd cc

"$FIXTURES/native/build.sh" "$TEST_TMP/native" >/dev/null 2>&1 || bail_out "native fixtures did not build"
"$TEST_TMP/native/deadlock_native" &
pid=$!
# Wait until both threads block in futex.
for _ in $(seq 100); do
	n=$(grep -l '^202 ' /proc/$pid/task/*/syscall 2>/dev/null | wc -l)
	[ "$n" -ge 2 ] && break
	sleep 0.05
done

run_ftscope dump $pid --json
is "$FTSCOPE_RC" 0 "ftscope dump exits 0"
J=$FTSCOPE_OUT
t_ab=$(jqfile "$J" '.processes[0].threads[] | select(any(.frames[]; .function == "lock_ab_thread")) | .tid')
t_ba=$(jqfile "$J" '.processes[0].threads[] | select(any(.frames[]; .function == "lock_ba_thread")) | .tid')
like "$t_ab" '^[0-9]+$' "a thread is in lock_ab_thread"
like "$t_ba" '^[0-9]+$' "a thread is in lock_ba_thread"
like "$(jqfile "$J" ".processes[0].threads[] | select(.tid == $t_ab) | [.frames[].function] | join(\" \")")" \
	'(__lll_lock_wait|pthread_mutex_lock).* lock_ab_thread' "native stack: mutex lock under lock_ab_thread"
is "$(jqfile "$J" ".processes[0].threads[] | select(.tid == $t_ab) | .wait.lock")" pthread_mutex "waits on a pthread mutex"
is "$(jqfile "$J" ".processes[0].threads[] | select(.tid == $t_ab) | .wait.owner")" "$t_ba" "owner of its mutex: the other thread"
is "$(jqfile "$J" ".processes[0].threads[] | select(.tid == $t_ab) | .wait.owner_certain")" true "read from the lock word"
is "$(jqfile "$J" ".processes[0].threads[] | select(.tid == $t_ba) | .wait.owner")" "$t_ab" "and the other way round"
is "$(jqfile "$J" '.cycles | length')" 1 "one cycle"
is "$(jqfile "$J" '.cycles[0].certain')" true "a certain cycle"
is "$(jqfile "$J" '.cycles[0].tids | sort | tostring')" "$(jq -rcn --argjson a "$t_ab" --argjson b "$t_ba" '[$a,$b] | sort | tostring')" \
	"the cycle is the two threads"
ok kill -0 $pid "the process is still alive after the dump"
is "$(awk '{print $3}' /proc/$pid/stat)" S "and sleeping, not stopped"
for t in $t_ab $t_ba; do
	like "$(cut -d' ' -f1 /proc/$pid/task/$t/syscall)" '^202$' "thread $t is back in futex"
done
run_ftscope dump $pid
ok grep -q "Deadlock cycle: thread" "$FTSCOPE_OUT" "the text form prints the cycle"
kill -9 $pid
wait $pid 2>/dev/null
done_testing
