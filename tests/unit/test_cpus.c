/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * run --jobs N: each worker's own CPUs (src/run/cpus.c). The shares are disjoint, cover the
 * allowed CPUs when every worker gets two or more, follow a sparse affinity mask, and are
 * empty (no pinning) when a share would be under two CPUs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/cpus.h"
#include "tap.h"

static void mask(cpu_set_t *s, const int *cpus, size_t n)
{
	CPU_ZERO(s);
	for (size_t i = 0; i < n; i++)
		CPU_SET(cpus[i], s);
}

static char *fmt(const cpu_set_t *s)
{
	struct sbuf sb = SBUF_INIT;
	cpus_format(s, &sb);
	return sb.buf ? sbuf_detach(&sb) : xstrdup("");
}

static void test_partition(void)
{
	for (int total = 1; total <= 16; total++) {
		for (long jobs = 2; jobs <= 8; jobs++) {
			cpu_set_t all, share, seen;
			int cpus[16], sum = 0, disjoint = 1, sizes_ok = 1;
			for (int i = 0; i < total; i++)
				cpus[i] = i;
			mask(&all, cpus, (size_t)total);
			CPU_ZERO(&seen);
			for (long k = 0; k < jobs; k++) {
				int n = cpus_for_worker(&all, k, jobs, &share);
				cpu_set_t both;
				CPU_AND(&both, &share, &seen);
				disjoint &= CPU_COUNT(&both) == 0;
				CPU_OR(&seen, &seen, &share);
				sizes_ok &= n == CPU_COUNT(&share) &&
					    (total / jobs < 2 ? n == 0 : n >= 2 && n <= total / jobs + 1);
				sum += n;
			}
			if (!disjoint || !sizes_ok ||
			    sum != (total / jobs < 2 ? 0 : total)) {
				ok(0, "%d CPUs, --jobs %ld: disjoint %d, sizes %d, %d pinned", total,
				   jobs, disjoint, sizes_ok, sum);
				return;
			}
		}
	}
	ok(1, "1-16 CPUs, --jobs 2-8: shares disjoint, >= 2 CPUs each, covering all (or none)");
}

static void test_examples(void)
{
	cpu_set_t all, share;
	int eight[] = { 0, 1, 2, 3, 4, 5, 6, 7 }, sparse[] = { 1, 3, 4, 5, 9, 12 };
	char *s;
	mask(&all, eight, 8);
	is_int(cpus_for_worker(&all, 1, 2, &share), 4, "8 CPUs, 2 jobs: 4 each");
	is_str(s = fmt(&share), "4-7", "the second worker gets 4-7");
	free(s);
	is_int(cpus_for_worker(&all, 0, 3, &share), 3, "8 CPUs, 3 jobs: the first gets 3");
	is_str(s = fmt(&share), "0-2", "as 0-2");
	free(s);
	is_int(cpus_for_worker(&all, 2, 3, &share), 2, "and the third 2");
	is_str(s = fmt(&share), "6-7", "as 6-7");
	free(s);
	is_int(cpus_for_worker(&all, 0, 5, &share), 0, "8 CPUs, 5 jobs: not pinned");
	is_int(CPU_COUNT(&share), 0, "with an empty share");
	is_int(cpus_for_worker(&all, 0, 1, &share), 0, "--jobs 1: not pinned");
	mask(&all, sparse, 6);
	is_int(cpus_for_worker(&all, 1, 3, &share), 2, "a sparse mask of 6, 3 jobs: 2 each");
	is_str(s = fmt(&share), "4-5", "the second worker gets the mask's 3rd and 4th CPUs");
	free(s);
	is_str(s = fmt(&all), "1,3-5,9,12", "a mask is printed as ranges");
	free(s);
}

int main(void)
{
	test_partition();
	test_examples();
	is_int(cpus_usable() >= 1, 1, "this process may use at least one CPU");
	return tap_done();
}
