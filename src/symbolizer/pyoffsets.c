/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * CPython's _Py_DebugOffsets (3.13, 3.14): parsed, normalized into the reader's layout and
 * validated; and the code object's location table, decoded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyreader.h"

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

void version_string(uint32_t v, char *buf, size_t n)
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

int parse_offsets(const void *raw, size_t len, struct py_layout *L, struct sbuf *why)
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
