/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * qsort() as the build wraps it (--wrap=qsort, src/base/util.c): every call, libdw's among
 * them, comes here. An array of a few sorted runs (libdw's line tables) is merged run by
 * run, with few comparisons; anything else goes to glibc's. Either way the order must be
 * the stable one (the reference: glibc's own qsort, __real_qsort, ties broken by the
 * original position), for 8-byte elements (libdw sorts pointers) and others.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

void __real_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

struct item {
	int key;
	int pos; /* where it was before the sort */
	int pad;
};

static size_t ncmp;

static int by_key(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	ncmp++;
	return (x->key > y->key) - (x->key < y->key);
}

static int by_key_pos(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	if (x->key != y->key)
		return (x->key > y->key) - (x->key < y->key);
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/* pointers to items, as libdw sorts its rows */
static int by_key_ptr(const void *a, const void *b)
{
	return by_key(*(const struct item *const *)a, *(const struct item *const *)b);
}

static unsigned long rnd = 12345;
static int next_rand(void)
{
	rnd = rnd * 6364136223846793005ul + 1442695040888963407ul;
	return (int)(rnd >> 33);
}

/* n items in nruns ascending runs (0: random keys), keys with many repeats */
static void fill(struct item *v, size_t n, size_t nruns, int range)
{
	size_t per = nruns ? (n + nruns - 1) / nruns : 0;
	for (size_t i = 0; i < n; i++) {
		if (nruns)
			v[i].key = (int)((i % per) * 3 / 2) + next_rand() % 2 + (int)(i / per) % 5;
		else
			v[i].key = next_rand() % range;
		v[i].pos = (int)i;
		v[i].pad = 0;
	}
	if (nruns) /* ascending within a run: make it so (repeats stay) */
		for (size_t i = 1; i < n; i++)
			if (i % per && v[i].key < v[i - 1].key)
				v[i].key = v[i - 1].key;
}

static bool same_as_stable(const struct item *got, const struct item *in, size_t n)
{
	struct item *want = malloc((n ? n : 1) * sizeof(*want));
	bool same;

	memcpy(want, in, n * sizeof(*in));
	__real_qsort(want, n, sizeof(*want), by_key_pos);
	same = !memcmp(want, got, n * sizeof(*got));
	free(want);
	return same;
}

static void check(size_t n, size_t nruns, int range)
{
	struct item *in = malloc((n ? n : 1) * sizeof(*in)), *v = malloc((n ? n : 1) * sizeof(*v));
	const struct item **p = malloc((n ? n : 1) * sizeof(*p));
	bool ptr_ok = true;

	fill(in, n, nruns, range);
	memcpy(v, in, n * sizeof(*in));
	qsort(v, n, sizeof(*v), by_key);
	ok(same_as_stable(v, in, n), "%zu items in %zu runs%s: sorted, stable", n, nruns,
	   nruns ? "" : " (random)");
	for (size_t i = 0; i < n; i++)
		p[i] = &in[i];
	qsort(p, n, sizeof(*p), by_key_ptr);
	for (size_t i = 0; i < n && ptr_ok; i++)
		ptr_ok = !memcmp(p[i], &v[i], sizeof(*v));
	ok(ptr_ok, "%zu pointers in %zu runs: the same order", n, nruns);
	free(in);
	free(v);
	free(p);
}

int main(void)
{
	static const size_t sizes[] = { 0, 1, 2, 127, 128, 129, 1000, 4096, 26657 };
	struct item *v;
	size_t n = 26657;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		check(sizes[i], 0, 50);
		check(sizes[i], 1, 0);
		check(sizes[i], 2, 0);
		check(sizes[i], 7, 0);
		check(sizes[i], sizes[i] / 70 + 1, 0);
		check(sizes[i], sizes[i] / 3 + 1, 0);
	}
	check(26657, 0, 1 << 30);

	/* libdw's case: a line table in two runs. glibc's merge sort compares ~n log2 n
	 * (~390,000) times; merged run by run, ~2n. */
	v = malloc(n * sizeof(*v));
	fill(v, n, 2, 0);
	ncmp = 0;
	qsort(v, n, sizeof(*v), by_key);
	ok(ncmp <= 3 * n, "two runs of %zu items: %zu comparisons (at most 3n)", n / 2, ncmp);
	ncmp = 0;
	qsort(v, n, sizeof(*v), by_key);
	ok(ncmp == n - 1, "sorted already: n - 1 comparisons (%zu)", ncmp);
	free(v);
	return tap_done();
}
