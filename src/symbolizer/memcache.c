/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Snapshot memory: the target's memory as it was when first read in this snapshot.
 *
 * The native unwinder and the Python reader both walk the target's memory: stacks,
 * data-stack chunks, thread states, code objects, lock words. Each page is read once per
 * snapshot and kept, so the two readers share it (a Python entry frame lives on the C stack
 * the unwinder reads), and so a walk made after the threads were released still sees the
 * target as it was while it was held: whatever was prefetched during the hold is what every
 * later read returns. symbolizer_mem_prefetch() reads many ranges with few
 * process_vm_readv calls (one iovec per run of pages, IOV_MAX iovecs per call).
 *
 * Pages of non-writable mappings (text, eh_frame_hdr, rodata) are kept across snapshots
 * until the maps change; every other page is dropped by symbolizer_mem_reset(), and only
 * then: a re-read of the maps in the middle of a snapshot (a pc in a new mapping) keeps
 * what the snapshot read.
 *
 * The unit is a block of MC_BLOCK (256) bytes, not a page: writable memory is read block by
 * block (runs of blocks in one iovec), into arenas where the blocks lie back to back. A
 * Python walk reads a few words from each of some 600 scattered pages (thread states,
 * frames, code objects, lock objects); copying each whole page made every one of them a
 * fresh page of ours, and on a VM the first touch of a page of our own costs 10-50 us,
 * some 100 times the copy (bench: the same 800 pages copied into fresh buffers 17-43 ms,
 * into the same buffers again ~1 ms). Read-only mappings are still read a page at a time
 * (libunwind's binary searches of .eh_frame_hdr touch many words of few pages).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "ftscope/hugemem.h"
#include "ftscope/error.h"
#include "ftscope/util.h"
#include "internal.h"

#define MC_PAGE 4096u
#define MC_BLOCK SYMBOLIZER_MEM_BLOCK
#define MC_CHUNK (2u << 20) /* one huge page */
#define MC_IOV 1024 /* UIO_MAXIOV */
#define MC_USER_END (1ull << 47)

struct mc_slot {
	uint64_t page;          /* block number (addr / MC_BLOCK) + 1; 0: empty slot */
	unsigned char *data;    /* NULL: unreadable */
	bool ro;
};

struct mc_chunk {
	struct mc_chunk *next;
	unsigned char *mem;
	size_t size, used;
};

struct memcache {
	struct mc_slot *slots;
	size_t cap, n;          /* cap: power of two */
	struct mc_chunk *rw, *ro; /* arenas: dropped by every reset / kept until maps change */
	unsigned maps_gen;
	struct mem_stats stats;
	size_t bytes;           /* read since the last reset (stats.pages counts them in pages) */
	/* the block of the last read (most reads follow one into the same block) */
	uint64_t last_page;     /* block number + 1, 0: none */
	unsigned char *last_data;
};

static void chunks_free(struct mc_chunk *c)
{
	while (c) {
		struct mc_chunk *next = c->next;
		hugemem_unmap(c->mem, c->size);
		free(c);
		c = next;
	}
}

/* Room for nbytes in one chunk of the arena (a new chunk if the first has not that much
 * left). A chunk is huge pages where the kernel allows (hugemem.h: on a VM a fault per 4 KiB
 * page cost more than the copy itself), populated in one system call. */
static bool arena_reserve(struct mc_chunk **head, size_t nbytes)
{
	size_t need = nbytes;
	struct mc_chunk *c = *head;

	if (!c || c->size - c->used < need) {
		size_t size;
		void *mem = hugemem_map(need > MC_CHUNK ? need : MC_CHUNK, &size);
		if (!mem)
			return false;
		(void)madvise(mem, size, MADV_POPULATE_WRITE); /* best effort */
		c = xcalloc(1, sizeof(*c));
		c->mem = mem;
		c->size = size;
		c->next = *head;
		*head = c;
	}
	return true;
}

/* Room for nbytes (a multiple of MC_BLOCK). */
static unsigned char *arena_alloc(struct mc_chunk **head, size_t nbytes)
{
	struct mc_chunk *c;
	unsigned char *p;

	if (!arena_reserve(head, nbytes))
		return NULL;
	c = *head;
	p = c->mem + c->used;
	c->used += nbytes;
	return p;
}

static struct memcache *mc_get(struct symbolizer *s)
{
	if (!s->mem) {
		s->mem = xcalloc(1, sizeof(*s->mem));
		s->mem->maps_gen = s->maps_gen;
	}
	return s->mem;
}

static size_t slot_index(const struct memcache *mc, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (mc->cap - 1);
}

static struct mc_slot *mc_find(struct memcache *mc, uint64_t block)
{
	uint64_t key = block / MC_BLOCK + 1;
	size_t i;

	if (!mc->cap)
		return NULL;
	for (i = slot_index(mc, key); mc->slots[i].page; i = (i + 1) & (mc->cap - 1))
		if (mc->slots[i].page == key)
			return &mc->slots[i];
	return NULL;
}

static void mc_insert_slot(struct memcache *mc, const struct mc_slot *src)
{
	size_t i = slot_index(mc, src->page);
	while (mc->slots[i].page)
		i = (i + 1) & (mc->cap - 1);
	mc->slots[i] = *src;
	mc->n++;
}

/* Room for n more slots (load at most one half). Grown once per prefetch to its size: each
 * table on the way is fresh memory, and every fresh page costs (see the top). */
static void mc_grow(struct memcache *mc, size_t n)
{
	struct mc_slot *old = mc->slots;
	size_t oldcap = mc->cap;

	mc->cap = oldcap ? 2 * oldcap : 1024;
	while (2 * (mc->n + n) > mc->cap)
		mc->cap *= 2;
	mc->slots = xcalloc(mc->cap, sizeof(*mc->slots));
	mc->n = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].page)
			mc_insert_slot(mc, &old[i]);
	free(old);
}

static void mc_put(struct memcache *mc, uint64_t block, unsigned char *data, bool ro)
{
	struct mc_slot sl = { block / MC_BLOCK + 1, data, ro };
	if (2 * (mc->n + 1) > mc->cap)
		mc_grow(mc, 1);
	mc_insert_slot(mc, &sl);
}

void memcache_free(struct memcache *mc)
{
	if (!mc)
		return;
	chunks_free(mc->rw);
	chunks_free(mc->ro);
	free(mc->slots);
	free(mc);
}

void symbolizer_mem_reset(struct symbolizer *s)
{
	struct memcache *mc = mc_get(s);
	bool keep_ro = mc->maps_gen == s->maps_gen;
	size_t nro = 0;

	/* Keep one chunk of each arena for the next snapshot: mapping and populating a fresh
	 * one costs more than the walk that fills it. */
	if (mc->rw) {
		chunks_free(mc->rw->next);
		mc->rw->next = NULL;
		mc->rw->used = 0;
	}
	if (!keep_ro) {
		chunks_free(mc->ro);
		mc->ro = NULL;
	}
	/* the pages of read-only mappings stay (moved to the front, then rehashed) */
	for (size_t i = 0; keep_ro && i < mc->cap; i++)
		if (mc->slots[i].page && mc->slots[i].ro)
			mc->slots[nro++] = mc->slots[i]; /* nro <= i */
	if (nro) {
		struct mc_slot *kept = xmalloc(nro * sizeof(*kept));
		memcpy(kept, mc->slots, nro * sizeof(*kept));
		memset(mc->slots, 0, mc->cap * sizeof(*mc->slots));
		mc->n = 0;
		for (size_t i = 0; i < nro; i++)
			mc_insert_slot(mc, &kept[i]);
		free(kept);
	} else if (mc->cap) {
		memset(mc->slots, 0, mc->cap * sizeof(*mc->slots));
		mc->n = 0;
	}
	mc->maps_gen = s->maps_gen;
	mc->last_page = 0;
	memset(&mc->stats, 0, sizeof(mc->stats));
	mc->bytes = 0;
}

static bool page_is_ro(struct symbolizer *s, uint64_t page)
{
	struct map_entry *m = maps_find(s, page);
	return m && m->perms[1] != 'w';
}

/* Enter the blocks of [start, start + len) read into data (NULL: unreadable). */
static void mc_put_range(struct memcache *mc, uint64_t start, size_t len, unsigned char *data,
			 bool ro)
{
	for (size_t off = 0; off < len; off += MC_BLOCK)
		mc_put(mc, start + off, data ? data + off : NULL, ro);
}

/* The slot of one block, reading it on a miss (its whole page in a read-only mapping). NULL
 * only when the process is gone. */
static struct mc_slot *mc_page(struct symbolizer *s, struct memcache *mc, uint64_t block, int *err)
{
	struct mc_slot *sl = mc_find(mc, block);
	unsigned char *data;
	uint64_t start;
	size_t len;
	bool ro;
	int r;

	if (sl)
		return sl;
	ro = page_is_ro(s, block);
	start = ro ? block & ~(uint64_t)(MC_PAGE - 1) : block;
	len = ro ? MC_PAGE : MC_BLOCK;
	data = arena_alloc(ro ? &mc->ro : &mc->rw, len);
	if (!data) {
		*err = -ENOMEM;
		return NULL;
	}
	mc->stats.reads++;
	mc->bytes += len;
	r = symbolizer_read_mem(s, start, data, len);
	if (r == -ESRCH) {
		*err = r;
		return NULL;
	}
	mc_put_range(mc, start, len, r ? NULL : data, ro);
	return mc_find(mc, block);
}

int symbolizer_mem_read(struct symbolizer *s, uint64_t addr, void *buf, size_t len)
{
	struct memcache *mc = mc_get(s);
	unsigned char *out = buf;

	if (!addr || addr >= MC_USER_END || len > MC_USER_END - addr)
		return -EFAULT;
	while (len) {
		uint64_t block = addr & ~(uint64_t)(MC_BLOCK - 1);
		size_t off = (size_t)(addr - block), chunk = MC_BLOCK - off;
		unsigned char *data;

		if (mc->last_page == block / MC_BLOCK + 1) {
			data = mc->last_data;
		} else {
			int err = -EFAULT;
			struct mc_slot *sl = mc_page(s, mc, block, &err);
			if (!sl)
				return err;
			data = sl->data;
			mc->last_page = block / MC_BLOCK + 1;
			mc->last_data = data;
		}
		if (!data)
			return -EFAULT;
		if (chunk > len)
			chunk = len;
		memcpy(out, data + off, chunk);
		out += chunk;
		addr += chunk;
		len -= chunk;
	}
	return 0;
}

bool symbolizer_mem_cached(struct symbolizer *s, uint64_t addr, size_t len)
{
	struct memcache *mc = mc_get(s);
	uint64_t page, end;

	if (!addr || addr >= MC_USER_END || len > MC_USER_END - addr)
		return true; /* nothing to read: mem_read fails at once */
	end = addr + (len ? len : 1);
	for (page = addr & ~(uint64_t)(MC_BLOCK - 1); page < end; page += MC_BLOCK)
		if (!mc_find(mc, page))
			return false;
	return true;
}

/* One run of contiguous blocks inside one mapping, to be read with one iovec (whole pages in
 * a read-only mapping). */
struct mc_run {
	uint64_t start;         /* block-aligned (page-aligned if ro) */
	size_t len;             /* a multiple of MC_BLOCK (of MC_PAGE if ro) */
	unsigned char *data;
	bool ro;
};

/* Read runs[0..n) into their buffers and enter their blocks; a run that fails is retried a
 * page at a time, and a page that fails is entered as unreadable. */
static void read_runs(struct symbolizer *s, struct memcache *mc, struct mc_run *runs, size_t n)
{
	struct iovec local[MC_IOV], remote[MC_IOV];
	size_t i = 0;

	while (i < n) {
		size_t k = 0, done = 0;
		ssize_t got;

		for (; k < MC_IOV && i + k < n; k++) {
			local[k] = (struct iovec){ runs[i + k].data, runs[i + k].len };
			remote[k] = (struct iovec){ (void *)(uintptr_t)runs[i + k].start, runs[i + k].len };
		}
		mc->stats.reads++;
		got = s->no_vm_readv ? -1 : process_vm_readv(s->pid, local, k, remote, k, 0);
		if (got < 0 && errno == ESRCH)
			return;
		if (got < 0 && errno != EFAULT) {
			/* no process_vm_readv here (ENOSYS, EPERM): one read per run */
			for (size_t j = 0; j < k; j++) {
				struct mc_run *r = &runs[i + j];
				if (symbolizer_read_mem(s, r->start, r->data, r->len) == 0) {
					mc_put_range(mc, r->start, r->len, r->data, r->ro);
				} else {
					for (size_t p = 0; p < r->len; p += MC_BLOCK) {
						bool ok = !symbolizer_read_mem(s, r->start + p, r->data + p, MC_BLOCK);
						mc_put(mc, r->start + p, ok ? r->data + p : NULL, r->ro);
					}
				}
			}
			i += k;
			continue;
		}
		/* whole iovecs up to the first that failed (transfers never split an iovec) */
		for (size_t j = 0; j < k && got > 0; j++) {
			struct mc_run *r = &runs[i + j];
			if ((size_t)got < r->len)
				break;
			got -= (ssize_t)r->len;
			mc_put_range(mc, r->start, r->len, r->data, r->ro);
			done++;
		}
		if (done < k) {
			struct mc_run *r = &runs[i + done];
			/* somewhere in this run a page is unreadable: find it page by page */
			for (uint64_t a = r->start; a < r->start + r->len;) {
				uint64_t next = (a & ~(uint64_t)(MC_PAGE - 1)) + MC_PAGE;
				size_t l = (size_t)((next < r->start + r->len ? next : r->start + r->len) - a);
				unsigned char *d = r->data + (a - r->start);
				int err = l == r->len ? -EFAULT : symbolizer_read_mem(s, a, d, l);
				if (l != r->len)
					mc->stats.reads++;
				if (err == -ESRCH)
					return;
				mc_put_range(mc, a, l, err ? NULL : d, r->ro);
				a += l;
			}
			done++;
		}
		i += done;
	}
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void symbolizer_mem_prefetch(struct symbolizer *s, const struct mem_range *ranges, size_t n)
{
	struct memcache *mc = mc_get(s);
	struct mc_run *runs = NULL;
	uint64_t *blocks = NULL;
	size_t nblocks = 0, capblocks = 0, nruns = 0, cap = 0;
	struct map_entry *m = NULL;

	/* The blocks not read yet (ranges come in any order, overlap, repeat)... */
	for (size_t i = 0; i < n; i++) {
		uint64_t a, end;
		if (!ranges[i].addr || ranges[i].addr >= MC_USER_END || !ranges[i].len ||
		    ranges[i].len > MC_USER_END - ranges[i].addr)
			continue;
		end = ranges[i].addr + ranges[i].len;
		for (a = ranges[i].addr & ~(uint64_t)(MC_BLOCK - 1); a < end; a += MC_BLOCK) {
			if (mc_find(mc, a))
				continue;
			if (nblocks == capblocks) {
				capblocks = capblocks ? 2 * capblocks : 256;
				blocks = xrealloc(blocks, capblocks * sizeof(*blocks));
			}
			blocks[nblocks++] = a;
		}
	}
	if (!nblocks)
		goto out;
	qsort(blocks, nblocks, sizeof(*blocks), u64_cmp);
	if (2 * (mc->n + nblocks + MC_PAGE / MC_BLOCK) > mc->cap)
		mc_grow(mc, nblocks + MC_PAGE / MC_BLOCK); /* (read-only runs round out to pages) */
	/* ...as runs of contiguous blocks inside one readable mapping: one iovec each; in a
	 * read-only mapping, whole pages (they are never entered in part) */
	for (size_t i = 0; i < nblocks; i++) {
		uint64_t a = blocks[i];
		struct mc_run *last = nruns ? &runs[nruns - 1] : NULL;
		bool ro;
		if (i && a == blocks[i - 1])
			continue;
		if (last && a >= last->start && a < last->start + last->len)
			continue; /* in the page a read-only run rounded out to */
		if (!m || a < m->start || a >= m->end)
			m = maps_find(s, a);
		if (!m || m->perms[0] != 'r')
			continue; /* not mapped when maps were read, or not readable: left to mc_page */
		ro = m->perms[1] != 'w';
		if (ro)
			a &= ~(uint64_t)(MC_PAGE - 1);
		if (last && last->start + last->len == a && last->ro == ro &&
		    maps_find(s, last->start) == m) {
			last->len += ro ? MC_PAGE : MC_BLOCK;
			continue;
		}
		if (nruns == cap) {
			cap = cap ? 2 * cap : 64;
			runs = xrealloc(runs, cap * sizeof(*runs));
		}
		runs[nruns++] = (struct mc_run){ a, ro ? MC_PAGE : MC_BLOCK, NULL, ro };
	}
	/* one chunk for all the writable blocks of this prefetch (a 100-thread snapshot's
	 * stacks are ~600 KiB): one mmap, not one per 256 KiB; the one symbolizer_mem_reserve()
	 * made, if it has the room */
	{
		size_t rw = 0;
		for (size_t i = 0; i < nruns; i++)
			rw += runs[i].ro ? 0 : runs[i].len;
		if (rw)
			arena_reserve(&mc->rw, rw);
	}
	for (size_t i = 0; i < nruns; i++) {
		runs[i].data = arena_alloc(runs[i].ro ? &mc->ro : &mc->rw, runs[i].len);
		if (!runs[i].data) {
			nruns = i;
			break;
		}
		mc->bytes += runs[i].len;
	}
	mc->stats.prefetches += nruns > 0;
	read_runs(s, mc, runs, nruns);
out:
	free(blocks);
	free(runs);
}

void symbolizer_mem_reserve(struct symbolizer *s, size_t bytes)
{
	struct memcache *mc = mc_get(s);
	size_t blocks = bytes / MC_BLOCK;
	struct mc_chunk *c;

	bytes = (bytes + MC_PAGE - 1) & ~(size_t)(MC_PAGE - 1);
	if (!bytes || !arena_reserve(&mc->rw, bytes))
		return;
	c = mc->rw;
	for (size_t off = c->used; off < c->size; off += MC_PAGE)
		((volatile unsigned char *)c->mem)[off] = 0;
	/* and the block table, for those blocks and as many again (calloc may hand out fresh
	 * memory untouched: touch it, keeping what it holds) */
	if (2 * (mc->n + 2 * blocks) > mc->cap)
		mc_grow(mc, 2 * blocks);
	for (size_t off = 0; off < mc->cap * sizeof(*mc->slots); off += MC_PAGE)
		((volatile unsigned char *)mc->slots)[off] = ((unsigned char *)mc->slots)[off];
}

const struct mem_stats *symbolizer_mem_stats(struct symbolizer *s)
{
	struct memcache *mc = mc_get(s);
	mc->stats.pages = (mc->bytes + MC_PAGE - 1) / MC_PAGE;
	return &mc->stats;
}
