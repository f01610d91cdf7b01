/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/cmd.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/json.h"
#include "ftscope/rundir.h"
#include "ftscope/snapshot.h"
#include "ftscope/util.h"

static const char *const deadlocks_usage[] = {
	"usage: ftscope deadlocks RUN_DIR [--package P] [--all-frames] [--json]",
	"",
	"For every hung iteration of a run (deadlock, stall, timeout): each thread with its",
	"merged native + Python stack (innermost first), what it waits on and who holds it,",
	"and the wait-for cycle.",
	"",
	"  --package P     only this package",
	"  --all-frames    also show interpreter and libc plumbing frames",
	"  --json          the stored snapshots as a JSON array",
	NULL,
};

static void print_proc_fallback(const cJSON *hang)
{
	const cJSON *t;
	const char *stacks = json_str(hang, "python_stacks");
	printf("  (no ptrace snapshot: the /proc monitor saw)\n");
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(hang, "threads"))
		printf("    pid %d tid %d %-16s [%s] %s %s%s\n", json_int(t, "pid", 0),
		       json_int(t, "tid", 0), json_str(t, "comm"), json_str(t, "state"),
		       json_str(t, "syscall") ? json_str(t, "syscall") : "-",
		       json_str(t, "futex_op") ? json_str(t, "futex_op") : "",
		       json_bool(t, "blocked", false) ? " (blocked)" : "");
	if (stacks)
		printf("\n  Python stacks (faulthandler):\n%s\n", stacks);
}

int cmd_deadlocks(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "package", required_argument, NULL, 'p' },
		{ "all-frames", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *only = NULL;
	bool all_frames = false, as_json = false;
	struct run_data rd = { 0 };
	cJSON *out = NULL;
	int c, shown = 0, ret = FT_EXIT_FAILURE;
	optind = 0;
	while ((c = getopt_long(argc, argv, "p:ajh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			only = optarg;
			break;
		case 'a':
			all_frames = true;
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			for (const char *const *l = deadlocks_usage; *l; l++)
				puts(*l);
			return FT_EXIT_OK;
		default:
			die_usage("deadlocks", "unknown option");
		}
	}
	if (optind + 1 != argc)
		die_usage("deadlocks", "expected one RUN_DIR");
	if (run_load(argv[optind], &rd) < 0)
		return FT_EXIT_FAILURE;
	if (only && !run_find_pkg(&rd, only)) {
		error("no package '%s' in '%s'", only, rd.dir);
		goto out;
	}
	if (as_json)
		out = cJSON_CreateArray();
	for (size_t i = 0; i < rd.n; i++) {
		const cJSON *pkg = rd.pkgs[i], *it;
		const char *name = json_str(pkg, "package");
		if (only && (!name || strcmp(name, only)))
			continue;
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(pkg, "iterations"))
		{
			const cJSON *hang = cJSON_GetObjectItemCaseSensitive(it, "hang"), *snap;
			cJSON *forensics;
			if (!cJSON_IsObject(hang))
				continue;
			forensics = run_load_forensics(rd.dir, it, NULL);
			snap = forensics_hang_snapshot(forensics);
			shown++;
			if (as_json) {
				cJSON *e = cJSON_CreateObject();
				cJSON_AddStringToObject(e, "package", name);
				cJSON_AddNumberToObject(e, "iteration", json_num(it, "index", 0));
				json_set_str(e, "reason", json_str(hang, "reason"));
				cJSON_AddItemToObject(e, "snapshot", snap ? cJSON_Duplicate(snap, true)
									 : cJSON_CreateNull());
				cJSON_AddItemToArray(out, e);
				cJSON_Delete(forensics);
				continue;
			}
			printf("=== %s, iteration %d (PYTHON_GIL=%s): %s -- %s after %.1f s without "
			       "progress\n",
			       name, json_int(it, "index", 0), json_str(it, "gil") ? json_str(it, "gil") : "0",
			       json_str(it, "status"), json_str(hang, "reason"),
			       json_num(hang, "detected_after_s", 0));
			if (json_str(it, "last_output_line"))
				printf("    last output: %s\n", json_str(it, "last_output_line"));
			printf("\n");
			if (snap)
				snapshot_print_json(stdout, snap, all_frames);
			else
				print_proc_fallback(hang);
			printf("\n");
			cJSON_Delete(forensics);
		}
	}
	if (as_json) {
		char *t = json_print(out, true);
		puts(t);
		free(t);
	} else if (!shown) {
		printf("No hung iterations in %s%s%s.\n", rd.dir, only ? " for " : "", only ? only : "");
	}
	ret = FT_EXIT_OK;
out:
	cJSON_Delete(out);
	run_data_release(&rd);
	return ret;
}
