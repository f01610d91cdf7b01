/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_HUGEMEM_H
#define FTSCOPE_HUGEMEM_H

#include <stddef.h>

/*
 * Memory in transparent huge pages (2 MiB), where the kernel allows them (THP "always" or
 * "madvise"; with "never" this is plain memory). On the VMs we run on, the first touch of
 * each 4 KiB page costs 10-15 us (a 100-thread dump took ~850 page faults, ~12 ms); a huge
 * page costs one fault for 512 of them.
 */

/* An anonymous private read-write mapping of at least size bytes, 2 MiB aligned, advised
 * MADV_HUGEPAGE; *mapped gets its length (for hugemem_unmap). NULL on failure (errno). */
void *hugemem_map(size_t size, size_t *mapped);
void hugemem_unmap(void *p, size_t mapped);

/* Grow the main malloc heap by pad bytes at once, advise its 2 MiB-aligned part
 * MADV_HUGEPAGE and have malloc hand out memory from there on (one arena, no trimming,
 * nothing under 32 MiB mmap'ed). For short-lived commands (dump): memory freed is not given
 * back. Best effort: returns 0, or -errno when the heap could not be set up so. */
int hugemem_heap(size_t pad);

#endif
