/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_RUN_H
#define FTSCOPE_RUN_H

/*
 * One `ftscope run`, in three pieces:
 *  - src/cli/cmd_run.c: set-up (options, user, interpreter, packages, the run directory) and
 *    the close of the run;
 *  - src/run/run_pool.c: the worker pool (one forked worker per package, --jobs at once), the
 *    signals that stop it, ft_meta.json's updates;
 *  - src/run/run_progress.c: whether the run must stop, and the progress line;
 *  - src/run/run_pipeline.c: one package in its worker: source, workspace, install, import
 *    probe, iterations.
 * struct run_ctx is what they share; cmd_run.c fills it, the others read it.
 */
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "ftscope/registry.h"
#include "ftscope/run_options.h"
#include "ftscope/supervise.h"
#include "ftscope/tracer.h"
#include "ftscope/tsan.h"
#include "ftscope/util.h"

/* Whose rights the test code runs with. */
enum user_mode {
	USER_SELF,    /* ftscope is not root, or --user root: no switch */
	USER_FIXED,   /* --user NAME: every package as NAME */
	USER_DYNAMIC, /* root's default: a test uid of its own per worker (sandbox.h) */
};

struct run_ctx {
	struct run_opts *o;
	char *run_dir;
	char *work_root;           /* <venvs-dir>/<run id>: the packages' workspaces */
	enum user_mode user_mode;
	struct run_as fixed_user;  /* USER_FIXED */
	int lock_fd;               /* flock on ft_run.lock while the run goes */
	char *results_path, *meta_path;
	cJSON *meta;
	cJSON *profile;
	cJSON *baseline_profile;   /* --baseline-python's python_profile */
	struct strv base_env; /* host env, cleaned */
	size_t pkg_index, pkg_total;
	double t0;
	bool tty;
	struct tracer *tracer;     /* tracer.h */
	char *tracer_reason;
	char *tsan_preload;        /* TSAN runtime to LD_PRELOAD (--tsan, uninstrumented python) */
	char *pip_config;          /* the invoker's pip.conf, copied for the test user, or NULL */
	struct tsan_supp tsan_supp; /* --tsan-suppressions, parsed */
};

/* One package's progress line (a tty only). */
struct run_progress {
	struct run_ctx *rc;
	const char *pkg;
	const char *phase;
	int iter, iters;
	int counts[5];
};

/* ---- run_progress.c ---- */

/* Set by SIGINT/SIGTERM/SIGHUP (or a full disk, through run_stop_requested()). */
extern volatile sig_atomic_t run_interrupted;
/* Stop? Ctrl-C, or a full disk, which ends the run as an interruption does (diskspace.h). */
bool run_stop_requested(void);
void run_progress_draw(void *arg, double elapsed);
void run_progress_clear(struct run_ctx *rc);

/* ---- run_pool.c ---- */

/* Ctrl-C, SIGTERM and SIGHUP set run_interrupted and reach the workers. */
void run_catch_signals(void);
/* Interrupted before the run directory exists: nothing to resume, nothing recorded. */
_Noreturn void run_stop_before_start(const char *when);
int run_write_meta(struct run_ctx *rc);
/* Every package, --jobs at a time, each in a worker; appends their results. */
void run_packages(struct run_ctx *rc, struct pkg_entry **pkgs, size_t n);

/* ---- run_pipeline.c ---- */

/* artifacts/<this>/ of a package */
char *run_pkg_dirname(const char *name);
/* Everything for one package; returns its result object (never NULL). */
cJSON *run_process_package(struct run_ctx *rc, const struct pkg_entry *e, const cJSON *prev);

#endif
