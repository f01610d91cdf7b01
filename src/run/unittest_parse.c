/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * `python -m unittest -v` output (Lib/unittest/runner.py TextTestResult): per test
 *   test_x (pkg.mod.Class.test_x) ... ok                       3.11+
 *   test_x (pkg.mod.Class) ... ok                              before 3.11
 *   test_y (pkg.mod.Class.test_y)\nFirst docstring line ... FAIL
 *   test_z (pkg.mod.Class.test_z) ... output the test wrote\nok
 *   test_s (pkg.mod.Class.test_s) ... \n  test_s (pkg.mod.Class.test_s) (i=1) ... FAIL
 * then "Ran N tests in 0.01s" and "OK (skipped=1)" / "FAILED (failures=1, errors=2)".
 */
#include <stdlib.h>
#include <string.h>

#include "ftscope/testreport.h"
#include "ftscope/util.h"

struct ut_state {
	struct test_report *r;
	size_t first;        /* r->n before this parse */
	long pending;        /* index in r->tests of a test awaiting its outcome, or -1 */
	char *pending_id;    /* id of a test whose outcome has not been seen, or NULL */
	bool awaiting_doc;   /* the name line had no " ... ": a docstring line comes next */
	bool have_ran;
	long ran, failures, errors, skipped, xfail, xpass;
	bool tests_seen;
};

static void add_test(struct test_report *r, char *id, const char *outcome)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 32;
		r->tests = xrealloc(r->tests, r->cap * sizeof(*r->tests));
	}
	r->tests[r->n].id = id;
	r->tests[r->n].outcome = (char *)outcome;
	r->n++;
}

/* "ok", "FAIL", ... -> PASSED, FAILED, ...; NULL when s is not an outcome. */
static const char *outcome_of(const char *s, size_t n)
{
	static const struct {
		const char *word, *outcome;
		bool prefix;
	} words[] = {
		{ "ok", "PASSED", false },
		{ "FAIL", "FAILED", false },
		{ "ERROR", "ERROR", false },
		{ "skipped", "SKIPPED", true },
		{ "expected failure", "XFAIL", false },
		{ "unexpected success", "XPASS", false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		size_t k = strlen(words[i].word);
		if (n < k || memcmp(s, words[i].word, k))
			continue;
		if (n == k || (words[i].prefix && s[k] == ' '))
			return words[i].outcome;
	}
	return NULL;
}

static int severity(const char *outcome)
{
	if (!strcmp(outcome, "ERROR"))
		return 3;
	if (!strcmp(outcome, "FAILED"))
		return 2;
	return 1;
}

/* Record the pending test's outcome (a subtest's failure only ever makes it worse). */
static void settle(struct ut_state *st, const char *outcome)
{
	struct test_report *r = st->r;
	if (st->pending >= 0) {
		struct test_outcome *t = &r->tests[st->pending];
		if (severity(outcome) > severity(t->outcome))
			t->outcome = (char *)outcome;
	} else if (st->pending_id) {
		st->pending = (long)r->n;
		add_test(r, st->pending_id, outcome);
		st->pending_id = NULL;
	}
}

static void drop_pending(struct ut_state *st)
{
	free(st->pending_id);
	st->pending_id = NULL;
	st->pending = -1;
	st->awaiting_doc = false;
}

/*
 * "name (dotted.id)rest" -> id and rest (pointer into s). The name is an identifier and the
 * parenthesized part a dotted path without spaces.
 */
static char *test_id(const char *s, size_t n, const char **rest)
{
	size_t i = 0, open, close;
	for (; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			break;
	}
	if (i == 0 || i + 2 >= n || s[i] != ' ' || s[i + 1] != '(')
		return NULL;
	open = i + 2;
	for (close = open; close < n && s[close] != ')'; close++)
		if (s[close] == ' ' || s[close] == '(')
			return NULL;
	if (close == n || close == open || !memchr(s + open, '.', close - open))
		return NULL;
	*rest = s + close + 1;
	/* 3.11+: "(pkg.mod.Class.test_x)" already ends with the name */
	if (close - open > i + 1 && s[close - i - 1] == '.' && !memcmp(s + close - i, s, i))
		return xstrndup(s + open, close - open);
	{
		char *id = xmalloc(close - open + 1 + i + 1);
		memcpy(id, s + open, close - open);
		id[close - open] = '.';
		memcpy(id + close - open + 1, s, i);
		id[close - open + 1 + i] = '\0';
		return id;
	}
}

/* The outcome after " ... " at the end of a line, if any: "" when the line ends in " ...". */
static const char *after_dots(const char *s, size_t n, size_t *an)
{
	for (size_t i = n; i >= 4; i--) {
		if (!memcmp(s + i - 4, " ...", 4) && (i == n || s[i] == ' ')) {
			size_t k = i == n ? n : i + 1;
			*an = n - k;
			return s + k;
		}
	}
	return NULL;
}

/* Counts are capped (a test run has fewer than a billion tests), so sums never overflow. */
#define UT_MAX_COUNT 1000000000L

static long cap_add(long a, long b)
{
	return a + b > UT_MAX_COUNT ? UT_MAX_COUNT : a + b;
}

/* A decimal number at s (at most n bytes), capped at UT_MAX_COUNT; *used gets its length. */
static long number(const char *s, size_t n, size_t *used)
{
	long v = 0;
	size_t i = 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		if (v < UT_MAX_COUNT)
			v = v * 10 + (s[i] - '0');
	*used = i;
	return v > UT_MAX_COUNT ? UT_MAX_COUNT : v;
}

static long item(const char *s, size_t n, const char *key)
{
	size_t k = strlen(key), used;
	for (size_t i = 0; i + k < n; i++)
		if (!memcmp(s + i, key, k) && s[i + k] == '=' &&
		    (i == 0 || s[i - 1] == '(' || (i >= 2 && s[i - 2] == ',' && s[i - 1] == ' ')))
			return number(s + i + k + 1, n - i - k - 1, &used);
	return 0;
}

static void summary_line(struct ut_state *st, const char *s, size_t n)
{
	char *line = xstrndup(s, n);
	st->failures = cap_add(st->failures, item(line, n, "failures"));
	st->errors = cap_add(st->errors, item(line, n, "errors"));
	st->skipped = cap_add(st->skipped, item(line, n, "skipped"));
	st->xfail = cap_add(st->xfail, item(line, n, "expected failures"));
	st->xpass = cap_add(st->xpass, item(line, n, "unexpected successes"));
	free(line);
}

/* A test's first line; false if s is not one. */
static bool test_line(struct ut_state *st, const char *s, size_t n)
{
	const char *rest, *o;
	size_t rn, on;
	char *id = test_id(s, n, &rest);
	if (!id)
		return false;
	rn = (size_t)(s + n - rest);
	if (rn && !(rn >= 4 && !memcmp(rest, " ...", 4))) {
		free(id); /* "name (x.y) something": not a test line */
		return false;
	}
	drop_pending(st);
	st->tests_seen = true;
	st->pending_id = id;
	if (!rn) {
		st->awaiting_doc = true;
		return true;
	}
	o = after_dots(rest, rn, &on);
	if (o && (o = outcome_of(o, on))) {
		settle(st, o);
		drop_pending(st);
	}
	return true;
}

static bool has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && !memcmp(s, prefix, k);
}

/* "Ran 12 tests in 0.003s" / "Ran 1 test in 0.001s" */
static bool ran_line(const char *s, size_t n, long *count)
{
	size_t used;
	long v;
	if (!has_prefix(s, n, "Ran ") || n < 5 || s[4] < '0' || s[4] > '9')
		return false;
	v = number(s + 4, n - 4, &used);
	if (!has_prefix(s + 4 + used, n - 4 - used, " test"))
		return false;
	*count = v;
	return true;
}

bool unittest_parse(const char *text, struct test_report *r)
{
	struct ut_state st = { .r = r, .first = r->n, .pending = -1 };
	const char *p = text;
	bool want_result = false;
	long ran;
	if (!text)
		return false;
	while (*p) {
		const char *eol = strchr(p, '\n'), *s = p, *o;
		size_t n = eol ? (size_t)(eol - p) : strlen(p), on;
		p = eol ? eol + 1 : p + n;
		while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (want_result && n) {
			/* the line after "Ran N tests" (a blank line between) */
			want_result = false;
			if (has_prefix(s, n, "OK") || has_prefix(s, n, "FAILED"))
				summary_line(&st, s, n);
			continue;
		}
		if (ran_line(s, n, &ran)) {
			st.ran = cap_add(st.ran, ran);
			st.have_ran = true;
			want_result = true;
			drop_pending(&st);
			continue;
		}
		if (n > 2 && s[0] == ' ' && s[1] == ' ' && s[2] != ' ') {
			/* "  test_s (m.C.test_s) (i=1) ... FAIL": a subtest of the pending test */
			const char *rest;
			char *id = test_id(s + 2, n - 2, &rest);
			if (id && (st.pending >= 0 || st.pending_id) &&
			    (o = after_dots(s, n, &on)) && (o = outcome_of(o, on)) &&
			    (!strcmp(o, "FAILED") || !strcmp(o, "ERROR")))
				settle(&st, o);
			free(id);
			continue;
		}
		if (test_line(&st, s, n))
			continue;
		if (st.pending < 0 && !st.pending_id)
			continue;
		if (st.awaiting_doc) {
			st.awaiting_doc = false;
			if ((o = after_dots(s, n, &on))) {
				if ((o = outcome_of(o, on))) {
					settle(&st, o);
					drop_pending(&st);
				}
				continue;
			}
		}
		/* output the test wrote, then its outcome alone on a line */
		if ((o = outcome_of(s, n))) {
			settle(&st, o);
			drop_pending(&st);
		}
	}
	drop_pending(&st);
	if (!st.have_ran && !st.tests_seen)
		return false;
	{
		int pass = 0, fail = 0, err = 0, skip = 0;
		for (size_t i = st.first; i < r->n; i++) {
			const char *o = r->tests[i].outcome;
			if (!strcmp(o, "PASSED") || !strcmp(o, "XPASS"))
				pass++;
			else if (!strcmp(o, "FAILED"))
				fail++;
			else if (!strcmp(o, "ERROR"))
				err++;
			else
				skip++;
		}
		if (st.have_ran && (long)(r->n - st.first) != st.ran) {
			long s = cap_add(st.skipped, st.xfail);
			long ps = st.ran - st.failures - st.errors - s;
			fail = (int)st.failures;
			err = (int)st.errors;
			skip = (int)s;
			pass = ps > 0 ? (int)ps : 0;
		}
		r->passed = pass;
		r->failed = fail;
		r->errored = err;
		r->skipped = skip;
		r->have_counts = true;
	}
	return true;
}
