/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The HTML report: one self-contained page (inline CSS, SVG charts drawn here, no script,
 * nothing fetched), readable offline and printable. Every string from the run goes through
 * html_escape(): package names, frames, test ids and paths are data, never markup.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/deadlock_story.h"
#include "ftscope/report.h"
#include "ftscope/report_doc.h"
#include "ftscope/report_svg.h"
#include "ftscope/results.h"
#include "ftscope/rundir.h"
#include "ftscope/stress.h"
#include "ftscope/version.h"

#define HTML_MAX_THREADS 16
#define HTML_MAX_DECLS 10

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
	".tid{font-weight:650;font-variant-numeric:tabular-nums}"
	".hang{margin:14px 0 20px;padding:2px 16px 6px;border:1px solid var(--border);"
	"border-left:4px solid #6639ba;border-radius:6px}"
	".cycle{font-size:14px}"
	"footer{margin-top:44px;padding-top:10px;border-top:1px solid var(--border);"
	"color:var(--muted);font-size:12px}"
	"@media print{main{max-width:none;padding:0}nav.toc{display:none}h2{break-after:avoid}"
	"figure,.hang,tr{break-inside:avoid}}";

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

static void rate(struct sbuf *sb, long pass, long n)
{
	report_add_rate(sb, pass, n);
}

static void verdict(struct sbuf *sb, int ok)
{
	if (ok < 0)
		sbuf_adds(sb, "<span class=\"na\">n/a</span>");
	else if (ok)
		sbuf_adds(sb, "<span class=\"ok\">\u2713 within</span>");
	else
		sbuf_adds(sb, "<span class=\"over\">\u2717 over</span>");
}

static void section_open(struct sbuf *sb, const char *id, const char *title)
{
	sbuf_addf(sb, "<section id=\"%s\">\n<h2>%s</h2>\n", id, title);
}


/* ---- sections ---- */

static void header(struct sbuf *sb, const struct report *r)
{
	struct report_kv kv[16];
	size_t n = report_header_rows(r, kv, ARRAY_SIZE(kv));
	char *note = report_partial_note(r);

	sbuf_adds(sb, "<header>\n<div class=\"eyebrow\">ftscope report \u00b7 ");
	esc(sb, r->run_id);
	sbuf_adds(sb, "</div>\n<h1>Free-Threading Compatibility Report");
	sbuf_addf(sb, "<span class=\"pill%s\">%s</span></h1>\n",
		  r->status == REPORT_COMPLETE ? "" : " partial",
		  r->status == REPORT_COMPLETE	  ? "complete"
		  : r->status == REPORT_INTERRUPTED ? "interrupted: partial results"
		  : r->status == REPORT_RUNNING	  ? "in progress: partial results"
						  : "status unknown");
	if (note) {
		sbuf_adds(sb, "<div class=\"banner\"><strong>Partial results.</strong> ");
		esc(sb, note);
		sbuf_adds(sb, "</div>\n");
	}
	sbuf_adds(sb, "<dl class=\"meta\">\n");
	for (size_t i = 0; i < n; i++) {
		sbuf_addf(sb, "<dt>%s</dt><dd>", kv[i].label);
		esc(sb, kv[i].value);
		sbuf_adds(sb, "</dd>\n");
	}
	sbuf_adds(sb, "</dl>\n</header>\n");
	report_kv_free(kv, n);
	free(note);
}

static void toc(struct sbuf *sb, const struct report *r, const bool *present)
{
	static const struct {
		enum report_section s;
		const char *id, *title;
	} items[] = {
		{ SEC_CRASHES, "crashes", "Crashes" },
		{ SEC_DEADLOCKS, "deadlocks", "Deadlocks" },
		{ SEC_INTERMITTENT, "intermittent", "Intermittent" },
		{ SEC_TSAN, "tsan", "TSAN" },
		{ SEC_EXTENSIONS, "extensions", "C extensions" },
		{ SEC_GIL, "gil", "GIL comparison" },
		{ SEC_PEP779, "pep779", "PEP 779 ratios" },
	};
	sbuf_adds(sb, "<nav class=\"toc\"><a href=\"#summary\">Summary</a>");
	for (size_t i = 0; i < ARRAY_SIZE(items); i++)
		if (present[items[i].s] || items[i].s == SEC_GIL || items[i].s == SEC_PEP779)
			sbuf_addf(sb, "<a href=\"#%s\">%s</a>", items[i].id, items[i].title);
	if (r->nclusters)
		sbuf_adds(sb, "<a href=\"#clusters\">Crash clusters</a>");
	sbuf_adds(sb, "<a href=\"#packages\">All packages</a></nav>\n");
}

static void card(struct sbuf *sb, const char *color, const char *value, const char *label)
{
	sbuf_addf(sb, "<div class=\"card\" style=\"border-top-color:%s\"><div class=\"v\">%s</div>"
		      "<div class=\"l\">%s</div></div>\n",
		  color, value, label);
}

static void cards(struct sbuf *sb, const struct report *r)
{
	char v[64];
	size_t usable = 0;
	double gt, gr;
	size_t nt, nr;

	for (int c = 0; c < CAT_NR; c++)
		if (category_is_usable(c))
			usable += r->cat_counts[c];
	sbuf_adds(sb, "<div class=\"cards\">\n");
	snprintf(v, sizeof(v), "%zu", r->n);
	card(sb, "#0969da", v, "packages tested");
	snprintf(v, sizeof(v), "%zu", r->cat_counts[CAT_COMPATIBLE] +
					    r->cat_counts[CAT_COMPATIBLE_GIL_FALLBACK]);
	card(sb, report_cat_colors[CAT_COMPATIBLE], v, "pass every iteration");
	snprintf(v, sizeof(v), "%zu", usable);
	card(sb, report_cat_colors[CAT_INTERMITTENT], v, "usable (pass at least sometimes)");
	snprintf(v, sizeof(v), "%zu", r->cat_counts[CAT_CRASH]);
	card(sb, report_cat_colors[CAT_CRASH], v, "crash");
	snprintf(v, sizeof(v), "%zu", r->cat_counts[CAT_DEADLOCK]);
	card(sb, report_cat_colors[CAT_DEADLOCK], v, "deadlock");
	report_pep779_geomean(r, &gt, &nt, &gr, &nr);
	if (nt) {
		snprintf(v, sizeof(v), "%.2f\u00d7", gt);
		card(sb, gt <= PEP779_TIME_LIMIT ? REPORT_OK_COLOR : REPORT_OVER_COLOR, v,
		     "wall time FT/GIL, geometric mean (limit 1.15)");
	}
	if (nr) {
		snprintf(v, sizeof(v), "%.2f\u00d7", gr);
		card(sb, gr <= PEP779_RSS_LIMIT ? REPORT_OK_COLOR : REPORT_OVER_COLOR, v,
		     "peak RSS FT/GIL, geometric mean (limit 1.20)");
	}
	sbuf_adds(sb, "</div>\n");
}

static void summary(struct sbuf *sb, const struct report *r)
{
	section_open(sb, "summary", "Summary");
	sbuf_adds(sb, "<div class=\"charts\">\n<figure><figcaption>Packages by category"
		      "</figcaption>\n");
	svg_chart_categories(sb, r);
	sbuf_adds(sb, "</figure>\n<figure><figcaption>Pass-rate distribution</figcaption>\n");
	svg_chart_rate_distribution(sb, r);
	sbuf_adds(sb, "</figure>\n</div>\n<div class=\"tables\">\n<table><thead><tr><th>Category"
		      "</th><th class=\"num\">Count</th><th class=\"num\">Percentage</th></tr>"
		      "</thead><tbody>\n");
	for (int c = 0; c < CAT_NR; c++) {
		if (!r->cat_counts[c])
			continue;
		sbuf_addf(sb, "<tr><td><span class=\"dot\" style=\"background:%s\"></span>%s</td>"
			      "<td class=\"num\">%zu</td><td class=\"num\">%.1f%%</td></tr>\n",
			  report_cat_colors[c], category_label(c), r->cat_counts[c],
			  100.0 * (double)r->cat_counts[c] / (double)r->n);
	}
	sbuf_addf(sb, "<tr class=\"total\"><td>Total</td><td class=\"num\">%zu</td><td></td></tr>"
		      "</tbody></table>\n",
		  r->n);
	sbuf_adds(sb, "<table><thead><tr><th>Pass rate (free-threaded)</th><th class=\"num\">"
		      "Packages</th></tr></thead><tbody>\n");
	for (int b = 0; b < REPORT_RATE_BUCKETS; b++)
		sbuf_addf(sb, "<tr><td>%s</td><td class=\"num\">%zu</td></tr>\n",
			  report_rate_bucket_label(b), r->rate_buckets[b]);
	sbuf_adds(sb, "</tbody></table>\n</div>\n</section>\n");
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

static void crashes(struct sbuf *sb, const struct report *r, const size_t *idx, size_t n)
{
	section_open(sb, "crashes", "Packages with crashes");
	sbuf_adds(sb, "<p>The test runner died of a signal: likely thread-safety bugs in C code. "
		      "Frames are innermost first (<code>f</code> \u2190 <code>g</code>: f called "
		      "by g).</p>\n<div class=\"scroll\"><table><thead><tr><th>Package</th><th>"
		      "Pass rate</th><th class=\"num\">Crashes</th><th>Signature id</th><th>Signal"
		      "</th><th>Top frames</th><th>Python frame</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		size_t cl[64], ncl = report_pkg_clusters(r, idx[i], cl, ARRAY_SIZE(cl));
		const struct report_cluster *c = NULL;
		for (size_t k = 0; k < ncl && !c; k++)
			if (r->clusters[cl[k]].ft + r->clusters[cl[k]].gil > 0)
				c = &r->clusters[cl[k]];
		sbuf_adds(sb, "<tr><td>");
		esc(sb, p->name);
		sbuf_adds(sb, "</td><td>");
		rate(sb, p->passes, p->iters);
		sbuf_addf(sb, "</td><td class=\"num\">%ld</td><td>", p->crashes);
		code(sb, c ? c->id : NULL);
		if (ncl > 1)
			sbuf_addf(sb, " <span class=\"note\">+%zu more</span>", ncl - 1);
		sbuf_adds(sb, "</td><td>");
		esc(sb, c && c->parts.signal ? c->parts.signal : "?");
		sbuf_adds(sb, "</td><td class=\"frames\">");
		if (c)
			frames(sb, &c->parts.frames, 3);
		sbuf_adds(sb, "</td><td>");
		code(sb, c ? c->parts.py_frame : NULL);
		sbuf_adds(sb, "</td></tr>\n");
	}
	sbuf_adds(sb, "</tbody></table></div>\n</section>\n");
}

static void hang_detail(struct sbuf *sb, const struct report_pkg *p)
{
	const struct report_hang *h = &p->hang;
	const char *last = h->iter->last_output_line;
	size_t shown = 0;

	sbuf_adds(sb, "<div class=\"hang\">\n<h3>");
	esc(sb, p->name);
	sbuf_addf(sb, "</h3>\n<p>Iteration %ld (<code>PYTHON_GIL=%d</code>): ",
		  h->iter->index, h->gil ? 1 : 0);
	esc(sb, h->reason ? h->reason : "hang");
	sbuf_addf(sb, ", detected %.1f s after the last progress", h->detected_after_s);
	if (last) {
		sbuf_adds(sb, "; last output ");
		code(sb, last);
	}
	sbuf_adds(sb, ".</p>\n");
	if (h->ncycles == 0)
		sbuf_adds(sb, "<p class=\"note\">No wait-for cycle was found (threads may wait on "
			      "something outside the process tree, or on a lock whose owner is "
			      "unknown).</p>\n");
	for (size_t c = 0; c < h->ncycles; c++) {
		const struct rs_cycle *cy = &h->cycles[c];
		sbuf_adds(sb, "<p class=\"cycle\"><strong>Wait-for cycle:</strong> ");
		for (size_t k = 0; k < cy->ntids; k++)
			sbuf_addf(sb, "thread <span class=\"tid\">%ld</span> "
				      "<span class=\"arrow\">\u2192</span> ",
				  cy->tids[k]);
		if (cy->ntids)
			sbuf_addf(sb, "thread <span class=\"tid\">%ld</span>", cy->tids[0]);
		sbuf_addf(sb, " <span class=\"note\">(%s)</span></p>\n",
			  cy->certain
				  ? "certain: owners read from the lock words"
				  : "inferred: a lock's holder deduced from <code>with</code> blocks");
	}
	if (!h->nthreads) {
		sbuf_adds(sb, "<p class=\"note\">No lock-wait snapshot: <code>ftscope deadlocks"
			      "</code> shows what the /proc monitor and faulthandler saw.</p>\n</div>\n");
		return;
	}
	sbuf_addf(sb, "<div class=\"scroll\"><table><thead><tr><th>Thread</th><th>Waits on</th>"
		      "<th>Held by</th><th>Python frames (innermost first%s)</th><th>Native frame"
		      "</th></tr></thead><tbody>\n",
		  h->from_forensics ? "" : ", innermost only");
	for (size_t i = 0; i < h->nthreads && shown < HTML_MAX_THREADS; i++, shown++) {
		const struct report_thread *th = &h->threads[i];
		sbuf_addf(sb, "<tr%s><td><span class=\"tid\">%ld</span> ",
			  th->in_cycle ? " class=\"incycle\"" : "", th->tid);
		if (th->comm)
			code(sb, th->comm);
		sbuf_adds(sb, "</td><td>");
		esc(sb, th->lock ? th->lock : "—");
		sbuf_adds(sb, "</td><td>");
		if (th->owner)
			sbuf_addf(sb, "thread <span class=\"tid\">%ld</span>", th->owner);
		else
			sbuf_adds(sb, "<span class=\"na\">—</span>");
		sbuf_adds(sb, "</td><td class=\"frames\">");
		for (size_t k = 0; k < th->python.n; k++) {
			if (k)
				sbuf_adds(sb, "<br>");
			code(sb, th->python.v[k]);
		}
		if (!th->python.n)
			sbuf_adds(sb, "<span class=\"na\">—</span>");
		sbuf_adds(sb, "</td><td>");
		code(sb, th->native);
		sbuf_adds(sb, "</td></tr>\n");
	}
	sbuf_adds(sb, "</tbody></table></div>\n");
	if (h->nthreads > shown)
		sbuf_addf(sb, "<p class=\"note\">\u2026 and %zu more threads.</p>\n",
			  h->nthreads - shown);
	sbuf_adds(sb, "<p class=\"note\">Highlighted: the threads of the cycle. "
		      "<code>ftscope deadlocks RUN_DIR --package ");
	esc(sb, p->name);
	sbuf_adds(sb, "</code> prints every thread's full native and Python stack.</p>\n</div>\n");
}

/* The anchor of a package's deadlock story: "story-" and its name, with anything but
 * [A-Za-z0-9._-] as '_' (a valid, unescaped id). */
static void story_id(struct sbuf *sb, const char *name)
{
	sbuf_adds(sb, "story-");
	for (const char *c = name ? name : "?"; *c; c++)
		sbuf_addc(sb, (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				      (*c >= '0' && *c <= '9') || strchr("._-", *c) ? *c : '_');
}

/* Preformatted text, escaped line by line (esc turns control characters, '\n' too, into
 * spaces). */
static void esc_lines(struct sbuf *sb, const char *text)
{
	for (const char *l = text, *nl; l && *l; l = nl ? nl + 1 : NULL) {
		char *line;
		nl = strchr(l, '\n');
		line = nl ? xstrndup(l, (size_t)(nl - l)) : xstrdup(l);
		esc(sb, line);
		free(line);
		if (nl)
			sbuf_addc(sb, '\n');
	}
}

/*
 * The package's deadlock story, told by deadlock_story.c as `ftscope deadlocks RUN
 * --package NAME` tells it (cycle, who holds what and where, where each waits), then every
 * thread's stack folded (--full's part): the target of the package's row, in the file.
 */
static void deadlock_story_html(struct sbuf *sb, const struct report_pkg *p)
{
	for (int part = 0; part < 2; part++) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (!f)
			return;
		deadlock_story_pkg(f, p->pkg, false, part ? STORY_STACKS_ONLY : 0,
				   false);
		fclose(f);
		if (!len) { /* no hung iteration: no story, and no link to it */
			free(text);
			return;
		}
		if (!part) {
			sbuf_adds(sb, "<div class=\"hang story\" id=\"");
			story_id(sb, p->name);
			sbuf_adds(sb, "\">\n<h3>Deadlock story: ");
			esc(sb, p->name);
			sbuf_adds(sb, "</h3>\n<pre style=\"overflow-x:auto\">");
		} else {
			sbuf_adds(sb, "<details><summary>Every thread's stack, per iteration</summary>"
				      "<pre style=\"overflow-x:auto\">");
		}
		esc_lines(sb, text);
		sbuf_adds(sb, part ? "</pre></details>\n<p class=\"note\">The same as <code>"
				     "ftscope deadlocks RUN_DIR --package " : "</pre>\n");
		if (part) {
			esc(sb, p->name);
			sbuf_adds(sb, " --full</code>.</p>\n</div>\n");
		}
		free(text);
	}
}

static void deadlocks(struct sbuf *sb, const struct report *r, const size_t *idx, size_t n)
{
	section_open(sb, "deadlocks", "Packages with deadlocks");
	sbuf_adds(sb, "<p>Every thread blocked in an untimed wait and no CPU progress for the "
		      "deadlock window: the hang is caught in seconds and snapshotted before the "
		      "kill.</p>\n<table><thead><tr><th>Package</th><th class=\"num\">Deadlocks"
		      "</th><th class=\"num\">With the GIL</th><th class=\"num\">Detected after"
		      "</th><th>Last output</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		size_t hung;
		free(deadlock_hung_iters(p->pkg, false, &hung));
		sbuf_adds(sb, "<tr><td>");
		if (hung) { /* to its story below */
			sbuf_adds(sb, "<a href=\"#");
			story_id(sb, p->name);
			sbuf_adds(sb, "\">");
		}
		esc(sb, p->name);
		sbuf_addf(sb, "%s</td>", hung ? "</a>" : "");
		sbuf_addf(sb, "<td class=\"num\">%ld/%ld</td><td class=\"num\">", p->deadlocks,
			  p->iters);
		if (p->gil_iters >= 0)
			sbuf_addf(sb, "%ld/%ld", report_gil_deadlocks(p), p->gil_iters);
		else
			sbuf_adds(sb, "<span class=\"na\">—</span>");
		if (p->hang.iter)
			sbuf_addf(sb, "</td><td class=\"num\">%.1f s</td><td>",
				  p->hang.detected_after_s);
		else
			sbuf_adds(sb, "</td><td class=\"num\">—</td><td>");
		code(sb, p->hang.iter ? p->hang.iter->last_output_line : NULL);
		sbuf_adds(sb, "</td></tr>\n");
	}
	sbuf_adds(sb, "</tbody></table>\n");
	for (size_t i = 0; i < n; i++) {
		if (r->pkgs[idx[i]].hang.iter)
			hang_detail(sb, &r->pkgs[idx[i]]);
		deadlock_story_html(sb, &r->pkgs[idx[i]]);
	}
	sbuf_adds(sb, "</section>\n");
}

static void extensions(struct sbuf *sb, const struct report *r, const size_t *idx, size_t n)
{
	section_open(sb, "extensions", "C extension compatibility");
	sbuf_adds(sb, "<p>GIL fallback: an extension module without a <code>Py_mod_gil</code> "
		      "slot made the interpreter re-enable the GIL when imported (seen by the "
		      "import probe or in the iterations' stderr).</p>\n<div class=\"scroll\">"
		      "<table><thead><tr><th>Package</th><th class=\"num\">Extension modules</th>"
		      "<th>GIL fallback</th><th>Source Py_mod_gil</th><th>Source declarations</th>"
		      "<th>Status</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		const struct rs_pkg *pkg = p->pkg;
		const struct rs_ext *ext = &pkg->ext;
		const struct strv *mods = &pkg->gil_fallback_modules;
		int k = 0;
		sbuf_adds(sb, "<tr><td>");
		esc(sb, p->name);
		sbuf_addf(sb, "</td><td class=\"num\">%zu</td><td>", ext->nextensions);
		for (size_t m = 0; m < mods->n; m++) {
			sbuf_adds(sb, k++ ? ", " : "<span class=\"over\">Yes</span>: ");
			code(sb, mods->v[m]);
		}
		if (!k)
			sbuf_adds(sb, ext->gil_fallback_active
					      ? "<span class=\"over\">Yes</span>"
					      : "<span class=\"ok\">No</span>");
		sbuf_addf(sb, "</td><td>%s</td><td class=\"frames\">", report_source_status(pkg));
		k = 0;
		for (size_t j = 0; j < ext->ndecls; j++) {
			const struct rs_decl *e = &ext->decls[j];
			char *loc;
			if (k++ == HTML_MAX_DECLS) {
				sbuf_addf(sb, "<br><span class=\"note\">\u2026 and %d more</span>",
					  (int)ext->ndecls - HTML_MAX_DECLS);
				break;
			}
			loc = xasprintf("%s:%d", e->file ? e->file : "?", e->line_number);
			sbuf_adds(sb, k > 1 ? "<br>" : "");
			code(sb, loc);
			sbuf_adds(sb, " ");
			esc(sb, e->kind ? e->kind : "Py_mod_gil");
			sbuf_addf(sb, " \u2192 %s", e->is_not_used ? "NOT_USED" : "USED");
			free(loc);
		}
		if (!k)
			sbuf_adds(sb, "<span class=\"na\">—</span>");
		sbuf_adds(sb, "</td><td>");
		badge(sb, p->cat);
		sbuf_adds(sb, "</td></tr>\n");
	}
	sbuf_adds(sb, "</tbody></table></div>\n</section>\n");
}

static void pep779(struct sbuf *sb, const struct report *r)
{
	size_t n, *idx = report_section(r, SEC_PEP779, &n), nt, nr;
	double gt, gr;
	section_open(sb, "pep779", "PEP 779 ratios");
	if (!n) {
		sbuf_adds(sb, "<p class=\"note\">Not measured: the ratios need <code>"
			      "--compare-with-gil</code>.</p>\n</section>\n");
		goto out;
	}
	sbuf_addf(sb, "<p>PEP 779 asks the free-threaded build to be at most %.0f%% slower and to "
		      "use at most %.0f%% more memory than the GIL build. Per package: the median "
		      "wall time and the median peak RSS of the <em>passing</em> iterations, "
		      "free-threaded (<code>PYTHON_GIL=0</code>) over GIL-enabled (<code>"
		      "PYTHON_GIL=1</code>). Green bars are within the limit (dashed), red ones "
		      "over it.</p>\n<p class=\"note\">Both modes run on the same free-threaded "
		      "interpreter, so this is the cost of running without the GIL, not of the "
		      "whole free-threaded build; and a test suite (start-up, I/O, sleeps) is not "
		      "a benchmark.</p>\n",
		  (PEP779_TIME_LIMIT - 1) * 100, (PEP779_RSS_LIMIT - 1) * 100);
	{
		/* the chart shows the measured packages (sorted first); the table lists all */
		size_t measured = 0;
		while (measured < n && r->pkgs[idx[measured]].pep779)
			measured++;
		if (measured) {
			sbuf_adds(sb, "<figure><figcaption>Free-threaded / GIL-enabled, per package"
				      "</figcaption>\n");
			svg_chart_pep779(sb, r, idx, measured);
			sbuf_adds(sb, "</figure>\n");
		}
	}
	sbuf_addf(sb, "<div class=\"scroll\"><table><thead><tr><th>Package</th><th "
		      "class=\"num\">Time, FT</th><th class=\"num\">Time, GIL</th><th class=\"num\">"
		      "Time ratio</th><th class=\"c\">\u2264 %.2f</th><th class=\"num\">RSS, FT</th>"
		      "<th class=\"num\">RSS, GIL</th><th class=\"num\">RSS ratio</th><th "
		      "class=\"c\">\u2264 %.2f</th></tr></thead><tbody>\n",
		  PEP779_TIME_LIMIT, PEP779_RSS_LIMIT);
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		const struct rs_pep779 *pep = p->pep779;
		sbuf_adds(sb, "<tr><td>");
		esc(sb, p->name);
		if (!pep) {
			sbuf_adds(sb, "</td><td colspan=\"8\" class=\"na\">not measured: no passing "
				      "iteration in both modes</td></tr>\n");
			continue;
		}
		sbuf_addf(sb, "</td><td class=\"num\">%.2f s</td><td class=\"num\">%.2f s</td>"
			      "<td class=\"num\">",
			  pep->ft_median_s, pep->gil_median_s);
		report_add_ratio(sb, pep->time_ratio);
		sbuf_adds(sb, "</td><td class=\"c\">");
		verdict(sb, pep->time_ok);
		if (pep->rss_ratio > 0) {
			sbuf_adds(sb, "</td><td class=\"num\">");
			report_add_mib(sb, pep->ft_median_rss_kb);
			sbuf_adds(sb, "</td><td class=\"num\">");
			report_add_mib(sb, pep->gil_median_rss_kb);
			sbuf_adds(sb, "</td><td class=\"num\">");
			report_add_ratio(sb, pep->rss_ratio);
		} else {
			sbuf_adds(sb, "</td><td class=\"num na\">n/a</td><td class=\"num na\">n/a</td>"
				      "<td class=\"num na\">n/a");
		}
		sbuf_adds(sb, "</td><td class=\"c\">");
		verdict(sb, pep->rss_ok);
		sbuf_adds(sb, "</td></tr>\n");
	}
	report_pep779_geomean(r, &gt, &nt, &gr, &nr);
	if (nt) {
		sbuf_addf(sb, "<tr class=\"total\"><td>Geometric mean (%zu)</td><td></td><td></td>"
			      "<td class=\"num\">",
			  nt);
		report_add_ratio(sb, gt);
		sbuf_addf(sb, "</td><td class=\"c\">%s</td><td></td><td></td><td class=\"num\">",
			  gt <= PEP779_TIME_LIMIT ? "<span class=\"ok\">\u2713 within</span>"
						  : "<span class=\"over\">\u2717 over</span>");
		if (nr) {
			report_add_ratio(sb, gr);
			sbuf_addf(sb, "</td><td class=\"c\">%s</td></tr>\n",
				  gr <= PEP779_RSS_LIMIT ? "<span class=\"ok\">\u2713 within</span>"
							 : "<span class=\"over\">\u2717 over</span>");
		} else {
			sbuf_adds(sb, "n/a</td><td></td></tr>\n");
		}
	}
	sbuf_adds(sb, "</tbody></table></div>\n</section>\n");
out:
	free(idx);
}

static void all_packages(struct sbuf *sb, const struct report *r)
{
	size_t n, *idx = report_section(r, SEC_ALL, &n);
	section_open(sb, "packages", "All packages");
	sbuf_adds(sb, "<div class=\"scroll\"><table><thead><tr><th>Package</th><th>Category</th>"
		      "<th>Pass rate</th><th class=\"num\">Crashes</th><th class=\"num\">Deadlocks"
		      "</th>");
	if (r->compare_with_gil)
		sbuf_adds(sb, "<th>Pass rate, GIL</th><th class=\"num\">Time ratio</th>"
			      "<th class=\"num\">RSS ratio</th>");
	sbuf_adds(sb, "<th>Priority</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		sbuf_adds(sb, "<tr><td>");
		esc(sb, p->name);
		sbuf_adds(sb, "</td><td>");
		badge(sb, p->cat);
		sbuf_adds(sb, "</td><td>");
		rate(sb, p->passes, p->iters);
		sbuf_addf(sb, "</td><td class=\"num\">%ld</td><td class=\"num\">%ld</td>", p->crashes,
			  p->deadlocks);
		if (r->compare_with_gil) {
			double t = p->pep779 ? p->pep779->time_ratio : 0;
			double m = p->pep779 ? p->pep779->rss_ratio : 0;
			sbuf_adds(sb, "<td>");
			rate(sb, p->gil_passes, p->gil_iters);
			if (t > 0)
				sbuf_addf(sb, "</td><td class=\"num\"><span class=\"%s\">%.3f</span>",
					  t <= PEP779_TIME_LIMIT ? "ok" : "over", t);
			else
				sbuf_adds(sb, "</td><td class=\"num na\">n/a");
			if (m > 0)
				sbuf_addf(sb, "</td><td class=\"num\"><span class=\"%s\">%.3f</span></td>",
					  m <= PEP779_RSS_LIMIT ? "ok" : "over", m);
			else
				sbuf_adds(sb, "</td><td class=\"num na\">n/a</td>");
		}
		if (p->score >= 0) {
			sbuf_addf(sb, "<td><strong>%d</strong> <span class=\"note\">", p->score);
			esc(sb, p->reason);
			sbuf_adds(sb, "</span></td></tr>\n");
		} else {
			sbuf_adds(sb, "<td><span class=\"na\">—</span></td></tr>\n");
		}
	}
	sbuf_adds(sb, "</tbody></table></div>\n</section>\n");
	free(idx);
}

/* Stress iterations (run --parallel-threads), as the markdown's section. */
static void stress(struct sbuf *sb, const struct report *r)
{
	bool any = false;
	for (size_t i = 0; i < r->n && !any; i++)
		any = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r->pkgs[i].pkg->raw, "stress"));
	if (!any)
		return;
	section_open(sb, "stress", "Stress (pytest-run-parallel)");
	sbuf_adds(sb, "<p>Every test body run in N threads at once; tests that fail only there are "
		      "stress findings.</p>\n<table><thead><tr><th>Package</th><th>Category</th>"
		      "<th>Concurrency exercised by</th><th>Stress</th></tr></thead><tbody>\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct report_pkg *p = &r->pkgs[i];
		char *st = stress_summary(p->pkg->raw);
		const char *how = concurrency_how(p->pkg->raw);
		if (!st)
			continue;
		sbuf_adds(sb, "<tr><td>");
		esc(sb, p->name);
		sbuf_adds(sb, "</td><td>");
		badge(sb, p->cat);
		if (json_bool(p->pkg->raw, "stress_only", false))
			sbuf_adds(sb, " <span class=\"note\">stress only</span>");
		sbuf_adds(sb, "</td><td>");
		esc(sb, how ? how : "?");
		sbuf_adds(sb, "</td><td>");
		esc(sb, st);
		sbuf_adds(sb, "</td></tr>\n");
		free(st);
	}
	sbuf_adds(sb, "</tbody></table>\n</section>\n");
}

/* ---- the document backend ---- */

static void html_section_begin(struct doc *d, const char *id, const char *title)
{
	section_open(d->out, id, title);
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

static void html_para_begin(struct doc *d, unsigned flags)
{
	sbuf_adds(d->out, flags & DOC_NOTE ? "<p class=\"note\">" : "<p>");
}

static void html_para_end(struct doc *d)
{
	sbuf_adds(d->out, "</p>\n");
}

static void html_table_begin(struct doc *d, const struct doc_col *cols, size_t n,
			     unsigned flags)
{
	d->cols = cols;
	d->ncols = n;
	d->table_flags = flags;
	if (flags & DOC_SCROLL)
		sbuf_adds(d->out, "<div class=\"scroll\">");
	sbuf_adds(d->out, "<table><thead><tr>");
	for (size_t i = 0; i < n; i++) {
		sbuf_adds(d->out, cols[i].flags & DOC_NUM ? "<th class=\"num\">" : "<th>");
		esc(d->out, cols[i].title);
		sbuf_adds(d->out, "</th>");
	}
	sbuf_adds(d->out, "</tr></thead><tbody>\n");
}

static void html_table_end(struct doc *d)
{
	sbuf_adds(d->out, d->table_flags & DOC_SCROLL ? "</tbody></table></div>\n"
						       : "</tbody></table>\n");
	d->cols = NULL;
	d->ncols = 0;
}

static void html_row_begin(struct doc *d)
{
	d->col = 0;
	sbuf_adds(d->out, "<tr>");
}

static void html_row_end(struct doc *d)
{
	sbuf_adds(d->out, "</tr>\n");
}

static void html_cell_begin(struct doc *d)
{
	unsigned f = d->col < d->ncols ? d->cols[d->col].flags : 0;
	sbuf_adds(d->out, f & DOC_NUM	 ? "<td class=\"num\">"
			  : f & DOC_FRAMES ? "<td class=\"frames\">"
					   : "<td>");
}

static void html_cell_end(struct doc *d)
{
	sbuf_adds(d->out, "</td>");
	d->col++;
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
	sbuf_adds(d->out, "<span class=\"na\">—</span>");
}

static void html_aside(struct doc *d, const char *s)
{
	sbuf_adds(d->out, " <span class=\"note\">");
	esc(d->out, s);
	sbuf_adds(d->out, "</span>");
}

static void html_note(struct doc *d, const char *s)
{
	sbuf_adds(d->out, " <span class=\"note\">");
	esc(d->out, s);
	sbuf_adds(d->out, "</span>");
}

static void html_keyword(struct doc *d, const char *s)
{
	sbuf_adds(d->out, "<code>");
	esc(d->out, s);
	sbuf_adds(d->out, "</code>");
}

static void html_frames(struct doc *d, const struct strv *f, size_t max)
{
	frames(d->out, f, max);
}

static void html_hint(struct doc *d, const char *s)
{
	sbuf_adds(d->out, "<br><span class=\"note\">");
	esc(d->out, s);
	sbuf_adds(d->out, "</span>");
}

const struct doc_ops report_doc_html = {
	.section_begin = html_section_begin,
	.section_end = html_section_end,
	.subhead = html_subhead,
	.para_begin = html_para_begin,
	.para_end = html_para_end,
	.table_begin = html_table_begin,
	.table_end = html_table_end,
	.row_begin = html_row_begin,
	.row_end = html_row_end,
	.cell_begin = html_cell_begin,
	.cell_end = html_cell_end,
	.text = html_text,
	.code = html_code,
	.dash = html_dash,
	.aside = html_aside,
	.hint = html_hint,
	.note = html_note,
	.keyword = html_keyword,
	.frames = html_frames,
};

void report_html(struct sbuf *out, const struct report *r)
{
	struct doc d = { .ops = &report_doc_html, .out = out };
	static const enum report_section listed[] = { SEC_CRASHES, SEC_DEADLOCKS,
						      SEC_INTERMITTENT, SEC_TSAN, SEC_EXTENSIONS };
	size_t *idx[SEC_ALL + 1] = { NULL }, n[SEC_ALL + 1] = { 0 };
	bool present[SEC_ALL + 1] = { false };

	for (size_t i = 0; i < ARRAY_SIZE(listed); i++) {
		idx[listed[i]] = report_section(r, listed[i], &n[listed[i]]);
		present[listed[i]] = n[listed[i]] > 0;
	}
	sbuf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		       "<meta name=\"generator\" content=\"ftscope " FTSCOPE_VERSION "\">\n"
		       "<title>Free-threading compatibility report \u00b7 ");
	esc(out, r->run_id);
	sbuf_addf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n", css);
	header(out, r);
	toc(out, r, present);
	cards(out, r);
	summary(out, r);
	if (present[SEC_CRASHES])
		crashes(out, r, idx[SEC_CRASHES], n[SEC_CRASHES]);
	if (present[SEC_DEADLOCKS])
		deadlocks(out, r, idx[SEC_DEADLOCKS], n[SEC_DEADLOCKS]);
	if (present[SEC_INTERMITTENT])
		report_sec_intermittent(&d, r);
	if (present[SEC_TSAN])
		report_sec_tsan(&d, r);
	stress(out, r);
	if (present[SEC_EXTENSIONS])
		extensions(out, r, idx[SEC_EXTENSIONS], n[SEC_EXTENSIONS]);
	report_sec_gil(&d, r);
	pep779(out, r);
	if (r->nclusters)
		report_sec_clusters(&d, r);
	all_packages(out, r);
	sbuf_adds(out, "<footer>Generated by ftscope " FTSCOPE_VERSION " from run <code>");
	esc(out, r->run_id);
	sbuf_adds(out, "</code>");
	if (r->status != REPORT_COMPLETE) {
		sbuf_adds(out, " on ");
		esc(out, r->generated_at);
	}
	sbuf_adds(out, ". Self-contained: no script, nothing fetched.</footer>\n</main>\n</body>\n"
		       "</html>\n");
	for (size_t i = 0; i < ARRAY_SIZE(idx); i++)
		free(idx[i]);
}
