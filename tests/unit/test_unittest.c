/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * `python -m unittest -v` output. tests/unit/data/unittest-v-313.txt is the stderr of
 * `$FT_PYTHON -m unittest -v unittest_sample` (free-threaded 3.13; tests/unit/data/
 * unittest_sample.py, run from that directory): every outcome, a docstring line, output
 * before an outcome, a failing subtest. The other cases are written by hand after
 * Lib/unittest/runner.py (the pre-3.11 "test_x (pkg.mod.Class)" form, quiet runs, ...).
 */
#include <stdlib.h>
#include <string.h>

#include "ftscope/testreport.h"
#include "ftscope/util.h"
#include "tap.h"

#ifndef DATA
#define DATA "tests/unit/data/"
#endif

struct want_test {
	const char *id, *outcome;
};

struct ut_case {
	const char *name;
	const char *text;          /* NULL: the recorded file */
	bool ok;
	int passed, failed, errored, skipped;
	size_t ntests;
	struct want_test tests[12];
};

static const char *outcome_of(const struct test_report *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->tests[i].id, id))
			return r->tests[i].outcome;
	return NULL;
}

static const struct ut_case cases[] = {
	{ "recorded 3.13 -v", NULL, true, 5, 2, 1, 2, 10,
	  { { "test_sample.TestOutcomes.test_docstring", "PASSED" },
	    { "test_sample.TestOutcomes.test_error", "ERROR" },
	    { "test_sample.TestOutcomes.test_fail", "FAILED" },
	    { "test_sample.TestOutcomes.test_ok", "PASSED" },
	    { "test_sample.TestOutcomes.test_skipped", "SKIPPED" },
	    { "test_sample.TestOutcomes.test_stderr_noise", "PASSED" },
	    { "test_sample.TestOutcomes.test_subtests", "FAILED" },
	    { "test_sample.TestOutcomes.test_xfail", "XFAIL" },
	    { "test_sample.TestOutcomes.test_xpass", "XPASS" },
	    { "test_sample.TestSecond.test_passes", "PASSED" } } },
	{ "pre-3.11 ids",
	  "test_a (pkg.mod.TestX) ... ok\n"
	  "test_b (pkg.mod.TestX)\n"
	  "Checks b. ... FAIL\n"
	  "test_c (pkg.mod.TestX) ... skipped 'no network'\n"
	  "\n----------------------------------------------------------------------\n"
	  "Ran 3 tests in 0.004s\n\nFAILED (failures=1, skipped=1)\n",
	  true, 1, 1, 0, 1, 3,
	  { { "pkg.mod.TestX.test_a", "PASSED" },
	    { "pkg.mod.TestX.test_b", "FAILED" },
	    { "pkg.mod.TestX.test_c", "SKIPPED" } } },
	{ "quiet run: counts only",
	  "..F.s\n======================================================================\n"
	  "FAIL: test_x (m.T.test_x)\n------\nTraceback (most recent call last):\n"
	  "AssertionError\n\n"
	  "----------------------------------------------------------------------\n"
	  "Ran 5 tests in 0.001s\n\nFAILED (failures=1, skipped=1)\n",
	  true, 3, 1, 0, 1, 0, { { NULL, NULL } } },
	{ "OK with skips and expected failures",
	  "Ran 4 tests in 0.010s\n\nOK (skipped=1, expected failures=1)\n", true, 2, 0, 0, 2, 0,
	  { { NULL, NULL } } },
	{ "no tests", "\n----------------------------------------------------------------------\n"
		      "Ran 0 tests in 0.000s\n\nNO TESTS RAN\n",
	  true, 0, 0, 0, 0, 0, { { NULL, NULL } } },
	{ "output lines before the outcome, CRLF",
	  "test_io (m.T.test_io) ... line one\r\nline two ... not it\r\nok\r\n"
	  "test_err (m.T.test_err) ... ERROR\r\n"
	  "Ran 2 tests in 0.1s\r\n\r\nFAILED (errors=1)\r\n",
	  true, 1, 0, 1, 0, 2, { { "m.T.test_io", "PASSED" }, { "m.T.test_err", "ERROR" } } },
	{ "two runs add up",
	  "test_a (a.T.test_a) ... ok\nRan 1 test in 0.0s\n\nOK\n"
	  "test_b (b.T.test_b) ... FAIL\nRan 1 test in 0.0s\n\nFAILED (failures=1)\n",
	  true, 1, 1, 0, 0, 2, { { "a.T.test_a", "PASSED" }, { "b.T.test_b", "FAILED" } } },
	{ "a subtest error, then the parent says nothing",
	  "test_s (m.T.test_s) ... \n  test_s (m.T.test_s) (n=2) ... ERROR\n"
	  "  test_s (m.T.test_s) (n=3) ... FAIL\ntest_t (m.T.test_t) ... ok\n",
	  true, 1, 0, 1, 0, 2, { { "m.T.test_s", "ERROR" }, { "m.T.test_t", "PASSED" } } },
	{ "class setup error",
	  "setUpClass (m.TestK) ... ERROR\nRan 0 tests in 0.0s\n\nFAILED (errors=1)\n",
	  true, 0, 0, 1, 0, 1, { { "m.TestK.setUpClass", "ERROR" } } },
	{ "a test cut short (crash): no outcome, no summary",
	  "test_ok (m.T.test_ok) ... ok\ntest_boom (m.T.test_boom) ... Fatal Python error: "
	  "Segmentation fault\n",
	  true, 1, 0, 0, 0, 1, { { "m.T.test_ok", "PASSED" } } },
	/* found by tests/fuzz/fuzz_unittest.c: strtol saturated and the sum overflowed */
	{ "absurd counts are capped, never overflow",
	  "Ran 10 tests in 0.002s\n\nFAILED (failures=2, errors=1, skipped=1, expected failures="
	  "44444444444444444444444444444444444444444441, unexpected successes=1)\n"
	  "Ran 99999999999999999999999 tests in 0.1s\n\nOK (skipped=-5)\n",
	  true, 0, 2, 1, 1000000000, 0, { { NULL, NULL } } },
	{ "pytest output is not unittest",
	  "tests/test_x.py::test_a PASSED\n============ 1 passed in 0.01s ============\n", false,
	  0, 0, 0, 0, 0, { { NULL, NULL } } },
	{ "a call in prose is not a test", "see f (module.func) for details\n", false, 0, 0, 0,
	  0, 0, { { NULL, NULL } } },
	{ "empty", "", false, 0, 0, 0, 0, 0, { { NULL, NULL } } },
};

int main(void)
{
	char *recorded = NULL;
	struct test_report r = { 0 };
	ok(read_file(DATA "unittest-v-313.txt", &recorded, NULL) == 0, "read recorded output");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct ut_case *c = &cases[i];
		const char *text = c->text ? c->text : recorded;
		bool got = text && unittest_parse(text, &r);
		is_int(got, c->ok, "%s: recognized", c->name);
		if (c->ok) {
			ok(r.have_counts, "%s: counts", c->name);
			is_int(r.passed, c->passed, "%s: passed", c->name);
			is_int(r.failed, c->failed, "%s: failed", c->name);
			is_int(r.errored, c->errored, "%s: errored", c->name);
			is_int(r.skipped, c->skipped, "%s: skipped", c->name);
		} else {
			ok(!r.have_counts && r.n == 0, "%s: report untouched", c->name);
		}
		is_int(r.n, c->ntests, "%s: tests", c->name);
		for (size_t k = 0; k < c->ntests; k++)
			is_str(outcome_of(&r, c->tests[k].id), c->tests[k].outcome, "%s: %s",
			       c->name, c->tests[k].id);
		test_report_release(&r);
	}
	ok(!unittest_parse(NULL, &r), "NULL text");
	free(recorded);
	return tap_done();
}
