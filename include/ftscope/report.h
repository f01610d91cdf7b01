/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_REPORT_H
#define FTSCOPE_REPORT_H

/*
 * `ftscope report`: a run turned into a document (markdown, text or a self-contained HTML
 * page). report_build() derives everything the formats need from the run store's typed
 * view (runstore.h) once (the model); report_markdown(), report_text() and report_html()
 * only lay it out. labeille's `ft report` sections come first, then ftscope's (GIL
 * comparison, PEP 779 ratios, crash clusters).
 *
 * The model borrows the run view (keep it alive while the report lives); what it owns is
 * freed by report_release().
 */
#include <stdbool.h>
#include <stddef.h>

#include "ftscope/category.h"
#include "ftscope/deadlock_story.h"
#include "ftscope/runstore.h"
#include "ftscope/stats.h"
#include "ftscope/util.h"

/* A deadlocked thread as the report shows it. */
struct report_thread {
	long tid;
	const char *comm;       /* borrowed; may be NULL */
	const char *lock;       /* "threading.Lock", ...; NULL: not waiting on a lock */
	const char *native;     /* innermost meaningful native frame; may be NULL */
	long owner;             /* holder tid, 0 unknown */
	bool in_cycle;
	struct strv python;     /* Python frames, innermost first: "file.py:24 func" */
};

/* The hung iteration shown for a deadlocked package. */
struct report_hang {
	const struct rs_iter *iter;  /* NULL: no hung iteration found */
	bool gil;                    /* a PYTHON_GIL=1 iteration */
	const char *reason;          /* hang.reason */
	double detected_after_s;
	const struct rs_cycle *cycles; /* hang.cycles, borrowed */
	size_t ncycles;
	struct report_thread *threads;
	size_t nthreads;
	bool from_forensics;         /* Python stacks read from forensics.json */
};

struct report_pkg {
	const struct rs_pkg *pkg;    /* the package in the run view, borrowed */
	const char *name;
	enum ft_category cat;
	double pass_rate;            /* 0..1 */
	long iters, passes, crashes, deadlocks, tsan_iters;
	long gil_iters, gil_passes;  /* gil_iters -1: no GIL-enabled iterations */
	const char *gil_comparison;  /* NULL without --compare-with-gil */
	const struct rs_pep779 *pep779; /* borrowed; NULL when not measured */
	bool is_ext;                 /* the probe found C extensions */
	bool has_tsan;
	enum flaky_pattern pattern;
	int score;                   /* investigation priority; -1: not triaged */
	char *reason;                /* why (labeille's "severity:crash; 3 crashes; ...") */
	struct report_hang hang;     /* for deadlocked packages */
	struct story_pkg story;      /* with REPORT_STORIES: its hung iterations and their
				      * snapshots (n 0 without) */
};

/* Iterations (across packages and both GIL modes) that crashed with one signature. */
struct report_cluster {
	const char *key;             /* signature id, else the signature text (borrowed) */
	const char *id;              /* NULL when the signature has no id (no tracer) */
	const char *signature;       /* the full text; may be NULL */
	struct sig_parts parts;      /* the signature taken apart (cluster.h's rule) */
	long ft, gil, child;         /* runner crashes without / with the GIL; child crashes */
	size_t *pkgs;                /* indexes into report.pkgs */
	long *pkg_counts;
	size_t npkgs;
};

/* The run store's status (same order as enum rs_status). */
enum report_status { REPORT_COMPLETE, REPORT_INTERRUPTED, REPORT_RUNNING, REPORT_UNKNOWN };

#define REPORT_RATE_BUCKETS 6

struct report {
	const struct run_view *v;
	const char *run_id;
	enum report_status status;
	long packages_total;         /* ft_meta.json's, 0 unknown */
	bool compare_with_gil;
	struct report_pkg *pkgs;     /* in run order */
	size_t n;
	size_t cat_counts[CAT_NR];
	size_t rate_buckets[REPORT_RATE_BUCKETS];
	struct report_cluster *clusters; /* most iterations first */
	size_t nclusters;
	size_t *triage;              /* indexes into pkgs, highest score first */
	size_t ntriage;
	char *generated_at;          /* when the report was made (for partial runs) */
};

/* Build the model of v (reads forensics.json files for the deadlock details); with
 * REPORT_STORIES also the deadlock stories (report_pkg.story: the markdown and HTML
 * deadlocks section's), each hung iteration's forensics.json read once for both. */
#define REPORT_STORIES 0x1
void report_build(struct report *r, const struct run_view *v, unsigned flags);
void report_release(struct report *r);

/* Formats: append the document to out. */
void report_markdown(struct sbuf *out, const struct report *r);
void report_text(struct sbuf *out, const struct report *r, bool utf8);
void report_html(struct sbuf *out, const struct report *r);

/* ---- shared by the formats ---- */

/* Header rows: label and value, e.g. "Python", "3.13.5 (CPython, free-threaded)". */
struct report_kv {
	const char *label;
	char *value;
};
/* Fills kv (up to max rows) and returns how many; free the values with report_kv_free. */
size_t report_header_rows(const struct report *r, struct report_kv *kv, size_t max);
void report_kv_free(struct report_kv *kv, size_t n);
/* "complete", "interrupted, partial results", ... Static. */
const char *report_status_word(enum report_status s);
/* "this run was interrupted: ..." for partial runs, or NULL. malloc'd. */
char *report_partial_note(const struct report *r);
/* The gil_comparison meaning for people ("fails only without the GIL"). Static. */
const char *report_gil_meaning(const char *verdict);
/*
 * The packages a section lists, in its order, as indexes into r->pkgs (malloc'd; *n set):
 *   CRASHES       category crash, most crashes first (labeille)
 *   DEADLOCKS     category deadlock, or any hung iteration (with the GIL too), by name
 *   INTERMITTENT  category intermittent, lowest pass rate first (labeille)
 *   TSAN          TSAN warnings or races, by name
 *   EXTENSIONS    C extensions found by the probe, or a GIL fallback seen, by name
 *   GIL           compared with the GIL: ft_only, gil_helps, pre_existing, same; by name
 *   PEP779        compared with the GIL: highest time ratio first, unmeasured last
 *   ALL           every package: severity, then pass rate (highest first), then name (show)
 */
enum report_section {
	SEC_CRASHES,
	SEC_DEADLOCKS,
	SEC_INTERMITTENT,
	SEC_TSAN,
	SEC_EXTENSIONS,
	SEC_GIL,
	SEC_PEP779,
	SEC_ALL,
};
size_t *report_section(const struct report *r, enum report_section s, size_t *n);

/* Numbers as the formats show them. */
void report_add_rate(struct sbuf *sb, long pass, long n);   /* "1/3 (33%)", "N/A" */
void report_add_mib(struct sbuf *sb, double kb);            /* "37.9 MiB" */
void report_add_ratio(struct sbuf *sb, double ratio);       /* "1.072 (+7.2%)" */
/* The geometric means of the time and RSS ratios (0 if none); *nt and *nr their counts. */
void report_pep779_geomean(const struct report *r, double *time, size_t *nt, double *rss,
			   size_t *nr);
/* "Declared (NOT_USED)", "Declared (USED)", "Not declared" (labeille), "not scanned". */
const char *report_source_status(const struct rs_pkg *p);
/* Deadlocked iterations with the GIL. */
long report_gil_deadlocks(const struct report_pkg *p);
/* Clusters of package p, as indexes into r->clusters, most iterations first. */
size_t report_pkg_clusters(const struct report *r, size_t p, size_t *out, size_t max);

/* ---- text tables: `show` and `report --format text` (src/report/report_text.c) ---- */

/* Bytes of s's first max code points (Python's s[:max]). */
size_t utf8_prefix(const char *s, size_t max);
/* At most max code points of s, control characters as blanks, padded to width code
 * points. */
void text_cell(struct sbuf *sb, const char *s, size_t max, int width);
/* n times "─" (utf8) or ascii. */
void text_rule(struct sbuf *sb, bool utf8, const char *ascii, size_t n);
/* One line per category present: "  ! Crash:     1  ( 20.0%)". */
void text_category_counts(struct sbuf *sb, const size_t counts[CAT_NR], size_t total,
			  bool utf8);

#define TEXT_DETAILS_MAX 50

/* A row of the package table. */
struct text_row {
	const char *name;
	enum ft_category cat;
	long passes, iters, crashes;
	char *details;               /* "SIGSEGV | f, 2 flaky tests, ...", or NULL */
};
/* A package row's Details, the same for `show` and `report --format text`: "interrupted,
 * SIGSEGV | f, 2 flaky tests, 3 deadlocks, vs GIL: ft_only, vs default build: time 1.07×,
 * ...". malloc'd. */
char *text_pkg_details(const struct rs_pkg *pkg);
/* The package table: header, rule, one row each. width 0 (a file, a pipe): names cut at
 * name_max code points and padded to name_width, details cut at TEXT_DETAILS_MAX. width > 0
 * (a terminal's, or $COLUMNS): columns as narrow as their contents, names whole, details
 * wrapped at words within the width (below the row when little room is left). */
void text_pkg_table(struct sbuf *sb, const struct text_row *rows, size_t n, int name_width,
		    size_t name_max, bool utf8, int width);

/* ---- pure helpers (unit-tested) ---- */

/* labeille's pass-rate buckets: 0 "100%", 1 "90-99%", 2 "50-89%", 3 "1-49%", 4 "0%",
 * 5 "N/A" (no iteration). */
int report_rate_bucket(long iterations, double pass_rate);
const char *report_rate_bucket_label(int bucket);

/*
 * labeille's investigation priority of a package object: severity (crash 50, deadlock 45,
 * intermittent 30, incompatible 25, tsan_warnings 20, install/import failure 10, unknown 5)
 * + 5 per crash (at most 20) + 5 per deadlock (at most 15) + 15 for a C extension that
 * crashes, is intermittent or has TSAN warnings + 10 for TSAN warnings. -1 for the
 * compatible categories (not triaged). reason (may be NULL) gets labeille's reason text.
 */
int report_triage_score(const struct rs_pkg *pkg, struct sbuf *reason);

/* Markdown: text with the characters markdown would interpret backslash-escaped, and
 * control characters as blanks; md_code: a code span (table-safe: '|' escaped). */
void md_text(struct sbuf *sb, const char *s);
void md_code(struct sbuf *sb, const char *s);

/* HTML: & < > " ' escaped, control characters (except tab) as blanks; NULL adds nothing. */
void html_escape(struct sbuf *sb, const char *s);

/*
 * Chart axes: a "nice" tick step (1, 2, 2.5 or 5 times a power of ten) so that [0, v] needs
 * at most max_ticks steps; v <= 0 gives 1. chart_axis_max: the first multiple of that step
 * >= v. chart_px: v scaled from [0, max] to [0, width] pixels, clamped to that range.
 */
double chart_nice_step(double v, int max_ticks);
double chart_axis_max(double v, int max_ticks);
double chart_px(double v, double max, double width);

#endif
