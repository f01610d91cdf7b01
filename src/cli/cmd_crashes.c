/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/cluster.h"
#include "ftscope/cmd.h"
#include "ftscope/crashlog.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/json.h"
#include "ftscope/runstore.h"
#include "ftscope/snapshot.h"
#include "ftscope/util.h"

static const char *const crashes_usage[] = {
	"usage: ftscope crashes RUN_DIR... [--package P] [--brief] [--all-frames] [--json]",
	"",
	"Crash-signature clusters across iterations, packages and runs: one entry per distinct",
	"bug with its signal, frames, how often it crashed, in which packages, when it was first",
	"and last seen, and one symbolized example stack (the crashing thread, from the",
	"iteration's forensics.json). Signatures that share at least 2 of their frames in order",
	"(and the signal) are one cluster, their variants listed. Crashes of child processes",
	"that the test suite survived are counted too, marked as such.",
	"",
	"  RUN_DIR...      run directories (complete, interrupted or still running), or results",
	"                  directories (their newest run is read); runs are ordered by run id",
	"  --package P     only this package's crashes",
	"  --brief         no example stacks",
	"  --all-frames    also show interpreter and libc plumbing frames in the examples",
	"  --json          the clusters as a JSON array",
	"  -h, --help      show this help",
	NULL,
};

struct crashes_opts {
	const char *package;
	bool brief, all_frames, json;
};

struct variant {
	const struct crash_occ *first;
	size_t count, child;
	size_t cluster;
};

struct cluster {
	size_t *variants; /* indexes into the variant array, by count (desc) */
	size_t nvariants;
	size_t rep;       /* the most frequent variant */
	size_t count, child;
	const struct crash_occ *first, *last;
	struct strv packages;
	size_t *pkg_counts;
	struct strv runs;
	size_t order;     /* first occurrence's position, for ties */
};

#define EXAMPLE_TRIES 20

static void print_usage(FILE *f)
{
	for (size_t i = 0; crashes_usage[i]; i++)
		fprintf(f, "%s\n", crashes_usage[i]);
}

/* ---- clustering ---- */

static size_t find_variant(const struct variant *v, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].first->id, id))
			return i;
	return n;
}

static void cluster_add_package(struct cluster *c, const char *name)
{
	size_t i;
	for (i = 0; i < c->packages.n; i++)
		if (!strcmp(c->packages.v[i], name))
			break;
	if (i == c->packages.n) {
		strv_push(&c->packages, name);
		c->pkg_counts = xrealloc(c->pkg_counts, c->packages.n * sizeof(*c->pkg_counts));
		c->pkg_counts[i] = 0;
	}
	c->pkg_counts[i]++;
}

static const struct variant *sort_variants_base;

static int variant_idx_cmp(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	const struct variant *va = &sort_variants_base[a], *vb = &sort_variants_base[b];
	if (va->count != vb->count)
		return va->count > vb->count ? -1 : 1;
	return a < b ? -1 : a > b;
}

static int cluster_cmp(const void *pa, const void *pb)
{
	const struct cluster *a = pa, *b = pb;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Variants of cl's occurrences and their clusters; returns the clusters, sorted. */
static struct cluster *build_clusters(const struct crashlog *cl, struct variant **vout,
				      size_t *nvout, size_t *ncout)
{
	struct variant *v = xcalloc(cl->n ? cl->n : 1, sizeof(*v));
	size_t nv = 0, nc, *of = xcalloc(cl->n ? cl->n : 1, sizeof(*of)), *group;
	struct crash_variant *cv;
	struct cluster *c;

	for (size_t i = 0; i < cl->n; i++) {
		size_t k = find_variant(v, nv, cl->v[i].id);
		if (k == nv)
			v[nv++].first = &cl->v[i];
		v[k].count++;
		v[k].child += cl->v[i].child;
		of[i] = k;
	}
	cv = xcalloc(nv ? nv : 1, sizeof(*cv));
	group = xcalloc(nv ? nv : 1, sizeof(*group));
	for (size_t k = 0; k < nv; k++) {
		const struct crash_occ *o = v[k].first;
		cv[k].id = o->id;
		cv[k].signal = o->parts.signal;
		cv[k].frames = (const char *const *)o->parts.frames.v;
		cv[k].nframes = o->parts.frames.n;
	}
	nc = cluster_variants(cv, nv, group);
	c = xcalloc(nc ? nc : 1, sizeof(*c));
	for (size_t k = 0; k < nv; k++) {
		struct cluster *g = &c[group[k]];
		v[k].cluster = group[k];
		g->variants = xrealloc(g->variants, (g->nvariants + 1) * sizeof(*g->variants));
		g->variants[g->nvariants++] = k;
	}
	for (size_t i = 0; i < cl->n; i++) {
		const struct crash_occ *o = &cl->v[i];
		struct cluster *g = &c[v[of[i]].cluster];
		if (!g->first) {
			g->first = o;
			g->order = i;
		}
		g->last = o;
		g->count++;
		g->child += o->child;
		cluster_add_package(g, o->package);
		if (!strv_contains(&g->runs, o->run_label))
			strv_push(&g->runs, o->run_label);
	}
	sort_variants_base = v;
	for (size_t i = 0; i < nc; i++) {
		qsort(c[i].variants, c[i].nvariants, sizeof(size_t), variant_idx_cmp);
		c[i].rep = c[i].variants[0];
	}
	if (nc > 1)
		qsort(c, nc, sizeof(*c), cluster_cmp);
	free(cv);
	free(group);
	free(of);
	*vout = v;
	*nvout = nv;
	*ncout = nc;
	return c;
}

static void clusters_free(struct cluster *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].variants);
		free(c[i].pkg_counts);
		strv_release(&c[i].packages);
		strv_release(&c[i].runs);
	}
	free(c);
}

/* ---- the example stack ---- */

struct example {
	const struct crash_occ *occ;
	struct rs_crash_snapshot snap;  /* path: forensics.json, relative to the run
					   directory's parent */
};

static bool find_example(const struct crashlog *cl, const struct variant *v,
			 const struct cluster *c, struct example *ex)
{
	int tries = 0;

	memset(ex, 0, sizeof(*ex));
	/* the representative variant first, then the others; the earliest occurrence first */
	for (size_t k = 0; k < c->nvariants; k++) {
		const char *id = v[c->variants[k]].first->id;
		for (size_t i = 0; i < cl->n && tries < EXAMPLE_TRIES; i++) {
			const struct crash_occ *o = &cl->v[i];
			if (strcmp(o->id, id) || !runstore_iter_has_forensics(o->iter))
				continue;
			tries++;
			if (runstore_crash_snapshot(o->run_dir, o->iter, o->id, o->pid, o->child,
						    &ex->snap) == 0) {
				ex->occ = o;
				return true;
			}
		}
	}
	return false;
}

static void example_release(struct example *ex)
{
	rs_crash_snapshot_release(&ex->snap);
	memset(ex, 0, sizeof(*ex));
}

static cJSON *example_snapshot(const struct example *ex)
{
	return runstore_crash_snapshot_reduced(&ex->snap);
}

static void print_example(const struct example *ex, bool all_frames)
{
	cJSON *snap = example_snapshot(ex);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f) {
		snapshot_print_json(f, snap, SNAP_PRINT_NATIVE | (all_frames ? SNAP_PRINT_ALL_FRAMES : 0));
		fclose(f);
		/* indented under the cluster, without the trailing blank line */
		for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (*line || (nl && nl[1]))
				printf("%s%s\n", *line ? "      " : "", line);
		}
	}
	free(buf);
	cJSON_Delete(snap);
}

/* ---- output ---- */

static void print_where(const char *what, const struct crash_occ *o)
{
	printf("    %-11s %s, %s iteration %d%s%s\n", what, o->run_label, o->package, o->iteration,
	       o->gil ? " (PYTHON_GIL=1)" : "", o->child ? " (child process)" : "");
}

static void print_cluster(size_t n, const struct crashlog *cl, const struct variant *v,
			  const struct cluster *c, const struct crashes_opts *opts)
{
	const struct crash_occ *rep = v[c->rep].first;
	struct example ex;

	printf("[%zu] %s  %s  %zu crash%s", n, rep->parts.signal ? rep->parts.signal : "?",
	       rep->id, c->count, c->count == 1 ? "" : "es");
	if (c->child == 0)
		printf(" (test runner)\n");
	else if (c->child == c->count)
		printf(" (child process%s the suite survived)\n", c->count == 1 ? "" : "es");
	else
		printf(" (%zu test runner, %zu child process)\n", c->count - c->child, c->child);
	printf("    signature:  %s\n", rep->signature);
	if (rep->parts.frames.n) {
		printf("    frames:     ");
		for (size_t i = 0; i < rep->parts.frames.n; i++)
			printf("%s%s", i ? " | " : "", rep->parts.frames.v[i]);
		printf("   (innermost first)\n");
	}
	if (rep->parts.py_frame)
		printf("    python:     %s\n", rep->parts.py_frame);
	printf("    packages:   ");
	for (size_t i = 0; i < c->packages.n; i++)
		printf("%s%s (%zu)", i ? ", " : "", c->packages.v[i], c->pkg_counts[i]);
	printf("\n    runs:       %zu (", c->runs.n);
	for (size_t i = 0; i < c->runs.n; i++)
		printf("%s%s", i ? ", " : "", c->runs.v[i]);
	printf(")\n");
	print_where("first seen:", c->first);
	print_where("last seen:", c->last);
	if (c->nvariants > 1) {
		printf("    variants:   %zu (signatures sharing >= %d frames in order)\n",
		       c->nvariants, CLUSTER_SAME_FRAMES);
		for (size_t k = 0; k < c->nvariants; k++) {
			const struct variant *vk = &v[c->variants[k]];
			printf("      %s  %4zux  %s%s\n", vk->first->id, vk->count,
			       vk->first->signature, vk->child == vk->count ? " (child)" : "");
		}
	}
	if (opts->brief)
		return;
	if (!find_example(cl, v, c, &ex)) {
		printf("    example:    none (no forensics.json with this crash: "
		       "run with the ptrace tracer)\n");
		return;
	}
	printf("    example:    %s, %s iteration %d (%s)\n", ex.occ->run_label, ex.occ->package,
	       ex.occ->iteration, ex.snap.path);
	print_example(&ex, opts->all_frames);
	example_release(&ex);
}

static cJSON *where_json(const struct crash_occ *o)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "run", o->run_label);
	cJSON_AddStringToObject(j, "package", o->package);
	cJSON_AddNumberToObject(j, "iteration", o->iteration);
	cJSON_AddStringToObject(j, "gil", o->gil ? "1" : "0");
	cJSON_AddBoolToObject(j, "child", o->child);
	return j;
}

static cJSON *cluster_json(const struct crashlog *cl, const struct variant *v,
			   const struct cluster *c, const struct crashes_opts *opts)
{
	const struct crash_occ *rep = v[c->rep].first;
	cJSON *j = cJSON_CreateObject(), *pk = cJSON_CreateObject(), *vars = cJSON_CreateArray();
	struct example ex;

	cJSON_AddStringToObject(j, "id", rep->id);
	json_set_str(j, "signal", rep->parts.signal);
	cJSON_AddStringToObject(j, "signature", rep->signature);
	cJSON_AddItemToObject(j, "frames", json_strv(&rep->parts.frames));
	json_set_str(j, "python_frame", rep->parts.py_frame);
	cJSON_AddNumberToObject(j, "count", (double)c->count);
	cJSON_AddNumberToObject(j, "runner_count", (double)(c->count - c->child));
	cJSON_AddNumberToObject(j, "child_count", (double)c->child);
	for (size_t i = 0; i < c->packages.n; i++)
		cJSON_AddNumberToObject(pk, c->packages.v[i], (double)c->pkg_counts[i]);
	cJSON_AddItemToObject(j, "packages", pk);
	cJSON_AddItemToObject(j, "runs", json_strv(&c->runs));
	cJSON_AddItemToObject(j, "first_seen", where_json(c->first));
	cJSON_AddItemToObject(j, "last_seen", where_json(c->last));
	for (size_t k = 0; k < c->nvariants; k++) {
		const struct variant *vk = &v[c->variants[k]];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", vk->first->id);
		cJSON_AddStringToObject(o, "signature", vk->first->signature);
		cJSON_AddNumberToObject(o, "count", (double)vk->count);
		cJSON_AddNumberToObject(o, "child_count", (double)vk->child);
		cJSON_AddItemToArray(vars, o);
	}
	cJSON_AddItemToObject(j, "variants", vars);
	if (!opts->brief && find_example(cl, v, c, &ex)) {
		cJSON *e = where_json(ex.occ);
		cJSON_AddStringToObject(e, "forensics", ex.snap.path);
		cJSON_AddItemToObject(e, "snapshot", example_snapshot(&ex));
		cJSON_AddItemToObject(j, "example", e);
		example_release(&ex);
	} else {
		cJSON_AddNullToObject(j, "example");
	}
	return j;
}

/* ---- command ---- */

/* Whether runs[n] is the same directory as one of runs[0..n). */
static bool run_seen(const struct run_view *runs, size_t n)
{
	char *p = abs_path(runs[n].rd.dir);
	bool seen = false;

	for (size_t i = 0; i < n && !seen; i++) {
		char *q = abs_path(runs[i].rd.dir);
		seen = p && q && !strcmp(p, q);
		free(q);
	}
	free(p);
	return seen;
}

static int run_cmp(const void *pa, const void *pb)
{
	const struct run_view *a = pa, *b = pb;
	return strcmp(a->meta.run_id, b->meta.run_id);
}

int cmd_crashes(int argc, char **argv)
{
	enum { OPT_PACKAGE = 0x100, OPT_BRIEF, OPT_ALL_FRAMES, OPT_JSON };
	static const struct option longopts[] = {
		{ "package", required_argument, NULL, OPT_PACKAGE },
		{ "brief", no_argument, NULL, OPT_BRIEF },
		{ "all-frames", no_argument, NULL, OPT_ALL_FRAMES },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct crashes_opts opts = { 0 };
	struct run_view *runs;
	struct crashlog cl = CRASHLOG_INIT;
	struct variant *v = NULL;
	struct cluster *c = NULL;
	size_t nruns = 0, nv = 0, nc = 0, child = 0;
	bool found_pkg = false;
	int ch, ret = FT_EXIT_FAILURE;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			print_usage(stdout);
			return FT_EXIT_OK;
		case OPT_PACKAGE:
			opts.package = optarg;
			break;
		case OPT_BRIEF:
			opts.brief = true;
			break;
		case OPT_ALL_FRAMES:
			opts.all_frames = true;
			break;
		case OPT_JSON:
			opts.json = true;
			break;
		default:
			die_bad_option("crashes", ch, argv);
		}
	}
	if (optind >= argc)
		die_usage("crashes", "missing RUN_DIR");

	runs = xcalloc((size_t)(argc - optind), sizeof(*runs));
	for (int i = optind; i < argc; i++) {
		if (runstore_load(argv[i], &runs[nruns]) < 0)
			goto out;
		if (run_seen(runs, nruns)) {
			info("note: '%s' is given twice; counting it once", runs[nruns].rd.dir);
			run_view_release(&runs[nruns]);
			continue;
		}
		nruns++;
	}
	/* chronological: run ids are ft_YYYYMMDD_HHMMSS */
	qsort(runs, nruns, sizeof(*runs), run_cmp);
	for (size_t i = 0; i < nruns; i++) {
		if (opts.package && run_view_pkg(&runs[i], opts.package))
			found_pkg = true;
		crashlog_add_run(&cl, &runs[i], i, opts.package);
	}
	if (opts.package && !found_pkg) {
		error("no package '%s' in %s", opts.package,
		      nruns == 1 ? runs[0].rd.dir : "these runs");
		goto out;
	}
	crashlog_sort(&cl);
	c = build_clusters(&cl, &v, &nv, &nc);
	for (size_t i = 0; i < cl.n; i++)
		child += cl.v[i].child;

	if (opts.json) {
		cJSON *arr = cJSON_CreateArray();
		char *t;
		for (size_t i = 0; i < nc; i++)
			cJSON_AddItemToArray(arr, cluster_json(&cl, v, &c[i], &opts));
		t = json_print(arr, true);
		puts(t);
		free(t);
		cJSON_Delete(arr);
	} else if (!cl.n) {
		printf("No crashes in %zu run%s", nruns, nruns == 1 ? "" : "s");
		for (size_t i = 0; i < nruns; i++)
			printf("%s%s", i ? ", " : " (", runs[i].meta.run_id);
		printf(")%s%s.\n", opts.package ? " for " : "", opts.package ? opts.package : "");
	} else {
		printf("Crash clusters: %zu, from %zu crash%s (%zu in test runners, %zu in child "
		       "processes) in %zu run%s\n",
		       nc, cl.n, cl.n == 1 ? "" : "es", cl.n - child, child, nruns,
		       nruns == 1 ? "" : "s");
		for (size_t i = 0; i < nc; i++) {
			printf("\n");
			print_cluster(i + 1, &cl, v, &c[i], &opts);
		}
	}
	ret = FT_EXIT_OK;
out:
	clusters_free(c, nc);
	free(v);
	crashlog_release(&cl);
	for (size_t i = 0; i < nruns; i++)
		run_view_release(&runs[i]);
	free(runs);
	return ret;
}
