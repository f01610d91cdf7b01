/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Every thread's Python frames, in phases over all threads (pyreader_threads_read while the
 * target is held, pyreader_threads_decode after), the read-ahead guess of what that walk
 * reads, and the GIL's state.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyreader.h"

static bool owner_is_shim(const struct py_layout *L, unsigned owner)
{
	/* 3.13: FRAME_OWNED_BY_CSTACK = 3; 3.14: _INTERPRETER = 3, _CSTACK = 4 */
	return L->minor >= 14 ? owner == 3 || owner == 4 : owner == 3;
}

/*
 * Walking every thread's frames reads the target a little at a time: the frame chain, code
 * objects, their names and line tables, the slots of each frame and the objects in them.
 * While the target is held each read is a system call, so pyreader_threads_read() goes in
 * phases over all threads at once, and each phase first fetches, in one call, every page it
 * will read:
 *  1. the frame chains, in rounds: every thread goes as far as the pages already read
 *     allow, then the frames they stopped at are fetched together;
 *  2. the code objects, then their names and line tables;
 *  3. the frames' slot arrays, then the objects they point to (a lock's owner is in it).
 * pyreader_threads_decode() then works from those pages alone, also after the threads were
 * released: names, lines, entry frames, locks (types, whose names it may still read: type
 * objects and their names do not change).
 */

/* A frame as read by the chain walk (phase 1). */
struct raw_frame {
	uint64_t addr, exe, ip;
	int32_t tlbc;
	uint8_t owner;
};

struct chain {
	uint64_t next;          /* the frame to read next; 0: the walk is over */
	bool natural_end;       /* it ended at a NULL previous (not a cycle, error or bound) */
	size_t steps;
	struct raw_frame *v;
	size_t n, cap;
};

/* What pyreader_threads_read() leaves for pyreader_threads_decode(). */
struct walk {
	struct py_thread *threads; /* ids filled, frames not yet */
	struct chain *chains;
	size_t n;
};

#define FETCH_ROUNDS 64 /* then whatever is missing is read one page at a time */

static void walk_chains(struct pyreader *r, struct chain *c, size_t n)
{
	const struct py_layout *L = &r->L;
	unsigned char fbuf[512];
	size_t flen = L->fr.size < sizeof(fbuf) ? (size_t)L->fr.size : sizeof(fbuf);

	aset_clear(&r->frames);
	for (int round = 0;; round++) {
		for (size_t i = 0; i < n; i++) {
			struct chain *ch = &c[i];
			while (ch->next) {
				uint64_t frame = ch->next, exe, prev, ip;
				struct raw_frame *rf;

				if (ch->steps >= 3 * PY_MAX_FRAMES) {
					ch->next = 0;
					break;
				}
				if (round < FETCH_ROUNDS && !symbolizer_mem_cached(r->sym, frame, flen)) {
					want_add(r, frame, flen);
					break;
				}
				/* cycle check per thread: the thread's index above the address bits */
				if (!aset_add(&r->frames, frame | (uint64_t)i << 47) ||
				    mem_read(r, frame, fbuf, flen) ||
				    /* offsets were validated against fr.size; frames are small */
				    L->fr.previous + 8 > flen || L->fr.executable + 8 > flen ||
				    L->fr.instr_ptr + 8 > flen || L->fr.owner >= flen ||
				    L->fr.tlbc_index + 4 > flen) {
					ch->next = 0;
					break;
				}
				ch->steps++;
				memcpy(&prev, fbuf + L->fr.previous, 8);
				memcpy(&exe, fbuf + L->fr.executable, 8);
				memcpy(&ip, fbuf + L->fr.instr_ptr, 8);
				if (ch->n == ch->cap) {
					ch->cap = ch->cap ? 2 * ch->cap : 16;
					ch->v = xrealloc(ch->v, ch->cap * sizeof(*ch->v));
				}
				rf = &ch->v[ch->n++];
				memset(rf, 0, sizeof(*rf));
				rf->addr = frame;
				rf->exe = L->minor >= 14 ? exe & ~(uint64_t)3 : exe; /* _PyStackRef tags */
				rf->ip = ip;
				rf->owner = fbuf[L->fr.owner];
				if (L->fr.tlbc_index)
					memcpy(&rf->tlbc, fbuf + L->fr.tlbc_index, 4);
				ch->next = prev;
				if (!prev)
					ch->natural_end = true;
			}
		}
		if (!r->nwant)
			break;
		want_fetch(r);
	}
}

static bool frame_has_code(const struct py_layout *L, const struct raw_frame *rf)
{
	return !owner_is_shim(L, rf->owner) && rf->owner <= (L->minor >= 14 ? 4u : 3u) && rf->exe;
}

/* Phases 2 and 3's reads: code objects, names and line tables, slots, their objects. */
static void fetch_frame_data(struct pyreader *r, struct chain *c, size_t n)
{
	const struct py_layout *L = &r->L;
	uint64_t v[64];

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < c[i].n; k++)
			if (frame_has_code(L, &c[i].v[k]))
				want_add(r, c[i].v[k].exe, L->co.size);
	want_fetch(r);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < c[i].n; k++) {
			const struct raw_frame *rf = &c[i].v[k];
			uint64_t p;
			size_t nslots;
			if (!frame_has_code(L, rf))
				continue;
			if (!rd_u64(r, rf->exe + L->co.filename, &p))
				want_add(r, p, 64);
			if (!rd_u64(r, rf->exe + L->co.qualname, &p))
				want_add(r, p, 64);
			if (!rd_u64(r, rf->exe + L->co.linetable, &p))
				want_add(r, p, 64);
			if (!frame_slots(r, rf->exe, &nslots) && nslots)
				want_add(r, rf->addr + L->fr.size - 8, 8 * (uint64_t)nslots);
		}
	want_fetch(r);
	/* the objects in the slots: their headers (type; a lock's fields follow it) */
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < c[i].n; k++) {
			const struct raw_frame *rf = &c[i].v[k];
			uint64_t base = rf->addr + L->fr.size - 8;
			size_t nslots;
			if (!frame_has_code(L, rf) || frame_slots(r, rf->exe, &nslots))
				continue;
			for (size_t j = 0; j < nslots; j += ARRAY_SIZE(v)) {
				size_t m = nslots - j < ARRAY_SIZE(v) ? nslots - j : ARRAY_SIZE(v);
				if (mem_read(r, base + 8 * (uint64_t)j, v, 8 * m))
					break;
				for (size_t q = 0; q < m; q++) {
					uint64_t o = L->minor >= 14 ? v[q] & ~(uint64_t)3 : v[q];
					if (o >= 4096 && !(o & 7))
						want_add(r, o, L->ob.ob_type + 24);
				}
			}
		}
	want_fetch(r);
}

/* Decode a thread's chain into its frames (pystack's entry rule) and scan them for locks. */
static void decode_chain(struct pyreader *r, const struct chain *ch, struct py_thread *t)
{
	const struct py_layout *L = &r->L;
	size_t cap = 0;
	ssize_t pending = -1;   /* last emitted frame, entry if its caller is a shim */

	for (size_t k = 0; k < ch->n; k++) {
		const struct raw_frame *rf = &ch->v[k];
		const struct code_info *c;
		struct py_frame *f;

		if (owner_is_shim(L, rf->owner)) {
			if (pending >= 0)
				t->frames[pending].entry = true;
			pending = -1;
			continue;
		}
		pending = -1;
		if (!frame_has_code(L, rf) || !is_code(r, rf->exe))
			continue;
		c = code_lookup(r, rf->exe);
		if (!c->ok)
			continue;
		if (t->n == cap) {
			cap = cap ? 2 * cap : 16;
			t->frames = xrealloc(t->frames, cap * sizeof(*t->frames));
		}
		f = &t->frames[t->n];
		f->file = xstrdup(c->file ? c->file : "???");
		f->func = xstrdup(c->func ? c->func : "???");
		f->firstlineno = c->firstlineno;
		f->line = frame_line(r, c, rf->exe, rf->ip, rf->tlbc);
		f->entry = false;
		f->addr = rf->addr;
		f->code = rf->exe;
		scan_locks(r, rf->addr, rf->exe, t, t->n);
		pending = (ssize_t)t->n++;
		if (t->n >= PY_MAX_FRAMES)
			return;
	}
	if (ch->natural_end && pending >= 0)
		t->frames[pending].entry = true;
	t->name = thread_name(r, t);
}

void walk_free(struct walk *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		free(w->chains[i].v);
	free(w->chains);
	py_threads_free(w->threads, w->n);
	free(w);
}

/* Each interpreter, bounded and cycle-checked; fn returns non-zero to stop. */
static int for_each_interp(struct pyreader *r, int (*fn)(struct pyreader *, uint64_t, void *),
			   void *data)
{
	uint64_t interp;
	int err = rd_u64(r, r->runtime + r->L.rt.interpreters_head, &interp);
	if (err)
		return err;
	aset_clear(&r->interps);
	for (size_t i = 0; interp && i < PY_MAX_INTERPRETERS; i++) {
		int stop;
		if (!aset_add(&r->interps, interp))
			break;
		stop = fn(r, interp, data);
		if (stop)
			return stop < 0 ? stop : 0;
		if (rd_u64(r, interp + r->L.is.next, &interp))
			break;
	}
	return 0;
}

struct threads_acc {
	struct py_thread *v;
	size_t n, cap;
	uint64_t *tops;         /* each thread's innermost frame */
};

static int collect_interp(struct pyreader *r, uint64_t interp, void *data)
{
	const struct py_layout *L = &r->L;
	struct threads_acc *acc = data;
	int64_t id = 0;
	uint64_t ts, main_ts = 0;

	if (rd_i64(r, interp + L->is.id, &id) || rd_u64(r, interp + L->is.threads_head, &ts))
		return 0;
	if (L->is.threads_main && rd_u64(r, interp + L->is.threads_main, &main_ts))
		main_ts = 0;
	while (ts && acc->n < PY_MAX_THREADS) {
		struct py_thread *t;
		uint64_t frame, next;
		if (!aset_add(&r->tstates, ts))
			break;
		if (acc->n == acc->cap) {
			acc->cap = acc->cap ? 2 * acc->cap : 16;
			acc->v = xrealloc(acc->v, acc->cap * sizeof(*acc->v));
			acc->tops = xrealloc(acc->tops, acc->cap * sizeof(*acc->tops));
		}
		t = &acc->v[acc->n];
		memset(t, 0, sizeof(*t));
		if (rd_u64(r, ts + L->ts.native_thread_id, &t->native_tid) ||
		    rd_u64(r, ts + L->ts.thread_id, &t->thread_id) ||
		    rd_u64(r, ts + L->ts.current_frame, &frame) || rd_u64(r, ts + L->ts.next, &next))
			break;
		t->interp_id = id < 0 || id > INT32_MAX ? -1 : (int)id;
		if (L->minor >= 14)
			t->main_thread = main_ts && ts == main_ts;
		else
			t->main_thread = id == 0 && t->native_tid == (uint64_t)r->pid;
		acc->tops[acc->n++] = frame; /* the innermost frame, walked later */
		ts = next;
	}
	return acc->n >= PY_MAX_THREADS;
}

int pyreader_threads_read(struct pyreader *r)
{
	struct threads_acc acc = { NULL, 0, 0, NULL };
	struct walk *w;
	int ret;

	walk_free(r->walk);
	r->walk = NULL;
	snapshot_begin(r);
	r->nwant = 0;
	aset_clear(&r->want_pages);
	aset_clear(&r->tstates);
	ret = for_each_interp(r, collect_interp, &acc);
	if (ret) {
		py_threads_free(acc.v, acc.n);
		free(acc.tops);
		return ret;
	}
	w = xcalloc(1, sizeof(*w));
	w->threads = acc.v;
	w->n = acc.n;
	w->chains = xcalloc(acc.n ? acc.n : 1, sizeof(*w->chains));
	for (size_t i = 0; i < acc.n; i++)
		w->chains[i].next = acc.tops[i];
	free(acc.tops);
	walk_chains(r, w->chains, w->n);
	fetch_frame_data(r, w->chains, w->n);
	r->walk = w;
	return 0;
}

int pyreader_threads_decode(struct pyreader *r, struct py_thread **threads, size_t *n)
{
	struct walk *w = r->walk;

	*threads = NULL;
	*n = 0;
	if (!w)
		return -EINVAL;
	for (size_t i = 0; i < w->n; i++)
		decode_chain(r, &w->chains[i], &w->threads[i]);
	*threads = w->threads;
	*n = w->n;
	w->threads = NULL; /* now the caller's */
	for (size_t i = 0; i < w->n; i++)
		free(w->chains[i].v);
	free(w->chains);
	free(w);
	r->walk = NULL;
	return 0;
}

int pyreader_threads(struct pyreader *r, struct py_thread **threads, size_t *n)
{
	int ret = pyreader_threads_read(r);
	if (ret) {
		*threads = NULL;
		*n = 0;
		return ret;
	}
	return pyreader_threads_decode(r, threads, n);
}

struct guess_acc {
	struct mem_range *v;
	size_t n, cap;
};

static void guess_add(struct guess_acc *g, uint64_t addr, uint64_t len)
{
	if (!addr || addr >= USER_ADDR_END)
		return;
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->v = xrealloc(g->v, g->cap * sizeof(*g->v));
	}
	g->v[g->n++] = (struct mem_range){ addr, len };
}

size_t pyreader_guess_ranges(struct pyreader *r, struct mem_range **out)
{
	const struct py_layout *L = &r->L;
	struct guess_acc g = { NULL, 0, 0 };
	unsigned char *buf = xmalloc(L->ts.size);
	uint64_t interp = 0;
	size_t nts = 0;

	guess_add(&g, r->runtime + L->rt.interpreters_head, 8);
	if (mem_read_raw(r, r->runtime + L->rt.interpreters_head, &interp, 8))
		interp = 0;
	aset_clear(&r->interps);
	aset_clear(&r->tstates);
	for (size_t i = 0; interp && i < PY_MAX_INTERPRETERS && aset_add(&r->interps, interp); i++) {
		uint64_t ts = 0, next = 0;
		guess_add(&g, interp + L->is.id, 8);
		guess_add(&g, interp + L->is.next, 8);
		guess_add(&g, interp + L->is.threads_head, 8);
		if (L->is.threads_main)
			guess_add(&g, interp + L->is.threads_main, 8);
		guess_add(&g, interp + L->is.gil_locked, 4);
		guess_add(&g, interp + L->is.gil_holder, 8);
		guess_add(&g, interp + L->is.gil + L->is.gil_enabled, 4);
		if (mem_read_raw(r, interp + L->is.threads_head, &ts, 8))
			ts = 0;
		guess_add(&g, ts, L->ts.size);
		while (ts && nts < PY_MAX_THREADS && aset_add(&r->tstates, ts)) {
			/* one read per thread state (offsets were checked against ts.size) */
			uint64_t frame;
			if (mem_read_raw(r, ts, buf, L->ts.size))
				break;
			memcpy(&frame, buf + L->ts.current_frame, 8);
			memcpy(&ts, buf + L->ts.next, 8);
			guess_add(&g, ts, L->ts.size);
			guess_add(&g, frame, L->fr.size);
			nts++;
		}
		if (mem_read_raw(r, interp + L->is.next, &next, 8))
			break;
		interp = next;
	}
	free(buf);
	*out = g.v;
	return g.n;
}

void py_threads_free(struct py_thread *t, size_t n)
{
	if (!t)
		return;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < t[i].n; k++) {
			free(t[i].frames[k].file);
			free(t[i].frames[k].func);
		}
		free(t[i].frames);
		free(t[i].locks);
		free(t[i].name);
	}
	free(t);
}

struct gil_query {
	int id;
	uint64_t interp;
};

static int find_interp(struct pyreader *r, uint64_t interp, void *data)
{
	struct gil_query *q = data;
	int64_t id;
	if (rd_i64(r, interp + r->L.is.id, &id) || id != q->id)
		return 0;
	q->interp = interp;
	return 1;
}

int pyreader_gil(struct pyreader *r, int interp_id, struct py_gil *gil)
{
	const struct py_layout *L = &r->L;
	struct gil_query q = { interp_id, 0 };
	int32_t v;
	int err;

	memset(gil, 0, sizeof(*gil));
	if (!r->walk) /* not between pyreader_threads_read and _decode: their pages stay */
		snapshot_begin(r);
	err = for_each_interp(r, find_interp, &q);
	if (err)
		return err;
	if (!q.interp)
		return -ENOENT;
	gil->enabled = 1;
	if (L->ft) {
		/* gil_runtime_state_enabled is relative to struct _gil_runtime_state, unlike
		 * _locked and _holder, which are relative to PyInterpreterState. */
		err = rd_i32(r, q.interp + L->is.gil + L->is.gil_enabled, &v);
		if (err)
			return err;
		gil->enabled = v;
	}
	err = rd_i32(r, q.interp + L->is.gil_locked, &v);
	if (!err)
		err = rd_u64(r, q.interp + L->is.gil_holder, &gil->holder);
	if (err)
		return err;
	gil->locked = v;
	if (gil->holder && rd_u64(r, gil->holder + L->ts.native_thread_id, &gil->holder_tid))
		gil->holder_tid = 0;
	return 0;
}
