/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ftscope/hugemem.h"

#define HUGE_SIZE ((size_t)2 << 20)

static uintptr_t align_up(uintptr_t v)
{
	return (v + HUGE_SIZE - 1) & ~(uintptr_t)(HUGE_SIZE - 1);
}

void *hugemem_map(size_t size, size_t *mapped)
{
	size_t len = align_up(size ? size : 1);
	char *raw, *p;

	/* map one huge page more and cut the unaligned ends off */
	raw = mmap(NULL, len + HUGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	p = (char *)align_up((uintptr_t)raw);
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	if (raw + len + HUGE_SIZE > p + len)
		munmap(p + len, (size_t)(raw + len + HUGE_SIZE - (p + len)));
	(void)madvise(p, len, MADV_HUGEPAGE); /* EINVAL without THP: plain pages then */
	*mapped = len;
	return p;
}

void hugemem_unmap(void *p, size_t mapped)
{
	if (p)
		munmap(p, mapped);
}

int hugemem_heap(size_t pad)
{
	char *start, *end, *lo, *hi, *top;
	void *volatile grow;
	struct mallinfo2 mi;

	if (pad > INT32_MAX)
		pad = INT32_MAX & ~(HUGE_SIZE - 1);
	mallopt(M_ARENA_MAX, 1);           /* threads too: an arena of their own is 4 KiB pages */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, INT32_MAX);
	mallopt(M_TOP_PAD, (int)pad);
	/* a block larger than what the heap has left makes malloc grow it by pad more (volatile:
	 * the compiler may drop a malloc that is freed unused) */
	start = sbrk(0);
	grow = malloc(1u << 20);
	free(grow);
	end = sbrk(0);
	if (start == (char *)-1 || end == (char *)-1)
		return -errno;
	if ((size_t)(end - start) < pad)
		return -ENOMEM; /* the heap did not grow so (no brk here: malloc mmaps) */
	lo = (char *)align_up((uintptr_t)(end - pad));
	hi = (char *)((uintptr_t)end & ~(uintptr_t)(HUGE_SIZE - 1));
	if (hi <= lo)
		return -ENOMEM;
	if (madvise(lo, (size_t)(hi - lo), MADV_HUGEPAGE) < 0)
		return -errno;
	/* The heap's top chunk starts below lo, in 4 KiB pages: a block that reaches up to lo,
	 * never freed, makes what follows start in the advised part (whose pages nothing has
	 * touched yet: a page touched before the advice is a 4 KiB page). */
	mi = mallinfo2();
	top = end - mi.keepcost;
	if (top < lo && (size_t)(lo - top) > 64) {
		void *volatile fill = malloc((size_t)(lo - top) - 32);
		(void)fill;
	}
	return 0;
}
