/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Objects of the target, out of process: strings, code objects and their lines, the lock
 * objects in a frame's slots, and names (a frame's locals and globals, an instance's or a
 * module's attributes) for pyreader_eval.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyreader.h"

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
bool is_code(struct pyreader *r, uint64_t exe)
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

const struct code_info *code_lookup(struct pyreader *r, uint64_t code)
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
int frame_line(struct pyreader *r, const struct code_info *c, uint64_t code,
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
int frame_slots(struct pyreader *r, uint64_t code, size_t *nslots)
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
char *thread_name(struct pyreader *r, const struct py_thread *t)
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
void scan_locks(struct pyreader *r, uint64_t frame, uint64_t code, struct py_thread *t,
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

uint64_t pyreader_parked_mutex(struct pyreader *r, uint64_t futex_uaddr)
{
	uint64_t addr;
	/* struct wait_entry { void *park_arg; uintptr_t addr; _PySemaphore sema; ... } */
	if (futex_uaddr < 16 || rd_u64(r, futex_uaddr - 8, &addr))
		return 0;
	return addr;
}
