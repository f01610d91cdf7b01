/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Python stacks out of process (src/symbolizer/pyframes.c, pyoffsets.c, pyobjects.c, pywalk.c),
 * the parts that need no interpreter (the live ones are in test_pyframes_live.c):
 *  - location-table decoder on a hand-built table (every entry kind);
 *  - debug-offsets validation on the table recorded from the 3.13.5t build, corrupted;
 *  - a hand-built 3.14t process image read through the same walker;
 *  - opening a process that is not Python, then one that is gone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/pyframes.h"
#include "ftscope/util.h"
#include "tap.h"

/*
 * Location table.
 */

static void test_linetable(void)
{
	/* firstlineno 10; comments: code units, code, line */
	static const uint8_t tab[] = {
		0x91, 0x35,                     /* 0-1   short 2: col 19-24, line 10 */
		0xd8, 0x04, 0x09,               /* 2     one-line 11: +1, col 4-9 */
		0xea, 0x07,                     /* 3-5   no-columns: -3 -> 8 */
		0xf0, 0x48, 0x03, 0x02, 0x05, 0x46, 0x01, /* 6 long: +100 -> 108..110, col 4-69 */
		0xf9,                           /* 7-8   none */
		0xd7, 0x01, 0x02,               /* 9-16  one-line 10: +0, col 1-2 */
		0xc8, 0x7f,                     /* 17    short 9: col 79-94 */
		0xe8, 0x49, 0x03,               /* 18    no-columns: -100 -> 8 */
	};
	static const struct {
		uint64_t addrq;
		int ret, line, end_line, col, end_col;
	} t[] = {
		{ 0, 0, 10, 10, 19, 24 },      { 1, 0, 10, 10, 19, 24 },
		{ 2, 0, 11, 11, 4, 9 },        { 3, 0, 8, 8, -1, -1 },
		{ 5, 0, 8, 8, -1, -1 },        { 6, 0, 108, 110, 4, 69 },
		{ 7, 0, -1, -1, -1, -1 },      { 8, 0, -1, -1, -1, -1 },
		{ 9, 0, 108, 108, 1, 2 },      { 16, 0, 108, 108, 1, 2 },
		{ 17, 0, 108, 108, 79, 94 },   { 18, 0, 8, 8, -1, -1 },
		{ 19, -ENOENT, 0, 0, 0, 0 },   { 1u << 31, -ENOENT, 0, 0, 0, 0 },
	};
	static const struct {
		const char *name;
		uint8_t b[10];
		size_t len;
	} bad[] = {
		{ "long form cut inside a varint", { 0xf0, 0x48 }, 2 },
		{ "long form missing its columns", { 0xf0, 0x02, 0x00 }, 3 },
		{ "continuation byte where an entry starts", { 0x05 }, 1 },
		{ "short form cut before its column byte", { 0x91 }, 1 },
		{ "one-line form running into the next entry", { 0xd8, 0x04, 0x91, 0x35 }, 4 },
		{ "runaway varint", { 0xe8, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x01 }, 9 },
	};
	struct py_location loc;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		int ret = py_linetable_lookup(tab, sizeof(tab), 10, t[i].addrq, &loc);
		is_int(ret, t[i].ret, "linetable: unit %llu returns %d",
		       (unsigned long long)t[i].addrq, t[i].ret);
		if (ret || t[i].ret)
			continue;
		ok(loc.line == t[i].line && loc.end_line == t[i].end_line && loc.col == t[i].col &&
			   loc.end_col == t[i].end_col,
		   "linetable: unit %llu at %d-%d col %d-%d (got %d-%d col %d-%d)",
		   (unsigned long long)t[i].addrq, t[i].line, t[i].end_line, t[i].col,
		   t[i].end_col, loc.line, loc.end_line, loc.col, loc.end_col);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		is_int(py_linetable_lookup(bad[i].b, bad[i].len, 1, 5, &loc), -EINVAL,
		       "linetable: %s is malformed", bad[i].name);
	is_int(py_linetable_lookup(tab, 0, 1, 0, &loc), -ENOENT, "linetable: empty table");
	ok(py_linetable_lookup((const uint8_t[]){ 0x91, 0x35, 0xf0, 0x48 }, 4, 7, 1, &loc) == 0 &&
		   loc.line == 7,
	   "linetable: units before a malformed entry still resolve");
	is_int(py_linetable_lookup(bad[4].b, bad[4].len, 1, 0, &loc), -EINVAL,
	       "linetable: a bad entry is caught even when it covers addrq");
}

/*
 * Debug offsets: the table of the provisioned 3.13.5t build (.PyRuntime of
 * libpython3.13t.so.1.0), one word per field after the cookie.
 */
enum {
	W_VERSION = 1, W_FT, W_RS_SIZE, W_RS_FINALIZING, W_RS_INTERP_HEAD,
	W_IS_SIZE, W_IS_ID, W_IS_NEXT, W_IS_THREADS_HEAD, W_IS_GC, W_IS_MODULES, W_IS_SYSDICT,
	W_IS_BUILTINS, W_IS_CEVAL_GIL, W_IS_GIL, W_IS_GIL_ENABLED, W_IS_GIL_LOCKED, W_IS_GIL_HOLDER,
	W_TS_SIZE, W_TS_PREV, W_TS_NEXT, W_TS_INTERP, W_TS_FRAME, W_TS_THREAD_ID, W_TS_NATIVE,
	W_TS_CHUNK, W_TS_STATUS,
	W_FR_SIZE, W_FR_PREVIOUS, W_FR_EXECUTABLE, W_FR_INSTR_PTR, W_FR_LOCALSPLUS, W_FR_OWNER,
	W_CO_SIZE, W_CO_FILENAME, W_CO_NAME, W_CO_QUALNAME, W_CO_LINETABLE, W_CO_FIRSTLINENO,
	W_CO_ARGCOUNT, W_CO_NAMES, W_CO_KINDS, W_CO_ADAPTIVE,
	W_OB_SIZE, W_OB_TYPE,
	W_313_WORDS = 73,
};

static const uint64_t table_313t[W_313_WORDS] = {
	0, 0x030d05f0, 1,
	328320, 608, 632,
	215616, 7272, 7264, 7344, 7400, 7664, 7648, 7656, 16, 7760, 0, 7784, 7776,
	304, 0, 8, 16, 72, 152, 160, 232, 32,
	80, 8, 0, 56, 72, 70,
	224, 128, 136, 144, 152, 84, 68, 112, 120, 216,
	32, 24,
	432, 40, 104, 184,      /* type */
	48, 40, 32,             /* tuple */
	56, 40, 32,             /* list */
	64, 48, 56,             /* dict */
	40, 32,                 /* float */
	48, 32, 40,             /* long */
	56, 32, 48,             /* bytes */
	80, 48, 32, 56,         /* unicode */
	248, 200,               /* gc */
};

static void table_init(uint64_t *w, const uint64_t *src, size_t n)
{
	memcpy(w, src, n * 8);
	memcpy(&w[0], "xdebugpy", 8);
}

/* 3.14 layout: the 3.13 words with the 3.14 members inserted where CPython inserts them. */
enum {
	X_IS = 6,                       /* interpreter_state.size */
	X_TS = X_IS + 16,
	X_FR = X_TS + 9,
	X_CO = X_FR + 8,
	X_OB = X_CO + 11,
	X_SET = X_OB + 12,              /* after pyobject, type, tuple, list */
	X_DICT = X_SET + 4,
	X_GEN = X_DICT + 17,            /* after dict, float, long, bytes, unicode, gc */
	X_WORDS = X_GEN + 4 + 2 + 6,    /* + gen_object, llist_node, debugger_support */
};

static size_t table_314(uint64_t *w, bool ft)
{
	size_t n = 0;
#define COPY(from, to)                                                                    \
	for (int i_ = (from); i_ <= (to); i_++)                                           \
		w[n++] = table_313t[i_];
	COPY(0, W_IS_THREADS_HEAD);
	w[n++] = 7352;                          /* threads_main */
	COPY(W_IS_GC, W_IS_GIL_HOLDER);
	w[n++] = 7792;                          /* code_object_generation */
	w[n++] = ft ? 7800 : 0;                 /* tlbc_generation */
	COPY(W_TS_SIZE, W_TS_STATUS);
	COPY(W_FR_SIZE, W_FR_OWNER);
	w[n++] = 64;                            /* stackpointer */
	w[n++] = ft ? 72 : 0;                   /* tlbc_index */
	w[X_FR] = 88;                           /* size */
	w[X_FR + 4] = 80;                       /* localsplus */
	w[X_FR + 5] = 78;                       /* owner */
	COPY(W_CO_SIZE, W_CO_ADAPTIVE);
	w[n++] = ft ? 216 : 0;                  /* co_tlbc */
	w[X_CO] = 232;                          /* size */
	w[X_CO + 9] = 224;                      /* co_code_adaptive */
	COPY(W_OB_SIZE, W_313_WORDS - 18);      /* pyobject .. list_object */
	w[n++] = 200, w[n++] = 40, w[n++] = 48, w[n++] = 56; /* set_object */
	COPY(W_313_WORDS - 17, W_313_WORDS - 1); /* dict_object .. gc */
	w[n++] = 112, w[n++] = 48, w[n++] = 80, w[n++] = 64; /* gen_object */
	w[n++] = 0, w[n++] = 8;                 /* llist_node */
	for (int i = 0; i < 6; i++)
		w[n++] = 40 + 8 * i;            /* debugger_support */
#undef COPY
	memcpy(&w[0], "xdebugpy", 8);
	w[W_VERSION] = 0x030e02f0;
	w[W_FT] = ft;
	return n;
}

static void expect_reject(const uint64_t *w, size_t words, const char *want, const char *name)
{
	struct sbuf why = SBUF_INIT;
	int ret = py_debug_offsets_check(w, words * 8, &why);
	ok(ret < 0 && strstr(why.buf ? why.buf : "", want), "offsets: %s rejected (%s)", name,
	   why.buf ? why.buf : "no reason");
	sbuf_release(&why);
}

static void test_offsets(void)
{
	uint64_t w[128];
	struct sbuf why = SBUF_INIT;
	size_t n314;
	static const struct {
		int word;
		uint64_t value;
		const char *want, *name;
	} bad[] = {
		{ W_VERSION, 0x030c04f0, "version 3.12 are not supported", "3.12.4" },
		{ W_VERSION, 0x030f00a1, "version 3.15 are not supported", "3.15.0a1" },
		{ W_VERSION, 0x030d00c3, "3.13.0rc3 are not supported (final releases only)",
		  "3.13.0rc3" },
		{ W_VERSION, 0x020705f0, "not supported", "2.7.5" },
		{ W_FT, 2, "free_threaded is 2", "free_threaded 2" },
		{ W_TS_SIZE, 0, "thread_state.size is 0", "thread_state.size 0" },
		{ W_RS_SIZE, 2u << 20, "runtime_state.size is", "runtime_state.size 2 MiB" },
		{ W_FR_OWNER, 80, "interpreter_frame.owner (80) + 1 is beyond", "owner at size" },
		{ W_FR_PREVIOUS, 73, "interpreter_frame.previous (73) + 8 is beyond",
		  "previous 8 bytes crossing the end" },
		{ W_CO_QUALNAME, 1ull << 40, "code_object.qualname", "qualname far beyond" },
		{ W_IS_GIL_ENABLED, 215616, "gil_runtime_state_enabled", "gil enabled beyond" },
		{ W_OB_TYPE, UINT64_MAX - 4, "pyobject.ob_type", "ob_type wrapping around" },
	};

	table_init(w, table_313t, W_313_WORDS);
	is_int(py_debug_offsets_check(w, W_313_WORDS * 8, &why), 0,
	       "offsets: recorded 3.13.5t table is valid%s%s", why.buf ? ": " : "",
	       why.buf ? why.buf : "");
	sbuf_reset(&why);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		table_init(w, table_313t, W_313_WORDS);
		w[bad[i].word] = bad[i].value;
		expect_reject(w, W_313_WORDS, bad[i].want, bad[i].name);
	}
	table_init(w, table_313t, W_313_WORDS);
	memcpy(&w[0], "xdebugpz", 8);
	expect_reject(w, W_313_WORDS, "cookie", "wrong cookie");
	table_init(w, table_313t, W_313_WORDS);
	expect_reject(w, W_313_WORDS - 1, "truncated", "truncated table");

	n314 = table_314(w, true);
	is_int(n314, X_WORDS, "offsets: a 3.14 table has 95 words");
	is_int(X_WORDS, 95, "offsets: 3.14 word positions add up");
	is_int(py_debug_offsets_check(w, n314 * 8, &why), 0, "offsets: 3.14.2t table is valid%s%s",
	       why.buf ? ": " : "", why.buf ? why.buf : "");
	sbuf_reset(&why);
	table_314(w, false);
	is_int(py_debug_offsets_check(w, n314 * 8, &why), 0,
	       "offsets: 3.14.2 (default build) table is valid%s%s", why.buf ? ": " : "",
	       why.buf ? why.buf : "");
	sbuf_reset(&why);
	expect_reject(w, 73, "truncated", "3.14 table of 3.13's length");
	table_314(w, true);
	w[1] = 0x030e00a4;
	expect_reject(w, n314, "3.14.0a4 are not supported", "3.14.0a4 (no tlbc offsets yet)");
	table_314(w, true);
	w[X_FR + 7] = 0;          /* interpreter_frame.tlbc_index */
	expect_reject(w, n314, "without tlbc", "3.14t without tlbc_index");
	table_314(w, true);
	w[X_FR + 7] = 90;
	expect_reject(w, n314, "interpreter_frame.tlbc_index (90) + 4 is beyond",
		      "3.14t tlbc_index beyond the frame");
	sbuf_release(&why);
}

/*
 * A fake 3.14t runtime in this process's own memory, read through pyreader_open_runtime: the
 * 3.14 paths (tagged _PyStackRef, owners INTERPRETER=3 and CSTACK=4, thread-local bytecode,
 * 3.14t str state bits, threads_main) that no interpreter here can exercise, then garbage.
 * Offsets are those of table_314(): tstate next 8, current_frame 72, thread_id 152,
 * native_thread_id 160; frame executable 0, previous 8, instr_ptr 56, tlbc_index 72, owner 78;
 * code filename 128, qualname 144, linetable 152, firstlineno 84, co_tlbc 216, bytecode 224.
 */
struct fake {
	void *blk[64];
	size_t len[64], n;
};

#define AT(p, off, type) (*(type *)((char *)(p) + (off)))

static void *fk_alloc(struct fake *f, size_t len)
{
	void *p = xcalloc(1, len);
	f->blk[f->n] = p;
	f->len[f->n++] = len;
	return p;
}

static void *fk_type(struct fake *f, const char *name)
{
	void *t = fk_alloc(f, 432);
	AT(t, 40, const char *) = name;
	return t;
}

/* A compact str with the 3.14t state: interned byte, then kind:3 compact:1 ascii:1. */
static void *fk_str(struct fake *f, void *type, unsigned kind, bool ascii, const void *data,
		    size_t len)
{
	void *o = fk_alloc(f, 72 + len * kind + 4);
	AT(o, 24, void *) = type;
	AT(o, 32, int64_t) = (int64_t)len;
	AT(o, 48, uint32_t) = 2u | kind << 8 | 1u << 11 | (ascii ? 1u << 12 : 0);
	memcpy((char *)o + (ascii ? 56 : 72), data, len * kind);
	return o;
}

static void *fk_bytes(struct fake *f, const uint8_t *data, size_t len)
{
	void *o = fk_alloc(f, 48 + len + 1);
	AT(o, 32, int64_t) = (int64_t)len;
	memcpy((char *)o + 48, data, len);
	return o;
}

static void *fk_code(struct fake *f, void *code_type, void *file, void *qual,
		     const uint8_t *lt, size_t ltlen, int first)
{
	void *c = fk_alloc(f, 224 + 64);
	AT(c, 24, void *) = code_type;
	AT(c, 128, void *) = file;
	AT(c, 136, void *) = qual;
	AT(c, 144, void *) = qual;
	AT(c, 152, void *) = fk_bytes(f, lt, ltlen);
	AT(c, 84, int32_t) = first;
	return c;
}

static void *fk_frame(struct fake *f, uint64_t exe, void *prev, uint64_t ip, int32_t tlbc,
		      char owner)
{
	void *fr = fk_alloc(f, 88);
	AT(fr, 0, uint64_t) = exe;
	AT(fr, 8, void *) = prev;
	AT(fr, 56, uint64_t) = ip;
	AT(fr, 72, int32_t) = tlbc;
	AT(fr, 78, char) = owner;
	return fr;
}

static void *fk_tstate(struct fake *f, uint64_t native, uint64_t pthread, void *frame)
{
	void *t = fk_alloc(f, 304);
	AT(t, 72, void *) = frame;
	AT(t, 152, uint64_t) = pthread;
	AT(t, 160, uint64_t) = native;
	return t;
}

static void test_fake_314t(void)
{
	static const uint8_t lt1[] = {
		0x81, 0x00,                     /* 0-1  short: line 100 */
		0xd8, 0x00, 0x00,               /* 2    one-line +1: 101 */
		0xe8, 0x08,                     /* 3    no-columns +4: 105 */
		0xdb, 0x00, 0x00,               /* 4-7  one-line +1: 106 */
	};
	static const uint8_t lt2[] = { 0xd0, 0x00, 0x00, 0xe0, 0x00, 0x00 }; /* 200, then 202 */
	static const uint8_t lt3[] = { 0xd7, 0x00, 0x00 };                   /* 300 */
	static const uint8_t file_l1[] = "/src/stra\xdf" "e.py";           /* latin-1 */
	static const uint16_t qual_u2[] = { 0x3a9, 'm', 'e', 'g', 'a', '.', 'r', 'u', 'n' };
	static const uint32_t qual_u4[] = { 's', 'n', 'a', 'k', 'e', '_', 0x1f40d };
	struct fake f = { .n = 0 };
	struct sbuf why = SBUF_INIT;
	struct pyreader *r = NULL;
	struct py_thread *th = NULL;
	struct py_gil g;
	size_t nth = 0;
	uint64_t w[128];
	void *code_t, *str_t, *dict_t, *rt, *is1, *is2, *c1, *c2, *c3, *tlbc, *copy, *arr;
	void *fa, *fb, *fc, *fd, *fe, *fx, *ff, *fe2, *ts1, *ts2, *ts3, *ts5, *file, *obj;
	size_t good = 0, rounds = 0;

	code_t = fk_type(&f, "code");
	str_t = fk_type(&f, "str");
	dict_t = fk_type(&f, "dict");
	file = fk_str(&f, str_t, 1, false, file_l1, sizeof(file_l1) - 1);
	c1 = fk_code(&f, code_t, file, fk_str(&f, str_t, 2, false, qual_u2, ARRAY_SIZE(qual_u2)),
		     lt1, sizeof(lt1), 100);
	c2 = fk_code(&f, code_t, file, fk_str(&f, str_t, 4, false, qual_u4, ARRAY_SIZE(qual_u4)),
		     lt2, sizeof(lt2), 200);
	c3 = fk_code(&f, code_t, fk_str(&f, str_t, 1, true, "loop.py", 7),
		     fk_str(&f, str_t, 1, true, "loop", 4), lt3, sizeof(lt3), 300);
	/* c1 runs thread-local copy #2 of its bytecode */
	copy = fk_alloc(&f, 64);
	tlbc = fk_alloc(&f, 64);
	arr = tlbc;
	AT(arr, 0, int64_t) = 3;
	AT(arr, 8, void *) = (char *)c1 + 224;
	AT(arr, 16, void *) = fk_alloc(&f, 64);
	AT(arr, 24, void *) = copy;
	AT(c1, 216, void *) = arr;
	obj = fk_alloc(&f, 64);
	AT(obj, 24, void *) = dict_t;

	/* main: A(c1, tagged ref, tlbc 2, unit 3) <- B(interpreter shim) <- C(c2, generator,
	 * unit 1) <- D(cstack, NULL ref with tag bit) */
	fd = fk_frame(&f, 1, NULL, 0, 0, 4);
	fc = fk_frame(&f, (uint64_t)(uintptr_t)c2, fd, (uint64_t)(uintptr_t)c2 + 224 + 2, 0, 1);
	fb = fk_frame(&f, (uint64_t)(uintptr_t)obj, fc, 0, 0, 3);
	fa = fk_frame(&f, (uint64_t)(uintptr_t)c1 | 1, fb, (uint64_t)(uintptr_t)copy + 6, 2, 0);
	/* second: E(c3) <- X(not a code object) <- F(c3, its own previous: a cycle) */
	ff = fk_frame(&f, (uint64_t)(uintptr_t)c3, NULL, (uint64_t)(uintptr_t)c3 + 224, 0, 0);
	AT(ff, 8, void *) = ff;
	fx = fk_frame(&f, (uint64_t)(uintptr_t)obj, ff, 0, 0, 0);
	fe = fk_frame(&f, (uint64_t)(uintptr_t)c3 | 3, fx, (uint64_t)(uintptr_t)c3 + 224, 0, 0);
	fe2 = fk_frame(&f, (uint64_t)(uintptr_t)c3, NULL, (uint64_t)(uintptr_t)c3 + 224, 0, 0);
	ts1 = fk_tstate(&f, 111, 0x1111, fa);
	ts2 = fk_tstate(&f, 222, 0x2222, fe);
	ts3 = fk_tstate(&f, 333, 0x3333, (void *)0x10);
	ts5 = fk_tstate(&f, 555, 0x5555, fe2);
	AT(ts1, 8, void *) = ts2;
	AT(ts2, 8, void *) = ts3;
	AT(ts3, 8, void *) = ts1;       /* a cycle in the thread list */
	is1 = fk_alloc(&f, 215616);
	AT(is1, 7272, int64_t) = 0;
	AT(is1, 7344, void *) = ts1;
	AT(is1, 7352, void *) = ts1;
	AT(is1, 7760, int32_t) = INT32_MAX;     /* _gil.enabled: permanently enabled */
	AT(is1, 7784, int32_t) = 1;             /* _gil.locked */
	AT(is1, 7776, void *) = ts2;            /* _gil.last_holder */
	is2 = fk_alloc(&f, 215616);
	AT(is2, 7272, int64_t) = 3;
	AT(is2, 7264, void *) = is1;
	AT(is2, 7344, void *) = ts5;
	rt = fk_alloc(&f, 4096);
	table_314(w, true);
	w[W_RS_SIZE] = 4096;
	w[W_RS_FINALIZING] = 776;
	w[W_RS_INTERP_HEAD] = 800;
	memcpy(rt, w, X_WORDS * 8);
	AT(rt, 800, void *) = is2;

	if (!ok(!pyreader_open_runtime(getpid(), (uint64_t)(uintptr_t)rt, &r, &why),
		"fake 3.14t: open%s%s", why.buf ? ": " : "", why.buf ? why.buf : ""))
		goto out;
	is_str(pyreader_version(r), "3.14.2", "fake 3.14t: version");
	ok(pyreader_free_threaded(r), "fake 3.14t: free-threaded");
	is_int(pyreader_threads(r, &th, &nth), 0, "fake 3.14t: threads");
	is_int(nth, 4, "fake 3.14t: 4 thread states in 2 interpreters, list cycle cut");
	if (nth == 4) {
		is_int(th[0].interp_id, 3, "fake 3.14t: newest interpreter first");
		ok(th[1].native_tid == 111 && th[1].thread_id == 0x1111 && th[1].main_thread &&
			   !th[2].main_thread && th[1].interp_id == 0,
		   "fake 3.14t: tids, pthread ids, threads_main");
		is_int(th[1].n, 2, "fake 3.14t: shims, NULL and tagged refs handled: 2 frames");
		if (th[1].n == 2) {
			const struct py_frame *a = &th[1].frames[0], *c = &th[1].frames[1];
			is_str(a->func, "\xce\xa9mega.run", "fake 3.14t: 2-byte-kind qualname");
			is_str(a->file, "/src/stra\xc3\x9f" "e.py", "fake 3.14t: latin-1 file name");
			is_int(a->line, 105, "fake 3.14t: line from thread-local bytecode copy #2");
			ok(a->entry, "fake 3.14t: caller is an INTERPRETER (3) shim: entry");
			is_str(c->func, "snake_\xf0\x9f\x90\x8d", "fake 3.14t: 4-byte-kind qualname");
			is_int(c->line, 202, "fake 3.14t: line from co_code_adaptive (tlbc_index 0)");
			ok(c->entry, "fake 3.14t: caller is a CSTACK (4) shim: entry");
		}
		ok(th[2].n == 2 && !strcmp(th[2].frames[0].func, "loop") &&
			   th[2].frames[0].line == 300 && !th[2].frames[0].entry &&
			   !th[2].frames[1].entry,
		   "fake 3.14t: non-code frame skipped, frame cycle cut (%zu frames)", th[2].n);
		is_int(th[3].n, 0, "fake 3.14t: unreadable current_frame gives no frames");
	}
	is_int(pyreader_gil(r, 0, &g), 0, "fake 3.14t: GIL of interpreter 0");
	ok(g.enabled == INT32_MAX && g.locked == 1 && g.holder == (uint64_t)(uintptr_t)ts2 &&
		   g.holder_tid == 222,
	   "fake 3.14t: GIL enabled permanently, locked, held by tid 222 (enabled at _gil + "
	   "gil_runtime_state_enabled)");
	py_threads_free(th, nth);
	th = NULL;

	/* Garbage: random bytes in random objects, many times. Must not crash or hang. */
	{
		unsigned seed = 12345;
		void *save[64];
		for (size_t i = 0; i < f.n; i++) {
			save[i] = xmalloc(f.len[i]);
			memcpy(save[i], f.blk[i], f.len[i]);
		}
		for (rounds = 0; rounds < 3000; rounds++) {
			for (int k = 0; k < 6; k++) {
				size_t b = (size_t)rand_r(&seed) % f.n;
				size_t off = (size_t)rand_r(&seed) % (f.len[b] < 1024 ? f.len[b] : 1024);
				((unsigned char *)f.blk[b])[off] ^= (unsigned char)(1 + rand_r(&seed) % 255);
			}
			if (!pyreader_threads(r, &th, &nth))
				good++;
			py_threads_free(th, nth);
			th = NULL;
			for (size_t i = 0; i < f.n; i++)
				memcpy(f.blk[i], save[i], f.len[i]);
		}
		for (size_t i = 0; i < f.n; i++)
			free(save[i]);
	}
	ok(rounds == 3000, "fake 3.14t: %zu snapshots of corrupted memory (%zu read the runtime)",
	   rounds, good);
out:
	pyreader_free(r);
	sbuf_release(&why);
	for (size_t i = 0; i < f.n; i++)
		free(f.blk[i]);
}

static void test_not_python(void)
{
	struct pyreader *r = (struct pyreader *)1;
	struct sbuf why = SBUF_INIT;
	char want[128];
	int ret;
	pid_t child = fork();

	if (!child) {
		pause();
		_exit(0);
	}
	snprintf(want, sizeof(want), "no Python runtime in process %d (not CPython 3.13+?)",
		 (int)child);
	ret = pyreader_open(child, &r, &why);
	ok(ret == -1 && !r && why.buf && !strcmp(why.buf, want),
	   "open on a non-Python process fails: %s", why.buf ? why.buf : "(no reason)");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	sbuf_reset(&why);
	ret = pyreader_open(child, &r, &why);
	ok(ret == -1 && why.buf && strstr(why.buf, "no process"),
	   "open on a reaped pid fails: %s", why.buf ? why.buf : "(no reason)");
	sbuf_release(&why);
	pyreader_free(NULL);
}

int main(void)
{
	test_linetable();
	test_offsets();
	test_not_python();
	test_fake_314t();
	return tap_done();
}
