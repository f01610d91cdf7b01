/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlreader.h>

#include "dl_sonames.h" /* LIBXML2_SONAME (Makefile) */
#include "ftscope/dlib.h"
#include "ftscope/error.h"
#include "ftscope/testreport.h"
#include "ftscope/util.h"

/*
 * libxml2 is opened at first use (ftscope/dlib.h says why); p_x has x's type. The report is
 * the test's file, so it is read as an attacker's (docs/security.md): at most
 * JUNIT_MAX_BYTES, with the streaming reader (memory bounded by the nesting depth, not the
 * size), without a DTD (a document with one is refused before libxml2 sees it: no entity
 * is ever expanded, so a billion laughs stays 900 bytes), without XML_PARSE_HUGE (libxml2's
 * own depth and size limits hold) and without network access.
 */
static __typeof__(xmlReaderForMemory) *p_xmlReaderForMemory;
static __typeof__(xmlTextReaderRead) *p_xmlTextReaderRead;
static __typeof__(xmlTextReaderNodeType) *p_xmlTextReaderNodeType;
static __typeof__(xmlTextReaderConstLocalName) *p_xmlTextReaderConstLocalName;
static __typeof__(xmlTextReaderDepth) *p_xmlTextReaderDepth;
static __typeof__(xmlTextReaderIsEmptyElement) *p_xmlTextReaderIsEmptyElement;
static __typeof__(xmlTextReaderGetAttribute) *p_xmlTextReaderGetAttribute;
static __typeof__(xmlFreeTextReader) *p_xmlFreeTextReader;
static xmlFreeFunc *p_xmlFree; /* a variable in libxml2 (no per-thread allocators here) */
static const struct dlib_sym xml_syms[] = {
	{ "xmlReaderForMemory", (void **)&p_xmlReaderForMemory },
	{ "xmlTextReaderRead", (void **)&p_xmlTextReaderRead },
	{ "xmlTextReaderNodeType", (void **)&p_xmlTextReaderNodeType },
	{ "xmlTextReaderConstLocalName", (void **)&p_xmlTextReaderConstLocalName },
	{ "xmlTextReaderDepth", (void **)&p_xmlTextReaderDepth },
	{ "xmlTextReaderIsEmptyElement", (void **)&p_xmlTextReaderIsEmptyElement },
	{ "xmlTextReaderGetAttribute", (void **)&p_xmlTextReaderGetAttribute },
	{ "xmlFreeTextReader", (void **)&p_xmlFreeTextReader },
	{ "xmlFree", (void **)&p_xmlFree },
};
static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
static bool xml_loaded;

static void xml_load_once(void)
{
	char *why;
	xml_loaded = dlib_load(LIBXML2_SONAME, xml_syms, sizeof(xml_syms) / sizeof(xml_syms[0]),
			       &why) == 0;
	if (!xml_loaded)
		warning("JUnit reports cannot be read (%s); results come from the test output", why);
	free(why);
}

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

static char *attr(xmlTextReaderPtr rd, const char *name)
{
	xmlChar *v = p_xmlTextReaderGetAttribute(rd, (const xmlChar *)name);
	char *s = v ? xstrdup((const char *)v) : NULL;
	if (v)
		(*p_xmlFree)(v);
	return s;
}

/*
 * pytest's node id from a testcase: with junit_family=xunit1 the `file` attribute gives the
 * path; classname is "pkg.module[.Class]" and name the test (with parameters).
 */
static char *node_id(const char *cls, const char *name, const char *file)
{
	char *id;
	if (file && cls) {
		/* Module part of classname = file path without .py, '/' -> '.' */
		char *mod = xstrdup(file), *p;
		if (ends_with(mod, ".py"))
			mod[strlen(mod) - 3] = '\0';
		for (p = mod; *p; p++)
			if (*p == '/')
				*p = '.';
		if (starts_with(cls, mod) && cls[strlen(mod)] == '.') {
			char *rest = xstrdup(cls + strlen(mod) + 1);
			for (p = rest; *p; p++)
				if (*p == '.')
					*p = ':'; /* nested classes: A::B (approximate) */
			id = xasprintf("%s::%s::%s", file, rest, name ? name : "?");
			free(rest);
		} else {
			id = xasprintf("%s::%s", file, name ? name : "?");
		}
		free(mod);
	} else {
		id = xasprintf("%s::%s", cls ? cls : "?", name ? name : "?");
	}
	return id;
}

/* The outcome a child element of a testcase gives it, or NULL (the first one counts). */
static const char *child_outcome(xmlTextReaderPtr rd, const char *name)
{
	if (!strcmp(name, "failure")) {
		char *msg = attr(rd, "message");
		bool xpass = msg && strstr(msg, "[XPASS(strict)]");
		free(msg);
		return xpass ? "XPASS" : "FAILED";
	}
	if (!strcmp(name, "error"))
		return "ERROR";
	if (!strcmp(name, "skipped")) {
		char *type = attr(rd, "type");
		bool xfail = type && !strcmp(type, "pytest.xfail");
		free(type);
		return xfail ? "XFAIL" : "SKIPPED";
	}
	return NULL;
}

struct testcase {
	char *cls, *name, *file;
	const char *outcome;
	int depth;
	bool open;
};

static void emit(struct test_report *r, struct testcase *tc)
{
	const char *o = tc->outcome ? tc->outcome : "PASSED";
	if (r->n < JUNIT_MAX_TESTS)
		add_test(r, node_id(tc->cls, tc->name, tc->file), o);
	if (!strcmp(o, "PASSED") || !strcmp(o, "XPASS"))
		r->passed++;
	else if (!strcmp(o, "FAILED"))
		r->failed++;
	else if (!strcmp(o, "ERROR"))
		r->errored++;
	else
		r->skipped++;
	free(tc->cls);
	free(tc->name);
	free(tc->file);
	memset(tc, 0, sizeof(*tc));
}

/*
 * Refuse what libxml2 would spend too long on before it sees it: a DTD (entities: a billion
 * laughs, quadratic blow-up) and a tag with more than JUNIT_MAX_ATTRS attributes (libxml2
 * 2.9 checks each new attribute against all before it: 200,000 of them in 2.3 MB took 485 s).
 * One pass: comments, CDATA, processing instructions and quoted values are skipped.
 */
static bool junit_too_costly(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	if (memmem(buf, len, "<!DOCTYPE", 9) || memmem(buf, len, "<!ENTITY", 8))
		return true;
	while ((p = memchr(p, '<', (size_t)(end - p)))) {
		static const struct {
			const char *open, *close;
		} skip[] = { { "<!--", "-->" }, { "<![CDATA[", "]]>" }, { "<?", "?>" },
			     { "<!", ">" } };
		int attrs = 0;
		size_t k;
		for (k = 0; k < ARRAY_SIZE(skip); k++)
			if ((size_t)(end - p) >= strlen(skip[k].open) &&
			    !memcmp(p, skip[k].open, strlen(skip[k].open)))
				break;
		if (k < ARRAY_SIZE(skip)) {
			size_t cl = strlen(skip[k].close);
			const char *c = memmem(p, (size_t)(end - p), skip[k].close, cl);
			if (!c)
				return false; /* unterminated: libxml2 says it is not XML */
			p = c + strlen(skip[k].close);
			continue;
		}
		for (p++; p < end && *p != '>'; p++) {
			if (*p == '"' || *p == '\'') {
				const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
				if (!q)
					return false;
				p = q;
			} else if (*p == '=' && ++attrs > JUNIT_MAX_ATTRS) {
				return true;
			}
		}
	}
	return false;
}

int junit_parse_buf(const char *buf, size_t len, struct test_report *r)
{
	struct test_report got = { 0 };
	struct testcase tc = { 0 };
	xmlTextReaderPtr rd;
	bool root = false;
	int ret = -1, k;
	unsigned long nodes = 0;
	double t0 = now_monotonic();
	pthread_once(&xml_once, xml_load_once);
	if (!xml_loaded || len > JUNIT_MAX_BYTES || len > INT_MAX)
		return -1;
	/* No DTD, so no entity of any kind. (The encoding is forced to UTF-8 below, so these
	 * bytes are the only way to write one.) */
	if (junit_too_costly(buf, len))
		return -1;
	rd = p_xmlReaderForMemory(buf, (int)len, "junit.xml", "UTF-8",
				  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!rd)
		return -1;
	while ((k = p_xmlTextReaderRead(rd)) == 1) {
		int type = p_xmlTextReaderNodeType(rd), depth = p_xmlTextReaderDepth(rd);
		const char *name = (const char *)p_xmlTextReaderConstLocalName(rd);
		/* A bound on the time, whatever else libxml2 is slow at (namespace lookups are
		 * linear in the declarations in scope). */
		if (!(++nodes & 4095) && now_monotonic() - t0 > JUNIT_MAX_SECONDS) {
			k = -1;
			break;
		}
		if (type == XML_READER_TYPE_ELEMENT && name) {
			if (!root) {
				root = true;
				if (strcmp(name, "testsuites") && strcmp(name, "testsuite"))
					break;
				continue;
			}
			if (tc.open) {
				/* <failure>, <error>, <skipped>: the testcase's children */
				if (depth == tc.depth + 1 && !tc.outcome)
					tc.outcome = child_outcome(rd, name);
			} else if (!strcmp(name, "testcase")) {
				tc.cls = attr(rd, "classname");
				tc.name = attr(rd, "name");
				tc.file = attr(rd, "file");
				tc.depth = depth;
				tc.open = true;
				if (p_xmlTextReaderIsEmptyElement(rd) == 1)
					emit(&got, &tc);
			}
		} else if (type == XML_READER_TYPE_END_ELEMENT && tc.open && depth == tc.depth) {
			emit(&got, &tc);
		}
	}
	if (k == 0 && root) {
		/* a well-formed report, read to its end */
		test_report_release(r);
		*r = got;
		memset(&got, 0, sizeof(got));
		r->have_counts = true;
		ret = 0;
	}
	free(tc.cls);
	free(tc.name);
	free(tc.file);
	test_report_release(&got);
	p_xmlFreeTextReader(rd);
	return ret;
}

int junit_parse_at(int dirfd, const char *name, uid_t owner, struct test_report *r, char **raw,
		   size_t *raw_len)
{
	char *buf = NULL;
	size_t len = 0;
	int ret = read_file_at(dirfd, name, JUNIT_MAX_BYTES, owner, &buf, &len);
	if (ret == -ENOENT)
		return ret;
	if (ret < 0) {
		warning("%s: not read (%s); per-test results come from the test output", name,
			ret == -EINVAL ? "not a regular file"
			: ret == -EPERM ? "not the test user's own file"
			: ret == -EFBIG ? "larger than " JUNIT_MAX_BYTES_TEXT
			: ret == -ELOOP ? "a symbolic link" : strerror(-ret));
		return ret;
	}
	ret = junit_parse_buf(buf, len, r);
	if (ret < 0)
		warning("%s is not a JUnit XML report (or has a DTD, which is refused); per-test "
			"results skipped", name);
	if (raw) {
		*raw = buf;
		*raw_len = len;
		buf = NULL;
	}
	free(buf);
	return ret;
}

bool pytest_summary_parse(const char *text, struct test_report *r)
{
	regex_t line_re, item_re;
	regmatch_t m[3];
	const char *p = text, *last = NULL;
	size_t last_len = 0;
	bool found = false;
	if (!text)
		return false;
	/* "===== 1 failed, 2 passed, 1 warning in 0.12s =====" (the last one wins) */
	if (regcomp(&line_re, "=+ ([^=\n]*) in [0-9.]+s[^=\n]*=+", REG_EXTENDED))
		return false;
	if (regcomp(&item_re, "([0-9]+) (passed|failed|errors?|skipped|xfailed|xpassed)",
		    REG_EXTENDED)) {
		regfree(&line_re);
		return false;
	}
	while (!regexec(&line_re, p, 2, m, 0)) {
		last = p + m[1].rm_so;
		last_len = (size_t)(m[1].rm_eo - m[1].rm_so);
		p += m[0].rm_eo;
	}
	if (last) {
		char *s = xstrndup(last, last_len), *q = s;
		r->passed = r->failed = r->errored = r->skipped = 0;
		while (!regexec(&item_re, q, 3, m, 0)) {
			int n = atoi(q + m[1].rm_so);
			const char *w = q + m[2].rm_so;
			if (starts_with(w, "passed") || starts_with(w, "xpassed"))
				r->passed += n;
			else if (starts_with(w, "failed"))
				r->failed += n;
			else if (starts_with(w, "error"))
				r->errored += n;
			else
				r->skipped += n;
			q += m[0].rm_eo;
			found = true;
		}
		free(s);
		r->have_counts = found;
	}
	regfree(&line_re);
	regfree(&item_re);
	return found;
}

void test_report_release(struct test_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->tests[i].id);
	free(r->tests);
	memset(r, 0, sizeof(*r));
}
