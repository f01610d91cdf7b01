/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/report.h"
#include "ftscope/stress.h"

/* labeille's text report: summary, package table, investigation priority (display.py). */
#define TRIAGE_MAX 20

size_t utf8_prefix(const char *s, size_t max)
{
	size_t i = 0, cps = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (cps++ == max)
			break;
	}
	return i;
}

void text_cell(struct sbuf *sb, const char *s, size_t max, int width)
{
	size_t n = utf8_prefix(s, max), cps = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c & 0xc0) != 0x80)
			cps++;
		sbuf_addc(sb, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
	for (; (int)cps < width; cps++)
		sbuf_addc(sb, ' ');
}

static void rule(struct sbuf *sb, bool utf8, const char *ascii, size_t n)
{
	text_rule(sb, utf8, ascii, n);
	sbuf_addc(sb, '\n');
}

/* "vs default build: time 1.07x, RSS 1.02x" (pep779_baseline). malloc'd. */
static char *baseline_ratios(const struct rs_pep779 *b)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_adds(&sb, "vs default build: time ");
	if (b->time_ratio > 0)
		sbuf_addf(&sb, "%.2f\u00d7", b->time_ratio);
	else
		sbuf_adds(&sb, "n/a");
	if (b->rss_ratio > 0)
		sbuf_addf(&sb, ", RSS %.2f\u00d7", b->rss_ratio);
	return sbuf_detach(&sb);
}

static const char *gil_fallback_module(const struct rs_pkg *pkg)
{
	if (pkg->gil_fallback_modules.n)
		return pkg->gil_fallback_modules.v[0];
	if (pkg->ext.gil_fallback_module)
		return pkg->ext.gil_fallback_module;
	if (pkg->ext.gil_fallback_active)
		return "?";
	return NULL;
}

static void add_count(struct strv *parts, long n, const char *what)
{
	if (n > 0)
		strv_push_owned(parts, xasprintf("%ld %s%s", n, what, n == 1 ? "" : "s"));
}

char *text_pkg_details(const struct rs_pkg *pkg)
{
	struct strv parts = STRV_INIT;
	struct sbuf joined = SBUF_INIT;
	const char *sig = pkg->failure_signatures.n ? pkg->failure_signatures.v[0] : NULL;
	const char *tsan = pkg->tsan_warning_types.n ? pkg->tsan_warning_types.v[0] : NULL;
	const char *gil = gil_fallback_module(pkg);
	const char *cmp = pkg->gil_comparison;
	long deadlocks = pkg->deadlocks;
	long timeouts = pkg->timeouts - deadlocks; /* timeout_count has both */
	/* stalls (hangs that are not proven deadlocks) have status timeout: named apart */
	long stalls = pkg->stalls;
	char *stress;

	if (pkg->interrupted)
		strv_push(&parts, "interrupted");
	if (sig)
		strv_push_owned(&parts, xstrndup(sig, utf8_prefix(sig, 30)));
	add_count(&parts, (long)pkg->nflaky_any, "flaky test");
	if (tsan)
		strv_push_owned(&parts, xasprintf("TSAN: %s", tsan));
	if (stalls > timeouts)
		stalls = timeouts;
	add_count(&parts, deadlocks, "deadlock");
	add_count(&parts, stalls, "stall");
	add_count(&parts, timeouts - stalls, "timeout");
	if (!pkg->install_ok)
		strv_push(&parts, "install failed");
	if (!pkg->import_ok)
		strv_push(&parts, "import failed");
	if (gil)
		strv_push_owned(&parts, xasprintf("GIL fallback: %s", gil));
	if (cmp)
		strv_push_owned(&parts, xasprintf("vs GIL: %s", cmp));
	if (pkg->has_pep779_baseline) /* --baseline-python: PEP 779's two builds */
		strv_push_owned(&parts, baseline_ratios(&pkg->pep779_baseline));
	if ((stress = stress_summary(pkg->raw)))
		strv_push_owned(&parts, stress);
	/* A pass proves little when the suite never ran two threads at once: say how. */
	if (pkg->concurrency_exercised == 0)
		strv_push(&parts, "no concurrency exercised");
	else if (concurrency_how(pkg->raw) && pkg->cat == CAT_COMPATIBLE)
		strv_push_owned(&parts, xasprintf("concurrency: %s", concurrency_how(pkg->raw)));

	for (size_t i = 0; i < parts.n; i++)
		sbuf_addf(&joined, "%s%s", i ? ", " : "", parts.v[i]);
	strv_release(&parts);
	return sbuf_detach(&joined);
}

void text_rule(struct sbuf *sb, bool utf8, const char *ascii, size_t n)
{
	while (n--)
		sbuf_adds(sb, utf8 ? "\u2500" : ascii);
}

void text_category_counts(struct sbuf *sb, const size_t counts[CAT_NR], size_t total,
			  bool utf8)
{
	int symw = utf8 ? 2 : 1;
	for (int c = 0; c < CAT_NR; c++) {
		char label[64];
		if (!counts[c])
			continue;
		snprintf(label, sizeof(label), "%s:", category_label(c));
		sbuf_addf(sb, "  %s%*s %-35s %3zu  (%5.1f%%)\n", category_symbol(c, utf8),
			  symw - category_symbol_width(c, utf8), "", label, counts[c],
			  total ? 100.0 * (double)counts[c] / (double)total : 0.0);
	}
}

void text_pkg_table(struct sbuf *sb, const struct text_row *rows, size_t n, int name_width,
		    size_t name_max, bool utf8, int width)
{
	char hdr[256];
	int catcol = 25, hdr_len;
	bool below;

	if (width > 0) {
		/* to fit a width: the columns as narrow as their contents (names never cut) */
		name_width = (int)strlen("Package");
		catcol = (int)strlen("Category");
		for (size_t i = 0; i < n; i++) {
			int len = (int)utf8_prefix(rows[i].name, (size_t)-1), cw;
			cw = category_symbol_width(rows[i].cat, utf8) + 1 +
			     (int)strlen(category_name(rows[i].cat));
			name_width = len > name_width ? len : name_width;
			catcol = cw > catcol ? cw : catcol;
		}
	}
	/* Details below the rows when little room is left beside them: no column header then */
	below = width > 0 && width - (name_width + catcol + 30) < 24;
	hdr_len = snprintf(hdr, sizeof(hdr), "%-*s %-*s %10s %6s %8s%s", name_width, "Package",
			   catcol, "Category", "Pass Rate", "Iters", "Crashes",
			   below ? "" : "  Details");
	sbuf_addf(sb, "%s\n", hdr);
	text_rule(sb, utf8, "-",
		  width > 0 && width < 100 ? (size_t)width
		  : hdr_len + 20 < 100	   ? (size_t)hdr_len + 20
					   : 100);
	sbuf_addc(sb, '\n');
	for (size_t i = 0; i < n; i++) {
		const struct text_row *p = &rows[i];
		int catw = category_symbol_width(p->cat, utf8) + 1 + (int)strlen(category_name(p->cat));
		int col = name_width + catcol + 30; /* where Details starts */
		char rate[48];
		if (p->iters > 0)
			snprintf(rate, sizeof(rate), "%ld/%ld", p->passes, p->iters);
		else
			snprintf(rate, sizeof(rate), "N/A");
		text_cell(sb, p->name, width > 0 ? (size_t)-1 : name_max, name_width);
		sbuf_addf(sb, " %s %s%*s %10s %6ld %8ld  ", category_symbol(p->cat, utf8),
			  category_name(p->cat), catw < catcol ? catcol - catw : 0, "", rate,
			  p->iters, p->crashes);
		if (width <= 0) {
			text_cell(sb, p->details ? p->details : "", TEXT_DETAILS_MAX, 0);
		} else if (p->details && *p->details) {
			/* wrapped at words, never cut; below the row when little room is left */
			struct sbuf d = SBUF_INIT;
			text_cell(&d, p->details, (size_t)-1, 0);
			if (below) {
				while (sb->len && sb->buf[sb->len - 1] == ' ')
					sb->buf[--sb->len] = '\0';
				sbuf_adds(sb, "\n    ");
				col = 4;
			}
			sbuf_add_wrapped(sb, d.buf, col, col, width);
			sbuf_release(&d);
		}
		/* no trailing blanks when Details is empty */
		while (sb->len && sb->buf[sb->len - 1] == ' ')
			sb->buf[--sb->len] = '\0';
		sbuf_addc(sb, '\n');
	}
}

void report_text(struct sbuf *out, const struct report *r, bool utf8)
{
	struct report_kv kv[16];
	size_t nkv = report_header_rows(r, kv, ARRAY_SIZE(kv)), n, *idx;
	char *note = report_partial_note(r);
	int symw = utf8 ? 2 : 1;

	sbuf_adds(out, "Free-Threading Compatibility Report\n");
	for (int i = 0; i < 35; i++)
		sbuf_adds(out, utf8 ? "\u2550" : "=");
	sbuf_adds(out, "\n\n");
	for (size_t i = 0; i < nkv; i++)
		sbuf_addf(out, "%s: %s\n", kv[i].label, kv[i].value);
	report_kv_free(kv, nkv);
	if (note) {
		sbuf_adds(out, "\nPartial results: ");
		text_cell(out, note, (size_t)-1, 0);
		sbuf_addc(out, '\n');
		free(note);
	}

	sbuf_adds(out, "\nCompatibility Summary\n");
	rule(out, utf8, "-", 21);
	text_category_counts(out, r->cat_counts, r->n, utf8);
	sbuf_addf(out, "  %-*s %3zu\n\n", 36 + symw, "Total:", r->n);

	idx = report_section(r, SEC_ALL, &n);
	if (n) {
		struct text_row *rows = xcalloc(n, sizeof(*rows));
		for (size_t i = 0; i < n; i++) {
			const struct report_pkg *p = &r->pkgs[idx[i]];
			rows[i] = (struct text_row){ p->name, p->cat, p->passes, p->iters,
						     p->crashes, text_pkg_details(p->pkg) };
		}
		text_pkg_table(out, rows, n, 20, 40, utf8, 0);
		for (size_t i = 0; i < n; i++)
			free(rows[i].details);
		free(rows);
	}
	free(idx);

	sbuf_adds(out, "\nInvestigation Priority\n");
	rule(out, utf8, "-", 22);
	if (!r->ntriage)
		sbuf_adds(out, "  Nothing to investigate: every package is compatible.\n");
	for (size_t i = 0; i < r->ntriage && i < TRIAGE_MAX; i++) {
		const struct report_pkg *p = &r->pkgs[r->triage[i]];
		int w = category_symbol_width(p->cat, utf8);
		sbuf_addf(out, "  %2zu. ", i + 1);
		text_cell(out, p->name, 40, 18);
		sbuf_addf(out, " %s%*s %-14s (score: %d)  ", category_symbol(p->cat, utf8), symw - w,
			  "", category_name(p->cat), p->score);
		text_cell(out, p->reason, 60, 0);
		sbuf_addc(out, '\n');
	}
	if (r->ntriage > TRIAGE_MAX)
		sbuf_addf(out, "  ... and %zu more\n", r->ntriage - TRIAGE_MAX);
}
