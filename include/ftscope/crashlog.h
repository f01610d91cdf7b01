/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_CRASHLOG_H
#define FTSCOPE_CRASHLOG_H

/*
 * Every crash recorded in loaded runs, one entry per crash: the test runner's (an iteration
 * whose status is "crash") and each child process's the suite survived (crashes[] entries
 * with runner false). Read by `ftscope crashes` (clustering) and `ftscope compare` (new and
 * resolved crashes). Strings are borrowed from the run view: keep it alive.
 */
#include <stdbool.h>
#include <stddef.h>

#include "ftscope/cluster.h"

struct cJSON;
struct run_view;

struct crash_occ {
	size_t run;               /* index given to crashlog_add_run */
	const char *run_label;    /* the run's id (rs_meta.run_id) */
	const char *run_dir;
	const char *package;
	const char *started_at;   /* the package's, for ordering; may be NULL */
	int iteration;            /* 1-based */
	bool gil;                 /* a --compare-with-gil iteration (PYTHON_GIL=1) */
	bool child;               /* a child process the suite survived, not the runner */
	int pid;                  /* crashing process, 0 if unknown */
	const char *comm;         /* its command name, or NULL */
	char id[17];              /* signature id; for signatures without one, a hash of the text */
	const char *signature;    /* the signature text (or the signal name alone) */
	struct sig_parts parts;   /* signal, frames, Python frame */
	const struct cJSON *iter; /* the iteration object */
};

struct crashlog {
	struct crash_occ *v;
	size_t n, cap;
};
#define CRASHLOG_INIT { NULL, 0, 0 }

/* Add v's crashes (only package `only`'s when not NULL); `run` identifies v. */
void crashlog_add_run(struct crashlog *cl, const struct run_view *v, size_t run,
		      const char *only);
/* Sort by run, then package start time, FT before GIL iterations, iteration, runner first. */
void crashlog_sort(struct crashlog *cl);
void crashlog_release(struct crashlog *cl);

#endif
