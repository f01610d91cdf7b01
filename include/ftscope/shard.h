/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_SHARD_H
#define FTSCOPE_SHARD_H

/*
 * Shards of a survey (src/results/shard.c): `run --shard K/N` runs the K-th of N parts of the
 * selection, `ftscope merge` joins the parts into one run.
 *
 *   assignment  the selection (after --packages, --top and the registry's skips, in the
 *               order the run would take them) is dealt round-robin: the package at
 *               position i (0-based) belongs to shard i mod N + 1, so every shard gets
 *               floor(P/N) or ceil(P/N) packages, and the most downloaded of a --top
 *               selection are spread over all shards
 *   belonging   shards belong together when their selection hash (every selected name,
 *               in order) and their result options hash (the options that change
 *               results, the interpreter and its version) are equal
 */
#include <stdbool.h>
#include <stddef.h>

#include "ftscope/util.h"

struct cJSON;

struct shard {
	long index; /* 1-based; 0: the run is not sharded */
	long count;
	char source[16]; /* "K/N", "slurm", "k8s" */
};

/* Parse --shard SPEC: "K/N", "slurm" (SLURM_ARRAY_TASK_ID, _MIN, _COUNT), "k8s" or
 * "k8s/N" (JOB_COMPLETION_INDEX; the count from N, else $FTSCOPE_SHARD_COUNT). 0, or -1
 * with the reason in err. */
int shard_resolve(const char *spec, struct shard *s, struct sbuf *err);
/* Does shard s take the package at position i of the selection? */
bool shard_owns(const struct shard *s, size_t i);
/* 16 hex digits over the names, in order. */
void selection_hash(const char *const *names, size_t n, char out[17]);
/* The options that change results: a new object with those of config (ft_meta.json's)
 * and the interpreter's version, implementation and build (python_profile). */
struct cJSON *result_options_json(const struct cJSON *config, const struct cJSON *python);
void result_options_hash(const struct cJSON *config, const struct cJSON *python, char out[17]);
/* The first result option on which two runs differ (its name, e.g. "iterations" or
 * "python.version"), with both values printed (malloc'd) in *va and *vb; NULL if none. */
const char *result_options_diff(const struct cJSON *cfg_a, const struct cJSON *py_a,
				const struct cJSON *cfg_b, const struct cJSON *py_b, char **va,
				char **vb);

#endif
