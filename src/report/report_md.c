/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <stdlib.h>
#include <string.h>

#include "ftscope/report.h"
#include "ftscope/report_doc.h"

/* The markdown backend of the report's document (report_doc.h): GitHub-flavoured markdown,
 * every string from the run escaped (md_text) or in a code span (md_code). */

static bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void md_text(struct sbuf *sb, const char *s)
{
	const char *start = s;
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			sbuf_addc(sb, ' ');
		else if (c == '&')
			sbuf_adds(sb, "&amp;");
		else if (c == '_' && s > start && is_alnum((unsigned char)s[-1]) &&
			 is_alnum((unsigned char)s[1]))
			sbuf_addc(sb, '_'); /* intraword: never emphasis in GFM (snake_case) */
		else if (strchr("\\`*_[]<>|~", c))
			sbuf_addf(sb, "\\%c", c);
		else
			sbuf_addc(sb, (char)c);
	}
}

void md_code(struct sbuf *sb, const char *s)
{
	/* a code span delimited by more backticks than the longest run inside it */
	size_t run = 0, longest = 0, n;
	for (const char *p = s; p && *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	n = longest + 1;
	for (size_t i = 0; i < n; i++)
		sbuf_addc(sb, '`');
	if (longest)
		sbuf_addc(sb, ' ');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			sbuf_addc(sb, ' ');
		else if (c == '|')
			sbuf_adds(sb, "\\|"); /* GFM tables split cells at '|' even in code */
		else
			sbuf_addc(sb, (char)c);
	}
	if (longest)
		sbuf_addc(sb, ' ');
	for (size_t i = 0; i < n; i++)
		sbuf_addc(sb, '`');
}

static void md_code_or_dash(struct sbuf *sb, const char *s)
{
	if (s && *s)
		md_code(sb, s);
	else
		sbuf_adds(sb, "—");
}

/* ---- the document backend ---- */

static void md_head_begin(struct doc *d, const struct doc_head *h)
{
	sbuf_addf(d->out, "# %s\n\n", h->title);
}

static void md_banner(struct doc *d, const char *lead, const char *text)
{
	sbuf_addf(d->out, "> **%s** ", lead);
	md_text(d->out, text);
	sbuf_adds(d->out, "\n\n");
}

static void md_head_row(struct doc *d, const char *label, const char *value)
{
	sbuf_addf(d->out, "- **%s:** ", label);
	md_text(d->out, value);
	sbuf_addc(d->out, '\n');
}

static void md_head_end(struct doc *d)
{
	sbuf_addc(d->out, '\n');
}

static void md_toc(struct doc *d, const struct doc_toc_item *items, size_t n)
{
}

static void md_figures(struct doc *d, const struct doc_figure *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sbuf_addf(d->out, "%s**%s** %s", i ? " \u00b7 " : "", f[i].value, f[i].label);
	if (n)
		sbuf_adds(d->out, "\n\n");
}

static void md_section_begin(struct doc *d, const char *id, const char *title)
{
	sbuf_addf(d->out, "## %s\n\n", title);
}

static void md_nothing(struct doc *d)
{
}

static void md_detail_begin(struct doc *d, const char *id, const char *title)
{
	if (id) /* the place a ref links to (GitHub and most renderers keep the anchor) */
		sbuf_addf(d->out, "<a id=\"%s\"></a>\n\n", id);
	sbuf_adds(d->out, "### ");
	md_text(d->out, title);
	sbuf_adds(d->out, "\n\n");
}

static void md_ref(struct doc *d, const char *id, const char *s)
{
	sbuf_addc(d->out, '[');
	md_text(d->out, s);
	sbuf_addf(d->out, "](#%s)", id);
}

/* A fenced block, its fence longer than any run of backticks in the text; folded: inside
 * <details> (GitHub renders it; elsewhere the title still reads as one). */
static void md_pre(struct doc *d, const char *fold_title, const char *text)
{
	size_t run = 0, longest = 0, len = text ? strlen(text) : 0;
	for (size_t i = 0; i < len; i++) {
		run = text[i] == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	if (fold_title) {
		sbuf_adds(d->out, "<details><summary>");
		html_escape(d->out, fold_title);
		sbuf_adds(d->out, "</summary>\n\n");
	}
	for (size_t i = 0; i < (longest < 3 ? 3 : longest + 1); i++)
		sbuf_addc(d->out, '`');
	sbuf_adds(d->out, "text\n");
	sbuf_add(d->out, text ? text : "", len);
	if (len && text[len - 1] != '\n')
		sbuf_addc(d->out, '\n');
	for (size_t i = 0; i < (longest < 3 ? 3 : longest + 1); i++)
		sbuf_addc(d->out, '`');
	sbuf_adds(d->out, fold_title ? "\n\n</details>\n\n" : "\n\n");
}

static void md_para_begin(struct doc *d, unsigned flags)
{
}

static void md_subhead(struct doc *d, const char *title)
{
	sbuf_addf(d->out, "%s:\n\n", title);
}

static void md_para_end(struct doc *d)
{
	sbuf_adds(d->out, "\n\n");
}

static void md_group_begin(struct doc *d, enum doc_group g)
{
}

static void md_chart(struct doc *d, enum doc_chart c, const struct report *r, const size_t *idx,
		     size_t n, const char *caption, const char *legend)
{
	/* no pictures: the tables beside the charts hold their numbers */
}

static void md_table_begin(struct doc *d, const struct doc_col *cols, size_t n, unsigned flags)
{
	doc_table_cols(d, cols, n, flags);
	sbuf_addc(d->out, '|');
	for (size_t i = 0; i < n; i++)
		sbuf_addf(d->out, " %s |", cols[i].title);
	sbuf_adds(d->out, "\n|");
	/* as wide as the title and its blanks; numbers right-aligned, verdicts centered */
	for (size_t i = 0; i < n; i++) {
		size_t w = 2;
		for (const char *p = cols[i].title; *p; p++)
			w += ((unsigned char)*p & 0xc0) != 0x80; /* code points */
		sbuf_addc(d->out, cols[i].flags & DOC_CENTER ? ':' : '-');
		for (size_t k = 0; k + 2 < w; k++)
			sbuf_addc(d->out, '-');
		sbuf_adds(d->out, cols[i].flags & (DOC_NUM | DOC_CENTER) ? ":|" : "-|");
	}
	sbuf_addc(d->out, '\n');
}

static void md_table_end(struct doc *d)
{
	sbuf_addc(d->out, '\n');
}

static void md_row_begin(struct doc *d, unsigned flags)
{
	d->col = 0;
	sbuf_addc(d->out, '|');
}

static void md_row_end(struct doc *d)
{
	sbuf_addc(d->out, '\n');
}

static void md_cell_begin(struct doc *d)
{
	sbuf_addc(d->out, ' ');
}

static void md_cell_end(struct doc *d)
{
	/* a cell spanning columns: markdown has none, the others stay empty */
	sbuf_adds(d->out, " |");
	for (size_t k = 1; k < d->span; k++)
		sbuf_adds(d->out, " |");
	d->col += d->span > 1 ? d->span : 1;
	d->span = 0;
}

static void md_list_begin(struct doc *d)
{
	if (d->depth++)
		sbuf_addc(d->out, '\n');
}

static void md_list_end(struct doc *d)
{
	if (--d->depth == 0)
		sbuf_addc(d->out, '\n');
}

static void md_item_begin(struct doc *d)
{
	for (int i = 1; i < d->depth; i++)
		sbuf_adds(d->out, "  ");
	sbuf_adds(d->out, "- ");
}

static void md_item_end(struct doc *d)
{
	if (d->out->len && d->out->buf[d->out->len - 1] != '\n')
		sbuf_addc(d->out, '\n');
}

static void md_doc_text(struct doc *d, const char *s)
{
	md_text(d->out, s);
}

static void md_doc_code(struct doc *d, const char *s)
{
	md_code_or_dash(d->out, s);
}

static void md_dash(struct doc *d)
{
	sbuf_adds(d->out, "\u2014");
}

static void md_strong(struct doc *d, const char *s)
{
	sbuf_adds(d->out, "**");
	md_text(d->out, s);
	sbuf_adds(d->out, "**");
}

static void md_emph(struct doc *d, const char *s)
{
	sbuf_addc(d->out, '*');
	md_text(d->out, s);
	sbuf_addc(d->out, '*');
}

static void md_aside(struct doc *d, const char *s)
{
	sbuf_adds(d->out, " (");
	md_text(d->out, s);
	sbuf_addc(d->out, ')');
}

static void md_hint(struct doc *d, const char *s)
{
}

static void md_note(struct doc *d, const char *s)
{
	sbuf_addc(d->out, ' ');
	md_text(d->out, s);
}

static void md_keyword(struct doc *d, const char *s)
{
	md_text(d->out, s);
}

static void md_verdict(struct doc *d, int ok, const char *s)
{
	if (ok == 0)
		md_strong(d, s);
	else
		md_text(d->out, s);
}

static void md_category(struct doc *d, enum ft_category c, bool label)
{
	sbuf_adds(d->out, label ? category_label(c) : category_name(c));
}

static void md_frames(struct doc *d, const struct strv *frames, size_t max)
{
	if (!frames->n) {
		md_dash(d);
		return;
	}
	for (size_t i = 0; i < frames->n && i < max; i++) {
		if (i)
			sbuf_adds(d->out, " \u2190 ");
		md_code(d->out, frames->v[i]);
	}
}

static void md_br(struct doc *d)
{
	sbuf_adds(d->out, "<br>");
}

static void md_foot_begin(struct doc *d)
{
	sbuf_adds(d->out, "---\n\n*");
}

static void md_foot_end(struct doc *d)
{
	sbuf_adds(d->out, "*\n");
}

const struct doc_ops report_doc_md = {
	.head_begin = md_head_begin,
	.banner = md_banner,
	.head_row = md_head_row,
	.head_end = md_head_end,
	.toc = md_toc,
	.figures = md_figures,
	.section_begin = md_section_begin,
	.section_end = md_nothing,
	.subhead = md_subhead,
	.detail_begin = md_detail_begin,
	.ref = md_ref,
	.pre = md_pre,
	.detail_end = md_nothing,
	.para_begin = md_para_begin,
	.para_end = md_para_end,
	.group_begin = md_group_begin,
	.group_end = md_nothing,
	.chart = md_chart,
	.table_begin = md_table_begin,
	.table_end = md_table_end,
	.row_begin = md_row_begin,
	.row_end = md_row_end,
	.cell_begin = md_cell_begin,
	.cell_end = md_cell_end,
	.list_begin = md_list_begin,
	.list_end = md_list_end,
	.item_begin = md_item_begin,
	.item_end = md_item_end,
	.text = md_doc_text,
	.code = md_doc_code,
	.dash = md_dash,
	.strong = md_strong,
	.emph = md_emph,
	.aside = md_aside,
	.note = md_note,
	.keyword = md_keyword,
	.verdict = md_verdict,
	.category = md_category,
	.frames = md_frames,
	.br = md_br,
	.hint = md_hint,
	.foot_begin = md_foot_begin,
	.foot_end = md_foot_end,
};

void report_markdown(struct sbuf *out, const struct report *r)
{
	struct doc d = { .ops = &report_doc_md, .out = out };
	report_walk(&d, r);
}
