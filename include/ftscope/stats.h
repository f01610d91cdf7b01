/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_STATS_H
#define FTSCOPE_STATS_H

/*
 * The statistics behind `ftscope flaky`: how sure a failure rate is (Wilson score interval),
 * how many iterations catch a failure of a given rate, streaks, and labeille's failure
 * pattern. Pure functions, no I/O.
 */
#include <stdbool.h>
#include <stddef.h>

/* The two-sided 95% normal quantile. */
#define STATS_Z95 1.959963984540054

/*
 * Wilson score interval of k successes in n trials at normal quantile z (STATS_Z95 for
 * 95%): *lo and *hi in [0, 1]. Unlike the normal approximation it is sensible for k == 0
 * and k == n, and for small n. n == 0 gives [0, 1].
 */
void wilson_interval(long k, long n, double z, double *lo, double *hi);

/*
 * How many independent iterations show at least one failure of per-iteration probability p
 * with the given confidence (0.95): the least n with 1 - (1-p)^n >= confidence, i.e.
 * ceil(ln(1 - confidence) / ln(1 - p)). 1 when p >= 1 (or confidence <= 0); 0 when p <= 0
 * (no number of iterations is enough).
 */
long iterations_to_catch(double p, double confidence);

/* Longest runs of true and of false in pass[0..n). */
void longest_streaks(const bool *pass, size_t n, size_t *max_pass, size_t *max_fail);

/*
 * labeille's failure patterns (labeille ft/analysis.py _classify_failure_pattern):
 *   consistent_crash  crashes and no plain failures, one crash signature;
 *   varied_crash      crashes and no plain failures, several signatures;
 *   consistent_test   (some test is flaky and) at least two failed iterations have a
 *                     non-empty failing-test set, and all those sets are equal;
 *   random_test       the same, but the sets differ;
 *   unknown           anything else (too few failed iterations with per-test results).
 */
enum flaky_pattern {
	PATTERN_UNKNOWN,
	PATTERN_CONSISTENT_CRASH,
	PATTERN_VARIED_CRASH,
	PATTERN_CONSISTENT_TEST,
	PATTERN_RANDOM_TEST,
};

/*
 * crash_count, fail_count: the package's iteration counts; nsigs: distinct crash
 * signatures; has_flaky: some test both failed and passed; fail_sets: one canonical key
 * per failed iteration with a non-empty failing-test set (e.g. the sorted failing ids
 * joined by '\n'), so equal sets have equal keys.
 */
enum flaky_pattern flaky_classify(long crash_count, long fail_count, size_t nsigs,
				  bool has_flaky, const char *const *fail_sets, size_t nsets);
/* "consistent_crash", ...: labeille's names. Static string. */
const char *flaky_pattern_name(enum flaky_pattern p);
/* One line for people: what the pattern suggests. Static string. */
const char *flaky_pattern_hint(enum flaky_pattern p);

#endif
