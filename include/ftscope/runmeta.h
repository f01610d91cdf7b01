/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_RUNMETA_H
#define FTSCOPE_RUNMETA_H

/*
 * A run's meta (ft_meta.json, docs/results.md) as `ftscope run` makes and updates it: the
 * run store's writer side of the meta, so that no command names its keys. The meta stays a
 * JSON object (struct run_ctx's `meta`, written by runstore_write_meta()); these functions
 * are the only ones that build, change or read its members while a run goes. Key order in
 * the file is the order of the calls below: runmeta_new(), then runmeta_started(),
 * runmeta_tsan_preload(), runmeta_pip_config(), runmeta_ready().
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct cJSON;
struct run_data;
struct shard;
struct strv;

/* --check-stability's record ("stability"). */
struct run_stability {
	double load_1m;                /* -1: /proc/loadavg unreadable */
	long cpus;
	double max_load;
	bool ok;
};

/* What a new run's meta is made of. */
struct run_meta_init {
	const char *run_id;            /* the run directory's name */
	const char *ts;                /* timestamp and started_at */
	struct cJSON *system_profile;  /* taken (sysinfo.h) */
	const struct cJSON *python_profile, *baseline_profile; /* copied; baseline may be NULL */
	struct cJSON *config;          /* taken (run_opts_config_json) */
	const struct strv *cli_args;   /* the command line after "run" */
	const struct strv *skipped;    /* the registry's "name: reason" */
	size_t packages_total;         /* this run's (this shard's) packages */
	const char *sel_hash;          /* the whole selection's hash (shard.h) */
	const struct strv *selection;  /* the whole selection's names */
	const struct shard *shard;     /* count 0: not sharded */
};

/* A new meta, status "running" (caller owns it: runmeta_free). */
struct cJSON *runmeta_new(const struct run_meta_init *in);
/* --resume: a copy of prev's meta, "running" again, with ts appended to resumed_at. */
struct cJSON *runmeta_resume(const struct cJSON *prev, const char *ts);
void runmeta_free(struct cJSON *meta);

/* The command line a run was started with (cli_args), pushed onto av. */
void runmeta_cli_args(const struct cJSON *meta, struct strv *av);
/* The whole selection's hash, or NULL (runs before selections were recorded). */
const char *runmeta_selection_hash(const struct cJSON *meta);

/* The supervisor's pid and the workspaces' directory. */
void runmeta_started(struct cJSON *meta, pid_t pid, const char *work_dir);
/* config.tsan_preload: the preloaded TSAN runtime. */
void runmeta_tsan_preload(struct cJSON *meta, const char *preload);
/* config.pip_config: the invoker's pip.conf the installs use (NULL: none). */
void runmeta_pip_config(struct cJSON *meta, const char *from);
/*
 * Ready to be written: config.tracer and tracer_reason, the stability record (NULL: none),
 * and for a new run (!resumed) the result options' hash over config and python (shard.h);
 * a resumed one drops packages_missing (a merge's: what was missing is run now).
 */
void runmeta_ready(struct cJSON *meta, const char *tracer, const char *tracer_reason,
		   const struct run_stability *stability, const struct cJSON *python,
		   bool resumed);

/* One package's line was appended: packages_completed and total_iterations count it. */
void runmeta_add_pkg(struct cJSON *meta, const struct cJSON *pkg);

enum runmeta_end { RUNMETA_COMPLETE, RUNMETA_INTERRUPTED, RUNMETA_DISK_FULL };
/* The run ends: status, finished_at ts, total_duration_s grown by elapsed_s. */
void runmeta_close(struct cJSON *meta, enum runmeta_end end, const char *ts, double elapsed_s);
/* packages_completed and total_iterations recounted from the run as written. */
void runmeta_count(struct cJSON *meta, const struct run_data *now);

#endif
