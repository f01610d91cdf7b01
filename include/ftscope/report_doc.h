/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_REPORT_DOC_H
#define FTSCOPE_REPORT_DOC_H

/*
 * The report as a stream of document events, so a section is written once
 * (src/report/report_sections.c) and each format is a backend that lays the events out:
 * markdown (report_md.c: report_doc_md) and HTML (report_html.c: report_doc_html).
 *
 *	section  heading and its end            para     a paragraph of inline content
 *	subhead  a heading inside a section     table    columns, then rows of cells
 *	inline   text (escaped), code (a code span; empty: a dash), dash, raw (format-
 *	         neutral: numbers, separators, the report's own prose), aside ("failed 2×",
 *	         parenthesized where the format has no other way to set it off), note ("(3)":
 *	         a remark, as is), keyword (a verdict name: a code span where fonts are
 *	         cheap), frames (innermost first, "f ← g"), hint (an explanation only a roomy
 *	         format shows)
 *
 * Adding a format: one new backend (a `struct doc_ops` table) and its entry where the
 * format is chosen (cmd_report.c). Adding a section: one function in report_sections.c.
 */
#include <stdbool.h>
#include <stddef.h>

#include "ftscope/util.h"

enum { DOC_NUM = 1, DOC_FRAMES = 2 }; /* column: numbers (right-aligned); stack frames */
enum { DOC_SCROLL = 1 };      /* table: a wide one (may scroll horizontally) */
enum { DOC_NOTE = 1 };        /* paragraph: a remark (not measured, ...) */

struct doc_col {
	const char *title;
	unsigned flags;               /* DOC_NUM */
};

struct doc;

struct doc_ops {
	void (*section_begin)(struct doc *d, const char *id, const char *title);
	void (*section_end)(struct doc *d);
	void (*subhead)(struct doc *d, const char *title);
	void (*para_begin)(struct doc *d, unsigned flags);
	void (*para_end)(struct doc *d);
	void (*table_begin)(struct doc *d, const struct doc_col *cols, size_t n, unsigned flags);
	void (*table_end)(struct doc *d);
	void (*row_begin)(struct doc *d);
	void (*row_end)(struct doc *d);
	void (*cell_begin)(struct doc *d);
	void (*cell_end)(struct doc *d);
	void (*text)(struct doc *d, const char *s);
	void (*code)(struct doc *d, const char *s);
	void (*dash)(struct doc *d);
	void (*aside)(struct doc *d, const char *s);
	void (*note)(struct doc *d, const char *s);
	void (*keyword)(struct doc *d, const char *s);
	void (*frames)(struct doc *d, const struct strv *frames, size_t max);
	void (*hint)(struct doc *d, const char *s);
};

struct doc {
	const struct doc_ops *ops;
	struct sbuf *out;
	/* the table being written (backends' state) */
	const struct doc_col *cols;
	size_t ncols, col;
	unsigned table_flags;
};

extern const struct doc_ops report_doc_md;   /* report_md.c */
extern const struct doc_ops report_doc_html; /* report_html.c */

/* Format-neutral text (numbers, separators), as is. */
void doc_raw(struct doc *d, const char *s);
void doc_rawf(struct doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct report;
/* The sections written once for every format (report_sections.c); each writes nothing
 * when it has no package to list. */
void report_sec_intermittent(struct doc *d, const struct report *r);
void report_sec_tsan(struct doc *d, const struct report *r);
void report_sec_gil(struct doc *d, const struct report *r);
void report_sec_clusters(struct doc *d, const struct report *r);

#endif
