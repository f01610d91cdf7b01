/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/error.h"
#include "ftscope/report.h"
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

static bool pkg_has_tsan(const struct rs_pkg *pkg)
{
	return pkg->tsan_iters > 0 || pkg->nraces > 0;
}

int report_triage_score(const struct rs_pkg *pkg, struct sbuf *reason)
{
	enum ft_category c = pkg->cat;
	long crashes = pkg->crashes, deadlocks = pkg->deadlocks;
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
	if (pkg->is_ext &&
	    (c == CAT_CRASH || c == CAT_INTERMITTENT || c == CAT_TSAN_WARNINGS)) {
		score += 15;
		strv_push(&why, "C extension");
	}
	if (pkg_has_tsan(pkg)) {
		struct sbuf s = SBUF_INIT;
		sbuf_adds(&s, "TSAN:");
		for (size_t k = 0; k < pkg->tsan_warning_types.n && k < 3; k++)
			sbuf_addf(&s, "%s%s", k ? "," : "", pkg->tsan_warning_types.v[k]);
		score += 10;
		strv_push_owned(&why, sbuf_detach(&s));
	}
	if (reason)
		for (size_t i = 0; i < why.n; i++)
			sbuf_addf(reason, "%s%s", i ? "; " : "", why.v[i]);
	strv_release(&why);
	return score;
}

/* ---- header ---- */

const char *report_status_word(enum report_status s)
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
	const struct rs_meta *m = &r->v->meta;
	const char *when = m->started_at;
	struct sbuf sb = SBUF_INIT;
	char *t;

	/* a merged run says so on its Run line: the rest of the header, as the report's body,
	 * is what a single run of the same selection would print (t0260) */
	t = rs_merged_text(m);
	kv_add(kv, &n, max, "Run",
	       xasprintf("%s (%s%s%s)", r->run_id, report_status_word(r->status),
			 t ? "; merged from " : "", t ? t : ""));
	free(t);
	if (!when)
		when = m->timestamp;
	if (when) {
		const char *end = m->finished_at;
		double d = m->total_duration_s;
		sbuf_adds(&sb, when);
		if (r->status == REPORT_COMPLETE && end)
			sbuf_addf(&sb, " to %s", end);
		if (r->status == REPORT_COMPLETE && d > 0) {
			t = fmt_duration(d);
			sbuf_addf(&sb, " (%s", t);
			free(t);
			if (m->merged.nshards && m->merged.shards_duration_sum_s > 0) {
				/* a merged run's is its wall time; the shards' add up to more */
				t = fmt_duration(m->merged.shards_duration_sum_s);
				sbuf_addf(&sb, "; %s in its %zu shards together", t,
					  m->merged.nshards);
				free(t);
			}
			sbuf_addc(&sb, ')');
		}
		kv_add(kv, &n, max, "Date", sbuf_detach(&sb));
	}
	if (m->python.present) {
		const char *impl = m->python.implementation, *cc = m->python.compiler;
		const char *v = m->python.version;
		sbuf_addf(&sb, "%s (%s", v ? v : "?", impl ? impl : "?");
		if (m->python.gil_disabled)
			sbuf_adds(&sb, ", free-threaded");
		if (m->python.debug_build)
			sbuf_adds(&sb, ", debug build");
		if (m->python.jit_enabled)
			sbuf_adds(&sb, ", JIT");
		if (cc)
			sbuf_addf(&sb, ", %s", cc);
		sbuf_addc(&sb, ')');
		kv_add(kv, &n, max, "Python", sbuf_detach(&sb));
		if (m->python.path)
			kv_add(kv, &n, max, "Interpreter", xstrdup(m->python.path));
		kv_add(kv, &n, max, "Mode",
		       xstrdup(m->python.gil_disabled
				       ? "Free-threaded (GIL disabled, PYTHON_GIL=0)"
				       : "GIL enabled: this interpreter is not free-threaded"));
	}
	if ((t = rs_merged_systems(m))) {
		kv_add(kv, &n, max, "Systems", t);
	} else if (m->system.present) {
		const char *cpu = m->system.cpu_model, *os = m->system.os_distro;
		double cores = m->system.cpu_cores_logical;
		sbuf_addf(&sb, "%s", cpu ? cpu : "?");
		if (cores > 0)
			sbuf_addf(&sb, ", %.0f CPUs", cores);
		sbuf_addf(&sb, ", %.0f GB RAM, %s", m->system.ram_total_gb, os ? os : "?");
		kv_add(kv, &n, max, "System", sbuf_detach(&sb));
	}
	if (m->config.iterations > 0) {
		long it = (long)m->config.iterations;
		sbuf_addf(&sb, "%ld per package", it);
		if (r->compare_with_gil)
			sbuf_addf(&sb, ", and %ld with the GIL enabled (--compare-with-gil)", it);
		if (m->config.stop_on_first_pass)
			sbuf_adds(&sb, ", stopping at the first pass");
		kv_add(kv, &n, max, "Iterations", sbuf_detach(&sb));
	}
	if (m->config.tracer) {
		sbuf_addf(&sb, "%s tracer", m->config.tracer);
		if (m->config.deadlock_window > 0)
			sbuf_addf(&sb, ", deadlock window %g s", m->config.deadlock_window);
		if (m->config.timeout > 0)
			sbuf_addf(&sb, ", timeout %g s", m->config.timeout);
		if (m->config.tsan_build)
			sbuf_adds(&sb, ", ThreadSanitizer build");
		kv_add(kv, &n, max, "Supervision", sbuf_detach(&sb));
	}
	if (r->packages_total > 0 && (size_t)r->packages_total != r->n)
		sbuf_addf(&sb, "%zu of %ld", r->n, r->packages_total);
	else
		sbuf_addf(&sb, "%zu", r->n);
	if (m->nskipped_any > 0)
		sbuf_addf(&sb, " (%zu skipped)", m->nskipped_any);
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
		cut += r->pkgs[i].pkg->interrupted;

	switch (r->status) {
	case REPORT_COMPLETE:
		if (!cut && !r->v->rd.bad_lines)
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
	if (r->v->rd.bad_lines)
		sbuf_addf(&sb, "%s%zu unreadable line%s of ft_results.jsonl %s skipped.",
			  sb.len ? " " : "", r->v->rd.bad_lines, r->v->rd.bad_lines == 1 ? "" : "s",
			  r->v->rd.bad_lines == 1 ? "was" : "were");
	if (r->status == REPORT_INTERRUPTED)
		sbuf_addf(&sb, " To complete it: ftscope run --resume %s", r->v->rd.dir);
	else if (r->status == REPORT_RUNNING)
		sbuf_addf(&sb, " If ftscope was killed, complete the run with: ftscope run --resume %s",
			  r->v->rd.dir);
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
	return p->is_ext || p->pkg->gil_fallback_modules.n > 0;
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
	double x = a->pep779 ? a->pep779->time_ratio : -1;
	double y = b->pep779 ? b->pep779->time_ratio : -1;
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
		const struct rs_pep779 *p = r->pkgs[i].pep779;
		double t = p ? p->time_ratio : 0, m = p ? p->rss_ratio : 0;
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

/* labeille's failure pattern (stats.h) of the FT iterations. */
static enum flaky_pattern pkg_pattern(const struct rs_pkg *pkg)
{
	struct strv sets = STRV_INIT;
	enum flaky_pattern p;
	for (size_t i = 0; i < pkg->nit; i++) {
		const struct rs_iter *it = &pkg->it[i];
		struct strv ids = STRV_INIT;
		struct sbuf key = SBUF_INIT;
		if (!it->status_text || !strcmp(it->status_text, "pass"))
			continue;
		for (size_t k = 0; k < it->ntests; k++)
			if (rs_test_failed(&it->tests[k]))
				strv_push(&ids, it->tests[k].id);
		if (ids.n) {
			qsort(ids.v, ids.n, sizeof(*ids.v), cmp_str);
			for (size_t k = 0; k < ids.n; k++)
				sbuf_addf(&key, "%s%s", k ? "\n" : "", ids.v[k]);
			strv_push_owned(&sets, sbuf_detach(&key));
		}
		strv_release(&ids);
	}
	p = flaky_classify(pkg->crashes, pkg->fails, pkg->nfailure_signatures_any,
			   pkg->nflaky_any > 0, (const char *const *)sets.v, sets.n);
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
	sig_parts_parse(sig ? sig : key, &c->parts);
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
static void add_crashes(struct report *r, size_t pkg, const struct rs_iter *iters, size_t n,
			bool gil)
{
	for (size_t i = 0; i < n; i++) {
		const struct rs_iter *it = &iters[i];
		bool crashed = rs_iter_is(it, ITER_CRASH), runner_seen = false;
		for (size_t k = 0; k < it->ncrashes; k++) {
			const struct rs_crash *c = &it->crashes[k];
			const char *id = c->signature_id, *sig = c->signature;
			const char *key = id ? id : sig ? sig : c->signal;
			bool runner = c->runner && crashed && !runner_seen;
			if (!key)
				continue;
			runner_seen |= runner;
			cluster_count(cluster_for(r, key, id, sig), pkg, gil, !runner);
		}
		if (crashed && !runner_seen) {
			const char *id = it->crash_signature_id, *sig = it->crash_signature;
			const char *key = id ? id : sig ? sig : it->crash_signal;
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

static bool tid_in_cycles(const struct report_hang *h, long tid)
{
	for (size_t c = 0; c < h->ncycles; c++)
		for (size_t k = 0; k < h->cycles[c].ntids; k++)
			if (h->cycles[c].tids[k] == tid)
				return true;
	return false;
}

/* The first hung iteration with a lock-wait snapshot, FT before GIL; else the first hung. */
static const struct rs_iter *pick_hang(const struct rs_pkg *pkg, bool *gil)
{
	const struct rs_iter *first = NULL;
	bool first_gil = false;
	for (int pass = 0; pass < 2; pass++) {
		const struct rs_iter *v = pass ? pkg->git : pkg->it;
		size_t n = pass ? pkg->ngit : pkg->nit;
		for (size_t i = 0; i < n; i++) {
			if (!rs_iter_is(&v[i], ITER_DEADLOCK) || !v[i].hang.present)
				continue;
			if (v[i].hang.nwaits > 0) {
				*gil = pass == 1;
				return &v[i];
			}
			if (!first) {
				first = &v[i];
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

static void build_hang(struct report_pkg *p, bool stories)
{
	struct report_hang *h = &p->hang;
	const struct rs_hang *hang;
	const struct rs_hang_stacks *loaded;
	struct rs_hang_stacks st;
	size_t n = 0;

	if (stories)
		story_pkg_load(&p->story, p->pkg, false);
	h->iter = pick_hang(p->pkg, &h->gil);
	if (!h->iter)
		return;
	hang = &h->iter->hang;
	h->reason = hang->reason;
	h->detected_after_s = hang->detected_after_s;
	h->cycles = hang->cycles;
	h->ncycles = hang->ncycles;
	/* the story's copy if it was loaded (h->iter hung, so it is one of the story's):
	 * borrowed, the story frees it; at most HANG_PY_FRAMES frames a thread */
	loaded = story_pkg_stacks(&p->story, h->iter);
	if (loaded) {
		st = *loaded;
		st.max = HANG_PY_FRAMES;
	} else {
		runstore_hang_stacks(p->pkg, h->iter, HANG_PY_FRAMES, &st);
	}
	h->from_forensics = st.present;
	h->threads = xcalloc(hang->nwaits + 1, sizeof(*h->threads));
	for (size_t i = 0; i < hang->nwaits; i++) {
		const struct rs_wait *w = &hang->waits[i];
		struct report_thread *t = &h->threads[n++];
		t->tid = w->tid;
		t->comm = w->comm;
		t->lock = w->lock;
		t->native = w->native;
		t->owner = w->owner;
		t->in_cycle = tid_in_cycles(h, t->tid);
		runstore_hang_stacks_python(&st, t->tid, &t->python);
		if (!t->python.n && w->python)
			strv_push(&t->python, w->python);
	}
	h->nthreads = n;
	if (n > 1)
		qsort(h->threads, n, sizeof(*h->threads), cmp_thread);
	if (!loaded)
		runstore_hang_stacks_release(&st);
}

static void count_mode(const struct rs_iter *v, size_t nv, long *n, long *pass)
{
	*n = *pass = 0;
	for (size_t i = 0; i < nv; i++) {
		if (v[i].status_text == NULL)
			continue;
		(*n)++;
		*pass += rs_iter_is(&v[i], ITER_PASS);
	}
}

static bool has_hang(const struct report_pkg *p)
{
	for (size_t i = 0; i < p->pkg->nit; i++)
		if (rs_iter_is(&p->pkg->it[i], ITER_DEADLOCK))
			return true;
	for (size_t i = 0; i < p->pkg->ngit; i++)
		if (rs_iter_is(&p->pkg->git[i], ITER_DEADLOCK))
			return true;
	return false;
}

static void build_pkg(struct report *r, size_t i, unsigned flags)
{
	struct report_pkg *p = &r->pkgs[i];
	const struct rs_pkg *pkg = &r->v->pkgs[i];
	struct sbuf why = SBUF_INIT;

	p->pkg = pkg;
	p->name = pkg->name;
	p->cat = pkg->cat;
	p->iters = pkg->iters;
	p->passes = pkg->passes;
	p->pass_rate = pkg->pass_rate;
	p->crashes = pkg->crashes;
	p->deadlocks = pkg->deadlocks;
	p->tsan_iters = pkg->tsan_iters;
	p->gil_comparison = pkg->gil_comparison;
	p->gil_iters = -1;
	if (pkg->has_gil_iters) {
		count_mode(pkg->git, pkg->ngit, &p->gil_iters, &p->gil_passes);
		p->pep779 = pkg->has_pep779 ? &pkg->pep779 : NULL;
	}
	p->is_ext = pkg->is_ext;
	p->has_tsan = pkg_has_tsan(pkg);
	p->pattern = pkg_pattern(pkg);
	p->score = report_triage_score(pkg, &why);
	p->reason = sbuf_detach(&why);
	if (p->cat == CAT_DEADLOCK || has_hang(p))
		build_hang(p, flags & REPORT_STORIES);
	r->cat_counts[p->cat]++;
	r->rate_buckets[report_rate_bucket(p->iters, p->pass_rate)]++;
	add_crashes(r, i, pkg->it, pkg->nit, false);
	add_crashes(r, i, pkg->git, pkg->ngit, true);
}

static int cmp_triage(const struct report_pkg *a, const struct report_pkg *b)
{
	return a->score != b->score ? (a->score > b->score ? -1 : 1) : 0;
}

static bool keep_triage(const struct report_pkg *p)
{
	return p->score >= 0;
}

void report_build(struct report *r, const struct run_view *v, unsigned flags)
{
	char now[32];

	memset(r, 0, sizeof(*r));
	r->v = v;
	r->run_id = v->meta.run_id;
	r->status = (enum report_status)v->meta.status;
	r->packages_total = v->meta.packages_total;
	r->compare_with_gil = v->meta.compare_with_gil;
	iso_utc(now_wall(), now, sizeof(now));
	r->generated_at = xstrdup(now);

	r->n = v->n;
	r->pkgs = xcalloc(v->n ? v->n : 1, sizeof(*r->pkgs));
	for (size_t i = 0; i < v->n; i++) {
		build_pkg(r, i, flags);
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
		free(p->reason);
		for (size_t k = 0; k < p->hang.nthreads; k++)
			strv_release(&p->hang.threads[k].python);
		free(p->hang.threads);
		story_pkg_release(&p->story);
	}
	for (size_t i = 0; i < r->nclusters; i++) {
		struct report_cluster *c = &r->clusters[i];
		sig_parts_release(&c->parts);
		free(c->pkgs);
		free(c->pkg_counts);
	}
	free(r->clusters);
	free(r->pkgs);
	free(r->triage);
	free(r->generated_at);
	memset(r, 0, sizeof(*r));
}

const char *report_source_status(const struct rs_pkg *p)
{
	bool all_not_used = true;
	if (!p->ext.scanned)
		return "not scanned";
	if (!p->ext.ndecls)
		return "Not declared";
	for (size_t i = 0; i < p->ext.ndecls; i++)
		all_not_used &= p->ext.decls[i].is_not_used;
	return all_not_used ? "Declared (NOT_USED)" : "Declared (USED)";
}

long report_gil_deadlocks(const struct report_pkg *p)
{
	long n = 0;
	for (size_t i = 0; i < p->pkg->ngit; i++)
		n += rs_iter_is(&p->pkg->git[i], ITER_DEADLOCK);
	return n;
}

void html_escape(struct sbuf *sb, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&':
			sbuf_adds(sb, "&amp;");
			break;
		case '<':
			sbuf_adds(sb, "&lt;");
			break;
		case '>':
			sbuf_adds(sb, "&gt;");
			break;
		case '"':
			sbuf_adds(sb, "&quot;");
			break;
		case '\'':
			sbuf_adds(sb, "&#39;");
			break;
		default:
			sbuf_addc(sb, (c < 0x20 && c != '\t') || c == 0x7f ? ' ' : (char)c);
		}
	}
}
