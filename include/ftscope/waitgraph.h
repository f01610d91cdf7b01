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
#include <stdint.h>
#include <sys/types.h>

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

/*
 * The owner a lock word records, from the futex op a thread waits with and the 20 bytes at
 * its futex address: a PI futex's owner TID (LOCK_PI, LOCK_PI2; *pi set), or the __owner
 * of a word laid out like a locked glibc pthread mutex (FUTEX_WAIT on __lock = 1 or 2,
 * __owner > 0, a small __kind). 0: none. A snapshot trusts the mutex reading only when the
 * waiter's frames are in pthread_mutex_lock.
 */
int lockword_owner(uint64_t op, const int32_t w[5], bool *pi);

/* A thread in an untimed futex wait, as the supervisor sees it without stopping anything. */
struct wg_waiter {
	pid_t pid, tid;
	uint64_t uaddr, op;
};
/*
 * Is there a cycle among these waiters in which every thread waits for a lock whose word
 * names, as its owner, another of them? The words are read now (process_vm_readv) from the
 * running processes. A candidate only: the caller confirms it on a snapshot.
 */
bool waitgraph_lockword_cycle(const struct wg_waiter *w, size_t n);

#endif
