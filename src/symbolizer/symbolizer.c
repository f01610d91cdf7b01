/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * A symbolizer's life: made from a process's maps (maps.c), freed with what the unwinder
 * (unwind.c) and the page cache (memcache.c) keep for it. Above those three, so none of
 * them needs another's teardown.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "ftscope/util.h"
#include "internal.h"

struct symbolizer *symbolizer_new_flags(pid_t pid, unsigned flags)
{
	struct symbolizer *s = xcalloc(1, sizeof(*s));
	int ret;

	s->pid = pid;
	s->flags = flags;
	s->mem_fd = -1;
	s->no_vm_readv = flags & SYMBOLIZER_PROCMEM;
	ret = maps_load(s);
	if (ret < 0) {
		symbolizer_free(s);
		errno = -ret;
		return NULL;
	}
	return s;
}

struct symbolizer *symbolizer_new(pid_t pid)
{
	return symbolizer_new_flags(pid, 0);
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	/* preparation threads waiting to hear which modules the stacks are in (a snapshot
	 * given up before its finish) end without: nobody will ask them now */
	elf_file_prepare_decided();
	elf_file_prepare_frames_done();
	if (unwinder_libunwind.fini)
		unwinder_libunwind.fini(s);
	memcache_free(s->mem);
	maps_free(s->maps, s->nmaps);
	if (s->mem_fd >= 0)
		close(s->mem_fd);
	free(s);
}
