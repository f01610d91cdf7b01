#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# `ftscope dump` of a live Python process ftscope did not start: every thread with its
# Python frames; afterwards the process runs on and finishes normally.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

cat >live.py <<'PY'
import sys, threading
ev = threading.Event()
def waiting_worker():
    ev.wait()
ts = [threading.Thread(target=waiting_worker) for _ in range(3)]
for t in ts:
    t.start()
print("ready", flush=True)
sys.stdin.readline()          # the test says when to go on
ev.set()
for t in ts:
    t.join()
print("finished normally", flush=True)
PY
mkfifo in
"$FT_PYTHON" live.py <in >out &
pid=$!
exec 3>in
for _ in $(seq 100); do grep -q ready out 2>/dev/null && break; sleep 0.05; done

run_ftscope dump $pid --json
is "$FTSCOPE_RC" 0 "dump exits 0"
is "$(jqfile "$FTSCOPE_OUT" '.processes[0].python.version | startswith("3.13")')" true "Python 3.13 found"
is "$(jqfile "$FTSCOPE_OUT" '.processes[0].python.free_threaded')" true "free-threaded"
is "$(jqfile "$FTSCOPE_OUT" '.processes[0].threads | length')" 4 "four threads"
is "$(jqfile "$FTSCOPE_OUT" '[.processes[0].threads[] | select(any(.frames[]; .python and .function == "waiting_worker"))] | length')" 3 \
	"three threads in waiting_worker"
is "$(jqfile "$FTSCOPE_OUT" '[.processes[0].threads[] | select(.merged)] | length')" 4 "native and Python stacks merged"
is "$(jqfile "$FTSCOPE_OUT" '[.processes[0].threads[] | select(any(.frames[]; .python and .function == "<module>" and .line == 9))] | length')" 1 \
	"the main thread is at live.py:9"
ok kill -0 $pid "alive after the dump"

# The symbol cache (sorted symbols, flattened DWARF lines per build-id) changes nothing in
# what a dump says: no cache, first dump into an empty cache (answered from the ELF symbols
# and the DWARF units of the frames present; the whole tables are built and saved afterwards
# by a child of the dump, which holds symcache/.build.lock while it works), dump from the
# saved cache. Everything but the timing is the same, byte for byte, as JSON and as text.
frames() { jq -c '[.processes[0].threads[] | [.tid, [.frames[] | [.function, .module, .offset, .file, .line]]]]' "$1"; }
untimed() { sed -E 's/"(hold_ms|taken_at)":\t[^,]*,//' "$1"; }
FTSCOPE_SYMBOL_CACHE= run_ftscope dump $pid --json
cp "$FTSCOPE_OUT" nocache.json
FTSCOPE_SYMBOL_CACHE= run_ftscope dump $pid --all-frames
grep -v 'threads held for' "$FTSCOPE_OUT" >nocache.txt
FTSCOPE_SYMBOL_CACHE=$TEST_TMP/symcache run_ftscope dump $pid --json -v
cp "$FTSCOPE_OUT" cold.json
like "$(ftscope_err)" "the tables of [1-9][0-9]* modules are built and saved in the background" \
	"the first dump into an empty cache answers first, the tables are built after"
like "$(ftscope_err)" "held [0-9]+ threads for [0-9.]+ ms; 1 reads of target memory \\([0-9]+ pages\\) while held" \
	"the threads are held for one read (their stacks); the Python walk comes after the release"
# Of the separate debug files (libc6-dbg's, compressed: libc, libm, ld.so), a first dump
# prepares the lines and opens the units (for the inlined functions) only of those a thread
# was stopped in: libc's (inflated with its lines when it has .debug_aranges, else after).
ndebug=$(ftscope_err | grep -c "debug file /usr/lib/debug/" || true)
nunits=$(ftscope_err | grep -cE 'units opened for the inlined functions|compressed DWARF, inflated' || true)
if [ "$ndebug" -ge 2 ]; then
	is "$nunits" 1 "first dump: the units of 1 of $ndebug debug files opened (libc's: the threads are in it)"
else
	skip "first dump: units of the debug files the threads are in" "fewer than two separate debug files here (libc6-dbg): $ndebug"
fi
ok flock symcache/.build.lock true "wait for the table builder"
ok test "$(find symcache -name '*.syms' | wc -l)" -ge 2 "symbol tables saved afterwards (python, libc, ...)"
ok test "$(find symcache -name '*.lines' -size +100k | wc -l)" -ge 1 "line tables saved afterwards"
FTSCOPE_SYMBOL_CACHE=$TEST_TMP/symcache run_ftscope dump $pid --json
cp "$FTSCOPE_OUT" warm.json
FTSCOPE_SYMBOL_CACHE=$TEST_TMP/symcache run_ftscope dump $pid --all-frames
grep -v 'threads held for' "$FTSCOPE_OUT" >warm.txt
is "$(jq '[.processes[0].threads[].frames[] | select(.file and (.python | not))] | length' nocache.json)" \
	"$(jq '[.processes[0].threads[].frames[] | select(.file and (.python | not))] | length' warm.json)" \
	"as many native frames with file:line from the cache as without"
ok test "$(jq '[.processes[0].threads[].frames[] | select(.file and (.python | not))] | length' warm.json)" -gt 0 \
	"(some native frames have file:line)"
is "$(frames cold.json)" "$(frames nocache.json)" "first dump into an empty cache: same frames as without a cache"
is "$(frames warm.json)" "$(frames nocache.json)" "dump from the saved cache: same frames"
ok cmp <(untimed cold.json) <(untimed nocache.json) "first dump: the whole JSON as without a cache"
ok cmp <(untimed warm.json) <(untimed nocache.json) "from the saved cache: the whole JSON as without a cache"
ok cmp warm.txt nocache.txt "and the text output (--all-frames) too"
# libunwind blocks every signal around each unwinding step (two system calls a frame):
# unwind.c interposes sigprocmask while it unwinds. Counted with strace (setup installs it).
if ! command -v strace >/dev/null; then
	skip "unwinding makes no sigprocmask calls" "strace is not installed (bash scripts/setup.sh)"
elif ldd "$FTSCOPE" | grep -qE 'lib(a|t)san'; then
	skip "unwinding makes no sigprocmask calls" "a sanitizer build (its runtime intercepts sigprocmask)"
else
	FTSCOPE_SYMBOL_CACHE=$TEST_TMP/symcache strace -f -qq -e trace=rt_sigprocmask -o sigmask.trace \
		"$FTSCOPE" dump $pid --json >/dev/null 2>&1
	nsig=$(wc -l <sigmask.trace)
	nframes=$(jq '[.processes[0].threads[].frames[] | select(.python | not)] | length' warm.json)
	ok test "$nsig" -lt "$nframes" "unwinding makes no sigprocmask calls ($nsig for $nframes native frames)"
fi
# FDEs are found from the maps and ELF files the symbolizer has (unwind.c's lu_find_proc_info):
# libunwind-ptrace's own lookup re-read /proc/PID/maps each time a walk went to another module.
if command -v strace >/dev/null; then
	FTSCOPE_SYMBOL_CACHE=$TEST_TMP/symcache strace -f -qq -e trace=openat -o open.trace \
		"$FTSCOPE" dump $pid --json >/dev/null 2>&1
	nmaps=$(grep -c "/proc/$pid/maps" open.trace || true)
	ok test "$nmaps" -le 2 "the maps are read once or twice a dump, not per module of each walk ($nmaps)"
else
	skip "the maps are read once or twice a dump" "strace is not installed (bash scripts/setup.sh)"
fi
ok kill -0 $pid "alive after six dumps"
echo go >&3
exec 3>&-
wait $pid
is "$?" 0 "the process then finished normally (exit 0)"
ok grep -q "finished normally" out "and printed its last line"
done_testing
