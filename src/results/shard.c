/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Shards (include/ftscope/shard.h): which part of a survey a run takes, and what shards
 * must share to be merged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/json.h"
#include "ftscope/shard.h"
#include "ftscope/signature.h"

static int env_long(const char *name, long min, long *out, struct sbuf *err)
{
	const char *v = getenv(name);
	if (!v || !*v) {
		sbuf_addf(err, "$%s is not set", name);
		return -1;
	}
	if (parse_int(v, min, 1000000, out) < 0) {
		sbuf_addf(err, "$%s is '%s', not a whole number >= %ld", name, v, min);
		return -1;
	}
	return 0;
}

int shard_resolve(const char *spec, struct shard *s, struct sbuf *err)
{
	long id, min, step = 1;
	const char *slash = strchr(spec, '/');

	memset(s, 0, sizeof(*s));
	if (!strcmp(spec, "slurm")) {
		snprintf(s->source, sizeof(s->source), "slurm");
		if (env_long("SLURM_ARRAY_TASK_ID", 0, &id, err) < 0 ||
		    env_long("SLURM_ARRAY_TASK_MIN", 0, &min, err) < 0 ||
		    env_long("SLURM_ARRAY_TASK_COUNT", 1, &s->count, err) < 0) {
			sbuf_adds(err, " (--shard slurm runs as a task of a Slurm array job: "
				       "sbatch --array=1-N)");
			return -1;
		}
		if (getenv("SLURM_ARRAY_TASK_STEP") &&
		    env_long("SLURM_ARRAY_TASK_STEP", 1, &step, err) < 0)
			return -1;
		if (step != 1 || id < min || id - min >= s->count) {
			sbuf_addf(err, "the Slurm array is not one range with step 1 (task %ld, "
				       "min %ld, count %ld, step %ld): give --array=A-B, or "
				       "--shard K/N", id, min, s->count, step);
			return -1;
		}
		s->index = id - min + 1;
		return 0;
	}
	if (!strcmp(spec, "k8s") || !strncmp(spec, "k8s/", 4)) {
		snprintf(s->source, sizeof(s->source), "k8s");
		if (env_long("JOB_COMPLETION_INDEX", 0, &id, err) < 0) {
			sbuf_adds(err, " (--shard k8s runs as a pod of an Indexed Job)");
			return -1;
		}
		if (slash) {
			if (parse_int(slash + 1, 1, 1000000, &s->count) < 0) {
				sbuf_addf(err, "--shard k8s/N wants a count >= 1, not '%s'", slash + 1);
				return -1;
			}
		} else if (env_long("FTSCOPE_SHARD_COUNT", 1, &s->count, err) < 0) {
			sbuf_adds(err, " (--shard k8s needs the Job's completions: --shard k8s/N "
				       "or FTSCOPE_SHARD_COUNT=N)");
			return -1;
		}
		if (id >= s->count) {
			sbuf_addf(err, "JOB_COMPLETION_INDEX is %ld, not below the %ld completions",
				  id, s->count);
			return -1;
		}
		s->index = id + 1;
		return 0;
	}
	snprintf(s->source, sizeof(s->source), "K/N");
	if (slash) {
		char *k = xstrndup(spec, (size_t)(slash - spec));
		int bad = parse_int(k, 1, 1000000, &s->index) < 0 ||
			  parse_int(slash + 1, 1, 1000000, &s->count) < 0;
		free(k);
		if (!bad && s->index <= s->count)
			return 0;
	}
	sbuf_addf(err, "--shard wants K/N with 1 <= K <= N, slurm, k8s or k8s/N, not '%s'",
		  spec);
	memset(s, 0, sizeof(*s));
	return -1;
}

bool shard_owns(const struct shard *s, size_t i)
{
	return s->count <= 0 || (long)(i % (size_t)s->count) == s->index - 1;
}

void selection_hash(const char *const *names, size_t n, char out[17])
{
	struct sbuf sb = SBUF_INIT;
	sbuf_addf(&sb, "%zu", n);
	for (size_t i = 0; i < n; i++)
		sbuf_addf(&sb, "\n%s", names[i]);
	hash_hex(sb.buf, out);
	sbuf_release(&sb);
}

/* ft_meta.json's config keys whose value changes what a package's result can be (not:
 * --jobs, the work directories, --max-output, who runs the tests). */
static const char *const result_config_keys[] = {
	"target_python", "baseline_python", "iterations", "timeout", "stall_threshold",
	"deadlock_window", "compare_with_gil", "tsan_build", "tsan_suppressions",
	"parallel_threads", "parallel_iterations", "stop_on_first_pass", "detect_extensions",
	"extra_deps", "test_command_suffix", "test_command_override", "install_from",
	"install_mode", "trust_ft_wheels", "trust_ft_wheels_any_version", "env", "tracer",
	"max_pids",
};
/* python_profile's keys, after "python." */
static const char *const result_python_keys[] = {
	"python.version", "python.implementation", "python.gil_disabled", "python.debug_build",
};
#define PY_PREFIX_LEN (sizeof("python.") - 1)

cJSON *result_options_json(const cJSON *config, const cJSON *python)
{
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < ARRAY_SIZE(result_config_keys); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(config, result_config_keys[i]);
		cJSON_AddItemToObject(o, result_config_keys[i],
				      v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
	}
	for (size_t i = 0; i < ARRAY_SIZE(result_python_keys); i++) {
		const char *k = result_python_keys[i];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(python, k + PY_PREFIX_LEN);
		cJSON_AddItemToObject(o, k, v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
	}
	return o;
}

void result_options_hash(const cJSON *config, const cJSON *python, char out[17])
{
	cJSON *o = result_options_json(config, python);
	char *t = json_print(o, false);
	hash_hex(t ? t : "", out);
	free(t);
	cJSON_Delete(o);
}

const char *result_options_diff(const cJSON *cfg_a, const cJSON *py_a, const cJSON *cfg_b,
				const cJSON *py_b, char **va, char **vb)
{
	cJSON *a = result_options_json(cfg_a, py_a), *b = result_options_json(cfg_b, py_b);
	const cJSON *x;
	const char *key = NULL;
	*va = *vb = NULL;
	cJSON_ArrayForEach(x, a)
	{
		cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
		if (y && cJSON_Compare(x, y, true))
			continue;
		*va = json_print((cJSON *)x, false);
		*vb = y ? json_print(y, false) : xstrdup("null");
		/* a name that outlives the objects */
		for (size_t i = 0; i < ARRAY_SIZE(result_config_keys); i++)
			if (!strcmp(x->string, result_config_keys[i]))
				key = result_config_keys[i];
		for (size_t i = 0; i < ARRAY_SIZE(result_python_keys); i++)
			if (!strcmp(x->string, result_python_keys[i]))
				key = result_python_keys[i];
		break;
	}
	cJSON_Delete(a);
	cJSON_Delete(b);
	return key;
}
