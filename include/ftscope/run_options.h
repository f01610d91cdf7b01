/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_RUN_OPTIONS_H
#define FTSCOPE_RUN_OPTIONS_H

/*
 * `ftscope run`'s options: the command line, its usage text, defaults, and the "config"
 * object of ft_meta.json that records them (src/run/run_options.c). Parsing may run twice: the
 * stored arguments of a resumed run, then the new ones on top.
 */
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "ftscope/util.h"

struct run_opts {
	char *target_python;
	char *baseline_python; /* --baseline-python: the default build, for PEP 779 */
	long iterations;
	double timeout; /* < 0: unset */
	double stall_threshold, deadlock_window;
	struct strv packages;
	long top;
	bool compare_with_gil, stop_on_first_pass, detect_extensions, tsan, check_stability;
	double max_load; /* --max-load; < 0: half the CPUs */
	struct strv extra_deps;
	char *suffix, *override;
	struct strv env;
	char *registry_dir, *repos_dir, *venvs_dir, *results_dir, *package_dir;
	char *work_dir; /* --work-dir: repos/, venvs/, results/ under it unless given */
	char *tracer;
	bool seize_threads; /* --seize-threads: new threads seized from process events, no stops */
	long jobs;
	char *resume;
	long max_output;
	long max_pids;
	char *user;
	char *tsan_suppressions;
	bool offline;
	char *find_links;
	unsigned fail_on;       /* --fail-on: 1 << enum ft_category of each */
	int parallel_threads;    /* --parallel-threads: 0 = no stress iterations */
	int parallel_iterations; /* --parallel-iterations (the plugin's --iterations) */
	bool install_sdist;                      /* --install-from sdist */
	bool trust_ft_wheels, trust_any_version; /* --trust-ft-wheels[-any-version] */
	char *shard;                             /* --shard SPEC, as given */
	bool list;                               /* --list: print the selection, exit */
};

void run_opts_init(struct run_opts *o);
void run_opts_release(struct run_opts *o);
/* Parse argv into o; returns 1 if --help was asked. Usage errors die. */
int run_opts_parse(int argc, char **argv, struct run_opts *o);
/* The usage text, on stdout. */
void run_opts_usage(void);
/* ft_meta.json's "config": the options as the run uses them. */
cJSON *run_opts_config_json(const struct run_opts *o, const char *tracer);
/* The registry when none is given: $FTSCOPE_REGISTRY_DIR, $LABEILLE_REGISTRY_DIR, or
 * labeille's own. */
char *run_default_registry(void);

#endif
