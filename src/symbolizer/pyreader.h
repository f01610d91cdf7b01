/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Private to the Python frame reader (pyframes.c, pyoffsets.c, pyobjects.c, pywalk.c): the
 * layout it reads with, the reader, its reads of target memory, and what one file calls in
 * another.
 */
#ifndef FTSCOPE_SYMBOLIZER_PYREADER_H
#define FTSCOPE_SYMBOLIZER_PYREADER_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ftscope/pyframes.h"
#include "ftscope/util.h"
#include "internal.h"

/*
 * Mirrors of _Py_DebugOffsets; every member is a uint64 filled by offsetof()/sizeof() at
 * build time. Members are inserted mid-struct between minors, so select by version first.
 */
struct dbg_head {
	char cookie[8];
	uint64_t version;
	uint64_t free_threaded;
};

struct dbg313 {
	struct dbg_head h;
	struct { uint64_t size, finalizing, interpreters_head; } runtime_state;
	struct {
		uint64_t size, id, next, threads_head, gc, imports_modules, sysdict, builtins,
			ceval_gil, gil_runtime_state, gil_runtime_state_enabled,
			gil_runtime_state_locked, gil_runtime_state_holder;
	} interpreter_state;
	struct {
		uint64_t size, prev, next, interp, current_frame, thread_id, native_thread_id,
			datastack_chunk, status;
	} thread_state;
	struct { uint64_t size, previous, executable, instr_ptr, localsplus, owner; } interpreter_frame;
	struct {
		uint64_t size, filename, name, qualname, linetable, firstlineno, argcount,
			localsplusnames, localspluskinds, co_code_adaptive;
	} code_object;
	struct { uint64_t size, ob_type; } pyobject;
	struct { uint64_t size, tp_name, tp_repr, tp_flags; } type_object;
	struct { uint64_t size, ob_item, ob_size; } tuple_object;
	struct { uint64_t size, ob_item, ob_size; } list_object;
	struct { uint64_t size, ma_keys, ma_values; } dict_object;
	struct { uint64_t size, ob_fval; } float_object;
	struct { uint64_t size, lv_tag, ob_digit; } long_object;
	struct { uint64_t size, ob_size, ob_sval; } bytes_object;
	struct { uint64_t size, state, length, asciiobject_size; } unicode_object;
	struct { uint64_t size, collecting; } gc;
};

struct dbg314 {
	struct dbg_head h;
	struct { uint64_t size, finalizing, interpreters_head; } runtime_state;
	struct {
		uint64_t size, id, next, threads_head, threads_main, gc, imports_modules, sysdict,
			builtins, ceval_gil, gil_runtime_state, gil_runtime_state_enabled,
			gil_runtime_state_locked, gil_runtime_state_holder, code_object_generation,
			tlbc_generation;
	} interpreter_state;
	struct {
		uint64_t size, prev, next, interp, current_frame, thread_id, native_thread_id,
			datastack_chunk, status;
	} thread_state;
	struct {
		uint64_t size, previous, executable, instr_ptr, localsplus, owner, stackpointer,
			tlbc_index;
	} interpreter_frame;
	struct {
		uint64_t size, filename, name, qualname, linetable, firstlineno, argcount,
			localsplusnames, localspluskinds, co_code_adaptive, co_tlbc;
	} code_object;
	struct { uint64_t size, ob_type; } pyobject;
	struct { uint64_t size, tp_name, tp_repr, tp_flags; } type_object;
	struct { uint64_t size, ob_item, ob_size; } tuple_object;
	struct { uint64_t size, ob_item, ob_size; } list_object;
	struct { uint64_t size, used, table, mask; } set_object;
	struct { uint64_t size, ma_keys, ma_values; } dict_object;
	struct { uint64_t size, ob_fval; } float_object;
	struct { uint64_t size, lv_tag, ob_digit; } long_object;
	struct { uint64_t size, ob_size, ob_sval; } bytes_object;
	struct { uint64_t size, state, length, asciiobject_size; } unicode_object;
	struct { uint64_t size, collecting; } gc;
	struct { uint64_t size, gi_name, gi_iframe, gi_frame_state; } gen_object;
	struct { uint64_t next, prev; } llist_node;
	struct {
		uint64_t eval_breaker, remote_debugger_support, remote_debugging_enabled,
			debugger_pending_call, debugger_script_path, debugger_script_path_size;
	} debugger_support;
};

_Static_assert(sizeof(struct dbg313) == 73 * 8, "3.13 _Py_DebugOffsets is 73 words");
_Static_assert(sizeof(struct dbg314) == 95 * 8, "3.14 _Py_DebugOffsets is 95 words");

/* The offsets the reader uses, whatever the version. */
struct py_layout {
	uint32_t version;
	int minor;
	bool ft;
	struct { uint64_t size, interpreters_head; } rt;
	struct {
		uint64_t size, id, next, threads_head, threads_main, gil, gil_enabled, gil_locked,
			gil_holder;
	} is;
	struct { uint64_t size, next, current_frame, thread_id, native_thread_id; } ts;
	struct { uint64_t size, previous, executable, instr_ptr, owner, tlbc_index; } fr;
	struct {
		uint64_t size, filename, qualname, linetable, firstlineno, code_adaptive, tlbc;
	} co;
	struct { uint64_t size, ob_type; } ob;
	struct { uint64_t size, tp_name, tp_flags; } ty;
	struct { uint64_t size, ob_size, ob_sval; } by;
	struct { uint64_t localsplusnames, localspluskinds; } co2;
	struct { uint64_t ob_item, ob_size; } tu;
	struct { uint64_t ma_keys, ma_values; } di;
	struct { uint64_t size, state, length, ascii_size; } un;
};

#define MAX_STRUCT_SIZE (1u << 20)
#define PAGE 4096u
#define CODE_SLOTS 1024u
#define USER_ADDR_END (1ull << 47)

struct code_info {
	uint64_t addr;
	uint32_t gen;
	bool ok;
	char *file, *func;
	int firstlineno;
	uint8_t *lt;            /* co_linetable bytes, NULL if unreadable */
	size_t ltlen;
};

struct addr_set {
	uint64_t *keys;
	uint32_t *gens;
	size_t cap;             /* power of two */
	size_t n;               /* keys of the current generation */
	uint32_t gen;
};

struct pyreader {
	pid_t pid;
	/* maps, ELF files and the snapshot's pages of the process (src/symbolizer/maps.c,
	 * memcache.c): shared with the native unwinder of a snapshot, or our own */
	struct symbolizer *sym;
	bool own_sym;
	struct py_layout L;
	char version[32];
	uint64_t runtime;
	const char *how;
	uint64_t code_type, unicode_type, bytes_type; /* 0 if unknown */
	uint64_t eval_loop;     /* _PyEval_EvalFrameDefault, 0 if unknown */
	uint64_t line_hints[16]; /* the eval loop and other functions on most stacks */
	size_t nline_hints;
	uint64_t code_type_guess;       /* learned from tp_name when PyCode_Type is unknown */
	uint32_t gen;
	struct code_info *codes;
	struct addr_set interps, tstates, frames;
	struct { uint64_t type; int kind; } tcache[256]; /* type object -> TK_*, hashed */
	size_t ntcache;
	/* reads wanted next, fetched together (want_add, want_fetch); one entry per block */
	struct mem_range *want;
	size_t nwant, capwant;
	struct addr_set want_pages;
	/* between pyreader_threads_read and pyreader_threads_decode */
	struct walk *walk;
};

enum { TK_OTHER, TK_LOCK, TK_RLOCK, TK_CFUNC };

/*
 * Target memory: the snapshot's pages (src/symbolizer/memcache.c), shared with the unwinder.
 */

/* Uncached read of exactly len bytes: 0, -EFAULT (unmapped) or -ESRCH (gone). */
static inline int mem_read_raw(struct pyreader *r, uint64_t addr, void *buf, size_t len)
{
	int err;
	if (!addr || addr >= USER_ADDR_END || len > USER_ADDR_END - addr)
		return -EFAULT;
	err = symbolizer_read_mem(r->sym, addr, buf, len);
	return !err || err == -ESRCH ? err : -EFAULT;
}

/* Cached read (pages stay valid for one snapshot). A large read (a long line table)
 * bypasses the page cache. */
static inline int mem_read(struct pyreader *r, uint64_t addr, void *buf, size_t len)
{
	int err;
	if (!addr || addr >= USER_ADDR_END || len > USER_ADDR_END - addr)
		return -EFAULT;
	if (len > 16 * PAGE)
		return mem_read_raw(r, addr, buf, len);
	err = symbolizer_mem_read(r->sym, addr, buf, len);
	return !err || err == -ESRCH ? err : -EFAULT;
}

static inline int rd_u64(struct pyreader *r, uint64_t addr, uint64_t *v)
{
	return mem_read(r, addr, v, sizeof(*v));
}

static inline int rd_i64(struct pyreader *r, uint64_t addr, int64_t *v)
{
	return mem_read(r, addr, v, sizeof(*v));
}

static inline int rd_i32(struct pyreader *r, uint64_t addr, int32_t *v)
{
	return mem_read(r, addr, v, sizeof(*v));
}

/* pymem.c */
void want_add(struct pyreader *r, uint64_t addr, uint64_t len);
void want_fetch(struct pyreader *r);
void aset_init(struct addr_set *s, size_t cap);
void aset_release(struct addr_set *s);
bool aset_add(struct addr_set *s, uint64_t k);
void aset_clear(struct addr_set *s);
void code_info_release(struct code_info *c);
void snapshot_begin(struct pyreader *r);

/* pyoffsets.c */
void version_string(uint32_t v, char *buf, size_t n);
int parse_offsets(const void *raw, size_t len, struct py_layout *L, struct sbuf *why);

/* pyobjects.c */
bool is_code(struct pyreader *r, uint64_t exe);
const struct code_info *code_lookup(struct pyreader *r, uint64_t code);
int frame_line(struct pyreader *r, const struct code_info *c, uint64_t code, uint64_t instr_ptr,
	       int32_t tlbc_index);
int frame_slots(struct pyreader *r, uint64_t code, size_t *nslots);
void scan_locks(struct pyreader *r, uint64_t frame, uint64_t code, struct py_thread *t,
		size_t idx);
char *thread_name(struct pyreader *r, const struct py_thread *t);

/* pywalk.c */
void walk_free(struct walk *w);

#endif
