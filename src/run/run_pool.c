/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* The worker pool of a run, its signals and its progress line (run.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/cpus.h"
#include "ftscope/diskspace.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/results.h"
#include "ftscope/run.h"
#include "ftscope/runmeta.h"
#include "ftscope/runstore.h"
#include "ftscope/sandbox.h"
#include "ftscope/text.h"
#include "ftscope/workspace.h"

/* Workers to pass a signal on to: a Ctrl-C reaches the whole process group, but a
 * `kill PID` or a service manager's SIGTERM reaches only this process. */
#define MAX_WORKERS 64
static volatile pid_t worker_pids[MAX_WORKERS];

_Noreturn void run_stop_before_start(const char *when)
{
	fprintf(stderr, "ftscope: interrupted %s, before the run started: nothing was "
			"recorded\n", when);
	exit(FT_EXIT_INTERRUPTED);
}

static void on_signal(int sig)
{
	run_interrupted = 1;
	for (int i = 0; i < MAX_WORKERS; i++)
		if (worker_pids[i] > 0)
			kill(worker_pids[i], sig);
}

void run_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	/* Ctrl-C or SIGTERM from here on stops whatever runs (workspace.h) within ~0.1 s. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	workspace_set_interrupt(&run_interrupted);
}

int run_write_meta(struct run_ctx *rc)
{
	return runstore_write_meta(rc->run_dir, rc->meta);
}

/* ---- workers: one forked process per package, so --jobs and Ctrl-C work the same way ---- */

struct worker {
	pid_t pid;
	size_t idx;
};

/*
 * artifacts/<pkg>/ as root's own directory, before its worker starts: one that is not (a
 * run of an older ftscope gave it to test code) is replaced, so nothing in it is believed;
 * a stale package.json goes, so only the new worker's can be read.
 */
static int prepare_pkg_artifacts(struct run_ctx *rc, const struct pkg_entry *e)
{
	char *art = path_join(rc->run_dir, "artifacts"), *d = run_pkg_dirname(e->name);
	bool replaced = false;
	int afd = open_dir_at(AT_FDCWD, art, geteuid()), pfd = -1;
	if (afd >= 0)
		pfd = ensure_own_dir_at(afd, d, 0755, &replaced);
	if (replaced)
		warning("%s: '%s/%s' was not root's alone; its records are not used", e->name, art,
			d);
	if (pfd >= 0) {
		unlinkat(pfd, "package.json", 0);
		close(pfd);
	}
	if (afd >= 0)
		close(afd);
	free(art);
	free(d);
	return pfd < 0 ? -1 : 0;
}

static char *pkg_result_path(struct run_ctx *rc, const char *name)
{
	char *d = run_pkg_dirname(name), *p = xasprintf("%s/artifacts/%s/package.json", rc->run_dir, d);
	free(d);
	return p;
}

/* tu: the package's test uid (USER_DYNAMIC): its guardian sweeps it when we end, however
 * we end (sandbox.h). */
static _Noreturn void worker_main(struct run_ctx *rc, const struct pkg_entry *e,
				  struct test_uid *tu)
{
	cJSON *pkg;
	char *text, *path;
	int r;
	supervise_init();
	if (rc->user_mode == USER_DYNAMIC) {
		struct run_as ra;
		test_uid_run_as(tu, &ra);
		supervise_set_user(&ra);
		close(tu->lock_fd); /* the guardian holds it, and the claim */
		if (tu->claim_fd >= 0)
			close(tu->claim_fd);
		tu->lock_fd = tu->claim_fd = -1;
	}
	pkg = run_process_package(rc, e, NULL);
	text = json_print(pkg, false);
	path = pkg_result_path(rc, e->name);
	r = write_file_atomic(path, text, strlen(text));
	test_uid_release(tu);
	fflush(stderr);
	_exit(r < 0 ? 3 : run_interrupted ? 4 : 0);
}

/* --jobs N: the worker (and so its package's processes) on CPUs of its own, when there are
 * two or more for each (cpus.h). */
static void pin_worker(struct run_ctx *rc, const struct pkg_entry *e, size_t slot)
{
	struct sbuf d = SBUF_INIT;
	int r;
	if (rc->o->jobs < 2)
		return;
	r = cpus_pin_worker((long)slot, rc->o->jobs, &d);
	if (r > 0)
		debug("%s: worker %zu on CPUs %s", e->name, slot + 1, d.buf);
	else if (r < 0)
		warning("%s: cannot pin its worker to CPUs of its own: %s", e->name, strerror(-r));
	sbuf_release(&d);
}

/* Collect a finished worker: append its package line. */
static void collect_worker(struct run_ctx *rc, const struct pkg_entry *e, int status)
{
	char *path = pkg_result_path(rc, e->name), *text = NULL;
	size_t len = 0;
	cJSON *pkg = NULL;
	/* root's, written by the worker that just ended (prepare_pkg_artifacts removed any
	 * other) */
	if (read_file_at(AT_FDCWD, path, 1u << 30, geteuid(), &text, &len) == 0)
		pkg = json_parse(text, len);
	if (!cJSON_IsObject(pkg)) {
		/* The worker died without a result: say so in the results, keep the run going. */
		cJSON_Delete(pkg);
		pkg = cJSON_CreateObject();
		cJSON_AddStringToObject(pkg, "package", e->name);
		cJSON_AddFalseToObject(pkg, "install_ok");
		json_set_str(pkg, "install_error",
			     WIFSIGNALED(status) ? "ftscope worker died by a signal"
						 : "ftscope worker exited without a result");
		cJSON_AddItemToObject(pkg, "iterations", cJSON_CreateArray());
		cJSON_AddBoolToObject(pkg, "interrupted", run_interrupted != 0);
		pkg_aggregate(pkg);
		warning("%s: worker ended abnormally (status 0x%x)", e->name, status);
	}
	runstore_append_pkg(rc->run_dir, pkg);
	runmeta_add_pkg(rc->meta, pkg);
	run_write_meta(rc);
	{
		/* the line as the view reads the package (runstore.h) */
		struct rs_pkg view;
		char *name = term_str(e->name);
		rs_pkg_from_json(&view, pkg, rc->run_dir);
		printf("%-24s %-24s %ld/%ld passed%s\n", name,
		       view.category_text ? view.category_text : "?", view.passes, view.iters,
		       view.interrupted ? " (interrupted)" : "");
		rs_pkg_release(&view);
		free(name);
	}
	fflush(stdout);
	free(text);
	free(path);
	cJSON_Delete(pkg);
}

void run_packages(struct run_ctx *rc, struct pkg_entry **pkgs, size_t n)
{
	struct worker *w = xcalloc((size_t)rc->o->jobs, sizeof(*w));
	pid_t *guards = NULL; /* the test uids' guardians, our children */
	size_t nguards = 0;
	size_t next = 0, running = 0;
	pid_t main_pid = getpid();
	if (rc->o->jobs > 1)
		rc->tty = false; /* several workers cannot share one progress line */
	while (next < n || running) {
		int st;
		pid_t pid;
		while (!run_stop_requested() && next < n && running < (size_t)rc->o->jobs) {
			struct test_uid tu = TEST_UID_INIT;
			size_t slot = 0;
			while (w[slot].pid)
				slot++;
			rc->pkg_index = next + 1;
			fflush(stdout);
			fflush(stderr);
			if (prepare_pkg_artifacts(rc, pkgs[next]) < 0) {
				error_errno("cannot prepare the artifacts of %s", pkgs[next]->name);
				run_interrupted = 1;
				break;
			}
			if (rc->user_mode == USER_DYNAMIC) {
				/* The package's own test uid, and its guardian as our child. */
				struct sbuf err = SBUF_INIT;
				int ok = test_uid_acquire(&tu, true, &err);
				if (ok < 0)
					error("%s", err.buf);
				sbuf_release(&err);
				if (ok < 0) {
					run_interrupted = 1;
					break;
				}
			}
			pid = fork();
			if (pid < 0) {
				error_errno("fork");
				test_uid_release(&tu);
				run_interrupted = 1;
				break;
			}
			if (pid == 0) {
				/* A worker dies with ftscope, even of SIGKILL (its guardian then
				 * sweeps its test uid); one whose parent is already gone stops. */
				prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
				if (getppid() != main_pid)
					_exit(6);
				for (int k = 0; k < MAX_WORKERS; k++)
					worker_pids[k] = 0;
				pin_worker(rc, pkgs[next], slot);
				worker_main(rc, pkgs[next], &tu);
			}
			if (tu.guard_pid > 0) {
				guards = xrealloc(guards, (nguards + 1) * sizeof(*guards));
				guards[nguards++] = tu.guard_pid;
			}
			test_uid_hand_over(&tu);
			w[slot].pid = pid;
			worker_pids[slot] = pid;
			w[slot].idx = next++;
			running++;
		}
		if (!running)
			break;
		pid = waitpid(-1, &st, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (long k = 0; k < rc->o->jobs; k++) {
			if (w[k].pid != pid)
				continue;
			worker_pids[k] = 0;
			collect_worker(rc, pkgs[w[k].idx], st);
			w[k].pid = 0;
			running--;
		}
	}
	/* A guardian sweeps its test uid (kills what is left of it, removes the lines it was
	 * named by in a chroot's /etc/passwd) once its worker is gone: wait for them all, so
	 * that when ftscope returns nothing of a test uid is left, not a moment later (a
	 * waitpid(-1) above may have reaped some already: ECHILD). */
	for (size_t i = 0; i < nguards; i++)
		while (waitpid(guards[i], NULL, 0) < 0 && errno == EINTR)
			;
	free(guards);
	free(w);
}
