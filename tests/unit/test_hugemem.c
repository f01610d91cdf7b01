/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * hugemem (src/base/hugemem.c): hugemem_map gives 2 MiB-aligned memory advised
 * MADV_HUGEPAGE; hugemem_heap makes what malloc hands out afterwards come from a heap part
 * advised so (the "hg" flag of its mapping in /proc/self/smaps), big blocks included.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/hugemem.h"
#include "tap.h"

/* The VmFlags of the mapping that holds p contain "hg" (MADV_HUGEPAGE). */
static int advised(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0, hg = -1;

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ') == line + strcspn(line, " ")) {
			if (in)
				break;
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			hg = strstr(line, " hg") != NULL;
		}
	}
	if (f)
		fclose(f);
	return hg;
}

int main(void)
{
	size_t len = 0;
	char *m = hugemem_map(3u << 20, &len), *small, *big;
	int r;

	ok(m != NULL, "hugemem_map: 3 MiB");
	ok(((uintptr_t)m & ((2u << 20) - 1)) == 0, "2 MiB aligned (%p)", (void *)m);
	is_int(len, 4u << 20, "rounded up to whole huge pages");
	memset(m, 1, len);
	is_int(advised(m), 1, "advised MADV_HUGEPAGE");
	hugemem_unmap(m, len);

	r = hugemem_heap(16u << 20);
	is_int(r, 0, "hugemem_heap: the heap grown and advised");
	small = malloc(64);
	big = malloc(1u << 20); /* under the mmap threshold it sets: from the heap too */
	ok(small && big, "malloc after it");
	is_int(advised(small), 1, "a small block comes from the advised part");
	is_int(advised(big), 1, "a 1 MiB block too");
	free(small);
	free(big);
	return tap_done();
}
