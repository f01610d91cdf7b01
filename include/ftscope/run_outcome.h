/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_RUN_OUTCOME_H
#define FTSCOPE_RUN_OUTCOME_H

/*
 * The end of `ftscope run`, for a person and for CI: point to the command that explains
 * deadlocks and crashes, and `--fail-on CATEGORIES` (exit 3 when a package landed in one).
 */
#include <stdio.h>


/* "deadlock,crash,intermittent" (category names, ft_results.jsonl's; "all-failing": every
 * category but the usable ones) as a bit mask of enum ft_category. 0, or -EINVAL with the
 * bad word in *bad (static or a pointer into a malloc'd copy that is leaked: exits follow). */
int fail_on_parse(const char *spec, unsigned *mask, const char **bad);

/*
 * After a run's summary: "2 packages deadlocked: ftscope deadlocks RUN" lines on f, and the
 * exit status: FT_EXIT_FAIL_ON when a package's category is in mask, else FT_EXIT_OK (also
 * when the results cannot be read: the summary said so already).
 */
int run_outcome(FILE *f, const char *run_dir, unsigned mask);

/*
 * The progress line of a run on a terminal, fitted to `width` columns (0: 80):
 * "[3/10] name  test 4/10  pass 3 fail 1  0:01:12  ETA 0:04:00"; counts are pass, fail,
 * crash, timeout, deadlock (the ones at 0 after fail are left out); the name is shortened
 * first, then the ETA dropped. The ETA assumes the packages left take as long as the done
 * ones: elapsed / fraction done - elapsed (none before 2% is done). Appends to sb.
 */
struct sbuf;
void progress_line(struct sbuf *sb, int width, size_t pkg_index, size_t pkg_total,
		   const char *name, const char *phase, int iter, int iters, const int counts[5],
		   double elapsed);

#endif
