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
void test_report_release(struct test_report *r);

#endif
