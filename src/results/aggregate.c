/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * A package's result from its iterations (results.h: pkg_aggregate, pep779_json): counts,
 * flaky tests, TSAN races, stress, the category, the GIL comparison, PEP 779 ratios,
 * concurrency. results.c makes the iterations these read.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/results.h"
#include "ftscope/signature.h"
#include "ftscope/text.h"

struct tally {
	int n, pass, fail, crash, timeout, deadlock, tsan, stall, lockwait;
	int stall_timeout; /* stalls among the timeouts (older runs called them deadlocks) */
	double dur_sum;
	int dur_n;
};

static void tally_iterations(const cJSON *arr, struct tally *t)
{
	const cJSON *it;
	memset(t, 0, sizeof(*t));
	cJSON_ArrayForEach(it, arr)
	{
		const char *st = json_str(it, "status");
		const cJSON *hang = cJSON_GetObjectItemCaseSensitive(it, "hang");
		const cJSON *tsan = cJSON_GetObjectItemCaseSensitive(it, "tsan_warnings");
		double d = json_num(it, "duration_s", 0);
		int s = iter_status_from_name(st);
		if (s < 0)
			continue;
		t->n++;
		if (d > 0) {
			t->dur_sum += d;
			t->dur_n++;
		}
		switch ((enum iter_status)s) {
		case ITER_PASS:
			t->pass++;
			break;
		case ITER_FAIL:
			t->fail++;
			break;
		case ITER_CRASH:
			t->crash++;
			break;
		case ITER_TIMEOUT:
			t->timeout++;
			break;
		case ITER_DEADLOCK:
			t->deadlock++;
			break;
		}
		if (cJSON_GetArraySize(tsan) > 0)
			t->tsan++;
		if (cJSON_IsObject(hang)) {
			const char *r = json_str(hang, "reason");
			if (r && !strcmp(r, "stall")) {
				t->stall++;
				t->stall_timeout += s == ITER_TIMEOUT;
			}
			else if (r && !strcmp(r, "lock_wait"))
				t->lockwait++;
		}
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static cJSON *sorted_json(struct strv *sv)
{
	if (sv->n)
		qsort(sv->v, sv->n, sizeof(char *), cmp_str);
	return json_strv(sv);
}

/* Tests that failed (FAILED/ERROR) in some iterations and passed in others. */
static cJSON *flaky_tests(const cJSON *arr)
{
	struct strv ids = STRV_INIT;
	int *fails = NULL, *passes = NULL;
	const cJSON *it;
	cJSON *out = cJSON_CreateObject();
	cJSON_ArrayForEach(it, arr)
	{
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(it, "test_results"), *t;
		cJSON_ArrayForEach(t, res)
		{
			size_t k;
			for (k = 0; k < ids.n; k++)
				if (!strcmp(ids.v[k], t->string))
					break;
			if (k == ids.n) {
				strv_push(&ids, t->string);
				fails = xrealloc(fails, ids.n * sizeof(int));
				passes = xrealloc(passes, ids.n * sizeof(int));
				fails[k] = passes[k] = 0;
			}
			if (cJSON_IsString(t) && (!strcmp(t->valuestring, "FAILED") ||
						  !strcmp(t->valuestring, "ERROR")))
				fails[k]++;
			else if (cJSON_IsString(t) && !strcmp(t->valuestring, "PASSED"))
				passes[k]++;
		}
	}
	/* Descending fail count, then id. */
	for (;;) {
		int best = -1;
		for (size_t k = 0; k < ids.n; k++) {
			if (fails[k] <= 0 || passes[k] <= 0)
				continue;
			if (best < 0 || fails[k] > fails[best] ||
			    (fails[k] == fails[best] && strcmp(ids.v[k], ids.v[best]) < 0))
				best = (int)k;
		}
		if (best < 0)
			break;
		cJSON_AddNumberToObject(out, ids.v[best], fails[best]);
		fails[best] = -1;
	}
	free(fails);
	free(passes);
	strv_release(&ids);
	return out;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double median_of(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Durations and peak RSS of the passing iterations in arr; *nt and *nr are their counts. */
static void passing_samples(const cJSON *arr, double **t, size_t *nt, double **r, size_t *nr)
{
	const cJSON *it;
	size_t n = (size_t)cJSON_GetArraySize(arr);
	*t = xcalloc(n ? n : 1, sizeof(double));
	*r = xcalloc(n ? n : 1, sizeof(double));
	*nt = *nr = 0;
	cJSON_ArrayForEach(it, arr)
	{
		const char *st = json_str(it, "status");
		double d = json_num(it, "duration_s", 0), kb = json_num(it, "max_rss_kb", 0);
		if (!st || strcmp(st, "pass") || d <= 0)
			continue;
		(*t)[(*nt)++] = d;
		if (kb > 0)
			(*r)[(*nr)++] = kb;
	}
}

static void add_num_or_null(cJSON *o, const char *key, bool have, double v)
{
	if (have)
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

cJSON *pep779_json(const cJSON *ft_iters, const cJSON *gil_iters)
{
	double *ft_t, *ft_r, *gil_t, *gil_r;
	double ft_s, gil_s, ft_kb = 0, gil_kb = 0, time_ratio, rss_ratio = 0;
	size_t n_ft_t, n_ft_r, n_gil_t, n_gil_r;
	bool rss;
	cJSON *o = NULL;

	passing_samples(ft_iters, &ft_t, &n_ft_t, &ft_r, &n_ft_r);
	passing_samples(gil_iters, &gil_t, &n_gil_t, &gil_r, &n_gil_r);
	if (!n_ft_t || !n_gil_t) {
		o = cJSON_CreateNull();
		goto out;
	}
	ft_s = median_of(ft_t, n_ft_t);
	gil_s = median_of(gil_t, n_gil_t);
	time_ratio = round_to(ft_s / gil_s, 3);
	rss = n_ft_r && n_gil_r;
	if (rss) {
		ft_kb = median_of(ft_r, n_ft_r);
		gil_kb = median_of(gil_r, n_gil_r);
		rss_ratio = round_to(ft_kb / gil_kb, 3);
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "time_ratio", time_ratio);
	add_num_or_null(o, "rss_ratio", rss, rss_ratio);
	cJSON_AddBoolToObject(o, "time_ok", time_ratio <= PEP779_TIME_LIMIT);
	if (rss)
		cJSON_AddBoolToObject(o, "rss_ok", rss_ratio <= PEP779_RSS_LIMIT);
	else
		cJSON_AddNullToObject(o, "rss_ok");
	cJSON_AddNumberToObject(o, "ft_median_s", round_to(ft_s, 3));
	cJSON_AddNumberToObject(o, "gil_median_s", round_to(gil_s, 3));
	add_num_or_null(o, "ft_median_rss_kb", rss, round_to(ft_kb, 0));
	add_num_or_null(o, "gil_median_rss_kb", rss, round_to(gil_kb, 0));
	cJSON_AddNumberToObject(o, "ft_passes", (double)n_ft_t);
	cJSON_AddNumberToObject(o, "gil_passes", (double)n_gil_t);
out:
	free(ft_t);
	free(ft_r);
	free(gil_t);
	free(gil_r);
	return o;
}

/* One race signature over a package's iterations. */
struct race_tally {
	const cJSON *first; /* the first report with this signature */
	int count, iterations, last_iter, suppressed;
};

static int race_order(const void *a, const void *b)
{
	const struct race_tally *x = a, *y = b;
	bool xs = x->suppressed == x->count, ys = y->suppressed == y->count;
	if (xs != ys)
		return xs ? 1 : -1;
	if (x->count - x->suppressed != y->count - y->suppressed)
		return (y->count - y->suppressed) - (x->count - x->suppressed);
	if (x->count != y->count)
		return y->count - x->count;
	return strcmp(json_str(x->first, "signature_id"), json_str(y->first, "signature_id"));
}

/*
 * tsan_races: the iterations' TSAN reports deduplicated by signature; fully suppressed ones
 * last, the others by unsuppressed reports, then reports, descending. "suppressed" only when
 * every report of the signature was.
 */
static cJSON *tsan_races(const cJSON *iters)
{
	struct race_tally *t = NULL;
	size_t n = 0;
	int k = 0;
	const cJSON *it, *r;
	cJSON *out = cJSON_CreateArray();
	cJSON_ArrayForEach(it, iters)
	{
		k++;
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(it, "tsan_reports"))
		{
			const char *id = json_str(r, "signature_id");
			size_t i;
			if (!id)
				continue;
			for (i = 0; i < n; i++)
				if (!strcmp(json_str(t[i].first, "signature_id"), id))
					break;
			if (i == n) {
				t = xrealloc(t, (n + 1) * sizeof(*t));
				memset(&t[n], 0, sizeof(*t));
				t[n++].first = r;
			}
			t[i].count++;
			t[i].suppressed += json_bool(r, "suppressed", false);
			if (t[i].last_iter != k) {
				t[i].iterations++;
				t[i].last_iter = k;
			}
		}
	}
	if (n)
		qsort(t, n, sizeof(*t), race_order);
	for (size_t i = 0; i < n; i++) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "signature_id", json_str(t[i].first, "signature_id"));
		json_set_str(j, "kind", json_str(t[i].first, "kind"));
		json_set_str(j, "signature", json_str(t[i].first, "signature"));
		json_set_str(j, "summary", json_str(t[i].first, "summary"));
		cJSON_AddNumberToObject(j, "count", t[i].count);
		cJSON_AddNumberToObject(j, "iterations", t[i].iterations);
		cJSON_AddBoolToObject(j, "suppressed", t[i].suppressed == t[i].count);
		cJSON_AddItemToArray(out, j);
	}
	free(t);
	return out;
}

/* Add to `ids` every test that FAILED or ERRORed in some iteration of arr (and, for stress
 * iterations, every PARALLEL FAILED one). */
static void failing_tests(const cJSON *arr, struct strv *ids)
{
	const cJSON *it, *t;
	cJSON_ArrayForEach(it, arr)
	{
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(it, "test_results"))
			if (cJSON_IsString(t) && (!strcmp(t->valuestring, "FAILED") ||
						  !strcmp(t->valuestring, "ERROR")))
				strv_push_unique(ids, t->string);
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(it, "parallel_failed"))
			if (cJSON_IsString(t))
				strv_push_unique(ids, t->valuestring);
	}
}

/*
 * The stress block (run --parallel-threads; src/run/stress.c): its own counts and tests, and
 * its iterations join the package's category counts (c). Returns whether stress iterations
 * ran with two or more threads per test (concurrency exercised by stress).
 */
static bool stress_aggregate(cJSON *pkg, const cJSON *iters, const struct tally *t,
			     struct pkg_counts *c, struct strv *sigs)
{
	cJSON *st = cJSON_GetObjectItemCaseSensitive(pkg, "stress");
	const cJSON *siters = cJSON_GetObjectItemCaseSensitive(st, "iterations"), *it, *k;
	struct strv plain_failed = STRV_INIT, failed = STRV_INIT, only = STRV_INIT;
	struct tally s;
	cJSON *unsafe;
	bool stress_only;
	if (!cJSON_IsObject(st) || !cJSON_IsArray(siters))
		return false;
	tally_iterations(siters, &s);
	json_set_num(st, "iterations_completed", s.n);
	json_set_num(st, "pass_count", s.pass);
	json_set_num(st, "fail_count", s.fail);
	json_set_num(st, "crash_count", s.crash);
	json_set_num(st, "deadlock_count", s.deadlock);
	json_set_num(st, "timeout_count", s.timeout);
	failing_tests(iters, &plain_failed);
	failing_tests(siters, &failed);
	for (size_t i = 0; i < failed.n; i++)
		if (!strv_contains(&plain_failed, failed.v[i]))
			strv_push(&only, failed.v[i]);
	unsafe = cJSON_CreateObject();
	cJSON_ArrayForEach(it, siters)
	{
		const char *sig = json_str(it, "crash_signature");
		if (sig)
			strv_push_unique(sigs, sig);
		cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(it, "thread_unsafe"))
			if (!cJSON_GetObjectItemCaseSensitive(unsafe, k->string))
				cJSON_AddItemToObject(unsafe, k->string, cJSON_Duplicate(k, true));
	}
	json_set(st, "failed_tests", sorted_json(&failed));
	json_set(st, "stress_only_tests", json_strv(&only));
	json_set(st, "thread_unsafe_tests", unsafe);
	/* passes plain, not under stress */
	stress_only = t->n > 0 && t->pass == t->n && s.n > s.pass;
	json_set_bool(pkg, "stress_only", stress_only);
	if (stress_only)
		json_set(pkg, "stress_failing_tests", sorted_json(&only));
	else
		cJSON_DeleteItemFromObjectCaseSensitive(pkg, "stress_failing_tests");
	c->iterations += s.n;
	c->pass += s.pass;
	c->fail += s.fail;
	c->crash += s.crash;
	c->timeout += s.timeout;
	c->deadlock += s.deadlock;
	c->tsan_iterations += s.tsan;
	strv_release(&plain_failed);
	strv_release(&failed);
	strv_release(&only);
	return s.n > 0 && json_num(st, "threads", 0) >= 2;
}

/* labeille's compatible_by_wheel (--trust-ft-wheels): the published free-threaded wheel
 * was installed and its tests all passed, or (--trust-ft-wheels-any-version) one for
 * another Python was trusted without running anything (install_from "skipped"). */
static const char *wheel_category(const cJSON *pkg, const char *cat)
{
	const char *from = json_str(pkg, "install_from");
	if (!from || !json_bool(pkg, "ft_wheel_found", false))
		return cat;
	if ((!strcmp(from, "wheel") && !strcmp(cat, "compatible")) ||
	    (!strcmp(from, "skipped") && json_bool(pkg, "install_ok", false)))
		return "compatible_by_wheel";
	return cat;
}

/* What a pep779 object compares, in its "compares" (null stays null). */
static void pep779_label(cJSON *pkg, const char *key, const char *what)
{
	cJSON *p = cJSON_GetObjectItemCaseSensitive(pkg, key);
	if (cJSON_IsObject(p))
		json_set_str(p, "compares", what);
}

void pkg_aggregate(cJSON *pkg)
{
	const cJSON *iters = cJSON_GetObjectItemCaseSensitive(pkg, "iterations");
	const cJSON *giters = cJSON_GetObjectItemCaseSensitive(pkg, "gil_enabled_iterations");
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(pkg, "extension_compat");
	struct tally t, g;
	struct strv sigs = STRV_INIT, tsan = STRV_INIT, gilmods = STRV_INIT;
	struct pkg_counts c = { 0 };
	const cJSON *it;
	cJSON *hc;
	bool by_stress;

	tally_iterations(iters, &t);
	cJSON_ArrayForEach(it, iters)
	{
		const char *sig = json_str(it, "crash_signature");
		const cJSON *k, *w = cJSON_GetObjectItemCaseSensitive(it, "tsan_warnings");
		if (sig)
			strv_push_unique(&sigs, sig);
		cJSON_ArrayForEach(k, w)
			if (cJSON_IsString(k))
				strv_push_unique(&tsan, k->valuestring);
		w = cJSON_GetObjectItemCaseSensitive(it, "gil_enabled_warnings");
		cJSON_ArrayForEach(k, w)
			if (cJSON_IsString(k))
				strv_push_unique(&gilmods, k->valuestring);
	}
	if (cJSON_IsObject(ext)) {
		const cJSON *e, *exts = cJSON_GetObjectItemCaseSensitive(ext, "extensions");
		cJSON_ArrayForEach(e, exts)
			if (json_bool(e, "triggered_gil_fallback", false) && json_str(e, "module_name"))
				strv_push_unique(&gilmods, json_str(e, "module_name"));
	}

	json_set_num(pkg, "iterations_completed", t.n);
	json_set_num(pkg, "pass_count", t.pass);
	json_set_num(pkg, "fail_count", t.fail);
	json_set_num(pkg, "crash_count", t.crash);
	json_set_num(pkg, "timeout_count", t.timeout + t.deadlock);
	json_set_num(pkg, "deadlock_count", t.deadlock);
	json_set_num(pkg, "tsan_warning_iterations", t.tsan);
	json_set_num(pkg, "pass_rate", t.n ? round_to((double)t.pass / t.n, 4) : 0.0);
	json_set_num(pkg, "mean_duration_s", t.dur_n ? round_to(t.dur_sum / t.dur_n, 2) : 0.0);
	json_set(pkg, "tsan_warning_types", sorted_json(&tsan));
	json_set(pkg, "tsan_races", tsan_races(iters));
	json_set(pkg, "flaky_tests", flaky_tests(iters));
	json_set(pkg, "gil_fallback_modules", sorted_json(&gilmods));
	hc = cJSON_CreateObject();
	cJSON_AddNumberToObject(hc, "deadlock", t.lockwait);
	cJSON_AddNumberToObject(hc, "stall", t.stall);
	cJSON_AddNumberToObject(hc, "timeout", t.timeout - t.stall_timeout);
	json_set(pkg, "hang_count", hc);
	c.install_ok = json_bool(pkg, "install_ok", false);
	c.import_ok = json_bool(pkg, "import_ok", true);
	c.interrupted = json_bool(pkg, "interrupted", false);
	c.iterations = t.n;
	c.pass = t.pass;
	c.fail = t.fail;
	c.crash = t.crash;
	c.timeout = t.timeout;
	c.deadlock = t.deadlock;
	c.tsan_iterations = t.tsan;
	by_stress = stress_aggregate(pkg, iters, &t, &c, &sigs);
	json_set(pkg, "failure_signatures", sorted_json(&sigs));
	{
		/* concurrency_exercised: some free-threaded iteration had two or more threads and
		 * they overlapped on CPUs or contended for a lock. */
		const cJSON *cc;
		bool exercised = false;
		double peak = 0, overlap = 0, waits = 0;
		cJSON *cj = cJSON_CreateObject();
		cJSON_ArrayForEach(it, iters)
		{
			cc = cJSON_GetObjectItemCaseSensitive(it, "concurrency");
			if (!cJSON_IsObject(cc))
				continue;
			if (json_num(cc, "peak_threads", 0) > peak)
				peak = json_num(cc, "peak_threads", 0);
			overlap += json_num(cc, "cpu_overlap_ms", 0);
			waits += json_num(cc, "contended_waits", 0);
			/* ptrace counts live threads exactly but cannot see them overlap on CPUs:
			 * two threads of one process alive together, with no GIL between them,
			 * are concurrency there */
			if (json_num(cc, "peak_threads", 0) >= 2 &&
			    (json_num(cc, "cpu_overlap_ms", 0) > 0 ||
			     json_num(cc, "contended_waits", 0) > 0 ||
			     !strcmp(json_str(cc, "source") ? json_str(cc, "source") : "", "ptrace")))
				exercised = true;
		}
		cJSON_AddNumberToObject(cj, "peak_threads", peak);
		cJSON_AddNumberToObject(cj, "cpu_overlap_ms", round_to(overlap, 1));
		cJSON_AddNumberToObject(cj, "contended_waits", waits);
		json_set(pkg, "concurrency", cj);
		if (t.n) {
			/* how: the suite's own threads, pytest-run-parallel's, or both */
			cJSON *by = cJSON_CreateArray();
			if (exercised)
				cJSON_AddItemToArray(by, cJSON_CreateString("own_threads"));
			if (by_stress)
				cJSON_AddItemToArray(by, cJSON_CreateString("stress"));
			json_set_bool(pkg, "concurrency_exercised", exercised || by_stress);
			json_set(pkg, "concurrency_exercised_by", by);
		}
	}

	c.gil_fallback = gilmods.n > 0 ||
			 (cJSON_IsObject(ext) && json_bool(ext, "gil_fallback_active", false));
	json_set_str(pkg, "category", wheel_category(pkg, verdict_category(&c)));

	if (cJSON_IsArray(giters)) {
		tally_iterations(giters, &g);
		json_set_num(pkg, "gil_enabled_pass_rate",
			     g.n ? round_to((double)g.pass / g.n, 4) : 0.0);
		json_set_str(pkg, "gil_comparison",
			     verdict_gil_comparison(t.n - t.pass, t.n, g.n - g.pass, g.n));
		json_set(pkg, "pep779", pep779_json(iters, giters));
		pep779_label(pkg, "pep779", "PYTHON_GIL=0 vs PYTHON_GIL=1, the same free-threaded "
			     "interpreter");
	}
	/* --baseline-python: PEP 779's own comparison, the two builds */
	if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(pkg, "baseline_iterations"))) {
		json_set(pkg, "pep779_baseline",
			 pep779_json(iters, cJSON_GetObjectItemCaseSensitive(pkg,
									      "baseline_iterations")));
		pep779_label(pkg, "pep779_baseline", "free-threaded build (PYTHON_GIL=0) vs default "
			     "(GIL) build of the same version: PEP 779's comparison");
	}
	strv_release(&sigs);
	strv_release(&tsan);
	strv_release(&gilmods);
}
