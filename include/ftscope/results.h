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

#include "ftscope/supervise.h"
#include "ftscope/testreport.h"
#include "ftscope/util.h"
#include "ftscope/verdict.h"

struct cJSON;

/* Evidence pulled from an iteration's stderr (never used to decide a crash). */
struct stderr_evidence {
	char *py_frame;            /* innermost frame of faulthandler's current thread:
				      "file.py:func" (basename), or NULL */
	struct strv tsan_kinds;    /* "data race", ... unique, in order */
	struct strv gil_modules;   /* modules named by "GIL has been enabled to load module" */
};
void stderr_evidence_scan(const char *text, struct stderr_evidence *ev);
void stderr_evidence_release(struct stderr_evidence *ev);

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
 * Recompute every derived field of a package object from its "iterations" (and
 * "gil_enabled_iterations", "extension_compat", "install_ok", "import_ok"):
 * iterations_completed, *_count, pass_rate, mean_duration_s, failure_signatures,
 * tsan_warning_types, tsan_warning_iterations, flaky_tests, gil_fallback_modules, category,
 * gil_enabled_pass_rate, gil_comparison, hang_count.
 */
void pkg_aggregate(struct cJSON *pkg);

/* Helpers for optional values. */
void json_set(struct cJSON *obj, const char *key, struct cJSON *val); /* replaces */
void json_set_str(struct cJSON *obj, const char *key, const char *s); /* NULL -> null */
void json_set_num(struct cJSON *obj, const char *key, double v);
void json_set_bool(struct cJSON *obj, const char *key, bool v);
double json_num(const struct cJSON *obj, const char *key, double dflt);
const char *json_str(const struct cJSON *obj, const char *key); /* NULL if absent/not str */
bool json_bool(const struct cJSON *obj, const char *key, bool dflt);
/* Round to n decimals (labeille: pass_rate 4 dp, durations 2-3 dp). */
double round_to(double v, int decimals);

#endif
