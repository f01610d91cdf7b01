/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_CPUS_H
#define FTSCOPE_CPUS_H

/*
 * CPUs for `run --jobs N` (issue 15): free-threading bugs need a package's threads to run at
 * the same time, so parallel packages must not steal each other's cores. When the CPUs this
 * process may use give every worker at least two, worker `slot` (0-based) is pinned to a
 * contiguous share of them of its own (the remainder goes to the first workers); with fewer,
 * nothing is pinned (one core each would guarantee that no two threads ever overlap) and
 * `run` warns instead.
 */
#include <sched.h>
#include <stdbool.h>

#include "ftscope/util.h"

/* The CPUs this process may use (its affinity mask), at least 1. */
long cpus_usable(void);
/*
 * The share of `allowed` for worker `slot` of `jobs` in *out: the number of CPUs in it, or
 * 0 (out empty) when jobs < 2 or a share would be under two CPUs.
 */
int cpus_for_worker(const cpu_set_t *allowed, long slot, long jobs, cpu_set_t *out);
/* "0-3,8" */
void cpus_format(const cpu_set_t *set, struct sbuf *sb);
/* Pin this process to worker `slot`'s share; its size, 0 (not pinned) or -errno. */
int cpus_pin_worker(long slot, long jobs, struct sbuf *desc);

#endif
