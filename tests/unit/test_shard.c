/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Shards (src/results/shard.c): the assignment is balanced (floor or ceil of P/N), a partition of
 * the selection, and stable (the same for the same selection, whatever else is asked);
 * --shard specs and the Slurm and Kubernetes environments; the result options' diff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/shard.h"
#include "ftscope/util.h"
#include "tap.h"

static void test_balance(void)
{
	for (size_t p = 1; p <= 12; p++) {
		for (long n = 1; n <= 12; n++) {
			int owners[12], ok_all = 1, balanced = 1, stable = 1;
			memset(owners, 0, sizeof(owners));
			for (long k = 1; k <= n; k++) {
				struct shard s = { .index = k, .count = n };
				size_t got = 0;
				for (size_t i = 0; i < p; i++) {
					if (!shard_owns(&s, i))
						continue;
					got++;
					owners[i]++;
					/* stable: the position's shard does not depend on P */
					if ((long)(i % (size_t)n) + 1 != k)
						stable = 0;
				}
				if (got != p / (size_t)n && got != (p + (size_t)n - 1) / (size_t)n)
					balanced = 0;
			}
			for (size_t i = 0; i < p; i++)
				if (owners[i] != 1)
					ok_all = 0;
			ok(balanced && ok_all && stable,
			   "P=%zu N=%ld: floor/ceil per shard, each package in exactly one", p, n);
		}
	}
}

static void test_resolve(void)
{
	struct shard s;
	struct sbuf err = SBUF_INIT;

	ok(shard_resolve("2/5", &s, &err) == 0 && s.index == 2 && s.count == 5, "K/N");
	ok(shard_resolve("0/5", &s, &err) < 0, "K >= 1");
	ok(shard_resolve("6/5", &s, &err) < 0, "K <= N");
	ok(shard_resolve("2", &s, &err) < 0, "a bare number is refused");
	ok(shard_resolve("a/b", &s, &err) < 0, "words are refused");
	ok(strstr(err.buf, "--shard wants K/N") != NULL, "with the forms it takes");

	setenv("SLURM_ARRAY_TASK_ID", "7", 1);
	setenv("SLURM_ARRAY_TASK_MIN", "5", 1);
	setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
	unsetenv("SLURM_ARRAY_TASK_STEP");
	ok(shard_resolve("slurm", &s, &err) == 0 && s.index == 3 && s.count == 4,
	   "slurm: task 7 of 5-8 is shard 3/4");
	setenv("SLURM_ARRAY_TASK_STEP", "2", 1);
	sbuf_reset(&err);
	ok(shard_resolve("slurm", &s, &err) < 0 && strstr(err.buf, "step 2"),
	   "slurm: a stepped array is refused");
	unsetenv("SLURM_ARRAY_TASK_STEP");
	unsetenv("SLURM_ARRAY_TASK_ID");
	sbuf_reset(&err);
	ok(shard_resolve("slurm", &s, &err) < 0 && strstr(err.buf, "SLURM_ARRAY_TASK_ID"),
	   "slurm: outside an array job, says which variable is missing");

	setenv("JOB_COMPLETION_INDEX", "0", 1);
	unsetenv("FTSCOPE_SHARD_COUNT");
	sbuf_reset(&err);
	ok(shard_resolve("k8s", &s, &err) < 0 && strstr(err.buf, "FTSCOPE_SHARD_COUNT"),
	   "k8s: the count is required");
	ok(shard_resolve("k8s/3", &s, &err) == 0 && s.index == 1 && s.count == 3,
	   "k8s/3: index 0 is shard 1/3");
	setenv("FTSCOPE_SHARD_COUNT", "3", 1);
	setenv("JOB_COMPLETION_INDEX", "2", 1);
	ok(shard_resolve("k8s", &s, &err) == 0 && s.index == 3 && s.count == 3,
	   "k8s with FTSCOPE_SHARD_COUNT: index 2 is shard 3/3");
	setenv("JOB_COMPLETION_INDEX", "3", 1);
	ok(shard_resolve("k8s", &s, &err) < 0, "k8s: an index beyond the count is refused");
	sbuf_release(&err);
}

static void test_hashes(void)
{
	const char *a[] = { "x", "y", "z" }, *b[] = { "x", "z", "y" };
	char ha[17], hb[17], hc[17];
	cJSON *c1 = cJSON_Parse("{\"iterations\": 3, \"jobs\": 1, \"target_python\": \"/p\"}");
	cJSON *c2 = cJSON_Parse("{\"iterations\": 3, \"jobs\": 4, \"target_python\": \"/p\"}");
	cJSON *c3 = cJSON_Parse("{\"iterations\": 2, \"jobs\": 1, \"target_python\": \"/p\"}");
	cJSON *p1 = cJSON_Parse("{\"version\": \"3.13.5\"}");
	cJSON *p2 = cJSON_Parse("{\"version\": \"3.13.4\"}");
	char *va, *vb;
	const char *key;

	selection_hash(a, 3, ha);
	selection_hash(b, 3, hb);
	selection_hash(a, 2, hc);
	ok(strcmp(ha, hb) && strcmp(ha, hc) && strlen(ha) == 16,
	   "selection hash: order and length count");
	result_options_hash(c1, p1, ha);
	result_options_hash(c2, p1, hb);
	result_options_hash(c3, p1, hc);
	ok(!strcmp(ha, hb), "--jobs does not change the result options");
	ok(strcmp(ha, hc) != 0, "--iterations does");
	key = result_options_diff(c1, p1, c3, p1, &va, &vb);
	is_str(key, "iterations", "the diff names the option");
	is_str(va, "3", "with the first value");
	is_str(vb, "2", "and the second");
	free(va);
	free(vb);
	key = result_options_diff(c1, p1, c1, p2, &va, &vb);
	is_str(key, "python.version", "another interpreter version is named");
	free(va);
	free(vb);
	ok(result_options_diff(c1, p1, c2, p1, &va, &vb) == NULL, "no diff: NULL");
	cJSON_Delete(c1);
	cJSON_Delete(c2);
	cJSON_Delete(c3);
	cJSON_Delete(p1);
	cJSON_Delete(p2);
}

int main(void)
{
	test_balance();
	test_resolve();
	test_hashes();
	return tap_done();
}
