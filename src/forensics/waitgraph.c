/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "ftscope/util.h"
#include "ftscope/waitgraph.h"

struct tarjan {
	const struct wg_edge *e;
	size_t ne;
	int *nodes;
	size_t nn;
	int *index, *low, *stack;
	bool *on;
	int counter;
	size_t sp;
	int *comp; /* component id per node */
	int ncomp;
};

static size_t node_of(const struct tarjan *t, int tid)
{
	for (size_t i = 0; i < t->nn; i++)
		if (t->nodes[i] == tid)
			return i;
	return (size_t)-1;
}

static void strongconnect(struct tarjan *t, size_t v)
{
	t->index[v] = t->low[v] = t->counter++;
	t->stack[t->sp++] = (int)v;
	t->on[v] = true;
	for (size_t k = 0; k < t->ne; k++) {
		size_t w;
		if (t->e[k].waiter != t->nodes[v])
			continue;
		w = node_of(t, t->e[k].owner);
		if (t->index[w] < 0) {
			strongconnect(t, w);
			if (t->low[w] < t->low[v])
				t->low[v] = t->low[w];
		} else if (t->on[w] && t->index[w] < t->low[v]) {
			t->low[v] = t->index[w];
		}
	}
	if (t->low[v] == t->index[v]) {
		size_t w;
		do {
			w = (size_t)t->stack[--t->sp];
			t->on[w] = false;
			t->comp[w] = t->ncomp;
		} while (w != v);
		t->ncomp++;
	}
}

static void add_node(struct tarjan *t, int tid)
{
	if (node_of(t, tid) != (size_t)-1)
		return;
	t->nodes[t->nn++] = tid;
}

static bool edge_certain(const struct wg_edge *e, size_t ne, int a, int b, bool *found)
{
	bool any_certain = false;
	*found = false;
	for (size_t k = 0; k < ne; k++)
		if (e[k].waiter == a && e[k].owner == b) {
			*found = true;
			any_certain |= e[k].certain;
		}
	return any_certain;
}

int waitgraph_cycles(const struct wg_edge *edges, size_t nedges, struct wg_cycle **cycles,
		     size_t *ncycles)
{
	struct tarjan t = { .e = edges, .ne = nedges };
	*cycles = NULL;
	*ncycles = 0;
	if (!nedges)
		return 0;
	t.nodes = xcalloc(2 * nedges, sizeof(int));
	for (size_t k = 0; k < nedges; k++) {
		add_node(&t, edges[k].waiter);
		add_node(&t, edges[k].owner);
	}
	t.index = xcalloc(t.nn, sizeof(int));
	t.low = xcalloc(t.nn, sizeof(int));
	t.stack = xcalloc(t.nn, sizeof(int));
	t.on = xcalloc(t.nn, sizeof(bool));
	t.comp = xcalloc(t.nn, sizeof(int));
	for (size_t i = 0; i < t.nn; i++)
		t.index[i] = -1;
	for (size_t i = 0; i < t.nn; i++)
		if (t.index[i] < 0)
			strongconnect(&t, i);
	for (int c = 0; c < t.ncomp; c++) {
		struct wg_cycle cy = { 0 };
		int start = 0, cur;
		size_t members = 0;
		bool self = false, found;
		for (size_t i = 0; i < t.nn; i++) {
			if (t.comp[i] != c)
				continue;
			if (!members || t.nodes[i] < start)
				start = t.nodes[i];
			members++;
		}
		if (members == 1) {
			edge_certain(edges, nedges, start, start, &self);
			if (!self)
				continue;
		}
		/* Walk from the smallest tid along edges that stay in the component. */
		cy.tids = xcalloc(members, sizeof(int));
		cy.certain = true;
		cur = start;
		while (cy.n < members) {
			int next = -1;
			cy.tids[cy.n++] = cur;
			for (size_t k = 0; k < nedges; k++) {
				size_t w;
				if (edges[k].waiter != cur)
					continue;
				w = node_of(&t, edges[k].owner);
				if (t.comp[w] != c)
					continue;
				next = edges[k].owner;
				if (next == start || cy.n < members)
					break;
			}
			if (!edge_certain(edges, nedges, cur, next, &found) || !found)
				cy.certain = false;
			if (next < 0 || next == start)
				break;
			cur = next;
		}
		*cycles = xrealloc(*cycles, (*ncycles + 1) * sizeof(**cycles));
		(*cycles)[(*ncycles)++] = cy;
	}
	free(t.nodes);
	free(t.index);
	free(t.low);
	free(t.stack);
	free(t.on);
	free(t.comp);
	return 0;
}

void wg_cycles_free(struct wg_cycle *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].tids);
	free(c);
}

#define FUTEX_CMD(op) ((int)((op) & ~(0x80ULL | 0x100ULL))) /* without PRIVATE, CLOCK_REALTIME */

int lockword_owner(uint64_t op, const int32_t w[5], bool *pi)
{
	*pi = false;
	if (FUTEX_CMD(op) == 6 || FUTEX_CMD(op) == 13) { /* LOCK_PI, LOCK_PI2 */
		*pi = true;
		return (int)((uint32_t)w[0] & 0x3fffffff); /* FUTEX_TID_MASK */
	}
	/* glibc x86_64 struct __pthread_mutex_s: __lock, __count, __owner, __nusers, __kind;
	 * a waiter sleeps in FUTEX_WAIT on __lock (1 locked, 2 locked with waiters) */
	if (FUTEX_CMD(op) == 0 && w[2] > 0 && (w[0] == 1 || w[0] == 2) && (w[4] & ~0x7f) == 0)
		return w[2];
	return 0;
}

bool waitgraph_lockword_cycle(const struct wg_waiter *w, size_t n)
{
	struct wg_edge *e = xcalloc(n ? n : 1, sizeof(*e));
	struct wg_cycle *cycles;
	size_t ne = 0, nc = 0;
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		int32_t word[5];
		struct iovec local = { word, sizeof(word) };
		struct iovec remote = { (void *)(uintptr_t)w[i].uaddr, sizeof(word) };
		bool pi, blocked = false;
		int owner;

		if (process_vm_readv(w[i].pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof(word))
			continue;
		owner = lockword_owner(w[i].op, word, &pi);
		/* an edge only to a thread that is itself among the waiters */
		for (size_t k = 0; owner && k < n && !blocked; k++)
			blocked = w[k].tid == owner && w[k].pid == w[i].pid;
		if (blocked)
			e[ne++] = (struct wg_edge){ w[i].tid, owner, true };
	}
	if (ne >= 1 && waitgraph_cycles(e, ne, &cycles, &nc) == 0) {
		found = nc > 0;
		wg_cycles_free(cycles, nc);
	}
	free(e);
	return found;
}
