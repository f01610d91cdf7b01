#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# `ftscope dump` tells the story of a live process, py-spy style: each thread by its
# threading name, what it waits in (Event.wait, Condition.wait, Queue.get, Thread.join --
# no owner), and for a lock-order deadlock the lock each thread waits for (its expression,
# `acc.lock_b`), its holder by name, the lock it holds and the `with` line where it took it.
# Frames are numbered without gaps and stdlib paths are short.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

cat >story.py <<'PY'
import threading, queue
ev = threading.Event()
cond = threading.Condition()
q = queue.Queue()
class Accounts:
    def __init__(self):
        self.lock_a = threading.Lock()
        self.lock_b = threading.Lock()
acc = Accounts()
GLOBAL_LOCK = threading.Lock()
SELF_LOCK = threading.Lock()
bar = threading.Barrier(2)
def event_worker():
    ev.wait()
def cond_worker():
    with cond:
        cond.wait()
def queue_worker():
    q.get()
def a_to_b():
    with acc.lock_a:
        bar.wait()
        with acc.lock_b:
            pass
def b_to_a():
    with acc.lock_b:
        bar.wait()
        with acc.lock_a:
            pass
def takes_global():
    GLOBAL_LOCK.acquire()
    ev.wait()
def wants_global():
    with GLOBAL_LOCK:
        pass
def self_deadlock():
    SELF_LOCK.acquire()
    SELF_LOCK.acquire()
ts = [threading.Thread(target=event_worker, name="worker-A"),
      threading.Thread(target=cond_worker, name="cond-waiter"),
      threading.Thread(target=queue_worker, name="q-reader"),
      threading.Thread(target=a_to_b, name="a_to_b"),
      threading.Thread(target=b_to_a, name="b_to_a"),
      threading.Thread(target=takes_global, name="owner-of-global", daemon=True),
      threading.Thread(target=self_deadlock, name="self-locked", daemon=True)]
for t in ts:
    t.start()
import time; time.sleep(0.3)
w = threading.Thread(target=wants_global, name="wants-global", daemon=True)
w.start()
print("ready", flush=True)
ts[0].join()
PY
line() { grep -n -x -F -- "$1" story.py | head -1 | cut -d: -f1; }
"$FT_PYTHON" story.py >out &
pid=$!
for _ in $(seq 100); do grep -q ready out 2>/dev/null && break; sleep 0.05; done
sleep 0.3

run_ftscope dump $pid
is "$FTSCOPE_RC" 0 "dump exits 0"
out=$(ftscope_out)
like "$out" "Thread $pid \"MainThread\" \\(idle\\): Thread.join" "the main thread, by name, in Thread.join"
like "$out" "Thread [0-9]+ \"worker-A\" \\(idle\\): Event.wait" "worker-A waits in Event.wait"
like "$out" "Thread [0-9]+ \"cond-waiter\" \\(idle\\): Condition.wait" "cond-waiter waits in Condition.wait"
like "$out" "Thread [0-9]+ \"q-reader\" \\(idle\\): Queue.get" "q-reader waits in Queue.get"
like "$out" "Thread [0-9]+ \"a_to_b\" \\(idle\\): Lock.acquire" "a_to_b waits in Lock.acquire"
like "$out" "waits for acc.lock_b \\(threading.Lock 0x[0-9a-f]+\\), held by thread [0-9]+ \"b_to_a\"" \
	"the lock a_to_b waits for, by expression, and its holder by name"
like "$out" "holds acc.lock_a, taken at .*story.py:$(line '    with acc.lock_a:'): with acc.lock_a:" \
	"a_to_b holds acc.lock_a, taken at its with statement"
like "$out" "holds acc.lock_b, taken at .*story.py:$(line '    with acc.lock_b:'): with acc.lock_b:" \
	"b_to_a holds acc.lock_b, taken at its with statement"
like "$out" "holds GLOBAL_LOCK, taken at .*story.py:$(line '    GLOBAL_LOCK.acquire()'): GLOBAL_LOCK.acquire\\(\\)" \
	"a global lock taken with acquire(): the acquire line"
like "$out" "Deadlock cycle \\(inferred\\): thread [0-9]+ \"(a_to_b|b_to_a)\" -> thread [0-9]+ \"(a_to_b|b_to_a)\"" \
	"the cycle, with names"
like "$out" "#0 +Condition.wait \\(threading.py:[0-9]+\\)" "stdlib paths are short"
unlike "$out" "owner unknown" "no 'owner unknown' for notification waits"
unlike "$out" "/lib/python3" "no long stdlib paths"
unlike "$out" " 1 threads" "no '1 threads'"
# frame numbers: consecutive from #0 within each thread
gaps=$(awk '/^Thread /{n=0} /^    #[0-9]+/{sub(/#/,"",$1); if ($1 != n) bad++; n++} END{print bad+0}' "$FTSCOPE_OUT")
is "$gaps" 0 "frames are numbered without gaps"
run_ftscope dump $pid --native
gaps=$(awk '/^Thread /{n=0} /^    #[0-9]+/{sub(/#/,"",$1); if ($1 != n) bad++; n++} END{print bad+0}' "$FTSCOPE_OUT")
is "$gaps" 0 "with --native too"
like "$(ftscope_out)" "_PyMutex_LockTimed in libpython" "--native shows the native frames"

run_ftscope dump $pid --json
J=$FTSCOPE_OUT
is "$(jqfile "$J" '[.processes[0].threads[].name] | sort | join(",")')" \
	"MainThread,a_to_b,b_to_a,cond-waiter,owner-of-global,q-reader,self-locked,wants-global,worker-A" \
	"--json: every thread's name"
is "$(jqfile "$J" '.processes[0].threads[] | select(.name == "worker-A") | .wait.primitive')" Event.wait \
	"--json: wait.primitive"
is "$(jqfile "$J" '.processes[0].threads[] | select(.name == "a_to_b") | .holds[0] | "\(.expr) \(.how) \(.verified) \(.site.line)"')" \
	"acc.lock_a with true $(line '    with acc.lock_a:')" "--json: holds, with the expression verified in memory"
is "$(jqfile "$J" '.processes[0].threads[] | select(.name == "wants-global") | .wait.owner_name')" owner-of-global \
	"--json: the holder's name"
is "$(jqfile "$J" '.processes[0].threads[] | select(.name == "self-locked") | "\(.wait.owner_name) \(.holds[0].site.line)"')" \
	"self-locked $(line '    SELF_LOCK.acquire()')" "--json: a second acquire() of a Lock: the thread holds it itself, since its first acquire()"
like "$(jqfile "$J" '[.cycles[] | .tids | length] | sort | tostring')" '^\[1,2\]$' "--json: the self-loop and the lock-order cycle"
kill $pid
wait $pid 2>/dev/null
done_testing
