/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* Where a run stands: whether to stop, and the progress line (run.h). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "ftscope/diskspace.h"
#include "ftscope/run.h"
#include "ftscope/run_outcome.h"
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
	struct sbuf line = SBUF_INIT;
	char *name;
	if (!rc->tty)
		return;
	(void)elapsed;
	name = term_str(p->pkg);
	progress_line(&line, output_width(stderr), rc->pkg_index, rc->pkg_total, name, p->phase,
		      p->iter, p->iters, p->counts, total);
	fprintf(stderr, "\r\033[K%s", line.buf);
	fflush(stderr);
	sbuf_release(&line);
	free(name);
}

void run_progress_clear(struct run_ctx *rc)
{
	if (rc->tty) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
}
