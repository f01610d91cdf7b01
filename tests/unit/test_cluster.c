/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* Crash clustering: signature parsing, the LCS rule (ClusterFuzz), transitive merging. */
#include <stdlib.h>
#include <string.h>

#include "ftscope/cluster.h"
#include "ftscope/util.h"
#include "tap.h"

static void test_parse(void)
{
	static const struct {
		const char *text, *signal, *frames, *py; /* frames joined by ',' */
	} t[] = {
		{ "SIGSEGV | ftfix_segv_poke_impl | poke | py "
		  "test_poke.py:test_concurrent_poke.<locals>.work",
		  "SIGSEGV", "ftfix_segv_poke_impl,poke",
		  "test_poke.py:test_concurrent_poke.<locals>.work" },
		{ "SIGABRT | a | b | c", "SIGABRT", "a,b,c", NULL },
		{ "SIGSEGV | py x.py:f", "SIGSEGV", "", "x.py:f" },
		{ "SIGSEGV | operator|(A, B) | g", "SIGSEGV", "operator|(A, B),g", NULL },
		{ "SIGSEGV: Fatal Python error: Segmentation fault", "SIGSEGV", "", NULL },
		/* one rule for every reader: the no-tracer form keeps its Python frame */
		{ "SIGSEGV: test_x.py:worker", "SIGSEGV", "", "test_x.py:worker" },
		{ "SIGBUS | memcpy", "SIGBUS", "memcpy", NULL },
		{ "SIGABRT | py t.py:f", "SIGABRT", "", "t.py:f" },
		{ "", NULL, "", NULL },
		{ "SIGABRT", "SIGABRT", "", NULL },
		{ "weird text", NULL, "", NULL },
		{ NULL, NULL, "", NULL },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct sig_parts p;
		struct sbuf sb = SBUF_INIT;
		sig_parts_parse(t[i].text, &p);
		for (size_t k = 0; k < p.frames.n; k++)
			sbuf_addf(&sb, "%s%s", k ? "," : "", p.frames.v[k]);
		is_str(p.signal, t[i].signal, "parse #%zu: signal", i);
		is_str(sb.buf ? sb.buf : "", t[i].frames, "parse #%zu: frames", i);
		is_str(p.py_frame, t[i].py, "parse #%zu: python frame", i);
		sbuf_release(&sb);
		sig_parts_release(&p);
	}
}

#define F(...) ((const char *const[]){ __VA_ARGS__ })

static void test_lcs(void)
{
	const struct {
		const char *const *a;
		size_t na;
		const char *const *b;
		size_t nb;
		size_t want;
	} t[] = {
		{ F("f", "g", "h"), 3, F("f", "g", "h"), 3, 3 },
		{ F("f", "g", "h"), 3, F("f", "g", "k"), 3, 2 },
		{ F("f", "g", "h"), 3, F("x", "g", "h"), 3, 2 },
		{ F("f", "g", "h"), 3, F("f", "x", "h"), 3, 2 }, /* in order, with a gap */
		{ F("f", "g", "h"), 3, F("h", "g", "f"), 3, 1 }, /* reversed */
		{ F("f", "g"), 2, F("g", "f"), 2, 1 },
		{ F("f", "g", "h"), 3, F("x", "y", "z"), 3, 0 },
		{ F("f"), 1, F("f"), 1, 1 },
		{ F("f", "g", "h"), 3, NULL, 0, 0 },
		{ F("a", "f", "g"), 3, F("f", "g", "b"), 3, 2 }, /* shifted by one frame */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(frames_lcs(t[i].a, t[i].na, t[i].b, t[i].nb), t[i].want, "lcs #%zu = %zu", i,
		       t[i].want);
}

static void test_similar(void)
{
	const struct {
		struct crash_variant a, b;
		int want;
		const char *why;
	} t[] = {
		{ { "1", "SIGSEGV", F("f", "g", "h"), 3 },
		  { "2", "SIGSEGV", F("f", "g", "k"), 3 },
		  1,
		  "2 of 3 frames in order" },
		{ { "1", "SIGSEGV", F("f", "g", "h"), 3 },
		  { "2", "SIGSEGV", F("f", "x", "y"), 3 },
		  0,
		  "1 of 3 frames" },
		{ { "1", "SIGSEGV", F("f", "g", "h"), 3 },
		  { "2", "SIGABRT", F("f", "g", "h"), 3 },
		  0,
		  "same frames, another signal" },
		{ { "1", "SIGSEGV", F("f", "g"), 2 },
		  { "2", "SIGSEGV", F("g", "f"), 2 },
		  0,
		  "same frames, another order" },
		{ { "1", "SIGSEGV", F("f", "g"), 2 },
		  { "2", "SIGSEGV", F("f", "g"), 2 },
		  1,
		  "two frames equal, Python frames differ" },
		{ { "1", "SIGSEGV", F("f"), 1 },
		  { "2", "SIGSEGV", F("f"), 1 },
		  0,
		  "one common frame is not enough" },
		{ { "1", "SIGSEGV", NULL, 0 }, { "1", "SIGSEGV", NULL, 0 }, 1, "same id" },
		{ { "1", NULL, NULL, 0 }, { "2", NULL, NULL, 0 }, 0, "no frames, other ids" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(variants_similar(&t[i].a, &t[i].b), t[i].want, "similar: %s", t[i].why);
}

static void test_cluster(void)
{
	/* a~b (f g), b~c (g h ... in order), d alone, e~a; f another signal */
	const struct crash_variant v[] = {
		{ "a", "SIGSEGV", F("f", "g", "x"), 3 }, { "d", "SIGSEGV", F("p", "q", "r"), 3 },
		{ "b", "SIGSEGV", F("f", "g", "h"), 3 }, { "c", "SIGSEGV", F("y", "g", "h"), 3 },
		{ "e", "SIGSEGV", F("f", "z", "x"), 3 }, { "f", "SIGABRT", F("f", "g", "x"), 3 },
	};
	size_t group[6], n = cluster_variants(v, 6, group);

	is_int(n, 3, "three clusters");
	is_int(group[0], 0, "a opens cluster 0");
	is_int(group[1], 1, "d opens cluster 1");
	is_int(group[2], 0, "b joins a (f, g)");
	is_int(group[3], 0, "c joins through b (g, h): merging is transitive");
	is_int(group[4], 0, "e joins a (f, x)");
	is_int(group[5], 2, "the SIGABRT variant is its own cluster");
	is_int(cluster_variants(v, 0, group), 0, "no variants, no clusters");
}

int main(void)
{
	test_parse();
	test_lcs();
	test_similar();
	test_cluster();
	return tap_done();
}
