/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * ThreadSanitizer report parsing, signatures and suppressions. Recorded data:
 *   tsan-ftfix-tsan.txt  the fixture tests/fixtures/pkgs/ftfix-tsan under the free-threaded
 *                        interpreter with libtsan.so.2 preloaded (gcc 12, log_path file; the
 *                        first report is the interpreter's malloc/free seen without
 *                        ignore_noninstrumented_modules=1, the second the fixture's race)
 *   tsan-misc.txt        tsan-misc.c built with gcc 12 -fsanitize=thread: race under a mutex
 *                        on a heap block, lock-order inversion (second_deadlock_stack=1),
 *                        destroy of a locked mutex, thread leak
 * plus hand-written edge cases.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/results.h"
#include "ftscope/signature.h"
#include "ftscope/tsan.h"
#include "ftscope/util.h"
#include "tap.h"

#ifndef DATA
#define DATA "tests/unit/data/"
#endif

static struct tsan_reports parse_str(const char *s)
{
	struct tsan_reports r = TSAN_REPORTS_INIT;
	tsan_parse(s, strlen(s), &r);
	return r;
}

static struct tsan_reports parse_file(const char *path)
{
	struct tsan_reports r = TSAN_REPORTS_INIT;
	char *text = NULL;
	size_t len = 0;
	ok(read_file(path, &text, &len) == 0, "read %s", path);
	tsan_parse(text, len, &r);
	free(text);
	return r;
}

static const struct tsan_stack *nth_stack(const struct tsan_report *r, enum tsan_stack_kind k,
					  int nth)
{
	for (size_t i = 0; i < r->nstacks; i++)
		if (r->stacks[i].kind == k && nth-- == 0)
			return &r->stacks[i];
	return NULL;
}

static int count_stacks(const struct tsan_report *r, enum tsan_stack_kind k)
{
	int n = 0;
	for (size_t i = 0; i < r->nstacks; i++)
		n += r->stacks[i].kind == k;
	return n;
}

/* One expected report: the fields a table row checks (NULL: not checked). */
struct want {
	const char *kind;
	long pid;
	const char *signature;
	const char *location;
	const char *summary_location, *summary_function;
	int accesses, truncated;
	const char *op_a, *thread_a, *mutexes_a, *op_b, *thread_b;
	const char *top_a; /* first non-runtime frame of the first key stack, formatted */
};

static void check(const struct tsan_report *r, const struct want *w, const char *name)
{
	const struct tsan_stack *a = nth_stack(r, TSAN_STACK_ACCESS, 0);
	const struct tsan_stack *b = nth_stack(r, TSAN_STACK_ACCESS, 1);
	char id[17];
	is_str(r->kind, w->kind, "%s: kind", name);
	if (w->pid)
		is_int(r->pid, w->pid, "%s: pid", name);
	is_str(r->signature, w->signature, "%s: signature", name);
	hash_hex(r->signature, id);
	is_str(r->id, id, "%s: id is the hash of the signature", name);
	is_str(r->location, w->location, "%s: location", name);
	is_str(r->summary_location, w->summary_location, "%s: summary location", name);
	is_str(r->summary_function, w->summary_function, "%s: summary function", name);
	is_int(count_stacks(r, TSAN_STACK_ACCESS), w->accesses, "%s: access stacks", name);
	is_int(r->truncated, w->truncated, "%s: truncated", name);
	if (w->op_a) {
		is_str(a ? a->op : NULL, w->op_a, "%s: first access op", name);
		is_str(a ? a->thread : NULL, w->thread_a, "%s: first access thread", name);
		is_str(a ? a->mutexes : NULL, w->mutexes_a, "%s: first access mutexes", name);
		ok(a && !a->previous, "%s: first access is the current one", name);
	}
	if (w->op_b) {
		is_str(b ? b->op : NULL, w->op_b, "%s: previous access op", name);
		is_str(b ? b->thread : NULL, w->thread_b, "%s: previous access thread", name);
		ok(b && b->previous, "%s: second access is the previous one", name);
	}
	if (w->top_a) {
		const struct tsan_stack *keys[8];
		char *top[1] = { NULL };
		size_t nk = tsan_key_stacks(r, keys, 8);
		ok(nk > 0 && tsan_top_frames(keys[0], top, 1) == 1, "%s: has a top frame", name);
		is_str(top[0], w->top_a, "%s: top frame", name);
		free(top[0]);
	}
}

static void test_recorded(void)
{
	static const struct want fixture[] = {
		{ "data race", 22903, "data race | _PyObjectStackChunk_New | _PyObjectStack_Pop",
		  NULL,
		  "Include/internal/pycore_object_stack.h:71", "_PyObjectStack_Pop", 2, 0, "write",
		  "main thread", NULL, "write", "thread T2",
		  "_PyObjectStack_Pop (Include/internal/pycore_object_stack.h:71)" },
		{ "data race", 22903, "data race | ftfix_tsan_bump_impl | ftfix_tsan_bump_impl",
		  "global 'counter' of size 8 (_counter.cpython-313t-x86_64-linux-gnu.so+0x4188)",
		  "ftfix_tsan/_counter.c:18", "ftfix_tsan_bump_impl", 2, 0, "read", "thread T3",
		  NULL,
		  "write", "thread T4", "ftfix_tsan_bump_impl (ftfix_tsan/_counter.c:18)" },
	};
	static const struct want misc[] = {
		{ "data race", 23148, "data race | main | t_heap",
		  "heap block of size 16 allocated by main thread", "/tmp/tsc/t.c:8", "t_heap", 2,
		  0, "write", "thread T1", "write M0", "write", "main thread",
		  "t_heap (/tmp/tsc/t.c:8)" },
		{ "lock-order-inversion (potential deadlock)", 23148,
		  "lock-order-inversion (potential deadlock) | lock_ab | lock_ba", NULL,
		  "/tmp/tsc/t.c:10", "lock_ab", 0, 0, NULL, NULL, NULL, NULL, NULL,
		  "lock_ab (/tmp/tsc/t.c:10)" },
		{ "destroy of a locked mutex", 23148, "destroy of a locked mutex | main | main",
		  "stack of main thread", "/tmp/tsc/t.c:23", "main", 0, 0, NULL, NULL, NULL, NULL,
		  NULL,
		  "main (/tmp/tsc/t.c:23)" },
		{ "thread leak", 23148, "thread leak | main", NULL, "/tmp/tsc/t.c:21", "main", 0, 0,
		  NULL, NULL, NULL, NULL, NULL, "main (/tmp/tsc/t.c:21)" },
	};
	struct tsan_reports r = parse_file(DATA "tsan-ftfix-tsan.txt");
	const struct tsan_frame *f;
	is_int(r.n, 2, "fixture: two reports");
	for (size_t i = 0; i < r.n && i < ARRAY_SIZE(fixture); i++)
		check(&r.v[i], &fixture[i], i ? "fixture race" : "fixture interpreter report");
	if (r.n == 2) {
		const struct tsan_stack *a = nth_stack(&r.v[1], TSAN_STACK_ACCESS, 0);
		const struct tsan_stack *t = nth_stack(&r.v[0], TSAN_STACK_ACCESS, 0);
		f = a ? &a->frames[0] : NULL;
		ok(f && a->nframes == 3, "fixture race: three frames in the first access");
		is_str(f ? f->function : NULL, "ftfix_tsan_bump_impl", "frame function");
		is_str(f ? f->file : NULL, "ftfix_tsan/_counter.c", "frame file");
		is_int(f ? f->line : -1, 18, "frame line");
		is_int(f ? f->column : -1, 0, "no column (gcc)");
		is_str(f ? f->module : NULL, "_counter.cpython-313t-x86_64-linux-gnu.so",
		       "frame module");
		is_int(f ? (long long)f->offset : -1, 0x11fa, "frame offset");
		ok(f && !f->runtime, "the extension frame is not the runtime");
		is_int(a ? a->size : -1, 8, "access size");
		ok(t && t->nframes && t->frames[0].runtime,
		   "free interceptor frame is the runtime");
		is_int(count_stacks(&r.v[1], TSAN_STACK_THREAD), 2, "two thread creation stacks");
	}
	tsan_reports_release(&r);

	r = parse_file(DATA "tsan-misc.txt");
	is_int(r.n, 4, "misc: four reports");
	for (size_t i = 0; i < r.n && i < ARRAY_SIZE(misc); i++)
		check(&r.v[i], &misc[i], misc[i].kind);
	if (r.n == 4) {
		is_int(count_stacks(&r.v[0], TSAN_STACK_LOCATION), 1,
		       "heap block allocation stack");
		is_int(count_stacks(&r.v[0], TSAN_STACK_MUTEX), 1, "mutex creation stack");
		is_int(count_stacks(&r.v[1], TSAN_STACK_ACQUIRED), 2, "two 'acquired here' stacks");
		is_int(count_stacks(&r.v[1], TSAN_STACK_PREV_ACQUIRED), 2,
		       "two 'previously acquired' stacks (second_deadlock_stack=1)");
		is_int(count_stacks(&r.v[2], TSAN_STACK_PRIMARY), 2, "headerless stack and 'and:'");
		ok(nth_stack(&r.v[2], TSAN_STACK_PRIMARY, 0)->header == NULL,
		   "the first mutex stack has no header");
		is_str(nth_stack(&r.v[3], TSAN_STACK_THREAD, 0)->header,
		       "Thread T2 (tid=23151, finished) created by main thread at",
		       "thread leak: header kept");
	}
	tsan_reports_release(&r);
}

/* Hand-written edge cases. */
static void test_edges(void)
{
	static const char nulls[] =
		"==================\n"
		"WARNING: ThreadSanitizer: data race (pid=9)\n"
		"  Write of size 4 at 0x7b04 by thread T3:\n"
		"    #0 <null> <null> (libfoo.so+0x1234)\n"
		"    #1 bar ??:? (libfoo.so+0x99)\n"
		"\n"
		"  Previous read of size 4 at 0x7b04 by thread T1:\n"
		"    #0 __tsan_read4 ??:0 (libtsan.so.2+0x1)\n"
		"    #1 ns::Klass<int>::get(char*) const /src/k.cc:12:7 (libk.so+0x10)\n"
		"    #2 <null> <null> (0x7f00deadbeef)\n"
		"\n"
		"SUMMARY: ThreadSanitizer: data race (libfoo.so+0x1234)\n"
		"==================\n";
	static const char truncated[] =
		"some test output\n"
		"==================\n"
		"WARNING: ThreadSanitizer: data race (pid=77)\n"
		"  Read of size 8 at 0x7b1 by thread T2:\n"
		"    #0 cut_short mod.c:5:3 (m.so+0x10)\n";
	static const char clang[] =
		"WARNING: ThreadSanitizer: heap-use-after-free (pid=5)\r\n"
		"  Atomic read of size 8 at 0x7b0 by thread T1 (mutexes: write M7, read M9):\r\n"
		"    #0 __tsan_atomic64_load "
		"compiler-rt/lib/tsan/rtl/tsan_interface_atomic.cpp:1 (python+0x1)\r\n"
		"    #1 use_it /src/u.c:7:9 (python+0x2)\r\n"
		"\r\n"
		"  Previous write of size 8 at 0x7b0 by main thread:\r\n"
		"    #0 free "
		"compiler-rt/lib/tsan/rtl/tsan_interceptors_posix.cpp:1 (python+0x3)\r\n"
		"    #1 drop_it /src/u.c:3:5 (python+0x4)\r\n"
		"    [failed to restore the stack]\r\n"
		"\r\n"
		"SUMMARY: ThreadSanitizer: heap-use-after-free /src/u.c:7:9 in use_it\r\n";
	static const char leaks[] =
		"==================\n"
		"WARNING: ThreadSanitizer: thread leak (pid=1)\n"
		"  Thread T5 'worker' (tid=1234, finished) created by thread T1 at:\n"
		"    #0 pthread_create tsan_interceptors_posix.cpp:1001 (libtsan.so.2+0x5e686)\n"
		"    #1 do_start_joinable_thread Python/thread_pthread.h:290 "
		"(libpython3.13t.so.1.0+0x2e2223)\n"
		"\n"
		"  And 3 more similar thread leaks.\n"
		"\n"
		"SUMMARY: ThreadSanitizer: thread leak Python/thread_pthread.h:290 in "
		"do_start_joinable_thread\n"
		"==================\n";
	static const char deadlock_hint[] =
		"WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock) (pid=3)\n"
		"  Cycle in lock order graph: M10 (0x1) => M11 (0x2) => M10\n"
		"\n"
		"  Mutex M11 acquired here while holding mutex M10 in thread T1:\n"
		"    #0 pthread_mutex_lock "
		"sanitizer_common/sanitizer_common_interceptors.inc:1 (libtsan.so.2+0x1)\n"
		"    #1 take_b /x/d.c:20 (d.so+0x20)\n"
		"\n"
		"  Mutex M10 acquired here while holding mutex M11 in thread T2:\n"
		"    #0 pthread_mutex_lock "
		"sanitizer_common/sanitizer_common_interceptors.inc:1 (libtsan.so.2+0x1)\n"
		"    #1 take_a /x/d.c:10 (d.so+0x10)\n"
		"\n"
		"    Hint: use TSAN_OPTIONS=second_deadlock_stack=1 to get more informative "
		"warning message\n"
		"\n"
		"SUMMARY: ThreadSanitizer: lock-order-inversion (potential deadlock) /x/d.c:20 "
		"in take_b\n";
	struct tsan_reports r;
	const struct tsan_stack *a, *b;

	r = parse_str(nulls);
	is_int(r.n, 1, "nulls: one report");
	a = nth_stack(&r.v[0], TSAN_STACK_ACCESS, 0);
	b = nth_stack(&r.v[0], TSAN_STACK_ACCESS, 1);
	ok(a && a->nframes == 2 && b && b->nframes == 3, "nulls: frames counted");
	if (a && b && a->nframes == 2 && b->nframes == 3) {
		ok(!a->frames[0].function && !a->frames[0].file,
		   "<null> <null>: no function, file");
		is_str(a->frames[0].module, "libfoo.so", "<null> frame keeps its module");
		is_str(a->frames[1].function, "bar", "??:? frame keeps its function");
		ok(!a->frames[1].file && a->frames[1].line == 0, "??:? is no file, no line");
		ok(b->frames[0].runtime, "__tsan_read4 is the runtime");
		is_str(b->frames[1].function, "ns::Klass<int>::get(char*) const",
		       "function with spaces and arguments");
		is_str(b->frames[1].file, "/src/k.cc", "file with column: file");
		is_int(b->frames[1].line, 12, "file with column: line");
		is_int(b->frames[1].column, 7, "file with column: column");
		ok(!b->frames[2].module && !b->frames[2].function, "(0xaddr): unknown module");
	}
	is_str(r.v[0].signature, "data race | libfoo.so+0x1234 | ns::Klass<T>::get",
	       "nulls: module+offset stands in for an unknown function, names are normalized");
	is_str(r.v[0].summary_location, "libfoo.so+0x1234", "summary (module+off) location");
	ok(r.v[0].summary_function == NULL, "summary without ' in func'");
	tsan_reports_release(&r);

	r = parse_str(truncated);
	is_int(r.n, 1, "truncated: the report is kept");
	ok(r.n == 1 && r.v[0].truncated, "truncated: marked");
	is_str(r.n ? r.v[0].signature : NULL, "data race | cut_short",
	       "truncated: one-sided signature");
	ok(r.n && !r.v[0].summary, "truncated: no summary");
	tsan_reports_release(&r);

	r = parse_str(clang);
	is_int(r.n, 1, "clang/CRLF: one report");
	a = nth_stack(&r.v[0], TSAN_STACK_ACCESS, 0);
	b = nth_stack(&r.v[0], TSAN_STACK_ACCESS, 1);
	is_str(a ? a->op : NULL, "atomic read", "atomic access op");
	is_str(a ? a->mutexes : NULL, "write M7, read M9", "mutexes");
	is_str(a ? a->thread : NULL, "thread T1", "thread without the mutexes");
	ok(b && b->unrestored, "[failed to restore the stack] noted");
	ok(a && a->frames[0].runtime, "runtime linked into the executable: known by its source");
	is_str(r.v[0].signature, "heap-use-after-free | drop_it | use_it",
	       "use-after-free signature");
	is_str(r.v[0].summary_location, "/src/u.c:7:9", "summary location with column");
	is_str(r.v[0].summary_function, "use_it", "summary function (CR stripped)");
	ok(!r.v[0].truncated, "not truncated without a closing rule line");
	tsan_reports_release(&r);

	r = parse_str(leaks);
	is_int(r.n, 1, "thread leak: one report");
	is_str(r.v[0].signature, "thread leak | do_start_joinable_thread", "thread leak signature");
	is_str(nth_stack(&r.v[0], TSAN_STACK_THREAD, 0)->header,
	       "Thread T5 'worker' (tid=1234, finished) created by thread T1 at", "named thread");
	tsan_reports_release(&r);

	r = parse_str(deadlock_hint);
	is_int(r.n, 1, "deadlock without second stacks: one report");
	is_str(r.v[0].signature, "lock-order-inversion (potential deadlock) | take_a | take_b",
	       "deadlock signature from the two 'acquired here' stacks");
	is_int(count_stacks(&r.v[0], TSAN_STACK_PREV_ACQUIRED), 0, "no second stacks");
	tsan_reports_release(&r);

	{
		struct sbuf many = SBUF_INIT;
		for (int i = 0; i < TSAN_REPORTS_KEEP + 5; i++)
			sbuf_adds(&many, "WARNING: ThreadSanitizer: data race (pid=1)\n");
		r = parse_str(many.buf);
		is_int(r.n, TSAN_REPORTS_KEEP, "reports kept up to TSAN_REPORTS_KEEP");
		is_int(r.more, 5, "the rest counted");
		tsan_reports_release(&r);
		sbuf_release(&many);
	}
	r = parse_str("no reports here\n==================\nnothing\n");
	is_int(r.n, 0, "text without reports");
	tsan_reports_release(&r);
	r = parse_str("WARNING: ThreadSanitizer: data race");
	is_int(r.n, 1, "a lone header without newline");
	is_str(r.n ? r.v[0].kind : NULL, "data race", "kind without pid");
	is_int(r.n ? r.v[0].pid : 0, -1, "no pid");
	tsan_reports_release(&r);
}

/* The same race with other addresses, pids, thread and mutex ids, and sides swapped. */
static void test_stability(void)
{
	static const char one[] =
		"WARNING: ThreadSanitizer: data race (pid=100)\n"
		"  Read of size 8 at 0x7fd2f7b05188 by thread T1 (mutexes: write M3):\n"
		"    #0 reader /a/r.c:10 (m.so+0x10)\n\n"
		"  Previous write of size 8 at 0x7fd2f7b05188 by thread T4:\n"
		"    #0 writer /a/w.c:20 (m.so+0x20)\n\n"
		"SUMMARY: ThreadSanitizer: data race /a/r.c:10 in reader\n";
	static const char two[] =
		"WARNING: ThreadSanitizer: data race (pid=999)\n"
		"  Write of size 8 at 0x7aaa00000000 by main thread:\n"
		"    #0 writer /a/w.c:21 (m.so+0x24)\n\n"
		"  Previous read of size 8 at 0x7aaa00000000 by thread T9 (mutexes: write M12):\n"
		"    #0 reader /a/r.c:11 (m.so+0x14)\n\n"
		"SUMMARY: ThreadSanitizer: data race /a/w.c:21 in writer\n";
	struct tsan_reports a = parse_str(one), b = parse_str(two);
	ok(a.n == 1 && b.n == 1, "two reports");
	if (a.n == 1 && b.n == 1) {
		is_str(a.v[0].signature, b.v[0].signature, "same signature");
		is_str(a.v[0].id, b.v[0].id, "same id");
		is_int(strlen(a.v[0].id), 16, "16 hex digits");
	}
	tsan_reports_release(&a);
	tsan_reports_release(&b);
}

static void test_patterns(void)
{
	static const struct {
		const char *pat, *str;
		bool want;
	} t[] = {
		{ "foo", "foo", true },
		{ "foo", "xfooy", true },
		{ "^foo", "foobar", true },
		{ "^foo", "xfoo", false },
		{ "foo$", "xfoo", true },
		{ "foo$", "foox", false },
		{ "^foo$", "foo", true },
		{ "^foo$", "foo_impl", false },
		{ "f*o", "fxxo", true },
		{ "f*o*z", "f_o_zz", true },
		{ "f*o*z$", "f_o_zq", false },
		{ "^*bar", "xxbar", true },
		{ "", "anything", true },
		{ "x", "", false },
		{ "*_bump_*", "ftfix_tsan_bump_impl", true },
		{ "libpython3.13t.so", "libpython3.13t.so.1.0", true },
		{ "a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		is_int(tsan_pattern_match(t[i].pat, t[i].str), t[i].want, "pattern '%s' on '%s'",
		       t[i].pat, t[i].str);
	ok(!tsan_pattern_match("foo", NULL), "NULL never matches");
}

/* Rules text on one line, for test names. */
static const char *one_line(const char *s)
{
	static char buf[128];
	size_t k = 0;
	for (; *s && k + 3 < sizeof(buf); s++) {
		if (*s == '\n' || *s == '\r') {
			buf[k++] = '\\';
			buf[k++] = *s == '\n' ? 'n' : 'r';
		} else {
			buf[k++] = *s;
		}
	}
	buf[k] = '\0';
	return buf;
}

static void test_suppressions(void)
{
	static const struct {
		const char *rules;
		const char *want; /* suppressed? the fixture's two reports, then misc's four */
	} t[] = {
		{ "race:ftfix_tsan_bump_impl\n", "010000" },
		{ "race:^ftfix_tsan_bump$\n", "000000" },
		{ "race:^ftfix_tsan_bump_impl$\n", "010000" },
		{ "race:*_bump_*\n", "010000" },
		{ "race:_counter.c\n", "010000" },
		{ "race:counter\n", "010000" },
		/* race_top: only the top frame; the interpreter report's tops are free/malloc */
		{ "race_top:_PyObjectStack_Pop\n", "000000" },
		{ "race:_PyObjectStack_Pop\n", "100000" },
		{ "race_top:free\n", "100000" },
		{ "race_top:ftfix_tsan_bump_impl\n", "010000" },
		/* the thread creation stacks count for race: */
		{ "race:do_start_joinable_thread\n", "110000" },
		{ "called_from_lib:libpython3.13t.so\n", "100000" },
		{ "thread:pthread_create\n", "000001" },
		{ "deadlock:lock_ab\n", "000100" },
		{ "mutex:pthread_mutex_destroy\n", "000010" },
		{ "signal:main\n", "000000" },
		{ "race:t_heap\n", "001000" },
		{ "# a comment\n\n  race:t_heap  \r\n", "001000" },
		{ "race:\n", "111000" },
	};
	struct tsan_reports fx = parse_file(DATA "tsan-ftfix-tsan.txt");
	struct tsan_reports misc = parse_file(DATA "tsan-misc.txt");
	struct tsan_supp s = TSAN_SUPP_INIT;
	if (fx.n != 2 || misc.n != 4) {
		ok(0, "recorded reports for the suppression tests");
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char what[8];
		is_int(tsan_supp_parse(t[i].rules, "test", &s), 0, "parse '%s'",
		       one_line(t[i].rules));
		tsan_supp_apply(&s, &fx);
		tsan_supp_apply(&s, &misc);
		for (size_t k = 0; k < 6; k++)
			what[k] = (char)('0' + (k < 2 ? fx.v[k].suppressed
						      : misc.v[k - 2].suppressed));
		what[6] = '\0';
		is_str(what, t[i].want, "suppressions '%s'", one_line(t[i].rules));
		tsan_supp_release(&s);
	}
	is_int(tsan_supp_parse("race:a\nrace_top:b\nthread:c\nmutex:d\nsignal:e\ndeadlock:f\n"
			       "called_from_lib:g\n", "all", &s), 0, "every type parses");
	is_int(s.n, 7, "seven rules");
	tsan_supp_apply(&s, &fx);
	ok(fx.v[1].suppressed_by == NULL || strcmp(fx.v[1].suppressed_by, "race:a") == 0,
	   "suppressed_by names the rule");
	tsan_supp_release(&s);
	{
		/* the error message goes to stderr: keep it out of prove's output */
		int saved = dup(2), null = open("/dev/null", O_WRONLY);
		dup2(null, 2);
		is_int(tsan_supp_parse("race:ok\nbogus:x\n", "bad.supp", &s), -1,
		       "unknown type is an error");
		dup2(saved, 2);
		close(saved);
		close(null);
	}
	tsan_supp_release(&s);
out:
	tsan_reports_release(&fx);
	tsan_reports_release(&misc);
}

/* The iteration record's tsan_* fields and the package's tsan_races (src/results/results.c). */
static void test_results_json(void)
{
	char *text = NULL;
	struct iter_outcome o;
	struct tsan_supp s = TSAN_SUPP_INIT;
	cJSON *pkg = cJSON_CreateObject(), *iters = cJSON_CreateArray(), *races, *it, *r;
	ok(read_file(DATA "tsan-ftfix-tsan.txt", &text, NULL) == 0, "read the fixture's report");
	memset(&o, 0, sizeof(o));
	o.started = o.exited = true;
	o.duration_s = 1;
	for (int i = 1; i <= 3; i++) {
		if (i == 3) {
			/* the third iteration: the extension's race suppressed */
			is_int(tsan_supp_parse("race:ftfix_tsan_bump_impl\n", "t", &s), 0, "rules");
			stderr_evidence_set_tsan_suppressions(&s);
		}
		cJSON_AddItemToArray(iters,
				     iteration_json(i, "0", &o, NULL, text, "artifacts/x/1"));
	}
	stderr_evidence_set_tsan_suppressions(NULL);
	it = cJSON_GetArrayItem(iters, 0);
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(it, "tsan_reports")), 2, "two reports");
	is_int(json_num(it, "tsan_reports_omitted", -1), 0, "none omitted");
	is_str(cJSON_GetArrayItem(cJSON_GetObjectItem(it, "tsan_warnings"), 0)->valuestring,
	       "data race", "tsan_warnings: the kind");
	r = cJSON_GetArrayItem(cJSON_GetObjectItem(it, "tsan_reports"), 1);
	is_str(json_str(r, "signature"), "data race | ftfix_tsan_bump_impl | ftfix_tsan_bump_impl",
	       "report signature");
	is_str(json_str(r, "summary"), "data race ftfix_tsan/_counter.c:18 in ftfix_tsan_bump_impl",
	       "report summary");
	is_str(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "frames_a"), 0)->valuestring,
	       "ftfix_tsan_bump_impl (ftfix_tsan/_counter.c:18)", "frames_a[0]");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(r, "frames_b")), 3, "three frames_b");
	ok(!json_bool(r, "suppressed", true), "not suppressed");
	it = cJSON_GetArrayItem(iters, 2);
	r = cJSON_GetArrayItem(cJSON_GetObjectItem(it, "tsan_reports"), 1);
	ok(json_bool(r, "suppressed", false), "iteration 3: suppressed");
	is_str(json_str(r, "suppressed_by"), "race:ftfix_tsan_bump_impl", "suppressed_by");

	cJSON_AddStringToObject(pkg, "package", "ftfix-tsan");
	cJSON_AddTrueToObject(pkg, "install_ok");
	cJSON_AddItemToObject(pkg, "iterations", iters);
	pkg_aggregate(pkg);
	is_str(json_str(pkg, "category"), "tsan_warnings", "category");
	is_int(json_num(pkg, "tsan_warning_iterations", -1), 3,
	       "3 iterations with unsuppressed reports (the interpreter's race in the third)");
	races = cJSON_GetObjectItem(pkg, "tsan_races");
	is_int(cJSON_GetArraySize(races), 2, "two race signatures");
	r = cJSON_GetArrayItem(races, 0);
	is_int(json_num(r, "count", 0), 3, "first: the interpreter's, unsuppressed in all 3");
	ok(!json_bool(r, "suppressed", true), "first: unsuppressed");
	r = cJSON_GetArrayItem(races, 1);
	is_str(json_str(r, "signature"), "data race | ftfix_tsan_bump_impl | ftfix_tsan_bump_impl",
	       "second: the extension's");
	is_int(json_num(r, "iterations", 0), 3, "second: in 3 iterations");
	ok(!json_bool(r, "suppressed", true), "second: suppressed only once, so not suppressed");
	cJSON_Delete(pkg);
	tsan_supp_release(&s);

	/* a fully suppressed iteration set is compatible */
	pkg = cJSON_CreateObject();
	iters = cJSON_CreateArray();
	is_int(tsan_supp_parse("race:*\n", "t", &s), 0, "race:* parses");
	stderr_evidence_set_tsan_suppressions(&s);
	cJSON_AddItemToArray(iters, iteration_json(1, "0", &o, NULL, text, "artifacts/x/1"));
	stderr_evidence_set_tsan_suppressions(NULL);
	cJSON_AddTrueToObject(pkg, "install_ok");
	cJSON_AddItemToObject(pkg, "iterations", iters);
	pkg_aggregate(pkg);
	is_str(json_str(pkg, "category"), "compatible", "everything suppressed: compatible");
	ok(json_bool(cJSON_GetArrayItem(cJSON_GetObjectItem(pkg, "tsan_races"), 0), "suppressed",
		     false), "tsan_races keeps suppressed races, marked");
	cJSON_Delete(pkg);
	tsan_supp_release(&s);

	/* more than TSAN_REPORTS_MAX reports */
	{
		struct sbuf many = SBUF_INIT;
		for (int i = 0; i < TSAN_REPORTS_MAX + 7; i++)
			sbuf_adds(&many, text);
		it = iteration_json(1, "0", &o, NULL, many.buf, "a");
		is_int(cJSON_GetArraySize(cJSON_GetObjectItem(it, "tsan_reports")),
		       TSAN_REPORTS_MAX, "reports bounded");
		is_int(json_num(it, "tsan_reports_omitted", 0), 2 * (TSAN_REPORTS_MAX + 7) -
								    TSAN_REPORTS_MAX,
		       "the rest counted");
		cJSON_Delete(it);
		sbuf_release(&many);
	}
	free(text);
}

/* A fatal report (tsan-segv.txt, from ftfix-cexrace under --tsan): TSAN caught the SIGSEGV
 * and exited 0 (TSAN_OPTIONS exitcode=0); the iteration is a crash all the same. */
static void test_fatal(void)
{
	char *text = NULL, *more;
	struct tsan_reports rs = TSAN_REPORTS_INIT;
	struct iter_outcome o;
	cJSON *it;
	const struct tsan_report *r;
	ok(read_file(DATA "tsan-segv.txt", &text, NULL) == 0, "read the SEGV report");
	is_int(tsan_parse(text, strlen(text), &rs), 1, "one report");
	r = tsan_first_fatal(&rs);
	ok(r != NULL, "it is fatal");
	if (r) {
		is_str(r->kind, "SEGV", "kind SEGV");
		is_int(r->pid, 24407, "the ==pid== prefix gives the pid");
		is_int(tsan_fatal_signal(r), SIGSEGV, "stands for SIGSEGV");
		is_str(r->summary_function, "ftfix_cexrace_box_reader", "summary function");
		ok(!r->truncated, "complete (SUMMARY seen)");
		is_str(r->signature, "SEGV | ftfix_cexrace_box_reader", "signature from its stack");
	}
	tsan_reports_release(&rs);
	memset(&o, 0, sizeof(o));
	o.started = o.exited = true; /* exit code 0 */
	o.duration_s = 1;
	it = iteration_json(1, "0", &o, NULL, text, "artifacts/x/1");
	is_str(json_str(it, "status"), "crash", "exit 0 with a TSAN SEGV report: crash");
	is_str(json_str(it, "crash_signal"), "SIGSEGV", "crash_signal");
	is_str(json_str(it, "crash_source"), "tsan", "crash_source: tsan");
	is_str(json_str(it, "crash_signature"),
	       "SIGSEGV | ftfix_cexrace_box_reader | call_long | read_box",
	       "the crash signature comes from the report's stack");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(it, "tsan_warnings")), 0,
	       "a fatal report is no tsan warning");
	cJSON_Delete(it);
	/* a warning before it, and a FATAL: without prefix */
	more = xasprintf("FATAL: ThreadSanitizer: unexpected memory mapping 0x7f-0x80\n%s", text);
	is_int(tsan_parse(more, strlen(more), &rs), 2, "FATAL: is a report too");
	is_str(rs.v[0].kind, "unexpected memory mapping 0x7f-0x80", "its kind");
	is_int(tsan_fatal_signal(&rs.v[0]), SIGABRT, "other fatal errors: SIGABRT");
	tsan_reports_release(&rs);
	free(more);
	free(text);
}

static void test_runtime(void)
{
	char dir[] = "/tmp/ftscope-test-tsan.XXXXXX", *rt;
	struct sbuf sb = SBUF_INIT;
	is_int(tsan_binary_instrumented("/proc/self/exe"), 0, "this test is not TSAN-instrumented");
	rt = tsan_runtime_path();
	ok(!rt || strstr(rt, "tsan"), "the runtime found, if any, is a TSAN runtime: %s",
	   rt ? rt : "(none)");
	free(rt);
	ok(mkdtemp(dir) != NULL, "temporary directory");
	{
		char *a = path_join(dir, "tsan.20"), *b = path_join(dir, "tsan.10");
		char *c = path_join(dir, "other.1"), *d = path_join(dir, "tsan.30");
		int dfd;
		write_file_atomic(a, "second\n", 7);
		write_file_atomic(b, "first", 5);
		write_file_atomic(c, "not a log\n", 10);
		dfd = open(dir, O_RDONLY | O_DIRECTORY);
		ok(symlink(a, d) == 0, "a symlink among the logs (never followed)");
		is_int(tsan_read_logs(dfd, "tsan", FILE_ANY_OWNER, 1 << 20, &sb), 2,
		       "two log files");
		is_str(sb.buf, "first\nsecond\n", "in name order, newline-separated");
		sbuf_reset(&sb);
		is_int(tsan_read_logs(dfd, "tsan", geteuid() + 1, 1 << 20, &sb), 0,
		       "another user's files are not read");
		is_int(tsan_read_logs(dfd, "tsan", FILE_ANY_OWNER, 8, &sb), 1, "at most max bytes");
		close(dfd);
		unlink(d);
		free(d);
		unlink(a);
		unlink(b);
		unlink(c);
		rmdir(dir);
		free(a);
		free(b);
		free(c);
	}
	sbuf_release(&sb);
}

int main(void)
{
	test_recorded();
	test_edges();
	test_stability();
	test_patterns();
	test_suppressions();
	test_results_json();
	test_fatal();
	test_runtime();
	return tap_done();
}
