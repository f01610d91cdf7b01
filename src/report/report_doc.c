/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* The document interface's shared pieces (report_doc.h): raw text, the columns of a
 * table, and the cells and paragraphs every section writes. */
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

void doc_table_cols(struct doc *d, const struct doc_col *cols, size_t n, unsigned flags)
{
	d->ncols = n < DOC_MAX_COLS ? n : DOC_MAX_COLS;
	for (size_t i = 0; i < d->ncols; i++)
		d->colflags[i] = cols[i].flags;
	d->table_flags = flags;
	d->col = 0;
}

unsigned doc_col_flags(const struct doc *d)
{
	return d->col < d->ncols ? d->colflags[d->col] : 0;
}

/* ---- cells ---- */

void doc_cell_rate(struct doc *d, long pass, long n)
{
	d->ops->cell_begin(d);
	report_add_rate(d->out, pass, n);
	d->ops->cell_end(d);
}

/* A cell of escaped text (a package name, a kind). */
void doc_cell_text(struct doc *d, const char *s)
{
	d->ops->cell_begin(d);
	d->ops->text(d, s);
	d->ops->cell_end(d);
}

/* A cell holding a code span (or a dash). */
void doc_cell_code(struct doc *d, const char *s)
{
	d->ops->cell_begin(d);
	d->ops->code(d, s);
	d->ops->cell_end(d);
}

void doc_cell_rawf(struct doc *d, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	d->ops->cell_begin(d);
	if (s)
		sbuf_adds(d->out, s);
	d->ops->cell_end(d);
	free(s);
}

void doc_cell_empty(struct doc *d)
{
	d->ops->cell_begin(d);
	d->ops->cell_end(d);
}

void doc_cell_dash(struct doc *d)
{
	d->ops->cell_begin(d);
	d->ops->dash(d);
	d->ops->cell_end(d);
}

/* A ratio with its verdict: within a limit or over it. */
void doc_cell_ratio(struct doc *d, double ratio, double limit)
{
	char v[32];
	d->ops->cell_begin(d);
	if (ratio > 0) {
		snprintf(v, sizeof(v), "%.3f", ratio);
		d->ops->verdict(d, ratio <= limit, v);
	} else {
		d->ops->verdict(d, -1, "n/a");
	}
	d->ops->cell_end(d);
}

/* PEP 779's verdict of a ratio: 1 within the limit, 0 over it, -1 not measured. */
void doc_cell_pep_verdict(struct doc *d, int ok)
{
	d->ops->cell_begin(d);
	d->ops->verdict(d, ok, ok < 0 ? "n/a" : ok ? "\u2713 within" : "\u2717 over");
	d->ops->cell_end(d);
}

void doc_para(struct doc *d, unsigned flags, const char *prose)
{
	d->ops->para_begin(d, flags);
	doc_raw(d, prose);
	d->ops->para_end(d);
}

