/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_STRESS_H
#define FTSCOPE_STRESS_H

/*
 * Stress iterations (`run --parallel-threads N [--parallel-iterations M]`): the package's
 * pytest suite once more, with pytest-run-parallel running every test body in N threads at
 * once behind a barrier (M times per thread), through PYTEST_ADDOPTS. They run after the
 * plain iterations (a test that fails in one thread is no stress finding) and are kept apart
 * from them: artifacts/<pkg>/stress-<n>/, the package's `stress` block (docs/results.md).
 *
 * The plugin marks its per-test outcomes in pytest's -v lines:
 *   tests/test_cache.py::test_fill PARALLEL FAILED   [ 50%]
 *   tests/test_cache.py::test_one PASSED [thread-unsafe]: uses the thread_unsafe marker
 *   tests/test_cache.py::test_two FAILED ([thread-unsafe]: test is marked as single-threaded)
 * which ftscope reads from root's stdout capture.
 */
#include <stdbool.h>

#include "ftscope/util.h"

struct cJSON;

/* Whether a word of the command is pytest's: pytest, py.test, python -m pytest. */
bool command_runs_pytest(const char *cmd);

/* NULL when test_command runs pytest (stress applies); else why not (static text). */
const char *stress_skip_reason(const char *test_command);

/* Append the plugin's options to env's PYTEST_ADDOPTS and ask it to name thread-unsafe
 * tests (PYTEST_RUN_PARALLEL_VERBOSE=1). */
void stress_env(struct strv *env, int threads, int iterations);

/* Add "parallel_failed" (test ids) and "thread_unsafe" (id -> reason) to a stress
 * iteration's record, from its pytest -v output. */
void stress_parse_output(const char *stdout_text, struct cJSON *it);

/* The package's stress block for a run: {"threads", "plugin_iterations", "plugin_version",
 * "skipped_reason", "iterations": []}; aggregated later by pkg_aggregate(). */
struct cJSON *stress_block(int threads, int iterations, const char *plugin_version,
			   const char *skipped_reason);

/* How a package's concurrency was exercised: "own threads", "stress", "own threads +
 * stress", "none"; NULL when the results do not say (static). */
const char *concurrency_how(const struct cJSON *pkg);

/* One line for reports: "stress x4: 0/2 passed; fails only under stress: t1, t2 (+3)", "no
 * stress (not a pytest suite)"; NULL without a stress block. malloc'd. */
char *stress_summary(const struct cJSON *pkg);

#endif
