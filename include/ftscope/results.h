/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_RESULTS_H
#define FTSCOPE_RESULTS_H

/*
 * Building result records (docs/results.md). Iterations are cJSON objects from the start:
 * the same objects are written to artifacts/<pkg>/<n>/iteration.json, kept in the package
 * object, and read back by --resume, so there is one representation and one aggregation.
 *
 * cJSON ownership: a node created here belongs to the caller until it is added to a parent
 * with cJSON_AddItemTo*; the root is freed once with cJSON_Delete.
 */
#include <stdbool.h>
#include <stddef.h>

#include "ftscope/json.h"
#include "ftscope/supervise.h"
#include "ftscope/testreport.h"
#include "ftscope/tsan.h"
#include "ftscope/util.h"
#include "ftscope/verdict.h"

struct cJSON;

/* Evidence pulled from an iteration's stderr (never used to decide a crash). */
struct stderr_evidence {
	char *py_frame;            /* innermost frame of faulthandler's current thread:
				      "file.py:func" (basename), or NULL */
	struct strv tsan_kinds;    /* kinds of the unsuppressed TSAN reports ("data race", ...),
				      unique, in order (labeille's tsan_warnings) */
	struct tsan_reports tsan;  /* every ThreadSanitizer report (src/forensics/tsan.c), suppressions
				      applied */
	struct strv gil_modules;   /* modules named by "GIL has been enabled to load module" */
};
void stderr_evidence_scan(const char *text, struct stderr_evidence *ev);
void stderr_evidence_release(struct stderr_evidence *ev);
/*
 * TSAN suppressions that stderr_evidence_scan() marks reports with (borrowed; NULL: none).
 * Set once by `run --tsan-suppressions` before any iteration.
 */
void stderr_evidence_set_tsan_suppressions(const struct tsan_supp *s);

/* Per-iteration bound on "tsan_reports" (the rest are counted in "tsan_reports_omitted"). */
#define TSAN_REPORTS_MAX 50

/*
 * A pytest iteration that "passed" without pytest finishing its session (no JUnit report,
 * no summary line: the runner died quietly, or something exited 0 under it) is no pass: its
 * status becomes "fail" with "session_unfinished": true.
 */
void iteration_require_session(struct cJSON *it, const struct test_report *tr);

/* "SIGSEGV" or "SIGSEGV: test_x.py:worker" (stage 1 signature: signal + innermost Python
 * frame; native frames come with the ptrace tracer). malloc'd. */
char *crash_signature_basic(int sig, const char *py_frame);

/*
 * The iteration record. `gil` is "0" or "1"; `artifacts_rel` is relative to the run dir;
 * `stderr_text` is the iteration's captured stderr (NULL = use o->stderr_tail).
 */
struct cJSON *iteration_json(int index, const char *gil, const struct iter_outcome *o,
			     const struct test_report *tr, const char *stderr_text,
			     const char *artifacts_rel);

/*
 * An iteration record read back from its iteration.json text (--resume): the object, or
 * NULL when text is not a JSON object with a known "status". Caller owns the node.
 */
struct cJSON *iteration_parse(const char *text, size_t len);

/*
 * Recompute every derived field of a package object from its "iterations" (and
 * "gil_enabled_iterations", "extension_compat", "install_ok", "import_ok"):
 * iterations_completed, *_count, pass_rate, mean_duration_s, failure_signatures,
 * tsan_warning_types, tsan_warning_iterations, tsan_races, flaky_tests, gil_fallback_modules,
 * category, gil_enabled_pass_rate, gil_comparison, hang_count.
 */
void pkg_aggregate(struct cJSON *pkg);

/*
 * When every finished package (two or more) is install_failure, or every one
 * import_failure, with the same error once each package's own name is left out (one cause:
 * a broken build, a missing backend, no network), one line saying so and quoting the error's
 * telling line: "Every package (6) failed the same way, install_failure: ...". Else NULL.
 * malloc'd. `show` leads with it and `run` ends with it.
 */
char *pkgs_uniform_failure(struct cJSON *const *pkgs, size_t n);

/*
 * PEP 779's criteria for the free-threaded build against the GIL build: at most 15% slower
 * and at most 20% more memory.
 */
#define PEP779_TIME_LIMIT 1.15
#define PEP779_RSS_LIMIT 1.20

/*
 * A package's "pep779" object (docs/results.md) from its free-threaded and GIL-enabled
 * iteration arrays, over the *passing* iterations of each mode only (a crash or a hang says
 * nothing about speed): {time_ratio, rss_ratio, time_ok, rss_ok, ft_median_s, gil_median_s,
 * ft_median_rss_kb, gil_median_rss_kb, ft_passes, gil_passes}. Ratios are FT median / GIL
 * median, rounded to 3 decimals, and *_ok compares the rounded ratio with the limit. The
 * memory fields are null when either mode has no max_rss_kb > 0. Returns a cJSON null when
 * either mode has no passing iteration with a duration. Caller owns the node.
 */
struct cJSON *pep779_json(const struct cJSON *ft_iters, const struct cJSON *gil_iters);

/* The median of v[0..n) (sorts v); 0 when n == 0. */
double median_of(double *v, size_t n);

#endif
