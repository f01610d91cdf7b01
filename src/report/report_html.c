/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The HTML report: one self-contained page (inline CSS, SVG charts drawn here, no script,
 * nothing fetched), readable offline and printable: the HTML backend of the report's
 * document (report_doc.h). Every string from the run goes through html_escape(): package
 * names, frames, test ids and paths are data, never markup.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/report.h"
#include "ftscope/report_doc.h"
#include "ftscope/report_svg.h"
#include "ftscope/version.h"

static const char css[] =
	":root{--fg:#1f2328;--muted:#59636e;--border:#d1d9e0;--panel:#f6f8fa;--accent:#0969da}"
	"*{box-sizing:border-box}"
	"body{margin:0;background:#fff;color:var(--fg);font:14px/1.55 -apple-system,"
	"BlinkMacSystemFont,'Segoe UI','Noto Sans',Helvetica,Arial,sans-serif}"
	"main{max-width:1180px;margin:0 auto;padding:28px 28px 56px}"
	"a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}"
	"h1{font-size:26px;line-height:1.25;margin:2px 0 10px}"
	"h2{font-size:19px;margin:40px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--border)}"
	"h3{font-size:15px;margin:22px 0 6px}"
	"p{margin:6px 0 10px}"
	".eyebrow{color:var(--muted);font-size:12px;letter-spacing:.08em;text-transform:uppercase}"
	".pill{display:inline-block;vertical-align:middle;margin-left:10px;padding:2px 10px;"
	"border-radius:999px;font-size:12px;font-weight:600;background:#dafbe1;color:#116329}"
	".pill.partial{background:#fff1c2;color:#7a4d00}"
	".banner{margin:14px 0;padding:10px 14px;border:1px solid #e7c66c;border-left:4px solid "
	"#bf8700;background:#fff8e1;border-radius:6px}"
	"dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:14px 0;"
	"font-size:13px}"
	"dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;word-break:break-word}"
	"nav.toc{margin:16px 0 4px;padding:8px 12px;background:var(--panel);border-radius:6px;"
	"font-size:13px}"
	"nav.toc a{margin-right:14px;white-space:nowrap}"
	".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;"
	"margin:18px 0 6px}"
	".card{border:1px solid var(--border);border-radius:8px;padding:10px 14px;"
	"border-top:4px solid #8c959f}"
	".card .v{font-size:24px;font-weight:650;font-variant-numeric:tabular-nums}"
	".card .l{color:var(--muted);font-size:12px}"
	".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px;"
	"margin:12px 0}"
	"figure{margin:0;padding:12px 14px;border:1px solid var(--border);border-radius:8px;"
	"display:flex;flex-direction:column}"
	"figcaption{font-weight:600;font-size:13px;margin-bottom:6px}"
	"figure svg{display:block;width:100%;height:auto;margin:auto 0}"
	".tables{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px;"
	"align-items:start}"
	".dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:8px}"
	".scroll{overflow-x:auto}"
	"table{border-collapse:collapse;width:100%;margin:8px 0 14px;font-size:13px}"
	"th,td{border:1px solid var(--border);padding:5px 9px;text-align:left;vertical-align:top}"
	"th{background:var(--panel);font-weight:600;white-space:nowrap}"
	"tbody tr:nth-child(even) td{background:#fbfcfd}"
	"td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
	"td.c,th.c{text-align:center}"
	"tr.total td{font-weight:600;background:var(--panel)}"
	"tr.incycle td{background:#fff8e1!important}"
	"code{font:12px/1.45 ui-monospace,SFMono-Regular,'SF Mono',Menlo,Consolas,monospace;"
	"background:#eff2f5;padding:1px 5px;border-radius:4px;word-break:break-word}"
	".frames code{display:inline-block;margin:1px 0}"
	".arrow{color:var(--muted);padding:0 3px}"
	".badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;"
	"font-weight:600;color:#fff;white-space:nowrap}"
	".ok{color:#1a7f37;font-weight:600}.over{color:#cf222e;font-weight:700}"
	".na{color:var(--muted)}.note{color:var(--muted);font-size:13px}"
	".detail{margin:14px 0 20px;padding:2px 16px 6px;border:1px solid var(--border);"
	"border-left:4px solid #6639ba;border-radius:6px}"
	"footer{margin-top:44px;padding-top:10px;border-top:1px solid var(--border);"
	"color:var(--muted);font-size:12px}"
	"@media print{main{max-width:none;padding:0}nav.toc{display:none}h2{break-after:avoid}"
	"figure,.detail,tr{break-inside:avoid}}";

/* ---- small writers ---- */

static void esc(struct sbuf *sb, const char *s)
{
	html_escape(sb, s);
}

static void code(struct sbuf *sb, const char *s)
{
	if (!s || !*s) {
		sbuf_adds(sb, "<span class=\"na\">—</span>");
		return;
	}
	sbuf_adds(sb, "<code>");
	esc(sb, s);
	sbuf_adds(sb, "</code>");
}

static void badge(struct sbuf *sb, enum ft_category c)
{
	sbuf_addf(sb, "<span class=\"badge\" style=\"background:%s\">%s</span>", report_cat_colors[c],
		  category_name(c));
}

static void frames(struct sbuf *sb, const struct strv *f, size_t max)
{
	if (!f->n) {
		sbuf_adds(sb, "<span class=\"na\">—</span>");
		return;
	}
	for (size_t i = 0; i < f->n && i < max; i++) {
		if (i)
			sbuf_adds(sb, "<span class=\"arrow\">\u2190</span>");
		code(sb, f->v[i]);
	}
}

/* ---- the document backend ---- */

static void html_head_begin(struct doc *d, const struct doc_head *h)
{
	struct sbuf *sb = d->out;
	sbuf_adds(sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		      "<meta name=\"generator\" content=\"ftscope " FTSCOPE_VERSION "\">\n<title>");
	esc(sb, h->title);
	sbuf_adds(sb, " \u00b7 ");
	esc(sb, h->run_id);
	sbuf_addf(sb, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n", css);
	sbuf_adds(sb, "<header>\n<div class=\"eyebrow\">ftscope report \u00b7 ");
	esc(sb, h->run_id);
	sbuf_adds(sb, "</div>\n<h1>");
	esc(sb, h->title);
	sbuf_addf(sb, "<span class=\"pill%s\">", h->partial ? " partial" : "");
	esc(sb, h->status);
	sbuf_adds(sb, "</span></h1>\n");
	d->head_rows = false;
}

static void html_banner(struct doc *d, const char *lead, const char *text)
{
	sbuf_adds(d->out, "<div class=\"banner\"><strong>");
	esc(d->out, lead);
	sbuf_adds(d->out, "</strong> ");
	esc(d->out, text);
	sbuf_adds(d->out, "</div>\n");
}

static void html_head_row(struct doc *d, const char *label, const char *value)
{
	if (!d->head_rows)
		sbuf_adds(d->out, "<dl class=\"meta\">\n");
	d->head_rows = true;
	sbuf_adds(d->out, "<dt>");
	esc(d->out, label);
	sbuf_adds(d->out, "</dt><dd>");
	esc(d->out, value);
	sbuf_adds(d->out, "</dd>\n");
}

static void html_head_end(struct doc *d)
{
	sbuf_adds(d->out, d->head_rows ? "</dl>\n</header>\n" : "</header>\n");
}

static void html_toc(struct doc *d, const struct doc_toc_item *items, size_t n)
{
	sbuf_adds(d->out, "<nav class=\"toc\">");
	for (size_t i = 0; i < n; i++) {
		sbuf_addf(d->out, "<a href=\"#%s\">", items[i].id);
		esc(d->out, items[i].title);
		sbuf_adds(d->out, "</a>");
	}
	sbuf_adds(d->out, "</nav>\n");
}

static void html_figures(struct doc *d, const struct doc_figure *f, size_t n)
{
	sbuf_adds(d->out, "<div class=\"cards\">\n");
	for (size_t i = 0; i < n; i++) {
		const char *color = f[i].cat >= 0 ? report_cat_colors[f[i].cat]
				    : f[i].ok == 1 ? REPORT_OK_COLOR
				    : f[i].ok == 0 ? REPORT_OVER_COLOR
						   : "#0969da";
		sbuf_addf(d->out, "<div class=\"card\" style=\"border-top-color:%s\"><div "
				  "class=\"v\">", color);
		esc(d->out, f[i].value);
		sbuf_adds(d->out, "</div><div class=\"l\">");
		esc(d->out, f[i].label);
		sbuf_adds(d->out, "</div></div>\n");
	}
	sbuf_adds(d->out, "</div>\n");
}

static void html_section_begin(struct doc *d, const char *id, const char *title)
{
	sbuf_addf(d->out, "<section id=\"%s\">\n<h2>", id);
	esc(d->out, title);
	sbuf_adds(d->out, "</h2>\n");
}

static void html_section_end(struct doc *d)
{
	sbuf_adds(d->out, "</section>\n");
}

static void html_subhead(struct doc *d, const char *title)
{
	sbuf_adds(d->out, "<h3>");
	esc(d->out, title);
	sbuf_adds(d->out, "</h3>\n");
}

static void html_detail_begin(struct doc *d, const char *id, const char *title)
{
	sbuf_adds(d->out, "<div class=\"detail\"");
	if (id) {
		sbuf_adds(d->out, " id=\"");
		esc(d->out, id);
		sbuf_adds(d->out, "\"");
	}
	sbuf_adds(d->out, ">\n<h3>");
	esc(d->out, title);
	sbuf_adds(d->out, "</h3>\n");
}

static void html_ref(struct doc *d, const char *id, const char *s)
{
	sbuf_adds(d->out, "<a href=\"#");
	esc(d->out, id);
	sbuf_adds(d->out, "\">");
	esc(d->out, s);
	sbuf_adds(d->out, "</a>");
}

/* Line by line: html_escape makes a newline a space. */
static void html_pre(struct doc *d, const char *fold_title, const char *text)
{
	if (fold_title) {
		sbuf_adds(d->out, "<details><summary>");
		esc(d->out, fold_title);
		sbuf_adds(d->out, "</summary>");
	}
	sbuf_adds(d->out, "<pre style=\"overflow-x:auto\">");
	for (const char *l = text, *nl; l && *l; l = nl ? nl + 1 : NULL) {
		char *line;
		nl = strchr(l, '\n');
		line = nl ? xstrndup(l, (size_t)(nl - l)) : xstrdup(l);
		esc(d->out, line);
		free(line);
		if (nl)
			sbuf_addc(d->out, '\n');
	}
	sbuf_adds(d->out, fold_title ? "</pre></details>\n" : "</pre>\n");
}

static void html_div_end(struct doc *d)
{
	sbuf_adds(d->out, "</div>\n");
}

static void html_para_begin(struct doc *d, unsigned flags)
{
	sbuf_adds(d->out, flags & DOC_NOTE ? "<p class=\"note\">" : "<p>");
}

static void html_para_end(struct doc *d)
{
	sbuf_adds(d->out, "</p>\n");
}

static void html_group_begin(struct doc *d, enum doc_group g)
{
	sbuf_adds(d->out, g == DOC_GROUP_CHARTS ? "<div class=\"charts\">\n"
						 : "<div class=\"tables\">\n");
}

static void html_chart(struct doc *d, enum doc_chart c, const struct report *r,
		       const size_t *idx, size_t n, const char *caption, const char *legend)
{
	sbuf_adds(d->out, "<figure><figcaption>");
	esc(d->out, caption);
	sbuf_adds(d->out, "</figcaption>\n");
	switch (c) {
	case DOC_CHART_CATEGORIES:
		svg_chart_categories(d->out, r);
		break;
	case DOC_CHART_RATES:
		svg_chart_rate_distribution(d->out, r);
		break;
	case DOC_CHART_PEP779:
		svg_chart_pep779(d->out, r, idx, n);
		break;
	}
	if (legend) {
		sbuf_adds(d->out, "<p class=\"note\">");
		esc(d->out, legend);
		sbuf_adds(d->out, "</p>\n");
	}
	sbuf_adds(d->out, "</figure>\n");
}

static void html_table_begin(struct doc *d, const struct doc_col *cols, size_t n,
			     unsigned flags)
{
	doc_table_cols(d, cols, n, flags);
	if (flags & DOC_SCROLL)
		sbuf_adds(d->out, "<div class=\"scroll\">");
	sbuf_adds(d->out, "<table><thead><tr>");
	for (size_t i = 0; i < n; i++) {
		sbuf_adds(d->out, cols[i].flags & DOC_NUM	 ? "<th class=\"num\">"
				  : cols[i].flags & DOC_CENTER ? "<th class=\"c\">"
							       : "<th>");
		esc(d->out, cols[i].title);
		sbuf_adds(d->out, "</th>");
	}
	sbuf_adds(d->out, "</tr></thead><tbody>\n");
}

static void html_table_end(struct doc *d)
{
	sbuf_adds(d->out, d->table_flags & DOC_SCROLL ? "</tbody></table></div>\n"
						       : "</tbody></table>\n");
	d->ncols = 0;
}

static void html_row_begin(struct doc *d, unsigned flags)
{
	d->col = 0;
	sbuf_adds(d->out, flags & DOC_ROW_TOTAL ? "<tr class=\"total\">"
			  : flags & DOC_ROW_MARK ? "<tr class=\"incycle\">"
						 : "<tr>");
}

static void html_row_end(struct doc *d)
{
	sbuf_adds(d->out, "</tr>\n");
}

static void html_cell_begin(struct doc *d)
{
	unsigned f = d->span > 1 ? 0 : doc_col_flags(d);
	sbuf_adds(d->out, "<td");
	if (d->span > 1)
		sbuf_addf(d->out, " colspan=\"%zu\"", d->span);
	sbuf_adds(d->out, f & DOC_NUM	   ? " class=\"num\">"
			  : f & DOC_FRAMES ? " class=\"frames\">"
			  : f & DOC_CENTER ? " class=\"c\">"
					   : ">");
}

static void html_cell_end(struct doc *d)
{
	sbuf_adds(d->out, "</td>");
	d->col += d->span > 1 ? d->span : 1;
	d->span = 0;
}

static void html_list_begin(struct doc *d)
{
	d->depth++;
	sbuf_adds(d->out, "<ul>\n");
}

static void html_list_end(struct doc *d)
{
	d->depth--;
	sbuf_adds(d->out, "</ul>\n");
}

static void html_item_begin(struct doc *d)
{
	sbuf_adds(d->out, "<li>");
}

static void html_item_end(struct doc *d)
{
	sbuf_adds(d->out, "</li>\n");
}

static void html_text(struct doc *d, const char *s)
{
	esc(d->out, s);
}

static void html_code(struct doc *d, const char *s)
{
	code(d->out, s);
}

static void html_dash(struct doc *d)
{
	sbuf_adds(d->out, "<span class=\"na\">\u2014</span>");
}

static void html_wrap(struct doc *d, const char *open, const char *s, const char *close)
{
	sbuf_adds(d->out, open);
	esc(d->out, s);
	sbuf_adds(d->out, close);
}

static void html_strong(struct doc *d, const char *s)
{
	html_wrap(d, "<strong>", s, "</strong>");
}

static void html_emph(struct doc *d, const char *s)
{
	html_wrap(d, "<em>", s, "</em>");
}

static void html_note(struct doc *d, const char *s)
{
	html_wrap(d, " <span class=\"note\">", s, "</span>");
}

static void html_keyword(struct doc *d, const char *s)
{
	html_wrap(d, "<code>", s, "</code>");
}

static void html_verdict(struct doc *d, int ok, const char *s)
{
	html_wrap(d, ok < 0 ? "<span class=\"na\">" : ok ? "<span class=\"ok\">"
							 : "<span class=\"over\">",
		  s, "</span>");
}

static void html_category(struct doc *d, enum ft_category c, bool label)
{
	if (label)
		sbuf_addf(d->out, "<span class=\"dot\" style=\"background:%s\"></span>%s",
			  report_cat_colors[c], category_label(c));
	else
		badge(d->out, c);
}

static void html_frames(struct doc *d, const struct strv *f, size_t max)
{
	frames(d->out, f, max);
}

static void html_br(struct doc *d)
{
	sbuf_adds(d->out, "<br>");
}

static void html_hint(struct doc *d, const char *s)
{
	html_wrap(d, "<br><span class=\"note\">", s, "</span>");
}

static void html_foot_begin(struct doc *d)
{
	sbuf_adds(d->out, "<footer>");
}

static void html_foot_end(struct doc *d)
{
	sbuf_adds(d->out, " Self-contained: no script, nothing fetched.</footer>\n</main>\n"
			  "</body>\n</html>\n");
}

const struct doc_ops report_doc_html = {
	.head_begin = html_head_begin,
	.banner = html_banner,
	.head_row = html_head_row,
	.head_end = html_head_end,
	.toc = html_toc,
	.figures = html_figures,
	.section_begin = html_section_begin,
	.section_end = html_section_end,
	.subhead = html_subhead,
	.detail_begin = html_detail_begin,
	.ref = html_ref,
	.pre = html_pre,
	.detail_end = html_div_end,
	.para_begin = html_para_begin,
	.para_end = html_para_end,
	.group_begin = html_group_begin,
	.group_end = html_div_end,
	.chart = html_chart,
	.table_begin = html_table_begin,
	.table_end = html_table_end,
	.row_begin = html_row_begin,
	.row_end = html_row_end,
	.cell_begin = html_cell_begin,
	.cell_end = html_cell_end,
	.list_begin = html_list_begin,
	.list_end = html_list_end,
	.item_begin = html_item_begin,
	.item_end = html_item_end,
	.text = html_text,
	.code = html_code,
	.dash = html_dash,
	.strong = html_strong,
	.emph = html_emph,
	.aside = html_note,
	.note = html_note,
	.keyword = html_keyword,
	.verdict = html_verdict,
	.category = html_category,
	.frames = html_frames,
	.br = html_br,
	.hint = html_hint,
	.foot_begin = html_foot_begin,
	.foot_end = html_foot_end,
};

void report_html(struct sbuf *out, const struct report *r)
{
	struct doc d = { .ops = &report_doc_html, .out = out };
	report_walk(&d, r);
}
