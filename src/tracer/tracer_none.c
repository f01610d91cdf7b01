/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* --tracer none: the /proc progress monitor only (tracer.h). */
#include <stdlib.h>

#include "ftscope/procfs.h"
#include "ftscope/tracer.h"
#include "ftscope/waitgraph.h"

/* The threads of the last /proc sample in untimed futex waits. */
size_t tracer_proc_waiters(struct tracer_tree *tt, const struct proc_view *pv,
			   struct wg_waiter **w)
{
	const struct tree_sample *cur = pv->cur;
	size_t n = 0;
	(void)tt;
	*w = xcalloc(cur->n ? cur->n : 1, sizeof(**w));
	for (size_t i = 0; i < cur->n; i++) {
		const struct task_sample *t = &cur->tasks[i];
		if (t->untimed_futex_wait && (t->state == 'S' || t->state == 'D'))
			(*w)[n++] = (struct wg_waiter){ t->pid, t->tid, t->args[0], t->args[1] };
	}
	return n;
}

bool tracer_proc_all_blocked(struct tracer_tree *tt, const struct proc_view *pv,
			     double *quiet_from)
{
	(void)tt;
	*quiet_from = pv->blocked_since;
	return pv->all_blocked;
}

static int none_probe(struct sbuf *why)
{
	(void)why;
	return 0; /* /proc is always there */
}

static void none_attach(struct tracer_tree *tt, pid_t root, struct iter_outcome *out)
{
	(void)root;
	(void)out;
	tt->ops = &tracer_none_ops;
	tt->tracing = false;
}

const struct tracer_ops tracer_none_ops = {
	.name = "none",
	.auto_note = "only the /proc monitor runs",
	.fallback_note = "only the /proc monitor runs",
	.live_view = false,
	.sample_interval = 0.2,
	.probe = none_probe,
	.attach = none_attach,
	.waiters = tracer_proc_waiters,
	.all_blocked = tracer_proc_all_blocked,
};
