/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The run store: what runstore_write_meta/runstore_append_pkg write, runstore_load reads
 * back as a typed view (status enum, the signature taken apart once, hangs with waits and
 * cycles, races, flaky tests, PEP 779 computed for old runs, skipped packages). Merging
 * shards is runstore_merge_dirs(), tested end to end in tests/e2e/t0260.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/json.h"
#include "ftscope/runstore.h"
#include "ftscope/util.h"
#include "tap.h"

static const char meta_a[] =
	"{\"run_id\":\"ft_a\",\"status\":\"complete\",\"packages_total\":2,"
	"\"python_profile\":{\"version\":\"3.13.5\",\"gil_disabled\":true},"
	"\"config\":{\"iterations\":2,\"compare_with_gil\":true,\"tracer\":\"ptrace\"},"
	"\"packages_skipped\":[{\"package\":\"gone\",\"reason\":\"no repo\"},\"bare\"]}";

static const char *const lines_a[] = {
	"{\"package\":\"dl\",\"category\":\"deadlock\",\"deadlock_count\":1,"
	"\"iterations_completed\":1,\"pass_count\":0,\"timeout_count\":1,"
	"\"iterations\":[{\"index\":1,\"status\":\"deadlock\",\"gil\":\"0\","
	"\"last_output_line\":\"t.py::x\",\"hang\":{\"reason\":\"lock_wait\","
	"\"detected_after_s\":2.5,\"waits\":[{\"tid\":11,\"lock\":\"threading.Lock\",\"owner\":12,"
	"\"python\":\"t.py:3 a\"},{\"tid\":12,\"lock\":\"threading.Lock\",\"owner\":11}],"
	"\"cycles\":[{\"tids\":[11,12],\"certain\":true}],\"threads\":[{\"pid\":10,\"tid\":11,"
	"\"comm\":\"python\",\"state\":\"S\",\"blocked\":true}]}}],"
	"\"gil_enabled_iterations\":[{\"index\":1,\"status\":\"weird\"}]}",
	"{\"package\":\"seg\",\"category\":\"crash\",\"crash_count\":1,\"iterations_completed\":2,"
	"\"pass_count\":1,\"flaky_tests\":{\"t.py::a\":1},"
	"\"tsan_races\":[{\"kind\":\"data race\",\"count\":3,\"iterations\":[1,\"gil-2\"]},"
	"{\"kind\":\"data race\",\"count\":1,\"iterations\":2}],"
	"\"iterations\":[{\"index\":1,\"status\":\"crash\",\"duration_s\":2,"
	"\"crash_signature\":\"SIGSEGV | f | g | py t.py:w\",\"test_results\":"
	"{\"t.py::a\":\"FAILED\",\"t.py::b\":\"PASSED\"}},"
	"{\"index\":2,\"status\":\"pass\",\"duration_s\":2,\"max_rss_kb\":1200}],"
	"\"gil_enabled_iterations\":[{\"index\":1,\"status\":\"pass\",\"duration_s\":1,"
	"\"max_rss_kb\":1000}]}",
};

static const char meta_b[] =
	"{\"run_id\":\"ft_b\",\"status\":\"interrupted\",\"packages_total\":2}";

static const char *const lines_b[] = {
	"{\"package\":\"ok\",\"category\":\"compatible\",\"iterations_completed\":1,"
	"\"pass_count\":1,\"pass_rate\":1,\"iterations\":[{\"index\":1,\"status\":\"pass\"}],"
	"\"pep779_baseline\":{\"time_ratio\":1.1,\"ft_median_s\":2.2,\"gil_median_s\":2,"
	"\"time_ok\":true,\"rss_ok\":null}}",
	"{\"package\":\"seg\",\"category\":\"compatible\",\"iterations_completed\":1,"
	"\"pass_count\":1,\"pass_rate\":1,\"iterations\":[{\"index\":1,\"status\":\"pass\"}]}",
};

/* A run directory written through the store. */
static char *make_run(const char *meta, const char *const *lines, size_t n)
{
	char tmpl[] = "/tmp/ftscope-test-runstore.XXXXXX";
	cJSON *m;
	if (!mkdtemp(tmpl))
		return NULL;
	m = cJSON_Parse(meta);
	ok(runstore_write_meta(tmpl, m) == 0, "meta written");
	cJSON_Delete(m);
	for (size_t i = 0; i < n; i++) {
		cJSON *p = cJSON_Parse(lines[i]);
		ok(runstore_append_pkg(tmpl, p) == 0, "package %zu appended", i);
		cJSON_Delete(p);
	}
	return xstrdup(tmpl);
}

static void remove_run(char *dir)
{
	char *p = path_join(dir, "ft_meta.json"), *q = path_join(dir, "ft_results.jsonl");
	unlink(p);
	unlink(q);
	rmdir(dir);
	free(p);
	free(q);
	free(dir);
}

static void test_view(const char *dir)
{
	struct run_view v;
	const struct rs_pkg *dl, *seg;
	const struct rs_iter *it;

	if (!ok(runstore_load(dir, &v) == 0, "run A loads"))
		return;
	is_str(v.meta.run_id, "ft_a", "run id");
	is_int(v.meta.status, RS_COMPLETE, "status complete");
	ok(v.meta.compare_with_gil && v.meta.config.iterations == 2, "config");
	is_str(v.meta.python.version, "3.13.5", "python version");
	is_int(v.meta.nskipped, 2, "two skipped packages");
	is_str(v.meta.skipped[1].name, "bare", "a bare skipped name is taken");
	is_int(v.n, 2, "two packages");

	dl = run_view_pkg(&v, "dl");
	if (ok(dl != NULL, "package dl")) {
		it = &dl->it[0];
		is_int(it->status, ITER_DEADLOCK, "status is an enum");
		is_str(it->last_output_line, "t.py::x", "last output line");
		ok(it->hang.present && it->hang.detected_after_s == 2.5, "the hang");
		is_int(it->hang.nwaits, 2, "two waits");
		is_int(it->hang.waits[0].owner, 12, "the first waits on 12");
		is_str(it->hang.waits[0].python, "t.py:3 a", "its python frame");
		is_int(it->hang.ncycles, 1, "one cycle");
		ok(it->hang.cycles[0].certain && it->hang.cycles[0].ntids == 2 &&
			   it->hang.cycles[0].tids[1] == 12,
		   "the cycle 11 -> 12, certain");
		is_int(it->hang.nthreads, 1, "the /proc monitor's thread");
		is_int(dl->ngit, 1, "a GIL iteration");
		is_int(dl->git[0].status, -1, "an unknown status is -1");
		is_str(dl->git[0].status_text, "weird", "and kept as written");
		ok(!dl->has_pep779, "no PEP 779 ratios without passes");
		ok(!dl->has_pep779_baseline, "no baseline ratios without --baseline-python");
		is_str(dl->run_dir, dir, "the package's run directory");
	}
	seg = run_view_pkg(&v, "seg");
	if (ok(seg != NULL, "package seg")) {
		it = &seg->it[0];
		is_str(it->sig.signal, "SIGSEGV", "signature: signal");
		is_int(it->sig.frames.n, 2, "signature: two frames");
		is_str(it->sig.py_frame, "t.py:w", "signature: python frame");
		is_int(it->ntests, 2, "two test results");
		ok(rs_test_failed(&it->tests[0]) && !rs_test_failed(&it->tests[1]),
		   "FAILED fails, PASSED does not");
		is_int(seg->nflaky, 1, "one flaky test");
		is_int(seg->flaky[0].fails, 1, "failed once");
		is_int(seg->nraces, 2, "two races");
		is_int(seg->races[0].iterations.n, 2, "a race's iterations as a list");
		is_str(seg->races[0].iterations.v[1], "gil-2", "with a string item");
		ok(seg->races[1].iterations_is_count && seg->races[1].iterations_count == 2,
		   "or as a count");
		ok(seg->has_pep779, "PEP 779 computed for a run that did not store it");
		ok(seg->pep779.time_ratio == 2 && seg->pep779.rss_ratio == 1.2,
		   "time ratio 2, rss ratio 1.2");
		is_int(seg->pep779.time_ok, 0, "time over the limit");
		ok(seg->pass_rate == 0.5, "pass rate from the counts");
	}
	run_view_release(&v);
}

/* Run B alone: a package's pep779_baseline as the view gives it. */
static void test_view_baseline(const char *b)
{
	struct run_view v;
	const struct rs_pkg *ok_pkg;

	if (!ok(runstore_load(b, &v) == 0, "run B loads"))
		return;
	ok_pkg = run_view_pkg(&v, "ok");
	ok(ok_pkg && ok_pkg->has_pep779_baseline && ok_pkg->pep779_baseline.time_ratio == 1.1 &&
		   ok_pkg->pep779_baseline.ft_median_s == 2.2 &&
		   ok_pkg->pep779_baseline.time_ok == 1 && ok_pkg->pep779_baseline.rss_ok == -1,
	   "pep779_baseline in the view: ratio, medians, verdicts (null: n/a)");
	run_view_release(&v);
}

int main(void)
{
	char *a = make_run(meta_a, lines_a, ARRAY_SIZE(lines_a));
	char *b = make_run(meta_b, lines_b, ARRAY_SIZE(lines_b));
	if (a && b) {
		test_view(a);
		test_view_baseline(b);
	}
	remove_run(a);
	remove_run(b);
	return tap_done();
}
