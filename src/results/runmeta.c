/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* A run's meta while `ftscope run` goes (runmeta.h): ft_meta.json's members, made here. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/json.h"
#include "ftscope/rundir.h"
#include "ftscope/runmeta.h"
#include "ftscope/shard.h"
#include "ftscope/util.h"
#include "ftscope/version.h"

static cJSON *item(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* packages_skipped: the registry's "name: reason" as objects. */
static cJSON *skipped_json(const struct strv *skipped)
{
	cJSON *sk = cJSON_CreateArray();
	for (size_t i = 0; skipped && i < skipped->n; i++) {
		cJSON *o = cJSON_CreateObject();
		const char *v = skipped->v[i], *colon = strstr(v, ": ");
		char *name = colon ? xstrndup(v, (size_t)(colon - v)) : xstrdup(v);
		cJSON_AddStringToObject(o, "package", name);
		cJSON_AddStringToObject(o, "reason", colon ? colon + 2 : "");
		cJSON_AddItemToArray(sk, o);
		free(name);
	}
	return sk;
}

cJSON *runmeta_new(const struct run_meta_init *in)
{
	cJSON *m = cJSON_CreateObject(), *sel;
	cJSON_AddStringToObject(m, "run_id", in->run_id);
	cJSON_AddStringToObject(m, "timestamp", in->ts);
	cJSON_AddStringToObject(m, "ftscope_version", FTSCOPE_VERSION);
	cJSON_AddStringToObject(m, "status", "running");
	cJSON_AddStringToObject(m, "started_at", in->ts);
	cJSON_AddNullToObject(m, "finished_at");
	cJSON_AddItemToObject(m, "system_profile", in->system_profile);
	cJSON_AddItemToObject(m, "python_profile", cJSON_Duplicate(in->python_profile, true));
	if (in->baseline_profile)
		cJSON_AddItemToObject(m, "baseline_profile",
				      cJSON_Duplicate(in->baseline_profile, true));
	cJSON_AddItemToObject(m, "config", in->config);
	cJSON_AddItemToObject(m, "cli_args", json_strv(in->cli_args));
	cJSON_AddItemToObject(m, "packages_skipped", skipped_json(in->skipped));
	cJSON_AddNumberToObject(m, "packages_total", (double)in->packages_total);
	sel = cJSON_CreateObject();
	cJSON_AddStringToObject(sel, "hash", in->sel_hash);
	cJSON_AddNumberToObject(sel, "packages_total", (double)in->selection->n);
	cJSON_AddItemToObject(sel, "packages", json_strv(in->selection));
	cJSON_AddItemToObject(m, "selection", sel);
	if (in->shard && in->shard->count) {
		cJSON *sh = cJSON_CreateObject();
		cJSON_AddNumberToObject(sh, "index", (double)in->shard->index);
		cJSON_AddNumberToObject(sh, "count", (double)in->shard->count);
		cJSON_AddStringToObject(sh, "source", in->shard->source);
		cJSON_AddItemToObject(m, "shard", sh);
	} else {
		cJSON_AddNullToObject(m, "shard");
	}
	cJSON_AddNumberToObject(m, "packages_completed", 0);
	cJSON_AddNumberToObject(m, "total_iterations", 0);
	cJSON_AddNumberToObject(m, "total_duration_s", 0);
	return m;
}

cJSON *runmeta_resume(const cJSON *prev, const char *ts)
{
	cJSON *m = cJSON_Duplicate(prev, true), *r;
	json_set_str(m, "status", "running");
	r = item(m, "resumed_at");
	if (!cJSON_IsArray(r)) {
		r = cJSON_CreateArray();
		json_set(m, "resumed_at", r);
	}
	cJSON_AddItemToArray(r, cJSON_CreateString(ts));
	return m;
}

void runmeta_free(cJSON *meta)
{
	cJSON_Delete(meta);
}

void runmeta_cli_args(const cJSON *meta, struct strv *av)
{
	const cJSON *a;
	cJSON_ArrayForEach(a, item(meta, "cli_args"))
		if (cJSON_IsString(a))
			strv_push(av, a->valuestring);
}

const char *runmeta_selection_hash(const cJSON *meta)
{
	return json_str(item(meta, "selection"), "hash");
}

void runmeta_started(cJSON *meta, pid_t pid, const char *work_dir)
{
	json_set_num(meta, "supervisor_pid", (double)pid);
	json_set_str(meta, "work_dir", work_dir);
}

void runmeta_tsan_preload(cJSON *meta, const char *preload)
{
	json_set_str(item(meta, "config"), "tsan_preload", preload);
}

void runmeta_pip_config(cJSON *meta, const char *from)
{
	json_set_str(item(meta, "config"), "pip_config", from);
}

static cJSON *stability_json(const struct run_stability *st)
{
	cJSON *s = cJSON_CreateObject();
	cJSON_AddNumberToObject(s, "load_1m", st->load_1m);
	cJSON_AddNumberToObject(s, "cpus", (double)st->cpus);
	cJSON_AddNumberToObject(s, "max_load", st->max_load);
	cJSON_AddBoolToObject(s, "ok", st->ok);
	cJSON_AddStringToObject(s, "note", st->ok ? "load below the limit" : "machine busy");
	return s;
}

void runmeta_ready(cJSON *meta, const char *tracer, const char *tracer_reason,
		   const struct run_stability *stability, const cJSON *python, bool resumed)
{
	cJSON *config = item(meta, "config");
	json_set_str(config, "tracer", tracer);
	json_set_str(config, "tracer_reason", tracer_reason);
	if (stability)
		json_set(meta, "stability", stability_json(stability));
	if (!resumed) {
		char oh[17];
		result_options_hash(config, python, oh);
		json_set_str(meta, "result_options_hash", oh);
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(meta, "packages_missing");
	}
}

/* The iterations a package's line counts: free-threaded ones and PYTHON_GIL=1 ones. */
static double pkg_iterations(const cJSON *pkg)
{
	return json_num(pkg, "iterations_completed", 0) +
	       cJSON_GetArraySize(item(pkg, "gil_enabled_iterations"));
}

void runmeta_add_pkg(cJSON *meta, const cJSON *pkg)
{
	if (!json_bool(pkg, "interrupted", false))
		json_set_num(meta, "packages_completed",
			     json_num(meta, "packages_completed", 0) + 1);
	json_set_num(meta, "total_iterations",
		     json_num(meta, "total_iterations", 0) + pkg_iterations(pkg));
}

void runmeta_close(cJSON *meta, enum runmeta_end end, const char *ts, double elapsed_s)
{
	double prev_dur = json_num(meta, "total_duration_s", 0);
	json_set_str(meta, "status", end == RUNMETA_DISK_FULL     ? "disk_full"
				     : end == RUNMETA_INTERRUPTED ? "interrupted"
								  : "complete");
	json_set_str(meta, "finished_at", ts);
	json_set_num(meta, "total_duration_s", round_to(prev_dur + elapsed_s, 2));
	if (cJSON_IsNumber(item(meta, "shards_duration_sum_s"))) /* a resumed merge's */
		json_set_num(meta, "shards_duration_sum_s",
			     round_to(json_num(meta, "shards_duration_sum_s", 0) + elapsed_s, 2));
}

void runmeta_count(cJSON *meta, const struct run_data *now)
{
	size_t done = 0;
	double iters = 0;
	for (size_t i = 0; i < now->n; i++) {
		if (!json_bool(now->pkgs[i], "interrupted", false))
			done++;
		iters += pkg_iterations(now->pkgs[i]);
	}
	json_set_num(meta, "packages_completed", (double)done);
	json_set_num(meta, "total_iterations", iters);
}
