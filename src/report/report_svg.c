/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The HTML report's SVG charts (include/ftscope/report_svg.h): categories, pass-rate
 * distribution, PEP 779 ratios, and the axis arithmetic they share. Drawn as text, no
 * script; every string from the run goes through html_escape().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/report.h"
#include "ftscope/report_svg.h"
#include "ftscope/results.h"

#define PEP_AXIS_CAP 3.0 /* ratios beyond are drawn clipped, with their value */

static void esc(struct sbuf *sb, const char *s)
{
	html_escape(sb, s);
}

/* Trim s to max code points with an ellipsis, escaped. */
static void esc_trunc(struct sbuf *sb, const char *s, size_t max)
{
	size_t i = utf8_prefix(s, max);
	if (!s[i]) {
		esc(sb, s);
		return;
	}
	{
		char *t = xstrndup(s, i);
		esc(sb, t);
		free(t);
	}
	sbuf_adds(sb, "\u2026");
}

double chart_nice_step(double v, int max_ticks)
{
	static const double mult[] = { 1, 2, 2.5, 5, 10 };
	double raw, mag;
	if (!(v > 0) || max_ticks < 1)
		return 1;
	raw = v / max_ticks;
	mag = pow(10, floor(log10(raw)));
	for (size_t i = 0; i < ARRAY_SIZE(mult); i++)
		if (mult[i] * mag >= raw * (1 - 1e-9))
			return mult[i] * mag;
	return 10 * mag;
}

double chart_axis_max(double v, int max_ticks)
{
	double step = chart_nice_step(v, max_ticks);
	if (!(v > 0))
		return step;
	return ceil(v / step * (1 - 1e-9)) * step;
}

double chart_px(double v, double max, double width)
{
	double x;
	if (!(max > 0) || !(v > 0))
		return 0;
	x = v / max * width;
	return x > width ? width : x;
}

/* ---- colours: one per category, shared by badges and charts ---- */

const char *const report_cat_colors[CAT_NR] = {
	[CAT_COMPATIBLE] = "#1a7f37",
	[CAT_COMPATIBLE_BY_WHEEL] = "#2f8f5b",
	[CAT_COMPATIBLE_GIL_FALLBACK] = "#4d9a3a",
	[CAT_TSAN_WARNINGS] = "#b08800",
	[CAT_INTERMITTENT] = "#d4760a",
	[CAT_INCOMPATIBLE] = "#cf222e",
	[CAT_CRASH] = "#a40e26",
	[CAT_DEADLOCK] = "#6639ba",
	[CAT_INSTALL_FAILURE] = "#57606a",
	[CAT_IMPORT_FAILURE] = "#7d4e24",
	[CAT_UNKNOWN] = "#8c959f",
};

static const char *const bucket_colors[REPORT_RATE_BUCKETS] = {
	"#1a7f37", "#4ac26b", "#d4a72c", "#e16f24", "#cf222e", "#8c959f",
};


/* ---- charts ---- */

static void svg_open(struct sbuf *sb, int w, int h, const char *title)
{
	sbuf_addf(sb,
		  "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		  "height=\"%d\" role=\"img\" font-family=\"-apple-system,'Segoe UI','Noto Sans',"
		  "Helvetica,Arial,sans-serif\" font-size=\"12\" fill=\"#1f2328\"><title>",
		  w, h, w, h);
	esc(sb, title);
	sbuf_adds(sb, "</title>\n");
}

void svg_chart_categories(struct sbuf *sb, const struct report *r)
{
	/* every category, in severity order, so the chart has the same shape in every report */
	const int W = 520, label_w = 170, bar_x = 178, bar_w = 250, row = 23, top = 4;
	int y = top;
	svg_open(sb, W, top * 2 + CAT_NR * row, "Packages by category");
	for (int c = 0; c < CAT_NR; c++, y += row) {
		size_t k = r->cat_counts[c];
		double w = chart_px((double)k, (double)r->n, bar_w);
		sbuf_addf(sb, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\"%s>%s</text>", label_w,
			  y + 16, k ? "" : " fill=\"#8c959f\"", category_label(c));
		sbuf_addf(sb, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"14\" rx=\"3\" "
			      "fill=\"#eef1f4\"/>",
			  bar_x, y + 5, bar_w);
		if (k)
			sbuf_addf(sb, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"14\" "
				      "rx=\"3\" fill=\"%s\"/>",
				  bar_x, y + 5, w < 3 ? 3 : w, report_cat_colors[c]);
		sbuf_addf(sb, "<text x=\"%d\" y=\"%d\" font-weight=\"600\"%s>%zu</text>",
			  bar_x + bar_w + 10, y + 16, k ? "" : " fill=\"#8c959f\"", k);
		if (k)
			sbuf_addf(sb, "<text x=\"%d\" y=\"%d\" fill=\"#59636e\">%.0f%%</text>",
				  bar_x + bar_w + 40, y + 16, 100.0 * (double)k / (double)r->n);
		sbuf_addc(sb, '\n');
	}
	sbuf_adds(sb, "</svg>\n");
}

void svg_chart_rate_distribution(struct sbuf *sb, const struct report *r)
{
	const int W = 520, H = 236, left = 40, right = 510, top = 20, bottom = 190;
	const double band = (double)(right - left) / REPORT_RATE_BUCKETS, bw = 46;
	size_t max = 0;
	double axis, step;

	for (int b = 0; b < REPORT_RATE_BUCKETS; b++)
		if (r->rate_buckets[b] > max)
			max = r->rate_buckets[b];
	step = chart_nice_step(max ? (double)max : 1, 4);
	if (step < 1)
		step = 1;
	axis = ceil((max ? (double)max : 1) / step) * step;
	svg_open(sb, W, H, "Packages by free-threaded pass rate");
	for (double t = 0; t <= axis + 1e-9; t += step) {
		double y = bottom - chart_px(t, axis, bottom - top);
		sbuf_addf(sb, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
			      "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#59636e\">%.0f</text>\n",
			  left, right, y, y, t == 0 ? "#8c959f" : "#e3e7eb", left - 6, y + 4, t);
	}
	for (int b = 0; b < REPORT_RATE_BUCKETS; b++) {
		double h = chart_px((double)r->rate_buckets[b], axis, bottom - top);
		double x = left + band * b + (band - bw) / 2, cx = left + band * b + band / 2;
		if (h > 0)
			sbuf_addf(sb, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" "
				      "rx=\"3\" fill=\"%s\"/>",
				  x, bottom - h, bw, h, bucket_colors[b]);
		sbuf_addf(sb, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
			      "font-weight=\"600\">%zu</text>",
			  cx, bottom - h - 6, r->rate_buckets[b]);
		sbuf_addf(sb, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", cx,
			  bottom + 18, report_rate_bucket_label(b));
	}
	sbuf_addf(sb, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#59636e\">"
		      "pass rate without the GIL (packages per bucket)</text>",
		  (left + right) / 2, H - 6);
	sbuf_adds(sb, "</svg>\n");
}

/* One panel of the PEP 779 chart: the time (or rss) ratios of the rows, limit line at
 * `limit`. */
static void pep_panel(struct sbuf *sb, const struct report *r, const size_t *idx, size_t n,
		      bool rss, double limit, double axis, int x0,
		      int width, int top, int row, const char *title)
{
	int bottom = top + (int)n * row;
	double step = chart_nice_step(axis, 5), lx = x0 + chart_px(limit, axis, width);

	sbuf_addf(sb, "<text x=\"%d\" y=\"%d\" font-weight=\"600\">", x0, top - 14);
	esc(sb, title);
	sbuf_adds(sb, "</text>\n");
	for (double t = 0; t <= axis + 1e-9; t += step) {
		double x = x0 + chart_px(t, axis, width);
		sbuf_addf(sb, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\"/>"
			      "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#59636e\">%g</text>\n",
			  x, x, top - 4, bottom, t == 0 ? "#8c959f" : "#e3e7eb", x, bottom + 16, t);
	}
	/* parity (1.0) and the PEP's limit */
	sbuf_addf(sb, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#57606a\"/>\n",
		  x0 + chart_px(1, axis, width), x0 + chart_px(1, axis, width), top - 4, bottom);
	for (size_t i = 0; i < n; i++) {
		const struct rs_pep779 *pep = r->pkgs[idx[i]].pep779;
		double v = !pep ? 0 : rss ? pep->rss_ratio : pep->time_ratio;
		bool ok = pep && (rss ? pep->rss_ok : pep->time_ok) == 1;
		int y = top + (int)i * row + (row - 14) / 2;
		double w = chart_px(v, axis, width);
		if (!(v > 0)) {
			sbuf_addf(sb, "<text x=\"%d\" y=\"%d\" fill=\"#8c959f\">n/a</text>\n", x0 + 4,
				  y + 11);
			continue;
		}
		sbuf_addf(sb, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"14\" rx=\"2\" "
			      "fill=\"%s\"><title>",
			  x0, y, w < 2 ? 2 : w, ok ? REPORT_OK_COLOR : REPORT_OVER_COLOR);
		esc(sb, r->pkgs[idx[i]].name);
		sbuf_addf(sb, ": %.3f</title></rect>", v);
		/* values in a column right of the panel: they never cross the limit line */
		sbuf_addf(sb, "<text x=\"%d\" y=\"%d\" font-weight=\"600\" fill=\"%s\">%s%.2f</text>\n",
			  x0 + width + 8, y + 11, ok ? "#1a7f37" : REPORT_OVER_COLOR,
			  v > axis ? "\u00bb" : "", v);
	}
	sbuf_addf(sb, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" "
		      "stroke-width=\"1.6\" stroke-dasharray=\"5 3\"/>"
		      "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\" "
		      "font-weight=\"600\">limit %.2f</text>\n",
		  lx, lx, top - 4, bottom, REPORT_OVER_COLOR, lx, bottom + 30, REPORT_OVER_COLOR, limit);
}

void svg_chart_pep779(struct sbuf *sb, const struct report *r, const size_t *idx, size_t n)
{
	const int W = 980, label_w = 190, top = 40, row = 24, pw = 330, gap = 60;
	const int x1 = label_w + 14, x2 = x1 + pw + gap;
	double maxv = 1.3, axis;

	for (size_t i = 0; i < n; i++) {
		const struct rs_pep779 *pep = r->pkgs[idx[i]].pep779;
		double t = pep ? pep->time_ratio : 0, m = pep ? pep->rss_ratio : 0;
		maxv = t > maxv ? t : maxv;
		maxv = m > maxv ? m : maxv;
	}
	if (maxv > PEP_AXIS_CAP)
		maxv = PEP_AXIS_CAP;
	axis = chart_axis_max(maxv, 5);
	svg_open(sb, W, top + (int)n * row + 40,
		 "Free-threaded / GIL-enabled ratios of wall time and peak RSS per package, "
		 "against PEP 779's limits");
	for (size_t i = 0; i < n; i++) {
		int y = top + (int)i * row;
		if (i % 2 == 0)
			sbuf_addf(sb, "<rect x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\" "
				      "fill=\"#f6f8fa\"/>",
				  y, W, row);
		sbuf_addf(sb, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", label_w, y + 16);
		esc_trunc(sb, r->pkgs[idx[i]].name, 28);
		sbuf_adds(sb, "<title>");
		esc(sb, r->pkgs[idx[i]].name);
		sbuf_adds(sb, "</title></text>\n");
	}
	pep_panel(sb, r, idx, n, false, PEP779_TIME_LIMIT, axis, x1, pw, top,
		  row, "Wall time, free-threaded / GIL");
	pep_panel(sb, r, idx, n, true, PEP779_RSS_LIMIT, axis, x2, pw, top, row,
		  "Peak RSS, free-threaded / GIL");
	sbuf_adds(sb, "</svg>\n");
}
