/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_REPORT_DOC_H
#define FTSCOPE_REPORT_DOC_H

/*
 * The report as a stream of document events: every section is written once
 * (src/report/report_sections.c, the walker), and each format is a backend that lays the events
 * out: markdown (report_md.c: report_doc_md) and HTML (report_html.c: report_doc_html).
 * A backend decides how things look, never what is said: the words, numbers and order
 * come from the walker, the same for every format.
 *
 *	head     the title, the run's status, a partial-results banner, label/value rows
 *	toc      the sections present (a navigation aid: formats without links skip it)
 *	figures  a few key numbers ("5 packages tested", ...)
 *	section  heading and its end            para     a paragraph of inline content
 *	subhead  a heading inside a section     detail   a titled block inside a section
 *	                                                 (with an id: a place `ref` links to)
 *	pre      preformatted text (a tool's own output, as is), optionally folded under a title
 *	table    columns, then rows of cells    list     items, which may hold a list
 *	group    tables or charts meant side by side (a layout hint)
 *	chart    a picture of a table's numbers (formats without pictures skip it)
 *	inline   text (escaped), code (a code span; empty: a dash), dash, raw (format-
 *	         neutral: numbers, separators, the report's own prose), strong, emph, aside
 *	         ("failed 2×": parenthesized where the format has no other way to set it off),
 *	         note (a remark after a value, as is), keyword (a verdict name), verdict (a
 *	         value judged good, bad or not applicable), category, frames (innermost first,
 *	         "f ← g"), br (a line break inside a cell), hint (an explanation only a roomy
 *	         format shows), ref (text linked to a detail's id in the same document)
 *	foot     the closing line
 *
 * Adding a format: one new backend (a `struct doc_ops` table) and its entry where the
 * format is chosen (cmd_report.c). Adding a section: one function writing its body (in
 * report_sections.c, or report_failures.c for a failure) and one line in report_sections.c's
 * `sections[]` table (anchor id, heading, short title, presence): its heading, its place
 * in the table of contents and in every format follow.
 */
#include <stdbool.h>
#include <stddef.h>

#include "ftscope/category.h"
#include "ftscope/util.h"

/* column flags: numbers (right-aligned); stack frames; centered (a verdict) */
enum { DOC_NUM = 1, DOC_FRAMES = 2, DOC_CENTER = 4 };
#define DOC_MAX_COLS 16
enum { DOC_SCROLL = 1 };      /* table: a wide one (may scroll horizontally) */
enum { DOC_NOTE = 1 };        /* paragraph: a remark (not measured, ...) */
enum { DOC_ROW_TOTAL = 1, DOC_ROW_MARK = 2 }; /* row: a total; a highlighted one */
enum doc_group { DOC_GROUP_CHARTS, DOC_GROUP_TABLES };
enum doc_chart { DOC_CHART_CATEGORIES, DOC_CHART_RATES, DOC_CHART_PEP779 };

struct doc_col {
	const char *title;
	unsigned flags;               /* DOC_NUM, DOC_FRAMES, DOC_CENTER */
};

/* The document's head. */
struct doc_head {
	const char *title, *run_id;
	const char *status;           /* "complete", "interrupted: partial results", ... */
	bool partial;
};

/* A key number: value, what it counts, and its tone (a category's, or judged). */
struct doc_figure {
	char value[32];
	const char *label;
	int cat;                      /* a category's colour, or -1 */
	int ok;                       /* -1: neutral; 1 within a limit; 0 over it */
};

struct doc_toc_item {
	const char *id, *title;
};

struct doc;
struct report;

struct doc_ops {
	void (*head_begin)(struct doc *d, const struct doc_head *h);
	void (*banner)(struct doc *d, const char *lead, const char *text);
	void (*head_row)(struct doc *d, const char *label, const char *value);
	void (*head_end)(struct doc *d);
	void (*toc)(struct doc *d, const struct doc_toc_item *items, size_t n);
	void (*figures)(struct doc *d, const struct doc_figure *f, size_t n);
	void (*section_begin)(struct doc *d, const char *id, const char *title);
	void (*section_end)(struct doc *d);
	void (*subhead)(struct doc *d, const char *title);
	void (*detail_begin)(struct doc *d, const char *id, const char *title); /* id: or NULL */
	void (*detail_end)(struct doc *d);
	void (*para_begin)(struct doc *d, unsigned flags);
	void (*para_end)(struct doc *d);
	void (*group_begin)(struct doc *d, enum doc_group g);
	void (*group_end)(struct doc *d);
	void (*chart)(struct doc *d, enum doc_chart c, const struct report *r, const size_t *idx,
		      size_t n, const char *caption, const char *legend);
	void (*table_begin)(struct doc *d, const struct doc_col *cols, size_t n, unsigned flags);
	void (*table_end)(struct doc *d);
	void (*row_begin)(struct doc *d, unsigned flags);
	void (*row_end)(struct doc *d);
	void (*cell_begin)(struct doc *d);
	void (*cell_end)(struct doc *d);
	void (*list_begin)(struct doc *d);
	void (*list_end)(struct doc *d);
	void (*item_begin)(struct doc *d);
	void (*item_end)(struct doc *d);
	void (*text)(struct doc *d, const char *s);
	void (*code)(struct doc *d, const char *s);
	void (*dash)(struct doc *d);
	void (*strong)(struct doc *d, const char *s);
	void (*emph)(struct doc *d, const char *s);
	void (*aside)(struct doc *d, const char *s);
	void (*note)(struct doc *d, const char *s);
	void (*keyword)(struct doc *d, const char *s);
	void (*verdict)(struct doc *d, int ok, const char *s);
	void (*category)(struct doc *d, enum ft_category c, bool label);
	void (*frames)(struct doc *d, const struct strv *frames, size_t max);
	void (*br)(struct doc *d);
	void (*ref)(struct doc *d, const char *id, const char *s);
	void (*pre)(struct doc *d, const char *fold_title, const char *text); /* title: folded */
	void (*hint)(struct doc *d, const char *s);
	void (*foot_begin)(struct doc *d);
	void (*foot_end)(struct doc *d);
};

struct doc {
	const struct doc_ops *ops;
	struct sbuf *out;
	/* the table being written (backends' state: doc_table_cols) */
	unsigned colflags[DOC_MAX_COLS];
	size_t ncols, col;
	unsigned table_flags;
	size_t span;                  /* the next cell spans this many columns (0, 1: one) */
	int depth;                    /* lists open */
	bool head_rows;               /* head_row has begun the rows */
};

extern const struct doc_ops report_doc_md;   /* report_md.c */
extern const struct doc_ops report_doc_html; /* report_html.c */

/* Format-neutral text (numbers, separators), as is. */
void doc_raw(struct doc *d, const char *s);
void doc_rawf(struct doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* For backends: keep the columns' flags of a table (the titles need not outlive it). */
void doc_table_cols(struct doc *d, const struct doc_col *cols, size_t n, unsigned flags);
/* The flags of the current cell's column. */
unsigned doc_col_flags(const struct doc *d);

/* The whole report, section by section, through d's backend (report_sections.c). */
void report_walk(struct doc *d, const struct report *r);

/* ---- for the sections' files (report_doc.c) ---- */

/* Cells: a rate "1/3 (33%)", escaped text, a code span (or a dash), formatted raw text,
 * nothing, a dash, a ratio judged against a limit ("%.3f"), PEP 779's verdict (1 within,
 * 0 over, -1 n/a). */
void doc_cell_rate(struct doc *d, long pass, long n);
void doc_cell_text(struct doc *d, const char *s);
void doc_cell_code(struct doc *d, const char *s);
void doc_cell_rawf(struct doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void doc_cell_empty(struct doc *d);
void doc_cell_dash(struct doc *d);
void doc_cell_ratio(struct doc *d, double ratio, double limit);
void doc_cell_pep_verdict(struct doc *d, int ok);
/* A paragraph of the report's own prose. */
void doc_para(struct doc *d, unsigned flags, const char *prose);

/* The failure sections' bodies (report_failures.c). */
void report_sec_crashes(struct doc *d, const struct report *r);
void report_sec_deadlocks(struct doc *d, const struct report *r);
void report_sec_intermittent(struct doc *d, const struct report *r);
void report_sec_tsan(struct doc *d, const struct report *r);
void report_sec_clusters(struct doc *d, const struct report *r);

#endif
