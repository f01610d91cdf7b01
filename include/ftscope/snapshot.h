/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_SNAPSHOT_H
#define FTSCOPE_SNAPSHOT_H

/*
 * A snapshot of stopped processes: per thread its registers' syscall, the native stack
 * (libunwind) merged with the Python stack (debug offsets) at the eval-loop frames
 * (pystack's rule), and what it waits on -- futex address and op, the kind of lock (from
 * the native frames: pthread mutex, PyThread lock, parking lot, condvar, join...), the owner
 * where the lock word records one (pthread mutex __owner, PI futex); then the wait-for graph
 * and its cycles.
 *
 * Three steps, so the threads are held only while their state is read:
 *
 *	snapshot_prepare(snap, pid)          maps, ELF files, the Python runtime and where its
 *	                                     thread states are (optional; nothing is stopped)
 *	... stop every thread (ptracer_stop_all) ...
 *	snapshot_process(snap, pid, tids...) registers, stacks, futex words, Python thread
 *	                                     states and frames: reads only
 *	... let them go (or not: a crashed process is finished while still held) ...
 *	snapshot_finish(snap)                unwinding, symbols, lines, merge, waits, from what
 *	                                     was read while held; the processes must still exist
 *
 * The result is plain data. snapshot_emit describes it in the forensics.json form
 * (docs/results.md) as JSON events (jsonout.h); snapshot_json builds that as a cJSON tree,
 * snapshot_write_json writes it, snapshot_print prints it for a person (snapshot_print_json
 * does the same for a stored one).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ftscope/symbolizer.h"
#include "ftscope/waitgraph.h"

struct cJSON;
struct jsonout;
struct mem_range;
struct pyreader;
struct py_thread;
struct user_regs_struct;

struct snap_wait {
	const char *kind;       /* "futex", "child", "syscall", "running", NULL: not blocked */
	uint64_t uaddr, op;
	bool untimed;
	const char *lock;       /* "pthread_mutex", "pi_futex", "threading.Lock", "threading.RLock",
				   "PyMutex", "thread join", "condition variable", "semaphore",
				   "stop-the-world", "unknown" */
	const char *via;        /* the frame that told us (function name), or NULL */
	int owner;              /* owner tid, 0 unknown */
	bool owner_certain;     /* read from the lock word */
	const char *owner_note; /* why there is no owner, or how it was inferred */
	uint64_t lock_obj;      /* the Python lock object waited for, 0 if not identified */
	int ncandidates;        /* threads that could hold it (inside `with` on it) */
	/* The Python view (snapshot_python.c): the primitive waited in ("Event.wait",
	 * "Condition.wait", "Semaphore.acquire", "Queue.get", "Thread.join", "Barrier.wait",
	 * "Lock.acquire", "RLock.acquire"), the frame that waits in it, the waited lock's
	 * expression there ("acc.lock_b"). NULL / 0 where unknown. */
	const char *primitive;
	struct snap_site *site;
	char *expr;
};

/* A line of Python source in a frame. */
struct snap_site {
	char *function, *file;
	int line;
	char *text;             /* the source line, stripped; NULL if the file was unreadable */
};

/* A lock a thread holds that another thread of the snapshot waits for, and where it was
 * taken: the `with` statement or the acquire() call in one of its frames. */
struct snap_hold {
	uint64_t lock_obj;
	const char *lock;       /* "threading.Lock", "threading.RLock" */
	char *expr;             /* "acc.lock_a", NULL if not derived */
	const char *how;        /* "with", "acquire", NULL: the taking line was not found */
	bool verified;          /* the expression evaluates, in that frame, to the lock */
	struct snap_site site;  /* function/file/line NULL/0 if not found */
};

struct snap_thread {
	pid_t tid;
	char comm[20];
	char state;
	long syscall;           /* -1 not in a syscall */
	uint64_t args[6];
	struct frame *frames;   /* merged, innermost first */
	size_t nframes;
	bool merged;            /* Python frames merged into the native stack */
	size_t npython;         /* Python frames (merged or, if not mergeable, appended) */
	char *unwind_error;
	struct snap_wait wait;
	bool crashed;           /* the thread that received the crash signal */
	char *name;             /* threading.Thread.name, "MainThread" (Python); NULL otherwise */
	struct snap_hold *holds;
	size_t nholds;
	/* between snapshot_process and snapshot_finish */
	struct user_regs_struct *regs; /* read while held, NULL if that failed (regs_err) */
	int regs_err;
};

struct snap_process {
	pid_t pid;
	char *exe;
	char *cmdline;
	char *cwd;              /* its working directory (short paths), NULL if unreadable */
	char *python_version;   /* NULL: no Python runtime found (py_error says why) */
	bool free_threaded;
	int gil_enabled;        /* -1 unknown */
	char *py_error;
	struct snap_thread *threads;
	size_t n;
	/* between snapshot_prepare and snapshot_finish */
	bool held;              /* snapshot_process ran */
	bool finished;          /* snapshot_finish ran */
	pid_t crashed_tid;
	/* maps, ELF files, the pages read while held: kept until snapshot_release (unmapping
	 * it all is milliseconds a dump should not spend before it prints) */
	struct symbolizer *sym;
	struct pyreader *pr;
	struct py_thread *pyt;  /* Python threads (read after the release) */
	size_t npyt;
	bool py_failed;
	struct mem_range *guess; /* where the Python walk will read (pyreader_guess_ranges) */
	size_t nguess;
};

struct snapshot {
	char *reason;           /* "deadlock", "stall", "timeout", "crash", "dump" */
	double taken_at;        /* wall clock */
	double duration_s;      /* time the processes were held stopped for this snapshot */
	unsigned hold_reads;    /* system calls that read target memory while held */
	size_t hold_pages;      /* pages they read */
	struct snap_process *procs;
	size_t n;
	struct wg_edge *edges;
	size_t nedges;
	struct wg_cycle *cycles;
	size_t ncycles;
};

/* Before stopping pid: its maps, ELF files and Python runtime; appends to snap->procs.
 * 0 or -errno (-ESRCH...). */
int snapshot_prepare(struct snapshot *snap, pid_t pid);
/* Read one process whose listed threads are ptrace-stopped (prepared, or prepared now);
 * crashed_tid marks the thread that got a crash signal (0: none). Adds the time it took to
 * snap->duration_s. 0 or -errno. */
int snapshot_process(struct snapshot *snap, pid_t pid, const pid_t *tids, size_t ntids,
		     pid_t crashed_tid);
/* The same, for a crash whose thread no tracer stopped and which is gone by now (the process
 * is held at its exit stop): crashed_regs are its registers when it crashed (the eBPF
 * recorder's), crashed_comm its name; the thread is added to the listed ones and its stack
 * read from the process's memory. */
int snapshot_process_crashed(struct snapshot *snap, pid_t pid, const pid_t *tids, size_t ntids,
			     pid_t crashed_tid, const struct user_regs_struct *crashed_regs,
			     const char *crashed_comm);
/* Everything else, from what snapshot_process read: native stacks (libunwind on the
 * copied stacks), symbols, file:line, the merge with the Python stacks, what each thread
 * waits on. Processes prepared but never read are dropped. */
void snapshot_finish(struct snapshot *snap);
/* Wait-for edges and cycles over all processes of snap. */
void snapshot_analyze(struct snapshot *snap);
void snapshot_emit(const struct snapshot *snap, struct jsonout *o);
struct cJSON *snapshot_json(const struct snapshot *snap);
/* The same document written to f as cJSON_Print() would format it, and a newline. */
void snapshot_write_json(FILE *f, const struct snapshot *snap);
void snapshot_release(struct snapshot *snap);

/* Between snapshot.c and snapshot_python.c: while the Python reader of p is open, fill
 * the threads' names, the Python primitives they wait in, the lock expressions and where
 * the held locks were taken (reads the target and the source files of the frames). */
void snapshot_python_story(struct snap_process *p);
void snapshot_python_release(struct snap_thread *t);

/*
 * Print a snapshot (its JSON form, as stored) for a terminal, py-spy style: per thread a line
 * `Thread TID "name" (idle): Event.wait`, the lock it waits for and its holder, the locks it
 * holds and where it took them, then its Python frames (short paths), numbered from #0.
 * SNAP_PRINT_NATIVE adds the native frames (merged), the futex and owner notes;
 * SNAP_PRINT_ALL_FRAMES also the interpreter and libc plumbing frames.
 */
#define SNAP_PRINT_NATIVE 0x1
#define SNAP_PRINT_ALL_FRAMES 0x2
void snapshot_print_json(FILE *f, const struct cJSON *snap, unsigned flags);
void snapshot_print(FILE *f, const struct snapshot *snap, unsigned flags);
/* A Python file's path for a person: from the package (site-packages/x/y.py: x/y.py), or the
 * standard library (lib/python3.13t/threading.py: threading.py); else as is. Into path. */
const char *py_short_path(const char *path);
/* py_short_path, or relative to dir (a process's cwd) when under it. */
const char *py_short_path_in(const char *path, const char *dir);

/* The crashing thread's merged frames as signature input (see signature.h). */
struct crash_sig;
int snapshot_crash_signature(const struct snapshot *snap, const char *kind, struct crash_sig *out);

/* ---- the rules of snapshot_finish, exposed for unit tests (tests/unit/test_snapshot.c) ---- */

/* What the thread waits on (t->wait), from its syscall and its native frames (innermost
 * first); the owner of a pthread mutex or PI futex read from its lock word through sym. */
void snapshot_classify_wait(struct symbolizer *sym, struct snap_thread *t);
/* Does w wait in the parking lot (a threading.Lock, a PyMutex), whose entry names the
 * PyMutex (pyreader_parked_mutex)? */
bool snapshot_waits_parked(const struct snap_wait *w);
/*
 * Python locks: which lock object a thread waits for (a Lock's waiter parks on its own
 * semaphore, whose parking-lot entry names the PyMutex: parked_mutex; an RLock's waiter
 * waits on the RLock's own PyThread lock), and who holds it: an RLock records its owner; a
 * Lock does not, so the holder is inferred from the threads that are inside `with` on it.
 */
void snapshot_resolve_python_lock(struct snap_wait *w, const struct py_thread *pyt, size_t npyt,
				  uint64_t parked_mutex);

#endif
