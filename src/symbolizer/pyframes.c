/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Python stacks out of process from CPython's _Py_DebugOffsets (3.13, 3.14; default and
 * free-threaded). Sources of truth for the layouts: 3.13.5's Include/internal/pycore_runtime.h
 * (+ pycore_runtime_init.h), 3.14's Include/internal/pycore_debug_offsets.h. Everything read
 * from the target is untrusted: every loop is bounded and every length is checked.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	uint64_t code_type_guess;       /* learned from tp_name when PyCode_Type is unknown */
	uint32_t gen;
	struct code_info *codes;
	struct addr_set interps, tstates, frames;
	struct { uint64_t type; int kind; } tcache[256]; /* type object -> TK_*, hashed */
	size_t ntcache;
	/* reads wanted next, fetched together (want_add, want_fetch); one entry per page */
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
static int mem_read_raw(struct pyreader *r, uint64_t addr, void *buf, size_t len)
{
	int err;
	if (!addr || addr >= USER_ADDR_END || len > USER_ADDR_END - addr)
		return -EFAULT;
	err = symbolizer_read_mem(r->sym, addr, buf, len);
	return !err || err == -ESRCH ? err : -EFAULT;
}

static bool aset_add(struct addr_set *s, uint64_t k);
static void aset_clear(struct addr_set *s);
static void walk_free(struct walk *w);

/* Note a read for the next want_fetch, unless its pages are read or noted already. */
static void want_add(struct pyreader *r, uint64_t addr, uint64_t len)
{
	if (!addr || addr >= USER_ADDR_END || !len || len > USER_ADDR_END - addr ||
	    symbolizer_mem_cached(r->sym, addr, len))
		return;
	if ((addr ^ (addr + len - 1)) < PAGE && !aset_add(&r->want_pages, addr & ~(uint64_t)(PAGE - 1)))
		return; /* within one page, noted already */
	if (r->nwant == r->capwant) {
		r->capwant = r->capwant ? 2 * r->capwant : 256;
		r->want = xrealloc(r->want, r->capwant * sizeof(*r->want));
	}
	r->want[r->nwant++] = (struct mem_range){ addr, len };
}

/* Read what was wanted, in one go. */
static void want_fetch(struct pyreader *r)
{
	if (r->nwant)
		symbolizer_mem_prefetch(r->sym, r->want, r->nwant);
	r->nwant = 0;
	aset_clear(&r->want_pages);
}

/* Cached read (pages stay valid for one snapshot). A large read (a long line table)
 * bypasses the page cache. */
static int mem_read(struct pyreader *r, uint64_t addr, void *buf, size_t len)
{
	int err;
	if (!addr || addr >= USER_ADDR_END || len > USER_ADDR_END - addr)
		return -EFAULT;
	if (len > 16 * PAGE)
		return mem_read_raw(r, addr, buf, len);
	err = symbolizer_mem_read(r->sym, addr, buf, len);
	return !err || err == -ESRCH ? err : -EFAULT;
}

/*
 * Bring the pages holding addrs[0..n) (0s skipped) into the snapshot's pages with as few
 * process_vm_readv calls as possible: the objects a frame's locals point to are scattered,
 * and reading their headers one page fault of a syscall at a time was most of a snapshot's
 * reads. Best effort: what cannot be read is left to mem_read.
 */
static void mem_prefetch(struct pyreader *r, const uint64_t *addrs, size_t n)
{
	struct mem_range *rg;
	size_t k = 0;

	rg = xmalloc((n ? n : 1) * sizeof(*rg));
	for (size_t i = 0; i < n; i++)
		if (addrs[i] && addrs[i] < USER_ADDR_END)
			rg[k++] = (struct mem_range){ addrs[i], 1 };
	symbolizer_mem_prefetch(r->sym, rg, k);
	free(rg);
}

static int rd_u64(struct pyreader *r, uint64_t addr, uint64_t *v)
{
	return mem_read(r, addr, v, sizeof(*v));
}

static int rd_i64(struct pyreader *r, uint64_t addr, int64_t *v)
{
	return mem_read(r, addr, v, sizeof(*v));
}

static int rd_i32(struct pyreader *r, uint64_t addr, int32_t *v)
{
	return mem_read(r, addr, v, sizeof(*v));
}

/*
 * Cycle detection: open-addressed sets of addresses, cleared in O(1) by a generation bump.
 */

static void aset_init(struct addr_set *s, size_t cap)
{
	s->keys = xcalloc(cap, sizeof(*s->keys));
	s->gens = xcalloc(cap, sizeof(*s->gens));
	s->cap = cap;
	s->gen = 0;
}

static void aset_release(struct addr_set *s)
{
	free(s->keys);
	free(s->gens);
	memset(s, 0, sizeof(*s));
}

static void aset_clear(struct addr_set *s)
{
	s->n = 0;
	if (++s->gen == 0) {
		memset(s->gens, 0, s->cap * sizeof(*s->gens));
		s->gen = 1;
	}
}

static bool aset_add(struct addr_set *s, uint64_t k);

/* Twice the room, same keys (the frames of every thread of a large process go in one set). */
static void aset_grow(struct addr_set *s)
{
	struct addr_set old = *s;
	aset_init(s, 2 * old.cap);
	s->gen = 1;
	for (size_t i = 0; i < old.cap; i++)
		if (old.gens[i] == old.gen)
			aset_add(s, old.keys[i]);
	aset_release(&old);
}

/* false if k is already in the set (a cycle) */
static bool aset_add(struct addr_set *s, uint64_t k)
{
	size_t mask, i;
	if (2 * (s->n + 1) > s->cap)
		aset_grow(s);
	mask = s->cap - 1;
	i = (size_t)(((k >> 3) * 0x9e3779b97f4a7c15ull) >> 20) & mask;
	for (size_t probes = 0; probes < s->cap; probes++, i = (i + 1) & mask) {
		if (s->gens[i] != s->gen) {
			s->gens[i] = s->gen;
			s->keys[i] = k;
			s->n++;
			return true;
		}
		if (s->keys[i] == k)
			return false;
	}
	return false;
}

/*
 * Location table (Objects/locations.md): entries start with a byte 1cccclll, length lll+1 code
 * units, code cccc: 15 none, 14 long, 13 no columns, 10-12 one line, 0-9 short.
 */

struct lt_cursor {
	const uint8_t *p, *end;
	bool bad;
};

static uint8_t lt_byte(struct lt_cursor *c)
{
	if (c->p >= c->end || (*c->p & 0x80)) {
		c->bad = true;  /* truncated, or ran into the next entry */
		return 0;
	}
	return *c->p++;
}

static uint32_t lt_varint(struct lt_cursor *c)
{
	uint8_t b = lt_byte(c);
	uint32_t v = b & 63;
	unsigned shift = 0;
	while ((b & 64) && !c->bad) {
		shift += 6;
		if (shift > 30) {
			c->bad = true;
			return 0;
		}
		b = lt_byte(c);
		v |= (uint32_t)(b & 63) << shift;
	}
	return v;
}

static int32_t lt_svarint(struct lt_cursor *c)
{
	uint32_t u = lt_varint(c);
	int32_t v = (int32_t)(u >> 1);
	return (u & 1) ? -v : v;
}

int py_linetable_lookup(const uint8_t *tab, size_t len, int firstlineno, uint64_t addrq,
			struct py_location *loc)
{
	struct lt_cursor c = { tab, tab + len, false };
	uint64_t addr = 0;
	int64_t line = firstlineno;

	while (c.p < c.end) {
		uint8_t first = *c.p++;
		int code = (first >> 3) & 15;
		uint64_t end = addr + (first & 7) + 1;
		struct py_location l = { -1, -1, -1, -1 };

		if (!(first & 0x80))
			return -EINVAL;
		switch (code) {
		case 15:
			break;
		case 14:
			line += lt_svarint(&c);
			l.line = (int)line;
			l.end_line = (int)(line + lt_varint(&c));
			l.col = (int)lt_varint(&c) - 1;
			l.end_col = (int)lt_varint(&c) - 1;
			break;
		case 13:
			line += lt_svarint(&c);
			l.line = l.end_line = (int)line;
			break;
		case 10:
		case 11:
		case 12:
			line += code - 10;
			l.line = l.end_line = (int)line;
			l.col = lt_byte(&c);
			l.end_col = lt_byte(&c);
			break;
		default: {
			uint8_t second = lt_byte(&c);
			l.line = l.end_line = (int)line;
			l.col = code * 8 + ((second >> 4) & 7);
			l.end_col = l.col + (second & 15);
			break;
		}
		}
		if (c.bad || line < -(1 << 30) || line > (1 << 30))
			return -EINVAL;
		if (addr <= addrq && addrq < end) {
			*loc = l;
			return 0;
		}
		addr = end;
	}
	return -ENOENT;
}

/*
 * Debug offsets: parse, normalize, validate.
 */

static void version_string(uint32_t v, char *buf, size_t n)
{
	static const char *const level[16] = { [0xa] = "a", [0xb] = "b", [0xc] = "rc" };
	unsigned lv = (v >> 4) & 0xf;
	if (lv == 0xf)
		snprintf(buf, n, "%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff);
	else
		snprintf(buf, n, "%u.%u.%u%s%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff,
			 level[lv] ? level[lv] : "?", v & 0xf);
}

static int check_size(struct sbuf *why, const char *sname, uint64_t size)
{
	if (size && size < MAX_STRUCT_SIZE)
		return 0;
	sbuf_addf(why, "corrupt debug offsets: %s.size is %" PRIu64, sname, size);
	return -1;
}

static int check_field(struct sbuf *why, const char *sname, uint64_t size, const char *fname,
		       uint64_t off, uint64_t width)
{
	if (off < MAX_STRUCT_SIZE && off + width <= size)
		return 0;
	sbuf_addf(why, "corrupt debug offsets: %s.%s (%" PRIu64 ") + %" PRIu64
		  " is beyond %s.size (%" PRIu64 ")", sname, fname, off, width, sname, size);
	return -1;
}

/* a + b, or an impossible offset if either is implausible */
static uint64_t sum_off(uint64_t a, uint64_t b)
{
	return a < MAX_STRUCT_SIZE && b < MAX_STRUCT_SIZE ? a + b : UINT64_MAX;
}

#define SIZE(sec) check_size(why, #sec, d->sec.size)
#define FIELD(sec, f, w) check_field(why, #sec, d->sec.size, #f, d->sec.f, (w))

/* The members both layouts share, checked on either mirror (a macro: two struct types). */
#define CHECK_COMMON(d)                                                                   \
	(SIZE(runtime_state) || FIELD(runtime_state, finalizing, 8) ||                      \
	 FIELD(runtime_state, interpreters_head, 8) ||                                      \
	 SIZE(interpreter_state) || FIELD(interpreter_state, id, 8) ||                      \
	 FIELD(interpreter_state, next, 8) || FIELD(interpreter_state, threads_head, 8) ||  \
	 FIELD(interpreter_state, gc, 1) || FIELD(interpreter_state, imports_modules, 8) || \
	 FIELD(interpreter_state, sysdict, 8) || FIELD(interpreter_state, builtins, 8) ||   \
	 FIELD(interpreter_state, ceval_gil, 8) ||                                          \
	 FIELD(interpreter_state, gil_runtime_state, 1) ||                                  \
	 check_field(why, "interpreter_state", d->interpreter_state.size,                   \
		     "gil_runtime_state+gil_runtime_state_enabled",                          \
		     sum_off(d->interpreter_state.gil_runtime_state,                         \
			     d->interpreter_state.gil_runtime_state_enabled), 4) ||          \
	 FIELD(interpreter_state, gil_runtime_state_locked, 4) ||                          \
	 FIELD(interpreter_state, gil_runtime_state_holder, 8) ||                          \
	 SIZE(thread_state) || FIELD(thread_state, prev, 8) || FIELD(thread_state, next, 8) || \
	 FIELD(thread_state, interp, 8) || FIELD(thread_state, current_frame, 8) ||        \
	 FIELD(thread_state, thread_id, 8) || FIELD(thread_state, native_thread_id, 8) ||  \
	 FIELD(thread_state, datastack_chunk, 8) || FIELD(thread_state, status, 4) ||      \
	 SIZE(interpreter_frame) || FIELD(interpreter_frame, previous, 8) ||               \
	 FIELD(interpreter_frame, executable, 8) || FIELD(interpreter_frame, instr_ptr, 8) || \
	 FIELD(interpreter_frame, localsplus, 8) || FIELD(interpreter_frame, owner, 1) ||  \
	 SIZE(code_object) || FIELD(code_object, filename, 8) || FIELD(code_object, name, 8) || \
	 FIELD(code_object, qualname, 8) || FIELD(code_object, linetable, 8) ||            \
	 FIELD(code_object, firstlineno, 4) || FIELD(code_object, argcount, 4) ||          \
	 FIELD(code_object, localsplusnames, 8) || FIELD(code_object, localspluskinds, 8) || \
	 FIELD(code_object, co_code_adaptive, 2) ||                                        \
	 SIZE(pyobject) || FIELD(pyobject, ob_type, 8) ||                                  \
	 SIZE(type_object) || FIELD(type_object, tp_name, 8) ||                            \
	 FIELD(type_object, tp_repr, 8) || FIELD(type_object, tp_flags, 8) ||              \
	 SIZE(tuple_object) || FIELD(tuple_object, ob_item, 8) ||                          \
	 FIELD(tuple_object, ob_size, 8) ||                                                \
	 SIZE(list_object) || FIELD(list_object, ob_item, 8) || FIELD(list_object, ob_size, 8) || \
	 SIZE(dict_object) || FIELD(dict_object, ma_keys, 8) ||                            \
	 FIELD(dict_object, ma_values, 8) ||                                               \
	 SIZE(float_object) || FIELD(float_object, ob_fval, 8) ||                          \
	 SIZE(long_object) || FIELD(long_object, lv_tag, 8) ||                             \
	 FIELD(long_object, ob_digit, 1) ||                                                \
	 SIZE(bytes_object) || FIELD(bytes_object, ob_size, 8) ||                          \
	 FIELD(bytes_object, ob_sval, 1) ||                                                \
	 SIZE(unicode_object) || FIELD(unicode_object, state, 4) ||                        \
	 FIELD(unicode_object, length, 8) ||                                               \
	 FIELD(unicode_object, asciiobject_size, 0) ||                                     \
	 SIZE(gc) || FIELD(gc, collecting, 4))

#define NORMALIZE_COMMON(L, d)                                                            \
	do {                                                                              \
		(L)->rt.size = d->runtime_state.size;                                     \
		(L)->rt.interpreters_head = d->runtime_state.interpreters_head;           \
		(L)->is.size = d->interpreter_state.size;                                 \
		(L)->is.id = d->interpreter_state.id;                                     \
		(L)->is.next = d->interpreter_state.next;                                 \
		(L)->is.threads_head = d->interpreter_state.threads_head;                 \
		(L)->is.gil = d->interpreter_state.gil_runtime_state;                     \
		(L)->is.gil_enabled = d->interpreter_state.gil_runtime_state_enabled;     \
		(L)->is.gil_locked = d->interpreter_state.gil_runtime_state_locked;       \
		(L)->is.gil_holder = d->interpreter_state.gil_runtime_state_holder;       \
		(L)->ts.size = d->thread_state.size;                                      \
		(L)->ts.next = d->thread_state.next;                                      \
		(L)->ts.current_frame = d->thread_state.current_frame;                    \
		(L)->ts.thread_id = d->thread_state.thread_id;                            \
		(L)->ts.native_thread_id = d->thread_state.native_thread_id;              \
		(L)->fr.size = d->interpreter_frame.size;                                 \
		(L)->fr.previous = d->interpreter_frame.previous;                         \
		(L)->fr.executable = d->interpreter_frame.executable;                     \
		(L)->fr.instr_ptr = d->interpreter_frame.instr_ptr;                       \
		(L)->fr.owner = d->interpreter_frame.owner;                               \
		(L)->co.size = d->code_object.size;                                       \
		(L)->co.filename = d->code_object.filename;                               \
		(L)->co.qualname = d->code_object.qualname;                               \
		(L)->co.linetable = d->code_object.linetable;                             \
		(L)->co.firstlineno = d->code_object.firstlineno;                         \
		(L)->co.code_adaptive = d->code_object.co_code_adaptive;                  \
		(L)->ob.size = d->pyobject.size;                                          \
		(L)->ob.ob_type = d->pyobject.ob_type;                                    \
		(L)->ty.size = d->type_object.size;                                       \
		(L)->ty.tp_name = d->type_object.tp_name;                                 \
		(L)->ty.tp_flags = d->type_object.tp_flags;                               \
		(L)->co2.localsplusnames = d->code_object.localsplusnames;                \
		(L)->co2.localspluskinds = d->code_object.localspluskinds;                \
		(L)->tu.ob_item = d->tuple_object.ob_item;                                \
		(L)->tu.ob_size = d->tuple_object.ob_size;                                \
		(L)->di.ma_keys = d->dict_object.ma_keys;                                 \
		(L)->di.ma_values = d->dict_object.ma_values;                             \
		(L)->by.size = d->bytes_object.size;                                      \
		(L)->by.ob_size = d->bytes_object.ob_size;                                \
		(L)->by.ob_sval = d->bytes_object.ob_sval;                                \
		(L)->un.size = d->unicode_object.size;                                    \
		(L)->un.state = d->unicode_object.state;                                  \
		(L)->un.length = d->unicode_object.length;                                \
		(L)->un.ascii_size = d->unicode_object.asciiobject_size;                  \
	} while (0)

static int check_unicode(struct sbuf *why, uint64_t size, uint64_t state, uint64_t length,
			 uint64_t ascii_size)
{
	/* Compact data follows PyASCIIObject / PyCompactUnicodeObject (+ utf8_length, utf8). */
	if (ascii_size >= state + 4 && ascii_size >= length + 8 && ascii_size + 16 <= size)
		return 0;
	sbuf_addf(why, "corrupt debug offsets: unicode_object.asciiobject_size (%" PRIu64
		  ") does not fit between its fields and unicode_object.size (%" PRIu64 ")",
		  ascii_size, size);
	return -1;
}

static int parse_313(const struct dbg313 *d, struct py_layout *L, struct sbuf *why)
{
	if (CHECK_COMMON(d) ||
	    check_unicode(why, d->unicode_object.size, d->unicode_object.state,
			  d->unicode_object.length, d->unicode_object.asciiobject_size))
		return -1;
	NORMALIZE_COMMON(L, d);
	return 0;
}

static int parse_314(const struct dbg314 *d, struct py_layout *L, struct sbuf *why)
{
	bool ft = d->h.free_threaded;
	if (CHECK_COMMON(d) ||
	    check_unicode(why, d->unicode_object.size, d->unicode_object.state,
			  d->unicode_object.length, d->unicode_object.asciiobject_size) ||
	    FIELD(interpreter_state, threads_main, 8) ||
	    FIELD(interpreter_state, code_object_generation, 8) ||
	    FIELD(interpreter_frame, stackpointer, 8) ||
	    SIZE(set_object) || FIELD(set_object, used, 8) || FIELD(set_object, table, 8) ||
	    FIELD(set_object, mask, 8) ||
	    SIZE(gen_object) || FIELD(gen_object, gi_name, 8) || FIELD(gen_object, gi_iframe, 8) ||
	    FIELD(gen_object, gi_frame_state, 1))
		return -1;
	/* Thread-local bytecode exists in free-threaded builds only (0 elsewhere). */
	if (ft && (FIELD(interpreter_frame, tlbc_index, 4) || FIELD(code_object, co_tlbc, 8) ||
		   FIELD(interpreter_state, tlbc_generation, 4)))
		return -1;
	if (ft && (!d->interpreter_frame.tlbc_index || !d->code_object.co_tlbc)) {
		sbuf_addf(why, "corrupt debug offsets: free-threaded 3.14 without tlbc offsets");
		return -1;
	}
	NORMALIZE_COMMON(L, d);
	L->is.threads_main = d->interpreter_state.threads_main;
	if (ft) {
		L->fr.tlbc_index = d->interpreter_frame.tlbc_index;
		L->co.tlbc = d->code_object.co_tlbc;
	}
	return 0;
}

#undef SIZE
#undef FIELD

static int parse_offsets(const void *raw, size_t len, struct py_layout *L, struct sbuf *why)
{
	struct dbg_head h;
	unsigned major, minor, level;
	char vs[32];

	memset(L, 0, sizeof(*L));
	if (len < sizeof(h)) {
		sbuf_addf(why, "debug offsets truncated (%zu bytes)", len);
		return -1;
	}
	memcpy(&h, raw, sizeof(h));
	if (memcmp(h.cookie, "xdebugpy", 8)) {
		sbuf_addf(why, "no debug offsets (cookie \"xdebugpy\" missing)");
		return -1;
	}
	major = (unsigned)(h.version >> 24) & 0xff;
	minor = (unsigned)(h.version >> 16) & 0xff;
	level = (unsigned)(h.version >> 4) & 0xf;
	version_string((uint32_t)h.version, vs, sizeof(vs));
	if (h.version >> 32 || major != 3 || minor < 13 || minor > 14) {
		if (h.version >> 32 || major != 3)
			sbuf_addf(why, "debug offsets of version 0x%" PRIx64 " are not supported",
				  h.version);
		else
			sbuf_addf(why, "debug offsets of version %u.%u are not supported "
				  "(ftscope reads 3.13 and 3.14)", major, minor);
		return -1;
	}
	if (level != 0xf) {
		sbuf_addf(why, "debug offsets of version %s are not supported (final releases only)",
			  vs);
		return -1;
	}
	if (h.free_threaded > 1) {
		sbuf_addf(why, "corrupt debug offsets: free_threaded is %" PRIu64, h.free_threaded);
		return -1;
	}
	L->version = (uint32_t)h.version;
	L->minor = (int)minor;
	L->ft = h.free_threaded;
	if (minor == 13) {
		struct dbg313 d;
		if (len < sizeof(d)) {
			sbuf_addf(why, "debug offsets truncated (%zu of %zu bytes)", len, sizeof(d));
			return -1;
		}
		memcpy(&d, raw, sizeof(d));
		return parse_313(&d, L, why);
	} else {
		struct dbg314 d;
		if (len < sizeof(d)) {
			sbuf_addf(why, "debug offsets truncated (%zu of %zu bytes)", len, sizeof(d));
			return -1;
		}
		memcpy(&d, raw, sizeof(d));
		return parse_314(&d, L, why);
	}
}

int py_debug_offsets_check(const void *raw, size_t len, struct sbuf *why)
{
	struct py_layout L;
	return parse_offsets(raw, len, &L, why);
}

/*
 * Finding _PyRuntime: the symbolizer's maps and the ELF file of python/libpython.
 */

static bool is_python_map(const struct map_entry *m)
{
	return m->path && m->path[0] == '/' && strstr(m->base, "python") != NULL;
}

/* addr is inside a writable mapping of the file f */
static bool in_writable_map(const struct symbolizer *s, const struct map_entry *f, uint64_t addr)
{
	for (size_t i = 0; i < s->nmaps; i++) {
		const struct map_entry *m = &s->maps[i];
		if (m->path && m->inode == f->inode && !strcmp(m->path, f->path) &&
		    m->perms[1] == 'w' && addr >= m->start && addr + 24 <= m->end)
			return true;
	}
	return false;
}

static bool has_cookie(struct pyreader *r, uint64_t addr)
{
	char cookie[8];
	return !mem_read_raw(r, addr, cookie, sizeof(cookie)) && !memcmp(cookie, "xdebugpy", 8);
}

/* Scan one writable mapping for the cookie followed by a 3.13+ version. */
static uint64_t scan_map(struct pyreader *r, const struct map_entry *m)
{
	size_t chunk = 1u << 20;
	uint64_t *buf = xmalloc(chunk + 16), found = 0;
	for (uint64_t a = m->start; a < m->end && !found; a += chunk) {
		size_t len = m->end - a < chunk ? (size_t)(m->end - a) : chunk;
		if (mem_read_raw(r, a, buf, len))
			continue;
		for (size_t i = 0; i + 2 <= len / 8; i++) {
			uint64_t v = buf[i + 1];
			if (memcmp(&buf[i], "xdebugpy", 8) || (v >> 24) != 3 ||
			    ((v >> 16) & 0xff) < 13)
				continue;
			found = a + 8 * i;
			break;
		}
	}
	free(buf);
	return found;
}

static int locate_runtime(struct pyreader *r, unsigned flags, struct sbuf *why)
{
	static const char *const names[] = { "_PyRuntime", "PyCode_Type", "PyUnicode_Type",
					     "PyBytes_Type", "_PyEval_EvalFrameDefault" };
	struct symbolizer *s = r->sym;
	bool any_python = false;

	/* (a) symbol, (b) section, per python file in map order */
	for (size_t i = 0; i < s->nmaps; i++) {
		struct map_entry *m = &s->maps[i];
		uint64_t v[ARRAY_SIZE(names)], sec = 0, bias = 0;
		struct elf_file *ef;
		bool seen = false;

		if (!is_python_map(m))
			continue;
		for (size_t k = 0; k < i && !seen; k++)
			seen = s->maps[k].path && s->maps[k].inode == m->inode &&
			       !strcmp(s->maps[k].path, m->path);
		if (seen)
			continue;
		any_python = true;
		ef = maps_file_elf(s, m, &bias);
		if (!ef)
			continue;
		elf_file_symbols_by_name(ef, names, ARRAY_SIZE(names),
					 (1u << STT_OBJECT) | (1u << STT_FUNC), v);
		if (flags & PYREADER_NO_SYMBOL)
			v[0] = 0;
		if ((flags & PYREADER_NO_SECTION) || elf_file_section_addr(ef, ".PyRuntime", &sec))
			sec = 0;
		if (v[0] && in_writable_map(s, m, bias + v[0]) && has_cookie(r, bias + v[0])) {
			r->runtime = bias + v[0];
			r->how = "symbol";
		} else if (sec && in_writable_map(s, m, bias + sec) && has_cookie(r, bias + sec)) {
			r->runtime = bias + sec;
			r->how = "section";
		} else {
			continue;
		}
		r->code_type = v[1] ? bias + v[1] : 0;
		r->unicode_type = v[2] ? bias + v[2] : 0;
		r->bytes_type = v[3] ? bias + v[3] : 0;
		r->eval_loop = v[4] ? bias + v[4] : 0;
		return 0;
	}
	/* (c) cookie scan of writable file-backed python mappings */
	for (size_t i = 0; i < s->nmaps; i++) {
		uint64_t a;
		if (!is_python_map(&s->maps[i]) || s->maps[i].perms[1] != 'w')
			continue;
		a = scan_map(r, &s->maps[i]);
		if (a) {
			r->runtime = a;
			r->how = "scan";
			return 0;
		}
	}
	sbuf_addf(why, "no Python runtime in process %d (not CPython 3.13+?)", (int)r->pid);
	if (any_python)
		sbuf_addf(why, ": python is mapped but has no _PyRuntime with debug offsets");
	return -1;
}

/*
 * The reader.
 */

int pyreader_open(pid_t pid, struct pyreader **out, struct sbuf *why)
{
	return pyreader_open_flags(pid, 0, out, why);
}

/* Read and validate the table at r->runtime, then set up the snapshot caches. */
static int load_offsets(struct pyreader *r, struct sbuf *why)
{
	unsigned char raw[sizeof(struct dbg314)];
	struct dbg_head h;
	size_t len;
	int err;

	err = mem_read_raw(r, r->runtime, &h, sizeof(h));
	if (err) {
		sbuf_addf(why, "cannot read the debug offsets of process %d at 0x%" PRIx64 ": %s",
			  (int)r->pid, r->runtime, strerror(-err));
		return -1;
	}
	len = ((h.version >> 16) & 0xff) == 13 ? sizeof(struct dbg313) : sizeof(struct dbg314);
	err = mem_read_raw(r, r->runtime, raw, len);
	if (err) {
		/* A 3.12 table is shorter; report the version, not the read. */
		len = sizeof(h);
		memcpy(raw, &h, len);
	}
	if (parse_offsets(raw, len, &r->L, why))
		return -1;
	version_string(r->L.version, r->version, sizeof(r->version));
	r->codes = xcalloc(CODE_SLOTS, sizeof(*r->codes));
	/* small: they grow (aset_grow), and a page of them first touched is a page fault */
	aset_init(&r->interps, 64);
	aset_init(&r->tstates, 256);
	aset_init(&r->frames, 1024);
	aset_init(&r->want_pages, 256);
	return 0;
}

/* A reader on sym, or on a symbolizer of its own when sym is NULL. */
static struct pyreader *reader_new(pid_t pid, struct symbolizer *sym, unsigned flags,
				   struct sbuf *why)
{
	struct pyreader *r;
	if (kill(pid, 0) && errno == ESRCH) {
		sbuf_addf(why, "no process %d", (int)pid);
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->pid = pid;
	r->sym = sym;
	if (!sym) {
		r->sym = symbolizer_new_flags(pid, SYMBOLIZER_NO_LINES |
						   ((flags & PYREADER_PROCMEM) ? SYMBOLIZER_PROCMEM : 0));
		r->own_sym = true;
		if (!r->sym) {
			sbuf_addf(why, "cannot read /proc/%d/maps: %s", (int)pid, strerror(errno));
			free(r);
			return NULL;
		}
	}
	return r;
}

/* Locate the runtime (unless given) and validate; r (may be NULL) is freed on failure. */
static int open_reader(struct pyreader *r, unsigned flags, const uint64_t *given,
		       struct pyreader **out, struct sbuf *why)
{
	if (r && given) {
		r->runtime = *given;
		r->how = "given";
	}
	if (!r || (!given && locate_runtime(r, flags, why)) || load_offsets(r, why)) {
		pyreader_free(r);
		*out = NULL;
		return -1;
	}
	*out = r;
	return 0;
}

int pyreader_open_flags(pid_t pid, unsigned flags, struct pyreader **out, struct sbuf *why)
{
	return open_reader(reader_new(pid, NULL, flags, why), flags, NULL, out, why);
}

int pyreader_open_sym(struct symbolizer *sym, unsigned flags, struct pyreader **out,
		      struct sbuf *why)
{
	return open_reader(reader_new(symbolizer_pid(sym), sym, flags, why), flags, NULL, out, why);
}

int pyreader_open_runtime(pid_t pid, uint64_t runtime, struct pyreader **out, struct sbuf *why)
{
	return open_reader(reader_new(pid, NULL, 0, why), 0, &runtime, out, why);
}

static void code_info_release(struct code_info *c)
{
	free(c->file);
	free(c->func);
	free(c->lt);
	memset(c, 0, sizeof(*c));
}

void pyreader_free(struct pyreader *r)
{
	if (!r)
		return;
	if (r->codes)
		for (size_t i = 0; i < CODE_SLOTS; i++)
			code_info_release(&r->codes[i]);
	free(r->codes);
	aset_release(&r->interps);
	aset_release(&r->tstates);
	aset_release(&r->frames);
	walk_free(r->walk);
	if (r->own_sym)
		symbolizer_free(r->sym);
	free(r->want);
	aset_release(&r->want_pages);
	free(r);
}

const char *pyreader_version(const struct pyreader *r)
{
	return r->version;
}

uint32_t pyreader_version_hex(const struct pyreader *r)
{
	return r->L.version;
}

bool pyreader_free_threaded(const struct pyreader *r)
{
	return r->L.ft;
}

uint64_t pyreader_runtime_addr(const struct pyreader *r)
{
	return r->runtime;
}

const char *pyreader_runtime_how(const struct pyreader *r)
{
	return r->how;
}

uint64_t pyreader_eval_loop(const struct pyreader *r)
{
	return r->eval_loop;
}

/* Start a snapshot: invalidate code objects, and cached pages unless they are the
 * snapshot's (a shared symbolizer: its owner resets them). */
static void snapshot_begin(struct pyreader *r)
{
	if (r->own_sym)
		symbolizer_mem_reset(r->sym);
	if (++r->gen == 0) {
		for (size_t i = 0; i < CODE_SLOTS; i++)
			code_info_release(&r->codes[i]);
		r->gen = 1;
	}
}

/*
 * Objects.
 */

static bool type_is(struct pyreader *r, uint64_t obj, uint64_t type)
{
	uint64_t t;
	if (!type)
		return true;    /* symbol unknown: cannot check */
	return !rd_u64(r, obj + r->L.ob.ob_type, &t) && t == type;
}

static void utf8_put(struct sbuf *sb, uint32_t cp)
{
	char b[4];
	if (cp >= 0xdc80 && cp <= 0xdcff) {
		/* surrogateescape: an undecodable byte of a file name */
		sbuf_addc(sb, (char)(cp - 0xdc00));
		return;
	}
	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		sbuf_addc(sb, (char)cp);
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		sbuf_add(sb, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		sbuf_add(sb, b, 3);
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		sbuf_add(sb, b, 4);
	}
}

/* A str object as malloc'd UTF-8, or NULL. */
static char *read_str(struct pyreader *r, uint64_t obj)
{
	const struct py_layout *L = &r->L;
	uint32_t state, kind;
	int64_t length;
	uint64_t data;
	bool compact, ascii;
	unsigned char *buf;
	struct sbuf sb = SBUF_INIT;
	size_t n;

	if (!obj || !type_is(r, obj, r->unicode_type) || mem_read(r, obj + L->un.state, &state, 4) ||
	    rd_i64(r, obj + L->un.length, &length) || length < 0 || length > (1ll << 40))
		return NULL;
	if (L->minor >= 14 && L->ft) {
		/* 3.14t: `interned` is a whole byte, then kind:3 compact:1 ascii:1 */
		kind = (state >> 8) & 7;
		compact = (state >> 11) & 1;
		ascii = (state >> 12) & 1;
	} else {
		/* interned:2 kind:3 compact:1 ascii:1 statically_allocated:1 */
		kind = (state >> 2) & 7;
		compact = (state >> 5) & 1;
		ascii = (state >> 6) & 1;
	}
	if ((kind != 1 && kind != 2 && kind != 4) || (ascii && kind != 1))
		return NULL;
	if (compact && ascii)
		data = obj + L->un.ascii_size;
	else if (compact)
		data = obj + L->un.ascii_size + 16;
	else if (rd_u64(r, obj + L->un.ascii_size + 16, &data))
		return NULL;
	n = length > PY_MAX_STRLEN ? PY_MAX_STRLEN : (size_t)length;
	buf = xmalloc(n * kind + 1);
	if (mem_read(r, data, buf, n * kind)) {
		free(buf);
		return NULL;
	}
	sbuf_init(&sb);
	for (size_t i = 0; i < n; i++) {
		uint32_t cp;
		if (kind == 1) {
			cp = buf[i];
			if (ascii && cp >= 0x80)
				cp = 0xfffd;
		} else if (kind == 2) {
			uint16_t u;
			memcpy(&u, buf + 2 * i, 2);
			cp = u;
		} else {
			memcpy(&cp, buf + 4 * i, 4);
		}
		utf8_put(&sb, cp);
	}
	free(buf);
	return sbuf_detach(&sb);
}

/* A bytes object's contents (malloc'd), or -1. */
static int read_bytes(struct pyreader *r, uint64_t obj, uint8_t **out, size_t *len)
{
	int64_t size;
	uint8_t *buf;
	if (!obj || !type_is(r, obj, r->bytes_type) || rd_i64(r, obj + r->L.by.ob_size, &size) ||
	    size < 0 || size > PY_MAX_BYTESLEN)
		return -1;
	buf = xmalloc((size_t)size + 1);
	if (mem_read(r, obj + r->L.by.ob_sval, buf, (size_t)size)) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = (size_t)size;
	return 0;
}

/* f_executable is a code object (PyCode_Type, or a type named "code" without symbols). */
static bool is_code(struct pyreader *r, uint64_t exe)
{
	uint64_t t, name;
	char buf[8];

	if (rd_u64(r, exe + r->L.ob.ob_type, &t) || !t)
		return false;
	if (r->code_type)
		return t == r->code_type;
	if (r->code_type_guess)
		return t == r->code_type_guess;
	if (rd_u64(r, t + r->L.ty.tp_name, &name) || mem_read(r, name, buf, 5) ||
	    memcmp(buf, "code", 5))
		return false;
	r->code_type_guess = t;
	return true;
}

static const struct code_info *code_lookup(struct pyreader *r, uint64_t code)
{
	const struct py_layout *L = &r->L;
	size_t i = (size_t)(((code >> 4) * 0x9e3779b97f4a7c15ull) >> 32) % CODE_SLOTS;
	struct code_info *c = NULL;
	uint64_t file, qual;
	int32_t first;

	for (size_t probe = 0; probe < 8; probe++) {
		struct code_info *s = &r->codes[(i + probe) % CODE_SLOTS];
		if (s->gen == r->gen && s->addr == code)
			return s;
		if (!c && s->gen != r->gen)
			c = s;
	}
	if (!c)
		c = &r->codes[i];       /* evict */
	code_info_release(c);
	c->addr = code;
	c->gen = r->gen;
	c->ok = true;
	if (rd_u64(r, code + L->co.filename, &file) || rd_u64(r, code + L->co.qualname, &qual) ||
	    rd_i32(r, code + L->co.firstlineno, &first)) {
		c->ok = false;
		return c;
	}
	c->file = read_str(r, file);
	c->func = read_str(r, qual);
	c->firstlineno = first;
	{
		uint64_t lt;
		if (!rd_u64(r, code + L->co.linetable, &lt) && read_bytes(r, lt, &c->lt, &c->ltlen))
			c->lt = NULL;
	}
	return c;
}

/* Current line of a frame: instr_ptr relative to the bytecode it runs (3.14t: its TLBC copy). */
static int frame_line(struct pyreader *r, const struct code_info *c, uint64_t code,
		      uint64_t instr_ptr, int32_t tlbc_index)
{
	uint64_t base = code + r->L.co.code_adaptive;
	struct py_location loc;

	if (!c->lt)
		return -1;
	if (r->L.co.tlbc && tlbc_index > 0) {
		uint64_t arr, entry;
		int64_t size;
		if (rd_u64(r, code + r->L.co.tlbc, &arr) || rd_i64(r, arr, &size) ||
		    tlbc_index >= size || size > 65536 ||
		    rd_u64(r, arr + 8 + 8 * (uint64_t)tlbc_index, &entry) || !entry)
			return -1;
		base = entry;
	}
	if (instr_ptr < base || instr_ptr - base > (64u << 20) || (instr_ptr - base) % 2)
		return -1;
	if (py_linetable_lookup(c->lt, c->ltlen, c->firstlineno, (instr_ptr - base) / 2, &loc))
		return -1;
	return loc.line;
}

static bool owner_is_shim(const struct py_layout *L, unsigned owner)
{
	/* 3.13: FRAME_OWNED_BY_CSTACK = 3; 3.14: _INTERPRETER = 3, _CSTACK = 4 */
	return L->minor >= 14 ? owner == 3 || owner == 4 : owner == 3;
}

#define TCACHE_MAX 192 /* of 256 slots, so a probe always ends at an empty one */

static int type_kind(struct pyreader *r, uint64_t obj)
{
	uint64_t type, name;
	char buf[32];
	int kind = TK_OTHER;
	size_t k;
	if (obj < 4096 || obj >= USER_ADDR_END || (obj & 7) || rd_u64(r, obj + r->L.ob.ob_type, &type) ||
	    !type)
		return TK_OTHER;
	for (k = (type >> 4) * 0x9e3779b97f4a7c15ull >> 56; r->tcache[k].type; k = (k + 1) & 255)
		if (r->tcache[k].type == type)
			return r->tcache[k].kind;
	if (rd_u64(r, type + r->L.ty.tp_name, &name) || mem_read(r, name, buf, sizeof(buf)))
		return TK_OTHER; /* not a type: do not cache */
	buf[sizeof(buf) - 1] = '\0';
	if (!strcmp(buf, "_thread.lock"))
		kind = TK_LOCK;
	else if (!strcmp(buf, "_thread.RLock"))
		kind = TK_RLOCK;
	else if (!strcmp(buf, "builtin_function_or_method"))
		kind = TK_CFUNC;
	if (r->ntcache < TCACHE_MAX) {
		r->tcache[k].type = type;
		r->tcache[k].kind = kind;
		r->ntcache++;
	}
	return kind;
}

static void add_lockref(struct py_thread *t, struct pyreader *r, uint64_t obj, int kind,
			bool in_with, size_t frame)
{
	uint64_t hdr = r->L.ob.ob_type + 8; /* ob_type ends the object header */
	struct py_lockref *l;
	for (size_t i = 0; i < t->nlocks; i++)
		if (t->locks[i].obj == obj && t->locks[i].frame == frame) {
			t->locks[i].in_with |= in_with;
			return;
		}
	t->locks = xrealloc(t->locks, (t->nlocks + 1) * sizeof(*t->locks));
	l = &t->locks[t->nlocks++];
	memset(l, 0, sizeof(*l));
	l->obj = obj;
	l->in_with = in_with;
	l->frame = frame;
	if (kind == TK_LOCK) {
		l->mutex = obj + hdr;                  /* lockobject { HEAD; PyMutex lock; } */
	} else {
		l->rlock = true;                       /* { HEAD; PyThread_type_lock; ident; } */
		rd_u64(r, obj + hdr, &l->mutex);
		rd_u64(r, obj + hdr + 8, &l->rlock_owner);
	}
}

/* co_stacksize and co_nlocalsplus (3.13/3.14 PyCodeObject: co_stacksize just before
 * co_firstlineno, co_nlocalsplus just after): a frame has that many slots. */
static int frame_slots(struct pyreader *r, uint64_t code, size_t *nslots)
{
	const struct py_layout *L = &r->L;
	int32_t nlocalsplus, stacksize;
	if (L->minor != 13 && L->minor != 14)
		return -1;
	if (rd_i32(r, code + L->co.firstlineno - 4, &stacksize) ||
	    rd_i32(r, code + L->co.firstlineno + 4, &nlocalsplus) || stacksize < 0 ||
	    nlocalsplus < 0 || stacksize + nlocalsplus > 4096)
		return -1;
	*nslots = (size_t)(nlocalsplus + stacksize);
	return 0;
}

/*
 * Names in the target: a frame's local or global variable, an instance's or a module's
 * attribute -- enough to evaluate `acc.lock_a` or `self._name` out of process (thread names,
 * lock expressions). 3.13/3.14 layouts (Include/internal/pycore_dict.h, pycore_object.h):
 *  - an instance of a class with a managed dict keeps its dict pointer just before the object
 *    (MANAGED_DICT_OFFSET: -1 word free-threaded, -3 otherwise); while that is NULL its
 *    attribute values are inline after the header (Py_TPFLAGS_INLINE_VALUES: a PyDictValues
 *    {capacity, size, embedded, valid; values[]}), keyed by the class's shared keys
 *    (PyHeapTypeObject.ht_cached_keys, 464 bytes past the PyTypeObject: the method tables
 *    and three pointers, a fixed ABI);
 *  - a dict keys object: 32 bytes of header, then 1 << dk_log2_index_bytes bytes of
 *    indices, then the entries ({key, value}, or {hash, key, value} for general keys).
 * Every read is checked and every loop bounded; anything unexpected gives 0 (not found).
 */
#define TPFLAGS_INLINE_VALUES (1ul << 2)
#define TPFLAGS_MANAGED_DICT (1ul << 4)
#define HEAPTYPE_CACHED_KEYS 464
#define DICT_MAX_ENTRIES 4096

/* The str object obj equals s (length first: most keys differ in it). */
static bool str_is(struct pyreader *r, uint64_t obj, const char *s)
{
	int64_t length;
	char *v;
	bool eq;
	if (!obj || rd_i64(r, obj + r->L.un.length, &length) || length != (int64_t)strlen(s))
		return false;
	v = read_str(r, obj);
	eq = v && !strcmp(v, s);
	free(v);
	return eq;
}

/* The value for key `name` in a dict keys object (values: a split table's values, or 0). */
static uint64_t keys_lookup(struct pyreader *r, uint64_t keys, uint64_t values, const char *name)
{
	uint8_t hdr[32];
	int64_t nentries;
	uint64_t entries;
	unsigned esize, koff;
	if (!keys || mem_read(r, keys, hdr, sizeof(hdr)))
		return 0;
	memcpy(&nentries, hdr + 24, 8);
	if (hdr[8] > 30 || hdr[9] > 33 || hdr[10] > 2 || nentries < 0 ||
	    nentries > DICT_MAX_ENTRIES || nentries > (1ll << hdr[8]))
		return 0;
	entries = keys + 32 + (1ull << hdr[9]);
	esize = hdr[10] == 0 ? 24 : 16;  /* DICT_KEYS_GENERAL: with the hash */
	koff = hdr[10] == 0 ? 8 : 0;
	for (int64_t i = 0; i < nentries; i++) {
		uint64_t e[3], v;
		if (mem_read(r, entries + (uint64_t)i * esize, e, esize))
			return 0;
		if (!str_is(r, e[koff / 8], name))
			continue;
		if (!values)
			return e[koff / 8 + 1];
		return rd_u64(r, values + 8 + 8 * (uint64_t)i, &v) ? 0 : v;
	}
	return 0;
}

static uint64_t dict_lookup(struct pyreader *r, uint64_t dict, const char *name)
{
	uint64_t keys, values;
	if (!dict || rd_u64(r, dict + r->L.di.ma_keys, &keys) ||
	    rd_u64(r, dict + r->L.di.ma_values, &values))
		return 0;
	return keys_lookup(r, keys, values, name);
}

/* The tp_name of obj's type, into buf (cut to n - 1 bytes); "" if unreadable. */
static const char *type_name(struct pyreader *r, uint64_t obj, char *buf, size_t n)
{
	uint64_t type, name;
	buf[0] = '\0';
	if (obj < 4096 || obj >= USER_ADDR_END || (obj & 7) ||
	    rd_u64(r, obj + r->L.ob.ob_type, &type) || rd_u64(r, type + r->L.ty.tp_name, &name) ||
	    mem_read(r, name, buf, n - 1))
		buf[0] = '\0';
	buf[n - 1] = '\0';
	return buf;
}

/* Attribute `name` of an instance (managed dict or inline values) or a module. 0: none. */
static uint64_t obj_attr(struct pyreader *r, uint64_t obj, const char *name)
{
	const struct py_layout *L = &r->L;
	uint64_t hdr = L->ob.ob_type + 8, type, flags, dict, keys;
	uint8_t valid;
	char tn[16];
	if (obj < 4096 || obj >= USER_ADDR_END || (obj & 7) || rd_u64(r, obj + L->ob.ob_type, &type) ||
	    !type || rd_u64(r, type + L->ty.tp_flags, &flags))
		return 0;
	if (!strcmp(type_name(r, obj, tn, sizeof(tn)), "module"))
		return rd_u64(r, obj + hdr, &dict) ? 0 : dict_lookup(r, dict, name); /* md_dict */
	if (!(flags & TPFLAGS_MANAGED_DICT))
		return 0;
	if (rd_u64(r, obj - (L->ft ? 8 : 24), &dict))
		return 0;
	if (dict)
		return dict_lookup(r, dict, name);
	if (!(flags & TPFLAGS_INLINE_VALUES) || mem_read(r, obj + hdr + 3, &valid, 1) || !valid ||
	    rd_u64(r, type + L->ty.size + HEAPTYPE_CACHED_KEYS, &keys))
		return 0;
	return keys_lookup(r, keys, obj + hdr, name);
}

/* Local variable `name` of a frame (a cell's content for a cell or free variable). */
static uint64_t frame_local(struct pyreader *r, const struct py_frame *f, const char *name)
{
	const struct py_layout *L = &r->L;
	uint64_t names, kinds, item, v;
	int64_t n;
	size_t nslots;
	uint8_t kind;
	char tn[8];
	if (!f->addr || !f->code || rd_u64(r, f->code + L->co2.localsplusnames, &names) ||
	    rd_u64(r, f->code + L->co2.localspluskinds, &kinds) ||
	    rd_i64(r, names + L->tu.ob_size, &n) || n < 0 || frame_slots(r, f->code, &nslots) ||
	    (size_t)n > nslots)
		return 0;
	for (int64_t i = 0; i < n; i++) {
		if (rd_u64(r, names + L->tu.ob_item + 8 * (uint64_t)i, &item) || !str_is(r, item, name))
			continue;
		if (rd_u64(r, f->addr + L->fr.size - 8 + 8 * (uint64_t)i, &v))
			return 0;
		if (L->minor >= 14)
			v &= ~(uint64_t)3; /* _PyStackRef tag bits */
		if (!mem_read(r, kinds + L->by.ob_sval + (uint64_t)i, &kind, 1) && (kind & 0xc0) &&
		    !strcmp(type_name(r, v, tn, sizeof(tn)), "cell"))
			return rd_u64(r, v + L->ob.ob_type + 8, &v) ? 0 : v; /* ob_ref */
		return v;
	}
	return 0;
}

/* Global `name` of a frame: f_globals, two words after `previous` in 3.13 and 3.14. */
static uint64_t frame_global(struct pyreader *r, const struct py_frame *f, const char *name)
{
	uint64_t g;
	if (!f->addr || r->L.fr.previous != 8 || rd_u64(r, f->addr + 24, &g))
		return 0;
	return dict_lookup(r, g, name);
}

static bool is_ident(const char *s, size_t n)
{
	if (!n || n > 128 || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

int pyreader_eval(struct pyreader *r, const struct py_frame *f, const char *expr, uint64_t *out)
{
	const char *p = expr, *dot;
	char name[129];
	uint64_t v = 0;
	int depth = 0;
	*out = 0;
	for (;; p = dot + 1, depth++) {
		size_t n;
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if (!is_ident(p, n) || depth > 8)
			return -EINVAL;
		memcpy(name, p, n);
		name[n] = '\0';
		if (!depth) {
			v = frame_local(r, f, name);
			if (!v)
				v = frame_global(r, f, name);
		} else {
			v = obj_attr(r, v, name);
		}
		if (!v)
			return -ENOENT;
		if (!dot)
			break;
	}
	*out = v;
	return 0;
}

/* The name of a thread started by threading: `self._name` of its Thread._bootstrap_inner
 * frame (the outermost frame of such a thread). NULL if there is none. */
static char *thread_name(struct pyreader *r, const struct py_thread *t)
{
	for (size_t k = t->n; k-- > 0;) {
		const struct py_frame *f = &t->frames[k];
		uint64_t self, name;
		if (strcmp(f->func, "Thread._bootstrap_inner") || !ends_with(f->file, "threading.py"))
			continue;
		self = frame_local(r, f, "self");
		name = obj_attr(r, self, "_name");
		return name ? read_str(r, name) : NULL;
	}
	return NULL;
}

/*
 * Lock objects in a frame's locals and value stack (frame_slots() of them, after the frame
 * struct); dead slots above the stack top may hold stale values, so what this finds is
 * evidence, not proof.
 */
static void scan_locks(struct pyreader *r, uint64_t frame, uint64_t code, struct py_thread *t,
		       size_t idx)
{
	const struct py_layout *L = &r->L;
	uint64_t base = frame + L->fr.size - 8; /* localsplus[] ends the frame struct */
	uint64_t hdr = L->ob.ob_type + 8, *slots;
	size_t nslots;
	if (frame_slots(r, code, &nslots) || !nslots)
		return;
	slots = xcalloc(nslots, sizeof(*slots));
	if (mem_read(r, base, slots, nslots * 8)) {
		/* the slots up to the first unreadable one */
		size_t ok = 0;
		while (ok < nslots && !rd_u64(r, base + 8 * (uint64_t)ok, &slots[ok]))
			ok++;
		nslots = ok;
	}
	for (size_t i = 0; i < nslots; i++) {
		if (L->minor >= 14)
			slots[i] &= ~(uint64_t)3; /* _PyStackRef tag bits */
		if (slots[i] < 4096 || (slots[i] & 7))
			slots[i] = 0;
	}
	/* (their objects were fetched with the frames: fetch_frame_data) */
	for (size_t i = 0; i < nslots; i++) {
		uint64_t v = slots[i], ml, self, mname;
		char buf[16];
		int kind;
		kind = type_kind(r, v);
		if (kind == TK_LOCK || kind == TK_RLOCK) {
			add_lockref(t, r, v, kind, false, idx);
			continue;
		}
		if (kind != TK_CFUNC)
			continue;
		/* PyCFunctionObject { HEAD; PyMethodDef *m_ml; PyObject *m_self; ... } */
		if (rd_u64(r, v + hdr, &ml) || rd_u64(r, v + hdr + 8, &self) ||
		    rd_u64(r, ml, &mname) || mem_read(r, mname, buf, 9) || memcmp(buf, "__exit__", 9))
			continue;
		kind = type_kind(r, self);
		if (kind == TK_LOCK || kind == TK_RLOCK)
			add_lockref(t, r, self, kind, true, idx);
	}
	free(slots);
}

void pyreader_prefetch(struct pyreader *r, const uint64_t *addrs, size_t n)
{
	mem_prefetch(r, addrs, n);
}

uint64_t pyreader_parked_mutex(struct pyreader *r, uint64_t futex_uaddr)
{
	uint64_t addr;
	/* struct wait_entry { void *park_arg; uintptr_t addr; _PySemaphore sema; ... } */
	if (futex_uaddr < 16 || rd_u64(r, futex_uaddr - 8, &addr))
		return 0;
	return addr;
}

/*
 * Walking every thread's frames reads the target a little at a time: the frame chain, code
 * objects, their names and line tables, the slots of each frame and the objects in them.
 * While the target is held each read is a system call, so pyreader_threads_read() goes in
 * phases over all threads at once, and each phase first fetches, in one call, every page it
 * will read:
 *  1. the frame chains, in rounds: every thread goes as far as the pages already read
 *     allow, then the frames they stopped at are fetched together;
 *  2. the code objects, then their names and line tables;
 *  3. the frames' slot arrays, then the objects they point to (a lock's owner is in it).
 * pyreader_threads_decode() then works from those pages alone, also after the threads were
 * released: names, lines, entry frames, locks (types, whose names it may still read: type
 * objects and their names do not change).
 */

/* A frame as read by the chain walk (phase 1). */
struct raw_frame {
	uint64_t addr, exe, ip;
	int32_t tlbc;
	uint8_t owner;
};

struct chain {
	uint64_t next;          /* the frame to read next; 0: the walk is over */
	bool natural_end;       /* it ended at a NULL previous (not a cycle, error or bound) */
	size_t steps;
	struct raw_frame *v;
	size_t n, cap;
};

/* What pyreader_threads_read() leaves for pyreader_threads_decode(). */
struct walk {
	struct py_thread *threads; /* ids filled, frames not yet */
	struct chain *chains;
	size_t n;
};

#define FETCH_ROUNDS 64 /* then whatever is missing is read one page at a time */

static void walk_chains(struct pyreader *r, struct chain *c, size_t n)
{
	const struct py_layout *L = &r->L;
	unsigned char fbuf[512];
	size_t flen = L->fr.size < sizeof(fbuf) ? (size_t)L->fr.size : sizeof(fbuf);

	aset_clear(&r->frames);
	for (int round = 0;; round++) {
		for (size_t i = 0; i < n; i++) {
			struct chain *ch = &c[i];
			while (ch->next) {
				uint64_t frame = ch->next, exe, prev, ip;
				struct raw_frame *rf;

				if (ch->steps >= 3 * PY_MAX_FRAMES) {
					ch->next = 0;
					break;
				}
				if (round < FETCH_ROUNDS && !symbolizer_mem_cached(r->sym, frame, flen)) {
					want_add(r, frame, flen);
					break;
				}
				/* cycle check per thread: the thread's index above the address bits */
				if (!aset_add(&r->frames, frame | (uint64_t)i << 47) ||
				    mem_read(r, frame, fbuf, flen) ||
				    /* offsets were validated against fr.size; frames are small */
				    L->fr.previous + 8 > flen || L->fr.executable + 8 > flen ||
				    L->fr.instr_ptr + 8 > flen || L->fr.owner >= flen ||
				    L->fr.tlbc_index + 4 > flen) {
					ch->next = 0;
					break;
				}
				ch->steps++;
				memcpy(&prev, fbuf + L->fr.previous, 8);
				memcpy(&exe, fbuf + L->fr.executable, 8);
				memcpy(&ip, fbuf + L->fr.instr_ptr, 8);
				if (ch->n == ch->cap) {
					ch->cap = ch->cap ? 2 * ch->cap : 16;
					ch->v = xrealloc(ch->v, ch->cap * sizeof(*ch->v));
				}
				rf = &ch->v[ch->n++];
				memset(rf, 0, sizeof(*rf));
				rf->addr = frame;
				rf->exe = L->minor >= 14 ? exe & ~(uint64_t)3 : exe; /* _PyStackRef tags */
				rf->ip = ip;
				rf->owner = fbuf[L->fr.owner];
				if (L->fr.tlbc_index)
					memcpy(&rf->tlbc, fbuf + L->fr.tlbc_index, 4);
				ch->next = prev;
				if (!prev)
					ch->natural_end = true;
			}
		}
		if (!r->nwant)
			break;
		want_fetch(r);
	}
}

static bool frame_has_code(const struct py_layout *L, const struct raw_frame *rf)
{
	return !owner_is_shim(L, rf->owner) && rf->owner <= (L->minor >= 14 ? 4u : 3u) && rf->exe;
}

/* Phases 2 and 3's reads: code objects, names and line tables, slots, their objects. */
static void fetch_frame_data(struct pyreader *r, struct chain *c, size_t n)
{
	const struct py_layout *L = &r->L;
	uint64_t v[64];

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < c[i].n; k++)
			if (frame_has_code(L, &c[i].v[k]))
				want_add(r, c[i].v[k].exe, L->co.size);
	want_fetch(r);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < c[i].n; k++) {
			const struct raw_frame *rf = &c[i].v[k];
			uint64_t p;
			size_t nslots;
			if (!frame_has_code(L, rf))
				continue;
			if (!rd_u64(r, rf->exe + L->co.filename, &p))
				want_add(r, p, 64);
			if (!rd_u64(r, rf->exe + L->co.qualname, &p))
				want_add(r, p, 64);
			if (!rd_u64(r, rf->exe + L->co.linetable, &p))
				want_add(r, p, 64);
			if (!frame_slots(r, rf->exe, &nslots) && nslots)
				want_add(r, rf->addr + L->fr.size - 8, 8 * (uint64_t)nslots);
		}
	want_fetch(r);
	/* the objects in the slots: their headers (type; a lock's fields follow it) */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < c[i].n; k++) {
			const struct raw_frame *rf = &c[i].v[k];
			uint64_t base = rf->addr + L->fr.size - 8;
			size_t nslots;
			if (!frame_has_code(L, rf) || frame_slots(r, rf->exe, &nslots))
				continue;
			for (size_t j = 0; j < nslots; j += ARRAY_SIZE(v)) {
				size_t m = nslots - j < ARRAY_SIZE(v) ? nslots - j : ARRAY_SIZE(v);
				if (mem_read(r, base + 8 * (uint64_t)j, v, 8 * m))
					break;
				for (size_t q = 0; q < m; q++) {
					uint64_t o = L->minor >= 14 ? v[q] & ~(uint64_t)3 : v[q];
					if (o >= 4096 && !(o & 7))
						want_add(r, o, L->ob.ob_type + 24);
				}
			}
		}
	want_fetch(r);
}

/* Decode a thread's chain into its frames (pystack's entry rule) and scan them for locks. */
static void decode_chain(struct pyreader *r, const struct chain *ch, struct py_thread *t)
{
	const struct py_layout *L = &r->L;
	size_t cap = 0;
	ssize_t pending = -1;   /* last emitted frame, entry if its caller is a shim */

	for (size_t k = 0; k < ch->n; k++) {
		const struct raw_frame *rf = &ch->v[k];
		const struct code_info *c;
		struct py_frame *f;

		if (owner_is_shim(L, rf->owner)) {
			if (pending >= 0)
				t->frames[pending].entry = true;
			pending = -1;
			continue;
		}
		pending = -1;
		if (!frame_has_code(L, rf) || !is_code(r, rf->exe))
			continue;
		c = code_lookup(r, rf->exe);
		if (!c->ok)
			continue;
		if (t->n == cap) {
			cap = cap ? 2 * cap : 16;
			t->frames = xrealloc(t->frames, cap * sizeof(*t->frames));
		}
		f = &t->frames[t->n];
		f->file = xstrdup(c->file ? c->file : "???");
		f->func = xstrdup(c->func ? c->func : "???");
		f->firstlineno = c->firstlineno;
		f->line = frame_line(r, c, rf->exe, rf->ip, rf->tlbc);
		f->entry = false;
		f->addr = rf->addr;
		f->code = rf->exe;
		scan_locks(r, rf->addr, rf->exe, t, t->n);
		pending = (ssize_t)t->n++;
		if (t->n >= PY_MAX_FRAMES)
			return;
	}
	if (ch->natural_end && pending >= 0)
		t->frames[pending].entry = true;
	t->name = thread_name(r, t);
}

static void walk_free(struct walk *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		free(w->chains[i].v);
	free(w->chains);
	py_threads_free(w->threads, w->n);
	free(w);
}

/* Each interpreter, bounded and cycle-checked; fn returns non-zero to stop. */
static int for_each_interp(struct pyreader *r, int (*fn)(struct pyreader *, uint64_t, void *),
			   void *data)
{
	uint64_t interp;
	int err = rd_u64(r, r->runtime + r->L.rt.interpreters_head, &interp);
	if (err)
		return err;
	aset_clear(&r->interps);
	for (size_t i = 0; interp && i < PY_MAX_INTERPRETERS; i++) {
		int stop;
		if (!aset_add(&r->interps, interp))
			break;
		stop = fn(r, interp, data);
		if (stop)
			return stop < 0 ? stop : 0;
		if (rd_u64(r, interp + r->L.is.next, &interp))
			break;
	}
	return 0;
}

struct threads_acc {
	struct py_thread *v;
	size_t n, cap;
	uint64_t *tops;         /* each thread's innermost frame */
};

static int collect_interp(struct pyreader *r, uint64_t interp, void *data)
{
	const struct py_layout *L = &r->L;
	struct threads_acc *acc = data;
	int64_t id = 0;
	uint64_t ts, main_ts = 0;

	if (rd_i64(r, interp + L->is.id, &id) || rd_u64(r, interp + L->is.threads_head, &ts))
		return 0;
	if (L->is.threads_main && rd_u64(r, interp + L->is.threads_main, &main_ts))
		main_ts = 0;
	while (ts && acc->n < PY_MAX_THREADS) {
		struct py_thread *t;
		uint64_t frame, next;
		if (!aset_add(&r->tstates, ts))
			break;
		if (acc->n == acc->cap) {
			acc->cap = acc->cap ? 2 * acc->cap : 16;
			acc->v = xrealloc(acc->v, acc->cap * sizeof(*acc->v));
			acc->tops = xrealloc(acc->tops, acc->cap * sizeof(*acc->tops));
		}
		t = &acc->v[acc->n];
		memset(t, 0, sizeof(*t));
		if (rd_u64(r, ts + L->ts.native_thread_id, &t->native_tid) ||
		    rd_u64(r, ts + L->ts.thread_id, &t->thread_id) ||
		    rd_u64(r, ts + L->ts.current_frame, &frame) || rd_u64(r, ts + L->ts.next, &next))
			break;
		t->interp_id = id < 0 || id > INT32_MAX ? -1 : (int)id;
		if (L->minor >= 14)
			t->main_thread = main_ts && ts == main_ts;
		else
			t->main_thread = id == 0 && t->native_tid == (uint64_t)r->pid;
		acc->tops[acc->n++] = frame; /* the innermost frame, walked later */
		ts = next;
	}
	return acc->n >= PY_MAX_THREADS;
}

int pyreader_threads_read(struct pyreader *r)
{
	struct threads_acc acc = { NULL, 0, 0, NULL };
	struct walk *w;
	int ret;

	walk_free(r->walk);
	r->walk = NULL;
	snapshot_begin(r);
	r->nwant = 0;
	aset_clear(&r->want_pages);
	aset_clear(&r->tstates);
	ret = for_each_interp(r, collect_interp, &acc);
	if (ret) {
		py_threads_free(acc.v, acc.n);
		free(acc.tops);
		return ret;
	}
	w = xcalloc(1, sizeof(*w));
	w->threads = acc.v;
	w->n = acc.n;
	w->chains = xcalloc(acc.n ? acc.n : 1, sizeof(*w->chains));
	for (size_t i = 0; i < acc.n; i++)
		w->chains[i].next = acc.tops[i];
	free(acc.tops);
	walk_chains(r, w->chains, w->n);
	fetch_frame_data(r, w->chains, w->n);
	r->walk = w;
	return 0;
}

int pyreader_threads_decode(struct pyreader *r, struct py_thread **threads, size_t *n)
{
	struct walk *w = r->walk;

	*threads = NULL;
	*n = 0;
	if (!w)
		return -EINVAL;
	for (size_t i = 0; i < w->n; i++)
		decode_chain(r, &w->chains[i], &w->threads[i]);
	*threads = w->threads;
	*n = w->n;
	w->threads = NULL; /* now the caller's */
	for (size_t i = 0; i < w->n; i++)
		free(w->chains[i].v);
	free(w->chains);
	free(w);
	r->walk = NULL;
	return 0;
}

int pyreader_threads(struct pyreader *r, struct py_thread **threads, size_t *n)
{
	int ret = pyreader_threads_read(r);
	if (ret) {
		*threads = NULL;
		*n = 0;
		return ret;
	}
	return pyreader_threads_decode(r, threads, n);
}

struct guess_acc {
	struct mem_range *v;
	size_t n, cap;
};

static void guess_add(struct guess_acc *g, uint64_t addr, uint64_t len)
{
	if (!addr || addr >= USER_ADDR_END)
		return;
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->v = xrealloc(g->v, g->cap * sizeof(*g->v));
	}
	g->v[g->n++] = (struct mem_range){ addr, len };
}

size_t pyreader_guess_ranges(struct pyreader *r, struct mem_range **out)
{
	const struct py_layout *L = &r->L;
	struct guess_acc g = { NULL, 0, 0 };
	unsigned char *buf = xmalloc(L->ts.size);
	uint64_t interp = 0;
	size_t nts = 0;

	guess_add(&g, r->runtime + L->rt.interpreters_head, 8);
	if (mem_read_raw(r, r->runtime + L->rt.interpreters_head, &interp, 8))
		interp = 0;
	aset_clear(&r->interps);
	aset_clear(&r->tstates);
	for (size_t i = 0; interp && i < PY_MAX_INTERPRETERS && aset_add(&r->interps, interp); i++) {
		uint64_t ts = 0, next = 0;
		guess_add(&g, interp + L->is.id, 8);
		guess_add(&g, interp + L->is.next, 8);
		guess_add(&g, interp + L->is.threads_head, 8);
		if (L->is.threads_main)
			guess_add(&g, interp + L->is.threads_main, 8);
		guess_add(&g, interp + L->is.gil_locked, 4);
		guess_add(&g, interp + L->is.gil_holder, 8);
		guess_add(&g, interp + L->is.gil + L->is.gil_enabled, 4);
		if (mem_read_raw(r, interp + L->is.threads_head, &ts, 8))
			ts = 0;
		guess_add(&g, ts, L->ts.size);
		while (ts && nts < PY_MAX_THREADS && aset_add(&r->tstates, ts)) {
			/* one read per thread state (offsets were checked against ts.size) */
			uint64_t frame;
			if (mem_read_raw(r, ts, buf, L->ts.size))
				break;
			memcpy(&frame, buf + L->ts.current_frame, 8);
			memcpy(&ts, buf + L->ts.next, 8);
			guess_add(&g, ts, L->ts.size);
			guess_add(&g, frame, L->fr.size);
			nts++;
		}
		if (mem_read_raw(r, interp + L->is.next, &next, 8))
			break;
		interp = next;
	}
	free(buf);
	*out = g.v;
	return g.n;
}

void py_threads_free(struct py_thread *t, size_t n)
{
	if (!t)
		return;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < t[i].n; k++) {
			free(t[i].frames[k].file);
			free(t[i].frames[k].func);
		}
		free(t[i].frames);
		free(t[i].locks);
		free(t[i].name);
	}
	free(t);
}

struct gil_query {
	int id;
	uint64_t interp;
};

static int find_interp(struct pyreader *r, uint64_t interp, void *data)
{
	struct gil_query *q = data;
	int64_t id;
	if (rd_i64(r, interp + r->L.is.id, &id) || id != q->id)
		return 0;
	q->interp = interp;
	return 1;
}

int pyreader_gil(struct pyreader *r, int interp_id, struct py_gil *gil)
{
	const struct py_layout *L = &r->L;
	struct gil_query q = { interp_id, 0 };
	int32_t v;
	int err;

	memset(gil, 0, sizeof(*gil));
	if (!r->walk) /* not between pyreader_threads_read and _decode: their pages stay */
		snapshot_begin(r);
	err = for_each_interp(r, find_interp, &q);
	if (err)
		return err;
	if (!q.interp)
		return -ENOENT;
	gil->enabled = 1;
	if (L->ft) {
		/* gil_runtime_state_enabled is relative to struct _gil_runtime_state, unlike
		 * _locked and _holder, which are relative to PyInterpreterState. */
		err = rd_i32(r, q.interp + L->is.gil + L->is.gil_enabled, &v);
		if (err)
			return err;
		gil->enabled = v;
	}
	err = rd_i32(r, q.interp + L->is.gil_locked, &v);
	if (!err)
		err = rd_u64(r, q.interp + L->is.gil_holder, &gil->holder);
	if (err)
		return err;
	gil->locked = v;
	if (gil->holder && rd_u64(r, gil->holder + L->ts.native_thread_id, &gil->holder_tid))
		gil->holder_tid = 0;
	return 0;
}
