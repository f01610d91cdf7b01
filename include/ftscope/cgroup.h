/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_CGROUP_H
#define FTSCOPE_CGROUP_H

/*
 * A pids cgroup per supervised tree: caps how many tasks (processes + threads) a test may
 * create, so a fork storm hits EAGAIN inside the test instead of taking the machine down
 * (RLIMIT_NPROC does not bind root). cgroup v2 where the pids controller is available, else
 * the v1 pids hierarchy; neither (no root, read-only /sys/fs/cgroup): the limit is off and
 * cgroup_create says why.
 */
#include <stdbool.h>
#include <sys/types.h>

struct cgroup {
	char *dir;       /* the cgroup's directory, NULL if none */
	bool v2;
};

/* Make a fresh cgroup limited to max_tasks. 0, or -1 with *why (static string). */
int cgroup_create(struct cgroup *cg, long max_tasks, const char **why);
/* Move the calling process into it (call in the child before exec). Async-signal-safe. */
int cgroup_enter_self(const struct cgroup *cg);
/* Times a fork was refused by the limit (pids.events "max"), and the peak task count (-1 if
 * the kernel does not report it). */
long cgroup_limit_hits(const struct cgroup *cg);
long cgroup_peak(const struct cgroup *cg);
/* PIDs in the cgroup now; *pids malloc'd. */
int cgroup_pids(const struct cgroup *cg, pid_t **pids, size_t *n);
/* Remove the (empty) cgroup and free cg's contents. */
void cgroup_destroy(struct cgroup *cg);

#endif
