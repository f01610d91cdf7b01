/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_SYMBOLIZER_H
#define FTSCOPE_SYMBOLIZER_H

/*
 * Native stacks of a ptrace-stopped process: unwinding (libunwind-ptrace) and
 * symbolization (our own /proc/PID/maps cache, libelf symbol tables bounded by st_size,
 * libdw for DWARF file:line). src/symbolizer/README.md has the design and the pitfalls.
 *
 * Lifecycle:
 *
 *	struct symbolizer *s = symbolizer_new(pid);        (NULL + errno)
 *	... every thread of pid ptrace-stopped (PTRACE_SEIZE + PTRACE_INTERRUPT) ...
 *	struct frame *frames; size_t n;
 *	if (!unwind_thread(s, tid, 256, &frames, &n)) {
 *		... frames[0] is the innermost frame ...
 *		frames_free(frames, n);
 *	}
 *	symbolizer_free(s);
 *
 * One symbolizer per traced process; keep it across snapshots of that process so the
 * caches stay warm. ELF files are cached process-wide (keyed by device, inode, size and
 * mtime), so symbolizers of a process tree share libc's and python's tables while at
 * least one of them is alive. Nothing here is thread-safe: use from one thread only.
 *
 * Errors: functions returning int give 0 or a negative errno; they never print except
 * through debug() (-v), and never die().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * One native frame. Every char * is owned by the frame (malloc'd) and freed by
 * frame_release(); a zeroed frame (FRAME_INIT) is valid and empty.
 */
struct frame {
	uint64_t ip;            /* absolute pc (return address for callers) */
	uint64_t sp;            /* the frame's stack pointer (UNW_REG_SP: the callee's CFA), or 0 */
	char *module;           /* basename of the mapping ("libc.so.6", "python3.13t",
	                         * "[vdso]"), or NULL */
	char *module_path;      /* full path of the mapping, or NULL */
	uint64_t module_offset; /* ip relative to the module's load bias (stable across ASLR) */
	char *build_id;         /* hex, or NULL */
	char *function;         /* symbol, or NULL if none is trustworthy */
	uint64_t func_offset;   /* ip - symbol start (gdb's "f3+23"; for callers ip, not ip-1) */
	uint64_t func_size;     /* st_size of the symbol: the looked-up pc (ip, or ip-1 unless
	                         * exact_ip) is always inside [start, start + func_size);
	                         * 0 for a sizeless symbol matched at its exact address
	                         * (__restore_rt) */
	char *src_file;         /* DWARF line info (absolute when the CU says so), or NULL */
	int src_line;           /* ... or 0 */
	bool signal_frame;      /* the sigreturn trampoline (__restore_rt); the frame after it
	                         * is the interrupted context, looked up at its exact pc */
	bool exact_ip;          /* looked up at ip (frame #0, signal frames), else at ip-1 */
	bool inlined;           /* a function the compiler inlined at this pc: no frame of its
	                         * own on the stack (symbolizer_inline_frames) */
	/* filled by the Python merge (another engineer): */
	bool is_python;
	char *py_file;
	char *py_func;
	int py_line;
};
#define FRAME_INIT { 0 }

/* Free the strings of f and zero it (f itself is not freed). NULL ok. */
void frame_release(struct frame *f);
/* frame_release() each of frames[0..n) then free(frames). NULL ok. */
void frames_free(struct frame *frames, size_t n);

/* Per process: maps cache, references into the ELF/DWARF caches, libunwind address space. */
struct symbolizer;

/* Flags for symbolizer_new_flags(). */
enum symbolizer_flags {
	/* Ignore separate debug files (/usr/lib/debug, .gnu_debuglink): symbols come from
	 * the binaries only, as on a machine without -dbg packages. Mostly for tests. */
	SYMBOLIZER_NO_DEBUGINFO = 1 << 0,
	/* Skip DWARF line lookups (src_file/src_line stay NULL/0): faster first snapshot. */
	SYMBOLIZER_NO_LINES = 1 << 1,
	/* Read memory through /proc/PID/mem, never process_vm_readv. Mostly for tests. */
	SYMBOLIZER_PROCMEM = 1 << 2,
};

/*
 * Directory for saved line tables (DWARF lines of modules whose debug sections are
 * compressed, keyed by build-id; see linecache.c). NULL or "" disables saving and loading.
 * Process-wide; not set by default.
 */
void symbolizer_set_cache_dir(const char *dir);
const char *symbolizer_cache_dir(void);

/*
 * When a module's tables are missing from the cache directory: SYMCACHE_SAVE_NOW (the
 * default) builds the whole symbol and line tables at the first lookup and saves them;
 * SYMCACHE_SAVE_LATER answers from what is cheap (the symbol table, the lines of the units
 * asked for) and notes the module, and symbolizer_cache_save_pending() builds and saves its
 * tables later (ftscope dump does that in a child, after printing). The answers are the
 * same either way, and without a cache directory.
 */
enum symbolizer_cache_mode { SYMCACHE_SAVE_NOW, SYMCACHE_SAVE_LATER };
void symbolizer_set_cache_mode(enum symbolizer_cache_mode mode);
/* Modules noted by SYMCACHE_SAVE_LATER lookups since the last save. */
size_t symbolizer_cache_pending(void);
/* Build and save their tables (slow: whole DWARF line tables); then forget them. The number
 * of modules whose tables were saved. */
size_t symbolizer_cache_save_pending(void);
/* Forget them without saving. */
void symbolizer_cache_drop_pending(void);
/* The builders' lock, <cache>/.build.lock, taken without waiting (one builder at a time; a
 * script can wait for it with flock). An fd to keep while building, or -errno
 * (-EWOULDBLOCK: someone else builds). */
int symbolizer_cache_lock(void);

/* NULL + errno on failure (ESRCH: no such process, EACCES...). Owned by the caller. */
struct symbolizer *symbolizer_new(pid_t pid);
struct symbolizer *symbolizer_new_flags(pid_t pid, unsigned flags);
void symbolizer_free(struct symbolizer *s);     /* NULL ok */
pid_t symbolizer_pid(const struct symbolizer *s);

/*
 * Re-read /proc/PID/maps: call it at the start of every snapshot but the first (the
 * process may have dlopen'ed, dlclose'd or exec'ed since). Mappings that did not change
 * keep their parsed ELF; the next walk flushes libunwind's cache if anything changed.
 * Lookups that miss every mapping re-read maps once by themselves. 0 or -errno.
 */
int symbolizer_refresh_maps(struct symbolizer *s);

/*
 * Fill f from ip; f is overwritten without being released (pass a zeroed or released
 * frame). is_return_address: look up ip-1 (callers' frames); exact ip for frame #0 and
 * signal frames. Returns 0 (fields that cannot be trusted stay NULL/0), or -ENOENT when ip
 * is in no mapping (f->ip is still set).
 */
int symbolizer_lookup(struct symbolizer *s, uint64_t ip, bool is_return_address, struct frame *f);

/*
 * file:line of a frame filled earlier by symbolizer_lookup() on a SYMBOLIZER_NO_LINES
 * symbolizer of the same process (the maps and ELF files are still cached, so this works
 * after the process was released). 0, or -ENOENT (f unchanged).
 */
int symbolizer_lookup_line(struct symbolizer *s, struct frame *f);

/*
 * The functions the compiler inlined at f's pc (DWARF DW_TAG_inlined_subroutine), as
 * gdb, `eu-stack -i` and `addr2line -i` show them: *out gets *n frames (innermost first,
 * malloc'd, frames_free) that stand before f, each `inlined`, with the same ip, module and
 * offset, the inlined function's name and where it is at (the innermost: f's file:line as
 * looked up; the others: where the next one was inlined, DW_AT_call_file/line); f's own
 * file:line becomes the place where the outermost was inlined. 0 (*n may be 0: nothing
 * inlined there, or no DWARF) or -ENOENT. Like symbolizer_lookup_line(), this works after
 * the process was released, and it costs nothing for a module without debug info.
 */
int symbolizer_inline_frames(struct symbolizer *s, struct frame *f, struct frame **out, size_t *n);

/*
 * Before the target is stopped: start, on threads of their own (one per module), what
 * lookups in the process's executable modules will need: their symbols, their saved line
 * tables, or when those are not saved (a host's first snapshot) each module's line index
 * (inflating a compressed .debug_line, say) and the units of hints[] (absolute addresses
 * likely in the stacks, such as the eval loop's). The threads run at the lowest priority
 * until symbolizer_prepare_go() (call it once the target is released) or until a lookup
 * waits for them. Lookups wait for them, and so does symbolizer_prepare_wait() (before a
 * fork, say).
 */
void symbolizer_prepare_lines(struct symbolizer *s, const uint64_t *hints, size_t nhints);
void symbolizer_prepare_go(void);
/* The pcs the target's threads were stopped at: the preparation of the modules they are in
 * goes on to what their inlined functions need (a compressed debug file's units, inflated);
 * the other modules' ends with their lines (a later lookup there opens it then). */
void symbolizer_prepare_pcs(struct symbolizer *s, const uint64_t *pcs, size_t n);
/* The native frames of the stacks (after the unwinding): each module's preparation decodes
 * the units they are in, side by side, once symbolizer_prepare_frames_done() is called (a
 * lookup calls it too). */
void symbolizer_prepare_frames(struct symbolizer *s, const struct frame *frames, size_t n);
void symbolizer_prepare_frames_done(void);
void symbolizer_prepare_wait(void);

/*
 * Address of symbol `name` (function or object, .dynsym/.symtab/debug file) in the first
 * mapped module whose basename starts with `module_prefix` ("libc.so", "python3.13t",
 * "libpython3.13t.so"; NULL = any module, main executable first). 0 or -ENOENT.
 */
int symbolizer_find_symbol(struct symbolizer *s, const char *module_prefix, const char *name,
			   uint64_t *addr);

/*
 * Unwind one ptrace-stopped thread (tid must be a thread of symbolizer_pid(s): that is not
 * checked) with
 * libunwind-ptrace and symbolize each frame. *frames is a malloc'd array of *n frames,
 * innermost first (caller frees with frames_free). max bounds the depth (e.g. 256);
 * unwinding also stops at a repeated (ip, sp) pair or when libunwind gives up, so the
 * result may be partial. 0 (at least frame #0) or -errno (-ESRCH: thread gone or not
 * stopped).
 */
int unwind_thread(struct symbolizer *s, pid_t tid, size_t max, struct frame **frames, size_t *n);

/*
 * The same from registers read earlier (PTRACE_GETREGS while tid was held), with memory from
 * the snapshot's pages (symbolizer_mem_*): no ptrace call, so this works after the thread
 * was released, and gives its stack as it was when the pages were read -- prefetch the
 * stack (from regs->rsp to the end of its mapping) while holding the thread. Unlike
 * unwind_thread() this does not reset the snapshot's pages.
 */
struct user_regs_struct;
int unwind_thread_regs(struct symbolizer *s, pid_t tid, const struct user_regs_struct *regs,
		       size_t max, struct frame **frames, size_t *n);

/*
 * Streaming form (strace-style backends): fn is called once per frame, innermost first;
 * the frame is borrowed for the call only. A non-zero return from fn stops the walk and
 * is returned. Otherwise 0 or -errno as unwind_thread().
 */
typedef int (*frame_fn)(void *data, const struct frame *f);

/*
 * Unwinder backends (strace's unwinder_ops pattern). unwind_thread() uses
 * unwinder_libunwind; a BPF stack-id backend would provide the same operations.
 */
struct unwinder_ops {
	const char *name;
	/* Per-process state, created lazily by walk() if init() was not called. 0 or -errno. */
	int (*init)(struct symbolizer *s);
	int (*walk)(struct symbolizer *s, pid_t tid, size_t max, frame_fn fn, void *data);
	/* from saved registers, see unwind_thread_regs() */
	int (*walk_regs)(struct symbolizer *s, pid_t tid, const struct user_regs_struct *regs,
			 size_t max, frame_fn fn, void *data);
	void (*fini)(struct symbolizer *s);
};
extern const struct unwinder_ops unwinder_libunwind;

/* End of the mapping holding addr (its stack's, for a stack pointer), 0 if none. */
uint64_t symbolizer_map_end(struct symbolizer *s, uint64_t addr);

/* Read len bytes at addr of the process (process_vm_readv, falling back to
 * /proc/PID/mem), uncached. 0, or -errno (-EFAULT for a partial read). */
int symbolizer_read_mem(struct symbolizer *s, uint64_t addr, void *buf, size_t len);

/*
 * Snapshot memory (memcache.c): the target's memory in blocks of SYMBOLIZER_MEM_BLOCK bytes
 * (whole pages in read-only mappings), each read once per snapshot and kept, shared by the
 * unwinder and the Python reader. Whatever was read or prefetched while the threads were
 * held is what every later read returns, even after they were released; a block nobody
 * read before is read when first asked for. Pages of non-writable mappings survive
 * symbolizer_mem_reset() until the maps change.
 */
#define SYMBOLIZER_MEM_BLOCK 256u
struct mem_range {
	uint64_t addr, len;
};
struct mem_stats {
	unsigned reads;         /* system calls that read target memory */
	unsigned prefetches;    /* symbolizer_mem_prefetch() calls that read something */
	size_t pages;           /* bytes read, in pages (rounded up) */
};
/* Start a snapshot: forget the pages of writable mappings. */
void symbolizer_mem_reset(struct symbolizer *s);
/* Cached read: 0, -EFAULT (unreadable) or -ESRCH (process gone). */
int symbolizer_mem_read(struct symbolizer *s, uint64_t addr, void *buf, size_t len);
/* Bring the pages of these ranges in with as few system calls as possible (best effort:
 * ranges outside every readable mapping are skipped). */
void symbolizer_mem_prefetch(struct symbolizer *s, const struct mem_range *ranges, size_t n);
/* Make room for bytes of writable memory and touch it now, before the threads are stopped:
 * on a VM the first touch of a page of ours costs 10-50 us, so a prefetch into memory never
 * touched before is slow, and the stacks are read while the threads are held. */
void symbolizer_mem_reserve(struct symbolizer *s, size_t bytes);
/* Whether a read of [addr, addr + len) would be answered without reading the target
 * (every page already read, readable or not). */
bool symbolizer_mem_cached(struct symbolizer *s, uint64_t addr, size_t len);
/* Reads since the last symbolizer_mem_reset() (borrowed). */
const struct mem_stats *symbolizer_mem_stats(struct symbolizer *s);

#endif
