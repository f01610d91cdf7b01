/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/category.h"
#include "ftscope/exit.h"
#include "ftscope/results.h"
#include "ftscope/rundir.h"
#include "ftscope/run_outcome.h"
#include "ftscope/util.h"

int fail_on_parse(const char *spec, unsigned *mask, const char **bad)
{
	char *copy = xstrdup(spec), *save = NULL;
	*mask = 0;
	for (char *w = strtok_r(copy, ", ", &save); w; w = strtok_r(NULL, ", ", &save)) {
		int c = category_from_name(w);
		if (!strcmp(w, "all-failing")) {
			for (int k = 0; k < CAT_NR; k++)
				if (!category_is_usable((enum ft_category)k))
					*mask |= 1u << k;
			continue;
		}
		if (c < 0 || !strcmp(w, "compatible_by_wheel")) {
			*bad = w; /* copy is left to the exit that follows */
			return -EINVAL;
		}
		*mask |= 1u << c;
	}
	free(copy);
	return 0;
}

int run_outcome(FILE *f, const char *run_dir, unsigned mask)
{
	struct run_data rd = { 0 };
	struct strv hit = STRV_INIT;
	int ndead = 0, ncrash = 0, ret;
	if (run_load(run_dir, &rd) < 0)
		return FT_EXIT_OK;
	for (size_t i = 0; i < rd.n; i++) {
		enum ft_category c = category_parse(json_str(rd.pkgs[i], "category"));
		const char *name = json_str(rd.pkgs[i], "package");
		ndead += c == CAT_DEADLOCK || json_num(rd.pkgs[i], "deadlock_count", 0) > 0;
		ncrash += c == CAT_CRASH || json_num(rd.pkgs[i], "crash_count", 0) > 0;
		if (mask & (1u << c))
			strv_push_owned(&hit, xasprintf("%s (%s)", name ? name : "?", category_name(c)));
	}
	if (ndead || ncrash)
		fputc('\n', f);
	if (ndead)
		fprintf(f, "%d package%s deadlocked; who waits for whom, and where: ftscope deadlocks %s\n",
			ndead, ndead == 1 ? "" : "s", rd.dir);
	if (ncrash)
		fprintf(f, "%d package%s crashed; the crash signatures: ftscope crashes %s\n", ncrash,
			ncrash == 1 ? "" : "s", rd.dir);
	if (hit.n) {
		struct sbuf sb = SBUF_INIT;
		for (size_t i = 0; i < hit.n; i++)
			sbuf_addf(&sb, "%s%s", i ? ", " : "", hit.v[i]);
		fprintf(f, "--fail-on: %zu package%s in the given categories: %s\n", hit.n,
			hit.n == 1 ? "" : "s", sb.buf);
		sbuf_release(&sb);
	}
	ret = hit.n ? FT_EXIT_FAIL_ON : FT_EXIT_OK;
	run_data_release(&rd);
	strv_release(&hit);
	return ret;
}
