/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <math.h>
#include <string.h>

#include "ftscope/stats.h"

void wilson_interval(long k, long n, double z, double *lo, double *hi)
{
	double p, z2n, denom, center, half;

	if (n <= 0) {
		*lo = 0;
		*hi = 1;
		return;
	}
	if (k < 0)
		k = 0;
	if (k > n)
		k = n;
	p = (double)k / (double)n;
	z2n = z * z / (double)n;
	denom = 1 + z2n;
	center = (p + z2n / 2) / denom;
	half = z * sqrt(p * (1 - p) / (double)n + z2n / (4 * (double)n)) / denom;
	*lo = center - half;
	*hi = center + half;
	/* exact bounds at the edges (the formula gives them up to rounding) */
	if (k == 0 || *lo < 0)
		*lo = 0;
	if (k == n || *hi > 1)
		*hi = 1;
}

long iterations_to_catch(double p, double confidence)
{
	double n;

	if (p <= 0 || isnan(p))
		return 0;
	if (p >= 1 || confidence <= 0)
		return 1;
	if (confidence >= 1)
		return 0;
	n = log1p(-confidence) / log1p(-p); /* log1p: exact for tiny p */
	/* 4.0000000001 from rounding is 4 */
	n = ceil(n - 1e-9);
	if (n < 1)
		n = 1;
	return n > 1e15 ? 0 : (long)n;
}

void longest_streaks(const bool *pass, size_t n, size_t *max_pass, size_t *max_fail)
{
	size_t run = 0;

	*max_pass = *max_fail = 0;
	for (size_t i = 0; i < n; i++) {
		run = i && pass[i] == pass[i - 1] ? run + 1 : 1;
		if (pass[i] && run > *max_pass)
			*max_pass = run;
		if (!pass[i] && run > *max_fail)
			*max_fail = run;
	}
}

enum flaky_pattern flaky_classify(long crash_count, long fail_count, size_t nsigs,
				  bool has_flaky, const char *const *fail_sets, size_t nsets)
{
	if (crash_count > 0 && fail_count == 0) {
		if (nsigs == 1)
			return PATTERN_CONSISTENT_CRASH;
		if (nsigs > 1)
			return PATTERN_VARIED_CRASH;
	}
	if (has_flaky && nsets >= 2) {
		for (size_t i = 1; i < nsets; i++)
			if (strcmp(fail_sets[i], fail_sets[0]))
				return PATTERN_RANDOM_TEST;
		return PATTERN_CONSISTENT_TEST;
	}
	return PATTERN_UNKNOWN;
}

const char *flaky_pattern_name(enum flaky_pattern p)
{
	switch (p) {
	case PATTERN_CONSISTENT_CRASH:
		return "consistent_crash";
	case PATTERN_VARIED_CRASH:
		return "varied_crash";
	case PATTERN_CONSISTENT_TEST:
		return "consistent_test";
	case PATTERN_RANDOM_TEST:
		return "random_test";
	case PATTERN_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *flaky_pattern_hint(enum flaky_pattern p)
{
	switch (p) {
	case PATTERN_CONSISTENT_CRASH:
		return "one crash signature: one bug";
	case PATTERN_VARIED_CRASH:
		return "crashes with several signatures: several bugs, or memory corruption";
	case PATTERN_CONSISTENT_TEST:
		return "the same tests fail every time: a race in the code they exercise";
	case PATTERN_RANDOM_TEST:
		return "different tests fail each time: shared state corrupted by a race";
	case PATTERN_UNKNOWN:
		break;
	}
	return "too few failed iterations with per-test results to tell";
}
