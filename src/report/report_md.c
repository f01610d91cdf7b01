/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/report.h"
#include "ftscope/report_doc.h"
#include "ftscope/results.h"
#include "ftscope/rundir.h"
#include "ftscope/stress.h"
#include "ftscope/version.h"

/* Threads listed per deadlock, frames per thread: a report, not a dump (`ftscope deadlocks`). */
#define MD_MAX_THREADS 12
#define MD_MAX_DECLS 10

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

static void header(struct sbuf *out, const struct report *r)
{
	struct report_kv kv[16];
	size_t n = report_header_rows(r, kv, ARRAY_SIZE(kv));
	char *note = report_partial_note(r);

	sbuf_adds(out, "# Free-Threading Compatibility Report\n\n");
	if (note) {
		sbuf_adds(out, "> **Partial results.** ");
		md_text(out, note);
		sbuf_adds(out, "\n\n");
	}
	for (size_t i = 0; i < n; i++) {
		sbuf_addf(out, "- **%s:** ", kv[i].label);
		md_text(out, kv[i].value);
		sbuf_addc(out, '\n');
	}
	sbuf_addc(out, '\n');
	report_kv_free(kv, n);
	free(note);
}

static void summary(struct sbuf *out, const struct report *r)
{
	sbuf_adds(out, "## Summary\n\n| Category | Count | Percentage |\n|----------|------:|-----------:|\n");
	for (int c = 0; c < CAT_NR; c++) {
		if (!r->cat_counts[c])
			continue;
		sbuf_addf(out, "| %s | %zu | %.1f%% |\n", category_label(c), r->cat_counts[c],
			  100.0 * (double)r->cat_counts[c] / (double)r->n);
	}
	sbuf_addf(out, "| **Total** | **%zu** | |\n\n", r->n);

	sbuf_adds(out, "Pass-rate distribution (free-threaded iterations):\n\n"
		       "| Pass rate | Packages |\n|-----------|---------:|\n");
	for (int b = 0; b < REPORT_RATE_BUCKETS; b++)
		sbuf_addf(out, "| %s | %zu |\n", report_rate_bucket_label(b), r->rate_buckets[b]);
	sbuf_addc(out, '\n');
}

static void frames_cell(struct sbuf *out, const struct strv *frames, size_t max)
{
	if (!frames->n) {
		sbuf_adds(out, "—");
		return;
	}
	for (size_t i = 0; i < frames->n && i < max; i++) {
		if (i)
			sbuf_adds(out, " ← ");
		md_code(out, frames->v[i]);
	}
}

static void crashes(struct sbuf *out, const struct report *r)
{
	size_t n, *idx = report_section(r, SEC_CRASHES, &n);
	if (!n)
		goto out;
	sbuf_adds(out, "## Packages with crashes\n\n"
		       "The test runner died of a signal: likely thread-safety bugs in C code. Top "
		       "frames are innermost first (`f ← g`: f called by g).\n\n"
		       "| Package | Pass rate | Crashes | Signature id | Signal | Top frames | "
		       "Python frame |\n"
		       "|---------|-----------|--------:|--------------|--------|------------|"
		       "--------------|\n");
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		size_t cl[64], ncl = report_pkg_clusters(r, idx[i], cl, ARRAY_SIZE(cl));
		const struct report_cluster *c = NULL;
		/* the package's most frequent signature among its own crashes */
		for (size_t k = 0; k < ncl && !c; k++) {
			const struct report_cluster *x = &r->clusters[cl[k]];
			if (x->ft + x->gil > 0)
				c = x;
		}
		sbuf_adds(out, "| ");
		md_text(out, p->name);
		sbuf_adds(out, " | ");
		report_add_rate(out, p->passes, p->iters);
		sbuf_addf(out, " | %ld | ", p->crashes);
		md_code_or_dash(out, c ? c->id : NULL);
		if (ncl > 1)
			sbuf_addf(out, " (+%zu more)", ncl - 1);
		sbuf_adds(out, " | ");
		md_text(out, c && c->parts.signal ? c->parts.signal : "?");
		sbuf_adds(out, " | ");
		if (c)
			frames_cell(out, &c->parts.frames, 3);
		else
			sbuf_adds(out, "—");
		sbuf_adds(out, " | ");
		md_code_or_dash(out, c ? c->parts.py_frame : NULL);
		sbuf_adds(out, " |\n");
	}
	sbuf_addc(out, '\n');
out:
	free(idx);
}

static void cycle_line(struct sbuf *out, const struct rs_cycle *cycle)
{
	for (size_t k = 0; k < cycle->ntids; k++)
		sbuf_addf(out, "thread %ld → ", cycle->tids[k]);
	if (cycle->ntids > 0)
		sbuf_addf(out, "thread %ld", cycle->tids[0]);
	sbuf_addf(out, " (%s)", cycle->certain ? "certain: owners read from the lock words"
					: "inferred: a lock's holder deduced from `with` blocks");
}

static void hang_detail(struct sbuf *out, const struct report_pkg *p)
{
	const struct report_hang *h = &p->hang;
	const char *last = h->iter->last_output_line;
	size_t shown = 0;

	sbuf_adds(out, "### ");
	md_text(out, p->name);
	sbuf_addf(out, "\n\nIteration %ld (PYTHON_GIL=%d): ", h->iter->index,
		  h->gil ? 1 : 0);
	md_text(out, h->reason ? h->reason : "hang");
	sbuf_addf(out, ", detected %.1f s after the last progress", h->detected_after_s);
	if (last) {
		sbuf_adds(out, "; last output ");
		md_code(out, last);
	}
	sbuf_adds(out, ".\n\n");
	if (h->ncycles == 0)
		sbuf_adds(out, "No wait-for cycle was found (threads may wait on something outside "
			       "the process tree, or on a lock whose owner is unknown).\n\n");
	for (size_t c = 0; c < h->ncycles; c++) {
		sbuf_adds(out, "**Wait-for cycle:** ");
		cycle_line(out, &h->cycles[c]);
		sbuf_adds(out, "\n\n");
	}
	if (!h->nthreads) {
		sbuf_adds(out, "No lock-wait snapshot: `ftscope deadlocks` shows what the /proc "
			       "monitor and faulthandler saw.\n\n");
		return;
	}
	sbuf_addf(out, "| Thread | Waits on | Held by | Python frames (innermost first%s) | "
		       "Native frame |\n|--------|----------|---------|---------------|"
		       "--------------|\n",
		  h->from_forensics ? "" : ", innermost only");
	for (size_t i = 0; i < h->nthreads && shown < MD_MAX_THREADS; i++, shown++) {
		const struct report_thread *t = &h->threads[i];
		sbuf_addf(out, "| %s%ld%s ", t->in_cycle ? "**" : "", t->tid, t->in_cycle ? "**" : "");
		if (t->comm)
			md_code(out, t->comm);
		sbuf_adds(out, " | ");
		md_text(out, t->lock ? t->lock : "—");
		sbuf_adds(out, " | ");
		if (t->owner)
			sbuf_addf(out, "%ld", t->owner);
		else
			sbuf_adds(out, "—");
		sbuf_adds(out, " | ");
		for (size_t k = 0; k < t->python.n; k++) {
			if (k)
				sbuf_adds(out, "<br>");
			md_code(out, t->python.v[k]);
		}
		if (!t->python.n)
			sbuf_adds(out, "—");
		sbuf_adds(out, " | ");
		md_code_or_dash(out, t->native);
		sbuf_adds(out, " |\n");
	}
	if (h->nthreads > shown)
		sbuf_addf(out, "\n… and %zu more threads (`ftscope deadlocks` shows them all).\n",
			  h->nthreads - shown);
	sbuf_adds(out, "\nThreads in the cycle are in bold. `ftscope deadlocks RUN_DIR --package ");
	md_text(out, p->name);
	sbuf_adds(out, "` prints every thread's full native and Python stack.\n\n");
}

static void deadlocks(struct sbuf *out, const struct report *r)
{
	size_t n, *idx = report_section(r, SEC_DEADLOCKS, &n);
	if (!n)
		goto out;
	sbuf_adds(out, "## Packages with deadlocks\n\n"
		       "Every thread blocked in an untimed wait and no CPU progress for the deadlock "
		       "window: the hang is caught in seconds and snapshotted before the kill.\n\n"
		       "| Package | Deadlocks | With the GIL | Detected after | Last output |\n"
		       "|---------|----------:|-------------:|---------------:|-------------|\n");
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		const char *last = p->hang.iter ? p->hang.iter->last_output_line : NULL;
		sbuf_adds(out, "| ");
		md_text(out, p->name);
		sbuf_addf(out, " | %ld/%ld | ", p->deadlocks, p->iters);
		if (p->gil_iters >= 0)
			sbuf_addf(out, "%ld/%ld", report_gil_deadlocks(p), p->gil_iters);
		else
			sbuf_adds(out, "—");
		if (p->hang.iter)
			sbuf_addf(out, " | %.1f s | ", p->hang.detected_after_s);
		else
			sbuf_adds(out, " | — | ");
		md_code_or_dash(out, last);
		sbuf_adds(out, " |\n");
	}
	sbuf_addc(out, '\n');
	for (size_t i = 0; i < n; i++)
		if (r->pkgs[idx[i]].hang.iter)
			hang_detail(out, &r->pkgs[idx[i]]);
out:
	free(idx);
}

static void extensions(struct sbuf *out, const struct report *r)
{
	size_t n, *idx = report_section(r, SEC_EXTENSIONS, &n);
	bool any_decl = false;
	if (!n)
		goto out;
	sbuf_adds(out, "## C extension compatibility\n\n"
		       "GIL fallback: an extension module without a `Py_mod_gil` slot made the "
		       "interpreter re-enable the GIL when imported (seen by the import probe or in "
		       "the iterations' stderr).\n\n"
		       "| Package | Extension modules | GIL fallback | Source Py_mod_gil | Status |\n"
		       "|---------|------------------:|--------------|-------------------|--------|\n");
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		const struct rs_pkg *pkg = p->pkg;
		const struct strv *mods = &pkg->gil_fallback_modules;
		sbuf_adds(out, "| ");
		md_text(out, p->name);
		sbuf_addf(out, " | %zu | ", pkg->ext.nextensions);
		for (size_t k = 0; k < mods->n; k++) {
			sbuf_adds(out, k ? ", " : "Yes: ");
			md_code(out, mods->v[k]);
		}
		if (!mods->n)
			sbuf_adds(out, pkg->ext.gil_fallback_active ? "Yes" : "No");
		sbuf_addf(out, " | %s | %s |\n", report_source_status(pkg), category_name(p->cat));
		any_decl |= pkg->ext.ndecls > 0;
	}
	sbuf_addc(out, '\n');
	if (!any_decl)
		goto out;
	sbuf_adds(out, "Source declarations:\n\n");
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		const struct rs_ext *ext = &p->pkg->ext;
		int k = 0;
		for (size_t j = 0; j < ext->ndecls; j++) {
			const struct rs_decl *d = &ext->decls[j];
			char *loc;
			if (k++ == MD_MAX_DECLS) {
				sbuf_addf(out, "  - … and %d more\n", (int)ext->ndecls - MD_MAX_DECLS);
				break;
			}
			if (k == 1) {
				sbuf_adds(out, "- ");
				md_text(out, p->name);
				sbuf_adds(out, ":\n");
			}
			loc = xasprintf("%s:%d", d->file ? d->file : "?", d->line_number);
			sbuf_adds(out, "  - ");
			md_code(out, loc);
			sbuf_adds(out, " ");
			md_text(out, d->kind ? d->kind : "Py_mod_gil");
			sbuf_addf(out, " → %s", d->is_not_used ? "NOT_USED" : "USED");
			if (d->line_text) {
				sbuf_adds(out, ": ");
				md_code(out, d->line_text);
			}
			sbuf_addc(out, '\n');
			free(loc);
		}
	}
	sbuf_addc(out, '\n');
out:
	free(idx);
}

static void pep_ok(struct sbuf *out, int ok)
{
	sbuf_adds(out, ok < 0 ? "n/a" : ok ? "yes" : "**no**");
}

/* --baseline-python: the free-threaded build against the default build, PEP 779's own
 * comparison (pep779_baseline), before the same-interpreter ratios. */
static void pep779_baseline(struct sbuf *out, const struct report *r)
{
	bool any = false;
	for (size_t i = 0; i < r->n; i++) {
		/* not in the run view (runstore.h) yet: the stored object */
		const cJSON *pep = cJSON_GetObjectItemCaseSensitive(r->pkgs[i].pkg->raw,
								    "pep779_baseline");
		if (!cJSON_IsObject(pep))
			continue;
		if (!any)
			sbuf_adds(out, "Free-threaded build (`PYTHON_GIL=0`) against the default (GIL) "
				       "build of the same version (`--baseline-python`): the comparison "
				       "PEP 779 makes.\n\n"
				       "| Package | Time, FT build | Time, default build | Time ratio | "
				       "RSS ratio |\n|---------|------:|------:|------:|------:|\n");
		any = true;
		sbuf_adds(out, "| ");
		md_text(out, r->pkgs[i].name);
		sbuf_addf(out, " | %.2f s | %.2f s | ", json_num(pep, "ft_median_s", 0),
			  json_num(pep, "gil_median_s", 0));
		report_add_ratio(out, json_num(pep, "time_ratio", 0));
		sbuf_adds(out, " | ");
		if (json_num(pep, "rss_ratio", 0) > 0)
			report_add_ratio(out, json_num(pep, "rss_ratio", 0));
		else
			sbuf_adds(out, "n/a");
		sbuf_adds(out, " |\n");
	}
	if (any)
		sbuf_adds(out, "\nWith `--compare-with-gil`, below: both modes of the free-threaded "
			       "interpreter.\n\n");
}

static void pep779(struct sbuf *out, const struct report *r)
{
	size_t n, *idx = report_section(r, SEC_PEP779, &n), nt, nr;
	double gt, gr;
	sbuf_adds(out, "## PEP 779 ratios\n\n");
	pep779_baseline(out, r);
	if (!n) {
		sbuf_adds(out, "Not measured: the ratios need `--compare-with-gil`.\n\n");
		goto out;
	}
	sbuf_addf(out,
		  "PEP 779 asks the free-threaded build to be at most %.0f%% slower and to use at "
		  "most %.0f%% more memory than the GIL build. Per package: the median wall time "
		  "and the median peak RSS of the *passing* iterations, free-threaded "
		  "(`PYTHON_GIL=0`) over GIL-enabled (`PYTHON_GIL=1`). Both modes run on the same "
		  "free-threaded interpreter, so this is the cost of running without the GIL, not "
		  "of the whole free-threaded build; and a test suite (start-up, I/O, sleeps) is "
		  "not a benchmark.\n\n",
		  (PEP779_TIME_LIMIT - 1) * 100, (PEP779_RSS_LIMIT - 1) * 100);
	sbuf_addf(out, "| Package | Time, FT | Time, GIL | Time ratio | ≤ %.2f | RSS, FT | RSS, GIL | "
		       "RSS ratio | ≤ %.2f |\n"
		       "|---------|---------:|----------:|-----------:|:----:|--------:|---------:|"
		       "----------:|:----:|\n",
		  PEP779_TIME_LIMIT, PEP779_RSS_LIMIT);
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		const struct rs_pep779 *pep = p->pep779;
		sbuf_adds(out, "| ");
		md_text(out, p->name);
		if (!pep) {
			sbuf_adds(out, " | n/a | n/a | no passing iteration in both modes | | n/a | "
				       "n/a | n/a | |\n");
			continue;
		}
		sbuf_addf(out, " | %.2f s | %.2f s | ", pep->ft_median_s, pep->gil_median_s);
		report_add_ratio(out, pep->time_ratio);
		sbuf_adds(out, " | ");
		pep_ok(out, pep->time_ok);
		sbuf_adds(out, " | ");
		if (pep->rss_ratio > 0) {
			report_add_mib(out, pep->ft_median_rss_kb);
			sbuf_adds(out, " | ");
			report_add_mib(out, pep->gil_median_rss_kb);
			sbuf_adds(out, " | ");
			report_add_ratio(out, pep->rss_ratio);
		} else {
			sbuf_adds(out, "n/a | n/a | n/a");
		}
		sbuf_adds(out, " | ");
		pep_ok(out, pep->rss_ok);
		sbuf_adds(out, " |\n");
	}
	report_pep779_geomean(r, &gt, &nt, &gr, &nr);
	if (nt) {
		sbuf_addf(out, "| **Geometric mean** (%zu) | | | ", nt);
		report_add_ratio(out, gt);
		sbuf_addf(out, " | %s | | | ", gt <= PEP779_TIME_LIMIT ? "yes" : "**no**");
		if (nr) {
			report_add_ratio(out, gr);
			sbuf_addf(out, " | %s |\n", gr <= PEP779_RSS_LIMIT ? "yes" : "**no**");
		} else {
			sbuf_adds(out, "n/a | |\n");
		}
	}
	sbuf_addc(out, '\n');
out:
	free(idx);
}

static void all_packages(struct sbuf *out, const struct report *r)
{
	size_t n, *idx = report_section(r, SEC_ALL, &n);
	if (!n)
		goto out;
	sbuf_adds(out, "## All packages\n\n| Package | Category | Pass rate | Crashes | Deadlocks |");
	if (r->compare_with_gil)
		sbuf_adds(out, " Pass rate, GIL | Time ratio | RSS ratio |");
	sbuf_adds(out, "\n|---------|----------|-----------|--------:|----------:|");
	if (r->compare_with_gil)
		sbuf_adds(out, "---------------|-----------:|----------:|");
	sbuf_addc(out, '\n');
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		sbuf_adds(out, "| ");
		md_text(out, p->name);
		sbuf_addf(out, " | %s | ", category_name(p->cat));
		report_add_rate(out, p->passes, p->iters);
		sbuf_addf(out, " | %ld | %ld |", p->crashes, p->deadlocks);
		if (r->compare_with_gil) {
			double t = p->pep779 ? p->pep779->time_ratio : 0;
			double m = p->pep779 ? p->pep779->rss_ratio : 0;
			sbuf_adds(out, " ");
			report_add_rate(out, p->gil_passes, p->gil_iters);
			if (t > 0)
				sbuf_addf(out, " | %.3f", t);
			else
				sbuf_adds(out, " | n/a");
			if (m > 0)
				sbuf_addf(out, " | %.3f |", m);
			else
				sbuf_adds(out, " | n/a |");
		}
		sbuf_addc(out, '\n');
	}
	sbuf_addc(out, '\n');
out:
	free(idx);
}

/* Stress iterations (run --parallel-threads), and how each package exercised concurrency. */
static void stress(struct sbuf *out, const struct report *r)
{
	bool any = false;
	for (size_t i = 0; i < r->n && !any; i++)
		any = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r->pkgs[i].pkg->raw, "stress"));
	if (!any)
		return;
	sbuf_adds(out, "## Stress (pytest-run-parallel)\n\n"
		       "Every test body run in N threads at once; tests that fail only there are "
		       "stress findings.\n\n"
		       "| Package | Category | Concurrency exercised by | Stress |\n"
		       "|---------|----------|--------------------------|--------|\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct report_pkg *p = &r->pkgs[i];
		char *s = stress_summary(p->pkg->raw);
		const char *how = concurrency_how(p->pkg->raw);
		if (!s)
			continue;
		sbuf_adds(out, "| ");
		md_text(out, p->name);
		sbuf_addf(out, " | %s%s | %s | ", category_name(p->cat),
			  json_bool(p->pkg->raw, "stress_only", false) ? " (stress only)" : "",
			  how ? how : "?");
		md_text(out, s);
		sbuf_adds(out, " |\n");
		free(s);
	}
	sbuf_addc(out, '\n');
}

/* ---- the document backend ---- */

static void md_section_begin(struct doc *d, const char *id, const char *title)
{
	sbuf_addf(d->out, "## %s\n\n", title);
}

static void md_nothing(struct doc *d)
{
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

static void md_table_begin(struct doc *d, const struct doc_col *cols, size_t n, unsigned flags)
{
	sbuf_addc(d->out, '|');
	for (size_t i = 0; i < n; i++)
		sbuf_addf(d->out, " %s |", cols[i].title);
	sbuf_adds(d->out, "\n|");
	/* as wide as the title and its blanks; numbers right-aligned */
	for (size_t i = 0; i < n; i++) {
		size_t w = strlen(cols[i].title) + 2;
		for (size_t k = 0; k + 1 < w; k++)
			sbuf_addc(d->out, '-');
		sbuf_adds(d->out, cols[i].flags & DOC_NUM ? ":|" : "-|");
	}
	sbuf_addc(d->out, '\n');
}

static void md_table_end(struct doc *d)
{
	sbuf_addc(d->out, '\n');
}

static void md_row_begin(struct doc *d)
{
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
	sbuf_adds(d->out, " |");
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
	sbuf_adds(d->out, "—");
}

static void md_aside(struct doc *d, const char *s)
{
	sbuf_addf(d->out, " (%s)", s);
}

static void md_hint(struct doc *d, const char *s)
{
}

static void md_note(struct doc *d, const char *s)
{
	sbuf_addf(d->out, " %s", s);
}

static void md_keyword(struct doc *d, const char *s)
{
	sbuf_adds(d->out, s);
}

static void md_frames(struct doc *d, const struct strv *frames, size_t max)
{
	frames_cell(d->out, frames, max);
}

const struct doc_ops report_doc_md = {
	.section_begin = md_section_begin,
	.section_end = md_nothing,
	.subhead = md_subhead,
	.para_begin = md_para_begin,
	.para_end = md_para_end,
	.table_begin = md_table_begin,
	.table_end = md_table_end,
	.row_begin = md_row_begin,
	.row_end = md_row_end,
	.cell_begin = md_cell_begin,
	.cell_end = md_cell_end,
	.text = md_doc_text,
	.code = md_doc_code,
	.dash = md_dash,
	.aside = md_aside,
	.hint = md_hint,
	.note = md_note,
	.keyword = md_keyword,
	.frames = md_frames,
};

void report_markdown(struct sbuf *out, const struct report *r)
{
	struct doc d = { .ops = &report_doc_md, .out = out };

	header(out, r);
	summary(out, r);
	crashes(out, r);
	deadlocks(out, r);
	report_sec_intermittent(&d, r);
	report_sec_tsan(&d, r);
	stress(out, r);
	extensions(out, r);
	report_sec_gil(&d, r);
	pep779(out, r);
	report_sec_clusters(&d, r);
	all_packages(out, r);
	sbuf_adds(out, "---\n\n*Generated by ftscope " FTSCOPE_VERSION " from run ");
	md_code(out, r->run_id);
	if (r->status != REPORT_COMPLETE)
		sbuf_addf(out, " on %s", r->generated_at);
	sbuf_adds(out, ".*\n");
}
