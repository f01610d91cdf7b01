/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_TRACER_H
#define FTSCOPE_TRACER_H

/*
 * How the processes of a test tree are watched, as backends (in the spirit of strace's
 * unwinder ops): one file each, src/tracer_<name>.c, with a struct tracer_ops; the table in
 * src/tracer/tracer.c lists them in auto's order of preference and is the only place that names
 * them all.
 *   none    the /proc progress monitor only (supervise.c samples it for every tracer);
 *   ptrace  + every process and thread followed: crash stops, every exit, snapshots;
 *   ebpf    ptrace + the eBPF recorder (bpfrec.h): signals, lock waits and thread states
 *           in real time; its blocked-thread map drives the deadlock window. It sees a
 *           crash's registers itself, so threads are traced only when they must be stopped
 *           (no stops at their start), processes from their start.
 * A tracer is chosen once per run (tracer_select) and handed to every supervised tree
 * (iter_spec.tracer); what it opens (the recorder) is opened at first use, in the process
 * that supervises, and kept for the next trees until tracer_release.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ftscope/util.h"

struct bpf_crash;
struct iter_outcome;
struct ptracer;
struct tree_sample;
struct wg_waiter;

/* One tracer for a run: its ops and what they keep from tree to tree. */
struct tracer {
	const struct tracer_ops *ops;
	void *priv;
};

/* One tree under a tracer, for one supervise_run (supervise.c owns it). */
struct tracer_tree {
	struct tracer *tracer;        /* NULL: none */
	const struct tracer_ops *ops; /* in effect: the tracer's, or what it fell back to */
	struct ptracer *pt;           /* supervise.c's ptrace state, for tracers that use it */
	bool tracing;                 /* pt follows the tree */
};

/* The /proc monitor's view (supervise.c's last sample), for tracers without their own. */
struct proc_view {
	const struct tree_sample *cur;
	bool all_blocked;      /* every live thread in an untimed wait, at least one futex */
	double blocked_since;  /* since when (< 0: not all blocked) */
};

struct tracer_ops {
	const char *name; /* --tracer NAME, "tracer" in the results */
	/* auto's reason when it is the first choice; a note added when it is auto's fallback */
	const char *auto_note, *fallback_note;
	/* Its own live view of blocked threads: the deadlock rule is checked at every turn of
	 * the loop, not at each /proc sample; sample_interval: seconds between /proc samples. */
	bool live_view;
	double sample_interval;
	/* Can it run here? 0, or -1 with why in *why. */
	int (*probe)(struct sbuf *why);
	/* A tree is about to be forked: forget the previous one (may be NULL). */
	void (*begin)(struct tracer_tree *tt);
	/* In the forked child, before exec (may be NULL). */
	void (*child_prepare)(void);
	/* In the parent, the child forked (and held by child_prepare): watch it. Sets
	 * tt->tracing, tt->ops (to a fallback's if it cannot), out->tracer and
	 * out->tracer_error. A tree that cannot be traced runs untraced. */
	void (*attach)(struct tracer_tree *tt, pid_t root, struct iter_outcome *out);
	/* A descriptor to poll with the output (-1: none), and what to do when it is readable
	 * (may be NULL). */
	int (*poll_fd)(struct tracer_tree *tt);
	void (*consume)(struct tracer_tree *tt);
	/* The threads in untimed futex waits; *w malloc'd. */
	size_t (*waiters)(struct tracer_tree *tt, const struct proc_view *pv,
			  struct wg_waiter **w);
	/* Every live thread blocked? *quiet_from: since when (CLOCK_MONOTONIC seconds). */
	bool (*all_blocked)(struct tracer_tree *tt, const struct proc_view *pv,
			    double *quiet_from);
	/* Does it see crashes without a crash stop (the recorder's registers of the crashing
	 * thread, crash_regs)? Then threads need not be traced from their start (may be NULL:
	 * no). Asked after begin. */
	bool (*signs_crashes)(struct tracer_tree *tt);
	/* The crash a thread of tgid raised, with its registers: 0, or -ENOENT. */
	int (*crash_regs)(struct tracer_tree *tt, pid_t tgid, struct bpf_crash *out);
	/* The tree is gone: what the tracer saw into out (may be NULL). */
	void (*summary)(struct tracer_tree *tt, struct iter_outcome *out);
	/* What the tracer kept (may be NULL). */
	void (*release)(struct tracer *t);
	/* `ftscope doctor`: what this tracer adds to the host's requirements ("ptrace", "eBPF
	 * recorder") and its check: 0 with what it gives in *msg, -1 with why not in *msg
	 * (NULL: nothing to check, as for none). */
	const char *doctor_what;
	int (*doctor)(struct sbuf *msg);
	/* The tracer it builds on (ebpf on ptrace): asking for it asks for that one too. */
	const struct tracer_ops *builds_on;
	/* auto without it is a degraded run: doctor (auto) fails when it cannot run. */
	bool auto_needs;
};

/*
 * The tracer --tracer asks for ("auto", or a name of the table). 0 with *out (NULL for
 * none) and *reason (malloc'd: why this one); -1 with the error in *err when the one asked
 * for cannot run here.
 */
int tracer_select(const char *want, struct tracer **out, char **reason, struct sbuf *err);
/* The ops of a name, or NULL. */
const struct tracer_ops *tracer_find(const char *name);
/* The i-th tracer of the table (auto's order of preference), NULL past the last. */
const struct tracer_ops *tracer_at(size_t i);
/* "auto, none, ptrace or ebpf" (static) */
const char *tracer_choices(void);
/* The name of a run's tracer ("none" for NULL). */
const char *tracer_name(const struct tracer *t);
void tracer_release(struct tracer *t);

/* ---- for the backends ---- */
extern const struct tracer_ops tracer_none_ops, tracer_ptrace_ops, tracer_ebpf_ops;
/* The /proc monitor's answers (tracer_none.c), for tracers without a view of their own. */
size_t tracer_proc_waiters(struct tracer_tree *tt, const struct proc_view *pv,
			   struct wg_waiter **w);
bool tracer_proc_all_blocked(struct tracer_tree *tt, const struct proc_view *pv,
			     double *quiet_from);
/* ptrace's attach (tracer_ptrace.c), which ebpf's builds on. */
void tracer_ptrace_attach(struct tracer_tree *tt, pid_t root, struct iter_outcome *out);

#endif
