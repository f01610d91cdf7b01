/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_WAITGRAPH_H
#define FTSCOPE_WAITGRAPH_H

/*
 * Wait-for graph: threads are nodes (by tid), an edge waiter -> owner says "waiter is
 * blocked on a resource held by owner". Owners come from the lock word (pthread mutex,
 * PI futex, RLock) -- certain -- or are inferred (a thread inside `with lock:` for a lock
 * that records no owner) -- marked so. Cycles are the strongly connected components with
 * more than one node (or a self-loop), each listed in edge order from its smallest tid.
 */
#include <stdbool.h>
#include <stddef.h>

struct wg_edge {
	int waiter, owner;
	bool certain;
};

struct wg_cycle {
	int *tids;
	size_t n;
	bool certain; /* every edge of the cycle is certain */
};

/* 0 or -errno; *cycles malloc'd (wg_cycles_free). */
int waitgraph_cycles(const struct wg_edge *edges, size_t nedges, struct wg_cycle **cycles,
		     size_t *ncycles);
void wg_cycles_free(struct wg_cycle *c, size_t n);

#endif
