/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The report, written once as document events (include/ftscope/report_doc.h): every
 * section says the same things in the same words in every format; the formats only lay
 * them out. report_walk() writes the head, then each section of `sections[]` in order,
 * then the foot.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ftscope/json.h"
#include "ftscope/report.h"
#include "ftscope/report_doc.h"
#include "ftscope/results.h"
#include "ftscope/stress.h"
#include "ftscope/version.h"

/* Declarations listed per package: a report, not a dump. */
#define MAX_DECLS 10

/* ---- head, figures ---- */

static void head(struct doc *d, const struct report *r)
{
	struct report_kv kv[16];
	size_t n = report_header_rows(r, kv, ARRAY_SIZE(kv));
	char *note = report_partial_note(r);
	struct doc_head h = {
		.title = "Free-Threading Compatibility Report",
		.run_id = r->run_id,
		.status = report_status_word(r->status),
		.partial = r->status != REPORT_COMPLETE,
	};

	d->ops->head_begin(d, &h);
	if (note)
		d->ops->banner(d, "Partial results.", note);
	for (size_t i = 0; i < n; i++)
		d->ops->head_row(d, kv[i].label, kv[i].value);
	d->ops->head_end(d);
	report_kv_free(kv, n);
	free(note);
}

static void figures(struct doc *d, const struct report *r)
{
	struct doc_figure f[8];
	size_t n = 0, usable = 0, nt, nr;
	double gt, gr;

	for (int c = 0; c < CAT_NR; c++)
		if (category_is_usable(c))
			usable += r->cat_counts[c];
	f[n++] = (struct doc_figure){ .label = "packages tested", .cat = -1, .ok = -1 };
	snprintf(f[n - 1].value, sizeof(f[0].value), "%zu", r->n);
	f[n++] = (struct doc_figure){ .label = "pass every iteration", .cat = CAT_COMPATIBLE,
				      .ok = -1 };
	snprintf(f[n - 1].value, sizeof(f[0].value), "%zu",
		 r->cat_counts[CAT_COMPATIBLE] + r->cat_counts[CAT_COMPATIBLE_GIL_FALLBACK]);
	f[n++] = (struct doc_figure){ .label = "usable (pass at least sometimes)",
				      .cat = CAT_INTERMITTENT, .ok = -1 };
	snprintf(f[n - 1].value, sizeof(f[0].value), "%zu", usable);
	f[n++] = (struct doc_figure){ .label = "crash", .cat = CAT_CRASH, .ok = -1 };
	snprintf(f[n - 1].value, sizeof(f[0].value), "%zu", r->cat_counts[CAT_CRASH]);
	f[n++] = (struct doc_figure){ .label = "deadlock", .cat = CAT_DEADLOCK, .ok = -1 };
	snprintf(f[n - 1].value, sizeof(f[0].value), "%zu", r->cat_counts[CAT_DEADLOCK]);
	report_pep779_geomean(r, &gt, &nt, &gr, &nr);
	if (nt) {
		f[n++] = (struct doc_figure){
			.label = "wall time FT/GIL, geometric mean (limit 1.15)", .cat = -1,
			.ok = gt <= PEP779_TIME_LIMIT };
		snprintf(f[n - 1].value, sizeof(f[0].value), "%.2f\u00d7", gt);
	}
	if (nr) {
		f[n++] = (struct doc_figure){
			.label = "peak RSS FT/GIL, geometric mean (limit 1.20)", .cat = -1,
			.ok = gr <= PEP779_RSS_LIMIT };
		snprintf(f[n - 1].value, sizeof(f[0].value), "%.2f\u00d7", gr);
	}
	d->ops->figures(d, f, n);
}

/* ---- sections ---- */

static void sec_summary(struct doc *d, const struct report *r)
{
	static const struct doc_col cat_cols[] = {
		{ "Category", 0 }, { "Count", DOC_NUM }, { "Percentage", DOC_NUM },
	};
	static const struct doc_col rate_cols[] = {
		{ "Pass rate, free-threaded", 0 }, { "Packages", DOC_NUM },
	};
	const struct doc_ops *o = d->ops;
	char total[32];

	o->group_begin(d, DOC_GROUP_CHARTS);
	o->chart(d, DOC_CHART_CATEGORIES, r, NULL, 0, "Packages by category", NULL);
	o->chart(d, DOC_CHART_RATES, r, NULL, 0, "Pass-rate distribution", NULL);
	o->group_end(d);
	o->group_begin(d, DOC_GROUP_TABLES);
	o->table_begin(d, cat_cols, ARRAY_SIZE(cat_cols), 0);
	for (int c = 0; c < CAT_NR; c++) {
		if (!r->cat_counts[c])
			continue;
		o->row_begin(d, 0);
		o->cell_begin(d);
		o->category(d, c, true);
		o->cell_end(d);
		doc_cell_rawf(d, "%zu", r->cat_counts[c]);
		doc_cell_rawf(d, "%.1f%%", 100.0 * (double)r->cat_counts[c] / (double)r->n);
		o->row_end(d);
	}
	o->row_begin(d, DOC_ROW_TOTAL);
	o->cell_begin(d);
	o->strong(d, "Total");
	o->cell_end(d);
	o->cell_begin(d);
	snprintf(total, sizeof(total), "%zu", r->n);
	o->strong(d, total);
	o->cell_end(d);
	doc_cell_empty(d);
	o->row_end(d);
	o->table_end(d);
	o->table_begin(d, rate_cols, ARRAY_SIZE(rate_cols), 0);
	for (int b = 0; b < REPORT_RATE_BUCKETS; b++) {
		o->row_begin(d, 0);
		doc_cell_text(d, report_rate_bucket_label(b));
		doc_cell_rawf(d, "%zu", r->rate_buckets[b]);
		o->row_end(d);
	}
	o->table_end(d);
	o->group_end(d);
}

/* Stress iterations (run --parallel-threads), and how each package exercised concurrency. */
static bool has_stress(const struct report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		char *s = stress_summary(r->pkgs[i].pkg->raw);
		free(s);
		if (s)
			return true;
	}
	return false;
}

static void sec_stress(struct doc *d, const struct report *r)
{
	static const struct doc_col cols[] = {
		{ "Package", 0 },
		{ "Category", 0 },
		{ "Concurrency exercised by", 0 },
		{ "Stress", 0 },
	};
	const struct doc_ops *o = d->ops;

	doc_para(d, 0, "Every test body run in N threads at once; tests that fail only there are "
		   "stress findings.");
	o->table_begin(d, cols, ARRAY_SIZE(cols), 0);
	for (size_t i = 0; i < r->n; i++) {
		const struct report_pkg *p = &r->pkgs[i];
		char *s = stress_summary(p->pkg->raw);
		const char *how = concurrency_how(p->pkg->raw);
		if (!s)
			continue;
		o->row_begin(d, 0);
		doc_cell_text(d, p->name);
		o->cell_begin(d);
		o->category(d, p->cat, false);
		if (p->pkg->stress_only)
			o->aside(d, "stress only");
		o->cell_end(d);
		doc_cell_text(d, how ? how : "?");
		doc_cell_text(d, s);
		o->row_end(d);
		free(s);
	}
	o->table_end(d);
}

/* The declarations the source scan found, per package. */
static void declarations(struct doc *d, const struct report *r, const size_t *idx, size_t n)
{
	const struct doc_ops *o = d->ops;
	bool any = false;

	for (size_t i = 0; i < n; i++)
		any |= r->pkgs[idx[i]].pkg->ext.ndecls > 0;
	if (!any)
		return;
	o->subhead(d, "Source declarations");
	o->list_begin(d);
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		const struct rs_ext *ext = &p->pkg->ext;
		if (!ext->ndecls)
			continue;
		o->item_begin(d);
		o->text(d, p->name);
		doc_raw(d, ":");
		o->list_begin(d);
		for (size_t j = 0; j < ext->ndecls; j++) {
			const struct rs_decl *e = &ext->decls[j];
			char *loc;
			o->item_begin(d);
			if (j == MAX_DECLS) {
				doc_rawf(d, "\u2026 and %zu more", ext->ndecls - MAX_DECLS);
				o->item_end(d);
				break;
			}
			loc = xasprintf("%s:%d", e->file ? e->file : "?", e->line_number);
			o->code(d, loc);
			doc_raw(d, " ");
			o->text(d, e->kind ? e->kind : "Py_mod_gil");
			doc_rawf(d, " \u2192 %s", e->is_not_used ? "NOT_USED" : "USED");
			if (e->line_text) {
				doc_raw(d, ": ");
				o->code(d, e->line_text);
			}
			o->item_end(d);
			free(loc);
		}
		o->list_end(d);
		o->item_end(d);
	}
	o->list_end(d);
}

static void sec_extensions(struct doc *d, const struct report *r)
{
	static const struct doc_col cols[] = {
		{ "Package", 0 },      { "Extension modules", DOC_NUM }, { "GIL fallback", 0 },
		{ "Source Py_mod_gil", 0 }, { "Status", 0 },
	};
	const struct doc_ops *o = d->ops;
	size_t n, *idx = report_section(r, SEC_EXTENSIONS, &n);

	o->para_begin(d, 0);
	doc_raw(d, "GIL fallback: an extension module without a ");
	o->code(d, "Py_mod_gil");
	doc_raw(d, " slot made the interpreter re-enable the GIL when imported (seen by the "
		   "import probe or in the iterations' stderr).");
	o->para_end(d);
	o->table_begin(d, cols, ARRAY_SIZE(cols), 0);
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		const struct rs_pkg *pkg = p->pkg;
		const struct strv *mods = &pkg->gil_fallback_modules;
		o->row_begin(d, 0);
		doc_cell_text(d, p->name);
		doc_cell_rawf(d, "%zu", pkg->ext.nextensions);
		o->cell_begin(d);
		for (size_t k = 0; k < mods->n; k++) {
			if (!k) {
				o->verdict(d, 0, "Yes");
				doc_raw(d, ": ");
			} else {
				doc_raw(d, ", ");
			}
			o->code(d, mods->v[k]);
		}
		if (!mods->n)
			o->verdict(d, !pkg->ext.gil_fallback_active,
				   pkg->ext.gil_fallback_active ? "Yes" : "No");
		o->cell_end(d);
		doc_cell_text(d, report_source_status(pkg));
		o->cell_begin(d);
		o->category(d, p->cat, false);
		o->cell_end(d);
		o->row_end(d);
	}
	o->table_end(d);
	declarations(d, r, idx, n);
	free(idx);
}

static void sec_gil(struct doc *d, const struct report *r)
{
	static const struct doc_col cols[] = {
		{ "Package", 0 }, { "Pass rate, free-threaded", 0 }, { "Pass rate, GIL enabled", 0 },
		{ "Verdict", 0 }, { "Meaning", 0 },
	};
	const struct doc_ops *o = d->ops;
	size_t n, *idx = report_section(r, SEC_GIL, &n);

	if (!n) {
		o->para_begin(d, DOC_NOTE);
		doc_raw(d, "Not measured: run with ");
		o->code(d, "--compare-with-gil");
		doc_raw(d, " to run every suite again with the GIL enabled (");
		o->code(d, "PYTHON_GIL=1");
		doc_raw(d, ").");
		o->para_end(d);
		goto out;
	}
	o->para_begin(d, 0);
	doc_raw(d, "The same suites with the GIL enabled (");
	o->code(d, "PYTHON_GIL=1");
	doc_raw(d, ") on the same interpreter: what fails only without the GIL is a "
		   "free-threading problem.");
	o->para_end(d);
	o->table_begin(d, cols, ARRAY_SIZE(cols), 0);
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		o->row_begin(d, 0);
		doc_cell_text(d, p->name);
		doc_cell_rate(d, p->passes, p->iters);
		doc_cell_rate(d, p->gil_passes, p->gil_iters);
		o->cell_begin(d);
		o->keyword(d, p->gil_comparison);
		o->cell_end(d);
		doc_cell_text(d, report_gil_meaning(p->gil_comparison));
		o->row_end(d);
	}
	o->table_end(d);
out:
	free(idx);
}

/* PEP 779's table: the columns of one comparison (a: the free-threaded side, b: the other). */
static void pep779_table_begin(struct doc *d, const char *a, const char *b)
{
	char *title[6] = {
		xasprintf("Time, %s", a),     xasprintf("Time, %s", b),
		xasprintf("\u2264 %.2f", PEP779_TIME_LIMIT), xasprintf("RSS, %s", a),
		xasprintf("RSS, %s", b),      xasprintf("\u2264 %.2f", PEP779_RSS_LIMIT),
	};
	struct doc_col cols[] = {
		{ "Package", 0 },	  { title[0], DOC_NUM },     { title[1], DOC_NUM },
		{ "Time ratio", DOC_NUM }, { title[2], DOC_CENTER }, { title[3], DOC_NUM },
		{ title[4], DOC_NUM },	  { "RSS ratio", DOC_NUM },  { title[5], DOC_CENTER },
	};
	d->ops->table_begin(d, cols, ARRAY_SIZE(cols), DOC_SCROLL);
	/* the backends keep no title (doc_table_cols) */
	for (size_t i = 0; i < ARRAY_SIZE(title); i++)
		free(title[i]);
}

static void pep779_row(struct doc *d, const char *name, const struct rs_pep779 *pep)
{
	const struct doc_ops *o = d->ops;
	o->row_begin(d, 0);
	doc_cell_text(d, name);
	if (!pep) {
		d->span = 8;
		o->cell_begin(d);
		o->verdict(d, -1, "not measured: no passing iteration in both modes");
		o->cell_end(d);
		o->row_end(d);
		return;
	}
	doc_cell_rawf(d, "%.2f s", pep->ft_median_s);
	doc_cell_rawf(d, "%.2f s", pep->gil_median_s);
	o->cell_begin(d);
	report_add_ratio(d->out, pep->time_ratio);
	o->cell_end(d);
	doc_cell_pep_verdict(d, pep->time_ok);
	if (pep->rss_ratio > 0) {
		o->cell_begin(d);
		report_add_mib(d->out, pep->ft_median_rss_kb);
		o->cell_end(d);
		o->cell_begin(d);
		report_add_mib(d->out, pep->gil_median_rss_kb);
		o->cell_end(d);
		o->cell_begin(d);
		report_add_ratio(d->out, pep->rss_ratio);
		o->cell_end(d);
	} else {
		for (int k = 0; k < 3; k++) {
			o->cell_begin(d);
			o->verdict(d, -1, "n/a");
			o->cell_end(d);
		}
	}
	doc_cell_pep_verdict(d, pep->rss_ok);
	o->row_end(d);
}

/* --baseline-python: the free-threaded build against the default build, PEP 779's own
 * comparison (pep779_baseline), before the same-interpreter ratios. */
static bool pep779_baseline(struct doc *d, const struct report *r)
{
	const struct doc_ops *o = d->ops;
	bool any = false;

	for (size_t i = 0; i < r->n; i++) {
		const struct rs_pkg *pkg = r->pkgs[i].pkg;
		if (!pkg->has_pep779_baseline)
			continue;
		if (!any) {
			o->subhead(d, "Free-threaded build against the default build");
			o->para_begin(d, 0);
			doc_raw(d, "Free-threaded build (");
			o->code(d, "PYTHON_GIL=0");
			doc_raw(d, ") against the default (GIL) build of the same version (");
			o->code(d, "--baseline-python");
			doc_raw(d, "): the comparison PEP 779 makes. Per package: the median wall time "
				   "and the median peak RSS of the passing iterations.");
			o->para_end(d);
			pep779_table_begin(d, "FT build", "default build");
		}
		any = true;
		pep779_row(d, r->pkgs[i].name, &pkg->pep779_baseline);
	}
	if (any) {
		o->table_end(d);
		o->subhead(d, "Without the GIL against with it, on the free-threaded interpreter");
	}
	return any;
}

static void sec_pep779(struct doc *d, const struct report *r)
{
	const struct doc_ops *o = d->ops;
	size_t n, *idx = report_section(r, SEC_PEP779, &n), nt, nr, measured = 0;
	double gt, gr;
	bool baseline = pep779_baseline(d, r);

	if (!n) {
		o->para_begin(d, DOC_NOTE);
		doc_raw(d, baseline ? "Not measured: these ratios need "
				    : "Not measured: the ratios need ");
		o->code(d, "--compare-with-gil");
		doc_raw(d, ".");
		o->para_end(d);
		goto out;
	}
	o->para_begin(d, 0);
	doc_rawf(d, "PEP 779 asks the free-threaded build to be at most %.0f%% slower and to use "
		    "at most %.0f%% more memory than the GIL build. Per package: the median wall "
		    "time and the median peak RSS of the ",
		 (PEP779_TIME_LIMIT - 1) * 100, (PEP779_RSS_LIMIT - 1) * 100);
	o->emph(d, "passing");
	doc_raw(d, " iterations, free-threaded (");
	o->code(d, "PYTHON_GIL=0");
	doc_raw(d, ") over GIL-enabled (");
	o->code(d, "PYTHON_GIL=1");
	doc_raw(d, ").");
	o->para_end(d);
	doc_para(d, DOC_NOTE, "Both modes run on the same free-threaded interpreter, so this is the "
			  "cost of running without the GIL, not of the whole free-threaded build; "
			  "and a test suite (start-up, I/O, sleeps) is not a benchmark.");
	/* the chart shows the measured packages (sorted first); the table lists all */
	while (measured < n && r->pkgs[idx[measured]].pep779)
		measured++;
	if (measured)
		o->chart(d, DOC_CHART_PEP779, r, idx, measured,
			 "Free-threaded / GIL-enabled, per package",
			 "Green bars are within the limit (dashed), red ones over it.");
	pep779_table_begin(d, "FT", "GIL");
	for (size_t i = 0; i < n; i++)
		pep779_row(d, r->pkgs[idx[i]].name, r->pkgs[idx[i]].pep779);
	report_pep779_geomean(r, &gt, &nt, &gr, &nr);
	if (nt) {
		char *label = xasprintf("Geometric mean (%zu)", nt);
		o->row_begin(d, DOC_ROW_TOTAL);
		o->cell_begin(d);
		o->strong(d, label);
		o->cell_end(d);
		doc_cell_empty(d);
		doc_cell_empty(d);
		o->cell_begin(d);
		report_add_ratio(d->out, gt);
		o->cell_end(d);
		doc_cell_pep_verdict(d, gt <= PEP779_TIME_LIMIT);
		doc_cell_empty(d);
		doc_cell_empty(d);
		o->cell_begin(d);
		if (nr)
			report_add_ratio(d->out, gr);
		else
			o->verdict(d, -1, "n/a");
		o->cell_end(d);
		if (nr)
			doc_cell_pep_verdict(d, gr <= PEP779_RSS_LIMIT);
		else
			doc_cell_empty(d);
		o->row_end(d);
		free(label);
	}
	o->table_end(d);
out:
	free(idx);
}

static void sec_all(struct doc *d, const struct report *r)
{
	struct doc_col cols[9] = {
		{ "Package", 0 }, { "Category", 0 }, { "Pass rate", 0 }, { "Crashes", DOC_NUM },
		{ "Deadlocks", DOC_NUM },
	};
	const struct doc_ops *o = d->ops;
	size_t n, *idx = report_section(r, SEC_ALL, &n), nc = 5;

	if (r->compare_with_gil) {
		cols[nc++] = (struct doc_col){ "Pass rate, GIL", 0 };
		cols[nc++] = (struct doc_col){ "Time ratio", DOC_NUM };
		cols[nc++] = (struct doc_col){ "RSS ratio", DOC_NUM };
	}
	cols[nc++] = (struct doc_col){ "Priority", 0 };
	o->table_begin(d, cols, nc, DOC_SCROLL);
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		o->row_begin(d, 0);
		doc_cell_text(d, p->name);
		o->cell_begin(d);
		o->category(d, p->cat, false);
		o->cell_end(d);
		doc_cell_rate(d, p->passes, p->iters);
		doc_cell_rawf(d, "%ld", p->crashes);
		doc_cell_rawf(d, "%ld", p->deadlocks);
		if (r->compare_with_gil) {
			doc_cell_rate(d, p->gil_passes, p->gil_iters);
			doc_cell_ratio(d, p->pep779 ? p->pep779->time_ratio : 0, PEP779_TIME_LIMIT);
			doc_cell_ratio(d, p->pep779 ? p->pep779->rss_ratio : 0, PEP779_RSS_LIMIT);
		}
		o->cell_begin(d);
		if (p->score >= 0) {
			char score[16];
			snprintf(score, sizeof(score), "%d", p->score);
			o->strong(d, score);
			o->aside(d, p->reason);
		} else {
			o->dash(d);
		}
		o->cell_end(d);
		o->row_end(d);
	}
	o->table_end(d);
	free(idx);
}

/* ---- the walker ---- */

static bool has_sec(const struct report *r, enum report_section s)
{
	size_t n, *idx = report_section(r, s, &n);
	free(idx);
	return n > 0;
}

static bool has_crashes(const struct report *r)
{
	return has_sec(r, SEC_CRASHES);
}

static bool has_deadlocks(const struct report *r)
{
	return has_sec(r, SEC_DEADLOCKS);
}

static bool has_intermittent(const struct report *r)
{
	return has_sec(r, SEC_INTERMITTENT);
}

static bool has_tsan(const struct report *r)
{
	return has_sec(r, SEC_TSAN);
}

static bool has_extensions(const struct report *r)
{
	return has_sec(r, SEC_EXTENSIONS);
}

static bool has_clusters(const struct report *r)
{
	return r->nclusters > 0;
}

static bool has_packages(const struct report *r)
{
	return r->n > 0;
}

/*
 * The sections, in the report's order: labeille's first, then ftscope's. A section is one
 * function writing its body (the walker writes its heading) and one line here: its anchor,
 * heading, short title (the table of contents; NULL: not listed) and whether the run has
 * anything for it (NULL: always shown, saying "not measured" when it has nothing).
 */
static const struct report_part {
	const char *id, *title, *toc;
	bool (*present)(const struct report *r);
	void (*write)(struct doc *d, const struct report *r);
} sections[] = {
	{ "summary", "Summary", "Summary", NULL, sec_summary },
	{ "crashes", "Packages with crashes", "Crashes", has_crashes, report_sec_crashes },
	{ "deadlocks", "Packages with deadlocks", "Deadlocks", has_deadlocks, report_sec_deadlocks },
	{ "intermittent", "Packages with intermittent failures", "Intermittent",
	  has_intermittent, report_sec_intermittent },
	{ "tsan", "TSAN warnings", "TSAN", has_tsan, report_sec_tsan },
	{ "stress", "Stress (pytest-run-parallel)", "Stress", has_stress, sec_stress },
	{ "extensions", "C extension compatibility", "C extensions", has_extensions,
	  sec_extensions },
	{ "gil", "GIL comparison", "GIL comparison", NULL, sec_gil },
	{ "pep779", "PEP 779 ratios", "PEP 779 ratios", NULL, sec_pep779 },
	{ "clusters", "Crash clusters", "Crash clusters", has_clusters, report_sec_clusters },
	{ "packages", "All packages", "All packages", has_packages, sec_all },
};

void report_walk(struct doc *d, const struct report *r)
{
	struct doc_toc_item toc[ARRAY_SIZE(sections)];
	bool shown[ARRAY_SIZE(sections)];
	size_t ntoc = 0;

	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		const struct report_part *s = &sections[i];
		shown[i] = !s->present || s->present(r);
		if (shown[i] && s->toc)
			toc[ntoc++] = (struct doc_toc_item){ s->id, s->toc };
	}
	head(d, r);
	d->ops->toc(d, toc, ntoc);
	figures(d, r);
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		if (!shown[i])
			continue;
		d->ops->section_begin(d, sections[i].id, sections[i].title);
		sections[i].write(d, r);
		d->ops->section_end(d);
	}
	d->ops->foot_begin(d);
	doc_raw(d, "Generated by ftscope " FTSCOPE_VERSION " from run ");
	d->ops->code(d, r->run_id);
	if (r->status != REPORT_COMPLETE) {
		doc_raw(d, " on ");
		d->ops->text(d, r->generated_at);
	}
	doc_raw(d, ".");
	d->ops->foot_end(d);
}
