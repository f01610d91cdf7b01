/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/cmd.h"
#include "ftscope/csv.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/json.h"
#include "ftscope/runstore.h"
#include "ftscope/text.h"
#include "ftscope/util.h"

static const char *const export_usage[] = {
	"usage: ftscope export RUN_DIR [--format csv|json] [-o FILE]",
	"",
	"Export a run's package results for pandas, R or a spreadsheet.",
	"",
	"  RUN_DIR            a run directory, or a results directory (its newest run)",
	"  --format csv       one row per package, sorted by name (the default): labeille's",
	"                     columns, then gil_comparison, gil_enabled_pass_rate, interrupted;",
	"                     RFC 4180 (CRLF rows, quoted fields), booleans True/False, an",
	"                     empty is_pure_python when extensions were not probed",
	"  --format json      an array of the full package objects of ft_results.jsonl",
	"  -o, --output FILE  write FILE (atomically) instead of standard output",
	"  -h, --help         show this help",
	NULL,
};

enum export_format { EXPORT_CSV, EXPORT_JSON };

struct export_opts {
	const char *dir;
	enum export_format format;
	const char *output; /* NULL: stdout */
};

static void print_usage(FILE *f)
{
	for (size_t i = 0; export_usage[i]; i++)
		fprintf(f, "%s\n", export_usage[i]);
}

/* 1 true, 0 false, def when absent, null or not a boolean */
/* ---- CSV ---- */

static const char *const csv_columns[] = {
	/* labeille's `ft export`, in its order */
	"package", "category", "pass_rate", "iterations_completed", "pass_count", "fail_count",
	"crash_count", "deadlock_count", "timeout_count", "tsan_warning_iterations",
	"mean_duration_s", "is_pure_python", "gil_fallback_active", "install_ok", "import_ok",
	"flaky_test_count", "failure_signatures", "tsan_warning_types", "commit",
	/* ftscope's */
	"gil_comparison", "gil_enabled_pass_rate", "interrupted",
};

/* The strings of a list, "; "-joined (labeille's failure_signatures column). */
static void csv_add_joined(struct csv_out *c, const struct strv *list)
{
	struct sbuf sb = SBUF_INIT;
	for (size_t i = 0; i < list->n; i++)
		sbuf_addf(&sb, "%s%s", sb.len ? "; " : "", list->v[i]);
	csv_add_field(c, sb.buf);
	sbuf_release(&sb);
}

static void csv_add_long(struct csv_out *c, long v)
{
	csv_add_fieldf(c, "%ld", v);
}

static void csv_add_package(struct csv_out *c, const struct rs_pkg *pkg)
{
	/* -1: not probed */
	int pure = pkg->ext.present ? pkg->ext.is_pure_python : -1;
	bool fallback = pkg->ext.gil_fallback_active || pkg->gil_fallback_modules.n > 0;

	csv_add_field(c, pkg->name);
	csv_add_field(c, pkg->category_text ? pkg->category_text : "unknown");
	csv_add_rounded(c, pkg->pass_rate, 4);
	csv_add_long(c, pkg->iters);
	csv_add_long(c, pkg->passes);
	csv_add_long(c, pkg->fails);
	csv_add_long(c, pkg->crashes);
	csv_add_long(c, pkg->deadlocks);
	csv_add_long(c, pkg->timeouts);
	csv_add_long(c, pkg->tsan_iters);
	csv_add_rounded(c, pkg->mean_duration_s, 2);
	/* labeille wrote True without a probe; unknown is the truth */
	if (pure < 0)
		csv_add_field(c, NULL);
	else
		csv_add_bool(c, pure);
	csv_add_bool(c, fallback);
	csv_add_bool(c, pkg->install_ok);
	csv_add_bool(c, pkg->import_ok);
	csv_add_fieldf(c, "%zu", pkg->nflaky_any);
	csv_add_joined(c, &pkg->failure_signatures);
	csv_add_joined(c, &pkg->tsan_warning_types);
	csv_add_field(c, pkg->commit);

	csv_add_field(c, pkg->gil_comparison);
	if (pkg->has_gil_pass_rate)
		csv_add_rounded(c, pkg->gil_pass_rate, 4);
	else
		csv_add_field(c, NULL);
	csv_add_bool(c, pkg->interrupted);
	csv_end_row(c);
}

static int cmp_pkg_name(const void *pa, const void *pb)
{
	const struct rs_pkg *a = *(const struct rs_pkg *const *)pa;
	const struct rs_pkg *b = *(const struct rs_pkg *const *)pb;
	return strcmp(a->name, b->name);
}

static void export_csv(struct sbuf *out, const struct run_view *v)
{
	struct csv_out c = CSV_OUT_INIT;
	const struct rs_pkg **sorted = xcalloc(v->n ? v->n : 1, sizeof(*sorted));

	for (size_t i = 0; i < ARRAY_SIZE(csv_columns); i++)
		csv_add_field(&c, csv_columns[i]);
	csv_end_row(&c);
	/* run_load() keeps only objects with a "package" string */
	for (size_t i = 0; i < v->n; i++)
		sorted[i] = &v->pkgs[i];
	qsort(sorted, v->n, sizeof(*sorted), cmp_pkg_name);
	for (size_t i = 0; i < v->n; i++)
		csv_add_package(&c, sorted[i]);
	sbuf_add(out, c.sb.buf, c.sb.len);
	csv_out_release(&c);
	free(sorted);
}

/* ---- JSON: json.dumps(indent=2) layout, one item per line, "{}" / "[]" when empty ---- */

/* As json_print() does: valid UTF-8 (utf8_fix), TEXT_NUL_MARK as \u0000. */
static void json_add_string(struct sbuf *sb, const char *str)
{
	char *fixed = utf8_fix(str);
	const char *s = fixed ? fixed : str;

	sbuf_addc(sb, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == 0xC0 && (unsigned char)s[1] == 0x80) {
			sbuf_adds(sb, "\\u0000");
			s++;
			continue;
		}
		switch (ch) {
		case '"':
			sbuf_adds(sb, "\\\"");
			break;
		case '\\':
			sbuf_adds(sb, "\\\\");
			break;
		case '\n':
			sbuf_adds(sb, "\\n");
			break;
		case '\r':
			sbuf_adds(sb, "\\r");
			break;
		case '\t':
			sbuf_adds(sb, "\\t");
			break;
		default:
			if (ch < 0x20)
				sbuf_addf(sb, "\\u%04x", ch);
			else
				sbuf_addc(sb, (char)ch);
		}
	}
	sbuf_addc(sb, '"');
	free(fixed);
}

static void json_add_pretty(struct sbuf *sb, const cJSON *item, int depth)
{
	bool obj = cJSON_IsObject(item);
	const cJSON *c;

	if (cJSON_IsString(item)) {
		json_add_string(sb, item->valuestring);
		return;
	}
	if (!obj && !cJSON_IsArray(item)) {
		/* numbers, booleans, null: cJSON's own formatting */
		char *s = cJSON_PrintUnformatted(item);
		sbuf_adds(sb, s ? s : "null");
		cJSON_free(s);
		return;
	}
	if (!item->child) {
		sbuf_adds(sb, obj ? "{}" : "[]");
		return;
	}
	sbuf_addc(sb, obj ? '{' : '[');
	for (c = item->child; c; c = c->next) {
		sbuf_addf(sb, "\n%*s", 2 * (depth + 1), "");
		if (obj) {
			json_add_string(sb, c->string ? c->string : "");
			sbuf_adds(sb, ": ");
		}
		json_add_pretty(sb, c, depth + 1);
		if (c->next)
			sbuf_addc(sb, ',');
	}
	sbuf_addf(sb, "\n%*s%c", 2 * depth, "", obj ? '}' : ']');
}

static void export_json(struct sbuf *out, const struct run_view *v)
{
	/* references: the array borrows the package objects (the view's raw members: this
	 * export is the stored document itself), the view keeps owning them */
	cJSON *arr = cJSON_CreateArray();
	if (!arr)
		die("out of memory");
	for (size_t i = 0; i < v->n; i++) {
		if (!cJSON_AddItemReferenceToArray(arr, (cJSON *)v->pkgs[i].raw))
			die("out of memory");
	}
	json_add_pretty(out, arr, 0);
	sbuf_addc(out, '\n');
	cJSON_Delete(arr);
}

static void parse_export_options(int argc, char **argv, struct export_opts *opts)
{
	enum { OPT_FORMAT = 0x100 };
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_usage(stdout);
			exit(FT_EXIT_OK);
		case OPT_FORMAT:
			if (!strcmp(optarg, "csv"))
				opts->format = EXPORT_CSV;
			else if (!strcmp(optarg, "json"))
				opts->format = EXPORT_JSON;
			else
				die_usage("export", "--format must be csv or json, not '%s'",
					  optarg);
			break;
		case 'o':
			if (!*optarg)
				die_usage("export", "-o needs a file name");
			opts->output = optarg;
			break;
		default:
			die_bad_option("export", c, argv);
		}
	}
	opts->dir = the_run_dir("export", argc, argv);
}

int cmd_export(int argc, char **argv)
{
	struct export_opts opts = { .format = EXPORT_CSV, .output = NULL };
	struct run_view v;
	struct sbuf out = SBUF_INIT;
	int ret = FT_EXIT_FAILURE;

	parse_export_options(argc, argv, &opts);
	if (runstore_load(opts.dir, &v) < 0)
		return FT_EXIT_FAILURE;

	if (opts.format == EXPORT_CSV)
		export_csv(&out, &v);
	else
		export_json(&out, &v);

	if (emit_output(opts.output, out.buf, out.len) < 0)
		goto out;
	if (opts.output)
		info("exported %zu package%s to '%s'", v.n, v.n == 1 ? "" : "s", opts.output);
	ret = FT_EXIT_OK;
out:
	sbuf_release(&out);
	run_view_release(&v);
	return ret;
}
