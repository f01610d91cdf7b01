/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The run-directory reader (src/results/rundir.c) on run directories written by hand: this tests
 * the reader's tolerance (last line wins, damaged lines, missing files), so synthetic JSON
 * is the point. Also the category table (src/run/category.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "ftscope/category.h"
#include "ftscope/rundir.h"
#include "ftscope/util.h"
#include "tap.h"

static char *tmp_root;

static char *mktemp_dir(const char *name)
{
	char *p = path_join(tmp_root, name);
	if (mkdir_p(p, 0755) < 0 && !is_dir(p)) {
		perror(p);
		exit(99);
	}
	return p;
}

static void put(const char *dir, const char *file, const char *text, size_t len)
{
	char *p = path_join(dir, file);
	if (write_file_atomic(p, text, len) < 0) {
		perror(p);
		exit(99);
	}
	free(p);
}

static void puts_file(const char *dir, const char *file, const char *text)
{
	put(dir, file, text, strlen(text));
}

static const char *pkg_str(const cJSON *pkg, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pkg, key));
}

static double pkg_num(const cJSON *pkg, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(pkg, key);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *const meta_complete =
	"{\"run_id\": \"ft_20261122_101112\", \"status\": \"complete\", \"packages_total\": 2}\n";

static void test_last_line_wins(void)
{
	char *d = mktemp_dir("last");
	struct run_data rd;

	puts_file(d, "ft_meta.json", meta_complete);
	puts_file(d, "ft_results.jsonl",
		  "{\"package\": \"a\", \"category\": \"intermittent\", \"pass_count\": 1, "
		  "\"interrupted\": true}\n"
		  "{\"package\": \"b\", \"category\": \"compatible\", \"pass_count\": 10}\n"
		  "{\"package\": \"a\", \"category\": \"crash\", \"pass_count\": 7}\n");
	is_int(run_load(d, &rd), 0, "last line: loads");
	is_int(rd.n, 2, "last line: one object per package");
	is_int(rd.bad_lines, 0, "last line: nothing skipped");
	ok(rd.meta != NULL, "last line: meta read");
	is_str(pkg_str(rd.meta, "run_id"), "ft_20261122_101112", "last line: meta run_id");
	is_str(pkg_str(rd.pkgs[0], "package"), "a", "last line: first-appearance order kept");
	is_str(pkg_str(rd.pkgs[0], "category"), "crash", "last line: the later line replaced it");
	ok(pkg_num(rd.pkgs[0], "pass_count") == 7, "last line: later numbers");
	ok(!cJSON_GetObjectItemCaseSensitive(rd.pkgs[0], "interrupted"),
	   "last line: no field of the older line leaks in");
	is_str(pkg_str(rd.pkgs[1], "package"), "b", "last line: second package");
	ok(run_find_pkg(&rd, "b") == rd.pkgs[1], "run_find_pkg finds b");
	ok(run_find_pkg(&rd, "zzz") == NULL, "run_find_pkg: absent package is NULL");
	ok(run_find_pkg(&rd, NULL) == NULL, "run_find_pkg: NULL name is NULL");
	is_str(rd.dir, d, "last line: dir is the run dir itself");
	run_data_release(&rd);
	ok(rd.pkgs == NULL && rd.n == 0 && rd.meta == NULL, "release clears the struct");
	free(d);
}

static void test_truncated_tail(void)
{
	char *d = mktemp_dir("trunc");
	struct run_data rd;

	puts_file(d, "ft_meta.json", meta_complete);
	/* kill -9 in the middle of an append */
	puts_file(d, "ft_results.jsonl",
		  "{\"package\": \"a\", \"category\": \"compatible\"}\n"
		  "{\"package\": \"b\", \"category\": \"compatible\"}\n"
		  "{\"package\": \"c\", \"categ");
	is_int(run_load(d, &rd), 0, "truncated: still loads");
	is_int(rd.n, 2, "truncated: complete lines kept");
	is_int(rd.bad_lines, 1, "truncated: one line skipped and counted");
	ok(run_find_pkg(&rd, "c") == NULL, "truncated: the partial package is not invented");
	run_data_release(&rd);
	free(d);
}

static void test_damaged_lines(void)
{
	char *d = mktemp_dir("damaged");
	struct run_data rd;
	static const char text[] =
		"{\"package\": \"a\"}\r\n"                 /* CRLF: fine */
		"\n"                                       /* blank: not damage */
		"   \n"                                    /* blanks: not damage */
		"[1, 2]\n"                                 /* not an object */
		"{\"category\": \"crash\"}\n"              /* no package */
		"{\"package\": 5}\n"                       /* package not a string */
		"{\"package\": \"\"}\n"                    /* empty name */
		"{\"package\": \"b\"} {\"package\": \"c\"}\n" /* two values glued */
		"{\"package\": \"d\"}\n"
		"\0\0\0\0\0\0\0\0";                        /* zero-filled tail, no newline */

	puts_file(d, "ft_meta.json", meta_complete);
	put(d, "ft_results.jsonl", text, sizeof(text) - 1);
	is_int(run_load(d, &rd), 0, "damaged: loads");
	is_int(rd.n, 2, "damaged: a and d kept");
	is_str(rd.n > 1 ? pkg_str(rd.pkgs[1], "package") : NULL, "d", "damaged: d after a");
	is_int(rd.bad_lines, 6, "damaged: every bad line counted, blank lines not");
	run_data_release(&rd);
	free(d);
}

static void test_missing_meta(void)
{
	char *d = mktemp_dir("nometa");
	struct run_data rd;

	puts_file(d, "ft_results.jsonl", "{\"package\": \"a\", \"category\": \"compatible\"}\n");
	is_int(run_load(d, &rd), 0, "no meta: loads");
	ok(rd.meta == NULL, "no meta: meta is NULL");
	is_int(rd.n, 1, "no meta: results read");
	run_data_release(&rd);

	puts_file(d, "ft_meta.json", "{\"run_id\": \"x\", \"stat");
	is_int(run_load(d, &rd), 0, "unparsable meta: loads");
	ok(rd.meta == NULL, "unparsable meta: meta is NULL");
	is_int(rd.n, 1, "unparsable meta: results read");
	run_data_release(&rd);

	puts_file(d, "ft_meta.json", "[1]");
	is_int(run_load(d, &rd), 0, "meta not an object: loads");
	ok(rd.meta == NULL, "meta not an object: meta is NULL");
	run_data_release(&rd);
	free(d);
}

static void test_empty(void)
{
	char *d = mktemp_dir("empty");
	char *d2 = mktemp_dir("startonly");
	struct run_data rd;

	puts_file(d, "ft_meta.json", meta_complete);
	puts_file(d, "ft_results.jsonl", "");
	is_int(run_load(d, &rd), 0, "empty results: loads");
	is_int(rd.n, 0, "empty results: no package");
	is_int(rd.bad_lines, 0, "empty results: nothing skipped");
	ok(rd.meta != NULL, "empty results: meta read");
	run_data_release(&rd);

	/* a run that just started: meta written, no package finished */
	puts_file(d2, "ft_meta.json", "{\"run_id\": \"r\", \"status\": \"running\"}");
	is_int(run_load(d2, &rd), 0, "no results file: loads");
	is_int(rd.n, 0, "no results file: no package");
	is_str(pkg_str(rd.meta, "status"), "running", "no results file: status running");
	run_data_release(&rd);
	free(d);
	free(d2);
}

static void test_results_dir(void)
{
	char *res = mktemp_dir("results");
	char *run = mktemp_dir("results/ft_20261122_101112");
	char *want, *p;
	struct run_data rd;

	puts_file(run, "ft_meta.json", meta_complete);
	puts_file(run, "ft_results.jsonl", "{\"package\": \"only\"}\n");
	/* not runs: a plain file, an unrelated dir, an ft_* dir without run files */
	puts_file(res, "ft_notes.txt", "x");
	free(mktemp_dir("results/other"));
	free(mktemp_dir("results/ft_20991231_000000_empty"));

	is_int(run_load(res, &rd), 0, "results dir with one run: loads");
	is_str(rd.dir, run, "results dir with one run: resolved to the run");
	is_int(rd.n, 1, "results dir with one run: its package");
	run_data_release(&rd);

	/* several runs: the newest by stamp, then by _N suffix numerically */
	p = mktemp_dir("results/ft_20261122_101112_2");
	puts_file(p, "ft_meta.json", "{\"run_id\": \"second\"}");
	free(p);
	p = mktemp_dir("results/ft_20261122_101112_10");
	puts_file(p, "ft_meta.json", "{\"run_id\": \"tenth\"}");
	want = p;
	p = mktemp_dir("results/ft_20261121_235959");
	puts_file(p, "ft_meta.json", "{\"run_id\": \"older\"}");
	free(p);
	is_int(run_load(res, &rd), 0, "results dir with several runs: loads");
	is_str(rd.dir, want, "results dir with several runs: the newest (_10 after _2)");
	is_str(pkg_str(rd.meta, "run_id"), "tenth", "results dir with several runs: its meta");
	run_data_release(&rd);
	free(want);

	p = mktemp_dir("results/ft_20261123_000000");
	puts_file(p, "ft_results.jsonl", "");
	is_int(run_load(res, &rd), 0, "a newer stamp beats any suffix");
	is_str(rd.dir, p, "a newer stamp beats any suffix: dir");
	run_data_release(&rd);
	free(p);
	free(run);
	free(res);
}

static void test_not_a_run(void)
{
	char *d = mktemp_dir("nothing");
	char *f = path_join(tmp_root, "plainfile");
	char *missing = path_join(tmp_root, "does-not-exist");
	struct run_data rd;

	puts_file(tmp_root, "plainfile", "x");
	is_int(run_load(d, &rd), -1, "empty directory: error");
	ok(rd.dir == NULL && rd.n == 0, "empty directory: nothing left allocated");
	is_int(run_load(f, &rd), -1, "a file: error");
	is_int(run_load(missing, &rd), -1, "a missing path: error");
	free(d);
	free(f);
	free(missing);
}

static void test_categories(void)
{
	static const struct {
		const char *name, *label;
		int severity;
		bool usable;
	} want[] = {
		{ "compatible", "Compatible", 0, true },
		{ "compatible_by_wheel", "Compatible by wheel", 0, true },
		{ "compatible_gil_fallback", "Compatible (GIL fallback)", 1, true },
		{ "tsan_warnings", "TSAN warnings", 2, true },
		{ "intermittent", "Intermittent", 3, true },
		{ "incompatible", "Incompatible", 4, false },
		{ "crash", "Crash", 5, false },
		{ "deadlock", "Deadlock", 6, false },
		{ "install_failure", "Install failure", 7, false },
		{ "import_failure", "Import failure", 8, false },
		{ "unknown", "Unknown", 9, false },
	};
	static const char *const utf8_symbols[] = {
		"\u2713", "\u2295", "\u26a0", "\u26a1", "~", "\u2717",
		"\U0001f4a5", "\U0001f512", "\u2699", "\U0001f4e6", "?",
	};

	is_int(CAT_NR, ARRAY_SIZE(want), "eleven categories");
	for (int i = 0; i < CAT_NR; i++) {
		const char *ascii = category_symbol(i, false);
		is_str(category_name(i), want[i].name, "category %d name", i);
		is_str(category_label(i), want[i].label, "category %d label", i);
		is_int(category_severity(i), want[i].severity, "%s severity", want[i].name);
		is_int(category_is_usable(i), want[i].usable, "%s usable", want[i].name);
		is_int(category_from_name(want[i].name), i, "%s round trip", want[i].name);
		is_int(category_parse(want[i].name), i, "%s parse", want[i].name);
		is_str(category_symbol(i, true), utf8_symbols[i], "%s labeille symbol", want[i].name);
		ok(strlen(ascii) == 1 && ascii[0] > ' ' && ascii[0] < 0x7f, "%s ascii symbol '%s'",
		   want[i].name, ascii);
		is_int(category_symbol_width(i, false), 1, "%s ascii width", want[i].name);
		for (int j = 0; j < i; j++) {
			if (!strcmp(category_symbol(j, false), ascii))
				ok(0, "ascii symbol of %s repeats %s's", want[i].name, want[j].name);
		}
	}
	is_int(category_symbol_width(CAT_CRASH, true), 2, "emoji take two columns");
	is_int(category_symbol_width(CAT_COMPATIBLE, true), 1, "check mark takes one");
	is_str(category_label(category_parse("compatible_by_wheel")), "Compatible by wheel",
	       "labeille's compatible_by_wheel is named as such, not as compatible");
	is_int(category_from_name("Compatible"), -1, "names are case-sensitive");
	is_int(category_from_name(""), -1, "empty name unknown");
	is_int(category_from_name(NULL), -1, "NULL name unknown");
	is_int(category_parse("bogus"), CAT_UNKNOWN, "parse: unrecognised is unknown");
	is_str(category_name((enum ft_category)42), "unknown", "out of range reads as unknown");

	setenv("FTSCOPE_SYMBOLS", "unicode", 1);
	ok(category_utf8_ok(-1), "FTSCOPE_SYMBOLS=unicode forces symbols");
	setenv("FTSCOPE_SYMBOLS", "ascii", 1);
	ok(!category_utf8_ok(-1), "FTSCOPE_SYMBOLS=ascii forces ascii");
	unsetenv("FTSCOPE_SYMBOLS");
	ok(!category_utf8_ok(-1), "not a terminal: ascii");
}

int main(void)
{
	char tmpl[] = "/tmp/ftscope-test-rundir.XXXXXX";

	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 99;
	}
	tmp_root = tmpl;
	test_last_line_wins();
	test_truncated_tail();
	test_damaged_lines();
	test_missing_meta();
	test_empty();
	test_results_dir();
	test_not_a_run();
	test_categories();
	rm_rf(tmp_root);
	return tap_done();
}
