/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_RUNDIR_H
#define FTSCOPE_RUNDIR_H

/*
 * Reading a run directory (docs/results.md), for show/export/reports and --resume.
 * Works on complete, running and interrupted runs.
 */
#include <stdbool.h>
#include <stddef.h>

struct cJSON;

/* Held (flock) by the ftscope running a run, and by nothing else. */
#define RUN_LOCK_FILE "ft_run.lock"

struct run_data {
	char *dir;
	struct cJSON *meta;    /* ft_meta.json, or NULL if missing/unreadable (warned) */
	bool supervisor_died;  /* meta said "running" but no ftscope holds the run's lock: its
				  status is read as "interrupted" (warned) */
	struct cJSON **pkgs;   /* last line per package, in first-appearance order; owned */
	size_t n;
	size_t bad_lines;      /* unparsable lines skipped (a truncated tail, ...) */
};

/*
 * Load dir. Accepts a run dir, or a results dir holding exactly one ft_* run (the newest
 * is taken, with a note, if there are several). Returns 0, or -1 after printing why
 * (not a directory, no ft_results.jsonl and no ft_meta.json).
 */
int run_load(const char *dir, struct run_data *rd);
void run_data_release(struct run_data *rd);
/*
 * Before appending to a run's ft_results.jsonl: a last line without its newline (kill -9,
 * power loss) is repaired -- completed with '\n' when it is a whole JSON object, else moved
 * to ft_results.jsonl.fragment-N (*moved_to, malloc'd) and cut off -- so the next line is
 * not glued onto it. 1 if something was moved, 0 if nothing had to be, -errno.
 */
int run_repair_results(const char *run_dir, char **moved_to);
/*
 * Make an existing run directory and its artifacts/ root's (docs/security.md): as root,
 * owner root, mode 0750, group the sudo user's (SUDO_GID) or root. 0, -EPERM if dir is not
 * ours alone (someone else's, or writable by others: not used), or -errno; *what gets the
 * path that failed (static text: "" or "/artifacts").
 */
int run_dir_protect(const char *dir, const char **what);
/* The package object named `name`, or NULL. */
struct cJSON *run_find_pkg(const struct run_data *rd, const char *name);
/* The run finished the package named `name`: it has a line, not an interrupted one. */
bool run_pkg_finished(const struct run_data *rd, const char *name);

/*
 * An iteration's forensics.json (array of snapshots; docs/results.md), read from
 * run_dir/<iteration.artifacts>/<iteration.forensics>. NULL if the iteration has none or it
 * cannot be read or parsed. Caller owns the result; *path_out (optional) gets the path read
 * (malloc'd, also on failure, NULL if the iteration names none).
 */
struct cJSON *run_load_forensics(const char *run_dir, const struct cJSON *iteration,
				 char **path_out);
/* The hang's snapshot in forensics: the last one whose reason is not "crash" (borrowed). */
const struct cJSON *forensics_hang_snapshot(const struct cJSON *forensics);

#endif
