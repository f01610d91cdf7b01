/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/category.h"
#include "ftscope/cmd.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/results.h"
#include "ftscope/rundir.h"
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
	const cJSON *obj;
	const char *name;
	enum ft_category cat;
	double pass_rate;
};

#define PKG_COL_MIN 20
#define PKG_COL_MAX 40
#define DETAILS_MAX 50
#define SIGNATURE_MAX 30

static void print_usage(FILE *f)
{
	for (size_t i = 0; show_usage[i]; i++)
		fprintf(f, "%s\n", show_usage[i]);
}

/* ---- reading package objects: absent and null fields get the caller's default ---- */

static long jint(const cJSON *o, const char *key)
{
	return json_long(o, key, 0);
}

/* 1 true, 0 false, def when absent, null or not a boolean */
static const char *jarr_first_str(const cJSON *o, const char *key)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsArray(a) ? cJSON_GetStringValue(cJSON_GetArrayItem(a, 0)) : NULL;
}

/* ---- text helpers ---- */

/* Bytes of s's first max code points (Python's s[:max]). */
static size_t utf8_prefix(const char *s, size_t max)
{
	size_t i = 0, cps = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (cps++ == max)
			break;
	}
	return i;
}

/* Append at most max code points of s, control characters as blanks (one cell per line). */
static void add_cell(struct sbuf *sb, const char *s, size_t max)
{
	size_t n = utf8_prefix(s, max);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		sbuf_addc(sb, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
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

static void add_run_line(struct sbuf *sb, const struct run_data *rd)
{
	const char *id = json_str(rd->meta, "run_id");
	const char *status = json_str(rd->meta, "status");
	const char *base = strrchr(rd->dir, '/');
	long total = jint(rd->meta, "packages_total");

	if (!id)
		id = base && base[1] ? base + 1 : rd->dir;
	sbuf_addf(sb, "Run: %s", id);
	if (!rd->meta) {
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
	else if (!strcmp(status, "disk_full"))
		sbuf_adds(sb, " (stopped: the disk filled up: partial results");
	else if (!strcmp(status, "running"))
		sbuf_adds(sb, " (running, or killed before it could finish: partial results");
	else
		sbuf_addf(sb, " (%s", status);
	if (total > 0)
		sbuf_addf(sb, ", %zu of %ld packages", rd->n, total);
	sbuf_adds(sb, ")\n");
}

static void add_header(struct sbuf *sb, const struct run_data *rd, bool utf8)
{
	const cJSON *py = cJSON_GetObjectItemCaseSensitive(rd->meta, "python_profile");
	const cJSON *sp = cJSON_GetObjectItemCaseSensitive(rd->meta, "system_profile");
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(rd->meta, "config");
	const char *from = json_str(cfg, "install_from");

	sbuf_adds(sb, "Free-Threading Compatibility Report\n");
	add_repeat(sb, utf8 ? "\u2550" : "=", 36);
	sbuf_adds(sb, "\n\n");
	add_run_line(sb, rd);
	if (cJSON_IsObject(py)) {
		struct strv flags = STRV_INIT;
		const char *ver = json_str(py, "version");
		if (json_bool(py, "jit_enabled", 0))
			strv_push(&flags, "JIT");
		if (json_bool(py, "gil_disabled", 0))
			strv_push(&flags, "free-threaded");
		if (json_bool(py, "debug_build", 0))
			strv_push(&flags, "debug build");
		sbuf_addf(sb, "Python: %s", ver ? ver : "?");
		for (size_t i = 0; i < flags.n; i++)
			sbuf_addf(sb, "%s%s", i ? ", " : " (", flags.v[i]);
		sbuf_adds(sb, flags.n ? ")\n" : "\n");
		strv_release(&flags);
	}
	if (cJSON_IsObject(sp)) {
		const char *cpu = json_str(sp, "cpu_model"), *distro = json_str(sp, "os_distro");
		sbuf_addf(sb, "System: %s, %.0fGB RAM, %s\n", cpu ? cpu : "?",
			  json_num(sp, "ram_total_gb", 0), distro ? distro : "?");
	}
	if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(cfg, "iterations"))) {
		sbuf_addf(sb, "Iterations: %ld per package", jint(cfg, "iterations"));
		if (json_bool(cfg, "compare_with_gil", 0))
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

	for (size_t i = 0; i < n; i++) {
		const cJSON *ext = cJSON_GetObjectItemCaseSensitive(rows[i].obj, "extension_compat");
		const cJSON *pv = cJSON_GetObjectItemCaseSensitive(ext, "is_pure_python");
		int pure = cJSON_IsBool(pv) ? cJSON_IsTrue(pv) : -1; /* -1: not probed */
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
	for (int c = 0; c < CAT_NR; c++) {
		char label[64];
		if (!counts[c])
			continue;
		snprintf(label, sizeof(label), "%s:", category_label(c));
		sbuf_addf(sb, "  %s%*s %-35s %3zu  (%5.1f%%)\n", category_symbol(c, utf8),
			  symw - category_symbol_width(c, utf8), "", label, counts[c],
			  pct(counts[c], n));
	}
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

static const char *gil_fallback_module(const cJSON *pkg)
{
	const char *m = jarr_first_str(pkg, "gil_fallback_modules");
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(pkg, "extension_compat"), *e;

	if (m)
		return m;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ext, "extensions")) {
		if (json_bool(e, "triggered_gil_fallback", 0) && json_str(e, "module_name"))
			return json_str(e, "module_name");
	}
	if (json_bool(ext, "gil_fallback_active", 0))
		return "?";
	return NULL;
}

static void add_count(struct strv *parts, long n, const char *what)
{
	if (n > 0)
		strv_push_owned(parts, xasprintf("%ld %s%s", n, what, n == 1 ? "" : "s"));
}

static void add_details(struct sbuf *sb, const cJSON *pkg)
{
	struct strv parts = STRV_INIT;
	struct sbuf joined = SBUF_INIT;
	const char *sig = jarr_first_str(pkg, "failure_signatures");
	const char *tsan = jarr_first_str(pkg, "tsan_warning_types");
	const char *gil = gil_fallback_module(pkg);
	const char *cmp = json_str(pkg, "gil_comparison");
	long deadlocks = jint(pkg, "deadlock_count");
	long timeouts = jint(pkg, "timeout_count") - deadlocks; /* timeout_count has both */
	/* stalls (hangs that are not proven deadlocks) have status timeout: named apart */
	long stalls = jint(cJSON_GetObjectItemCaseSensitive(pkg, "hang_count"), "stall");

	if (json_bool(pkg, "interrupted", 0))
		strv_push(&parts, "interrupted");
	if (sig)
		strv_push_owned(&parts, xstrndup(sig, utf8_prefix(sig, SIGNATURE_MAX)));
	add_count(&parts, (long)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pkg, "flaky_tests")), "flaky test");
	if (tsan)
		strv_push_owned(&parts, xasprintf("TSAN: %s", tsan));
	if (stalls > timeouts)
		stalls = timeouts;
	add_count(&parts, deadlocks, "deadlock");
	add_count(&parts, stalls, "stall");
	add_count(&parts, timeouts - stalls, "timeout");
	if (!json_bool(pkg, "install_ok", 1))
		strv_push(&parts, "install failed");
	if (!json_bool(pkg, "import_ok", 1))
		strv_push(&parts, "import failed");
	if (gil)
		strv_push_owned(&parts, xasprintf("GIL fallback: %s", gil));
	if (cmp)
		strv_push_owned(&parts, xasprintf("vs GIL: %s", cmp));
	/* A pass proves little when the suite never ran two threads at once. */
	if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(pkg, "concurrency_exercised")))
		strv_push(&parts, "no concurrency exercised");

	for (size_t i = 0; i < parts.n; i++)
		sbuf_addf(&joined, "%s%s", i ? ", " : "", parts.v[i]);
	if (joined.len)
		add_cell(sb, joined.buf, DETAILS_MAX);
	sbuf_release(&joined);
	strv_release(&parts);
}

static void add_table(struct sbuf *sb, struct pkg_row *rows, size_t n,
		      const struct show_opts *opts)
{
	size_t shown = opts->limit && opts->limit < n ? opts->limit : n;
	int pkgw = PKG_COL_MIN, hdr_len;
	char hdr[256];

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

	hdr_len = snprintf(hdr, sizeof(hdr), "%-*s %-25s %10s %6s %8s  %s", pkgw, "Package",
			   "Category", "Pass Rate", "Iters", "Crashes", "Details");
	sbuf_addf(sb, "%s\n", hdr);
	add_repeat(sb, opts->utf8 ? "\u2500" : "-", hdr_len + 20 < 100 ? hdr_len + 20 : 100);
	sbuf_addc(sb, '\n');

	for (size_t i = 0; i < shown; i++) {
		const cJSON *pkg = rows[i].obj;
		enum ft_category c = rows[i].cat;
		long iters = jint(pkg, "iterations_completed");
		const char *cname = category_name(c);
		int catw = category_symbol_width(c, opts->utf8) + 1 + (int)strlen(cname);
		int namew = (int)strlen(rows[i].name);
		char rate[48];

		if (iters > 0)
			snprintf(rate, sizeof(rate), "%ld/%ld", jint(pkg, "pass_count"), iters);
		else
			snprintf(rate, sizeof(rate), "N/A");
		add_cell(sb, rows[i].name, (size_t)-1);
		sbuf_addf(sb, "%*s %s %s%*s %10s %6ld %8ld  ",
			  namew < pkgw ? pkgw - namew : 0, "", category_symbol(c, opts->utf8),
			  cname, catw < 25 ? 25 - catw : 0, "", rate, iters,
			  jint(pkg, "crash_count"));
		add_details(sb, pkg);
		/* no trailing blanks when Details is empty */
		while (sb->len && sb->buf[sb->len - 1] == ' ')
			sb->buf[--sb->len] = '\0';
		sbuf_addc(sb, '\n');
	}
	if (shown < n)
		sbuf_addf(sb, "  ... (%zu more)\n", n - shown);
}

static void add_skipped(struct sbuf *sb, const cJSON *meta)
{
	const cJSON *skipped = cJSON_GetObjectItemCaseSensitive(meta, "packages_skipped"), *s;
	int n = cJSON_GetArraySize(skipped);

	if (!cJSON_IsArray(skipped) || n == 0)
		return;
	sbuf_addf(sb, "\nSkipped (%d, not run):\n", n);
	cJSON_ArrayForEach(s, skipped) {
		const char *name = json_str(s, "package"), *reason = json_str(s, "reason");
		if (cJSON_IsString(s))
			name = s->valuestring; /* a bare name is tolerated */
		sbuf_adds(sb, "  ");
		add_cell(sb, name ? name : "?", (size_t)-1);
		if (reason) {
			sbuf_adds(sb, ": ");
			add_cell(sb, reason, 200);
		}
		sbuf_addc(sb, '\n');
	}
}

static void build_rows(const struct run_data *rd, struct pkg_row *rows)
{
	for (size_t i = 0; i < rd->n; i++) {
		const cJSON *pkg = rd->pkgs[i];
		const cJSON *rate = cJSON_GetObjectItemCaseSensitive(pkg, "pass_rate");
		long iters = jint(pkg, "iterations_completed");

		rows[i].obj = pkg;
		rows[i].name = json_str(pkg, "package"); /* run_load keeps only named packages */
		rows[i].cat = category_parse(json_str(pkg, "category"));
		if (cJSON_IsNumber(rate))
			rows[i].pass_rate = rate->valuedouble;
		else if (iters > 0)
			rows[i].pass_rate = (double)jint(pkg, "pass_count") / (double)iters;
		else
			rows[i].pass_rate = 0;
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
		case ':':
			die_usage("show", "option '%s' needs a value", argv[optind - 1]);
		default:
			die_usage("show", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		die_usage("show", "missing RUN_DIR");
	if (optind + 1 < argc)
		die_usage("show", "unexpected argument '%s'", argv[optind + 1]);
	opts->dir = argv[optind];
}

static int show_print(struct show_opts *opts)
{
	struct run_data rd;
	struct pkg_row *rows;
	struct sbuf out = SBUF_INIT;

	opts->utf8 = category_utf8_ok(STDOUT_FILENO);
	if (run_load(opts->dir, &rd) < 0)
		return FT_EXIT_FAILURE;

	rows = xcalloc(rd.n ? rd.n : 1, sizeof(*rows));
	build_rows(&rd, rows);
	{
		/* One cause behind every failure (a broken build, no backend) comes first. */
		char *uniform = pkgs_uniform_failure(rd.pkgs, rd.n);
		if (uniform)
			sbuf_addf(&out, "%s\n\n", uniform);
		free(uniform);
	}
	add_header(&out, &rd, opts->utf8);
	add_summary(&out, rows, rd.n, opts->utf8);
	sbuf_addc(&out, '\n');
	if (rd.n)
		add_table(&out, rows, rd.n, opts);
	else
		sbuf_adds(&out, "No package has finished yet.\n");
	add_skipped(&out, rd.meta);
	{
		/* names, test ids and output lines are the packages' own: no raw control or
		 * bidi characters on the terminal */
		char *safe = term_escape(out.buf, out.len);
		fputs(safe, stdout);
		free(safe);
	}

	sbuf_release(&out);
	free(rows);
	run_data_release(&rd);
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
