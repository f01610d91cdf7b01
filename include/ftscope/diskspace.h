/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_DISKSPACE_H
#define FTSCOPE_DISKSPACE_H

/*
 * A run on a disk that fills up. At start the run reserves SPACE_RESERVE bytes (a file in
 * its directory). The first write of anything that fails with ENOSPC or EDQUOT gives the
 * reserve back (space_full), so that what the run must still write (the iteration record,
 * the package's results line, ft_meta.json with status "disk_full") fits; util.c's file
 * writers do that and retry once. From then on space_is_full() is true, in every process
 * of the run (the reserve file is gone): capture files stop growing, the running package
 * stops after its current iteration and is recorded as interrupted, no other package
 * starts, and `--resume` can continue once space is freed.
 */
#include <stdbool.h>

#define SPACE_RESERVE (1 << 20)

/* Create dir/.ftscope-space-reserve (SPACE_RESERVE bytes). 0 or -errno. */
int space_reserve(const char *dir);
/* Is err (positive errno or -errno) a full disk or quota? */
bool space_error(int err);
/* Note err; when it is a full disk, give the reserve back. Returns space_error(err). */
bool space_full(int err);
/* Has the disk filled up during this run (the reserve was given back, by any process)? */
bool space_is_full(void);

#endif
