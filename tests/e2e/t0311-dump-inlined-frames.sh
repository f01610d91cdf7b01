#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# `ftscope dump` of a native deadlock whose blocking lock is taken in functions the compiler
# inlined (inline_native, -O2 -g): each inlined function is a frame of its own, innermost
# first, marked inlined, at its own line (the innermost at the pc's line, the others where
# the next one was inlined), like gdb's backtrace of the same process. Without inline
# expansion the thread would show pthread_mutex_lock straight under inl_ab_thread.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_cmd cc

"$FIXTURES/native/build.sh" "$TEST_TMP/native" >/dev/null 2>&1 || bail_out "native fixtures did not build"
src=$FIXTURES/native/inline_native.c
line_of() { grep -n "$1" "$src" | head -1 | cut -d: -f1; }
l_lock=$(line_of 'pthread_mutex_lock(m); /\* blocks forever')
l_second=$(line_of '	take_second(second);')
l_pair=$(line_of '	take_pair(&lock_a, &lock_b);')

"$TEST_TMP/native/inline_native" &
pid=$!
for _ in $(seq 100); do
	n=$(grep -l '^202 ' /proc/$pid/task/*/syscall 2>/dev/null | wc -l)
	[ "$n" -ge 3 ] && break
	sleep 0.05
done

# A cache of our own, three ways: no cache (the units asked for), a first dump (tables
# saved afterwards), a dump from the saved tables. The same frames every time.
chain='.processes[0].threads[] | select(any(.frames[]; .function == "inl_ab_thread")) | [.frames[] | select(.module == "inline_native") | .function + (if .inlined then "*" else "" end) + "@" + ((.line // 0) | tostring)] | join(" ")'
want="take_second*@$l_lock take_pair*@$l_second inl_ab_thread@$l_pair"
for mode in none cold warm; do
	case $mode in
	none) cache= ;;
	*) cache=$TEST_TMP/symcache ;;
	esac
	FTSCOPE_SYMBOL_CACHE=$cache run_ftscope dump $pid --json
	is "$FTSCOPE_RC" 0 "dump exits 0 ($mode cache)"
	is "$(jqfile "$FTSCOPE_OUT" "$chain")" "$want" \
		"inlined frames, innermost first, each at its own line ($mode cache)"
	if [ "$mode" = cold ]; then
		# the tables are built by a child after the dump: wait for its lock
		for _ in $(seq 100); do
			ls "$cache"/*/*.inlines >/dev/null 2>&1 && flock -n "$cache/.build.lock" true && break
			sleep 0.1
		done
		ok sh -c 'ls "$1"/*/*.inlines' _ "$cache" "the inline tables are saved by build-id"
	fi
done
J=$TEST_TMP/dump.json
cp "$FTSCOPE_OUT" "$J"
is "$(jqfile "$J" '.processes[0].threads[] | select(any(.frames[]; .function == "inl_ab_thread")) | [.frames[] | select(.module == "inline_native")] | map(.offset) | unique | length')" 1 \
	"the inlined frames share their real frame's pc"
is "$(jqfile "$J" '.cycles | length')" 1 "the deadlock cycle is still found"

run_ftscope dump $pid --native
like "$(cat "$FTSCOPE_OUT")" "#[0-9]+ +take_second \\[inlined\\] in inline_native\\+0x[0-9a-f]+ \\(inline_native\\.c:$l_lock\\)" \
	"text: the inlined function, marked, at the blocking line"

if command -v gdb >/dev/null 2>&1; then
	tid=$(jqfile "$J" '.processes[0].threads[] | select(any(.frames[]; .function == "inl_ab_thread")) | .tid')
	gdb_chain=$(gdb -batch -p $pid -ex "thread find $tid" -ex "thread apply all bt" 2>/dev/null |
		awk -v t="LWP $tid" '/^Thread /{on = index($0, t) > 0} on && /^#/' |
		grep -oE '(take_second|take_pair|inl_ab_thread) \(' | tr -d ' (' | paste -sd' ')
	is "$gdb_chain" "take_second take_pair inl_ab_thread" "gdb shows the same chain"
else
	skip "gdb shows the same chain" "gdb is not installed"
fi
kill -9 $pid
wait $pid 2>/dev/null
done_testing
