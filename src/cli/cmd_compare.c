/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/category.h"
#include "ftscope/cmd.h"
#include "ftscope/crashlog.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/json.h"
#include "ftscope/runstore.h"
#include "ftscope/stress.h"
#include "ftscope/util.h"

static const char *const compare_usage[] = {
	"usage: ftscope compare RUN_A RUN_B [--json]",
	"",
	"What changed from run A (the baseline) to run B: packages that improved or regressed",
	"(a change of category, by labeille's severity order; within a category, a pass-rate",
	"change of at least 5 points), crash signatures that are new or resolved, deadlocks",
	"that are new or resolved, packages added or removed, and aggregate counts.",
	"",
	"  RUN_A, RUN_B    run directories (complete, interrupted or still running), or results",
	"                  directories, whose newest run is read",
	"  --json          the comparison as a JSON object",
	"  -h, --help      show this help",
	"",
	"Crash signatures are matched by crash_signature_id (the same bug has the same id across",
	"runs and machines), or by the signature text when a run has no ids.",
	NULL,
};

#define RATE_THRESHOLD 0.05

enum change { CH_UNCHANGED, CH_IMPROVEMENT, CH_REGRESSION };

struct pkg_change {
	const char *name;
	const struct rs_pkg *a, *b;
	enum ft_category ca, cb;
	double ra, rb;
	enum change ch;
	char *detail;
};

/* One crash signature's counts in the two runs. */
struct sig_row {
	const char *id;
	const char *signature;
	size_t count[2];
	struct strv packages[2];
};

struct comparison {
	const struct run_view *run[2];
	const char *arrow;     /* "→" or "->" */
	struct pkg_change *common;
	size_t ncommon;
	struct strv only[2];   /* packages only in A, only in B */
	struct sig_row *sigs;
	size_t nsigs;
};

static void print_usage(FILE *f)
{
	for (size_t i = 0; compare_usage[i]; i++)
		fprintf(f, "%s\n", compare_usage[i]);
}

/* A package of one run that deadlocks there and not in the other run (or is not in it). */
static bool deadlocks_only_here(const struct rs_pkg *p, const struct run_view *other)
{
	const struct rs_pkg *o = run_view_pkg(other, p->name);
	return p->deadlocks > 0 && (!o || o->deadlocks == 0);
}

/* "50%" or "37.5%" */
static char *fmt_pct(double r)
{
	double p = 100 * r;
	if (fabs(p - round(p)) < 0.05)
		return xasprintf("%.0f%%", p);
	return xasprintf("%.1f%%", p);
}

static enum change classify(enum ft_category ca, enum ft_category cb, double ra, double rb)
{
	int sa = category_severity(ca), sb = category_severity(cb);
	if (sa != sb)
		return sb < sa ? CH_IMPROVEMENT : CH_REGRESSION;
	if (fabs(rb - ra) < RATE_THRESHOLD - 1e-9)
		return CH_UNCHANGED;
	return rb > ra ? CH_IMPROVEMENT : CH_REGRESSION;
}

static char *describe(const struct pkg_change *c, const char *arrow)
{
	struct sbuf sb = SBUF_INIT;
	long ca = c->a->crashes, cb = c->b->crashes;
	long da = c->a->deadlocks, db = c->b->deadlocks;

	if (c->ca != c->cb)
		sbuf_addf(&sb, "%s %s %s", category_name(c->ca), arrow, category_name(c->cb));
	else
		sbuf_addf(&sb, "%s", category_name(c->cb));
	if (c->ra != c->rb) {
		char *pa = fmt_pct(c->ra), *pb = fmt_pct(c->rb);
		sbuf_addf(&sb, "; pass rate %s %s %s", pa, arrow, pb);
		free(pa);
		free(pb);
	}
	if (ca > 0 && cb == 0)
		sbuf_adds(&sb, "; crashes resolved");
	else if (cb > 0 && ca == 0)
		sbuf_adds(&sb, "; new crashes");
	if (da > 0 && db == 0)
		sbuf_adds(&sb, "; deadlocks resolved");
	else if (db > 0 && da == 0)
		sbuf_adds(&sb, "; new deadlocks");
	/* stress findings (run --parallel-threads): failing only under stress, or no more */
	if (c->b->stress_only) {
		char *st = stress_summary(c->b->raw);
		sbuf_addf(&sb, "; %s%s", c->a->stress_only ? "" : "new: ",
			  st ? st : "fails only under stress");
		free(st);
	} else if (c->a->stress_only) {
		sbuf_adds(&sb, "; no more stress-only failures");
	}
	return sbuf_detach(&sb);
}

/* biggest category move first, then biggest pass-rate move, then name */
static int change_cmp(const void *pa, const void *pb)
{
	const struct pkg_change *a = pa, *b = pb;
	int sa = abs(category_severity(a->ca) - category_severity(a->cb));
	int sb = abs(category_severity(b->ca) - category_severity(b->cb));
	double da = fabs(a->rb - a->ra), db = fabs(b->rb - b->ra);
	if (sa != sb)
		return sa > sb ? -1 : 1;
	if (da != db)
		return da > db ? -1 : 1;
	return strcmp(a->name, b->name);
}

static struct sig_row *find_sig(struct comparison *cmp, const char *id)
{
	for (size_t i = 0; i < cmp->nsigs; i++)
		if (!strcmp(cmp->sigs[i].id, id))
			return &cmp->sigs[i];
	return NULL;
}

static void add_sigs(struct comparison *cmp, const struct crashlog *cl, int side)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct crash_occ *o = &cl->v[i];
		struct sig_row *r = find_sig(cmp, o->id);
		if (!r) {
			cmp->sigs = xrealloc(cmp->sigs, (cmp->nsigs + 1) * sizeof(*cmp->sigs));
			r = &cmp->sigs[cmp->nsigs++];
			memset(r, 0, sizeof(*r));
			r->id = o->id;
			r->signature = o->signature;
		}
		r->count[side]++;
		if (!strv_contains(&r->packages[side], o->package))
			strv_push(&r->packages[side], o->package);
	}
}

static void compare_build(struct comparison *cmp, struct crashlog cl[2])
{
	const struct run_view *A = cmp->run[0], *B = cmp->run[1];

	cmp->common = xcalloc(A->n ? A->n : 1, sizeof(*cmp->common));
	for (size_t i = 0; i < A->n; i++) {
		const char *name = A->pkgs[i].name;
		const struct rs_pkg *b = run_view_pkg(B, name);
		struct pkg_change *c;
		if (!b) {
			strv_push(&cmp->only[0], name);
			continue;
		}
		c = &cmp->common[cmp->ncommon++];
		c->name = name;
		c->a = &A->pkgs[i];
		c->b = b;
		c->ca = c->a->cat;
		c->cb = b->cat;
		c->ra = c->a->pass_rate;
		c->rb = b->pass_rate;
		c->ch = classify(c->ca, c->cb, c->ra, c->rb);
		c->detail = describe(c, cmp->arrow);
	}
	for (size_t i = 0; i < B->n; i++) {
		const char *name = B->pkgs[i].name;
		if (!run_view_pkg(A, name))
			strv_push(&cmp->only[1], name);
	}
	if (cmp->ncommon > 1)
		qsort(cmp->common, cmp->ncommon, sizeof(*cmp->common), change_cmp);
	for (int side = 0; side < 2; side++) {
		crashlog_add_run(&cl[side], cmp->run[side], (size_t)side, NULL);
		crashlog_sort(&cl[side]);
		add_sigs(cmp, &cl[side], side);
	}
}

static void compare_release(struct comparison *cmp)
{
	for (size_t i = 0; i < cmp->ncommon; i++)
		free(cmp->common[i].detail);
	free(cmp->common);
	for (size_t i = 0; i < cmp->nsigs; i++) {
		strv_release(&cmp->sigs[i].packages[0]);
		strv_release(&cmp->sigs[i].packages[1]);
	}
	free(cmp->sigs);
	strv_release(&cmp->only[0]);
	strv_release(&cmp->only[1]);
}

/* ---- aggregate counts ---- */

struct aggregate {
	size_t packages, compatible, crash, deadlock, intermittent, incompatible, signatures;
};

static void aggregate(const struct comparison *cmp, int side, struct aggregate *ag)
{
	const struct run_view *v = cmp->run[side];

	memset(ag, 0, sizeof(*ag));
	ag->packages = v->n;
	for (size_t i = 0; i < v->n; i++) {
		enum ft_category c = v->pkgs[i].cat;
		ag->compatible += c == CAT_COMPATIBLE || c == CAT_COMPATIBLE_GIL_FALLBACK;
		ag->crash += c == CAT_CRASH;
		ag->deadlock += c == CAT_DEADLOCK;
		ag->intermittent += c == CAT_INTERMITTENT;
		ag->incompatible += c == CAT_INCOMPATIBLE;
	}
	for (size_t i = 0; i < cmp->nsigs; i++)
		ag->signatures += cmp->sigs[i].count[side] > 0;
}

/* ---- text ---- */

static void print_changes(const struct comparison *cmp, enum change which, const char *title)
{
	size_t n = 0;
	int w = 20;

	for (size_t i = 0; i < cmp->ncommon; i++) {
		int len = (int)strlen(cmp->common[i].name);
		if (cmp->common[i].ch != which)
			continue;
		n++;
		if (len > w)
			w = len > 40 ? 40 : len;
	}
	printf("%s (%zu):%s\n", title, n, n ? "" : " none");
	for (size_t i = 0; i < cmp->ncommon; i++)
		if (cmp->common[i].ch == which)
			printf("  %-*s %s\n", w, cmp->common[i].name, cmp->common[i].detail);
}

static void print_names(const char *title, const struct strv *sv)
{
	if (!sv->n)
		return;
	printf("%s (%zu): ", title, sv->n);
	for (size_t i = 0; i < sv->n; i++)
		printf("%s%s", i ? ", " : "", sv->v[i]);
	printf("\n");
}

static void print_sig_list(const struct comparison *cmp, int want_a, int want_b,
			   const char *title, const char *const labels[2])
{
	size_t n = 0;

	for (size_t i = 0; i < cmp->nsigs; i++)
		n += (cmp->sigs[i].count[0] > 0) == want_a && (cmp->sigs[i].count[1] > 0) == want_b;
	printf("  %s (%zu)%s\n", title, n, n ? ":" : "");
	for (size_t i = 0; i < cmp->nsigs; i++) {
		const struct sig_row *r = &cmp->sigs[i];
		int side = want_b ? 1 : 0;
		if ((r->count[0] > 0) != want_a || (r->count[1] > 0) != want_b)
			continue;
		printf("    %s  %s\n      ", r->id, r->signature);
		for (size_t k = 0; k < r->packages[side].n; k++) {
			const char *p = r->packages[side].v[k];
			bool elsewhere = run_view_pkg(cmp->run[!side], p) != NULL;
			printf("%s%s%s", k ? ", " : "", p,
			       elsewhere || (want_a && want_b) ? ""
			       : side ? " (new package)" : " (package not in the second run)");
		}
		if (want_a && want_b)
			printf(": %zu %s %zu crash%s\n", r->count[0], cmp->arrow, r->count[1],
			       r->count[1] == 1 ? "" : "es");
		else
			printf(": %zu crash%s in %s\n", r->count[side],
			       r->count[side] == 1 ? "" : "es", labels[side]);
	}
}

static void print_deadlocks(const struct comparison *cmp, const char *const labels[2])
{
	struct strv lists[2] = { STRV_INIT, STRV_INIT };

	for (int side = 0; side < 2; side++) {
		const struct run_view *v = cmp->run[side], *other = cmp->run[!side];
		for (size_t i = 0; i < v->n; i++) {
			const struct rs_pkg *p = &v->pkgs[i];
			const char *note = run_view_pkg(other, p->name) ? ""
					   : side			 ? ", new package"
									 : ", since removed";
			if (!deadlocks_only_here(p, other))
				continue;
			strv_push_owned(&lists[side], xasprintf("%s (%ld in %s%s)", p->name, p->deadlocks,
								labels[side], note));
		}
	}
	printf("Deadlocks:\n");
	for (int side = 0; side < 2; side++) {
		printf("  %s (%zu)%s", side ? "New" : "Resolved", lists[side].n,
		       lists[side].n ? ": " : "");
		for (size_t i = 0; i < lists[side].n; i++)
			printf("%s%s", i ? ", " : "", lists[side].v[i]);
		printf("\n");
		strv_release(&lists[side]);
	}
}

static void print_agg_line(const char *label, size_t a, size_t b, const char *arrow)
{
	long d = (long)b - (long)a;
	printf("  %-14s %4zu %s %-4zu (%s%ld)\n", label, a, arrow, b, d > 0 ? "+" : "", d);
}

static void print_comparison(const struct comparison *cmp, bool utf8)
{
	const char *labels[2] = { cmp->run[0]->meta.run_id, cmp->run[1]->meta.run_id };
	struct aggregate ag[2];
	size_t unchanged = 0;
	printf("Free-Threading Compatibility Changes: %s %s %s\n", labels[0], cmp->arrow,
		    labels[1]);
	for (int i = 0; i < 60; i++)
		fputs(utf8 ? "\u2550" : "=", stdout);
	printf("\n\n");
	print_changes(cmp, CH_IMPROVEMENT, "Improvements");
	printf("\n");
	print_changes(cmp, CH_REGRESSION, "Regressions");
	printf("\n");
	for (size_t i = 0; i < cmp->ncommon; i++)
		unchanged += cmp->common[i].ch == CH_UNCHANGED;
	printf("Unchanged: %zu package%s\n", unchanged, unchanged == 1 ? "" : "s");
	{
		char *t0 = xasprintf("New packages in %s", labels[1]);
		char *t1 = xasprintf("Removed from %s", labels[1]);
		print_names(t0, &cmp->only[1]);
		print_names(t1, &cmp->only[0]);
		free(t0);
		free(t1);
	}
	printf("\nCrash signatures:\n");
	print_sig_list(cmp, 1, 0, "Resolved", labels);
	print_sig_list(cmp, 0, 1, "New", labels);
	print_sig_list(cmp, 1, 1, "Still crashing", labels);
	printf("\n");
	print_deadlocks(cmp, labels);

	aggregate(cmp, 0, &ag[0]);
	aggregate(cmp, 1, &ag[1]);
	printf("\nAggregate:\n");
	print_agg_line("Packages:", ag[0].packages, ag[1].packages, cmp->arrow);
	print_agg_line("Compatible:", ag[0].compatible, ag[1].compatible, cmp->arrow);
	print_agg_line("Intermittent:", ag[0].intermittent, ag[1].intermittent, cmp->arrow);
	print_agg_line("Incompatible:", ag[0].incompatible, ag[1].incompatible, cmp->arrow);
	print_agg_line("Crashes:", ag[0].crash, ag[1].crash, cmp->arrow);
	print_agg_line("Deadlocks:", ag[0].deadlock, ag[1].deadlock, cmp->arrow);
	print_agg_line("Crash sigs:", ag[0].signatures, ag[1].signatures, cmp->arrow);
}

/* ---- JSON ---- */

static cJSON *changes_json(const struct comparison *cmp, enum change which)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < cmp->ncommon; i++) {
		const struct pkg_change *c = &cmp->common[i];
		cJSON *o;
		if (c->ch != which)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "package", c->name);
		cJSON_AddStringToObject(o, "old_category", category_name(c->ca));
		cJSON_AddStringToObject(o, "new_category", category_name(c->cb));
		cJSON_AddNumberToObject(o, "old_pass_rate", round_to(c->ra, 4));
		cJSON_AddNumberToObject(o, "new_pass_rate", round_to(c->rb, 4));
		cJSON_AddNumberToObject(o, "pass_rate_delta", round_to(c->rb - c->ra, 4));
		cJSON_AddStringToObject(o, "detail", c->detail);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *sigs_json(const struct comparison *cmp, int want_a, int want_b)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < cmp->nsigs; i++) {
		const struct sig_row *r = &cmp->sigs[i];
		cJSON *o;
		if ((r->count[0] > 0) != want_a || (r->count[1] > 0) != want_b)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", r->id);
		cJSON_AddStringToObject(o, "signature", r->signature);
		cJSON_AddNumberToObject(o, "count_a", (double)r->count[0]);
		cJSON_AddNumberToObject(o, "count_b", (double)r->count[1]);
		cJSON_AddItemToObject(o, "packages_a", json_strv(&r->packages[0]));
		cJSON_AddItemToObject(o, "packages_b", json_strv(&r->packages[1]));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *pair(size_t a, size_t b)
{
	cJSON *p = cJSON_CreateArray();
	cJSON_AddItemToArray(p, cJSON_CreateNumber((double)a));
	cJSON_AddItemToArray(p, cJSON_CreateNumber((double)b));
	return p;
}

static cJSON *comparison_json(const struct comparison *cmp)
{
	cJSON *j = cJSON_CreateObject(), *sigs = cJSON_CreateObject(), *dl = cJSON_CreateObject();
	cJSON *agg = cJSON_CreateObject(), *lists[2];
	struct aggregate ag[2];
	size_t unchanged = 0;

	cJSON_AddStringToObject(j, "run_a", cmp->run[0]->meta.run_id);
	cJSON_AddStringToObject(j, "run_b", cmp->run[1]->meta.run_id);
	cJSON_AddNumberToObject(j, "common_packages", (double)cmp->ncommon);
	cJSON_AddItemToObject(j, "packages_only_in_a", json_strv(&cmp->only[0]));
	cJSON_AddItemToObject(j, "packages_only_in_b", json_strv(&cmp->only[1]));
	cJSON_AddItemToObject(j, "improvements", changes_json(cmp, CH_IMPROVEMENT));
	cJSON_AddItemToObject(j, "regressions", changes_json(cmp, CH_REGRESSION));
	for (size_t i = 0; i < cmp->ncommon; i++)
		unchanged += cmp->common[i].ch == CH_UNCHANGED;
	cJSON_AddNumberToObject(j, "unchanged", (double)unchanged);
	cJSON_AddItemToObject(sigs, "resolved", sigs_json(cmp, 1, 0));
	cJSON_AddItemToObject(sigs, "new", sigs_json(cmp, 0, 1));
	cJSON_AddItemToObject(sigs, "persisting", sigs_json(cmp, 1, 1));
	cJSON_AddItemToObject(j, "crash_signatures", sigs);
	for (int side = 0; side < 2; side++) {
		const struct run_view *v = cmp->run[side], *other = cmp->run[!side];
		lists[side] = cJSON_CreateArray();
		for (size_t i = 0; i < v->n; i++)
			if (deadlocks_only_here(&v->pkgs[i], other))
				cJSON_AddItemToArray(lists[side], cJSON_CreateString(v->pkgs[i].name));
	}
	cJSON_AddItemToObject(dl, "resolved", lists[0]);
	cJSON_AddItemToObject(dl, "new", lists[1]);
	cJSON_AddItemToObject(j, "deadlocks", dl);
	aggregate(cmp, 0, &ag[0]);
	aggregate(cmp, 1, &ag[1]);
	cJSON_AddItemToObject(agg, "packages", pair(ag[0].packages, ag[1].packages));
	cJSON_AddItemToObject(agg, "compatible", pair(ag[0].compatible, ag[1].compatible));
	cJSON_AddItemToObject(agg, "intermittent", pair(ag[0].intermittent, ag[1].intermittent));
	cJSON_AddItemToObject(agg, "incompatible", pair(ag[0].incompatible, ag[1].incompatible));
	cJSON_AddItemToObject(agg, "crash", pair(ag[0].crash, ag[1].crash));
	cJSON_AddItemToObject(agg, "deadlock", pair(ag[0].deadlock, ag[1].deadlock));
	cJSON_AddItemToObject(agg, "crash_signatures", pair(ag[0].signatures, ag[1].signatures));
	cJSON_AddItemToObject(j, "aggregate", agg);
	return j;
}

/* ---- command ---- */

int cmd_compare(int argc, char **argv)
{
	enum { OPT_JSON = 0x100 };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_view rd[2];
	struct crashlog cl[2] = { CRASHLOG_INIT, CRASHLOG_INIT };
	struct comparison cmp = { 0 };
	bool json = false;
	int c, ret = FT_EXIT_FAILURE;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_usage(stdout);
			return FT_EXIT_OK;
		case OPT_JSON:
			json = true;
			break;
		default:
			die_bad_option("compare", c, argv);
		}
	}
	if (argc - optind != 2)
		die_usage("compare", "expected two run directories, RUN_A and RUN_B");
	if (runstore_load(argv[optind], &rd[0]) < 0)
		return FT_EXIT_FAILURE;
	if (runstore_load(argv[optind + 1], &rd[1]) < 0)
		goto out_a;

	cmp.run[0] = &rd[0];
	cmp.run[1] = &rd[1];
	cmp.arrow = json || category_utf8_ok(STDOUT_FILENO) ? "\u2192" : "->";
	compare_build(&cmp, cl);
	if (json) {
		cJSON *j = comparison_json(&cmp);
		char *t = json_print(j, true);
		puts(t);
		free(t);
		cJSON_Delete(j);
	} else {
		print_comparison(&cmp, category_utf8_ok(STDOUT_FILENO));
	}
	ret = FT_EXIT_OK;

	compare_release(&cmp);
	crashlog_release(&cl[0]);
	crashlog_release(&cl[1]);
	run_view_release(&rd[1]);
out_a:
	run_view_release(&rd[0]);
	return ret;
}
