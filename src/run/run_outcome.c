/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <stdio.h>
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
		if (c < 0) {
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

static void hms(char *buf, size_t n, double s)
{
	long t = s < 0 ? 0 : (long)s;
	snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

void progress_line(struct sbuf *sb, int width, size_t pkg_index, size_t pkg_total,
		   const char *name, const char *phase, int iter, int iters, const int counts[5],
		   double elapsed)
{
	static const char *const what[5] = { "pass", "fail", "crash", "timeout", "deadlock" };
	char head[48], el[32], eta[48] = "";
	struct sbuf rest = SBUF_INIT;
	double done = 0;
	int namew, room;

	if (width <= 0)
		width = 80;
	snprintf(head, sizeof(head), "[%zu/%zu] ", pkg_index, pkg_total);
	sbuf_addf(&rest, " %s %d/%d ", phase, iter, iters);
	for (int k = 0; k < 5; k++)
		if (k < 2 || counts[k])
			sbuf_addf(&rest, " %s %d", what[k], counts[k]);
	hms(el, sizeof(el), elapsed);
	if (pkg_total && iters > 0 && pkg_index > 0)
		done = ((double)(pkg_index - 1) + (double)iter / iters) / (double)pkg_total;
	if (done >= 0.02 && done < 1) {
		char t[32];
		hms(t, sizeof(t), elapsed / done - elapsed);
		snprintf(eta, sizeof(eta), "  ETA %s", t);
	}
	room = width - 1 - (int)strlen(head) - (int)rest.len - 2 - (int)strlen(el);
	if (room - (int)strlen(eta) < 8)
		eta[0] = '\0'; /* the name first, then the ETA */
	room -= (int)strlen(eta);
	namew = (int)strlen(name);
	if (namew > room)
		namew = room < 1 ? 1 : room;
	sbuf_addf(sb, "%s%.*s%s  %s%s", head, namew, name, rest.buf, el, eta);
	sbuf_release(&rest);
}
