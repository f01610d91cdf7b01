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
#include "ftscope/rundir.h"
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

static void csv_add_int(struct csv_out *c, const cJSON *pkg, const char *key)
{
	csv_add_fieldf(c, "%.0f", json_num(pkg, key, 0));
}

/* The strings of an array, "; "-joined (labeille's failure_signatures column). */
static void csv_add_joined(struct csv_out *c, const cJSON *arr)
{
	struct sbuf sb = SBUF_INIT;
	const cJSON *list = cJSON_IsArray(arr) ? arr : NULL, *e;
	cJSON_ArrayForEach(e, list) {
		if (cJSON_IsString(e))
			sbuf_addf(&sb, "%s%s", sb.len ? "; " : "", e->valuestring);
	}
	csv_add_field(c, sb.buf);
	sbuf_release(&sb);
}

static void csv_add_package(struct csv_out *c, const cJSON *pkg)
{
	const cJSON *ext = cJSON_GetObjectItemCaseSensitive(pkg, "extension_compat");
	const cJSON *rate = cJSON_GetObjectItemCaseSensitive(pkg, "pass_rate");
	const cJSON *gil_rate = cJSON_GetObjectItemCaseSensitive(pkg, "gil_enabled_pass_rate");
	const char *cat = json_str(pkg, "category");
	double iters = json_num(pkg, "iterations_completed", 0);
	const cJSON *pv = cJSON_GetObjectItemCaseSensitive(ext, "is_pure_python");
	int pure = cJSON_IsBool(pv) ? cJSON_IsTrue(pv) : -1; /* -1: not probed */
	bool fallback = json_bool(ext, "gil_fallback_active", 0) ||
			cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pkg, "gil_fallback_modules")) > 0;

	csv_add_field(c, json_str(pkg, "package"));
	csv_add_field(c, cat ? cat : "unknown");
	if (cJSON_IsNumber(rate))
		csv_add_rounded(c, rate->valuedouble, 4);
	else
		csv_add_rounded(c, iters > 0 ? json_num(pkg, "pass_count", 0) / iters : 0, 4);
	csv_add_int(c, pkg, "iterations_completed");
	csv_add_int(c, pkg, "pass_count");
	csv_add_int(c, pkg, "fail_count");
	csv_add_int(c, pkg, "crash_count");
	csv_add_int(c, pkg, "deadlock_count");
	csv_add_int(c, pkg, "timeout_count");
	csv_add_int(c, pkg, "tsan_warning_iterations");
	csv_add_rounded(c, json_num(pkg, "mean_duration_s", 0), 2);
	/* labeille wrote True without a probe; unknown is the truth */
	if (pure < 0)
		csv_add_field(c, NULL);
	else
		csv_add_bool(c, pure);
	csv_add_bool(c, fallback);
	csv_add_bool(c, json_bool(pkg, "install_ok", 1));
	csv_add_bool(c, json_bool(pkg, "import_ok", 1));
	csv_add_fieldf(c, "%d", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pkg, "flaky_tests")));
	csv_add_joined(c, cJSON_GetObjectItemCaseSensitive(pkg, "failure_signatures"));
	csv_add_joined(c, cJSON_GetObjectItemCaseSensitive(pkg, "tsan_warning_types"));
	csv_add_field(c, json_str(pkg, "commit"));

	csv_add_field(c, json_str(pkg, "gil_comparison"));
	if (cJSON_IsNumber(gil_rate))
		csv_add_rounded(c, gil_rate->valuedouble, 4);
	else
		csv_add_field(c, NULL);
	csv_add_bool(c, json_bool(pkg, "interrupted", 0));
	csv_end_row(c);
}

static int cmp_pkg_name(const void *pa, const void *pb)
{
	const cJSON *a = *(const cJSON *const *)pa, *b = *(const cJSON *const *)pb;
	return strcmp(json_str(a, "package"), json_str(b, "package"));
}

static void export_csv(struct sbuf *out, const struct run_data *rd)
{
	struct csv_out c = CSV_OUT_INIT;
	const cJSON **sorted = xcalloc(rd->n ? rd->n : 1, sizeof(*sorted));

	for (size_t i = 0; i < ARRAY_SIZE(csv_columns); i++)
		csv_add_field(&c, csv_columns[i]);
	csv_end_row(&c);
	/* run_load() keeps only objects with a "package" string */
	memcpy(sorted, rd->pkgs, rd->n * sizeof(*sorted));
	qsort(sorted, rd->n, sizeof(*sorted), cmp_pkg_name);
	for (size_t i = 0; i < rd->n; i++)
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

static void export_json(struct sbuf *out, const struct run_data *rd)
{
	/* references: the array borrows the package objects, rd keeps owning them */
	cJSON *arr = cJSON_CreateArray();
	if (!arr)
		die("out of memory");
	for (size_t i = 0; i < rd->n; i++) {
		if (!cJSON_AddItemReferenceToArray(arr, rd->pkgs[i]))
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
		case ':':
			die_usage("export", "option '%s' needs a value", argv[optind - 1]);
		default:
			die_usage("export", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		die_usage("export", "missing RUN_DIR");
	if (optind + 1 < argc)
		die_usage("export", "unexpected argument '%s'", argv[optind + 1]);
	opts->dir = argv[optind];
}

int cmd_export(int argc, char **argv)
{
	struct export_opts opts = { .format = EXPORT_CSV, .output = NULL };
	struct run_data rd;
	struct sbuf out = SBUF_INIT;
	int ret = FT_EXIT_FAILURE;

	parse_export_options(argc, argv, &opts);
	if (run_load(opts.dir, &rd) < 0)
		return FT_EXIT_FAILURE;

	if (opts.format == EXPORT_CSV)
		export_csv(&out, &rd);
	else
		export_json(&out, &rd);

	if (emit_output(opts.output, out.buf, out.len) < 0)
		goto out;
	if (opts.output)
		info("exported %zu package%s to '%s'", rd.n, rd.n == 1 ? "" : "s", opts.output);
	ret = FT_EXIT_OK;
out:
	sbuf_release(&out);
	run_data_release(&rd);
	return ret;
}
