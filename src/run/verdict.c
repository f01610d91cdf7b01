/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <math.h>
#include <signal.h>
#include <string.h>

#include "ftscope/verdict.h"

const char *killed_by_name(enum killed_by k)
{
	switch (k) {
	case KILLED_DEADLOCK:
		return "deadlock";
	case KILLED_STALL:
		return "stall";
	case KILLED_TIMEOUT:
		return "timeout";
	case KILLED_INTERRUPT:
		return "interrupt";
	default:
		return NULL;
	}
}

static const char *const status_names[] = { "pass", "fail", "crash", "timeout", "deadlock" };

const char *iter_status_name(enum iter_status s)
{
	return status_names[s];
}

int iter_status_from_name(const char *name)
{
	for (int i = 0; i < (int)(sizeof(status_names) / sizeof(status_names[0])); i++)
		if (name && !strcmp(name, status_names[i]))
			return i;
	return -1;
}

bool is_crash_signal(int sig)
{
	switch (sig) {
	case SIGSEGV:
	case SIGBUS:
	case SIGILL:
	case SIGFPE:
	case SIGABRT:
	case SIGTRAP:
	case SIGSYS:
		return true;
	default:
		return false;
	}
}

enum iter_status verdict_iteration(bool exited, int exit_code, int term_signal,
				   int runner_crash_sig, enum killed_by killed_by, int *crash_sig)
{
	*crash_sig = 0;
	switch (killed_by) {
	case KILLED_DEADLOCK:
		return ITER_DEADLOCK;
	case KILLED_STALL: /* a hang with no lock waits to show: not a proven deadlock */
	case KILLED_TIMEOUT:
		return ITER_TIMEOUT;
	default:
		break;
	}
	if (!exited && is_crash_signal(term_signal)) {
		*crash_sig = term_signal;
		return ITER_CRASH;
	}
	if (is_crash_signal(runner_crash_sig)) {
		*crash_sig = runner_crash_sig;
		return ITER_CRASH;
	}
	if (exited && exit_code > 128 && is_crash_signal(exit_code - 128)) {
		*crash_sig = exit_code - 128; /* the shell reported its child's death */
		return ITER_CRASH;
	}
	if (exited && exit_code == 0)
		return ITER_PASS;
	return ITER_FAIL;
}

const char *verdict_category(const struct pkg_counts *c)
{
	/* an install or a probe that was interrupted failed nothing */
	if (c->interrupted && c->iterations == 0)
		return "unknown";
	if (!c->install_ok)
		return "install_failure";
	if (!c->import_ok)
		return "import_failure";
	if (c->iterations == 0)
		return "unknown";
	if (c->deadlock > 0)
		return "deadlock";
	if (c->crash > 0)
		return "crash";
	if (c->pass == c->iterations) {
		if (c->tsan_iterations > 0)
			return "tsan_warnings";
		if (c->gil_fallback)
			return "compatible_gil_fallback";
		return "compatible";
	}
	if (c->pass == 0)
		return "incompatible";
	return "intermittent";
}

static double log_choose(int n, int k)
{
	return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0);
}

double fisher_greater(int a_fail, int a_n, int b_fail, int b_n)
{
	/* Hypergeometric tail: P(X >= a_fail) with X = failures landing in group A. */
	int total_fail = a_fail + b_fail, n = a_n + b_n;
	int hi = total_fail < a_n ? total_fail : a_n;
	double p = 0, denom = log_choose(n, total_fail);
	for (int x = a_fail; x <= hi; x++) {
		if (total_fail - x > b_n)
			continue;
		p += exp(log_choose(a_n, x) + log_choose(b_n, total_fail - x) - denom);
	}
	return p > 1.0 ? 1.0 : p;
}

const char *verdict_gil_comparison(int ft_fail, int ft_n, int gil_fail, int gil_n)
{
	if (ft_n <= 0 || gil_n <= 0)
		return NULL;
	if (ft_fail == 0 && gil_fail == 0)
		return "same";
	if (gil_fail == 0)
		return "ft_only";
	if (ft_fail == 0)
		return "pre_existing";
	if (fisher_greater(ft_fail, ft_n, gil_fail, gil_n) <= 0.05)
		return "gil_helps";
	return "pre_existing";
}
