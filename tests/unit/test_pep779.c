/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * PEP 779 ratios (pep779_json, and pkg_aggregate's "pep779"): FT / GIL medians of wall time
 * and peak RSS over passing iterations only, against the 1.15 and 1.20 limits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/results.h"
#include "tap.h"

/*
 * Iterations in a compact form: "pass:1.5:2000 fail:9:100" is status:duration_s:max_rss_kb
 * per iteration; "-" for a null field. NULL gives NULL (no array at all).
 */
static cJSON *iters(const char *spec)
{
	cJSON *a;
	char *copy, *tok, *save = NULL;
	if (!spec)
		return NULL;
	a = cJSON_CreateArray();
	copy = xstrdup(spec);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		cJSON *it = cJSON_CreateObject();
		char *dur = strchr(tok, ':'), *rss;
		*dur++ = '\0';
		rss = strchr(dur, ':');
		*rss++ = '\0';
		cJSON_AddStringToObject(it, "status", tok);
		if (strcmp(dur, "-"))
			cJSON_AddNumberToObject(it, "duration_s", strtod(dur, NULL));
		else
			cJSON_AddNullToObject(it, "duration_s");
		if (strcmp(rss, "-"))
			cJSON_AddNumberToObject(it, "max_rss_kb", strtod(rss, NULL));
		else
			cJSON_AddNullToObject(it, "max_rss_kb");
		cJSON_AddItemToArray(a, it);
	}
	free(copy);
	return a;
}

#define NUL -1.0 /* expected null */

static const struct {
	const char *name, *ft, *gil;
	bool null;                   /* the whole object is null */
	double time_ratio, rss_ratio;
	int time_ok, rss_ok;         /* 1, 0, -1 null */
	double ft_s, gil_s, ft_kb, gil_kb;
	int ft_passes, gil_passes;
} cases[] = {
	{ "same speed and memory", "pass:2:1000", "pass:2:1000", false, 1, 1, 1, 1, 2, 2, 1000,
	  1000, 1, 1 },
	{ "odd count: the middle value", "pass:1:100 pass:3:300 pass:2:200",
	  "pass:1:100 pass:2:100 pass:1.5:100", false, 1.333, 2, 0, 0, 2, 1.5, 200, 100, 3, 3 },
	{ "even count: mean of the middle two", "pass:1:100 pass:2:100 pass:3:300 pass:4:300",
	  "pass:2:200 pass:2:200", false, 1.25, 1, 0, 1, 2.5, 2, 200, 200, 4, 2 },
	{ "exactly at the limits is within them", "pass:1.15:1200", "pass:1:1000", false, 1.15,
	  1.2, 1, 1, 1.15, 1, 1200, 1000, 1, 1 },
	{ "just over the limits", "pass:1.151:1201", "pass:1:1000", false, 1.151, 1.201, 0, 0,
	  1.151, 1, 1201, 1000, 1, 1 },
	{ "ratio rounded to 3 dp before the comparison", "pass:1.1504:100", "pass:1:100", false,
	  1.15, 1, 1, 1, 1.15, 1, 100, 100, 1, 1 },
	{ "faster and leaner than with the GIL", "pass:0.8:900", "pass:1:1000", false, 0.8, 0.9,
	  1, 1, 0.8, 1, 900, 1000, 1, 1 },
	{ "only passing iterations count",
	  "fail:10:9000 pass:1:100 crash:0.1:50 deadlock:3:400 timeout:600:100",
	  "pass:1:100 fail:20:5000", false, 1, 1, 1, 1, 1, 1, 100, 100, 1, 1 },
	{ "passes with no duration are ignored", "pass:0:100 pass:-:100 pass:2:100",
	  "pass:1:100", false, 2, 1, 0, 1, 2, 1, 100, 100, 1, 1 },
	{ "no RSS in the GIL mode: memory null, time kept", "pass:1:100", "pass:1:- pass:1:0",
	  false, 1, NUL, 1, -1, 1, 1, NUL, NUL, 1, 2 },
	{ "no RSS in the FT mode", "pass:1.2:-", "pass:1:100", false, 1.2, NUL, 0, -1, 1.2, 1,
	  NUL, NUL, 1, 1 },
	{ "RSS medians over the passes that have one", "pass:1:- pass:1:300 pass:1:100",
	  "pass:1:100", false, 1, 2, 1, 0, 1, 1, 200, 100, 3, 1 },
	{ "no FT pass: null", "fail:1:100 crash:1:100", "pass:1:100", .null = true },
	{ "no GIL pass: null", "pass:1:100", "deadlock:3:100", .null = true },
	{ "empty FT iterations: null", "", "pass:1:100", .null = true },
	{ "no GIL iterations at all: null", "pass:1:100", NULL, .null = true },
	{ "only zero-duration passes: null", "pass:0:100", "pass:1:100", .null = true },
};

static void check_num(const cJSON *o, const char *key, double want, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (want == NUL) {
		ok(cJSON_IsNull(v), "%s: %s is null", name, key);
		return;
	}
	if (!ok(cJSON_IsNumber(v) && fabs(v->valuedouble - want) < 1e-9, "%s: %s = %g", name,
		key, want)) {
		if (cJSON_IsNumber(v))
			printf("#   got %.6f\n", v->valuedouble);
		else
			printf("#   got a non-number\n");
	}
}

static void check_bool(const cJSON *o, const char *key, int want, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (want < 0)
		ok(cJSON_IsNull(v), "%s: %s is null", name, key);
	else
		ok(cJSON_IsBool(v) && cJSON_IsTrue(v) == want, "%s: %s is %s", name, key,
		   want ? "true" : "false");
}

static void test_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *ft = iters(cases[i].ft), *gil = iters(cases[i].gil);
		cJSON *o = pep779_json(ft, gil);
		const char *name = cases[i].name;
		if (cases[i].null) {
			ok(cJSON_IsNull(o), "%s", name);
		} else if (!ok(cJSON_IsObject(o), "%s: an object", name)) {
			/* nothing more to check */
		} else {
			check_num(o, "time_ratio", cases[i].time_ratio, name);
			check_num(o, "rss_ratio", cases[i].rss_ratio, name);
			check_bool(o, "time_ok", cases[i].time_ok, name);
			check_bool(o, "rss_ok", cases[i].rss_ok, name);
			check_num(o, "ft_median_s", cases[i].ft_s, name);
			check_num(o, "gil_median_s", cases[i].gil_s, name);
			check_num(o, "ft_median_rss_kb", cases[i].ft_kb, name);
			check_num(o, "gil_median_rss_kb", cases[i].gil_kb, name);
			check_num(o, "ft_passes", cases[i].ft_passes, name);
			check_num(o, "gil_passes", cases[i].gil_passes, name);
		}
		cJSON_Delete(o);
		cJSON_Delete(ft);
		cJSON_Delete(gil);
	}
}

static void test_median(void)
{
	static const struct {
		double v[6];
		size_t n;
		double want;
	} m[] = {
		{ { 0 }, 0, 0 },
		{ { 5 }, 1, 5 },
		{ { 3, 1 }, 2, 2 },
		{ { 9, 1, 5 }, 3, 5 },
		{ { 4, 1, 3, 2 }, 4, 2.5 },
		{ { 7, 7, 1, 7, 100, 2 }, 6, 7 },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		double v[6];
		memcpy(v, m[i].v, sizeof(v));
		ok(fabs(median_of(v, m[i].n) - m[i].want) < 1e-12, "median of %zu values = %g",
		   m[i].n, m[i].want);
	}
}

/* pkg_aggregate adds pep779 with --compare-with-gil only, and recomputes it. */
static void test_aggregate(void)
{
	cJSON *pkg = cJSON_CreateObject();
	const cJSON *p;
	cJSON_AddStringToObject(pkg, "package", "p");
	cJSON_AddBoolToObject(pkg, "install_ok", true);
	cJSON_AddItemToObject(pkg, "iterations", iters("pass:3:1300 pass:3:1300 fail:1:1"));
	pkg_aggregate(pkg);
	ok(!cJSON_GetObjectItemCaseSensitive(pkg, "pep779"), "no pep779 without GIL iterations");

	cJSON_AddItemToObject(pkg, "gil_enabled_iterations", iters("pass:2:1000 pass:2:1000"));
	pkg_aggregate(pkg);
	p = cJSON_GetObjectItemCaseSensitive(pkg, "pep779");
	ok(cJSON_IsObject(p), "pep779 with GIL iterations");
	check_num(p, "time_ratio", 1.5, "aggregate");
	check_num(p, "rss_ratio", 1.3, "aggregate");
	check_bool(p, "time_ok", 0, "aggregate");
	check_bool(p, "rss_ok", 0, "aggregate");

	cJSON_ReplaceItemInObjectCaseSensitive(pkg, "gil_enabled_iterations",
					       iters("fail:2:1000"));
	pkg_aggregate(pkg);
	ok(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(pkg, "pep779")),
	   "recomputed: null once the GIL mode has no pass");
	cJSON_Delete(pkg);
}

int main(void)
{
	test_median();
	test_table();
	test_aggregate();
	return tap_done();
}
