/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * crashlog.c on a recorded run (tests/unit/data/run-crashes: `ftscope run --iterations 2`
 * of ftfix-segv, ftfix-childcrash and ftfix-abort under the ebpf tracer): the runner's
 * crashes and the children's the suite survived, their signatures split, the order across
 * runs, one package only, and the run's label.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/crashlog.h"
#include "ftscope/runstore.h"
#include "ftscope/util.h"
#include "tap.h"

#define RUN "tests/unit/data/run-crashes"

static size_t count(const struct crashlog *cl, const char *pkg, bool child)
{
	size_t n = 0;
	for (size_t i = 0; i < cl->n; i++)
		n += !strcmp(cl->v[i].package, pkg) && cl->v[i].child == child;
	return n;
}

static const struct crash_occ *first(const struct crashlog *cl, const char *pkg)
{
	for (size_t i = 0; i < cl->n; i++)
		if (!strcmp(cl->v[i].package, pkg))
			return &cl->v[i];
	return NULL;
}

static void test_one_run(const struct run_view *rd)
{
	struct crashlog cl = CRASHLOG_INIT;
	const struct crash_occ *o;
	crashlog_add_run(&cl, rd, 0, NULL);
	is_int(cl.n, 6, "six crashes: 2 segv, 2 abort (runner), 2 childcrash (children)");
	is_int(count(&cl, "ftfix-segv", false), 2, "ftfix-segv: the runner crashed twice");
	is_int(count(&cl, "ftfix-abort", false), 2, "ftfix-abort: the runner crashed twice");
	is_int(count(&cl, "ftfix-childcrash", true), 2,
	       "ftfix-childcrash: a child crashed in each passing iteration");
	is_int(count(&cl, "ftfix-childcrash", false), 0, "ftfix-childcrash: the runner did not");

	o = first(&cl, "ftfix-segv");
	if (ok(o != NULL, "segv: found")) {
		is_str(o->parts.signal, "SIGSEGV", "segv: signal");
		ok(o->parts.frames.n >= 1 && !strcmp(o->parts.frames.v[0], "ftfix_segv_poke_impl"),
		   "segv: the innermost frame is the faulting C function");
		ok(o->parts.py_frame && strstr(o->parts.py_frame, "test_poke.py:"),
		   "segv: the Python frame is kept apart");
		is_str(o->id, "e5004de382634497", "segv: the recorded signature id");
		is_int(o->iteration, 1, "segv: iteration 1 first");
		is_str(o->comm, "python", "segv: the runner's comm");
		ok(o->pid > 0, "segv: the runner's pid");
		is_str(o->run_label, "ft_20261205_090309", "the run's id as its label");
		is_int(o->gil, false, "a free-threaded iteration");
	}
	o = first(&cl, "ftfix-childcrash");
	if (ok(o != NULL, "childcrash: found")) {
		is_int(o->child, true, "childcrash: a child");
		is_str(o->parts.signal, "SIGSEGV", "childcrash: signal");
		ok(o->parts.frames.n >= 2 && !strcmp(o->parts.frames.v[0], "strlen"),
		   "childcrash: strlen innermost");
		is_str(o->id, "c75daec7fd60d373", "childcrash: the recorded id");
	}
	o = first(&cl, "ftfix-abort");
	if (ok(o != NULL, "abort: found"))
		is_str(o->parts.signal, "SIGABRT", "abort: signal");
	crashlog_release(&cl);

	crashlog_add_run(&cl, rd, 0, "ftfix-abort");
	is_int(cl.n, 2, "only ftfix-abort: its two");
	crashlog_release(&cl);
	crashlog_add_run(&cl, rd, 0, "nope");
	is_int(cl.n, 0, "an unknown package: none");
	crashlog_release(&cl);
}

static void test_sort(const struct run_view *rd)
{
	struct crashlog cl = CRASHLOG_INIT;
	bool ordered = true;
	/* the same run as the later run 1 first, then as run 0 */
	crashlog_add_run(&cl, rd, 1, NULL);
	crashlog_add_run(&cl, rd, 0, NULL);
	crashlog_sort(&cl);
	is_int(cl.n, 12, "two runs: twelve crashes");
	for (size_t i = 1; i < cl.n; i++) {
		const struct crash_occ *a = &cl.v[i - 1], *b = &cl.v[i];
		if (a->run > b->run ||
		    (a->run == b->run && strcmp(a->started_at, b->started_at) > 0) ||
		    (a->run == b->run && !strcmp(a->package, b->package) &&
		     a->iteration > b->iteration))
			ordered = false;
	}
	ok(ordered, "sorted by run, package start, iteration");
	is_int(cl.v[0].run, 0, "run 0 first");
	is_str(cl.v[0].package, "ftfix-segv", "the first package started first");
	is_int(cl.v[6].run, 1, "then run 1");
	crashlog_release(&cl);
}

static void test_labels_and_labeille(void)
{
	char dir[] = "/tmp/ftscope-test-crashlog-XXXXXX";
	char *p, *slash;
	struct run_view rd = { 0 };
	struct crashlog cl = CRASHLOG_INIT;
	if (!mkdtemp(dir))
		return;
	/* labeille's run: no run_id, its signature a sentence, no id */
	p = path_join(dir, "ft_meta.json");
	write_file_atomic(p, "{}", 2);
	free(p);
	p = path_join(dir, "ft_results.jsonl");
	{
		const char *line = "{\"package\":\"old\",\"iterations\":[{\"index\":3,\"status\":"
				   "\"crash\",\"crash_signal\":\"SIGSEGV\",\"crash_signature\":"
				   "\"SIGSEGV: Fatal Python error: Segmentation fault\"}]}\n";
		write_file_atomic(p, line, strlen(line));
	}
	free(p);
	slash = xasprintf("%s/", dir);
	if (ok(runstore_load(slash, &rd) == 0, "a labeille-style run loads")) {
		crashlog_add_run(&cl, &rd, 0, NULL);
		is_int(cl.n, 1, "its one crash");
		if (cl.n) {
			is_str(cl.v[0].run_label, strrchr(dir, '/') + 1,
			       "no run_id: the directory's name (trailing slash dropped)");
			is_str(cl.v[0].parts.signal, "SIGSEGV", "signal from labeille's text");
			is_int(cl.v[0].parts.frames.n, 0, "no frames in labeille's text");
			is_int(strlen(cl.v[0].id), 16, "an id made from the text");
			is_int(cl.v[0].iteration, 3, "its iteration");
		}
		crashlog_release(&cl);
		run_view_release(&rd);
	}
	free(slash);
	rm_rf(dir);
}

int main(void)
{
	struct run_view rd = { 0 };
	if (!ok(runstore_load(RUN, &rd) == 0, "the recorded run loads"))
		return tap_done();
	test_one_run(&rd);
	test_sort(&rd);
	run_view_release(&rd);
	test_labels_and_labeille();
	return tap_done();
}
