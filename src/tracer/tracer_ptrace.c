/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* --tracer ptrace: every process and thread of the tree followed (tracer.h, ptracer.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/procconn.h"
#include "ftscope/ptracer.h"
#include "ftscope/supervise.h"
#include "ftscope/tracer.h"

static int ptrace_probe(struct sbuf *why)
{
	const char *w = NULL;
	if (ptrace_permitted(&w))
		return 0;
	sbuf_adds(why, w ? w : "ptrace is not permitted");
	return -1;
}

static int ptrace_doctor(struct sbuf *msg)
{
	if (ptrace_probe(msg) < 0)
		return -1;
	int fd;
	sbuf_adds(msg, "permitted: --tracer ptrace (crash stops, snapshots)");
	fd = procconn_open();
	if (fd >= 0)
		sbuf_adds(msg, "; --seize-threads can follow threads without stops (the kernel's "
			       "process events reach ftscope)");
	else
		sbuf_addf(msg, "; --seize-threads falls back to clone stops here (the kernel's "
			       "process events: %s)",
			  fd == -ETIMEDOUT ? "not sent to this namespace" : strerror(-fd));
	procconn_close(fd);
	return 0;
}

/* Seize the child held in ptracer_child_prepare(); one that cannot be is let go untraced. */
void tracer_ptrace_attach(struct tracer_tree *tt, pid_t root, struct iter_outcome *out)
{
	int r = ptracer_attach_child(tt->pt, root);
	if (r == 0) {
		tt->tracing = true;
		out->tracer = tt->ops->name;
		out->traced = true;
	} else {
		free(out->tracer_error); /* the recorder's, when ebpf fell back to ptrace */
		out->tracer_error = xasprintf("ptrace: %s", strerror(-r));
		kill(root, SIGCONT); /* run it untraced */
	}
}

static void ptrace_attach(struct tracer_tree *tt, pid_t root, struct iter_outcome *out)
{
	tracer_ptrace_attach(tt, root, out);
	if (!tt->tracing)
		tt->ops = &tracer_none_ops;
}

const struct tracer_ops tracer_ptrace_ops = {
	.name = "ptrace",
	.auto_note = "ptrace is permitted",
	.live_view = false,
	.sample_interval = 0.2,
	.probe = ptrace_probe,
	.child_prepare = ptracer_child_prepare,
	.attach = ptrace_attach,
	.waiters = tracer_proc_waiters,
	.all_blocked = tracer_proc_all_blocked,
	.doctor_what = "ptrace",
	.doctor = ptrace_doctor,
	.auto_needs = true,
};
