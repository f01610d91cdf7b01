/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ftscope/category.h"
#include "ftscope/cmd.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/report.h"
#include "ftscope/results.h"
#include "ftscope/runstore.h"
#include "ftscope/show.h"
#include "ftscope/text.h"
#include "ftscope/util.h"

static const char *const show_usage[] = {
	"usage: ftscope show RUN_DIR [--sort category|pass_rate|name] [--limit N]",
	"",
	"Summarise a run (complete, interrupted or still running): how many packages fall in",
	"each category, by package type, then one row per package.",
	"",
	"  RUN_DIR          a run directory (RESULTS/ft_YYYYMMDD_HHMMSS), or a results",
	"                   directory, whose newest run is shown",
	"  --sort KEY       category: by severity, then pass rate (highest first), then name",
	"                   (default); pass_rate: lowest first; name",
	"  --limit N        at most N rows in the package table (0: all, the default)",
	"  -h, --help       show this help",
	"",
	"Category symbols are Unicode on a UTF-8 terminal and ASCII otherwise;",
	"FTSCOPE_SYMBOLS=unicode or FTSCOPE_SYMBOLS=ascii decides instead.",
	NULL,
};

enum show_sort { SORT_CATEGORY, SORT_PASS_RATE, SORT_NAME };

struct show_opts {
	const char *dir;
	enum show_sort sort;
	size_t limit; /* 0: no limit */
	bool utf8;
};

struct pkg_row {
	const struct rs_pkg *pkg;
	const char *name;
	enum ft_category cat;
	double pass_rate;
};

#define PKG_COL_MIN 20
#define PKG_COL_MAX 40

static void print_usage(FILE *f)
{
	for (size_t i = 0; show_usage[i]; i++)
		fprintf(f, "%s\n", show_usage[i]);
}

static void add_repeat(struct sbuf *sb, const char *s, size_t n)
{
	while (n--)
		sbuf_adds(sb, s);
}

static double pct(size_t part, size_t total)
{
	return total ? 100.0 * (double)part / (double)total : 0.0;
}

/* ---- header ---- */

static void add_run_line(struct sbuf *sb, const struct run_view *v)
{
	const struct rs_meta *m = &v->meta;
	const char *status = m->status_text;

	sbuf_addf(sb, "Run: %s", m->run_id);
	if (!m->present) {
		sbuf_adds(sb, " (status unknown: no readable ft_meta.json)\n");
		return;
	}
	/* labeille's meta has no status, and labeille writes it only when a run completes */
	if (!status || !strcmp(status, "complete")) {
		sbuf_adds(sb, " (complete)\n");
		return;
	}
	if (!strcmp(status, "interrupted"))
		sbuf_adds(sb, " (interrupted: partial results");
	else if (!strcmp(status, "partial"))
		sbuf_adds(sb, " (partial: merged without every shard");
	else if (!strcmp(status, "disk_full"))
		sbuf_adds(sb, " (stopped: the disk filled up: partial results");
	else if (!strcmp(status, "running"))
		sbuf_adds(sb, " (running, or killed before it could finish: partial results");
	else
		sbuf_addf(sb, " (%s", status);
	if (m->packages_total > 0)
		sbuf_addf(sb, ", %zu of %ld packages", v->n, m->packages_total);
	sbuf_adds(sb, ")\n");
}

static void add_header(struct sbuf *sb, const struct run_view *v, bool utf8)
{
	const struct rs_meta *m = &v->meta;
	const char *from = m->config.install_from;
	char *t;

	sbuf_adds(sb, "Free-Threading Compatibility Report\n");
	add_repeat(sb, utf8 ? "\u2550" : "=", 36);
	sbuf_adds(sb, "\n\n");
	add_run_line(sb, v);
	if ((t = rs_merged_text(m))) {
		sbuf_addf(sb, "Merged from: %s\n", t);
		free(t);
	}
	if (m->python.present) {
		struct strv flags = STRV_INIT;
		const char *ver = m->python.version;
		if (m->python.jit_enabled)
			strv_push(&flags, "JIT");
		if (m->python.gil_disabled)
			strv_push(&flags, "free-threaded");
		if (m->python.debug_build)
			strv_push(&flags, "debug build");
		sbuf_addf(sb, "Python: %s", ver ? ver : "?");
		for (size_t i = 0; i < flags.n; i++)
			sbuf_addf(sb, "%s%s", i ? ", " : " (", flags.v[i]);
		sbuf_adds(sb, flags.n ? ")\n" : "\n");
		strv_release(&flags);
	}
	if ((t = rs_merged_systems(m))) {
		sbuf_addf(sb, "Systems: %s\n", t);
		free(t);
	} else if (m->system.is_object) {
		const char *cpu = m->system.cpu_model, *distro = m->system.os_distro;
		sbuf_addf(sb, "System: %s, %.0fGB RAM, %s\n", cpu ? cpu : "?",
			  m->system.ram_total_gb, distro ? distro : "?");
	}
	if (m->config.has_iterations) {
		sbuf_addf(sb, "Iterations: %ld per package", (long)m->config.iterations);
		if (m->compare_with_gil)
			sbuf_adds(sb, ", as many again with the GIL enabled");
		sbuf_addc(sb, '\n');
	}
	if (from && !strcmp(from, "sdist"))
		sbuf_adds(sb, "Install source: sdist\n");
	sbuf_addc(sb, '\n');
}

/* ---- summary ---- */

static void add_summary(struct sbuf *sb, const struct pkg_row *rows, size_t n, bool utf8)
{
	size_t counts[CAT_NR] = { 0 };
	/* [0] pure Python, [1] C extensions, [2] not probed; per type: total, ok, usable */
	size_t types[3][3] = { { 0 } };
	int symw = utf8 ? 2 : 1;
	size_t total = n;

	for (size_t i = 0; i < n; i++) {
		const struct rs_ext *ext = &rows[i].pkg->ext;
		int pure = ext->present ? ext->is_pure_python : -1; /* -1: not probed */
		int t = pure == 1 ? 0 : pure == 0 ? 1 : 2;
		enum ft_category c = rows[i].cat;
		counts[c]++;
		types[t][0]++;
		/* all iterations pass; labeille counted GIL fallback for extensions only */
		if (c <= CAT_TSAN_WARNINGS)
			types[t][1]++;
		if (category_is_usable(c))
			types[t][2]++;
	}

	sbuf_adds(sb, "Compatibility Summary\n");
	add_repeat(sb, utf8 ? "\u2500" : "-", 21);
	sbuf_addc(sb, '\n');
	text_category_counts(sb, counts, total, utf8);
	sbuf_addf(sb, "  %*s ", 36 + symw, "");
	add_repeat(sb, utf8 ? "\u2500" : "-", 3);
	sbuf_addf(sb, "\n  %-*s %3zu\n", 36 + symw, "Total:", n);

	if (types[0][0] || types[1][0]) {
		static const char *const names[] = {
			"Pure Python:", "C extensions:", "Not probed:",
		};
		sbuf_adds(sb, "\nBy package type:\n");
		for (int t = 0; t < 3; t++) {
			if (!types[t][0])
				continue;
			sbuf_addf(sb, "  %-15s %3zu package%s, ", names[t], types[t][0],
				  types[t][0] == 1 ? "" : "s");
			if (t < 2)
				sbuf_addf(sb, "%.1f%% compatible, %.1f%% usable\n",
					  pct(types[t][1], types[t][0]),
					  pct(types[t][2], types[t][0]));
			else
				sbuf_adds(sb, "no extension probe (--detect-extensions)\n");
		}
	}
}

/* ---- package table ---- */

static int cmp_name(const struct pkg_row *a, const struct pkg_row *b)
{
	return strcmp(a->name, b->name);
}

static int cmp_category(const void *pa, const void *pb)
{
	const struct pkg_row *a = pa, *b = pb;
	int sa = category_severity(a->cat), sb = category_severity(b->cat);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	if (a->pass_rate != b->pass_rate)
		return a->pass_rate > b->pass_rate ? -1 : 1;
	return cmp_name(a, b);
}

static int cmp_pass_rate(const void *pa, const void *pb)
{
	const struct pkg_row *a = pa, *b = pb;
	if (a->pass_rate != b->pass_rate)
		return a->pass_rate < b->pass_rate ? -1 : 1;
	return cmp_name(a, b);
}

static int cmp_name_qsort(const void *pa, const void *pb)
{
	return cmp_name(pa, pb);
}

static void add_table(struct sbuf *sb, struct pkg_row *rows, size_t n,
		      const struct show_opts *opts)
{
	size_t shown = opts->limit && opts->limit < n ? opts->limit : n;
	int pkgw = PKG_COL_MIN;
	struct text_row *table;

	switch (opts->sort) {
	case SORT_CATEGORY:
		qsort(rows, n, sizeof(*rows), cmp_category);
		break;
	case SORT_PASS_RATE:
		qsort(rows, n, sizeof(*rows), cmp_pass_rate);
		break;
	case SORT_NAME:
		qsort(rows, n, sizeof(*rows), cmp_name_qsort);
		break;
	}
	/* widen the first column for long names (labeille let them push the row apart) */
	for (size_t i = 0; i < shown; i++) {
		int len = (int)strlen(rows[i].name);
		if (len > pkgw)
			pkgw = len > PKG_COL_MAX ? PKG_COL_MAX : len;
	}

	table = xcalloc(shown + 1, sizeof(*table));
	for (size_t i = 0; i < shown; i++) {
		const struct rs_pkg *pkg = rows[i].pkg;
		table[i] = (struct text_row){ rows[i].name, rows[i].cat, pkg->passes, pkg->iters,
					      pkg->crashes, text_pkg_details(pkg) };
	}
	text_pkg_table(sb, table, shown, pkgw, (size_t)-1, opts->utf8, output_width(stdout));
	for (size_t i = 0; i < shown; i++)
		free(table[i].details);
	free(table);
	if (shown < n)
		sbuf_addf(sb, "  ... (%zu more)\n", n - shown);
}

static void add_skipped(struct sbuf *sb, const struct rs_meta *m)
{
	if (!m->nskipped)
		return;
	sbuf_addf(sb, "\nSkipped (%zu, not run):\n", m->nskipped);
	for (size_t i = 0; i < m->nskipped; i++) {
		const char *name = m->skipped[i].name, *reason = m->skipped[i].reason;
		sbuf_adds(sb, "  ");
		text_cell(sb, name ? name : "?", (size_t)-1, 0);
		if (reason) {
			sbuf_adds(sb, ": ");
			text_cell(sb, reason, 200, 0);
		}
		sbuf_addc(sb, '\n');
	}
}

static void build_rows(const struct run_view *v, struct pkg_row *rows)
{
	for (size_t i = 0; i < v->n; i++) {
		rows[i].pkg = &v->pkgs[i];
		rows[i].name = v->pkgs[i].name; /* run_load keeps only named packages */
		rows[i].cat = v->pkgs[i].cat;
		rows[i].pass_rate = v->pkgs[i].pass_rate;
	}
}

static void parse_show_options(int argc, char **argv, struct show_opts *opts)
{
	enum { OPT_SORT = 0x100, OPT_LIMIT };
	static const struct option longopts[] = {
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long limit;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_usage(stdout);
			exit(FT_EXIT_OK);
		case OPT_SORT:
			if (!strcmp(optarg, "category"))
				opts->sort = SORT_CATEGORY;
			else if (!strcmp(optarg, "pass_rate"))
				opts->sort = SORT_PASS_RATE;
			else if (!strcmp(optarg, "name"))
				opts->sort = SORT_NAME;
			else
				die_usage("show",
					  "--sort must be category, pass_rate or name, not '%s'",
					  optarg);
			break;
		case OPT_LIMIT:
			if (parse_int(optarg, 0, 1000000000L, &limit) < 0)
				die_usage("show", "--limit needs a number >= 0, not '%s'", optarg);
			opts->limit = (size_t)limit;
			break;
		default:
			die_bad_option("show", c, argv);
		}
	}
	opts->dir = the_run_dir("show", argc, argv);
}

static int show_print(struct show_opts *opts)
{
	struct run_view v;
	struct pkg_row *rows;
	struct sbuf out = SBUF_INIT;

	opts->utf8 = category_utf8_ok(STDOUT_FILENO);
	if (runstore_load(opts->dir, &v) < 0)
		return FT_EXIT_FAILURE;

	rows = xcalloc(v.n ? v.n : 1, sizeof(*rows));
	build_rows(&v, rows);
	{
		/* One cause behind every failure (a broken build, no backend) comes first. */
		char *uniform = pkgs_uniform_failure(v.rd.pkgs, v.n);
		if (uniform)
			sbuf_addf(&out, "%s\n\n", uniform);
		free(uniform);
	}
	add_header(&out, &v, opts->utf8);
	add_summary(&out, rows, v.n, opts->utf8);
	sbuf_addc(&out, '\n');
	if (v.n)
		add_table(&out, rows, v.n, opts);
	else
		sbuf_adds(&out, "No package has finished yet.\n");
	add_skipped(&out, &v.meta);
	{
		/* names, test ids and output lines are the packages' own: no raw control or
		 * bidi characters on the terminal */
		char *safe = term_escape(out.buf, out.len);
		fputs(safe, stdout);
		free(safe);
	}

	sbuf_release(&out);
	free(rows);
	run_view_release(&v);
	return FT_EXIT_OK;
}

int show_run_summary(const char *run_dir)
{
	struct show_opts opts = { .dir = run_dir, .sort = SORT_CATEGORY, .limit = 0 };
	return show_print(&opts);
}

int cmd_show(int argc, char **argv)
{
	struct show_opts opts = { .sort = SORT_CATEGORY, .limit = 0 };

	parse_show_options(argc, argv, &opts);
	return show_print(&opts);
}
