/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_TESTREPORT_H
#define FTSCOPE_TESTREPORT_H

/*
 * Per-test outcomes of one iteration: pytest's JUnit XML (libxml2), else the counts of
 * pytest's final summary line ("== 1 failed, 2 passed in 0.12s ==").
 */
#include <stdbool.h>
#include <stddef.h>

struct test_outcome {
	char *id;      /* pytest node id: "tests/test_x.py::TestA::test_b" */
	char *outcome; /* PASSED, FAILED, ERROR, SKIPPED, XFAIL, XPASS (static strings) */
};

struct test_report {
	struct test_outcome *tests;
	size_t n, cap;
	bool have_counts;
	int passed, failed, errored, skipped;
};

/*
 * Parse a JUnit XML file (pytest's, any junit_family; unittest-xml-reporting works too).
 * Returns 0, -ENOENT if the file does not exist, or -1 (with a warning) if it is not JUnit.
 */
int junit_parse_file(const char *path, struct test_report *r);
int junit_parse_buf(const char *buf, size_t len, struct test_report *r);
/* Fill the counts from pytest's last summary line in text; false if none is found. */
bool pytest_summary_parse(const char *text, struct test_report *r);
/*
 * `python -m unittest -v` output (it goes to stderr), src/unittest_parse.c: one outcome per
 * "test_x (pkg.mod.Class.test_x) ... ok|FAIL|ERROR|skipped '..'|expected failure|unexpected
 * success" line (3.11+; before 3.11 "test_x (pkg.mod.Class)"; a docstring line may come
 * between the name and the outcome, test output before the outcome), ids "pkg.mod.Class.test_x";
 * a failed subtest fails its test. Counts from the last "Ran N tests" with its "OK (...)" /
 * "FAILED (failures=1, errors=2, ...)" line, else from the outcomes. Expected failures count
 * as skipped and unexpected successes as passed (as with junit). False if text has neither
 * a test line nor a "Ran N tests" line (r is then untouched).
 */
bool unittest_parse(const char *text, struct test_report *r);
void test_report_release(struct test_report *r);

#endif
