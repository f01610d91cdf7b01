/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * A run's meta as `ftscope run` makes it (src/results/runmeta.c): the members and their
 * order in ft_meta.json (docs/results.md; the golden test reads such files), a resume, the
 * counts kept per package against the recount at the end.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/json.h"
#include "ftscope/rundir.h"
#include "ftscope/runmeta.h"
#include "ftscope/shard.h"
#include "ftscope/util.h"
#include "tap.h"

/* The object's keys, comma-separated. */
static char *keys(const cJSON *o)
{
	struct sbuf sb = SBUF_INIT;
	const cJSON *c;
	cJSON_ArrayForEach(c, o)
		sbuf_addf(&sb, "%s%s", sb.len ? "," : "", c->string);
	return sbuf_detach(&sb);
}

static cJSON *item(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static cJSON *new_meta(const struct shard *sh)
{
	struct strv args = STRV_INIT, skipped = STRV_INIT, sel = STRV_INIT;
	cJSON *py = cJSON_Parse("{\"version\":\"3.14.0\",\"minor\":\"3.14\"}");
	cJSON *config = cJSON_Parse("{\"iterations\":3,\"tracer\":\"auto\"}");
	struct run_meta_init mi = { .run_id = "ft_20261205_101010", .ts = "2026-12-05T10:10:10Z",
				    .system_profile = cJSON_CreateObject(), .python_profile = py,
				    .config = config, .cli_args = &args, .skipped = &skipped,
				    .packages_total = 1, .sel_hash = "0123456789abcdef",
				    .selection = &sel, .shard = sh };
	cJSON *m;
	strv_push(&args, "--iterations");
	strv_push(&args, "3");
	strv_push(&skipped, "slowpkg: skip: too slow");
	strv_push(&skipped, "noreason");
	strv_push(&sel, "a");
	strv_push(&sel, "b");
	m = runmeta_new(&mi);
	cJSON_Delete(py);
	strv_release(&args);
	strv_release(&skipped);
	strv_release(&sel);
	return m;
}

static void test_new(void)
{
	struct shard sh = { .index = 2, .count = 2, .source = "2/2" }, none = { 0 };
	cJSON *m = new_meta(&none), *sk;
	struct strv av = STRV_INIT;
	char *k = keys(m);
	is_str(k, "run_id,timestamp,ftscope_version,status,started_at,finished_at,"
		  "system_profile,python_profile,config,cli_args,packages_skipped,packages_total,"
		  "selection,shard,packages_completed,total_iterations,total_duration_s",
	       "new meta: its members in ft_meta.json's order");
	free(k);
	is_str(json_str(m, "status"), "running", "new meta: running");
	ok(cJSON_IsNull(item(m, "finished_at")), "new meta: finished_at null");
	ok(cJSON_IsNull(item(m, "shard")), "not sharded: shard null");
	ok(!item(m, "baseline_profile"), "no baseline: no baseline_profile");
	is_str(runmeta_selection_hash(m), "0123456789abcdef", "selection hash read back");
	is_int(json_long(item(m, "selection"), "packages_total", -1), 2,
	       "selection.packages_total: the whole selection");
	k = keys(item(m, "selection"));
	is_str(k, "hash,packages_total,packages", "selection's members");
	free(k);
	sk = item(m, "packages_skipped");
	is_str(json_str(cJSON_GetArrayItem(sk, 0), "package"), "slowpkg", "skipped: name");
	is_str(json_str(cJSON_GetArrayItem(sk, 0), "reason"), "skip: too slow",
	       "skipped: reason after the first ': '");
	is_str(json_str(cJSON_GetArrayItem(sk, 1), "reason"), "", "skipped: no reason");
	runmeta_cli_args(m, &av);
	is_int(av.n, 2, "cli_args read back");
	is_str(av.n == 2 ? av.v[1] : NULL, "3", "cli_args in order");
	strv_release(&av);
	runmeta_free(m);

	m = new_meta(&sh);
	k = keys(item(m, "shard"));
	is_str(k, "index,count,source", "sharded: shard's members");
	free(k);
	is_int(json_long(item(m, "shard"), "index", 0), 2, "sharded: index");
	runmeta_free(m);
}

static void test_ready_resume(void)
{
	struct shard none = { 0 };
	struct run_stability st = { .load_1m = 0.5, .cpus = 4, .max_load = 2, .ok = true };
	cJSON *m = new_meta(&none), *r, *r2;
	char *k;
	runmeta_started(m, 1234, "/w");
	runmeta_tsan_preload(m, "/lib/libtsan.so");
	runmeta_pip_config(m, NULL);
	runmeta_ready(m, "ptrace", "ptrace: allowed", &st, NULL, false);
	k = keys(m);
	ok(strstr(k, "total_duration_s,supervisor_pid,work_dir,stability,result_options_hash") &&
		   !strcmp(strstr(k, "supervisor_pid"),
			   "supervisor_pid,work_dir,stability,result_options_hash"),
	   "started: members appended in order (%s)", k);
	free(k);
	k = keys(item(m, "config"));
	is_str(k, "iterations,tracer,tsan_preload,pip_config,tracer_reason",
	       "config: tracer replaced in place, the rest appended");
	free(k);
	ok(cJSON_IsNull(item(item(m, "config"), "pip_config")), "no pip config: null");
	is_str(json_str(item(m, "config"), "tracer"), "ptrace", "config.tracer");
	k = keys(item(m, "stability"));
	is_str(k, "load_1m,cpus,max_load,ok,note", "stability's members");
	free(k);
	is_str(json_str(item(m, "stability"), "note"), "load below the limit", "stability note");
	is_int(strlen(json_str(m, "result_options_hash") ? json_str(m, "result_options_hash")
							  : ""),
	       16, "result_options_hash: 16 hex digits");

	runmeta_close(m, RUNMETA_INTERRUPTED, "2026-12-05T10:20:00Z", 1.234);
	cJSON_AddStringToObject(m, "packages_missing", "x");
	r = runmeta_resume(m, "2026-12-05T11:00:00Z");
	is_str(json_str(r, "status"), "running", "resumed: running again");
	r2 = runmeta_resume(r, "2026-12-05T12:00:00Z");
	is_int(cJSON_GetArraySize(item(r2, "resumed_at")), 2, "resumed twice: two resumed_at");
	is_str(cJSON_GetStringValue(cJSON_GetArrayItem(item(r2, "resumed_at"), 1)),
	       "2026-12-05T12:00:00Z", "resumed_at appended");
	runmeta_ready(r2, "none", "why", NULL, NULL, true);
	ok(!item(r2, "packages_missing"), "resumed: packages_missing dropped");
	runmeta_close(r2, RUNMETA_COMPLETE, "2026-12-05T12:30:00Z", 2.0);
	ok(json_num(r2, "total_duration_s", 0) == 3.23, "duration: the runs' sum, 2 decimals");
	is_str(json_str(r2, "status"), "complete", "closed: complete");
	runmeta_close(r2, RUNMETA_DISK_FULL, "2026-12-05T12:30:00Z", 0);
	is_str(json_str(r2, "status"), "disk_full", "closed: disk_full");
	runmeta_free(r);
	runmeta_free(r2);
	runmeta_free(m);
}

static void test_counts(void)
{
	struct shard none = { 0 };
	cJSON *m = new_meta(&none), *pkgs[3];
	struct run_data now = { .pkgs = pkgs, .n = 3 };
	pkgs[0] = cJSON_Parse("{\"iterations_completed\":3,\"gil_enabled_iterations\":[{},{}]}");
	pkgs[1] = cJSON_Parse("{\"iterations_completed\":1,\"interrupted\":true}");
	pkgs[2] = cJSON_Parse("{\"iterations_completed\":5}");
	for (int i = 0; i < 3; i++)
		runmeta_add_pkg(m, pkgs[i]);
	is_int(json_long(m, "packages_completed", -1), 2, "per package: interrupted not counted");
	is_int(json_long(m, "total_iterations", -1), 11, "per package: every iteration");
	json_set_num(m, "packages_completed", 0);
	json_set_num(m, "total_iterations", 0);
	runmeta_count(m, &now);
	is_int(json_long(m, "packages_completed", -1), 2, "recount: the same");
	is_int(json_long(m, "total_iterations", -1), 11, "recount: the same iterations");
	for (int i = 0; i < 3; i++)
		cJSON_Delete(pkgs[i]);
	runmeta_free(m);
}

int main(void)
{
	test_new();
	test_ready_resume();
	test_counts();
	return tap_done();
}
