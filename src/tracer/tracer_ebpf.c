/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * --tracer ebpf: ptrace (tracer_ptrace.c) plus the eBPF recorder (bpfrec.h), whose
 * blocked-thread map is the deadlock rule's live view (tracer.h). The recorder is opened at
 * the first tree (loading costs tens of ms) and kept for the next ones; a tree it cannot
 * watch runs under ptrace alone.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "ftscope/bpfrec.h"
#include "ftscope/procconn.h"
#include "ftscope/ptracer.h"
#include "ftscope/supervise.h"
#include "ftscope/tracer.h"
#include "ftscope/waitgraph.h"

struct ebpf {
	struct bpfrec *rec;
	bool failed;
	char *error;                 /* why it could not be opened */
	struct bpf_blocked *blocked; /* its blocked-thread view */
	size_t blocked_cap;
};

static struct ebpf *ebpf_of(struct tracer_tree *tt)
{
	if (!tt->tracer->priv)
		tt->tracer->priv = xcalloc(1, sizeof(struct ebpf));
	return tt->tracer->priv;
}

/* The recorder, opened on first use; NULL if it cannot be. */
static struct bpfrec *recorder_get(struct ebpf *e)
{
	struct sbuf err = SBUF_INIT;
	if (e->rec || e->failed)
		return e->rec;
	if (bpfrec_open(&e->rec, &err) < 0) {
		e->rec = NULL;
		e->failed = true;
		e->error = sbuf_detach(&err);
	}
	sbuf_release(&err);
	return e->rec;
}

/* The recorder alone (doctor checks ptrace on its own line): load time, syscall hooks. */
static int ebpf_doctor(struct sbuf *msg)
{
	struct bpfrec *r = NULL;
	double t0 = now_monotonic();
	int ok = bpfrec_open(&r, msg) == 0;
	if (ok)
		sbuf_addf(msg, "loads and attaches (%.0f ms; blocking calls seen by %s): "
			       "--tracer ebpf",
			  (now_monotonic() - t0) * 1000, bpfrec_syscall_hooks(r));
	bpfrec_close(r);
	return ok ? 0 : -1;
}

static int ebpf_probe(struct sbuf *why)
{
	struct bpfrec *probe = NULL;
	int r;
	if (tracer_ptrace_ops.probe(why) < 0)
		return -1;
	r = bpfrec_open(&probe, why);
	bpfrec_close(probe);
	return r < 0 ? -1 : 0;
}

static void ebpf_begin(struct tracer_tree *tt)
{
	struct bpfrec *rec = recorder_get(ebpf_of(tt));
	if (rec)
		bpfrec_reset(rec); /* nothing of the previous tree is kept */
}

/* A process forked by a thread not traced (threads are traced on demand): follow it now. */
static void ebpf_fork(void *arg, pid_t child, pid_t parent_tid, pid_t parent_tgid,
		      uint64_t ts_ns)
{
	struct tracer_tree *tt = arg;
	struct procconn_fork f = { .parent_pid = parent_tid, .parent_tgid = parent_tgid,
				   .child_pid = child, .child_tgid = child, .at_ns = ts_ns };
	if (tt->tracing && tt->pt->lazy_threads)
		ptracer_on_fork(tt->pt, &f);
}

/* The recorder reads the registers of a crashing thread (x86-64). */
static bool ebpf_signs_crashes(struct tracer_tree *tt)
{
#if defined(__x86_64__)
	return recorder_get(ebpf_of(tt)) != NULL;
#else
	(void)tt;
	return false;
#endif
}

static int ebpf_crash_regs(struct tracer_tree *tt, pid_t tgid, struct bpf_crash *out)
{
	struct ebpf *e = ebpf_of(tt);
	/* a map of its own, not the ring: nothing to drain first (draining would run the fork
	 * hook, which seizes, inside the exit stop's handling) */
	return e->rec ? bpfrec_crash_take(e->rec, tgid, out) : -ENOENT;
}

static void ebpf_attach(struct tracer_tree *tt, pid_t root, struct iter_outcome *out)
{
	struct ebpf *e = ebpf_of(tt);
	if (recorder_get(e)) {
		bpfrec_track(e->rec, root);
		bpfrec_on_fork(e->rec, ebpf_fork, tt);
	} else {
		out->tracer_error = xstrdup(e->error);
		tt->ops = &tracer_ptrace_ops;
	}
	tracer_ptrace_attach(tt, root, out);
	if (!tt->tracing && tt->ops != &tracer_ebpf_ops)
		tt->ops = &tracer_none_ops;
}

static int ebpf_poll_fd(struct tracer_tree *tt)
{
	return bpfrec_fd(ebpf_of(tt)->rec);
}

static void ebpf_consume(struct tracer_tree *tt)
{
	bpfrec_consume(ebpf_of(tt)->rec);
}

/* The recorder's blocked threads into e->blocked; returns the live threads. */
static size_t blocked_threads(struct ebpf *e, size_t *nb)
{
	if (e->blocked_cap < 4096) {
		e->blocked_cap = 4096;
		e->blocked = xrealloc(e->blocked, e->blocked_cap * sizeof(*e->blocked));
	}
	return bpfrec_threads(e->rec, e->blocked, e->blocked_cap, nb);
}

/* The threads in untimed futex waits, from the recorder's view of blocked threads. */
static size_t ebpf_waiters(struct tracer_tree *tt, const struct proc_view *pv,
			   struct wg_waiter **w)
{
	struct ebpf *e = ebpf_of(tt);
	size_t nb = 0, n = 0;
	(void)pv;
	blocked_threads(e, &nb);
	*w = xcalloc(nb ? nb : 1, sizeof(**w));
	for (size_t i = 0; i < nb; i++)
		if (!e->blocked[i].timed && !e->blocked[i].child_wait)
			(*w)[n++] = (struct wg_waiter){ e->blocked[i].tgid, e->blocked[i].tid,
							e->blocked[i].uaddr, e->blocked[i].op };
	return n;
}

/* The deadlock rule on the recorder's live view: every live thread of the tree blocked
 * (untimed futex or child wait, at least one futex); *quiet_from: when the last one
 * blocked. */
static bool ebpf_all_blocked(struct tracer_tree *tt, const struct proc_view *pv,
			     double *quiet_from)
{
	struct ebpf *e = ebpf_of(tt);
	size_t nb = 0, live;
	bool any_futex = false;
	uint64_t latest = 0;
	(void)pv;
	live = blocked_threads(e, &nb);
	if (!live || nb != live)
		return false;
	for (size_t i = 0; i < nb; i++) {
		if (e->blocked[i].timed)
			return false;
		any_futex |= !e->blocked[i].child_wait;
		if (e->blocked[i].since_ns > latest)
			latest = e->blocked[i].since_ns;
	}
	*quiet_from = (double)latest / 1e9; /* bpf_ktime_get_ns: CLOCK_MONOTONIC */
	return any_futex;
}

/* The recorder's summary, and the concurrency it measured better than /proc samples. */
static void ebpf_summary(struct tracer_tree *tt, struct iter_outcome *out)
{
	struct ebpf *e = ebpf_of(tt);
	const cJSON *c, *lw;
	bpfrec_consume(e->rec);
	bpfrec_on_fork(e->rec, NULL, NULL); /* tt is the supervisor's, gone after this */
	out->recorder = bpfrec_summary(e->rec);
	c = cJSON_GetObjectItemCaseSensitive(out->recorder, "concurrency");
	lw = cJSON_GetObjectItemCaseSensitive(out->recorder, "lock_waits");
	if (cJSON_IsObject(c)) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "peak_threads");
		if (cJSON_IsNumber(v) && v->valueint > out->peak_threads)
			out->peak_threads = v->valueint;
		v = cJSON_GetObjectItemCaseSensitive(c, "cpu_overlap_ms");
		out->cpu_overlap_ms = cJSON_IsNumber(v) ? v->valuedouble : 0;
	}
	if (cJSON_IsObject(lw)) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(lw, "contended_waits");
		out->contended_waits = cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
	}
}

static void ebpf_release(struct tracer *t)
{
	struct ebpf *e = t->priv;
	if (!e)
		return;
	bpfrec_close(e->rec);
	free(e->error);
	free(e->blocked);
	free(e);
	t->priv = NULL;
}

const struct tracer_ops tracer_ebpf_ops = {
	.name = "ebpf",
	.auto_note = "the eBPF recorder loads and ptrace is permitted",
	/* With the recorder the window needs no /proc polling; /proc still serves the stall
	 * rule (CPU progress), at a slower pace. */
	.live_view = true,
	.sample_interval = 1.0,
	.probe = ebpf_probe,
	.begin = ebpf_begin,
	.child_prepare = ptracer_child_prepare,
	.attach = ebpf_attach,
	.poll_fd = ebpf_poll_fd,
	.consume = ebpf_consume,
	.waiters = ebpf_waiters,
	.all_blocked = ebpf_all_blocked,
	.signs_crashes = ebpf_signs_crashes,
	.crash_regs = ebpf_crash_regs,
	.summary = ebpf_summary,
	.release = ebpf_release,
	.doctor_what = "eBPF recorder",
	.doctor = ebpf_doctor,
	.builds_on = &tracer_ptrace_ops,
};
