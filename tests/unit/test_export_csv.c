/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * CSV writing (src/report/csv.c): RFC 4180 quoting as Python's csv.writer does it, and number
 * formatting as Python's round(); then `ftscope export` (src/cli/cmd_export.c) end to end on a
 * hand-written run dir, written with -o.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/cmd.h"
#include "ftscope/csv.h"
#include "ftscope/util.h"
#include "tap.h"

static void test_fields(void)
{
	/* expected strings checked against Python: csv.writer(io.StringIO()).writerow([v]) */
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "plain", "plain" },
		{ "", "" },
		{ NULL, "" },
		{ "a,b", "\"a,b\"" },
		{ "say \"hi\"", "\"say \"\"hi\"\"\"" },
		{ "\"", "\"\"\"\"" },
		{ "line1\nline2", "\"line1\nline2\"" },
		{ "cr\rhere", "\"cr\rhere\"" },
		{ "crlf\r\n", "\"crlf\r\n\"" },
		{ " padded ", " padded " },
		{ "semi;colon", "semi;colon" },
		{ "tab\there", "tab\there" },
		{ "caf\xc3\xa9 \xf0\x9f\x92\xa5", "caf\xc3\xa9 \xf0\x9f\x92\xa5" },
		{ "SIGSEGV; f1, f2 \"x\"", "\"SIGSEGV; f1, f2 \"\"x\"\"\"" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct csv_out c = CSV_OUT_INIT;
		struct sbuf want = SBUF_INIT;

		/* between two plain fields, so the separators are checked too */
		csv_add_field(&c, "x");
		csv_add_field(&c, cases[i].in);
		csv_add_field(&c, "y");
		csv_end_row(&c);
		sbuf_addf(&want, "x,%s,y\r\n", cases[i].want);
		is_str(c.sb.buf, want.buf, "field %zu", i);
		is_int(csv_needs_quotes(cases[i].in),
		       strcmp(cases[i].want, cases[i].in ? cases[i].in : "") != 0,
		       "needs_quotes %zu", i);
		sbuf_release(&want);
		csv_out_release(&c);
	}
}

static void test_rows(void)
{
	struct csv_out c = CSV_OUT_INIT;

	csv_add_field(&c, "");
	csv_end_row(&c);
	is_str(c.sb.buf, "\"\"\r\n", "a row of one empty field is \"\", not a blank line");
	csv_add_field(&c, NULL);
	csv_add_field(&c, "b");
	csv_end_row(&c);
	is_str(c.sb.buf, "\"\"\r\n,b\r\n", "an empty first field keeps its separator");
	csv_add_field(&c, NULL);
	csv_add_field(&c, NULL);
	csv_end_row(&c);
	is_str(c.sb.buf, "\"\"\r\n,b\r\n,\r\n", "two empty fields");
	csv_out_release(&c);

	csv_add_bool(&c, true);
	csv_add_bool(&c, false);
	csv_add_fieldf(&c, "%d/%d", 7, 10);
	csv_add_fieldf(&c, "%s", "a,b");
	csv_end_row(&c);
	is_str(c.sb.buf, "True,False,7/10,\"a,b\"\r\n", "bool and formatted fields");
	csv_out_release(&c);
}

static void test_rounded(void)
{
	/* want = Python's str(round(v, nd)), except that Python prints -0.0 */
	static const struct {
		double v;
		int nd;
		const char *want;
	} cases[] = {
		{ 1.0, 4, "1.0" },      { 0.0, 4, "0.0" },      { 0.7, 4, "0.7" },
		{ 2.0 / 3, 4, "0.6667" }, { 1.0 / 3, 4, "0.3333" }, { 0.12345, 4, "0.1235" },
		{ 12.345, 2, "12.35" }, { 2.675, 2, "2.67" },   { 100.0, 2, "100.0" },
		{ 0.5, 0, "0.0" },      { 1.5, 0, "2.0" },      { 3.0, 0, "3.0" },
		{ -0.0001, 2, "0.0" },  { -1.25, 2, "-1.25" },  { 1234567.5, 2, "1234567.5" },
	};
	char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		is_str(csv_format_rounded(buf, sizeof(buf), cases[i].v, cases[i].nd), cases[i].want,
		       "round(%g, %d)", cases[i].v, cases[i].nd);
}

static void put(const char *dir, const char *file, const char *text)
{
	char *p = path_join(dir, file);
	if (write_file_atomic(p, text, strlen(text)) < 0) {
		perror(p);
		exit(99);
	}
	free(p);
}

static int run_export(char *dir, const char *format, char *out)
{
	char *argv[] = { "export", dir, "--format", (char *)format, "-o", out, NULL };
	optind = 0; /* a fresh getopt scan for each call */
	return cmd_export((int)ARRAY_SIZE(argv) - 1, argv);
}

static void test_export(const char *root)
{
	char *out = path_join(root, "out.csv");
	char *jout = path_join(root, "out.json");
	char *text = NULL;
	struct strv lines = STRV_INIT;

	put(root, "ft_meta.json", "{\"run_id\": \"ft_20261122_101112\", \"status\": \"complete\"}");
	put(root, "ft_results.jsonl",
	    "{\"package\": \"zeta\", \"category\": \"compatible\", \"pass_rate\": 1.0, "
	    "\"iterations_completed\": 3, \"pass_count\": 3, \"mean_duration_s\": 1.5, "
	    "\"commit\": \"abc\", \"gil_comparison\": \"same\", \"gil_enabled_pass_rate\": 1.0, "
	    "\"extension_compat\": {\"is_pure_python\": true, \"gil_fallback_active\": false}}\n"
	    "{\"package\": \"alpha\", \"category\": \"crash\", \"pass_rate\": 0.6667, "
	    "\"iterations_completed\": 3, \"pass_count\": 2, \"crash_count\": 1, "
	    "\"failure_signatures\": [\"SIGSEGV: f, g\", \"SIGABRT \\\"x\\\"\"], "
	    "\"flaky_tests\": {\"t1\": 1, \"t2\": 1}, \"install_ok\": true, \"import_ok\": true, "
	    "\"gil_fallback_modules\": [\"m\"], \"interrupted\": true}\n");

	is_int(run_export((char *)root, "csv", out), 0, "export csv: exit 0");
	if (read_file(out, &text, NULL) < 0) {
		ok(0, "export csv: output file written");
		goto out;
	}
	strv_split(&lines, text, "\n");
	is_int(lines.n, 3, "export csv: header + 2 rows");
	if (lines.n != 3)
		goto out;
	is_str(lines.v[0],
	       "package,category,pass_rate,iterations_completed,pass_count,fail_count,"
	       "crash_count,deadlock_count,timeout_count,tsan_warning_iterations,mean_duration_s,"
	       "is_pure_python,gil_fallback_active,install_ok,import_ok,flaky_test_count,"
	       "failure_signatures,tsan_warning_types,commit,gil_comparison,"
	       "gil_enabled_pass_rate,interrupted",
	       "export csv: labeille's columns, then ftscope's");
	is_str(lines.v[1],
	       "alpha,crash,0.6667,3,2,0,1,0,0,0,0.0,,True,True,True,2,"
	       "\"SIGSEGV: f, g; SIGABRT \"\"x\"\"\",,,,,True",
	       "export csv: alpha row (sorted first; quoted signatures; no probe = empty)");
	is_str(lines.v[2], "zeta,compatible,1.0,3,3,0,0,0,0,0,1.5,True,False,True,True,0,,,abc,"
			   "same,1.0,False",
	       "export csv: zeta row");
	ok(strstr(text, "\r\n") != NULL, "export csv: CRLF rows");

	is_int(run_export((char *)root, "json", jout), 0, "export json: exit 0");
	free(text);
	text = NULL;
	if (read_file(jout, &text, NULL) < 0) {
		ok(0, "export json: output file written");
		goto out;
	}
	ok(starts_with(text, "[\n  {\n    \"package\": \"zeta\",\n"),
	   "export json: array of objects in run order, 2-space indent");
	ok(strstr(text, "\"flaky_tests\": {\n      \"t1\": 1,\n      \"t2\": 1\n    },") != NULL,
	   "export json: nested objects indented");
	ok(strstr(text, "\"SIGABRT \\\"x\\\"\"") != NULL, "export json: strings escaped");
	ok(ends_with(text, "  }\n]\n"), "export json: closed, final newline");
out:
	strv_release(&lines);
	free(text);
	free(out);
	free(jout);
}

int main(void)
{
	char tmpl[] = "/tmp/ftscope-test-export.XXXXXX";

	test_fields();
	test_rows();
	test_rounded();
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 99;
	}
	test_export(tmpl);
	rm_rf(tmpl);
	return tap_done();
}
