/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_VERDICT_H
#define FTSCOPE_VERDICT_H

/*
 * The rules that turn what happened into words (design.md "Iteration verdicts", labeille's
 * categorize_package order). Pure functions, table-tested in tests/unit/test_verdict.c.
 */
#include <stdbool.h>

/* Why the supervisor (supervise.h) killed a tree. */
enum killed_by {
	KILLED_NONE = 0,
	KILLED_DEADLOCK,  /* lock_wait rule */
	KILLED_STALL,     /* stall rule */
	KILLED_TIMEOUT,
	KILLED_INTERRUPT, /* iter_spec.interrupted became non-zero (Ctrl-C) */
};
const char *killed_by_name(enum killed_by k); /* NULL for KILLED_NONE */

enum iter_status { ITER_PASS, ITER_FAIL, ITER_CRASH, ITER_TIMEOUT, ITER_DEADLOCK };
const char *iter_status_name(enum iter_status s);
int iter_status_from_name(const char *name); /* -1 if unknown */

/* SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS. */
bool is_crash_signal(int sig);

/*
 * Iteration status. Hangs decided by the supervisor come first: deadlock for lock_wait (every
 * thread in an untimed lock wait); timeout for timeout and for stall (no output and no CPU,
 * threads not all in lock waits: stopped, sleeping, waiting on I/O; a hang, not a proven
 * deadlock; killed_by and hang.reason say "stall");
 * then a crash signal that ended the test command, or the test
 * runner under it (runner_crash_sig, seen by the ptrace tracer even when the shell goes on),
 * or a shell's 128+N for a crash signal N; then exit 0 = pass, anything else = fail.
 * *crash_sig gets the crash signal (0 if none). Never looks at the output.
 */
enum iter_status verdict_iteration(bool exited, int exit_code, int term_signal,
				   int runner_crash_sig, enum killed_by killed_by, int *crash_sig);

struct pkg_counts {
	bool install_ok;
	bool import_ok;
	int iterations;      /* completed */
	int pass, fail, crash, timeout, deadlock;
	int tsan_iterations; /* iterations with TSAN warnings */
	bool gil_fallback;   /* an extension re-enabled the GIL (probe or runtime warning) */
	bool interrupted;    /* cut short by Ctrl-C/SIGTERM: no iterations means no verdict */
};

/* labeille's decision order; returns the category name (static string). */
const char *verdict_category(const struct pkg_counts *c);

/*
 * GIL comparison from failure counts (non-pass iterations) of the free-threaded and the
 * GIL-enabled runs: "same" (neither fails), "ft_only" (only without the GIL), "gil_helps"
 * (both fail, the free-threaded run significantly more: one-sided Fisher exact p <= 0.05),
 * "pre_existing" (fails with the GIL as well). NULL when either run has no iterations.
 */
const char *verdict_gil_comparison(int ft_fail, int ft_n, int gil_fail, int gil_n);

/* One-sided Fisher exact test p-value that group A's failure rate exceeds group B's. */
double fisher_greater(int a_fail, int a_n, int b_fail, int b_n);

#endif
