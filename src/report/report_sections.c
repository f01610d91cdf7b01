/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Report sections written once, as document events (include/ftscope/report_doc.h): the
 * formats only lay them out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ftscope/report.h"
#include "ftscope/report_doc.h"

void doc_raw(struct doc *d, const char *s)
{
	sbuf_adds(d->out, s);
}

void doc_rawf(struct doc *d, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s)
		sbuf_adds(d->out, s);
	free(s);
}

static void cell_rate(struct doc *d, long pass, long n)
{
	d->ops->cell_begin(d);
	report_add_rate(d->out, pass, n);
	d->ops->cell_end(d);
}

/* A section's heading and its one-paragraph introduction (the report's own prose). */
static void section_intro(struct doc *d, const char *id, const char *title, const char *prose)
{
	d->ops->section_begin(d, id, title);
	d->ops->para_begin(d, 0);
	doc_raw(d, prose);
	d->ops->para_end(d);
}

/* A cell of escaped text (a package name, a kind). */
static void cell_text(struct doc *d, const char *s)
{
	d->ops->cell_begin(d);
	d->ops->text(d, s);
	d->ops->cell_end(d);
}

/* A cell holding a code span (or a dash). */
static void cell_code(struct doc *d, const char *s)
{
	d->ops->cell_begin(d);
	d->ops->code(d, s);
	d->ops->cell_end(d);
}

void report_sec_intermittent(struct doc *d, const struct report *r)
{
	static const struct doc_col cols[] = {
		{ "Package", 0 },     { "Pass rate", 0 },	{ "Flaky tests", DOC_NUM },
		{ "Pattern", 0 },     { "Most flaky test", 0 },
	};
	const struct doc_ops *o = d->ops;
	size_t n, *idx = report_section(r, SEC_INTERMITTENT, &n);

	if (!n)
		goto out;
	section_intro(d, "intermittent", "Packages with intermittent failures",
		      "Some iterations pass and some fail: likely race conditions.");
	o->table_begin(d, cols, ARRAY_SIZE(cols), 0);
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		const struct rs_pkg *pkg = p->pkg;
		const struct rs_flaky *top = pkg->nflaky ? &pkg->flaky[0] : NULL;
		o->row_begin(d);
		cell_text(d, p->name);
		cell_rate(d, p->passes, p->iters);
		o->cell_begin(d);
		doc_rawf(d, "%zu", pkg->nflaky_any);
		o->cell_end(d);
		o->cell_begin(d);
		doc_raw(d, flaky_pattern_name(p->pattern));
		o->hint(d, flaky_pattern_hint(p->pattern));
		o->cell_end(d);
		o->cell_begin(d);
		if (top) {
			char *fails = xasprintf("failed %ld\u00d7", top->fails);
			o->code(d, top->test);
			o->aside(d, fails);
			free(fails);
		} else {
			o->dash(d);
		}
		o->cell_end(d);
		o->row_end(d);
	}
	o->table_end(d);
	o->section_end(d);
out:
	free(idx);
}

/* A race's iterations: its count, or its first 8 items and "…". */
static void race_iterations(struct doc *d, const struct rs_race *race)
{
	if (race->iterations_is_count) {
		doc_rawf(d, "%ld", race->iterations_count);
		return;
	}
	if (!race->has_iterations) {
		d->ops->dash(d);
		return;
	}
	for (size_t k = 0; k < race->iterations.n; k++) {
		if (k == 8) {
			doc_raw(d, ", \u2026");
			break;
		}
		doc_raw(d, k ? ", " : "");
		d->ops->text(d, race->iterations.v[k]);
	}
}

void report_sec_tsan(struct doc *d, const struct report *r)
{
	static const struct doc_col cols[] = {
		{ "Package", 0 },
		{ "Warning types", 0 },
		{ "Iterations affected", DOC_NUM },
	};
	static const struct doc_col race_cols[] = {
		{ "Package", 0 }, { "Signature id", 0 },  { "Kind", 0 },
		{ "Summary", 0 }, { "Reports", DOC_NUM }, { "Iterations", 0 },
	};
	const struct doc_ops *o = d->ops;
	size_t n, *idx = report_section(r, SEC_TSAN, &n);
	bool races = false;

	if (!n)
		goto out;
	section_intro(d, "tsan", "TSAN warnings",
		      "ThreadSanitizer reported data races, even where the tests pass.");
	o->table_begin(d, cols, ARRAY_SIZE(cols), 0);
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		const struct strv *types = &p->pkg->tsan_warning_types;
		size_t k;
		o->row_begin(d);
		cell_text(d, p->name);
		o->cell_begin(d);
		for (k = 0; k < types->n && k < 3; k++) {
			doc_raw(d, k ? ", " : "");
			o->text(d, types->v[k]);
		}
		if (!k)
			o->dash(d);
		o->cell_end(d);
		o->cell_begin(d);
		doc_rawf(d, "%ld/%ld", p->tsan_iters, p->iters);
		o->cell_end(d);
		o->row_end(d);
		races |= p->pkg->nraces > 0;
	}
	o->table_end(d);
	if (races) {
		o->subhead(d, "Races by signature");
		o->table_begin(d, race_cols, ARRAY_SIZE(race_cols), DOC_SCROLL);
		for (size_t i = 0; i < n; i++) {
			const struct report_pkg *p = &r->pkgs[idx[i]];
			for (size_t k = 0; k < p->pkg->nraces; k++) {
				const struct rs_race *race = &p->pkg->races[k];
				o->row_begin(d);
				cell_text(d, p->name);
				cell_code(d, race->signature_id);
				cell_text(d, race->kind ? race->kind : "?");
				cell_code(d, race->summary);
				o->cell_begin(d);
				doc_rawf(d, "%ld", race->count);
				o->cell_end(d);
				o->cell_begin(d);
				race_iterations(d, race);
				o->cell_end(d);
				o->row_end(d);
			}
		}
		o->table_end(d);
	}
	o->section_end(d);
out:
	free(idx);
}

void report_sec_gil(struct doc *d, const struct report *r)
{
	static const struct doc_col cols[] = {
		{ "Package", 0 }, { "Pass rate, free-threaded", 0 }, { "Pass rate, GIL enabled", 0 },
		{ "Verdict", 0 }, { "Meaning", 0 },
	};
	const struct doc_ops *o = d->ops;
	size_t n, *idx = report_section(r, SEC_GIL, &n);

	o->section_begin(d, "gil", "GIL comparison");
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
		o->row_begin(d);
		cell_text(d, p->name);
		cell_rate(d, p->passes, p->iters);
		cell_rate(d, p->gil_passes, p->gil_iters);
		o->cell_begin(d);
		o->keyword(d, p->gil_comparison);
		o->cell_end(d);
		o->cell_begin(d);
		doc_raw(d, report_gil_meaning(p->gil_comparison));
		o->cell_end(d);
		o->row_end(d);
	}
	o->table_end(d);
out:
	o->section_end(d);
	free(idx);
}

void report_sec_clusters(struct doc *d, const struct report *r)
{
	static const struct doc_col cols[] = {
		{ "Signature id", 0 }, { "Signal", 0 },	    { "Top frames", DOC_FRAMES },
		{ "Python frame", 0 }, { "Iterations", 0 }, { "Packages", 0 },
	};
	const struct doc_ops *o = d->ops;

	if (!r->nclusters)
		return;
	section_intro(d, "clusters", "Crash clusters",
		      "Crashes grouped by signature across packages and iterations (both GIL "
		      "modes, and child processes a suite survived): one row is one bug, "
		      "whichever package shows it.");
	o->table_begin(d, cols, ARRAY_SIZE(cols), DOC_SCROLL);
	for (size_t i = 0; i < r->nclusters; i++) {
		const struct report_cluster *c = &r->clusters[i];
		o->row_begin(d);
		cell_code(d, c->id);
		cell_text(d, c->parts.signal ? c->parts.signal : "?");
		o->cell_begin(d);
		o->frames(d, &c->parts.frames, 3);
		o->cell_end(d);
		cell_code(d, c->parts.py_frame);
		o->cell_begin(d);
		if (c->ft)
			doc_rawf(d, "%ld", c->ft);
		if (c->gil)
			doc_rawf(d, "%s%ld with the GIL", c->ft ? " + " : "", c->gil);
		if (c->child)
			doc_rawf(d, "%s%ld in a child process", c->ft || c->gil ? " + " : "",
				 c->child);
		o->cell_end(d);
		o->cell_begin(d);
		for (size_t k = 0; k < c->npkgs; k++) {
			char *count = xasprintf("(%ld)", c->pkg_counts[k]);
			doc_raw(d, k ? ", " : "");
			o->text(d, r->pkgs[c->pkgs[k]].name);
			o->note(d, count);
			free(count);
		}
		o->cell_end(d);
		o->row_end(d);
	}
	o->table_end(d);
	o->section_end(d);
}
