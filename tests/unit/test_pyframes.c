/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Python stacks out of process (src/symbolizer/pyframes.c, pyoffsets.c, pyobjects.c, pywalk.c).
 *  - location-table decoder on a hand-built table (every entry kind) and, with FT_PYTHON, on
 *    real tables checked against co_positions();
 *  - debug-offsets validation on the table recorded from the 3.13.5t build, corrupted;
 *  - live: a free-threaded python (env FT_PYTHON) with three threads blocked in known
 *    functions, stopped with PTRACE_SEIZE + PTRACE_INTERRUPT, read, detached, and expected to
 *    exit 0; the stacks must equal what sys._current_frames() printed before;
 *  - timing of pyreader_open + pyreader_threads on 100 blocked threads;
 *  - the same live test on 3.14t when FT_PYTHON_314 is set.
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

/*
 * A live free-threaded python.
 */

struct child {
	pid_t pid;
	int in, out;            /* its stdin (we write), its stdout (we read) */
	char buf[1 << 16];
	size_t len;
};

static int child_start(struct child *c, const char *python, const char *script)
{
	int pin[2], pout[2];
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC))
		return -1;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (!c->pid) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		unsetenv("PYTHON_GIL");
		execl(python, python, "-I", "-X", "utf8", script, (char *)NULL);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	c->in = pin[1];
	c->out = pout[0];
	c->len = 0;
	return 0;
}

/* Next line of the child's stdout (malloc'd, without '\n'), NULL on EOF or timeout. */
static char *child_line(struct child *c, int timeout_ms)
{
	double deadline = now_monotonic() + timeout_ms / 1000.0;
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd p = { c->out, POLLIN, 0 };
		ssize_t n;
		int left = (int)((deadline - now_monotonic()) * 1000);
		if (nl) {
			char *line = xstrndup(c->buf, (size_t)(nl - c->buf));
			c->len -= (size_t)(nl + 1 - c->buf);
			memmove(c->buf, nl + 1, c->len);
			return line;
		}
		if (left <= 0 || c->len == sizeof(c->buf) || poll(&p, 1, left) <= 0)
			return NULL;
		n = read(c->out, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			return NULL;
		c->len += (size_t)n;
	}
}

/* Wait for the child's exit status (-1 after a timeout: then it is killed). */
static int child_wait(struct child *c, int timeout_ms)
{
	double deadline = now_monotonic() + timeout_ms / 1000.0;
	int st;
	close(c->in);
	while (now_monotonic() < deadline) {
		pid_t p = waitpid(c->pid, &st, WNOHANG);
		if (p == c->pid) {
			close(c->out);
			return st;
		}
		usleep(10000);
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, &st, 0);
	close(c->out);
	return -1;
}

static int list_tasks(pid_t pid, pid_t *tids, size_t max)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	size_t n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) && n < max)
		if (de->d_name[0] != '.')
			tids[n++] = (pid_t)atoi(de->d_name);
	closedir(d);
	return (int)n;
}

static bool has_tid(const pid_t *tids, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (tids[i] == tid)
			return true;
	return false;
}

static void detach_all(const pid_t *tids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ptrace(PTRACE_DETACH, tids[i], 0, 0);
}

/* PTRACE_SEIZE + PTRACE_INTERRUPT every thread, re-listing until no new ones appear. Returns
 * the number of threads stopped or -errno. */
static int stop_all(pid_t pid, pid_t *stopped, size_t max)
{
	size_t n = 0;
	for (bool grew = true; grew;) {
		pid_t tids[1024];
		int k = list_tasks(pid, tids, ARRAY_SIZE(tids));
		grew = false;
		for (int i = 0; i < k; i++) {
			int st;
			if (has_tid(stopped, n, tids[i]) || n == max)
				continue;
			if (ptrace(PTRACE_SEIZE, tids[i], 0, (void *)(long)PTRACE_O_EXITKILL) ||
			    ptrace(PTRACE_INTERRUPT, tids[i], 0, 0)) {
				int err = -errno;
				detach_all(stopped, n);
				return err;
			}
			if (waitpid(tids[i], &st, __WALL) != tids[i] || !WIFSTOPPED(st))
				return -EIO;
			stopped[n++] = tids[i];
			grew = true;
		}
	}
	return (int)n;
}

/* Wait until thread tid sits in syscall nr (the main thread reading stdin after "ready"). */
static bool wait_syscall(pid_t tid, long nr, int timeout_ms)
{
	char path[64], *text = NULL;
	double deadline = now_monotonic() + timeout_ms / 1000.0;
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
	while (now_monotonic() < deadline) {
		size_t len;
		bool in = !read_file(path, &text, &len) && strtol(text, NULL, 10) == nr &&
			  text[0] >= '0' && text[0] <= '9';
		free(text);
		text = NULL;
		if (in)
			return true;
		usleep(5000);
	}
	return false;
}

static char *write_script(char *dir, const char *name, const char *text)
{
	char *path = path_join(dir, name);
	if (write_file_atomic(path, text, strlen(text))) {
		free(path);
		return NULL;
	}
	return path;
}

/* 1-based line of the first line containing marker */
static int line_of(const char *text, const char *marker)
{
	const char *p = strstr(text, marker);
	int line = 1;
	if (!p)
		return -1;
	for (const char *q = text; q < p; q++)
		line += *q == '\n';
	return line;
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static const char stacks_py[] =
	"import json, os, sys, threading, time\n"
	"\n"
	"ev = threading.Event()\n"
	"lock = threading.Lock()\n"
	"lock.acquire()\n"
	"lock_gen = threading.Lock()\n"
	"lock_gen.acquire()\n"
	"\n"
	"\n"
	"def \xcf\x89" "ait():\n"                         /* ωait: a 2-byte-kind name */
	"    ev.wait()  # L_OMEGA\n"
	"\n"
	"\n"
	"def waiter_a():\n"
	"    \xcf\x89" "ait()  # L_WAITER\n"
	"\n"
	"\n"
	"def inner():\n"
	"    lock.acquire()  # L_INNER\n"
	"\n"
	"\n"
	"def middle():\n"
	"    inner()  # L_MIDDLE\n"
	"\n"
	"\n"
	"def outer():\n"
	"    middle()  # L_OUTER\n"
	"\n"
	"\n"
	"class Cls:\n"
	"    def gen(self):\n"
	"        lock_gen.acquire()  # L_GEN\n"
	"        yield 1\n"
	"\n"
	"    def method(self):\n"
	"        for _ in self.gen():  # L_METHOD\n"
	"            pass\n"
	"\n"
	"\n"
	"def f\xc3\xbc\xc3\x9f" "e():\n"              /* füße: a 1-byte-kind, non-ASCII name */
	"    Cls().method()  # L_FUSSE\n"
	"\n"
	"\n"
	"def stack(f):\n"
	"    out = []\n"
	"    while f is not None:\n"
	"        c = f.f_code\n"
	"        out.append([c.co_filename, c.co_qualname, f.f_lineno, c.co_firstlineno])\n"
	"        f = f.f_back\n"
	"    return out\n"
	"\n"
	"\n"
	"def in_futex(t):\n"
	"    try:\n"
	"        with open(f'/proc/self/task/{t.native_id}/syscall') as s:\n"
	"            return s.read().startswith('202 ')\n"
	"    except OSError:\n"
	"        return False\n"
	"\n"
	"\n"
	"def snapshot(workers):\n"
	"    frames = sys._current_frames()\n"
	"    return [{'name': t.name, 'tid': t.native_id, 'futex': in_futex(t),\n"
	"             'frames': stack(frames.get(t.ident))} for t in workers]\n"
	"\n"
	"\n"
	"workers = [threading.Thread(target=waiter_a, name='waiter'),\n"
	"           threading.Thread(target=outer, name='chain'),\n"
	"           threading.Thread(target=f\xc3\xbc\xc3\x9f" "e, name='gen')]\n"
	"for t in workers:\n"
	"    t.start()\n"
	"# Blocked: in a futex wait, and the same stacks three polls in a row.\n"
	"prev, same = None, 0\n"
	"for _ in range(2000):\n"
	"    snap = snapshot(workers)\n"
	"    ready = all(s['futex'] and len(s['frames']) >= 4 for s in snap)\n"
	"    same = same + 1 if ready and snap == prev else 0\n"
	"    if same >= 3:\n"
	"        break\n"
	"    prev = snap\n"
	"    time.sleep(0.01)\n"
	"print(json.dumps({'pid': os.getpid(), 'threads': snap}, ensure_ascii=False))\n"
	"print('ready', flush=True)\n"
	"sys.stdin.readline()  # L_MAIN\n"
	"ev.set()\n"
	"lock.release()\n"
	"lock_gen.release()\n"
	"for t in workers:\n"
	"    t.join()\n";

static const struct py_thread *thread_by_tid(const struct py_thread *t, size_t n, uint64_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].native_tid == tid)
			return &t[i];
	return NULL;
}

static bool same_threads(const struct py_thread *a, size_t na, const struct py_thread *b,
			 size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		if (a[i].native_tid != b[i].native_tid || a[i].thread_id != b[i].thread_id ||
		    a[i].n != b[i].n || a[i].main_thread != b[i].main_thread)
			return false;
		for (size_t k = 0; k < a[i].n; k++) {
			const struct py_frame *f = &a[i].frames[k], *g = &b[i].frames[k];
			if (strcmp(f->file, g->file) || strcmp(f->func, g->func) ||
			    f->line != g->line || f->firstlineno != g->firstlineno ||
			    f->entry != g->entry)
				return false;
		}
	}
	return true;
}

/* Frames [i..] are `func` in the script at `marker`'s line. */
static void expect_frame(const struct py_thread *t, size_t i, const char *file, const char *func,
			 int line, const char *what)
{
	const struct py_frame *f = t && i < t->n ? &t->frames[i] : NULL;
	bool good = f && !strcmp(basename_of(f->file), file) && !strcmp(f->func, func) &&
		    (line < 0 || f->line == line);
	ok(good, "%s: frame %zu is %s %s:%d", what, i, func, file, line);
	if (!good && f)
		printf("#   got %s %s:%d\n", f->func, f->file, f->line);
}

/* Out-of-process stacks equal the ones the script printed from sys._current_frames(). */
static void compare_with_oracle(const struct py_thread *t, const cJSON *frames, const char *name)
{
	int n = cJSON_GetArraySize(frames), i = 0, bad = -1;
	const cJSON *f;
	cJSON_ArrayForEach(f, frames) {
		const char *file = cJSON_GetStringValue(cJSON_GetArrayItem(f, 0));
		const char *func = cJSON_GetStringValue(cJSON_GetArrayItem(f, 1));
		int line = cJSON_GetArrayItem(f, 2)->valueint;
		int first = cJSON_GetArrayItem(f, 3)->valueint;
		const struct py_frame *g = (size_t)i < t->n ? &t->frames[i] : NULL;
		if (bad < 0 && (!g || !file || !func || strcmp(g->file, file) ||
				strcmp(g->func, func) || g->line != line || g->firstlineno != first)) {
			bad = i;
			printf("#   frame %d: want %s %s:%d (first %d), got %s %s:%d (first %d)\n", i,
			       func, file, line, first, g ? g->func : "-", g ? g->file : "-",
			       g ? g->line : 0, g ? g->firstlineno : 0);
		}
		i++;
	}
	ok(bad < 0 && (size_t)n == t->n,
	   "thread %s: %zu frames (file, qualname, line, firstlineno) equal sys._current_frames()'s %d",
	   name, t->n, n);
}

static void test_live(const char *python, const char *want_version)
{
	char tmpl[] = "/tmp/ftscope-pyframes-\xf0\x9f\x90\x8d-XXXXXX"; /* 🐍: 4-byte kind */
	char *dir, *script = NULL, *line = NULL;
	const char *tag = want_version;
	struct child c = { 0 };
	struct pyreader *r = NULL;
	struct py_thread *th = NULL;
	struct sbuf why = SBUF_INIT;
	size_t nth = 0;
	pid_t stopped[256];
	int nstopped = -1, st;
	cJSON *oracle = NULL, *jt;
	double t0, t1, t2;

	dir = mkdtemp(tmpl);
	script = dir ? write_script(dir, "stacks.py", stacks_py) : NULL;
	if (!ok(script && !child_start(&c, python, script), "%s: started %s", tag, python))
		goto out;
	line = child_line(&c, 30000);
	oracle = line ? cJSON_Parse(line) : NULL;
	free(line);
	line = child_line(&c, 5000);
	if (!ok(oracle && line && !strcmp(line, "ready"), "%s: script is ready", tag)) {
		kill(c.pid, SIGKILL);
		goto out_wait;
	}

	ok(wait_syscall(c.pid, 0, 10000), "%s: main thread is blocked in read(0)", tag);
	nstopped = stop_all(c.pid, stopped, ARRAY_SIZE(stopped));
	if (nstopped == -EPERM) {
		ok(1, "# SKIP ptrace not permitted here (Yama ptrace_scope, no CAP_SYS_PTRACE?)");
		goto out_detach;
	}
	ok(nstopped == 4, "%s: stopped all %d threads (PTRACE_SEIZE + INTERRUPT)", tag, nstopped);

	t0 = now_monotonic();
	if (!ok(!pyreader_open(c.pid, &r, &why), "%s: pyreader_open%s%s", tag,
		why.buf ? ": " : "", why.buf ? why.buf : ""))
		goto out_detach;
	t1 = now_monotonic();
	is_int(pyreader_threads(r, &th, &nth), 0, "%s: pyreader_threads", tag);
	t2 = now_monotonic();
	printf("# %s: pyreader_open %.2f ms (runtime by %s at 0x%llx), pyreader_threads %.2f ms\n",
	       tag, (t1 - t0) * 1e3, pyreader_runtime_how(r),
	       (unsigned long long)pyreader_runtime_addr(r), (t2 - t1) * 1e3);
	ok(starts_with(pyreader_version(r), want_version), "%s: version %s starts with %s", tag,
	   pyreader_version(r), want_version);
	ok(pyreader_free_threaded(r), "%s: free-threaded", tag);
	is_int(nth, 4, "%s: 4 thread states (main + 3)", tag);
	for (size_t i = 0; i < nth; i++)
		ok(has_tid(stopped, nstopped > 0 ? (size_t)nstopped : 0, (pid_t)th[i].native_tid) &&
			   th[i].interp_id == 0 && th[i].thread_id,
		   "%s: thread %zu has native_tid %llu, a TID of /proc/%d/task, interpreter 0", tag,
		   i, (unsigned long long)th[i].native_tid, (int)c.pid);

	/* main thread: <module>, blocked in sys.stdin.readline() */
	{
		const struct py_thread *m = thread_by_tid(th, nth, (uint64_t)c.pid);
		expect_frame(m, 0, "stacks.py", "<module>", line_of(stacks_py, "# L_MAIN"),
			     "main thread");
		ok(m && m->n == 1 && m->frames[0].entry && m->main_thread,
		   "main thread: one frame, an entry frame, flagged main_thread");
		ok(m && strstr(m->frames[0].file, "/ftscope-pyframes-\xf0\x9f\x90\x8d-"),
		   "main thread: 4-byte-kind file name decodes (%s)", m ? m->frames[0].file : "-");
	}

	cJSON_ArrayForEach(jt, cJSON_GetObjectItem(oracle, "threads")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(jt, "name"));
		uint64_t tid = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(jt, "tid"));
		const struct py_thread *t = thread_by_tid(th, nth, tid);
		size_t k;

		if (!ok(t != NULL, "%s: thread %s (tid %llu) found", tag, name,
			(unsigned long long)tid))
			continue;
		ok(!t->main_thread, "thread %s: not the main thread", name);
		compare_with_oracle(t, cJSON_GetObjectItem(jt, "frames"), name);
		if (!strcmp(name, "chain")) {
			expect_frame(t, 0, "stacks.py", "inner", line_of(stacks_py, "# L_INNER"), name);
			expect_frame(t, 1, "stacks.py", "middle", line_of(stacks_py, "# L_MIDDLE"), name);
			expect_frame(t, 2, "stacks.py", "outer", line_of(stacks_py, "# L_OUTER"), name);
			k = 3;
		} else if (!strcmp(name, "gen")) {
			expect_frame(t, 0, "stacks.py", "Cls.gen", line_of(stacks_py, "# L_GEN"), name);
			expect_frame(t, 1, "stacks.py", "Cls.method", line_of(stacks_py, "# L_METHOD"),
				     name);
			expect_frame(t, 2, "stacks.py", "f\xc3\xbc\xc3\x9f" "e",
				     line_of(stacks_py, "# L_FUSSE"), name);
			k = 3;
		} else {
			expect_frame(t, 0, "threading.py", "Condition.wait", -1, name);
			expect_frame(t, 1, "threading.py", "Event.wait", -1, name);
			expect_frame(t, 2, "stacks.py", "\xcf\x89" "ait", line_of(stacks_py, "# L_OMEGA"),
				     name);
			expect_frame(t, 3, "stacks.py", "waiter_a", line_of(stacks_py, "# L_WAITER"),
				     name);
			k = 4;
		}
		expect_frame(t, k, "threading.py", "Thread.run", -1, name);
		expect_frame(t, k + 1, "threading.py", "Thread._bootstrap_inner", -1, name);
		expect_frame(t, k + 2, "threading.py", "Thread._bootstrap", -1, name);
		for (size_t i = 0; i < t->n; i++)
			printf("#   %s%s\n", t->frames[i].func, t->frames[i].entry ? " (entry)" : "");
		ok(t->n == k + 3 && t->frames[k + 2].entry && !t->frames[k].entry &&
			   !t->frames[k + 1].entry && !t->frames[1].entry,
		   "thread %s: %zu frames; Thread._bootstrap (called from C) is the entry frame, "
		   "the inlined calls are not", name, t->n);
	}

	{
		struct py_gil g;
		int err = pyreader_gil(r, 0, &g);
		ok(!err && g.enabled == 0, "%s: GIL of interpreter 0 is disabled (enabled %d, "
		   "locked %d, last holder tid %llu)", tag, g.enabled, g.locked,
		   (unsigned long long)g.holder_tid);
		is_int(pyreader_gil(r, 77, &g), -ENOENT, "%s: no interpreter 77", tag);
	}

	/* A second snapshot reuses the reader and gives the same result. */
	{
		struct py_thread *th2 = NULL;
		size_t n2 = 0;
		is_int(pyreader_threads(r, &th2, &n2), 0, "%s: second snapshot", tag);
		ok(same_threads(th, nth, th2, n2), "%s: second snapshot equals the first", tag);
		py_threads_free(th2, n2);
	}

	/* The other ways to the runtime, and the /proc/PID/mem reader, give the same stacks. */
	{
		static const struct {
			unsigned flags;
			const char *how, *name;
		} alt[] = {
			{ PYREADER_NO_SYMBOL, "section", ".PyRuntime section + load bias" },
			{ PYREADER_NO_SYMBOL | PYREADER_NO_SECTION, "scan",
			  "cookie scan (no PyCode_Type symbol: type named \"code\")" },
			{ PYREADER_PROCMEM, "symbol", "/proc/PID/mem reads" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(alt); i++) {
			struct pyreader *r2 = NULL;
			struct py_thread *th2 = NULL;
			size_t n2 = 0;
			sbuf_reset(&why);
			if (!pyreader_open_flags(c.pid, alt[i].flags, &r2, &why))
				pyreader_threads(r2, &th2, &n2);
			ok(r2 && !strcmp(pyreader_runtime_how(r2), alt[i].how) &&
				   pyreader_runtime_addr(r2) == pyreader_runtime_addr(r) &&
				   same_threads(th, nth, th2, n2),
			   "%s: %s finds the runtime and the same stacks%s%s", tag, alt[i].name,
			   why.buf ? ": " : "", why.buf ? why.buf : "");
			py_threads_free(th2, n2);
			pyreader_free(r2);
		}
	}

out_detach:
	detach_all(stopped, nstopped > 0 ? (size_t)nstopped : 0);
	if (write(c.in, "go\n", 3) != 3)
		kill(c.pid, SIGKILL);
out_wait:
	st = child_wait(&c, 30000);
	ok(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "%s: detached process continues and exits 0 (status 0x%x)", tag, st);
out:
	free(line);
	py_threads_free(th, nth);
	pyreader_free(r);
	sbuf_release(&why);
	cJSON_Delete(oracle);
	if (dir)
		rm_rf(dir);
	free(script);
}

/* The decoder agrees with co_positions() on every code unit of real code objects. */
static const char positions_py[] =
	"import json, sys, threading, json.decoder, dataclasses, argparse\n"
	"def f(a, b):\n"
	"    x = [i * 2 for i in range(a)\n"
	"         if i % 3]\n"
	"    y = {k: v for k, v in zip('abc', (1, 2, 3))}; z = (a\n"
	"        + b)\n"
	"    " "q = 1;" " " "                                                                  "
	"                                                                  "
	"              w = [a, b, a + b + a + b + a + b + a + b + a + b + a + b]\n"
	"    try:\n"
	"        return x, y, z, 1 / 0\n"
	"    except ZeroDivisionError:\n"
	"        pass\n"
	"    return None\n"
	"def walk(c):\n"
	"    yield c\n"
	"    for k in c.co_consts:\n"
	"        if hasattr(k, 'co_code'):\n"
	"            yield from walk(k)\n"
	"mods = [sys.modules[m] for m in ('threading', 'json.decoder', 'dataclasses', 'argparse')]\n"
	"codes = [f.__code__] + [compile(open(m.__file__).read(), m.__file__, 'exec') for m in mods]\n"
	"for top in codes:\n"
	"    for c in walk(top):\n"
	"        pos = [[-1 if v is None else v for v in p] for p in c.co_positions()]\n"
	"        print(json.dumps([c.co_qualname, c.co_firstlineno, c.co_linetable.hex(), pos]))\n";

static void test_real_linetables(const char *python)
{
	char tmpl[] = "/tmp/ftscope-lt-XXXXXX";
	char *dir = mkdtemp(tmpl), *script = dir ? write_script(dir, "pos.py", positions_py) : NULL;
	struct child c = { 0 };
	size_t codes = 0, units = 0, mismatches = 0;
	char *line;
	int st;

	if (!ok(script && !child_start(&c, python, script), "real linetables: started"))
		goto out;
	while ((line = child_line(&c, 30000))) {
		cJSON *j = cJSON_Parse(line), *p;
		const char *hex = cJSON_GetStringValue(cJSON_GetArrayItem(j, 2));
		int first = cJSON_GetArrayItem(j, 1)->valueint;
		size_t len = hex ? strlen(hex) / 2 : 0, u = 0;
		uint8_t *tab = xmalloc(len + 1);
		for (size_t i = 0; i < len; i++)
			tab[i] = (uint8_t)strtoul((char[3]){ hex[2 * i], hex[2 * i + 1], 0 }, NULL, 16);
		cJSON_ArrayForEach(p, cJSON_GetArrayItem(j, 3)) {
			struct py_location loc;
			int want[4];
			for (int k = 0; k < 4; k++)
				want[k] = cJSON_GetArrayItem(p, k)->valueint;
			if (py_linetable_lookup(tab, len, first, u, &loc) || loc.line != want[0] ||
			    loc.end_line != want[1] || loc.col != want[2] || loc.end_col != want[3]) {
				if (!mismatches++)
					printf("# %s unit %zu: want %d-%d col %d-%d\n",
					       cJSON_GetStringValue(cJSON_GetArrayItem(j, 0)), u,
					       want[0], want[1], want[2], want[3]);
			}
			u++;
			units++;
		}
		codes++;
		free(tab);
		cJSON_Delete(j);
		free(line);
	}
	st = child_wait(&c, 30000);
	ok(st == 0 && codes > 300 && mismatches == 0,
	   "real linetables: %zu code objects, %zu code units agree with co_positions() "
	   "(%zu mismatches)", codes, units, mismatches);
out:
	if (dir)
		rm_rf(dir);
	free(script);
}

static const char many_py[] =
	"import os, sys, threading, time\n"
	"lock = threading.Lock()\n"
	"lock.acquire()\n"
	"def c(i):\n"
	"    lock.acquire()\n"
	"def b(i):\n"
	"    c(i)\n"
	"def a(i):\n"
	"    b(i)\n"
	"ts = [threading.Thread(target=a, args=(i,)) for i in range(100)]\n"
	"for t in ts:\n"
	"    t.start()\n"
	"def blocked():\n"
	"    n = 0\n"
	"    for t in ts:\n"
	"        with open(f'/proc/self/task/{t.native_id}/syscall') as s:\n"
	"            n += s.read().startswith('202 ')\n"
	"    return n\n"
	"while blocked() < len(ts):\n"
	"    time.sleep(0.01)\n"
	"print('ready', flush=True)\n"
	"sys.stdin.readline()\n"
	"for t in ts:\n"
	"    lock.release()\n"
	"    time.sleep(0)\n"
	"for t in ts:\n"
	"    t.join()\n";

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void test_timing(const char *python)
{
	char tmpl[] = "/tmp/ftscope-many-XXXXXX";
	char *dir = mkdtemp(tmpl), *script = dir ? write_script(dir, "many.py", many_py) : NULL;
	struct child c = { 0 };
	pid_t stopped[256];
	int nstopped = 0, st;
	double open_ms[7], all_ms[7], attach;
	size_t frames_ok = 0, nth = 0;
	char *line = NULL;

	if (!ok(script && !child_start(&c, python, script), "timing: started"))
		goto out;
	line = child_line(&c, 60000);
	if (!ok(line && !strcmp(line, "ready"), "timing: 100 threads blocked")) {
		kill(c.pid, SIGKILL);
		goto out_wait;
	}
	attach = now_monotonic();
	nstopped = stop_all(c.pid, stopped, ARRAY_SIZE(stopped));
	attach = now_monotonic() - attach;
	if (nstopped == -EPERM) {
		ok(1, "# SKIP ptrace not permitted here");
		nstopped = 0;
		goto out_detach;
	}
	is_int(nstopped, 101, "timing: stopped 101 threads in %.1f ms", attach * 1e3);
	for (size_t i = 0; i < ARRAY_SIZE(open_ms); i++) {
		struct pyreader *r = NULL;
		struct py_thread *th = NULL;
		struct sbuf why = SBUF_INIT;
		double t0 = now_monotonic(), t1, t2;
		if (pyreader_open(c.pid, &r, &why)) {
			sbuf_release(&why);
			break;
		}
		t1 = now_monotonic();
		pyreader_threads(r, &th, &nth);
		t2 = now_monotonic();
		open_ms[i] = (t1 - t0) * 1e3;
		all_ms[i] = (t2 - t0) * 1e3;
		frames_ok = 0;
		for (size_t k = 0; k < nth; k++)
			frames_ok += th[k].n == 6 && !strcmp(th[k].frames[0].func, "c") &&
				     !strcmp(th[k].frames[2].func, "a");
		py_threads_free(th, nth);
		pyreader_free(r);
	}
	is_int(nth, 101, "timing: 101 thread states");
	is_int(frames_ok, 100, "timing: 100 threads at c <- b <- a <- Thread.run...");
	qsort(open_ms, ARRAY_SIZE(open_ms), sizeof(double), cmp_double);
	qsort(all_ms, ARRAY_SIZE(all_ms), sizeof(double), cmp_double);
	printf("# timing (101 threads, 7 runs): pyreader_open median %.2f ms (min %.2f); "
	       "open + threads median %.2f ms (min %.2f, max %.2f); threads alone ~%.2f ms\n",
	       open_ms[3], open_ms[0], all_ms[3], all_ms[0], all_ms[6], all_ms[3] - open_ms[3]);
	ok(all_ms[3] < 1000, "timing: open + threads median %.2f ms < 1 s", all_ms[3]);
out_detach:
	detach_all(stopped, nstopped > 0 ? (size_t)nstopped : 0);
	if (write(c.in, "go\n", 3) != 3)
		kill(c.pid, SIGKILL);
out_wait:
	st = child_wait(&c, 60000);
	ok(st == 0, "timing: process exits 0 after detach (status 0x%x)", st);
out:
	free(line);
	if (dir)
		rm_rf(dir);
	free(script);
}

/* Snapshots of a process that keeps running: torn state must never crash or hang the reader. */
static const char running_py[] =
	"import sys, threading\n"
	"stop = False\n"
	"def rec(n):\n"
	"    if n == 0:\n"
	"        return sum(x for x in range(50))\n"
	"    return rec(n - 1)\n"
	"def spin():\n"
	"    while not stop:\n"
	"        rec(30)\n"
	"        [str(i) for i in range(100)]\n"
	"def churn():\n"
	"    while not stop:\n"
	"        t = threading.Thread(target=rec, args=(20,))\n"
	"        t.start()\n"
	"        t.join()\n"
	"ts = [threading.Thread(target=spin) for _ in range(4)]\n"
	"ts += [threading.Thread(target=churn) for _ in range(2)]\n"
	"for t in ts:\n"
	"    t.start()\n"
	"print('ready', flush=True)\n"
	"sys.stdin.readline()\n"
	"stop = True\n"
	"for t in ts:\n"
	"    t.join()\n";

static void test_running(const char *python)
{
	char tmpl[] = "/tmp/ftscope-run-XXXXXX";
	char *dir = mkdtemp(tmpl), *script = dir ? write_script(dir, "run.py", running_py) : NULL;
	struct child c = { 0 };
	struct pyreader *r = NULL;
	struct sbuf why = SBUF_INIT;
	size_t snaps = 0, good = 0, frames = 0, maxn = 0;
	char *line = NULL;
	double t0;
	int st;

	if (!ok(script && !child_start(&c, python, script), "running: started"))
		goto out;
	line = child_line(&c, 30000);
	if (!ok(line && !strcmp(line, "ready") && !pyreader_open(c.pid, &r, &why),
		"running: open%s%s", why.buf ? ": " : "", why.buf ? why.buf : "")) {
		kill(c.pid, SIGKILL);
		goto out_wait;
	}
	t0 = now_monotonic();
	while (now_monotonic() - t0 < 1.5) {
		struct py_thread *th = NULL;
		size_t n = 0;
		snaps++;
		if (!pyreader_threads(r, &th, &n))
			good++;
		for (size_t i = 0; i < n; i++) {
			frames += th[i].n;
			if (th[i].n > maxn)
				maxn = th[i].n;
		}
		py_threads_free(th, n);
	}
	printf("# running: %zu snapshots without stopping the target, %zu frames, deepest %zu\n",
	       snaps, frames, maxn);
	ok(snaps > 10 && good == snaps && maxn <= PY_MAX_FRAMES && frames > 0,
	   "running: %zu of %zu snapshots of a running target succeed", good, snaps);
	if (write(c.in, "go\n", 3) != 3)
		kill(c.pid, SIGKILL);
out_wait:
	st = child_wait(&c, 30000);
	ok(st == 0, "running: process exits 0 (status 0x%x)", st);
out:
	free(line);
	pyreader_free(r);
	sbuf_release(&why);
	if (dir)
		rm_rf(dir);
	free(script);
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
	const char *py = getenv("FT_PYTHON"), *py314 = getenv("FT_PYTHON_314");

	test_linetable();
	test_offsets();
	test_not_python();
	test_fake_314t();
	if (py && *py) {
		test_real_linetables(py);
		test_live(py, "3.13");
		test_timing(py);
		test_running(py);
	} else {
		ok(1, "# SKIP FT_PYTHON not set");
	}
	if (py314 && *py314)
		test_live(py314, "3.14");
	else
		ok(1, "# SKIP no 3.14 free-threaded interpreter here");
	return tap_done();
}
