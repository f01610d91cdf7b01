/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Snapshot memory: the target's pages as they were when first read in this snapshot.
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
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "ftscope/error.h"
#include "ftscope/util.h"
#include "internal.h"

#define MC_PAGE 4096u
#define MC_CHUNK (256u * 1024)
#define MC_IOV 1024 /* UIO_MAXIOV */
#define MC_USER_END (1ull << 47)

struct mc_slot {
	uint64_t page;          /* page number (addr / MC_PAGE) + 1; 0: empty slot */
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
	/* the page of the last read (most reads follow one into the same page) */
	uint64_t last_page;     /* page number + 1, 0: none */
	unsigned char *last_data;
};

static void chunks_free(struct mc_chunk *c)
{
	while (c) {
		struct mc_chunk *next = c->next;
		munmap(c->mem, c->size);
		free(c);
		c = next;
	}
}

/* Room for npages pages in one chunk of the arena, making a chunk of at least reserve pages
 * if there is none. The chunks are populated in one system call (MAP_POPULATE): a page fault
 * per page costs more than the copy itself on a VM. */
static bool arena_reserve(struct mc_chunk **head, size_t npages)
{
	size_t need = npages * MC_PAGE;
	struct mc_chunk *c = *head;

	if (!c || c->size - c->used < need) {
		size_t size = need > MC_CHUNK ? need : MC_CHUNK;
		void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (mem == MAP_FAILED)
			return false;
		c = xcalloc(1, sizeof(*c));
		c->mem = mem;
		c->size = size;
		c->next = *head;
		*head = c;
	}
	return true;
}

/* Page-aligned room for npages pages. */
static unsigned char *arena_alloc(struct mc_chunk **head, size_t npages)
{
	struct mc_chunk *c;
	unsigned char *p;

	if (!arena_reserve(head, npages))
		return NULL;
	c = *head;
	p = c->mem + c->used;
	c->used += npages * MC_PAGE;
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

static struct mc_slot *mc_find(struct memcache *mc, uint64_t page)
{
	uint64_t key = page / MC_PAGE + 1;
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

static void mc_grow(struct memcache *mc)
{
	struct mc_slot *old = mc->slots;
	size_t oldcap = mc->cap;

	mc->cap = oldcap ? 2 * oldcap : 1024;
	mc->slots = xcalloc(mc->cap, sizeof(*mc->slots));
	mc->n = 0;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].page)
			mc_insert_slot(mc, &old[i]);
	free(old);
}

static void mc_put(struct memcache *mc, uint64_t page, unsigned char *data, bool ro)
{
	struct mc_slot sl = { page / MC_PAGE + 1, data, ro };
	if (2 * (mc->n + 1) > mc->cap)
		mc_grow(mc);
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
}

static bool page_is_ro(struct symbolizer *s, uint64_t page)
{
	struct map_entry *m = maps_find(s, page);
	return m && m->perms[1] != 'w';
}

/* The slot of one page, reading it on a miss. NULL only when the process is gone. */
static struct mc_slot *mc_page(struct symbolizer *s, struct memcache *mc, uint64_t page, int *err)
{
	struct mc_slot *sl = mc_find(mc, page);
	unsigned char *data;
	bool ro;
	int r;

	if (sl)
		return sl;
	ro = page_is_ro(s, page);
	data = arena_alloc(ro ? &mc->ro : &mc->rw, 1);
	if (!data) {
		*err = -ENOMEM;
		return NULL;
	}
	mc->stats.reads++;
	mc->stats.pages++;
	r = symbolizer_read_mem(s, page, data, MC_PAGE);
	if (r == -ESRCH) {
		*err = r;
		return NULL;
	}
	mc_put(mc, page, r ? NULL : data, ro);
	return mc_find(mc, page);
}

int symbolizer_mem_read(struct symbolizer *s, uint64_t addr, void *buf, size_t len)
{
	struct memcache *mc = mc_get(s);
	unsigned char *out = buf;

	if (!addr || addr >= MC_USER_END || len > MC_USER_END - addr)
		return -EFAULT;
	while (len) {
		uint64_t page = addr & ~(uint64_t)(MC_PAGE - 1);
		size_t off = (size_t)(addr - page), chunk = MC_PAGE - off;
		unsigned char *data;

		if (mc->last_page == page / MC_PAGE + 1) {
			data = mc->last_data;
		} else {
			int err = -EFAULT;
			struct mc_slot *sl = mc_page(s, mc, page, &err);
			if (!sl)
				return err;
			data = sl->data;
			mc->last_page = page / MC_PAGE + 1;
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
	for (page = addr & ~(uint64_t)(MC_PAGE - 1); page < end; page += MC_PAGE)
		if (!mc_find(mc, page))
			return false;
	return true;
}

/* One run of contiguous pages inside one mapping, to be read with one iovec. */
struct mc_run {
	uint64_t start;         /* page-aligned */
	size_t npages;
	unsigned char *data;
	bool ro;
};

/* Read runs[0..n) into their buffers and enter their pages; a run that fails is retried a
 * page at a time, and a page that fails is entered as unreadable. */
static void read_runs(struct symbolizer *s, struct memcache *mc, struct mc_run *runs, size_t n)
{
	struct iovec local[MC_IOV], remote[MC_IOV];
	size_t i = 0;

	while (i < n) {
		size_t k = 0, done = 0;
		ssize_t got;

		for (; k < MC_IOV && i + k < n; k++) {
			local[k] = (struct iovec){ runs[i + k].data, runs[i + k].npages * MC_PAGE };
			remote[k] = (struct iovec){ (void *)(uintptr_t)runs[i + k].start,
						    runs[i + k].npages * MC_PAGE };
		}
		mc->stats.reads++;
		got = s->no_vm_readv ? -1 : process_vm_readv(s->pid, local, k, remote, k, 0);
		if (got < 0 && errno == ESRCH)
			return;
		if (got < 0 && errno != EFAULT) {
			/* no process_vm_readv here (ENOSYS, EPERM): one read per run */
			for (size_t j = 0; j < k; j++) {
				struct mc_run *r = &runs[i + j];
				if (symbolizer_read_mem(s, r->start, r->data, r->npages * MC_PAGE) == 0) {
					for (size_t p = 0; p < r->npages; p++)
						mc_put(mc, r->start + p * MC_PAGE, r->data + p * MC_PAGE, r->ro);
				} else {
					for (size_t p = 0; p < r->npages; p++) {
						uint64_t a = r->start + p * MC_PAGE;
						bool ok = !symbolizer_read_mem(s, a, r->data + p * MC_PAGE, MC_PAGE);
						mc_put(mc, a, ok ? r->data + p * MC_PAGE : NULL, r->ro);
					}
				}
			}
			i += k;
			continue;
		}
		/* whole iovecs up to the first that failed (transfers never split an iovec) */
		for (size_t j = 0; j < k && got > 0; j++) {
			struct mc_run *r = &runs[i + j];
			if ((size_t)got < r->npages * MC_PAGE)
				break;
			got -= (ssize_t)(r->npages * MC_PAGE);
			for (size_t p = 0; p < r->npages; p++)
				mc_put(mc, r->start + p * MC_PAGE, r->data + p * MC_PAGE, r->ro);
			done++;
		}
		if (done < k) {
			struct mc_run *r = &runs[i + done];
			if (r->npages == 1) {
				mc_put(mc, r->start, NULL, r->ro);
			} else {
				/* somewhere in this run a page is unreadable: find it page by page */
				for (size_t p = 0; p < r->npages; p++) {
					uint64_t a = r->start + p * MC_PAGE;
					int err = symbolizer_read_mem(s, a, r->data + p * MC_PAGE, MC_PAGE);
					mc->stats.reads++;
					if (err == -ESRCH)
						return;
					mc_put(mc, a, err ? NULL : r->data + p * MC_PAGE, r->ro);
				}
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
	uint64_t *pages = NULL;
	size_t npages = 0, cappages = 0, nruns = 0, cap = 0, total = 0;
	struct map_entry *m = NULL;

	/* The pages not read yet (ranges come in any order, overlap, repeat)... */
	for (size_t i = 0; i < n; i++) {
		uint64_t a, end;
		if (!ranges[i].addr || ranges[i].addr >= MC_USER_END || !ranges[i].len ||
		    ranges[i].len > MC_USER_END - ranges[i].addr)
			continue;
		end = ranges[i].addr + ranges[i].len;
		for (a = ranges[i].addr & ~(uint64_t)(MC_PAGE - 1); a < end; a += MC_PAGE) {
			if (mc_find(mc, a))
				continue;
			if (npages == cappages) {
				cappages = cappages ? 2 * cappages : 256;
				pages = xrealloc(pages, cappages * sizeof(*pages));
			}
			pages[npages++] = a;
		}
	}
	if (!npages)
		goto out;
	qsort(pages, npages, sizeof(*pages), u64_cmp);
	/* ...as runs of contiguous pages inside one readable mapping: one iovec each */
	for (size_t i = 0; i < npages; i++) {
		uint64_t a = pages[i];
		struct mc_run *last = nruns ? &runs[nruns - 1] : NULL;
		if (i && a == pages[i - 1])
			continue;
		if (!m || a < m->start || a >= m->end)
			m = maps_find(s, a);
		if (!m || m->perms[0] != 'r')
			continue; /* not mapped when maps were read, or not readable: left to mc_page */
		if (last && last->start + last->npages * MC_PAGE == a && maps_find(s, last->start) == m) {
			last->npages++;
			continue;
		}
		if (nruns == cap) {
			cap = cap ? 2 * cap : 64;
			runs = xrealloc(runs, cap * sizeof(*runs));
		}
		runs[nruns++] = (struct mc_run){ a, 1, NULL, m->perms[1] != 'w' };
	}
	/* one chunk for all the writable pages of this prefetch (a 100-thread snapshot's
	 * stacks are ~600 pages): one mmap, not one per 64 pages */
	{
		size_t rw = 0;
		for (size_t i = 0; i < nruns; i++)
			rw += runs[i].ro ? 0 : runs[i].npages;
		if (rw)
			arena_reserve(&mc->rw, rw);
	}
	for (size_t i = 0; i < nruns; i++) {
		runs[i].data = arena_alloc(runs[i].ro ? &mc->ro : &mc->rw, runs[i].npages);
		if (!runs[i].data) {
			nruns = i;
			break;
		}
		total += runs[i].npages;
	}
	mc->stats.pages += total;
	mc->stats.prefetches += nruns > 0;
	read_runs(s, mc, runs, nruns);
out:
	free(pages);
	free(runs);
}

const struct mem_stats *symbolizer_mem_stats(struct symbolizer *s)
{
	return &mc_get(s)->stats;
}
