/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_PYFRAMES_H
#define FTSCOPE_PYFRAMES_H

/*
 * Python stacks of another process, read out of process from CPython 3.13/3.14's
 * `_Py_DebugOffsets` table (the first member of `_PyRuntime`), default and free-threaded
 * builds. No code runs in the target: memory is read with process_vm_readv (falling back to
 * /proc/PID/mem), so the caller needs ptrace access to the target (root, or same uid without
 * Yama restrictions).
 *
 * Usage:
 *
 *	struct pyreader *r;
 *	struct sbuf why = SBUF_INIT;
 *	if (pyreader_open(pid, &r, &why) < 0)
 *		... why.buf says why ("no Python runtime in process 123 (not CPython 3.13+?)")
 *	... stop every thread of pid (PTRACE_SEIZE + PTRACE_INTERRUPT) ...
 *	pyreader_threads(r, &threads, &n);
 *	... resume the threads ...
 *	py_threads_free(threads, n);
 *	pyreader_free(r);
 *
 * A free-threaded interpreter has no lock that serializes its state: the snapshot is only
 * coherent while every thread of the target is stopped. The reader treats all target memory
 * as untrusted (bounded loops, cycle detection, bounded string lengths), so a torn or corrupt
 * state produces truncated stacks or "???" names, never a crash or an endless loop.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ftscope/util.h"

/* Limits applied to target data. */
#define PY_MAX_FRAMES 4096      /* per thread */
#define PY_MAX_THREADS 10000    /* per process, all interpreters */
#define PY_MAX_INTERPRETERS 1024
#define PY_MAX_STRLEN 4096      /* code points of a decoded str (longer ones are cut) */
#define PY_MAX_BYTESLEN (1 << 20) /* a co_linetable larger than this is refused */

struct py_frame {
	char *file;             /* co_filename, UTF-8 (lone surrogates from surrogateescape
				 * decoded back to their bytes); "???" if unreadable */
	char *func;             /* co_qualname ("Cls.method", "<module>"); "???" if unreadable */
	int line;               /* current line, -1 if the instruction has no location */
	int firstlineno;        /* co_firstlineno */
	/*
	 * First Python frame of one C-level call of the eval loop: its caller
	 * (_PyInterpreterFrame.previous) is a shim frame (3.13: FRAME_OWNED_BY_CSTACK; 3.14:
	 * FRAME_OWNED_BY_INTERPRETER or _CSTACK) or there is none. Each entry frame matches one
	 * native _PyEval_EvalFrameDefault frame (merge of native and Python stacks).
	 */
	bool entry;
	uint64_t addr;          /* the _PyInterpreterFrame in the target (pyreader_eval) */
	uint64_t code;          /* its code object */
};

/*
 * A lock object referenced by a frame's locals or value stack (3.13/3.14 `_thread.lock`,
 * `_thread.RLock`), directly or through the `__exit__` bound method that a `with lock:`
 * block keeps on the stack for its whole body -- the one trace of ownership a PyMutex-based
 * lock leaves (it records no owner).
 */
struct py_lockref {
	uint64_t obj;           /* the lock object */
	uint64_t mutex;         /* Lock: address of its PyMutex; RLock: its PyThread lock (sem_t) */
	bool rlock;
	uint64_t rlock_owner;   /* RLock: owner's thread ident (pthread_t), 0 if free */
	bool in_with;           /* the frame is inside `with lock:` */
	size_t frame;           /* index into py_thread.frames */
};

struct py_thread {
	uint64_t native_tid;    /* PyThreadState.native_thread_id: the Linux TID (0 if unbound) */
	uint64_t thread_id;     /* PyThreadState.thread_id: pthread_self(), as faulthandler prints */
	struct py_frame *frames; /* innermost first */
	size_t n;
	int interp_id;          /* PyInterpreterState.id, 0 for the main interpreter */
	/* The interpreter's main thread (3.14: interp->threads.main; 3.13: native_tid == pid in
	 * the main interpreter). */
	bool main_thread;
	struct py_lockref *locks; /* locks its frames reference (see struct py_lockref) */
	size_t nlocks;
	/* threading.Thread.name: `self._name` of its Thread._bootstrap_inner frame (threads
	 * started by threading; NULL for the main thread and others), UTF-8, malloc'd */
	char *name;
};

struct pyreader;

/*
 * Locate the runtime of process pid and validate its debug offsets. The runtime is found as
 *   (a) the .dynsym symbol _PyRuntime of a mapped python binary or libpython,
 *   (b) else the .PyRuntime section of that file plus its load bias,
 *   (c) else by scanning the writable file-backed mappings of python/libpython for the
 *       "xdebugpy" cookie followed by a 3.13+ version.
 * The table must have the cookie, a final 3.13.x or 3.14.x version, free_threaded 0 or 1,
 * every struct size non-zero and < 1 MiB and every offset used plus its width within its
 * struct's size.
 * Returns 0 and *out (free with pyreader_free), or -1 with a human reason appended to why
 * ("no Python runtime in process 123 (not CPython 3.13+?)", "debug offsets of version 3.12
 * are not supported", ...). Prints nothing. The target does not need to be stopped.
 */
int pyreader_open(pid_t pid, struct pyreader **out, struct sbuf *why);
/* pyreader_open with some strategies turned off (tests, and a way around a bad symbol). */
#define PYREADER_NO_SYMBOL 0x1  /* skip (a) */
#define PYREADER_NO_SECTION 0x2 /* skip (b) */
#define PYREADER_PROCMEM 0x4    /* read through /proc/PID/mem, not process_vm_readv */
int pyreader_open_flags(pid_t pid, unsigned flags, struct pyreader **out, struct sbuf *why);
/* pyreader_open with a known _PyRuntime address (found by other means, or a test's fake
 * runtime). No symbols are used: code objects are recognized by their type's tp_name "code",
 * and str/bytes objects by their layout alone. */
int pyreader_open_runtime(pid_t pid, uint64_t runtime, struct pyreader **out, struct sbuf *why);
/*
 * pyreader_open_flags on the process of sym, sharing its maps, ELF files and snapshot
 * pages (symbolizer_mem_*): what the unwinder read, the reader need not read again. The
 * reader then never resets those pages: the owner of sym starts each snapshot
 * (symbolizer_mem_reset) and must keep sym alive as long as the reader.
 */
struct symbolizer;
int pyreader_open_sym(struct symbolizer *sym, unsigned flags, struct pyreader **out,
		      struct sbuf *why);
void pyreader_free(struct pyreader *r);     /* NULL is a no-op */

/* "3.13.5" (borrowed, lives as long as r). */
const char *pyreader_version(const struct pyreader *r);
/* PY_VERSION_HEX of the target, e.g. 0x030d05f0. */
uint32_t pyreader_version_hex(const struct pyreader *r);
/* --disable-gil build (the free_threaded field of the debug offsets). */
bool pyreader_free_threaded(const struct pyreader *r);
/* Address of _PyRuntime in the target and how it was found ("symbol", "section", "scan",
 * "given"). */
uint64_t pyreader_runtime_addr(const struct pyreader *r);
const char *pyreader_runtime_how(const struct pyreader *r);
/* Address of _PyEval_EvalFrameDefault in the file the runtime was found in, 0 if unknown
 * (every Python stack runs through it). */
uint64_t pyreader_eval_loop(const struct pyreader *r);
/* Addresses of functions nearly every CPython thread's native stack has (the eval loop,
 * thread_run, _PySemaphore_Wait, ...), where symbols name them: whose lines a first snapshot
 * may start on before the stacks are read (symbolizer_prepare_lines). Borrowed. */
size_t pyreader_line_hints(const struct pyreader *r, const uint64_t **hints);

/*
 * Walk every interpreter's thread states and their frames. Call while the target's threads
 * are stopped (ptrace) or blocked. Thread states come in list order (newest first), frames
 * innermost first; shim frames and frames whose f_executable is not a code object are left
 * out. Bounded: PY_MAX_FRAMES per thread, PY_MAX_THREADS, PY_MAX_INTERPRETERS, with cycle
 * detection. Returns 0 and *threads (malloc'd, free with py_threads_free; NULL if *n == 0),
 * or -errno when even the interpreter list cannot be read (-ESRCH: process gone, -EFAULT:
 * unreadable runtime).
 */
int pyreader_threads(struct pyreader *r, struct py_thread **threads, size_t *n);
void py_threads_free(struct py_thread *t, size_t n);

/*
 * pyreader_threads() in two steps, so the threads are held only for the reads:
 * pyreader_threads_read() (while held) reads every page the walk needs, in a few batched
 * reads (frame chains, code objects and their names, frame slots and the objects in them);
 * pyreader_threads_decode() (after the release, on a reader whose symbolizer keeps those
 * pages: pyreader_open_sym) decodes them. Same results and errors as pyreader_threads().
 */
int pyreader_threads_read(struct pyreader *r);
int pyreader_threads_decode(struct pyreader *r, struct py_thread **threads, size_t *n);

/*
 * Where the next pyreader_threads() will read, guessed now, without stopping anything: the
 * interpreter and thread-state lists as they are, each thread's innermost frame. Prefetch
 * these ranges (symbolizer_mem_prefetch) once the threads are stopped, with the stacks, so
 * the walk of a list that did not change reads nothing more (a thread-state list is a chain
 * of pointers: walked in the hold, it was one read per thread). *out is malloc'd.
 */
struct mem_range;
size_t pyreader_guess_ranges(struct pyreader *r, struct mem_range **out);

/*
 * The PyMutex a thread parked in CPython's parking lot waits for: its futex is the semaphore
 * inside a `struct wait_entry` on its own stack, whose `addr` field (just before it) is the
 * PyMutex. 0 if that cannot be read.
 */
uint64_t pyreader_parked_mutex(struct pyreader *r, uint64_t futex_uaddr);
/* Read the pages holding these addresses (0s skipped) into the reader's cache for this
 * snapshot, in as few system calls as possible: for reads about to be made one by one. */
void pyreader_prefetch(struct pyreader *r, const uint64_t *addrs, size_t n);

/*
 * Evaluate a dotted name (`lock`, `acc.lock_a`, `self._cond._lock`, `mod.LOCK`) in frame f of
 * the last pyreader_threads() walk, the way Python would for locals, globals, instance
 * attributes (managed dict or inline values) and module attributes -- not class attributes,
 * properties or anything that runs code. Reads the target (the frame's process must exist;
 * a running process may have moved on). 0 and *out = the object, -ENOENT (a name is not
 * found), -EINVAL (not a dotted name).
 */
int pyreader_eval(struct pyreader *r, const struct py_frame *f, const char *expr, uint64_t *out);

/* The GIL of one interpreter (lock forensics). */
struct py_gil {
	/*
	 * Free-threaded builds: _gil.enabled (0 = disabled, the normal state; > 0 = number of
	 * transient enable requests; INT_MAX = enabled permanently, e.g. PYTHON_GIL=1 or an
	 * extension without Py_mod_gil). Default builds: always 1.
	 */
	int enabled;
	int locked;             /* _gil.locked: 1 held, 0 free, -1 not initialized */
	uint64_t holder;        /* _gil.last_holder: the PyThreadState* that holds or last held it */
	uint64_t holder_tid;    /* native_thread_id of holder, 0 if unknown */
};
/* Read the GIL state of interpreter interp_id (0 = main). 0, -ENOENT (no such interpreter) or
 * -errno. Same stopping rules as pyreader_threads. */
int pyreader_gil(struct pyreader *r, int interp_id, struct py_gil *gil);

/*
 * Exposed for tests.
 */

/* Decoded position of one location-table entry (Objects/locations.md). */
struct py_location {
	int line, end_line;     /* -1: no location (code 15) */
	int col, end_col;       /* -1: no column information (code 13, 15) */
};
/*
 * Look up code unit addrq (instruction index, 2-byte units) in a 3.11+ co_linetable of
 * len bytes. Returns 0 and *loc, -ENOENT if the table does not cover addrq, -EINVAL if the
 * table is malformed (truncated entry, continuation byte where an entry must start,
 * runaway varint).
 */
int py_linetable_lookup(const uint8_t *tab, size_t len, int firstlineno, uint64_t addrq,
			struct py_location *loc);

/*
 * Parse and validate a raw _Py_DebugOffsets block of len bytes (len may exceed the table:
 * it is read from the start of _PyRuntime). 0, or -1 with the reason appended to why.
 */
int py_debug_offsets_check(const void *raw, size_t len, struct sbuf *why);

#endif
