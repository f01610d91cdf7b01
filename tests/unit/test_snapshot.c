/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The wait rules of a snapshot (snapshot.h): snapshot_classify_wait on a thread of ours
 * really blocked in pthread_mutex_lock (its /proc syscall line, the mutex word read through
 * a symbolizer of this process), on a PI futex word, and on stacks named as glibc and
 * CPython name their frames; snapshot_resolve_python_lock on the lock references pyframes
 * reads out of Python threads.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ftscope/procfs.h"
#include "ftscope/pyframes.h"
#include "ftscope/snapshot.h"
#include "ftscope/util.h"
#include "tap.h"

#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_LOCK_PI_PRIVATE (6 | 128)

/* A snap_thread whose innermost frames are names[0..] (NULL-terminated), n_pad unnamed
 * frames first. */
static void set_frames(struct snap_thread *t, size_t n_pad, const char *const *names)
{
	size_t n = 0;
	while (names[n])
		n++;
	t->nframes = n_pad + n;
	t->frames = xcalloc(t->nframes, sizeof(*t->frames));
	for (size_t i = 0; i < n_pad; i++)
		t->frames[i].function = xstrdup("helper");
	for (size_t i = 0; i < n; i++)
		t->frames[n_pad + i].function = xstrdup(names[i]);
}

static void clear_frames(struct snap_thread *t)
{
	for (size_t i = 0; i < t->nframes; i++)
		free(t->frames[i].function);
	free(t->frames);
	t->frames = NULL;
	t->nframes = 0;
}

/* glibc 2.36's frames of a thread blocked in pthread_mutex_lock */
static const char *const st_mutex[] = { "__futex_abstimed_wait_common64",
					"__futex_abstimed_wait_common", "__lll_lock_wait",
					"___pthread_mutex_lock", "blocker", "start_thread", "clone3",
					NULL };

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pid_t blocker_tid;

static void *blocker(void *arg)
{
	(void)arg;
	blocker_tid = gettid();
	pthread_mutex_lock(&held);
	pthread_mutex_unlock(&held);
	return NULL;
}

static void test_real_mutex(void)
{
	pthread_t th;
	char path[96], *line = NULL;
	struct task_sample ts;
	struct snap_thread t = { 0 };
	struct symbolizer *sym;
	pthread_mutex_t unlocked = PTHREAD_MUTEX_INITIALIZER;
	uint32_t pi_word;

	pthread_mutex_lock(&held);
	pthread_create(&th, NULL, blocker, NULL);
	for (int i = 0; i < 500; i++) {
		free(line);
		line = NULL;
		if (blocker_tid) {
			snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", blocker_tid);
			if (read_file(path, &line, NULL) == 0 && strtol(line, NULL, 10) == FT_SYS_FUTEX)
				break;
		}
		usleep(10000);
	}
	if (!ok(line && strtol(line, NULL, 10) == FT_SYS_FUTEX,
		"a thread of ours blocks in pthread_mutex_lock (futex)")) {
		pthread_mutex_unlock(&held);
		pthread_join(th, NULL);
		free(line);
		return;
	}
	parse_syscall_line(line, &ts);
	free(line);
	t.tid = blocker_tid;
	t.syscall = ts.syscall;
	memcpy(t.args, ts.args, sizeof(t.args));
	set_frames(&t, 0, st_mutex);
	sym = symbolizer_new(getpid());
	ok(sym != NULL, "a symbolizer of this process");
	snapshot_classify_wait(sym, &t);
	is_str(t.wait.kind, "futex", "blocked mutex: a futex wait");
	is_int(t.wait.untimed, true, "blocked mutex: untimed");
	ok(t.wait.uaddr == (uint64_t)(uintptr_t)&held, "blocked mutex: the mutex's address");
	is_str(t.wait.lock, "pthread_mutex", "blocked mutex: pthread_mutex");
	is_int(t.wait.owner, gettid(), "blocked mutex: the owner is the main thread (lock word)");
	is_int(t.wait.owner_certain, true, "blocked mutex: owner certain");
	symbolizer_free(sym);
	pthread_mutex_unlock(&held);
	pthread_join(th, NULL);

	/* the same wait on a mutex nobody holds: no owner, and it says why */
	t.args[0] = (uint64_t)(uintptr_t)&unlocked;
	sym = symbolizer_new(getpid());
	snapshot_classify_wait(sym, &t);
	is_int(t.wait.owner, 0, "unlocked mutex: no owner");
	ok(t.wait.owner_note && strstr(t.wait.owner_note, "no owner"),
	   "unlocked mutex: the note says the word has no owner");
	symbolizer_free(sym);

	/* a PI futex word holds its owner's tid */
	pi_word = (uint32_t)gettid();
	t.args[0] = (uint64_t)(uintptr_t)&pi_word;
	t.args[1] = FUTEX_LOCK_PI_PRIVATE;
	sym = symbolizer_new(getpid());
	snapshot_classify_wait(sym, &t);
	is_str(t.wait.lock, "pi_futex", "PI futex: pi_futex");
	is_int(t.wait.owner, gettid(), "PI futex: the owner from the word");
	is_int(t.wait.owner_certain, true, "PI futex: certain");
	symbolizer_free(sym);
	clear_frames(&t);
}

static void test_frames(void)
{
	static const char *const lock[] = { "__futex_abstimed_wait_common",
					    "__new_sem_wait_slow64", "PyThread_acquire_lock_timed",
					    "acquire_timed", "lock_PyThread_acquire_lock",
					    "method_vectorcall_VARARGS_KEYWORDS", NULL };
	static const char *const rlock[] = { "__new_sem_wait_slow64", "PyThread_acquire_lock_timed",
					     "rlock_acquire", NULL };
	static const char *const pymutex[] = { "_PySemaphore_PlatformWait", "_PySemaphore_Wait",
					       "_PyParkingLot_Park", "_PyMutex_LockTimed",
					       "PyMutex_Lock", NULL };
	static const char *const event[] = { "_PySemaphore_Wait", "_PyParkingLot_Park",
					     "PyEvent_WaitTimed", NULL };
	static const char *const stw[] = { "_PySemaphore_Wait", "_PyParkingLot_Park",
					   "PyEvent_WaitTimed", "_PyEval_StopTheWorld", NULL };
	static const char *const join[] = { "_PySemaphore_Wait", "_PyParkingLot_Park",
					    "PyEvent_WaitTimed", "ThreadHandle_join.lto_priv.0", NULL };
	static const char *const nearly[] = { "ThreadHandle_joiner", NULL };
	static const char *const cond[] = { "__futex_abstimed_wait_common",
					    "___pthread_cond_wait", NULL };
	static const char *const sem[] = { "__new_sem_wait_slow64", "sem_clockwait", NULL };
	static const struct {
		const char *what;
		const char *const *names;
		size_t pad;
		const char *lock;
		const char *note_has; /* NULL: no note */
	} cases[] = {
		{ "threading.Lock over its semaphore", lock, 0, "threading.Lock", "records no owner" },
		{ "threading.Lock 34 frames deep", lock, 34, "threading.Lock", "records no owner" },
		{ "threading.Lock past 40 frames", lock, 40, "unknown", NULL },
		{ "RLock", rlock, 0, "threading.RLock", NULL },
		{ "PyMutex over the parking lot", pymutex, 0, "PyMutex", "records no owner" },
		{ "an event in the parking lot", event, 0, "parking lot", "record no owner" },
		{ "stop-the-world first", stw, 0, "stop-the-world", NULL },
		{ "thread join (an LTO clone's name)", join, 0, "thread join", "another thread" },
		{ "a longer name is another function", nearly, 0, "unknown", NULL },
		{ "pthread_mutex_lock", st_mutex, 0, "pthread_mutex", NULL },
		{ "pthread_mutex_lock past 12 frames", st_mutex, 10, "unknown", NULL },
		{ "condition variable", cond, 0, "condition variable", "no owner" },
		{ "semaphore", sem, 0, "semaphore", "no owner" },
	};
	uint32_t zero[5] = { 0 }; /* a lock word nobody holds, for the pthread cases */
	struct symbolizer *sym = symbolizer_new(getpid());
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct snap_thread t = { 0 };
		t.syscall = FT_SYS_FUTEX;
		t.args[0] = (uint64_t)(uintptr_t)zero;
		t.args[1] = FUTEX_WAIT_PRIVATE;
		set_frames(&t, cases[i].pad, cases[i].names);
		snapshot_classify_wait(sym, &t);
		is_str(t.wait.lock, cases[i].lock, "%s: %s", cases[i].what, cases[i].lock);
		if (cases[i].note_has)
			ok(t.wait.owner_note && strstr(t.wait.owner_note, cases[i].note_has),
			   "%s: note '%s'", cases[i].what, t.wait.owner_note ? t.wait.owner_note : "");
		is_int(t.wait.owner, 0, "%s: no owner", cases[i].what);
		clear_frames(&t);
	}
	{
		struct snap_thread t = { 0 };
		t.syscall = FT_SYS_FUTEX;
		t.args[1] = FUTEX_WAIT_PRIVATE;
		t.args[3] = 0x7ffc0000; /* a timeout */
		set_frames(&t, 0, lock);
		snapshot_classify_wait(sym, &t);
		is_int(t.wait.untimed, false, "a wait with a timeout is not untimed");
		t.args[3] = 0;
		t.args[1] = 1 | 128; /* FUTEX_WAKE_PRIVATE */
		snapshot_classify_wait(sym, &t);
		is_int(t.wait.untimed, false, "FUTEX_WAKE is no wait");
		t.syscall = FT_SYS_WAIT4;
		snapshot_classify_wait(sym, &t);
		is_str(t.wait.kind, "child", "wait4: a child wait");
		is_str(t.wait.lock, NULL, "wait4: no lock");
		t.syscall = 7; /* poll */
		snapshot_classify_wait(sym, &t);
		is_str(t.wait.kind, "syscall", "another syscall");
		t.syscall = -1;
		snapshot_classify_wait(sym, &t);
		is_str(t.wait.kind, NULL, "not in a syscall: not blocked");
		clear_frames(&t);
	}
	symbolizer_free(sym);
}

/* pyframes' view of two or three Python threads and the locks their frames reference */
static void test_python_locks(void)
{
	struct py_lockref a_holds = { .obj = 0x1000, .mutex = 0x2000, .in_with = true };
	struct py_lockref b_waits = { .obj = 0x1000, .mutex = 0x2000, .in_with = false };
	struct py_lockref c_holds = { .obj = 0x1000, .mutex = 0x2000, .in_with = true };
	struct py_lockref rl = { .obj = 0x3000, .mutex = 0x4000, .rlock = true, .rlock_owner = 0xa };
	struct py_thread pyt[3] = {
		{ .native_tid = 101, .thread_id = 0xa, .locks = &a_holds, .nlocks = 1 },
		{ .native_tid = 102, .thread_id = 0xb, .locks = &b_waits, .nlocks = 1 },
		{ .native_tid = 103, .thread_id = 0xc, .locks = &c_holds, .nlocks = 1 },
	};
	struct snap_wait w;

	w = (struct snap_wait){ .kind = "futex", .lock = "threading.Lock", .uaddr = 0x9990 };
	ok(snapshot_waits_parked(&w), "a threading.Lock waits in the parking lot");
	snapshot_resolve_python_lock(&w, pyt, 2, 0x2000);
	ok(w.lock_obj == 0x1000, "Lock: the object whose PyMutex the parking lot names");
	is_int(w.owner, 101, "Lock: the one thread inside `with` on it holds it");
	is_int(w.owner_certain, false, "Lock: inferred, not certain");
	is_int(w.ncandidates, 1, "Lock: one candidate");
	ok(w.owner_note && strstr(w.owner_note, "the only thread"), "Lock: says it is inferred");

	w = (struct snap_wait){ .kind = "futex", .lock = "PyMutex", .uaddr = 0x9990 };
	snapshot_resolve_python_lock(&w, pyt, 3, 0x2000);
	is_str(w.lock, "threading.Lock", "PyMutex of a Lock object: threading.Lock");
	is_int(w.owner, 101, "two inside `with`: the first");
	is_int(w.ncandidates, 2, "two candidates");
	ok(w.owner_note && strstr(w.owner_note, "first of several"), "says there were several");

	w = (struct snap_wait){ .kind = "futex", .lock = "threading.Lock", .uaddr = 0x9990 };
	snapshot_resolve_python_lock(&w, &pyt[1], 1, 0x2000);
	is_int(w.owner, 0, "nobody inside `with`: no owner");
	ok(w.owner_note && strstr(w.owner_note, "no thread is inside"), "and it says so");

	w = (struct snap_wait){ .kind = "futex", .lock = "threading.Lock", .uaddr = 0x9990 };
	snapshot_resolve_python_lock(&w, pyt, 3, 0x5555);
	ok(w.lock_obj == 0 && w.owner == 0, "a parked mutex no frame references: unresolved");

	/* an RLock's waiter waits on the RLock's own lock; the RLock records its owner */
	pyt[1].locks = &rl;
	w = (struct snap_wait){ .kind = "futex", .lock = "threading.RLock", .uaddr = 0x4000 };
	ok(!snapshot_waits_parked(&w), "an RLock does not wait in the parking lot");
	snapshot_resolve_python_lock(&w, pyt, 3, 0);
	ok(w.lock_obj == 0x3000, "RLock: its object");
	is_int(w.owner, 101, "RLock: the owner's native tid, from its thread ident");
	is_int(w.owner_certain, true, "RLock: certain");
	rl.rlock_owner = 0;
	w = (struct snap_wait){ .kind = "futex", .lock = "threading.RLock", .uaddr = 0x4000 };
	snapshot_resolve_python_lock(&w, pyt, 3, 0);
	is_int(w.owner, 0, "a free RLock: no owner");
	ok(w.owner_note && strstr(w.owner_note, "free"), "a free RLock: says so");

	w = (struct snap_wait){ .kind = "child", .uaddr = 0x4000 };
	snapshot_resolve_python_lock(&w, pyt, 3, 0);
	ok(w.lock_obj == 0 && w.lock == NULL, "a child wait is no lock");
}

int main(void)
{
	test_frames();
	test_real_mutex();
	test_python_locks();
	return tap_done();
}
