/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The snapshot's pages (src/symbolizer/memcache.c), on this process's own memory:
 *  - a prefetch brings many ranges in with few reads, and reads answer from it;
 *  - what was read is what later reads return, though the memory changed since (a
 *    snapshot), until symbolizer_mem_reset();
 *  - a hole in a run (a page unmapped after the maps were read) costs that page only: the
 *    pages around it are read, the hole reads as -EFAULT;
 *  - ranges outside every mapping are skipped, and a read there fails;
 *  - symbolizer_mem_cached() says whether a read would touch the target.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ftscope/symbolizer.h"
#include "tap.h"

#define PG 4096u

int main(void)
{
	unsigned char *m = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				-1, 0);
	struct symbolizer *s;
	const struct mem_stats *st;
	struct mem_range all = { (uint64_t)(uintptr_t)m, 8 * PG };
	unsigned char buf[PG];
	bool same = true;

	if (m == MAP_FAILED)
		return printf("Bail out! mmap\n"), 1;
	for (unsigned i = 0; i < 8 * PG; i++)
		m[i] = (unsigned char)(i / PG + 1);
	s = symbolizer_new(getpid()); /* its maps: the 8 pages as one mapping */
	if (!ok(s != NULL, "a symbolizer of this process"))
		return tap_done();

	symbolizer_mem_reset(s);
	ok(!symbolizer_mem_cached(s, all.addr, 1), "nothing read yet");
	munmap(m + 5 * PG, PG); /* a hole the maps do not know of */
	symbolizer_mem_prefetch(s, &all, 1);
	st = symbolizer_mem_stats(s);
	ok(st->reads >= 1 && st->reads <= 10, "8 pages with a hole: %u reads", st->reads);
	ok(symbolizer_mem_cached(s, all.addr, 8 * PG), "every page is known after the prefetch");
	for (unsigned p = 0; p < 8; p++) {
		int r = symbolizer_mem_read(s, all.addr + p * PG, buf, PG);
		if (p == 5) {
			is_int(r, -EFAULT, "page 5, unmapped: -EFAULT");
			continue;
		}
		same &= r == 0 && buf[0] == p + 1 && buf[PG - 1] == p + 1;
	}
	ok(same, "the other 7 pages read right");

	/* the memory changes; the snapshot does not */
	memset(m, 0xee, PG);
	ok(symbolizer_mem_read(s, all.addr + 10, buf, 4) == 0 && buf[0] == 1,
	   "a page read before answers as it was then");
	ok(symbolizer_mem_read(s, all.addr + PG - 2, buf, 4) == 0 && buf[1] == 1 && buf[2] == 2,
	   "a read across two pages");
	symbolizer_mem_reset(s);
	ok(!symbolizer_mem_cached(s, all.addr, 1), "reset: writable pages forgotten");
	ok(symbolizer_mem_read(s, all.addr + 10, buf, 4) == 0 && buf[0] == 0xee,
	   "and read again: the memory as it is now");

	/* scattered small reads are read as blocks, not pages: 8 words from 8 pages fill
	 * less than one page of ours (a Python walk reads a few words from hundreds of pages) */
	symbolizer_mem_reset(s);
	{
		struct mem_range words[8];
		uint64_t v;
		unsigned reads;
		bool right = true;
		for (unsigned p = 0; p < 8; p++)
			words[p] = (struct mem_range){ all.addr + (p == 5 ? 4 : p) * PG + 512, 8 };
		symbolizer_mem_prefetch(s, words, 8);
		st = symbolizer_mem_stats(s);
		is_int(st->pages, 1, "8 words from 7 pages: one page's worth read (%zu)", st->pages);
		reads = st->reads;
		for (unsigned p = 0; p < 8; p++) {
			uint64_t want;
			memcpy(&want, m + (p == 5 ? 4 : p) * PG + 512, 8);
			right &= symbolizer_mem_read(s, words[p].addr, &v, 8) == 0 && v == want;
		}
		ok(right, "and each reads right");
		is_int(symbolizer_mem_stats(s)->reads, reads, "from what was read");
		ok(!symbolizer_mem_cached(s, all.addr + 2 * PG, 8), "the rest of those pages not read");
	}

	/* room made (and touched) before a snapshot changes nothing in what it reads */
	symbolizer_mem_reset(s);
	symbolizer_mem_reserve(s, 64 * 1024);
	symbolizer_mem_prefetch(s, &(struct mem_range){ all.addr, 4 * PG }, 1);
	ok(symbolizer_mem_read(s, all.addr + 3 * PG + 7, buf, 2) == 0 && buf[0] == 4 && buf[1] == 4,
	   "a prefetch into reserved room reads right");

	/* outside every mapping */
	{
		struct mem_range none = { 0x1000, 4 * PG };
		unsigned before = symbolizer_mem_stats(s)->reads;
		symbolizer_mem_prefetch(s, &none, 1);
		is_int(symbolizer_mem_stats(s)->reads, before, "a range outside every mapping: no read");
		is_int(symbolizer_mem_read(s, 0x1000, buf, 8), -EFAULT, "and reading it fails");
	}
	symbolizer_free(s);
	munmap(m, 5 * PG);
	munmap(m + 6 * PG, 2 * PG);
	return tap_done();
}
