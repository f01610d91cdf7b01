/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Results: evidence from real stderr, JUnit/pytest-summary parsing on recorded reports,
 * package aggregation, and a write -> run_load round trip. Data files in tests/unit/data
 * were recorded from the fixture packages (tests/fixtures/pkgs) on the free-threaded build.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/results.h"
#include "ftscope/stress.h"
#include "ftscope/rundir.h"
#include "ftscope/testreport.h"
#include "tap.h"

#ifndef DATA
#define DATA "tests/unit/data/"
#endif

static const char *outcome_of(const struct test_report *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->tests[i].id, id))
			return r->tests[i].outcome;
	return NULL;
}

static void test_junit(void)
{
	struct test_report r = { 0 };
	static const char synthetic[] =
		"<testsuites><testsuite name='pytest'>"
		"<testcase classname='tests.test_m.TestK' name='test_a[1]' file='tests/test_m.py'/>"
		"<testcase classname='tests.test_m' name='test_skip' file='tests/test_m.py'>"
		"<skipped type='pytest.skip' message='no'/></testcase>"
		"<testcase classname='tests.test_m' name='test_xf' file='tests/test_m.py'>"
		"<skipped type='pytest.xfail' message='x'/></testcase>"
		"<testcase classname='tests.test_m' name='test_err' file='tests/test_m.py'>"
		"<error message='fixture'/></testcase>"
		"<testcase classname='tests.test_m' name='test_fail'><failure message='boom'/></testcase>"
		"</testsuite></testsuites>";
	is_int(junit_parse_at(AT_FDCWD, DATA "junit-race-fail.xml", FILE_ANY_OWNER, &r, NULL,
			      NULL), 0, "recorded junit parses");
	is_int(r.n, 4, "4 test cases in the recorded race report");
	is_int(r.failed, 1, "one failure");
	is_int(r.passed, 3, "three passes");
	is_str(outcome_of(&r, "tests/test_counter.py::test_concurrent_bumps"), "FAILED",
	       "the racing test failed, with pytest's node id");
	is_str(outcome_of(&r, "tests/test_counter.py::test_single_thread"), "PASSED",
	       "single-thread test passed");
	test_report_release(&r);

	is_int(junit_parse_buf(synthetic, sizeof(synthetic) - 1, &r), 0, "synthetic junit");
	is_str(outcome_of(&r, "tests/test_m.py::TestK::test_a[1]"), "PASSED", "class + param id");
	is_str(outcome_of(&r, "tests/test_m.py::test_skip"), "SKIPPED", "skipped");
	is_str(outcome_of(&r, "tests/test_m.py::test_xf"), "XFAIL", "xfail");
	is_str(outcome_of(&r, "tests/test_m.py::test_err"), "ERROR", "error");
	is_str(outcome_of(&r, "tests.test_m::test_fail"), "FAILED", "no file attribute (xunit2)");
	is_int(r.skipped, 2, "skip + xfail counted as skipped");
	test_report_release(&r);

	ok(junit_parse_buf("<html/>", 7, &r) < 0, "not junit");
	ok(junit_parse_buf("<testsuite><testcase", 20, &r) < 0, "truncated junit");
	test_report_release(&r);
	is_int(junit_parse_at(AT_FDCWD, DATA "does-not-exist.xml", FILE_ANY_OWNER, &r, NULL,
			      NULL), -2, "missing file is -ENOENT");
}

/* The report is the test's file: an attacker's. */
static void test_junit_hostile(void)
{
	static const char laughs[] =
		"<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
		"<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		"<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
		"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		"<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
		"<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
		"<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
		"<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
		"<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
		"<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
		"]>\n<testsuites><testsuite><testcase classname='a' name='&lol9;'/>"
		"</testsuite></testsuites>\n";
	char dir[] = "/tmp/ftscope-test-junit.XXXXXX";
	struct test_report r = { 0 };
	double t0 = now_monotonic();
	int dfd, fd;
	ok(junit_parse_buf(laughs, sizeof(laughs) - 1, &r) < 0, "a billion laughs is refused");
	ok(now_monotonic() - t0 < 1, "at once (%.3f s)", now_monotonic() - t0);
	is_int((int)r.n, 0, "and nothing of it is kept");
	ok(junit_parse_buf("<!DOCTYPE testsuites SYSTEM 'http://x/y.dtd'><testsuites/>", 59,
			   &r) < 0, "any DTD is refused (no network, no entities)");
	{
		/* libxml2 2.9 checks each attribute against all before it: 200,000 took 485 s. */
		struct sbuf sb = SBUF_INIT;
		sbuf_adds(&sb, "<testsuites><!-- a=1 b=2 --><testsuite><testcase name='t' ");
		for (int i = 0; i < 20000; i++)
			sbuf_addf(&sb, "a%d='=' ", i);
		sbuf_adds(&sb, "/></testsuite></testsuites>");
		t0 = now_monotonic();
		ok(junit_parse_buf(sb.buf, sb.len, &r) < 0,
		   "a tag with 20000 attributes is refused");
		ok(now_monotonic() - t0 < 1, "at once (%.3f s)", now_monotonic() - t0);
		sbuf_reset(&sb);
		sbuf_adds(&sb, "<testsuites><testsuite><testcase name='t' ");
		for (int i = 0; i < JUNIT_MAX_ATTRS - 1; i++)
			sbuf_addf(&sb, "a%d='x=\"y\"' ", i);
		sbuf_adds(&sb, "/><![CDATA[ <x a=1 b=2> ]]></testsuite></testsuites>");
		is_int(junit_parse_buf(sb.buf, sb.len, &r), 0, "one with %d is read",
		       JUNIT_MAX_ATTRS);
		test_report_release(&r);
		sbuf_release(&sb);
	}
	{
		static const char nested[] =
			"<testsuites>\n<testsuite><testcase name='t'/></testsuite>"
			"<testcase name='u'><testcase name='nested'/></testcase></testsuites>";
		is_int(junit_parse_buf(nested, sizeof(nested) - 1, &r), 0,
		       "testcases at any depth");
	}
	is_int((int)r.n, 2, "a testcase's own children are not testcases");
	test_report_release(&r);

	ok(mkdtemp(dir) != NULL, "temporary directory");
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	ok(mkfifoat(dfd, "fifo.xml", 0644) == 0, "a FIFO named like a report");
	is_int(junit_parse_at(dfd, "fifo.xml", FILE_ANY_OWNER, &r, NULL, NULL), -EINVAL,
	       "a FIFO is refused, without blocking");
	ok(symlinkat(DATA "junit-race-fail.xml", dfd, "link.xml") == 0, "a symlink to a report");
	is_int(junit_parse_at(AT_FDCWD, DATA "junit-race-fail.xml", FILE_ANY_OWNER, &r, NULL,
			      NULL), 0, "(the report itself parses)");
	test_report_release(&r);
	is_int(junit_parse_at(dfd, "link.xml", FILE_ANY_OWNER, &r, NULL, NULL), -ELOOP,
	       "a symlink is not followed");
	fd = openat(dfd, "sparse.xml", O_WRONLY | O_CREAT, 0644);
	ok(fd >= 0 && ftruncate(fd, (off_t)JUNIT_MAX_BYTES + 1) == 0, "a sparse file over the cap");
	close(fd);
	is_int(junit_parse_at(dfd, "sparse.xml", FILE_ANY_OWNER, &r, NULL, NULL), -EFBIG,
	       "is refused before it is read");
	is_int(junit_parse_at(AT_FDCWD, DATA "junit-race-fail.xml", geteuid() + 1, &r, NULL, NULL),
	       -EPERM, "a report that is not the test user's is refused");
	unlinkat(dfd, "fifo.xml", 0);
	unlinkat(dfd, "link.xml", 0);
	unlinkat(dfd, "sparse.xml", 0);
	close(dfd);
	rmdir(dir);
}

static void test_summary(void)
{
	static const struct {
		const char *text;
		bool found;
		int p, f, e, s;
	} t[] = {
		{ "x\n========== 1 failed, 3 passed in 0.06s ==========\n", true, 3, 1, 0, 0 },
		{ "== 2 passed, 1 skipped, 1 xfailed, 2 warnings in 1.20s ==\n", true, 2, 0, 0, 2 },
		{ "=== 1 error in 0.01s ===\n", true, 0, 0, 1, 0 },
		{ "=== 3 errors, 1 xpassed in 0.01s ===\n", true, 1, 0, 3, 0 },
		{ "== 1 passed in 0.1s ==\nlater\n== 2 failed in 0.2s ==\n", true, 0, 2, 0, 0 },
		{ "Ran 3 tests in 0.001s\n\nOK\n", false, 0, 0, 0, 0 },
		{ "", false, 0, 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct test_report r = { 0 };
		bool found = pytest_summary_parse(t[i].text, &r);
		is_int(found, t[i].found, "summary row %zu found", i);
		if (!found)
			continue;
		is_int(r.passed, t[i].p, "summary row %zu passed", i);
		is_int(r.failed, t[i].f, "summary row %zu failed", i);
		is_int(r.errored, t[i].e, "summary row %zu errors", i);
		is_int(r.skipped, t[i].s, "summary row %zu skipped", i);
	}
}

static void test_evidence(void)
{
	struct stderr_evidence ev;
	char *text = NULL, *sig;
	static const char tsan[] =
		"==================\nWARNING: ThreadSanitizer: data race (pid=123)\n  Write of size 8\n"
		"SUMMARY: ThreadSanitizer: data race x.c:1:2 in f\n==================\n"
		"WARNING: ThreadSanitizer: data race (pid=123)\n"
		"WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock) (pid=124)\n";
	static const char gil[] =
		"<frozen importlib._bootstrap>:488: RuntimeWarning: The global interpreter lock "
		"(GIL) has been enabled to load module 'ftfix_nogil._core', which has not declared "
		"that it can run safely without the GIL. To override this behavior and keep the GIL "
		"disabled (at your own risk), run with PYTHON_GIL=0 or -Xgil=0.\n";
	ok(read_file(DATA "stderr-segv.txt", &text, NULL) == 0, "read recorded segv stderr");
	stderr_evidence_scan(text, &ev);
	is_str(ev.py_frame, "test_poke.py:work", "innermost frame of the crashing thread");
	sig = crash_signature_basic(11, ev.py_frame);
	is_str(sig, "SIGSEGV: test_poke.py:work", "stage-1 signature");
	free(sig);
	stderr_evidence_release(&ev);
	free(text);

	stderr_evidence_scan(tsan, &ev);
	is_int(ev.tsan_kinds.n, 2, "two distinct TSAN kinds");
	is_str(ev.tsan_kinds.v[0], "data race", "TSAN kind without the pid");
	is_str(ev.tsan_kinds.v[1], "lock-order-inversion (potential deadlock)", "second kind");
	ok(ev.py_frame == NULL, "no faulthandler dump");
	stderr_evidence_release(&ev);

	stderr_evidence_scan(gil, &ev);
	is_int(ev.gil_modules.n, 1, "one GIL-fallback module");
	is_str(ev.gil_modules.v[0], "ftfix_nogil._core", "module named by the warning");
	stderr_evidence_release(&ev);
	sig = crash_signature_basic(6, NULL);
	is_str(sig, "SIGABRT", "signature without a Python frame");
	free(sig);
}

static cJSON *iter(int index, const char *status, const char *sig, const char *test_outcome)
{
	cJSON *it = cJSON_CreateObject(), *tr = cJSON_CreateObject();
	cJSON_AddNumberToObject(it, "index", index);
	cJSON_AddStringToObject(it, "status", status);
	cJSON_AddNumberToObject(it, "duration_s", 1.0 + index);
	json_set_str(it, "crash_signature", sig);
	cJSON_AddItemToObject(it, "tsan_warnings", cJSON_CreateArray());
	cJSON_AddStringToObject(tr, "t::race", test_outcome);
	cJSON_AddStringToObject(tr, "t::ok", "PASSED");
	cJSON_AddItemToObject(it, "test_results", tr);
	if (!strcmp(status, "deadlock")) {
		cJSON *h = cJSON_CreateObject();
		cJSON_AddStringToObject(h, "reason", "lock_wait");
		cJSON_AddItemToObject(it, "hang", h);
	}
	return it;
}

static void test_aggregate_roundtrip(void)
{
	cJSON *pkg = cJSON_CreateObject(), *its = cJSON_CreateArray(), *gits = cJSON_CreateArray();
	char dir[] = "/tmp/ftscope-test-XXXXXX", *line, *path;
	struct run_data rd = { 0 };
	cJSON *back, *flaky;
	cJSON_AddStringToObject(pkg, "package", "demo");
	cJSON_AddTrueToObject(pkg, "install_ok");
	cJSON_AddTrueToObject(pkg, "import_ok");
	cJSON_AddItemToArray(its, iter(1, "pass", NULL, "PASSED"));
	cJSON_AddItemToArray(its, iter(2, "fail", NULL, "FAILED"));
	cJSON_AddItemToArray(its, iter(3, "crash", "SIGSEGV: x.py:f", "FAILED"));
	cJSON_AddItemToArray(its, iter(4, "pass", NULL, "PASSED"));
	cJSON_AddItemToObject(pkg, "iterations", its);
	for (int i = 1; i <= 4; i++)
		cJSON_AddItemToArray(gits, iter(i, "pass", NULL, "PASSED"));
	cJSON_AddItemToObject(pkg, "gil_enabled_iterations", gits);
	pkg_aggregate(pkg);
	is_str(json_str(pkg, "category"), "crash", "one crash makes the package crash");
	is_int(json_num(pkg, "iterations_completed", -1), 4, "iterations_completed");
	is_int(json_num(pkg, "pass_count", -1), 2, "pass_count");
	is_int(json_num(pkg, "fail_count", -1), 1, "fail_count");
	is_int(json_num(pkg, "crash_count", -1), 1, "crash_count");
	ok(json_num(pkg, "pass_rate", -1) == 0.5, "pass_rate 0.5");
	ok(json_num(pkg, "mean_duration_s", -1) == 3.5, "mean duration over the 4 iterations");
	is_str(cJSON_GetArrayItem(cJSON_GetObjectItem(pkg, "failure_signatures"), 0)->valuestring,
	       "SIGSEGV: x.py:f", "failure signature listed");
	flaky = cJSON_GetObjectItem(pkg, "flaky_tests");
	is_int(cJSON_GetArraySize(flaky), 1, "one flaky test (t::ok always passed)");
	is_int(json_num(flaky, "t::race", -1), 2, "t::race failed twice");
	is_str(json_str(pkg, "gil_comparison"), "ft_only", "GIL run all passed");
	ok(json_num(pkg, "gil_enabled_pass_rate", -1) == 1.0, "gil pass rate 1");

	/* A later deadlock outranks the crash. */
	cJSON_AddItemToArray(its, iter(5, "deadlock", NULL, "PASSED"));
	pkg_aggregate(pkg);
	is_str(json_str(pkg, "category"), "deadlock", "deadlock outranks crash");
	is_int(json_num(pkg, "timeout_count", -1), 1, "labeille counts deadlocks as timeouts too");
	is_int(json_num(cJSON_GetObjectItem(pkg, "hang_count"), "deadlock", -1), 1, "hang_count");

	/* Write as a run would, read back with the report reader. */
	ok(mkdtemp(dir) != NULL, "temp run dir");
	path = xasprintf("%s/ft_results.jsonl", dir);
	line = cJSON_PrintUnformatted(pkg);
	is_int(append_line_fsync(path, line), 0, "append package line");
	free(line);
	is_int(run_load(dir, &rd), 0, "run_load reads it back");
	is_int(rd.n, 1, "one package");
	back = run_find_pkg(&rd, "demo");
	ok(back && cJSON_Compare(back, pkg, true), "round trip is lossless");
	run_data_release(&rd);
	unlink(path);
	free(path);
	path = xasprintf("%s/ft_meta.json", dir);
	unlink(path);
	free(path);
	rmdir(dir);
	cJSON_Delete(pkg);
}

/* Stress iterations (run --parallel-threads): kept apart, but they decide the category too. */
static void test_stress(void)
{
	cJSON *pkg = cJSON_CreateObject(), *its = cJSON_CreateArray(), *st, *sit, *s;
	struct test_report tr = { 0 };
	cJSON_AddStringToObject(pkg, "package", "cache");
	cJSON_AddTrueToObject(pkg, "install_ok");
	cJSON_AddItemToArray(its, iter(1, "pass", NULL, "PASSED"));
	cJSON_AddItemToArray(its, iter(2, "pass", NULL, "PASSED"));
	cJSON_AddItemToObject(pkg, "iterations", its);
	pkg_aggregate(pkg);
	is_str(json_str(pkg, "category"), "compatible", "plain: compatible");
	ok(!json_bool(pkg, "concurrency_exercised", true), "plain: no concurrency exercised");
	st = stress_block(4, 1, "0.10.0", NULL);
	sit = iter(1, "fail", NULL, "ERROR");
	stress_parse_output("tests/t.py::race PARALLEL FAILED     [ 33%]\n"
			    "tests/t.py::safe PASSED [thread-unsafe]: uses the thread_unsafe marker "
			    "[ 66%]\n"
			    "PARALLEL FAILED tests/t.py::race - assert None == 4\n", sit);
	cJSON_AddItemToArray(cJSON_GetObjectItem(st, "iterations"), sit);
	cJSON_AddItemToObject(pkg, "stress", st);
	pkg_aggregate(pkg);
	is_str(json_str(pkg, "category"), "intermittent", "plain pass + stress fail: intermittent");
	is_int(json_num(pkg, "pass_count", -1), 2, "the package's counts stay the plain ones");
	ok(json_bool(pkg, "stress_only", false), "stress_only");
	s = cJSON_GetObjectItem(pkg, "stress_failing_tests");
	ok(cJSON_GetArraySize(s) == 2 && !strcmp(cJSON_GetArrayItem(s, 0)->valuestring, "t::race") &&
	   !strcmp(cJSON_GetArrayItem(s, 1)->valuestring, "tests/t.py::race"),
	   "stress_failing_tests: the junit id and the PARALLEL FAILED id");
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(sit, "parallel_failed")), 1,
	       "one PARALLEL FAILED test (the short summary line is not a second)");
	is_str(json_str(cJSON_GetObjectItem(st, "thread_unsafe_tests"), "tests/t.py::safe"),
	       "uses the thread_unsafe marker", "thread-unsafe test and the plugin's reason");
	is_int(json_num(st, "fail_count", -1), 1, "stress fail_count");
	ok(json_bool(pkg, "concurrency_exercised", false), "concurrency exercised, by stress");
	is_str(concurrency_how(pkg), "stress", "concurrency_how: stress");
	ok(stress_skip_reason("python -m pytest tests") == NULL, "python -m pytest: stress");
	ok(stress_skip_reason("cd x && py.test -q") == NULL, "py.test: stress");
	ok(stress_skip_reason("python -m unittest -v") != NULL, "unittest: no stress");
	ok(stress_skip_reason("python -m pytest_foo") != NULL, "pytest_foo is not pytest");
	cJSON_Delete(pkg);

	/* A pytest "pass" without a session summary or report is no pass. */
	sit = iter(1, "pass", NULL, "PASSED");
	iteration_require_session(sit, &tr);
	is_str(json_str(sit, "status"), "fail", "no junit, no summary: fail");
	ok(json_bool(sit, "session_unfinished", false), "session_unfinished");
	cJSON_Delete(sit);
	sit = iter(1, "pass", NULL, "PASSED");
	tr.have_counts = true;
	iteration_require_session(sit, &tr);
	is_str(json_str(sit, "status"), "pass", "with a summary: still a pass");
	cJSON_Delete(sit);
}

static cJSON *failed_pkg(const char *name, const char *cat, const char *err, bool interrupted)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "package", name);
	cJSON_AddStringToObject(p, "category", cat);
	cJSON_AddStringToObject(p, !strcmp(cat, "import_failure") ? "import_error"
								  : "install_error", err);
	cJSON_AddBoolToObject(p, "interrupted", interrupted);
	return p;
}

/* "Every package failed the same way": the same error but for the package's own name. */
static void test_uniform_failure(void)
{
#define PIP_ERR(dir) "Processing /w/repos/" dir "\n  error: subprocess-exited-with-error\n" \
	"ERROR: Could not find a version that satisfies the requirement setuptools>=40.8.0 " \
	"(from versions: none)\nERROR: No matching distribution found for setuptools>=40.8.0\n" \
	"note: This error originates from a subprocess"
	const char *e1 = PIP_ERR("ftfix-ok"), *e2 = PIP_ERR("ftfix_race");
	char *u;
	cJSON *p[4];

	p[0] = failed_pkg("ftfix-ok", "install_failure", e1, false);
	p[1] = failed_pkg("ftfix-race", "install_failure", e2, false);
	p[2] = failed_pkg("ftfix-slow", "install_failure", "something else entirely", true);
	p[3] = failed_pkg("ftfix-nogil", "install_failure", "ERROR: a different cause", false);
	u = pkgs_uniform_failure(p, 3);
	is_str(u, "Every package (2) failed the same way, install_failure: ERROR: No matching "
		  "distribution found for setuptools>=40.8.0",
	       "two install failures alike but for the name (an interrupted one not counted)");
	free(u);
	u = pkgs_uniform_failure(p, 4);
	ok(u == NULL, "a different error: not uniform");
	free(u);
	u = pkgs_uniform_failure(p, 1);
	ok(u == NULL, "one package is not a pattern");
	free(u);
	cJSON_Delete(p[3]);
	p[3] = failed_pkg("ftfix-ok2", "compatible", "", false);
	u = pkgs_uniform_failure(p, 4);
	ok(u == NULL, "a package that passed: not uniform");
	free(u);
	for (int i = 0; i < 4; i++)
		cJSON_Delete(p[i]);
}

int main(void)
{
	test_uniform_failure();
	test_junit();
	test_junit_hostile();
	test_summary();
	test_evidence();
	test_aggregate_roundtrip();
	test_stress();
	return tap_done();
}
