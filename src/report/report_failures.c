/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The report's sections about failures, written once for every format (report_doc.h):
 * crashes, deadlocks (with each hang's threads), intermittent failures, TSAN warnings and
 * crash clusters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/deadlock_story.h"
#include "ftscope/report.h"
#include "ftscope/report_doc.h"

/* Threads listed per deadlock: a report, not a dump (`ftscope deadlocks` shows them all). */
#define MAX_THREADS 16

void report_sec_crashes(struct doc *d, const struct report *r)
{
	static const struct doc_col cols[] = {
		{ "Package", 0 },      { "Pass rate", 0 },	{ "Crashes", DOC_NUM },
		{ "Signature id", 0 }, { "Signal", 0 },		{ "Top frames", DOC_FRAMES },
		{ "Python frame", 0 },
	};
	const struct doc_ops *o = d->ops;
	size_t n, *idx = report_section(r, SEC_CRASHES, &n);

	o->para_begin(d, 0);
	doc_raw(d, "The test runner died of a signal: likely thread-safety bugs in C code. Top "
		   "frames are innermost first (");
	o->code(d, "f");
	doc_raw(d, " \u2190 ");
	o->code(d, "g");
	doc_raw(d, ": f called by g).");
	o->para_end(d);
	o->table_begin(d, cols, ARRAY_SIZE(cols), DOC_SCROLL);
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		size_t cl[64], ncl = report_pkg_clusters(r, idx[i], cl, ARRAY_SIZE(cl));
		const struct report_cluster *c = NULL;
		/* the package's most frequent signature among its own crashes */
		for (size_t k = 0; k < ncl && !c; k++)
			if (r->clusters[cl[k]].ft + r->clusters[cl[k]].gil > 0)
				c = &r->clusters[cl[k]];
		o->row_begin(d, 0);
		doc_cell_text(d, p->name);
		doc_cell_rate(d, p->passes, p->iters);
		doc_cell_rawf(d, "%ld", p->crashes);
		o->cell_begin(d);
		o->code(d, c ? c->id : NULL);
		if (ncl > 1) {
			char *more = xasprintf("+%zu more", ncl - 1);
			o->aside(d, more);
			free(more);
		}
		o->cell_end(d);
		doc_cell_text(d, c && c->parts.signal ? c->parts.signal : "?");
		o->cell_begin(d);
		if (c)
			o->frames(d, &c->parts.frames, 3);
		else
			o->dash(d);
		o->cell_end(d);
		doc_cell_code(d, c ? c->parts.py_frame : NULL);
		o->row_end(d);
	}
	o->table_end(d);
	free(idx);
}

static void cycle_para(struct doc *d, const struct rs_cycle *cy)
{
	const struct doc_ops *o = d->ops;
	o->para_begin(d, 0);
	o->strong(d, "Wait-for cycle:");
	for (size_t k = 0; k < cy->ntids; k++)
		doc_rawf(d, " thread %ld \u2192", cy->tids[k]);
	if (cy->ntids)
		doc_rawf(d, " thread %ld", cy->tids[0]);
	if (cy->certain) {
		doc_raw(d, " (certain: owners read from the lock words)");
	} else {
		doc_raw(d, " (inferred: a lock's holder deduced from ");
		o->code(d, "with");
		doc_raw(d, " blocks)");
	}
	o->para_end(d);
}

static void hang_threads(struct doc *d, const struct report_pkg *p)
{
	const struct report_hang *h = &p->hang;
	const struct doc_ops *o = d->ops;
	struct doc_col cols[] = {
		{ "Thread", 0 },
		{ "Waits on", 0 },
		{ "Held by", 0 },
		{ h->from_forensics ? "Python frames (innermost first)"
				    : "Python frames (innermost first, innermost only)",
		  DOC_FRAMES },
		{ "Native frame", 0 },
	};
	size_t shown = 0;
	char *cmd;

	o->table_begin(d, cols, ARRAY_SIZE(cols), DOC_SCROLL);
	for (size_t i = 0; i < h->nthreads && shown < MAX_THREADS; i++, shown++) {
		const struct report_thread *t = &h->threads[i];
		o->row_begin(d, t->in_cycle ? DOC_ROW_MARK : 0);
		o->cell_begin(d);
		doc_rawf(d, "%ld", t->tid);
		if (t->comm) {
			doc_raw(d, " ");
			o->code(d, t->comm);
		}
		if (t->in_cycle)
			o->aside(d, "in the cycle");
		o->cell_end(d);
		if (t->lock)
			doc_cell_text(d, t->lock);
		else
			doc_cell_dash(d);
		if (t->owner)
			doc_cell_rawf(d, "thread %ld", t->owner);
		else
			doc_cell_dash(d);
		o->cell_begin(d);
		for (size_t k = 0; k < t->python.n; k++) {
			if (k)
				o->br(d);
			o->code(d, t->python.v[k]);
		}
		if (!t->python.n)
			o->dash(d);
		o->cell_end(d);
		doc_cell_code(d, t->native);
		o->row_end(d);
	}
	o->table_end(d);
	if (h->nthreads > shown) {
		o->para_begin(d, DOC_NOTE);
		doc_rawf(d, "\u2026 and %zu more threads (", h->nthreads - shown);
		o->code(d, "ftscope deadlocks");
		doc_raw(d, " shows them all).");
		o->para_end(d);
	}
	o->para_begin(d, DOC_NOTE);
	cmd = xasprintf("ftscope deadlocks RUN_DIR --package %s", p->name);
	o->code(d, cmd);
	doc_raw(d, " prints every thread's full native and Python stack.");
	o->para_end(d);
	free(cmd);
}

static void hang_detail(struct doc *d, const struct report_pkg *p)
{
	const struct report_hang *h = &p->hang;
	const struct doc_ops *o = d->ops;
	const char *last = h->iter->last_output_line;
	char *gil = xasprintf("PYTHON_GIL=%d", h->gil ? 1 : 0);

	o->detail_begin(d, NULL, p->name);
	o->para_begin(d, 0);
	doc_rawf(d, "Iteration %ld (", h->iter->index);
	o->code(d, gil);
	doc_raw(d, "): ");
	o->text(d, h->reason ? h->reason : "hang");
	doc_rawf(d, ", detected %.1f s after the last progress", h->detected_after_s);
	if (last) {
		doc_raw(d, "; last output ");
		o->code(d, last);
	}
	doc_raw(d, ".");
	o->para_end(d);
	free(gil);
	if (h->ncycles == 0)
		doc_para(d, DOC_NOTE, "No wait-for cycle was found (threads may wait on something "
				  "outside the process tree, or on a lock whose owner is unknown).");
	for (size_t c = 0; c < h->ncycles; c++)
		cycle_para(d, &h->cycles[c]);
	if (h->nthreads) {
		hang_threads(d, p);
	} else {
		o->para_begin(d, DOC_NOTE);
		doc_raw(d, "No lock-wait snapshot: ");
		o->code(d, "ftscope deadlocks");
		doc_raw(d, " shows what the /proc monitor and faulthandler saw.");
		o->para_end(d);
	}
	o->detail_end(d);
}

/* The id of a package's deadlock story: "story-" and its name, anything but [A-Za-z0-9._-]
 * as '_' (valid unescaped, in HTML and in a markdown link). */
static char *story_id(const char *name)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_adds(&sb, "story-");
	for (const char *c = name ? name : "?"; *c; c++)
		sbuf_addc(&sb, (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				       (*c >= '0' && *c <= '9') || strchr("._-", *c)
				       ? *c
				       : '_');
	return sbuf_detach(&sb);
}

/* deadlock_story.c's text for p's story (flags: STORY_*), or NULL when none of it hung. */
static char *story_text(const struct report_pkg *p, unsigned flags)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	story_pkg_print(f, &p->story, flags, false);
	fclose(f);
	if (!len) {
		free(text);
		return NULL;
	}
	return text;
}

/*
 * The package's deadlock story as `ftscope deadlocks RUN --package NAME` tells it (told by
 * deadlock_story.c only), then every thread's stack per iteration, folded (--full's part):
 * where the package's row in the table links to.
 */
static void deadlock_story(struct doc *d, const struct report_pkg *p, const char *id)
{
	const struct doc_ops *o = d->ops;
	char *story = story_text(p, 0), *stacks, *title, *cmd;
	if (!story)
		return;
	stacks = story_text(p, STORY_STACKS_ONLY);
	title = xasprintf("Deadlock story: %s", p->name);
	o->detail_begin(d, id, title);
	o->pre(d, NULL, story);
	if (stacks)
		o->pre(d, "Every thread's stack, per iteration", stacks);
	cmd = xasprintf("ftscope deadlocks RUN_DIR --package %s --full", p->name);
	o->para_begin(d, DOC_NOTE);
	doc_raw(d, "The same as ");
	o->code(d, cmd);
	doc_raw(d, ".");
	o->para_end(d);
	o->detail_end(d);
	free(cmd);
	free(title);
	free(stacks);
	free(story);
}

void report_sec_deadlocks(struct doc *d, const struct report *r)
{
	static const struct doc_col cols[] = {
		{ "Package", 0 },	       { "Deadlocks", DOC_NUM }, { "With the GIL", DOC_NUM },
		{ "Detected after", DOC_NUM }, { "Last output", 0 },
	};
	const struct doc_ops *o = d->ops;
	size_t n, *idx = report_section(r, SEC_DEADLOCKS, &n);

	doc_para(d, 0, "Every thread blocked in an untimed wait and no CPU progress for the "
		   "deadlock window: the hang is caught in seconds and snapshotted before the "
		   "kill.");
	o->table_begin(d, cols, ARRAY_SIZE(cols), 0);
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		o->row_begin(d, 0);
		if (p->story.n) { /* to its story below */
			char *id = story_id(p->name);
			o->cell_begin(d);
			o->ref(d, id, p->name);
			o->cell_end(d);
			free(id);
		} else {
			doc_cell_text(d, p->name);
		}
		doc_cell_rawf(d, "%ld/%ld", p->deadlocks, p->iters);
		if (p->gil_iters >= 0)
			doc_cell_rawf(d, "%ld/%ld", report_gil_deadlocks(p), p->gil_iters);
		else
			doc_cell_dash(d);
		if (p->hang.iter)
			doc_cell_rawf(d, "%.1f s", p->hang.detected_after_s);
		else
			doc_cell_dash(d);
		doc_cell_code(d, p->hang.iter ? p->hang.iter->last_output_line : NULL);
		o->row_end(d);
	}
	o->table_end(d);
	for (size_t i = 0; i < n; i++) {
		char *id = story_id(r->pkgs[idx[i]].name);
		if (r->pkgs[idx[i]].hang.iter)
			hang_detail(d, &r->pkgs[idx[i]]);
		deadlock_story(d, &r->pkgs[idx[i]], id);
		free(id);
	}
	free(idx);
}

void report_sec_intermittent(struct doc *d, const struct report *r)
{
	static const struct doc_col cols[] = {
		{ "Package", 0 },     { "Pass rate", 0 },	{ "Flaky tests", DOC_NUM },
		{ "Pattern", 0 },     { "Most flaky test", 0 },
	};
	const struct doc_ops *o = d->ops;
	size_t n, *idx = report_section(r, SEC_INTERMITTENT, &n);

	doc_para(d, 0, "Some iterations pass and some fail: likely race conditions.");
	o->table_begin(d, cols, ARRAY_SIZE(cols), 0);
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		const struct rs_pkg *pkg = p->pkg;
		const struct rs_flaky *top = pkg->nflaky ? &pkg->flaky[0] : NULL;
		o->row_begin(d, 0);
		doc_cell_text(d, p->name);
		doc_cell_rate(d, p->passes, p->iters);
		doc_cell_rawf(d, "%zu", pkg->nflaky_any);
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

	doc_para(d, 0, "ThreadSanitizer reported data races, even where the tests pass.");
	o->table_begin(d, cols, ARRAY_SIZE(cols), 0);
	for (size_t i = 0; i < n; i++) {
		const struct report_pkg *p = &r->pkgs[idx[i]];
		const struct strv *types = &p->pkg->tsan_warning_types;
		size_t k;
		o->row_begin(d, 0);
		doc_cell_text(d, p->name);
		o->cell_begin(d);
		for (k = 0; k < types->n && k < 3; k++) {
			doc_raw(d, k ? ", " : "");
			o->text(d, types->v[k]);
		}
		if (!k)
			o->dash(d);
		o->cell_end(d);
		doc_cell_rawf(d, "%ld/%ld", p->tsan_iters, p->iters);
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
				o->row_begin(d, 0);
				doc_cell_text(d, p->name);
				doc_cell_code(d, race->signature_id);
				doc_cell_text(d, race->kind ? race->kind : "?");
				doc_cell_code(d, race->summary);
				doc_cell_rawf(d, "%ld", race->count);
				o->cell_begin(d);
				race_iterations(d, race);
				o->cell_end(d);
				o->row_end(d);
			}
		}
		o->table_end(d);
	}
	free(idx);
}

void report_sec_clusters(struct doc *d, const struct report *r)
{
	static const struct doc_col cols[] = {
		{ "Signature id", 0 }, { "Signal", 0 },	    { "Top frames", DOC_FRAMES },
		{ "Python frame", 0 }, { "Iterations", 0 }, { "Packages", 0 },
	};
	const struct doc_ops *o = d->ops;

	doc_para(d, 0, "Crashes grouped by signature across packages and iterations (both GIL "
		   "modes, and child processes a suite survived): one row is one bug, whichever "
		   "package shows it.");
	o->table_begin(d, cols, ARRAY_SIZE(cols), DOC_SCROLL);
	for (size_t i = 0; i < r->nclusters; i++) {
		const struct report_cluster *c = &r->clusters[i];
		o->row_begin(d, 0);
		doc_cell_code(d, c->id);
		doc_cell_text(d, c->parts.signal ? c->parts.signal : "?");
		o->cell_begin(d);
		o->frames(d, &c->parts.frames, 3);
		o->cell_end(d);
		doc_cell_code(d, c->parts.py_frame);
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
}

