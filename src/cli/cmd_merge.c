/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * ftscope merge -o OUT RUN...: the shards of one survey (run --shard K/N) joined into one
 * run directory that every reader takes for a single host's run (include/ftscope/shard.h).
 * The run store does the joining (runstore_merge_dirs(), src/results/runstore_merge.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "ftscope/cmd.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/runstore.h"
#include "ftscope/util.h"

static const char *const merge_usage[] = {
	"usage: ftscope merge -o OUT RUN...",
	"",
	"Join the runs of the shards of one survey (ftscope run --shard K/N, --shard slurm,",
	"--shard k8s) into the run directory OUT, which show, report, flaky, compat, compare,",
	"crashes, deadlocks and export read like a run of one host.",
	"",
	"The runs must have the same selection of packages and the same options that change",
	"results (interpreter and its version, iterations, timeouts, modes, tracer, ...): a",
	"difference is an error that names it. A package in two runs is refused. Packages of",
	"the selection no run has finished make OUT's status 'partial' (ft_meta.json's",
	"packages_missing); ftscope run --resume OUT runs just those, or a later merge of",
	"OUT with the late shards adds them (merged_from then lists OUT's shards, flat).",
	"",
	"Artifacts are hard-linked where the file system allows, else copied. OUT's",
	"ft_meta.json keeps each shard's host, system profile, start, end and duration",
	"(merged_from); OUT's own duration is the wall time from the first start to",
	"the last end; the shards' durations added up are shards_duration_sum_s.",
	"",
	"  -o, --output OUT   the merged run directory (must not exist yet)",
	NULL,
};

static void print_usage(FILE *f)
{
	for (size_t i = 0; merge_usage[i]; i++)
		fprintf(f, "%s\n", merge_usage[i]);
}

int cmd_merge(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out_dir = NULL;
	struct runstore_merged m;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_usage(stdout);
			return FT_EXIT_OK;
		case 'o':
			out_dir = optarg;
			break;
		default:
			die_bad_option("merge", c, argv);
		}
	}
	if (!out_dir)
		die_usage("merge", "missing -o OUT");
	if (optind >= argc)
		die_usage("merge", "missing the runs to merge (RUN...)");

	umask(022);
	if (runstore_merge_dirs(out_dir, argv + optind, (size_t)(argc - optind), &m) < 0)
		return FT_EXIT_FAILURE;
	printf("merged %zu run%s into %s: %zu of %zu packages finished; artifacts: %zu "
	       "linked, %zu copied, %zu not taken\n",
	       m.inputs, m.inputs == 1 ? "" : "s", out_dir, m.finished, m.packages, m.linked,
	       m.copied, m.skipped);
	if (m.missing.n) {
		printf("partial: %zu package%s not finished:", m.missing.n,
		       m.missing.n == 1 ? "" : "s");
		for (size_t i = 0; i < m.missing.n; i++)
			printf(" %s", m.missing.v[i]);
		printf("\nrun them with: ftscope run --resume %s\n", out_dir);
	}
	strv_release(&m.missing);
	return FT_EXIT_OK;
}
