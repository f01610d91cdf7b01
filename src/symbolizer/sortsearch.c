/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Where a key falls in a sorted table of rows, touching few pages.
 *
 * The saved tables (line, inline, symbol) are mapped from the disk cache, and on the VMs we
 * run on the first touch of each page of a mapping costs several microseconds: a binary
 * search of a 5 MB table touches ~12 pages of its own, ~75 us per lookup of a warm dump's
 * first thread. A table's keys are addresses spread fairly evenly over a module's text, so
 * interpolation lands a probe within a page or two of the answer; a guard probe a few rows
 * away bounds the other side. A few such rounds, then a binary search of what is left (no
 * worse than a plain binary search when the keys are skewed).
 */
#include <string.h>

#include "internal.h"

static uint64_t key_at(const void *rows, size_t size, size_t i)
{
	uint64_t k;

	memcpy(&k, (const char *)rows + i * size, sizeof(k));
	return k;
}

#define GUARD 16  /* rows between a probe and its guard */
#define ROUNDS 6  /* interpolation rounds before the binary search */

size_t rows_upper_bound(const void *rows, size_t n, size_t size, uint64_t key)
{
	/* rows below lo have keys <= key; rows from hi on have keys > key */
	size_t lo = 0, hi = n;

	for (int round = 0; round < ROUNDS && hi - lo > 2 * GUARD; round++) {
		uint64_t klo = key_at(rows, size, lo), khi = key_at(rows, size, hi - 1);
		size_t mid;

		if (key < klo)
			return lo;
		if (key >= khi)
			return hi;
		mid = lo + (size_t)((double)(key - klo) / (double)(khi - klo) * (double)(hi - 1 - lo));
		if (mid <= lo)
			mid = lo + 1;
		if (mid >= hi - 1)
			mid = hi - 2;
		if (key_at(rows, size, mid) <= key) {
			lo = mid + 1;
			if (mid + GUARD < hi && key_at(rows, size, mid + GUARD) > key)
				hi = mid + GUARD;
		} else {
			hi = mid;
			if (mid > lo + GUARD && key_at(rows, size, mid - GUARD) <= key)
				lo = mid - GUARD + 1;
		}
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (key_at(rows, size, mid) <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
