/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Shared by the two halves of the recorder's user side: bpfrec.c (load, attach, track, reset)
 * and bpfrec_maps.c (reading the maps: threads, the summary). Not an API: ftscope/bpfrec.h is.
 */
#ifndef FTSCOPE_BPFREC_INTERNAL_H
#define FTSCOPE_BPFREC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ftscope/recorder_event.h"
#include "recorder.skel.h"

#define BPFREC_MAX_EVENTS 20000  /* in-memory cap on signal + lifecycle records */
#define THREADS_MAX 16384        /* live and blocked */

struct bpfrec {
	struct ftscope_recorder *skel;
	struct ring_buffer *rb;
	uint64_t t0_ns;              /* last reset */
	struct recorder_event *ev;   /* consumed events, time order */
	size_t nev, cap;
	uint64_t dropped;            /* events past BPFREC_MAX_EVENTS */
	bool discard;                /* draining for a reset */
	bpfrec_fork_fn on_fork;      /* bpfrec_on_fork */
	void *on_fork_arg;
	const char *syscall_hooks;   /* how futex/wait4/waitid are seen (bpfrec_syscall_hooks) */
	/* blocked_all()'s buffers for a batch read of `blocked` (its max_entries each) */
	__u32 *bkeys;
	struct recorder_blocked *bvals;
	bool no_batch; /* the kernel has no batch lookup for hash maps: one key at a time */
};

#endif
