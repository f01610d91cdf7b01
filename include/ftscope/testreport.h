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
#include <sys/types.h>

#include "ftscope/util.h"

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
 * Parse a JUnit XML report (pytest's, any junit_family; unittest-xml-reporting works too):
 * streaming, at most JUNIT_MAX_BYTES, a document with a DTD is refused (no entity is ever
 * expanded), so is one with a tag of more than JUNIT_MAX_ATTRS attributes (libxml2's check
 * for duplicates is quadratic), parsing stops after JUNIT_MAX_SECONDS, no network;
 * JUNIT_MAX_TESTS outcomes are kept (all are counted). 0, or -1 when it is not a complete
 * JUnit document (r is then untouched).
 */
#define JUNIT_MAX_BYTES (64u << 20)
#define JUNIT_MAX_ATTRS 256
#define JUNIT_MAX_SECONDS 10.0
#define JUNIT_MAX_BYTES_TEXT "64 MiB"
#define JUNIT_MAX_TESTS 500000
int junit_parse_buf(const char *buf, size_t len, struct test_report *r);
/*
 * The report the test wrote, dirfd/name, read with read_file_at (no symlink, a regular file
 * of `owner`, at most JUNIT_MAX_BYTES) and parsed; when raw is given, *raw gets the bytes
 * read (malloc'd, also when they are not JUnit; root's copy for the artifacts). -ENOENT if
 * there is none, -1 or -errno (with a warning) if it is refused or not JUnit.
 */
int junit_parse_at(int dirfd, const char *name, uid_t owner, struct test_report *r, char **raw,
		   size_t *raw_len);
/* Fill the counts from pytest's last summary line in text; false if none is found. */
bool pytest_summary_parse(const char *text, struct test_report *r);
/*
 * `python -m unittest -v` output (it goes to stderr), src/run/unittest_parse.c: one outcome per
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
