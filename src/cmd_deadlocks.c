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
#include "ftscope/runstore.h"
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

/*
 * The text of one hung iteration: its heading line, then the snapshot's threads (or what
 * the /proc monitor saw). All of `deadlocks`' text formatting is here.
 */
static void print_proc_fallback(const struct rs_hang *hang)
{
	const char *stacks = hang->python_stacks;
	printf("  (no ptrace snapshot: the /proc monitor saw)\n");
	for (size_t i = 0; i < hang->nthreads; i++) {
		const struct rs_proc_thread *t = &hang->threads[i];
		printf("    pid %d tid %d %-16s [%s] %s %s%s\n", t->pid, t->tid, t->comm, t->state,
		       t->syscall ? t->syscall : "-", t->futex_op ? t->futex_op : "",
		       t->blocked ? " (blocked)" : "");
	}
	if (stacks)
		printf("\n  Python stacks (faulthandler):\n%s\n", stacks);
}

static void print_hang(const struct rs_pkg *pkg, const struct rs_iter *it,
		       const struct cJSON *snap, bool all_frames)
{
	printf("=== %s, iteration %ld (PYTHON_GIL=%s): %s -- %s after %.1f s without "
	       "progress\n",
	       pkg->name, it->index, it->gil_text ? it->gil_text : "0", it->status_text,
	       it->hang.reason, it->hang.detected_after_s);
	if (it->last_output_line)
		printf("    last output: %s\n", it->last_output_line);
	printf("\n");
	if (snap)
		snapshot_print_json(stdout, snap, SNAP_PRINT_NATIVE | (all_frames ? SNAP_PRINT_ALL_FRAMES : 0));
	else
		print_proc_fallback(&it->hang);
	printf("\n");
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
	struct run_view v = { 0 };
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
	if (runstore_load(argv[optind], &v) < 0)
		return FT_EXIT_FAILURE;
	if (only && !run_view_pkg(&v, only)) {
		error("no package '%s' in '%s'", only, v.rd.dir);
		goto out;
	}
	if (as_json)
		out = cJSON_CreateArray();
	for (size_t i = 0; i < v.n; i++) {
		const struct rs_pkg *pkg = &v.pkgs[i];
		if (only && (!pkg->name || strcmp(pkg->name, only)))
			continue;
		for (size_t k = 0; k < pkg->nit; k++) {
			const struct rs_iter *it = &pkg->it[k];
			struct rs_hang_stacks st;
			if (!it->hang.present)
				continue;
			runstore_hang_stacks(pkg, it, 0, &st);
			shown++;
			if (as_json) {
				cJSON *e = cJSON_CreateObject();
				cJSON_AddStringToObject(e, "package", pkg->name);
				cJSON_AddNumberToObject(e, "iteration", (double)it->index);
				json_set_str(e, "reason", it->hang.reason);
				cJSON_AddItemToObject(e, "snapshot", st.snap ? cJSON_Duplicate(st.snap, true)
									    : cJSON_CreateNull());
				cJSON_AddItemToArray(out, e);
			} else {
				print_hang(pkg, it, st.snap, all_frames);
			}
			runstore_hang_stacks_release(&st);
		}
	}
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
