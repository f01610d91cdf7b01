/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * libFuzzer target: `ftscope crashes` and `compare` over a run's ft_results.jsonl: every
 * crash of every loaded package (the run store's view, crashlog_add_run: iterations, child crashes, signatures
 * of any type or shape), sorted, then clustered by signature (sig_parts_parse,
 * cluster_variants). The input is written to a private temporary run directory.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/cluster.h"
#include "ftscope/crashlog.h"
#include "ftscope/rundir.h"
#include "ftscope/runstore.h"
#include "ftscope/util.h"
#include "rundir_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run_view v;
	struct crashlog cl = CRASHLOG_INIT;
	struct crash_variant *cv;
	size_t *group;

	if (size > (1 << 20))
		return 0;
	memset(&v, 0, sizeof(v));
	if (runstore_load(rundir_input(data, size), &v) != 0)
		return 0;
	crashlog_add_run(&cl, &v, 0, NULL);
	if (v.n)
		crashlog_add_run(&cl, &v, 1, v.pkgs[0].name);
	crashlog_sort(&cl);
	cv = xcalloc(cl.n + 1, sizeof(*cv));
	group = xcalloc(cl.n + 1, sizeof(*group));
	for (size_t i = 0; i < cl.n; i++) {
		const struct crash_occ *o = &cl.v[i];
		if (!o->run_label || !o->package || o->iteration < 0)
			abort();
		cv[i] = (struct crash_variant){ o->id, o->parts.signal,
						(const char *const *)o->parts.frames.v,
						o->parts.frames.n };
	}
	if (cluster_variants(cv, cl.n, group) > cl.n)
		abort();
	free(cv);
	free(group);
	crashlog_release(&cl);
	run_view_release(&v);
	return 0;
}
