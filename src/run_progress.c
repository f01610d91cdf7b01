/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* Where a run stands: whether to stop, and the progress line (run.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "ftscope/diskspace.h"
#include "ftscope/run.h"
#include "ftscope/text.h"
#include "ftscope/util.h"

volatile sig_atomic_t run_interrupted;

bool run_stop_requested(void)
{
	if (!run_interrupted && space_is_full())
		run_interrupted = 1;
	return run_interrupted;
}

void run_progress_draw(void *arg, double elapsed)
{
	struct run_progress *p = arg;
	struct run_ctx *rc = p->rc;
	double total = now_monotonic() - rc->t0;
	char *name;
	if (!rc->tty)
		return;
	(void)elapsed;
	name = term_str(p->pkg);
	fprintf(stderr,
		"\r\033[K[%zu/%zu] %-22.22s %s %d/%d  pass %d fail %d crash %d timeout %d "
		"deadlock %d  %d:%02d:%02d",
		rc->pkg_index, rc->pkg_total, name, p->phase, p->iter, p->iters, p->counts[0],
		p->counts[1], p->counts[2], p->counts[3], p->counts[4], (int)total / 3600,
		(int)total / 60 % 60, (int)total % 60);
	fflush(stderr);
	free(name);
}

void run_progress_clear(struct run_ctx *rc)
{
	if (rc->tty) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
}
