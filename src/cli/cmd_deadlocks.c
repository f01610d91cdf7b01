/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/cmd.h"
#include "ftscope/deadlock_story.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/json.h"
#include "ftscope/runstore.h"
#include "ftscope/snapshot.h"
#include "ftscope/util.h"

static const char *const deadlocks_usage[] = {
	"usage: ftscope deadlocks RUN_DIR [--package P] [--full] [--all-frames] [--json]",
	"",
	"The hung iterations of a run (deadlock, stall, timeout), free-threaded and with the GIL",
	"(--compare-with-gil), told as a story: the iterations grouped by what hung (\"3 of 3",
	"iterations, same cycle; also with the GIL\"), then for each thread of the wait-for cycle",
	"its name, the lock it holds and the line where it took it, the lock it waits for and",
	"where; the other threads one line each.",
	"",
	"  --package P     only this package",
	"  -v, --full      then every iteration's merged native + Python stacks",
	"  --all-frames    --full, with the interpreter and libc plumbing frames",
	"  --json          the stored snapshots as a JSON array",
	"",
	"Exit status: 0, 1 on error (unreadable run directory, unknown package), 2 on bad usage.",
	NULL,
};

/*
 * The hung iterations of one package, told as one story (deadlock_story.h), or as JSON
 * objects into out: its plain and GIL iterations, or (stress) its stress iterations.
 * Returns how many there were; shown_before: how many earlier stories printed.
 */
static int tell(const struct rs_pkg *pkg, bool stress, cJSON *out, unsigned flags,
		int shown_before)
{
	struct story_pkg s;
	int n;

	story_pkg_load(&s, pkg, stress);
	if (!out) {
		n = story_pkg_print(stdout, &s, flags, shown_before > 0);
		story_pkg_release(&s);
		return n;
	}
	for (size_t k = 0; k < s.n; k++) {
		const struct rs_iter *it = s.its[k];
		const cJSON *snap = s.stacks[k].snap;
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "package", pkg->name);
		cJSON_AddNumberToObject(e, "iteration", (double)it->index);
		cJSON_AddBoolToObject(e, "gil", it->gil);
		if (it->stress)
			cJSON_AddTrueToObject(e, "stress");
		json_set_str(e, "reason", it->hang.reason);
		cJSON_AddItemToObject(e, "snapshot", snap ? cJSON_Duplicate(snap, true)
							  : cJSON_CreateNull());
		cJSON_AddItemToArray(out, e);
	}
	n = (int)s.n;
	story_pkg_release(&s);
	return n;
}

int cmd_deadlocks(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "package", required_argument, NULL, 'p' },
		{ "all-frames", no_argument, NULL, 'a' },
		{ "full", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *only = NULL;
	bool all_frames = false, as_json = false, full = false;
	struct run_view v = { 0 };
	cJSON *out = NULL;
	int c, shown = 0, ret = FT_EXIT_FAILURE;
	unsigned flags;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":p:ajhv", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			only = optarg;
			break;
		case 'a':
			all_frames = true;
			break;
		case 'v':
			full = true;
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			for (const char *const *l = deadlocks_usage; *l; l++)
				puts(*l);
			return FT_EXIT_OK;
		default:
			die_bad_option("deadlocks", c, argv);
		}
	}
	if (optind + 1 != argc)
		die_usage("deadlocks", "expected one RUN_DIR");
	if (runstore_load(argv[optind], &v) < 0)
		return FT_EXIT_FAILURE;
	if (only && !run_view_pkg(&v, only)) {
		error("no package '%s' in '%s'", only, v.rd.dir);
		goto out;
	}
	if (as_json)
		out = cJSON_CreateArray();
	flags = (full ? STORY_FULL : 0) | (all_frames ? STORY_FULL | STORY_ALL_FRAMES : 0);
	for (size_t i = 0; i < v.n; i++) {
		const struct rs_pkg *pkg = &v.pkgs[i];
		if (only && (!pkg->name || strcmp(pkg->name, only)))
			continue;
		/* the plain and the GIL iterations, one story; the stress ones, one of their own */
		shown += tell(pkg, false, out, flags, shown);
		shown += tell(pkg, true, out, flags, shown);
	}
	if (shown && !as_json && !full && !all_frames)
		printf("\n(every thread's full stack: ftscope deadlocks %s --full)\n", v.rd.dir);
	if (as_json) {
		char *t = json_print(out, true);
		puts(t);
		free(t);
	} else if (!shown) {
		printf("No hung iterations in %s%s%s.\n", v.rd.dir, only ? " for " : "", only ? only : "");
	}
	ret = FT_EXIT_OK;
out:
	cJSON_Delete(out);
	run_view_release(&v);
	return ret;
}
