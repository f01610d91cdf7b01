/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/error.h"
#include "ftscope/report.h"
#include "ftscope/results.h"
#include "ftscope/rundir.h"
#include "ftscope/version.h"

/* ---- pure helpers ---- */

int report_rate_bucket(long iterations, double pass_rate)
{
	if (iterations <= 0)
		return 5;
	if (pass_rate >= 1.0)
		return 0;
	if (pass_rate >= 0.9)
		return 1;
	if (pass_rate >= 0.5)
		return 2;
	if (pass_rate > 0.0)
		return 3;
	return 4;
}

const char *report_rate_bucket_label(int bucket)
{
	static const char *const labels[REPORT_RATE_BUCKETS] = {
		"100%", "90-99%", "50-89%", "1-49%", "0%", "N/A",
	};
	return bucket >= 0 && bucket < REPORT_RATE_BUCKETS ? labels[bucket] : "?";
}

static bool pkg_has_tsan(const cJSON *pkg)
{
	return json_num(pkg, "tsan_warning_iterations", 0) > 0 ||
	       cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pkg, "tsan_races")) > 0;
}

static bool pkg_is_ext(const cJSON *pkg)
{
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(pkg, "extension_compat");
	return cJSON_IsObject(ext) && !json_bool(ext, "is_pure_python", true);
}

int report_triage_score(const cJSON *pkg, struct sbuf *reason)
{
	enum ft_category c = category_parse(json_str(pkg, "category"));
	long crashes = json_long(pkg, "crash_count", 0);
	long deadlocks = json_long(pkg, "deadlock_count", 0);
	struct strv why = STRV_INIT;
	int score, sev;

	switch (c) {
	case CAT_CRASH:
		sev = 50;
		break;
	case CAT_DEADLOCK:
		sev = 45;
		break;
	case CAT_INTERMITTENT:
		sev = 30;
		break;
	case CAT_INCOMPATIBLE:
		sev = 25;
		break;
	case CAT_TSAN_WARNINGS:
		sev = 20;
		break;
	case CAT_INSTALL_FAILURE:
	case CAT_IMPORT_FAILURE:
		sev = 10;
		break;
	case CAT_UNKNOWN:
		sev = 5;
		break;
	default:
		return -1; /* compatible, with or without GIL fallback: nothing to triage */
	}
	score = sev;
	strv_push_owned(&why, xasprintf("severity:%s", category_name(c)));
	if (crashes > 0) {
		score += crashes * 5 > 20 ? 20 : (int)crashes * 5;
		strv_push_owned(&why, xasprintf("%ld crashes", crashes));
	}
	if (deadlocks > 0) {
		score += deadlocks * 5 > 15 ? 15 : (int)deadlocks * 5;
		strv_push_owned(&why, xasprintf("%ld deadlocks", deadlocks));
	}
	if (pkg_is_ext(pkg) &&
	    (c == CAT_CRASH || c == CAT_INTERMITTENT || c == CAT_TSAN_WARNINGS)) {
		score += 15;
		strv_push(&why, "C extension");
	}
	if (pkg_has_tsan(pkg)) {
		const cJSON *t, *types = cJSON_GetObjectItemCaseSensitive(pkg, "tsan_warning_types");
		struct sbuf s = SBUF_INIT;
		int k = 0;
		sbuf_adds(&s, "TSAN:");
		cJSON_ArrayForEach(t, types) {
			if (!cJSON_IsString(t) || k == 3)
				continue;
			sbuf_addf(&s, "%s%s", k++ ? "," : "", t->valuestring);
		}
		score += 10;
		strv_push_owned(&why, sbuf_detach(&s));
	}
	if (reason)
		for (size_t i = 0; i < why.n; i++)
			sbuf_addf(reason, "%s%s", i ? "; " : "", why.v[i]);
	strv_release(&why);
	return score;
}

void report_split_signature(const char *sig, char **signal, struct strv *frames,
			    char **py_frame)
{
	const char *p, *bar;
	*signal = *py_frame = NULL;
	if (!sig || !*sig)
		return;
	if (!strstr(sig, " | ")) {
		/* "SIGSEGV: test_x.py:worker" (signal + Python frame, no tracer) or "SIGSEGV" */
		const char *colon = strstr(sig, ": ");
		if (colon) {
			*signal = xstrndup(sig, (size_t)(colon - sig));
			*py_frame = xstrdup(colon + 2);
		} else {
			*signal = xstrdup(sig);
		}
		return;
	}
	for (p = sig; p; p = bar ? bar + 3 : NULL) {
		char *part;
		bar = strstr(p, " | ");
		part = bar ? xstrndup(p, (size_t)(bar - p)) : xstrdup(p);
		if (p == sig)
			*signal = part;
		else if (starts_with(part, "py ") && !*py_frame) {
			*py_frame = xstrdup(part + 3);
			free(part);
		} else
			strv_push_owned(frames, part);
	}
}

/* ---- header ---- */

static const char *meta_str(const struct report *r, const char *obj, const char *key)
{
	const cJSON *m = r->rd->meta;
	if (obj)
		m = m ? cJSON_GetObjectItemCaseSensitive(m, obj) : NULL;
	return m ? json_str(m, key) : NULL;
}

static double meta_num(const struct report *r, const char *obj, const char *key, double dflt)
{
	const cJSON *m = r->rd->meta;
	if (obj)
		m = m ? cJSON_GetObjectItemCaseSensitive(m, obj) : NULL;
	return m ? json_num(m, key, dflt) : dflt;
}

static bool meta_bool(const struct report *r, const char *obj, const char *key)
{
	const cJSON *m = r->rd->meta;
	if (obj)
		m = m ? cJSON_GetObjectItemCaseSensitive(m, obj) : NULL;
	return m && json_bool(m, key, false);
}

static const char *status_word(enum report_status s)
{
	switch (s) {
	case REPORT_COMPLETE:
		return "complete";
	case REPORT_INTERRUPTED:
		return "interrupted, partial results";
	case REPORT_RUNNING:
		return "not finished, partial results";
	case REPORT_UNKNOWN:
		break;
	}
	return "status unknown";
}

static void kv_add(struct report_kv *kv, size_t *n, size_t max, const char *label, char *value)
{
	if (*n < max) {
		kv[*n].label = label;
		kv[*n].value = value;
		(*n)++;
	} else {
		free(value);
	}
}

static char *fmt_duration(double s)
{
	if (s < 90)
		return xasprintf("%.0f s", s);
	if (s < 5400)
		return xasprintf("%.0f min %.0f s", floor(s / 60), fmod(s, 60));
	return xasprintf("%.0f h %.0f min", floor(s / 3600), floor(fmod(s, 3600) / 60));
}

size_t report_header_rows(const struct report *r, struct report_kv *kv, size_t max)
{
	size_t n = 0;
	const char *v, *when = meta_str(r, NULL, "started_at");
	const cJSON *py = r->rd->meta ? cJSON_GetObjectItemCaseSensitive(r->rd->meta,
									    "python_profile")
				      : NULL;
	struct sbuf sb = SBUF_INIT;

	kv_add(kv, &n, max, "Run", xasprintf("%s (%s)", r->run_id, status_word(r->status)));
	if (!when)
		when = meta_str(r, NULL, "timestamp");
	if (when) {
		const char *end = meta_str(r, NULL, "finished_at");
		double d = meta_num(r, NULL, "total_duration_s", 0);
		sbuf_adds(&sb, when);
		if (r->status == REPORT_COMPLETE && end)
			sbuf_addf(&sb, " to %s", end);
		if (r->status == REPORT_COMPLETE && d > 0) {
			char *t = fmt_duration(d);
			sbuf_addf(&sb, " (%s)", t);
			free(t);
		}
		kv_add(kv, &n, max, "Date", sbuf_detach(&sb));
	}
	if (cJSON_IsObject(py)) {
		const char *impl = json_str(py, "implementation"), *cc = json_str(py, "compiler");
		v = json_str(py, "version");
		sbuf_addf(&sb, "%s (%s", v ? v : "?", impl ? impl : "?");
		if (json_bool(py, "gil_disabled", false))
			sbuf_adds(&sb, ", free-threaded");
		if (json_bool(py, "debug_build", false))
			sbuf_adds(&sb, ", debug build");
		if (json_bool(py, "jit_enabled", false))
			sbuf_adds(&sb, ", JIT");
		if (cc)
			sbuf_addf(&sb, ", %s", cc);
		sbuf_addc(&sb, ')');
		kv_add(kv, &n, max, "Python", sbuf_detach(&sb));
		if (json_str(py, "path"))
			kv_add(kv, &n, max, "Interpreter", xstrdup(json_str(py, "path")));
		kv_add(kv, &n, max, "Mode",
		       xstrdup(json_bool(py, "gil_disabled", false)
				       ? "Free-threaded (GIL disabled, PYTHON_GIL=0)"
				       : "GIL enabled: this interpreter is not free-threaded"));
	}
	if (r->rd->meta && cJSON_GetObjectItemCaseSensitive(r->rd->meta, "system_profile")) {
		const char *cpu = meta_str(r, "system_profile", "cpu_model");
		const char *os = meta_str(r, "system_profile", "os_distro");
		double cores = meta_num(r, "system_profile", "cpu_cores_logical", 0);
		sbuf_addf(&sb, "%s", cpu ? cpu : "?");
		if (cores > 0)
			sbuf_addf(&sb, ", %.0f CPUs", cores);
		sbuf_addf(&sb, ", %.0f GB RAM, %s", meta_num(r, "system_profile", "ram_total_gb", 0),
			  os ? os : "?");
		kv_add(kv, &n, max, "System", sbuf_detach(&sb));
	}
	if (meta_num(r, "config", "iterations", 0) > 0) {
		long it = (long)meta_num(r, "config", "iterations", 0);
		sbuf_addf(&sb, "%ld per package", it);
		if (r->compare_with_gil)
			sbuf_addf(&sb, ", and %ld with the GIL enabled (--compare-with-gil)", it);
		if (meta_bool(r, "config", "stop_on_first_pass"))
			sbuf_adds(&sb, ", stopping at the first pass");
		kv_add(kv, &n, max, "Iterations", sbuf_detach(&sb));
	}
	if ((v = meta_str(r, "config", "tracer"))) {
		sbuf_addf(&sb, "%s tracer", v);
		if (meta_num(r, "config", "deadlock_window", 0) > 0)
			sbuf_addf(&sb, ", deadlock window %g s",
				  meta_num(r, "config", "deadlock_window", 0));
		if (meta_num(r, "config", "timeout", 0) > 0)
			sbuf_addf(&sb, ", timeout %g s", meta_num(r, "config", "timeout", 0));
		if (meta_bool(r, "config", "tsan_build"))
			sbuf_adds(&sb, ", ThreadSanitizer build");
		kv_add(kv, &n, max, "Supervision", sbuf_detach(&sb));
	}
	if (r->packages_total > 0 && (size_t)r->packages_total != r->n)
		sbuf_addf(&sb, "%zu of %ld", r->n, r->packages_total);
	else
		sbuf_addf(&sb, "%zu", r->n);
	{
		int skipped = r->rd->meta ? cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
						    r->rd->meta, "packages_skipped"))
					  : 0;
		if (skipped > 0)
			sbuf_addf(&sb, " (%d skipped)", skipped);
	}
	kv_add(kv, &n, max, "Packages tested", sbuf_detach(&sb));
	return n;
}

void report_kv_free(struct report_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(kv[i].value);
}

char *report_partial_note(const struct report *r)
{
	struct sbuf sb = SBUF_INIT;
	size_t cut = 0;
	for (size_t i = 0; i < r->n; i++)
		cut += json_bool(r->pkgs[i].obj, "interrupted", false);

	switch (r->status) {
	case REPORT_COMPLETE:
		if (!cut && !r->rd->bad_lines)
			return NULL;
		break;
	case REPORT_INTERRUPTED:
		sbuf_addf(&sb, "This run was interrupted: the report covers the %zu package%s that "
			       "finished",
			  r->n, r->n == 1 ? "" : "s");
		break;
	case REPORT_RUNNING:
		sbuf_addf(&sb, "This run had not finished when the report was made (%s): it covers "
			       "the %zu package%s finished by then",
			  r->generated_at, r->n, r->n == 1 ? "" : "s");
		break;
	case REPORT_UNKNOWN:
		sbuf_addf(&sb, "No readable ft_meta.json, so how the run was made is unknown: the "
			       "report covers the %zu package%s in ft_results.jsonl",
			  r->n, r->n == 1 ? "" : "s");
		break;
	}
	if (sb.len && r->packages_total > 0)
		sbuf_addf(&sb, " (of %ld)", r->packages_total);
	if (sb.len)
		sbuf_addc(&sb, '.');
	if (cut)
		sbuf_addf(&sb, "%s%zu package%s cut short by an interruption: %s only %s finished "
			       "iterations.",
			  sb.len ? " " : "", cut, cut == 1 ? " was" : "s were",
			  cut == 1 ? "it counts" : "they count", cut == 1 ? "its" : "their");
	if (r->rd->bad_lines)
		sbuf_addf(&sb, "%s%zu unreadable line%s of ft_results.jsonl %s skipped.",
			  sb.len ? " " : "", r->rd->bad_lines, r->rd->bad_lines == 1 ? "" : "s",
			  r->rd->bad_lines == 1 ? "was" : "were");
	if (r->status == REPORT_INTERRUPTED)
		sbuf_addf(&sb, " To complete it: ftscope run --resume %s", r->rd->dir);
	else if (r->status == REPORT_RUNNING)
		sbuf_addf(&sb, " If ftscope was killed, complete the run with: ftscope run --resume %s",
			  r->rd->dir);
	return sbuf_detach(&sb);
}

const char *report_gil_meaning(const char *verdict)
{
	if (!verdict)
		return "not compared";
	if (!strcmp(verdict, "same"))
		return "neither mode fails";
	if (!strcmp(verdict, "ft_only"))
		return "fails only without the GIL";
	if (!strcmp(verdict, "gil_helps"))
		return "fails in both modes, significantly more without the GIL";
	if (!strcmp(verdict, "pre_existing"))
		return "fails with the GIL too: not a free-threading problem";
	return "?";
}

/* ---- sorting and selections ---- */

struct sort_ctx {
	const struct report *r;
	int (*cmp)(const struct report_pkg *, const struct report_pkg *);
};

static int cmp_idx(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *ctx = arg;
	const struct report_pkg *pa = &ctx->r->pkgs[*(const size_t *)a];
	const struct report_pkg *pb = &ctx->r->pkgs[*(const size_t *)b];
	int c = ctx->cmp ? ctx->cmp(pa, pb) : 0;
	return c ? c : strcmp(pa->name, pb->name);
}

static size_t *report_sorted(const struct report *r, bool (*keep)(const struct report_pkg *),
		      int (*cmp)(const struct report_pkg *, const struct report_pkg *), size_t *n)
{
	struct sort_ctx ctx = { r, cmp };
	size_t *idx = xcalloc(r->n ? r->n : 1, sizeof(*idx));
	*n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (!keep || keep(&r->pkgs[i]))
			idx[(*n)++] = i;
	if (*n > 1)
		qsort_r(idx, *n, sizeof(*idx), cmp_idx, &ctx);
	return idx;
}

static bool keep_crash(const struct report_pkg *p)
{
	return p->cat == CAT_CRASH;
}

static int cmp_crashes(const struct report_pkg *a, const struct report_pkg *b)
{
	return a->crashes != b->crashes ? (a->crashes > b->crashes ? -1 : 1) : 0;
}

static bool keep_deadlock(const struct report_pkg *p)
{
	return p->cat == CAT_DEADLOCK || p->hang.iter;
}

static bool keep_intermittent(const struct report_pkg *p)
{
	return p->cat == CAT_INTERMITTENT;
}

static int cmp_pass_rate(const struct report_pkg *a, const struct report_pkg *b)
{
	return a->pass_rate != b->pass_rate ? (a->pass_rate < b->pass_rate ? -1 : 1) : 0;
}

static bool keep_tsan(const struct report_pkg *p)
{
	return p->has_tsan;
}

static bool keep_ext(const struct report_pkg *p)
{
	return p->is_ext ||
	       cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p->obj, "gil_fallback_modules")) > 0;
}

static bool keep_gil(const struct report_pkg *p)
{
	return p->gil_comparison != NULL;
}

static int gil_rank(const char *v)
{
	static const char *const order[] = { "ft_only", "gil_helps", "pre_existing", "same" };
	for (int i = 0; i < 4; i++)
		if (v && !strcmp(v, order[i]))
			return i;
	return 4;
}

static int cmp_gil(const struct report_pkg *a, const struct report_pkg *b)
{
	return gil_rank(a->gil_comparison) - gil_rank(b->gil_comparison);
}

static bool keep_pep(const struct report_pkg *p)
{
	return p->gil_iters >= 0;
}

static int cmp_pep(const struct report_pkg *a, const struct report_pkg *b)
{
	double x = a->pep779 ? json_num(a->pep779, "time_ratio", -1) : -1;
	double y = b->pep779 ? json_num(b->pep779, "time_ratio", -1) : -1;
	return x != y ? (x > y ? -1 : 1) : 0;
}

static int cmp_all(const struct report_pkg *a, const struct report_pkg *b)
{
	int sa = category_severity(a->cat), sb = category_severity(b->cat);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	return a->pass_rate != b->pass_rate ? (a->pass_rate > b->pass_rate ? -1 : 1) : 0;
}

size_t *report_section(const struct report *r, enum report_section s, size_t *n)
{
	switch (s) {
	case SEC_CRASHES:
		return report_sorted(r, keep_crash, cmp_crashes, n);
	case SEC_DEADLOCKS:
		return report_sorted(r, keep_deadlock, NULL, n);
	case SEC_INTERMITTENT:
		return report_sorted(r, keep_intermittent, cmp_pass_rate, n);
	case SEC_TSAN:
		return report_sorted(r, keep_tsan, NULL, n);
	case SEC_EXTENSIONS:
		return report_sorted(r, keep_ext, NULL, n);
	case SEC_GIL:
		return report_sorted(r, keep_gil, cmp_gil, n);
	case SEC_PEP779:
		return report_sorted(r, keep_pep, cmp_pep, n);
	case SEC_ALL:
		break;
	}
	return report_sorted(r, NULL, cmp_all, n);
}

void report_add_rate(struct sbuf *sb, long pass, long n)
{
	if (n <= 0)
		sbuf_adds(sb, "N/A");
	else
		sbuf_addf(sb, "%ld/%ld (%.0f%%)", pass, n, 100.0 * (double)pass / (double)n);
}

void report_add_mib(struct sbuf *sb, double kb)
{
	sbuf_addf(sb, "%.1f MiB", kb / 1024);
}

void report_add_ratio(struct sbuf *sb, double ratio)
{
	sbuf_addf(sb, "%.3f (%+.1f%%)", ratio, (ratio - 1) * 100);
}

void report_pep779_geomean(const struct report *r, double *time, size_t *nt, double *rss,
			   size_t *nr)
{
	double lt = 0, lr = 0;
	*nt = *nr = 0;
	for (size_t i = 0; i < r->n; i++) {
		const cJSON *p = r->pkgs[i].pep779;
		double t = json_num(p, "time_ratio", 0), m = json_num(p, "rss_ratio", 0);
		if (t > 0) {
			lt += log(t);
			(*nt)++;
		}
		if (m > 0) {
			lr += log(m);
			(*nr)++;
		}
	}
	*time = *nt ? exp(lt / (double)*nt) : 0;
	*rss = *nr ? exp(lr / (double)*nr) : 0;
}

size_t report_pkg_clusters(const struct report *r, size_t p, size_t *out, size_t max)
{
	size_t n = 0;
	/* clusters are sorted by size already */
	for (size_t c = 0; c < r->nclusters && n < max; c++)
		for (size_t k = 0; k < r->clusters[c].npkgs; k++)
			if (r->clusters[c].pkgs[k] == p) {
				out[n++] = c;
				break;
			}
	return n;
}

/* ---- building ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_failed(const cJSON *v)
{
	return cJSON_IsString(v) &&
	       (!strcmp(v->valuestring, "FAILED") || !strcmp(v->valuestring, "ERROR"));
}

/* labeille's failure pattern (stats.h) of the FT iterations. */
static enum flaky_pattern pkg_pattern(const cJSON *pkg)
{
	const cJSON *it, *t;
	struct strv sets = STRV_INIT;
	enum flaky_pattern p;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(pkg, "iterations"))
	{
		struct strv ids = STRV_INIT;
		struct sbuf key = SBUF_INIT;
		const char *st = json_str(it, "status");
		if (!st || !strcmp(st, "pass"))
			continue;
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(it, "test_results"))
			if (is_failed(t))
				strv_push(&ids, t->string);
		if (ids.n) {
			qsort(ids.v, ids.n, sizeof(*ids.v), cmp_str);
			for (size_t i = 0; i < ids.n; i++)
				sbuf_addf(&key, "%s%s", i ? "\n" : "", ids.v[i]);
			strv_push_owned(&sets, sbuf_detach(&key));
		}
		strv_release(&ids);
	}
	p = flaky_classify(json_long(pkg, "crash_count", 0),
			   json_long(pkg, "fail_count", 0),
			   (size_t)cJSON_GetArraySize(
				   cJSON_GetObjectItemCaseSensitive(pkg, "failure_signatures")),
			   cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pkg, "flaky_tests")) > 0,
			   (const char *const *)sets.v, sets.n);
	strv_release(&sets);
	return p;
}

static struct report_cluster *cluster_for(struct report *r, const char *key, const char *id,
					  const char *sig)
{
	struct report_cluster *c;
	for (size_t i = 0; i < r->nclusters; i++)
		if (!strcmp(r->clusters[i].key, key))
			return &r->clusters[i];
	r->clusters = xrealloc(r->clusters, (r->nclusters + 1) * sizeof(*r->clusters));
	c = &r->clusters[r->nclusters++];
	memset(c, 0, sizeof(*c));
	c->key = key;
	c->id = id;
	c->signature = sig;
	report_split_signature(sig ? sig : key, &c->signal, &c->frames, &c->py_frame);
	return c;
}

static void cluster_count(struct report_cluster *c, size_t pkg, bool gil, bool child)
{
	size_t k;
	if (child)
		c->child++;
	else if (gil)
		c->gil++;
	else
		c->ft++;
	for (k = 0; k < c->npkgs; k++)
		if (c->pkgs[k] == pkg)
			break;
	if (k == c->npkgs) {
		c->pkgs = xrealloc(c->pkgs, (c->npkgs + 1) * sizeof(*c->pkgs));
		c->pkg_counts = xrealloc(c->pkg_counts, (c->npkgs + 1) * sizeof(*c->pkg_counts));
		c->pkgs[k] = pkg;
		c->pkg_counts[k] = 0;
		c->npkgs++;
	}
	c->pkg_counts[k]++;
}

/* Runner crashes (crash iterations) and the child crashes the suites survived. */
static void add_crashes(struct report *r, size_t pkg, const cJSON *iters, bool gil)
{
	const cJSON *it, *c;
	cJSON_ArrayForEach(it, iters)
	{
		const char *st = json_str(it, "status");
		bool crashed = st && !strcmp(st, "crash"), runner_seen = false;
		cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(it, "crashes"))
		{
			const char *id = json_str(c, "signature_id"), *sig = json_str(c, "signature");
			const char *key = id ? id : sig ? sig : json_str(c, "signal");
			bool runner = json_bool(c, "runner", false) && crashed && !runner_seen;
			if (!key)
				continue;
			runner_seen |= runner;
			cluster_count(cluster_for(r, key, id, sig), pkg, gil, !runner);
		}
		if (crashed && !runner_seen) {
			const char *id = json_str(it, "crash_signature_id");
			const char *sig = json_str(it, "crash_signature");
			const char *key = id ? id : sig ? sig : json_str(it, "crash_signal");
			cluster_count(cluster_for(r, key ? key : "unknown", id, sig), pkg, gil, false);
		}
	}
}

static int cmp_cluster(const void *a, const void *b)
{
	const struct report_cluster *x = a, *y = b;
	long nx = x->ft + x->gil + x->child, ny = y->ft + y->gil + y->child;
	if (nx != ny)
		return nx > ny ? -1 : 1;
	return strcmp(x->key, y->key);
}

#define HANG_PY_FRAMES 4

static void thread_python_frames(const cJSON *snap, long tid, struct strv *out)
{
	const cJSON *p, *t, *fr;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(snap, "processes"))
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(p, "threads"))
	{
		if (json_long(t, "tid", 0) != tid)
			continue;
		cJSON_ArrayForEach(fr, cJSON_GetObjectItemCaseSensitive(t, "frames"))
		{
			const char *file = json_str(fr, "file"), *b;
			if (!json_bool(fr, "python", false) || out->n == HANG_PY_FRAMES)
				continue;
			b = file ? strrchr(file, '/') : NULL;
			strv_push_owned(out, xasprintf("%s:%d %s", b ? b + 1 : file ? file : "?",
						       json_int(fr, "line", 0),
						       json_str(fr, "function") ? json_str(fr, "function")
										: "?"));
		}
		return;
	}
}

static bool tid_in_cycles(const cJSON *cycles, long tid)
{
	const cJSON *c, *t;
	cJSON_ArrayForEach(c, cycles)
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(c, "tids"))
			if (cJSON_IsNumber(t) && json_as_long(t, 0) == tid)
				return true;
	return false;
}

/* The first hung iteration with a lock-wait snapshot, FT before GIL; else the first hung. */
static const cJSON *pick_hang(const cJSON *pkg, bool *gil)
{
	static const char *const arrays[] = { "iterations", "gil_enabled_iterations" };
	const cJSON *first = NULL, *it;
	bool first_gil = false;
	for (int pass = 0; pass < 2; pass++) {
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(pkg, arrays[pass]))
		{
			const char *st = json_str(it, "status");
			const cJSON *hang = cJSON_GetObjectItemCaseSensitive(it, "hang");
			if (!st || strcmp(st, "deadlock") || !cJSON_IsObject(hang))
				continue;
			if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(hang, "waits")) > 0) {
				*gil = pass == 1;
				return it;
			}
			if (!first) {
				first = it;
				first_gil = pass == 1;
			}
		}
	}
	*gil = first_gil;
	return first;
}

static int cmp_thread(const void *a, const void *b)
{
	const struct report_thread *x = a, *y = b;
	/* the cycle first, then other lock waiters, then the rest; by tid within */
	int rx = x->in_cycle ? 0 : x->lock ? 1 : 2, ry = y->in_cycle ? 0 : y->lock ? 1 : 2;
	if (rx != ry)
		return rx - ry;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static void build_hang(struct report *r, struct report_pkg *p)
{
	struct report_hang *h = &p->hang;
	const cJSON *hang, *w, *snap = NULL;
	cJSON *forensics = NULL;
	size_t n = 0;

	h->iter = pick_hang(p->obj, &h->gil);
	if (!h->iter)
		return;
	hang = cJSON_GetObjectItemCaseSensitive(h->iter, "hang");
	h->reason = json_str(hang, "reason");
	h->detected_after_s = json_num(hang, "detected_after_s", 0);
	h->cycles = cJSON_GetObjectItemCaseSensitive(hang, "cycles");
	forensics = run_load_forensics(r->rd->dir, h->iter, NULL);
	snap = forensics_hang_snapshot(forensics);
	h->from_forensics = snap != NULL;
	h->threads = xcalloc((size_t)cJSON_GetArraySize(
				     cJSON_GetObjectItemCaseSensitive(hang, "waits")) + 1,
			     sizeof(*h->threads));
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(hang, "waits"))
	{
		struct report_thread *t = &h->threads[n++];
		t->tid = json_long(w, "tid", 0);
		t->comm = json_str(w, "comm");
		t->lock = json_str(w, "lock");
		t->native = json_str(w, "native");
		t->owner = json_long(w, "owner", 0);
		t->in_cycle = tid_in_cycles(h->cycles, t->tid);
		if (snap)
			thread_python_frames(snap, t->tid, &t->python);
		if (!t->python.n && json_str(w, "python"))
			strv_push(&t->python, json_str(w, "python"));
	}
	h->nthreads = n;
	if (n > 1)
		qsort(h->threads, n, sizeof(*h->threads), cmp_thread);
	cJSON_Delete(forensics);
}

static void count_mode(const cJSON *arr, long *n, long *pass)
{
	const cJSON *it;
	*n = *pass = 0;
	cJSON_ArrayForEach(it, arr)
	{
		const char *st = json_str(it, "status");
		if (!st)
			continue;
		(*n)++;
		*pass += !strcmp(st, "pass");
	}
}

static bool has_hang(const struct report_pkg *p)
{
	const char *arrays[] = { "iterations", "gil_enabled_iterations" };
	const cJSON *it;
	for (int k = 0; k < 2; k++)
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(p->obj, arrays[k]))
		{
			const char *st = json_str(it, "status");
			if (st && !strcmp(st, "deadlock"))
				return true;
		}
	return false;
}

static void build_pkg(struct report *r, size_t i)
{
	struct report_pkg *p = &r->pkgs[i];
	const cJSON *pkg = r->rd->pkgs[i];
	const cJSON *giters = cJSON_GetObjectItemCaseSensitive(pkg, "gil_enabled_iterations");
	const cJSON *pep = cJSON_GetObjectItemCaseSensitive(pkg, "pep779");
	struct sbuf why = SBUF_INIT;

	p->obj = pkg;
	p->name = json_str(pkg, "package");
	p->cat = category_parse(json_str(pkg, "category"));
	p->iters = json_long(pkg, "iterations_completed", 0);
	p->passes = json_long(pkg, "pass_count", 0);
	p->pass_rate = json_num(pkg, "pass_rate", p->iters ? (double)p->passes / (double)p->iters : 0);
	p->crashes = json_long(pkg, "crash_count", 0);
	p->deadlocks = json_long(pkg, "deadlock_count", 0);
	p->tsan_iters = json_long(pkg, "tsan_warning_iterations", 0);
	p->gil_comparison = json_str(pkg, "gil_comparison");
	p->gil_iters = -1;
	if (cJSON_IsArray(giters)) {
		count_mode(giters, &p->gil_iters, &p->gil_passes);
		/* runs recorded before pep779 existed: compute it here */
		if (cJSON_IsObject(pep))
			p->pep779 = cJSON_Duplicate(pep, true);
		else if (!pep)
			p->pep779 = pep779_json(cJSON_GetObjectItemCaseSensitive(pkg, "iterations"),
						giters);
		if (p->pep779 && !cJSON_IsObject(p->pep779)) {
			cJSON_Delete(p->pep779);
			p->pep779 = NULL;
		}
	}
	p->is_ext = pkg_is_ext(pkg);
	p->has_tsan = pkg_has_tsan(pkg);
	p->pattern = pkg_pattern(pkg);
	p->score = report_triage_score(pkg, &why);
	p->reason = sbuf_detach(&why);
	if (p->cat == CAT_DEADLOCK || has_hang(p))
		build_hang(r, p);
	r->cat_counts[p->cat]++;
	r->rate_buckets[report_rate_bucket(p->iters, p->pass_rate)]++;
	add_crashes(r, i, cJSON_GetObjectItemCaseSensitive(pkg, "iterations"), false);
	add_crashes(r, i, giters, true);
}

static int cmp_triage(const struct report_pkg *a, const struct report_pkg *b)
{
	return a->score != b->score ? (a->score > b->score ? -1 : 1) : 0;
}

static bool keep_triage(const struct report_pkg *p)
{
	return p->score >= 0;
}

void report_build(struct report *r, const struct run_data *rd)
{
	const char *status = rd->meta ? json_str(rd->meta, "status") : NULL;
	const char *base = strrchr(rd->dir, '/');
	char now[32];

	memset(r, 0, sizeof(*r));
	r->rd = rd;
	r->run_id = rd->meta && json_str(rd->meta, "run_id") ? json_str(rd->meta, "run_id")
		    : base && base[1]				 ? base + 1
								 : rd->dir;
	if (!rd->meta)
		r->status = REPORT_UNKNOWN;
	else if (!status || !strcmp(status, "complete")) /* labeille's meta has no status */
		r->status = REPORT_COMPLETE;
	else if (!strcmp(status, "interrupted"))
		r->status = REPORT_INTERRUPTED;
	else
		r->status = REPORT_RUNNING;
	r->packages_total = rd->meta ? json_long(rd->meta, "packages_total", 0) : 0;
	r->compare_with_gil =
		rd->meta && json_bool(cJSON_GetObjectItemCaseSensitive(rd->meta, "config"),
				      "compare_with_gil", false);
	iso_utc(now_wall(), now, sizeof(now));
	r->generated_at = xstrdup(now);

	r->n = rd->n;
	r->pkgs = xcalloc(rd->n ? rd->n : 1, sizeof(*r->pkgs));
	for (size_t i = 0; i < rd->n; i++) {
		build_pkg(r, i);
		if (r->pkgs[i].gil_iters >= 0)
			r->compare_with_gil = true;
	}
	if (r->nclusters > 1)
		qsort(r->clusters, r->nclusters, sizeof(*r->clusters), cmp_cluster);
	r->triage = report_sorted(r, keep_triage, cmp_triage, &r->ntriage);
}

void report_release(struct report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct report_pkg *p = &r->pkgs[i];
		cJSON_Delete(p->pep779);
		free(p->reason);
		for (size_t k = 0; k < p->hang.nthreads; k++)
			strv_release(&p->hang.threads[k].python);
		free(p->hang.threads);
	}
	for (size_t i = 0; i < r->nclusters; i++) {
		struct report_cluster *c = &r->clusters[i];
		free(c->signal);
		free(c->py_frame);
		strv_release(&c->frames);
		free(c->pkgs);
		free(c->pkg_counts);
	}
	free(r->clusters);
	free(r->pkgs);
	free(r->triage);
	free(r->generated_at);
	memset(r, 0, sizeof(*r));
}
