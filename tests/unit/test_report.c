/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * `ftscope report`: the pure helpers (escaping, chart scaling, pass-rate buckets, triage
 * scores, signature splitting) as tables, then whole documents built from a synthetic run
 * directory with hostile names, crash clusters across packages, TSAN races, source
 * declarations and an interrupted status.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/report.h"
#include "ftscope/runstore.h"
#include "ftscope/util.h"
#include "tap.h"

static void test_html_escape(void)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		{ "ftfix-ok", "ftfix-ok" },
		{ "<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" },
		{ "a&b", "a&amp;b" },
		{ "&amp;", "&amp;amp;" },
		{ "\"q\"", "&quot;q&quot;" },
		{ "test.py:f.<locals>.work", "test.py:f.&lt;locals&gt;.work" },
		{ "a\x01" "b\nc\rd", "a b c d" },
		{ "tab\there", "tab\there" },
		{ "caf\xc3\xa9 \xe2\x86\x92", "caf\xc3\xa9 \xe2\x86\x92" },
		{ "", "" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct sbuf sb = SBUF_INIT;
		html_escape(&sb, t[i].in);
		is_str(sb.buf ? sb.buf : "", t[i].want, "html_escape %zu", i);
		sbuf_release(&sb);
	}
	{
		struct sbuf sb = SBUF_INIT;
		html_escape(&sb, NULL);
		ok(sb.len == 0, "html_escape(NULL) adds nothing");
		sbuf_release(&sb);
	}
}

static void test_markdown_escape(void)
{
	static const struct {
		const char *in, *text, *code;
	} t[] = {
		{ "ftfix-ok", "ftfix-ok", "`ftfix-ok`" },
		{ "a|b", "a\\|b", "`a\\|b`" },
		{ "__init__.py", "\\_\\_init\\_\\_.py", "`__init__.py`" },
		{ "snake_case_name", "snake_case_name", "`snake_case_name`" },
		{ "_private", "\\_private", "`_private`" },
		{ "x<y>", "x\\<y\\>", "`x<y>`" },
		{ "a&b", "a&amp;b", "`a&b`" },
		{ "*x* [l](u)", "\\*x\\* \\[l\\](u)", "`*x* [l](u)`" },
		{ "line\nbreak", "line break", "`line break`" },
		{ "a`b", "a\\`b", "`` a`b ``" },
		{ "``x", "\\`\\`x", "``` ``x ```" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct sbuf a = SBUF_INIT, b = SBUF_INIT;
		md_text(&a, t[i].in);
		md_code(&b, t[i].in);
		is_str(a.buf, t[i].text, "md_text %zu", i);
		is_str(b.buf, t[i].code, "md_code %zu", i);
		sbuf_release(&a);
		sbuf_release(&b);
	}
}

static void test_chart_scaling(void)
{
	static const struct {
		double v;
		int ticks;
		double step, max;
	} t[] = {
		{ 1.3, 5, 0.5, 1.5 },   /* the PEP 779 axis of a run within the limits */
		{ 3.0, 5, 1, 3 },       /* the axis cap */
		{ 2.01, 5, 0.5, 2.5 },
		{ 0.9, 5, 0.2, 1.0 },
		{ 1, 4, 0.25, 1 },
		{ 7, 4, 2, 8 },         /* package counts */
		{ 10, 5, 2, 10 },
		{ 100, 4, 25, 100 },
		{ 1000, 5, 200, 1000 },
		{ 0, 5, 1, 1 },         /* empty chart */
		{ -3, 5, 1, 1 },
	};
	static const struct {
		double v, max, width, want;
	} px[] = {
		{ 0.5, 1, 100, 50 }, { 1.15, 1.5, 330, 253 }, { 2, 1, 100, 100 },
		{ -1, 1, 100, 0 },   { 1, 0, 100, 0 },	      { 0, 1, 100, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ok(fabs(chart_nice_step(t[i].v, t[i].ticks) - t[i].step) < 1e-9,
		   "nice step of %g in %d ticks = %g (got %g)", t[i].v, t[i].ticks, t[i].step,
		   chart_nice_step(t[i].v, t[i].ticks));
		ok(fabs(chart_axis_max(t[i].v, t[i].ticks) - t[i].max) < 1e-9,
		   "axis for %g in %d ticks ends at %g (got %g)", t[i].v, t[i].ticks, t[i].max,
		   chart_axis_max(t[i].v, t[i].ticks));
	}
	for (size_t i = 0; i < ARRAY_SIZE(px); i++)
		ok(fabs(chart_px(px[i].v, px[i].max, px[i].width) - px[i].want) < 1e-9,
		   "chart_px(%g, %g, %g) = %g", px[i].v, px[i].max, px[i].width, px[i].want);
	ok(chart_px(NAN, 1, 100) == 0, "chart_px(NaN) = 0");
}

static void test_rate_buckets(void)
{
	static const struct {
		long iters;
		double rate;
		const char *want;
	} t[] = {
		{ 0, 0, "N/A" },      { 0, 1, "N/A" },	    { 3, 1.0, "100%" },
		{ 20, 0.95, "90-99%" }, { 10, 0.9, "90-99%" }, { 10, 0.89, "50-89%" },
		{ 10, 0.5, "50-89%" }, { 10, 0.49, "1-49%" }, { 100, 0.01, "1-49%" },
		{ 10, 0.0, "0%" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		is_str(report_rate_bucket_label(report_rate_bucket(t[i].iters, t[i].rate)),
		       t[i].want, "%ld iterations at %g: %s", t[i].iters, t[i].rate, t[i].want);
}

static void test_triage(void)
{
	static const struct {
		const char *pkg;
		int score;
		const char *reason;
	} t[] = {
		{ "{\"category\":\"crash\",\"crash_count\":3,"
		  "\"extension_compat\":{\"is_pure_python\":false}}",
		  80, "severity:crash; 3 crashes; C extension" },
		{ "{\"category\":\"crash\",\"crash_count\":10}", 70, "severity:crash; 10 crashes" },
		{ "{\"category\":\"deadlock\",\"deadlock_count\":5}", 60,
		  "severity:deadlock; 5 deadlocks" },
		{ "{\"category\":\"deadlock\",\"deadlock_count\":1}", 50,
		  "severity:deadlock; 1 deadlocks" },
		{ "{\"category\":\"intermittent\",\"tsan_warning_iterations\":2,"
		  "\"tsan_warning_types\":[\"data race\"],"
		  "\"extension_compat\":{\"is_pure_python\":false}}",
		  55, "severity:intermittent; C extension; TSAN:data race" },
		{ "{\"category\":\"tsan_warnings\",\"tsan_warning_iterations\":1,"
		  "\"tsan_warning_types\":[\"a\",\"b\",\"c\",\"d\"]}",
		  30, "severity:tsan_warnings; TSAN:a,b,c" },
		{ "{\"category\":\"tsan_warnings\",\"tsan_races\":[{\"kind\":\"data race\"}]}", 30,
		  "severity:tsan_warnings; TSAN:" },
		{ "{\"category\":\"incompatible\",\"extension_compat\":{\"is_pure_python\":false}}",
		  25, "severity:incompatible" },
		{ "{\"category\":\"install_failure\"}", 10, "severity:install_failure" },
		{ "{\"category\":\"import_failure\"}", 10, "severity:import_failure" },
		{ "{\"category\":\"unknown\"}", 5, "severity:unknown" },
		{ "{\"category\":\"compatible\"}", -1, "" },
		{ "{\"category\":\"compatible_gil_fallback\"}", -1, "" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		cJSON *pkg = cJSON_Parse(t[i].pkg);
		struct sbuf why = SBUF_INIT;
		struct rs_pkg view;
		rs_pkg_from_json(&view, pkg, ".");
		is_int(report_triage_score(&view, &why), t[i].score, "triage score %zu: %d", i,
		       t[i].score);
		is_str(why.buf ? why.buf : "", t[i].reason, "triage reason %zu", i);
		sbuf_release(&why);
		rs_pkg_release(&view);
		cJSON_Delete(pkg);
	}
}

/* ---- documents from a synthetic run ---- */

static const char meta_json[] =
	"{\"run_id\":\"ft_20260101_000000\",\"status\":\"interrupted\",\"packages_total\":5,"
	"\"timestamp\":\"2026-01-01T00:00:00Z\",\"started_at\":\"2026-01-01T00:00:00Z\","
	"\"python_profile\":{\"version\":\"3.13.5\",\"implementation\":\"CPython\","
	"\"gil_disabled\":true},\"config\":{\"iterations\":2,\"compare_with_gil\":true,"
	"\"tracer\":\"ptrace\"}}";

/* Two packages crash with the same signature (one cluster, two packages); a third survives
 * a child's crash with it; a hostile name; TSAN races; source declarations. */
static const char *const lines[] = {
	"{\"package\":\"<script>alert(1)</script>\",\"category\":\"crash\",\"crash_count\":2,"
	"\"iterations_completed\":2,\"pass_count\":0,\"pass_rate\":0,\"install_ok\":true,"
	"\"failure_signatures\":[\"SIGSEGV | evil_impl | py t.py:w\"],"
	"\"iterations\":[{\"index\":1,\"status\":\"crash\",\"duration_s\":1,"
	"\"crash_signature\":\"SIGSEGV | evil_impl | py t.py:w\",\"crash_signature_id\":"
	"\"00000000000000aa\",\"crashes\":[{\"signal\":\"SIGSEGV\",\"runner\":true,\"signature\":"
	"\"SIGSEGV | evil_impl | py t.py:w\",\"signature_id\":\"00000000000000aa\"}]},"
	"{\"index\":2,\"status\":\"crash\",\"duration_s\":1,\"crash_signature\":"
	"\"SIGSEGV | evil_impl | py t.py:w\",\"crash_signature_id\":\"00000000000000aa\"}],"
	"\"gil_enabled_iterations\":[{\"index\":1,\"status\":\"pass\",\"duration_s\":1,"
	"\"max_rss_kb\":1000},{\"index\":2,\"status\":\"pass\",\"duration_s\":1,\"max_rss_kb\":1000}],"
	"\"gil_comparison\":\"ft_only\"}",
	"{\"package\":\"other|pipe\",\"category\":\"crash\",\"crash_count\":1,"
	"\"iterations_completed\":2,\"pass_count\":1,\"pass_rate\":0.5,\"install_ok\":true,"
	"\"extension_compat\":{\"is_pure_python\":false,\"extensions\":[{\"module_name\":\"o._c\","
	"\"is_extension\":true}],\"source_scan\":{\"files_scanned\":3,\"files_with_mod_gil\":1,"
	"\"declarations\":[{\"file\":\"src/o.c\",\"line_number\":12,\"line_text\":"
	"\"{Py_mod_gil, Py_MOD_GIL_NOT_USED}\",\"kind\":\"Py_mod_gil\",\"is_not_used\":true}]}},"
	"\"iterations\":[{\"index\":1,\"status\":\"crash\",\"duration_s\":1,\"crash_signature_id\":"
	"\"00000000000000aa\",\"crash_signature\":\"SIGSEGV | evil_impl | py t.py:w\"},"
	"{\"index\":2,\"status\":\"pass\",\"duration_s\":1.3,\"max_rss_kb\":1300}],"
	"\"gil_enabled_iterations\":[{\"index\":1,\"status\":\"pass\",\"duration_s\":1,"
	"\"max_rss_kb\":1000}],\"gil_comparison\":\"ft_only\"}",
	"{\"package\":\"survivor\",\"category\":\"tsan_warnings\",\"iterations_completed\":2,"
	"\"pass_count\":2,\"pass_rate\":1,\"install_ok\":true,\"tsan_warning_iterations\":2,"
	"\"tsan_warning_types\":[\"data race\"],\"tsan_races\":[{\"signature_id\":"
	"\"00000000000000bb\",\"kind\":\"data race\",\"summary\":\"race.c:10 in bump\","
	"\"count\":4,\"iterations\":[1,2]}],"
	"\"iterations\":[{\"index\":1,\"status\":\"pass\",\"duration_s\":1,\"crashes\":[{"
	"\"signal\":\"SIGSEGV\",\"runner\":false,\"signature\":\"SIGSEGV | evil_impl | py t.py:w\","
	"\"signature_id\":\"00000000000000aa\"}]},{\"index\":2,\"status\":\"pass\","
	"\"duration_s\":1}]}",
};

static char *make_run(void)
{
	char tmpl[] = "/tmp/ftscope-test-report.XXXXXX";
	char *dir, *path;
	struct sbuf sb = SBUF_INIT;
	if (!mkdtemp(tmpl))
		return NULL;
	dir = xstrdup(tmpl);
	path = path_join(dir, "ft_meta.json");
	write_file_atomic(path, meta_json, strlen(meta_json));
	free(path);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		sbuf_addf(&sb, "%s\n", lines[i]);
	path = path_join(dir, "ft_results.jsonl");
	write_file_atomic(path, sb.buf, sb.len);
	free(path);
	sbuf_release(&sb);
	return dir;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_documents(void)
{
	char *dir = make_run();
	struct run_view rd;
	struct report r;
	struct sbuf md = SBUF_INIT, html = SBUF_INIT, text = SBUF_INIT;

	if (!ok(dir && runstore_load(dir, &rd) == 0, "synthetic run loads"))
		return;
	report_build(&r, &rd, REPORT_STORIES);
	is_int(r.status, REPORT_INTERRUPTED, "interrupted run");
	is_int(r.nclusters, 1, "one crash cluster across packages");
	if (r.nclusters) {
		is_int(r.clusters[0].ft, 3, "three runner crashes in it");
		is_int(r.clusters[0].child, 1, "and a child's crash");
		is_int(r.clusters[0].npkgs, 3, "in three packages");
		is_str(r.clusters[0].id, "00000000000000aa", "cluster id");
	}
	is_int(r.ntriage, 3, "three packages to triage");
	ok(r.pkgs[1].pep779 != NULL, "pep779 computed for a run that did not store it");
	if (r.pkgs[1].pep779)
		ok(fabs(r.pkgs[1].pep779->time_ratio - 1.3) < 1e-9, "time ratio 1.3");
	ok(r.pkgs[0].pep779 == NULL, "no pep779 without a free-threaded pass");

	report_markdown(&md, &r);
	report_html(&html, &r);
	report_text(&text, &r, false);

	ok(strstr(md.buf, "> **Partial results.** This run was interrupted") != NULL,
	   "markdown says the run is partial");
	ok(strstr(md.buf, "\\<script\\>alert(1)\\</script\\>") != NULL, "markdown escapes the name");
	ok(strstr(md.buf, "other\\|pipe") != NULL, "markdown escapes '|' in a cell");
	ok(strstr(md.buf, "| `00000000000000aa` | SIGSEGV | `evil_impl` | `t.py:w` | 3 + 1 in a "
			  "child process |") != NULL,
	   "markdown crash cluster row");
	ok(strstr(md.buf, "## TSAN warnings") && strstr(md.buf, "`race.c:10 in bump` | 4 | 1, 2 |"),
	   "markdown TSAN races");
	ok(strstr(md.buf, "`src/o.c:12` Py_mod_gil → NOT_USED") != NULL,
	   "markdown source declarations");
	ok(strstr(md.buf, "| other\\|pipe | 1.30 s | 1.00 s | 1.300 (+30.0%) | **\u2717 over** |") !=
		   NULL,
	   "markdown PEP 779 row over the limit");
	ok(strstr(html.buf, "<td>other|pipe</td><td class=\"num\">1.30 s</td><td class=\"num\">"
			    "1.00 s</td><td class=\"num\">1.300 (+30.0%)</td><td class=\"c\"><span "
			    "class=\"over\">\u2717 over</span>") != NULL,
	   "html: the same PEP 779 row, in the same words");
	ok(strstr(md.buf, "## Packages with crashes") && strstr(html.buf, "<h2>Packages with crashes"),
	   "both formats have the crash section");

	ok(!strstr(html.buf, "<script"), "html: no script element, even from a package name");
	ok(strstr(html.buf, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL, "html escapes names");
	ok(!strstr(html.buf, "http://") || count(html.buf, "http://") ==
						   count(html.buf, "xmlns=\"http://www.w3.org/2000/svg\""),
	   "html: no link out but the SVG namespace");
	is_int(count(html.buf, "<svg "), 3, "html: three charts");
	ok(strstr(html.buf, "Partial results.") != NULL, "html says the run is partial");
	ok(strstr(html.buf, "id=\"clusters\"") && strstr(html.buf, "00000000000000aa"),
	   "html crash clusters");
	ok(strstr(html.buf, "</html>\n") != NULL, "html complete");

	ok(strstr(text.buf, "Investigation Priority") != NULL, "text: Investigation Priority");
	ok(strstr(text.buf, "Partial results: This run was interrupted") != NULL,
	   "text says the run is partial");

	sbuf_release(&md);
	sbuf_release(&html);
	sbuf_release(&text);
	report_release(&r);
	run_view_release(&rd);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	test_html_escape();
	test_markdown_escape();
	test_chart_scaling();
	test_rate_buckets();
	test_triage();
	test_documents();
	return tap_done();
}
