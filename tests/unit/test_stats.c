/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* `ftscope flaky` statistics: Wilson interval, iterations to catch, streaks, patterns. */
#include <math.h>
#include <stdbool.h>

#include "ftscope/stats.h"
#include "tap.h"

static bool near(double a, double b)
{
	return fabs(a - b) < 5e-6;
}

static void test_wilson(void)
{
	/* reference values: the Wilson score interval at z = 1.95996 (95%) */
	static const struct {
		long k, n;
		double lo, hi;
	} t[] = {
		{ 0, 10, 0.000000, 0.277533 },	 { 1, 10, 0.017876, 0.404150 },
		{ 5, 10, 0.236593, 0.763407 },	 { 10, 10, 0.722467, 1.000000 },
		{ 4, 8, 0.215216, 0.784784 },	 { 3, 8, 0.136844, 0.694258 },
		{ 0, 1, 0.000000, 0.793451 },	 { 1, 1, 0.206549, 1.000000 },
		{ 50, 100, 0.403832, 0.596168 }, { 1, 100, 0.001767, 0.054486 },
		{ 99, 100, 0.945514, 0.998233 }, { 7, 20, 0.181192, 0.567146 },
	};
	double lo, hi;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		wilson_interval(t[i].k, t[i].n, STATS_Z95, &lo, &hi);
		ok(near(lo, t[i].lo) && near(hi, t[i].hi),
		   "wilson %ld/%ld = [%.6f, %.6f] (got [%.6f, %.6f])", t[i].k, t[i].n, t[i].lo,
		   t[i].hi, lo, hi);
	}
	wilson_interval(0, 0, STATS_Z95, &lo, &hi);
	ok(lo == 0 && hi == 1, "no trials: [0, 1]");
	wilson_interval(12, 10, STATS_Z95, &lo, &hi);
	ok(near(lo, 0.722467) && hi == 1, "k > n is clamped to n");
	wilson_interval(3, 8, STATS_Z95, &lo, &hi);
	ok(lo < 3.0 / 8 && 3.0 / 8 < hi, "the interval holds the observed rate");
}

static void test_iterations_to_catch(void)
{
	/* n = ceil(ln 0.05 / ln(1 - p)) */
	static const struct {
		double p;
		long want;
	} t[] = {
		{ 0.5, 5 },
		{ 0.1, 29 },
		{ 0.01, 299 },
		{ 0.05, 59 },
		{ 0.625, 4 },
		{ 0.9, 2 },
		{ 0.99, 1 },
		{ 0.3, 9 },
		{ 0.2, 14 },
		{ 1.0, 1 },
		{ 0.0, 0 },
		{ -0.5, 0 },
		{ 1.5, 1 },
		/* ln 0.05 / ln(1-p) is exactly 4 here: rounding must not make it 5 */
		{ 0.5271291954984121, 4 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(iterations_to_catch(t[i].p, 0.95), t[i].want, "iterations to catch p=%g",
		       t[i].p);
	is_int(iterations_to_catch(0.5, 0.99), 7, "p=0.5 at 99%%: 7");
	is_int(iterations_to_catch(0.5, 0.5), 1, "p=0.5 at 50%%: 1");
	is_int(iterations_to_catch(1e-18, 0.95), 0, "a vanishing rate: never");
	/* the answer really reaches the confidence, and one fewer does not */
	for (double p = 0.02; p < 1; p += 0.07) {
		long n = iterations_to_catch(p, 0.95);
		ok(1 - pow(1 - p, (double)n) >= 0.95 - 1e-12 &&
			   (n == 1 || 1 - pow(1 - p, (double)(n - 1)) < 0.95),
		   "p=%.2f: %ld iterations is the least that reaches 95%%", p, n);
	}
}

static void test_streaks(void)
{
	static const struct {
		const char *seq; /* '.' pass, 'F' fail */
		size_t pass, fail;
	} t[] = {
		{ "", 0, 0 },	      { ".", 1, 0 },	  { "F", 0, 1 },
		{ "F.F.F..F", 2, 1 }, { "..FFF.", 2, 3 }, { "FFFF", 0, 4 },
		{ "....", 4, 0 },     { ".F.F.F", 1, 1 }, { "FF...FFF..", 3, 3 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool pass[16];
		size_t n = strlen(t[i].seq), mp, mf;
		for (size_t k = 0; k < n; k++)
			pass[k] = t[i].seq[k] == '.';
		longest_streaks(pass, n, &mp, &mf);
		ok(mp == t[i].pass && mf == t[i].fail,
		   "streaks of '%s': %zu passes, %zu fails (got %zu, %zu)", t[i].seq, t[i].pass,
		   t[i].fail, mp, mf);
	}
}

static void test_patterns(void)
{
	static const char *const same[] = { "t::a", "t::a", "t::a" };
	static const char *const differ[] = { "t::a", "t::a\nt::b", "t::a" };
	static const char *const one[] = { "t::a" };
	static const struct {
		long crashes, fails;
		size_t nsigs;
		bool flaky;
		const char *const *sets;
		size_t nsets;
		const char *want;
	} t[] = {
		{ 3, 0, 1, false, NULL, 0, "consistent_crash" },
		{ 3, 0, 2, false, NULL, 0, "varied_crash" },
		{ 3, 0, 1, true, same, 3, "consistent_crash" }, /* crashes come first */
		{ 3, 2, 1, true, same, 3, "consistent_test" },	/* plain failures too */
		{ 3, 2, 2, false, NULL, 0, "unknown" },
		{ 0, 3, 0, true, same, 3, "consistent_test" },
		{ 0, 3, 0, true, differ, 3, "random_test" },
		{ 0, 1, 0, true, one, 1, "unknown" },	/* one failed iteration */
		{ 0, 3, 0, false, same, 3, "unknown" }, /* no flaky test (labeille) */
		{ 0, 0, 0, false, NULL, 0, "unknown" },
		{ 2, 0, 0, false, NULL, 0, "unknown" }, /* crashes without signatures */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum flaky_pattern p = flaky_classify(t[i].crashes, t[i].fails, t[i].nsigs,
						      t[i].flaky, t[i].sets, t[i].nsets);
		is_str(flaky_pattern_name(p), t[i].want, "pattern #%zu is %s", i, t[i].want);
	}
	ok(*flaky_pattern_hint(PATTERN_RANDOM_TEST) != '\0', "patterns have hints");
}

int main(void)
{
	test_wilson();
	test_iterations_to_catch();
	test_streaks();
	test_patterns();
	return tap_done();
}
