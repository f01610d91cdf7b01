/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * rows_upper_bound (src/symbolizer/sortsearch.c): the same answer as a plain binary search
 * for every key asked, on tables of every shape the saved tables can have -- evenly spread
 * keys, clustered and skewed ones, long runs of equal keys, tiny tables -- and rows of
 * several sizes (the key is each row's first field).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/symbolizer/internal.h"
#include "tap.h"

struct row24 {
	uint64_t key, a, b;
};

static size_t plain(const struct row24 *r, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid].key <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t rnd64(void)
{
	return ((uint64_t)random() << 33) ^ ((uint64_t)random() << 11) ^ (uint64_t)random();
}

static int cmp_row(const void *a, const void *b)
{
	uint64_t x = ((const struct row24 *)a)->key, y = ((const struct row24 *)b)->key;
	return x < y ? -1 : x > y;
}

/* shape: 0 even, 1 clustered (two far-apart dense groups), 2 skewed (squares), 3 runs of
 * equal keys, 4 all equal */
static struct row24 *make(int shape, size_t n)
{
	struct row24 *r = calloc(n ? n : 1, sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		switch (shape) {
		case 0: r[i].key = 0x400000 + i * 16 + (uint64_t)(random() % 16); break;
		case 1: r[i].key = (i % 2 ? 0x7f0000000000ull : 0x1000) + (uint64_t)(random() % 50000); break;
		case 2: r[i].key = (uint64_t)i * i * i; break;
		case 3: r[i].key = 0x1000 + (i / 37) * 64; break;
		default: r[i].key = 42; break;
		}
		r[i].a = i;
	}
	qsort(r, n, sizeof(*r), cmp_row);
	return r;
}

int main(void)
{
	static const size_t sizes[] = { 0, 1, 2, 3, 31, 33, 100, 4097, 300000 };
	srandom(20261205);
	for (int shape = 0; shape < 5; shape++)
		for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			size_t n = sizes[si], wrong = 0, asked = 0;
			struct row24 *r = make(shape, n);
			/* every row's key, its neighbours, the ends, and random keys */
			for (size_t i = 0; i < n; i++)
				for (int d = -1; d <= 1; d++) {
					uint64_t k = r[i].key + (uint64_t)(int64_t)d;
					wrong += rows_upper_bound(r, n, sizeof(*r), k) != plain(r, n, k);
					asked++;
				}
			for (int i = 0; i < 2000; i++) {
				uint64_t k = i < 2 ? (i ? UINT64_MAX : 0) : rnd64() >> (random() % 64);
				wrong += rows_upper_bound(r, n, sizeof(*r), k) != plain(r, n, k);
				asked++;
			}
			is_int(wrong, 0, "shape %d, %zu rows: %zu keys, every answer as a binary search's",
			       shape, n, asked);
			free(r);
		}
	/* rows of another size: the key is still the first field */
	{
		uint64_t *w = calloc(1000 * 2, sizeof(*w));
		size_t wrong = 0;
		for (size_t i = 0; i < 1000; i++)
			w[2 * i] = 100 + 3 * i;
		for (uint64_t k = 0; k < 3200; k++) {
			size_t want = k < 100 ? 0 : (k - 100) / 3 + 1;
			if (want > 1000)
				want = 1000;
			wrong += rows_upper_bound(w, 1000, 16, k) != want;
		}
		is_int(wrong, 0, "16-byte rows: every key from 0 to 3199");
		free(w);
	}
	return tap_done();
}
