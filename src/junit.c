/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "dl_sonames.h" /* LIBXML2_SONAME (Makefile) */
#include "ftscope/dlib.h"
#include "ftscope/error.h"
#include "ftscope/testreport.h"
#include "ftscope/util.h"

/* libxml2 is opened at first use (ftscope/dlib.h says why); p_x has x's type. */
static __typeof__(xmlReadMemory) *p_xmlReadMemory;
static __typeof__(xmlDocGetRootElement) *p_xmlDocGetRootElement;
static __typeof__(xmlGetProp) *p_xmlGetProp;
static __typeof__(xmlFreeDoc) *p_xmlFreeDoc;
static xmlFreeFunc *p_xmlFree; /* a variable in libxml2 (no per-thread allocators here) */
static const struct dlib_sym xml_syms[] = {
	{ "xmlReadMemory", (void **)&p_xmlReadMemory },
	{ "xmlDocGetRootElement", (void **)&p_xmlDocGetRootElement },
	{ "xmlGetProp", (void **)&p_xmlGetProp },
	{ "xmlFreeDoc", (void **)&p_xmlFreeDoc },
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

static char *prop(xmlNode *n, const char *name)
{
	xmlChar *v = p_xmlGetProp(n, (const xmlChar *)name);
	char *s = v ? xstrdup((const char *)v) : NULL;
	(*p_xmlFree)(v);
	return s;
}

/*
 * pytest's node id from a testcase: with junit_family=xunit1 the `file` attribute gives the
 * path; classname is "pkg.module[.Class]" and name the test (with parameters).
 */
static char *node_id(xmlNode *tc)
{
	char *cls = prop(tc, "classname"), *name = prop(tc, "name"), *file = prop(tc, "file");
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
	free(cls);
	free(name);
	free(file);
	return id;
}

static const char *outcome_of(xmlNode *tc)
{
	for (xmlNode *c = tc->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!strcmp((const char *)c->name, "failure")) {
			char *msg = prop(c, "message");
			bool xpass = msg && strstr(msg, "[XPASS(strict)]");
			free(msg);
			return xpass ? "XPASS" : "FAILED";
		}
		if (!strcmp((const char *)c->name, "error"))
			return "ERROR";
		if (!strcmp((const char *)c->name, "skipped")) {
			char *type = prop(c, "type");
			bool xfail = type && !strcmp(type, "pytest.xfail");
			free(type);
			return xfail ? "XFAIL" : "SKIPPED";
		}
	}
	return "PASSED";
}

static void walk(xmlNode *n, struct test_report *r)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!strcmp((const char *)n->name, "testcase")) {
			const char *o = outcome_of(n);
			add_test(r, node_id(n), o);
			if (!strcmp(o, "PASSED") || !strcmp(o, "XPASS"))
				r->passed++;
			else if (!strcmp(o, "FAILED"))
				r->failed++;
			else if (!strcmp(o, "ERROR"))
				r->errored++;
			else
				r->skipped++;
			continue;
		}
		walk(n->children, r);
	}
}

int junit_parse_buf(const char *buf, size_t len, struct test_report *r)
{
	xmlDoc *doc;
	xmlNode *root;
	int ret = -1;
	pthread_once(&xml_once, xml_load_once);
	if (!xml_loaded)
		return -1;
	doc = p_xmlReadMemory(buf, (int)len, "junit.xml", NULL,
			      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return -1;
	root = p_xmlDocGetRootElement(doc);
	if (root && (!strcmp((const char *)root->name, "testsuites") ||
		     !strcmp((const char *)root->name, "testsuite"))) {
		r->passed = r->failed = r->errored = r->skipped = 0;
		walk(root, r);
		r->have_counts = true;
		ret = 0;
	}
	p_xmlFreeDoc(doc);
	return ret;
}

int junit_parse_file(const char *path, struct test_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	int ret = read_file(path, &buf, &len);
	if (ret < 0)
		return ret;
	ret = junit_parse_buf(buf, len, r);
	if (ret < 0)
		warning("'%s' is not a JUnit XML report; per-test results skipped", path);
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
