/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_DEADLOCK_STORY_H
#define FTSCOPE_DEADLOCK_STORY_H

/*
 * The hung iterations of one package told as a story a person reads in ten seconds: the
 * iterations grouped by what hung ("3 of 3 iterations, same cycle; also with the GIL"), then
 * for each thread of the cycle its name, the lock it holds and where it took it, the lock it
 * waits for and where; the other threads one line each. The full stacks follow with
 * STORY_FULL. Reads the stored snapshots (forensics.json, docs/results.md) only.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cJSON;
struct rs_hang;
struct rs_hang_stacks;
struct rs_iter;
struct rs_pkg;

struct story_iter {
	const char *label;              /* the artifact directory's name: "1", "gil-2" */
	bool gil;                       /* a PYTHON_GIL=1 iteration (--compare-with-gil) */
	const char *reason;             /* the hang's reason: "lock_wait", "stall", "timeout" */
	double after_s;                 /* detected after this long without progress */
	const struct cJSON *snap;       /* its hang snapshot; NULL if none was taken */
	const struct rs_hang *hang;     /* the iteration's hang (the /proc monitor's view) */
};

#define STORY_FULL 0x1                  /* every iteration's merged stacks after the story */
#define STORY_ALL_FRAMES 0x2            /* ... with the plumbing frames */
#define STORY_STACKS_ONLY 0x4           /* only the stacks, without the story */

/* n iterations of package `package` (free-threaded ones first, then GIL ones); ntotal_ft and
 * ntotal_gil: how many iterations of each mode the package ran. */
void deadlock_story_print(FILE *f, const char *package, const struct story_iter *it, size_t n,
			  int ntotal_ft, int ntotal_gil, unsigned flags);

/*
 * The hung iterations of one package with their snapshots, each forensics.json read once
 * (story_pkg_load); told as `ftscope deadlocks RUN --package NAME` tells them as many times
 * as wanted (story_pkg_print). The iterations: the package's plain then its GIL ones, or
 * (stress) its stress ones, those with a hang.
 */
struct story_pkg {
	const struct rs_pkg *pkg;       /* borrowed */
	bool stress;
	size_t n;                       /* how many iterations hung */
	const struct rs_iter **its;     /* n pointers into pkg */
	struct rs_hang_stacks *stacks;  /* n: each one's forensics.json (runstore.h) */
	struct story_iter *story;       /* n: as deadlock_story_print() takes them */
	char **labels;
};
void story_pkg_load(struct story_pkg *s, const struct rs_pkg *pkg, bool stress);
/* The stacks loaded for it, or NULL when it is not one of s's iterations. */
const struct rs_hang_stacks *story_pkg_stacks(const struct story_pkg *s, const struct rs_iter *it);
/* The story; blank_before: a blank line first. How many iterations hung (0: nothing printed). */
int story_pkg_print(FILE *out, const struct story_pkg *s, unsigned flags, bool blank_before);
void story_pkg_release(struct story_pkg *s);

#endif
