/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* Crash-signature normalization and stability; wait-for graph cycles. */
#include <stdlib.h>
#include <string.h>

#include "ftscope/signature.h"
#include "ftscope/waitgraph.h"
#include "tap.h"

static void test_normalize(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "ftfix_segv_poke_impl", "ftfix_segv_poke_impl" },
		{ "insertdict.cold", "insertdict" },
		{ "dictresize.cold.12", "dictresize" },
		{ "foo.isra.0", "foo" },
		{ "foo.constprop.3", "foo" },
		{ "foo.part.1.isra.2", "foo" },
		{ "foo.llvm.12345678901234", "foo" },
		{ "__GI_raise", "raise" },
		{ "ns::Klass<int, std::vector<char> >::method(char*) const", "ns::Klass<T>::method" },
		{ "operator new(unsigned long)", "operator new" },
		{ "_ZN4core9panicking5panic17h0123456789abcdefE", "_ZN4core9panicking5panic17h0123456789abcdefE" },
		{ "mycrate::module::func::h0123456789abcdef", "mycrate::module::func" },
		{ "  spaced  ", "spaced" },
		{ "foo [clone .cold]", "foo" },
		{ "__strlen_evex", "strlen" },
		{ "__strlen_avx2", "strlen" },
		{ "__memcpy_avx_unaligned_erms", "memcpy" },
		{ "__memmove_evex_unaligned_erms", "memmove" },
		{ "__strchr_sse2", "strchr" },
		{ "__stack_chk_fail", "__stack_chk_fail" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *n = normalize_function(t[i].in);
		is_str(n, t[i].want, "normalize '%s'", t[i].in);
		free(n);
	}
	ok(frame_is_ignored("raise", "libc.so.6"), "raise ignored");
	ok(frame_is_ignored("__pthread_kill_implementation", "libc.so.6"), "pthread_kill impl");
	ok(frame_is_ignored("_PyEval_EvalFrameDefault", "libpython3.13t.so.1.0"), "eval loop");
	ok(frame_is_ignored("faulthandler_fatal_error", NULL), "faulthandler");
	ok(frame_is_ignored("cfunction_vectorcall_NOARGS", NULL), "vectorcall plumbing");
	ok(frame_is_ignored("start_thread", NULL), "thread bootstrap");
	ok(frame_is_ignored("anything", "[vdso]"), "vdso");
	ok(!frame_is_ignored("insertdict", "libpython3.13t.so.1.0"), "insertdict kept");
	ok(!frame_is_ignored("ftfix_segv_poke_impl", "_core.so"), "fixture frame kept");
}

#define NF(fn, mod) { fn, mod, 0, false, NULL, NULL }
#define PF(file, fn) { NULL, NULL, 0, true, file, fn }

static void test_signature(void)
{
	/* A SIGABRT from an assert in an extension, as the unwinder sees it. */
	struct sig_frame abrt[] = {
		NF("__pthread_kill_implementation", "libc.so.6"), NF("raise", "libc.so.6"),
		NF("abort", "libc.so.6"), NF("__assert_fail_base.cold", "libc.so.6"),
		NF("__assert_fail", "libc.so.6"), NF("check_invariant", "_core.so"),
		NF("ftfix_abort_check.isra.0", "_core.so"), NF("cfunction_vectorcall_NOARGS", "libpython"),
		PF("/home/u/pkg/tests/test_check.py", "work"), NF("_PyEval_EvalFrameDefault", "libpython"),
		NF("method_vectorcall", "libpython"), NF("thread_run", "libpython"),
		NF("pythread_wrapper", "libpython"), NF("start_thread", "libc.so.6"),
		NF("clone3", "libc.so.6"),
	};
	/* The same bug on another machine: other paths, other offsets, a .cold clone. */
	struct sig_frame abrt2[] = {
		NF("__pthread_kill_implementation.constprop.0", "libc.so.6"), NF("__GI_raise", "libc.so.6"),
		NF("abort", "libc.so.6"), NF("__assert_fail", "libc.so.6"),
		NF("check_invariant.cold", "_core.so"), NF("ftfix_abort_check", "_core.so"),
		PF("/tmp/other/venv/src/tests/test_check.py", "work"),
		NF("_PyEval_EvalFrameDefault", "libpython"),
	};
	struct sig_frame other[] = {
		NF("insertdict", "libpython3.13t.so.1.0"), NF("_PyDict_SetItem_Take2", "libpython3.13t.so.1.0"),
		NF("dict_ass_sub", "libpython3.13t.so.1.0"),
		PF("/x/tests/test_check.py", "work"),
	};
	struct sig_frame unsym[] = {
		{ NULL, "libc.so.6", 0x1234, false, NULL, NULL },
		{ NULL, "libfoo.so", 0x4f0, false, NULL, NULL },
		NF("foo_entry", "libfoo.so"),
	};
	struct crash_sig a, b, c, d;
	is_int(crash_signature("SIGABRT", abrt, sizeof(abrt) / sizeof(abrt[0]), &a), 0, "abrt sig");
	is_str(a.text, "SIGABRT | check_invariant | ftfix_abort_check | py test_check.py:work",
	       "abort chain, plumbing and bootstrap dropped; Python frame kept");
	is_int(a.nframes, 2, "two native frames survive");
	is_int(crash_signature("SIGABRT", abrt2, sizeof(abrt2) / sizeof(abrt2[0]), &b), 0, "abrt2");
	is_str(b.id, a.id, "same bug, other machine: same id");
	is_int(crash_signature("SIGSEGV", other, sizeof(other) / sizeof(other[0]), &c), 0, "segv");
	ok(strcmp(c.id, a.id) != 0, "another bug: another id");
	is_str(c.text, "SIGSEGV | insertdict | _PyDict_SetItem_Take2 | dict_ass_sub | py test_check.py:work",
	       "three frames");
	is_int(crash_signature("SIGSEGV", unsym, 3, &d), 0, "unsymbolized");
	is_str(d.text, "SIGSEGV | libfoo.so+0x4f0 | foo_entry", "module+offset, libc noise dropped");
	ok(d.unsymbolized, "marked unsymbolized");
	is_int(strlen(a.id), 16, "16 hex digits");
	crash_sig_release(&a);
	crash_sig_release(&b);
	crash_sig_release(&c);
	crash_sig_release(&d);
	is_int(crash_signature("SIGSEGV", NULL, 0, &a), -1, "no frames: nothing to sign");
	is_str(a.text, "SIGSEGV", "the kind alone");
	crash_sig_release(&a);
}

static void test_graph(void)
{
	struct wg_edge two[] = { { 101, 102, true }, { 102, 101, true }, { 100, 101, false } };
	struct wg_edge three[] = { { 7, 9, true }, { 9, 8, false }, { 8, 7, true }, { 5, 6, true } };
	struct wg_edge none[] = { { 1, 2, true }, { 2, 3, true } };
	struct wg_edge self[] = { { 4, 4, true } };
	struct wg_cycle *c;
	size_t n;
	waitgraph_cycles(two, 3, &c, &n);
	is_int(n, 1, "one cycle of two threads");
	is_int(c[0].n, 2, "two members");
	is_int(c[0].tids[0], 101, "starts at the smallest tid");
	is_int(c[0].tids[1], 102, "then its owner");
	ok(c[0].certain, "both edges certain");
	wg_cycles_free(c, n);
	waitgraph_cycles(three, 4, &c, &n);
	is_int(n, 1, "a three-thread cycle");
	is_int(c[0].n, 3, "three members");
	is_int(c[0].tids[0], 7, "7 first");
	is_int(c[0].tids[1], 9, "7 waits for 9");
	is_int(c[0].tids[2], 8, "9 waits for 8");
	ok(!c[0].certain, "an inferred edge makes the cycle inferred");
	wg_cycles_free(c, n);
	waitgraph_cycles(none, 2, &c, &n);
	is_int(n, 0, "a chain is not a cycle");
	wg_cycles_free(c, n);
	waitgraph_cycles(self, 1, &c, &n);
	is_int(n, 1, "relocking a held non-recursive lock is a cycle of one");
	wg_cycles_free(c, n);
}

int main(void)
{
	test_normalize();
	test_signature();
	test_graph();
	return tap_done();
}
