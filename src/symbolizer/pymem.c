/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The bottom of the Python reader (pyreader.h): reads noted and fetched in one go, address
 * sets, code objects' cached info and the start of a snapshot. It calls nothing of the
 * reader above it (pyframes.c, pywalk.c, pyobjects.c).
 */
#include <stdlib.h>
#include <string.h>

#include "pyreader.h"

/* Note a read for the next want_fetch, unless its blocks are read or noted already. */
void want_add(struct pyreader *r, uint64_t addr, uint64_t len)
{
	if (!addr || addr >= USER_ADDR_END || !len || len > USER_ADDR_END - addr ||
	    symbolizer_mem_cached(r->sym, addr, len))
		return;
	if ((addr ^ (addr + len - 1)) < SYMBOLIZER_MEM_BLOCK &&
	    !aset_add(&r->want_pages, addr & ~(uint64_t)(SYMBOLIZER_MEM_BLOCK - 1)))
		return; /* within one block, noted already */
	if (r->nwant == r->capwant) {
		r->capwant = r->capwant ? 2 * r->capwant : 256;
		r->want = xrealloc(r->want, r->capwant * sizeof(*r->want));
	}
	r->want[r->nwant++] = (struct mem_range){ addr, len };
}

/* Read what was wanted, in one go. */
void want_fetch(struct pyreader *r)
{
	if (r->nwant)
		symbolizer_mem_prefetch(r->sym, r->want, r->nwant);
	r->nwant = 0;
	aset_clear(&r->want_pages);
}

/*
 * Cycle detection: open-addressed sets of addresses, cleared in O(1) by a generation bump.
 */

void aset_init(struct addr_set *s, size_t cap)
{
	s->keys = xcalloc(cap, sizeof(*s->keys));
	s->gens = xcalloc(cap, sizeof(*s->gens));
	s->cap = cap;
	s->gen = 0;
}

void aset_release(struct addr_set *s)
{
	free(s->keys);
	free(s->gens);
	memset(s, 0, sizeof(*s));
}

void aset_clear(struct addr_set *s)
{
	s->n = 0;
	if (++s->gen == 0) {
		memset(s->gens, 0, s->cap * sizeof(*s->gens));
		s->gen = 1;
	}
}

/* Twice the room, same keys (the frames of every thread of a large process go in one set). */
static void aset_grow(struct addr_set *s)
{
	struct addr_set old = *s;
	aset_init(s, 2 * old.cap);
	s->gen = 1;
	for (size_t i = 0; i < old.cap; i++)
		if (old.gens[i] == old.gen)
			aset_add(s, old.keys[i]);
	aset_release(&old);
}

/* false if k is already in the set (a cycle) */
bool aset_add(struct addr_set *s, uint64_t k)
{
	size_t mask, i;
	if (2 * (s->n + 1) > s->cap)
		aset_grow(s);
	mask = s->cap - 1;
	i = (size_t)(((k >> 3) * 0x9e3779b97f4a7c15ull) >> 20) & mask;
	for (size_t probes = 0; probes < s->cap; probes++, i = (i + 1) & mask) {
		if (s->gens[i] != s->gen) {
			s->gens[i] = s->gen;
			s->keys[i] = k;
			s->n++;
			return true;
		}
		if (s->keys[i] == k)
			return false;
	}
	return false;
}

void code_info_release(struct code_info *c)
{
	free(c->file);
	free(c->func);
	free(c->lt);
	memset(c, 0, sizeof(*c));
}

/* Start a snapshot: invalidate code objects, and cached pages unless they are the
 * snapshot's (a shared symbolizer: its owner resets them). */
void snapshot_begin(struct pyreader *r)
{
	if (r->own_sym)
		symbolizer_mem_reset(r->sym);
	if (++r->gen == 0) {
		for (size_t i = 0; i < CODE_SLOTS; i++)
			code_info_release(&r->codes[i]);
		r->gen = 1;
	}
}
