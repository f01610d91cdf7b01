/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_SANDBOX_H
#define FTSCOPE_SANDBOX_H

/*
 * The privilege boundary between the root supervisor and the test code (docs/security.md):
 *
 *  - test uids: each worker runs its package's code as a uid of its own, taken from a
 *    range that needs no /etc/passwd entry (65100-65355; FTSCOPE_TEST_UIDS=FIRST-LAST),
 *    held with a lock under /run/ftscope for as long as anything of it may run, and swept
 *    (every process of the uid killed) when the worker ends, also when it is SIGKILLed:
 *    a root guardian process (the supervisor's child, not the worker's) waits on a pipe
 *    only the worker holds;
 *  - the workspace: a root-owned directory per package in which root makes the few
 *    directories the test writes (a staged copy of the sources, the venv, HOME, TMPDIR
 *    and one output directory per iteration) and gives them to the test uid while
 *    nothing of that uid runs. Root never writes below them again, and reads from them
 *    only with read_file_at().
 */
#include <stdbool.h>
#include <sys/types.h>

#include "ftscope/supervise.h"
#include "ftscope/util.h"

#define TEST_UID_FIRST 65100
#define TEST_UID_COUNT 256

struct test_uid {
	uid_t uid;
	gid_t gid;      /* == uid */
	int lock_fd;    /* the flock on /run/ftscope/uid-N.lock, -1 if none */
	int claim_fd;   /* the abstract socket "ftscope-uid-N": the claim seen across chroots */
	int guard_fd;   /* write end of the guardian's pipe, -1 if none */
	pid_t guard_pid;
};
#define TEST_UID_INIT { 0, 0, -1, -1, -1, 0 }

/* The range in force: [*first, *last]. */
void test_uids_range(uid_t *first, uid_t *last);

/*
 * Take a free test uid: not locked by another ftscope, no passwd or group entry (nss, so
 * systemd's dynamic users count), no live process. With guard, start its guardian, a child
 * of the caller: the caller then forks the one process that keeps t->guard_fd (the worker)
 * and calls test_uid_hand_over. A guardian must never be a child of a process that
 * supervises a tree (supervise.h counts a supervisor's children as the tree's orphans).
 * 0, or -1 with a sentence in err.
 */
int test_uid_acquire(struct test_uid *t, bool guard, struct sbuf *err);
/* In the process that forked the worker: drop our copies; the guardian and the worker keep
 * the uid. */
void test_uid_hand_over(struct test_uid *t);
/* Give it back: every process of the uid is killed (by the guardian, if there is one), then
 * the lock goes. */
void test_uid_release(struct test_uid *t);
/* The identity child processes take for it (supervise_become, supervise_set_user). */
void test_uid_run_as(const struct test_uid *t, struct run_as *ra);

/*
 * A package's workspace, <root>/<name>/ (root-owned, 0711):
 *   src/   the staged sources            test uid
 *   venv/  the package's venv            test uid
 *   home/  HOME, tmp/ TMPDIR             test uid, 0700
 *   out/   root-owned, 0711; out/<rel>/  one per iteration (junit.xml, tsan.*), test uid
 * `owner` NULL: no switch (ftscope is not root, or --user root): everything is ours.
 */
struct workspace {
	char *dir, *src, *venv, *home, *tmp, *out;
	uid_t uid;
	gid_t gid;
	bool chown;
};

int workspace_create(struct workspace *ws, const char *root, const char *name,
		     const struct run_as *owner, struct sbuf *err);
/*
 * Copy `origin` (a checkout: its .git too, so version tools work) into src/ and give it
 * to the test uid. Symlinks are copied as symlinks, FIFOs, sockets and devices skipped,
 * as are directories holding a venv (pyvenv.cfg) and .tox/.nox at the top, src/'s own
 * ancestors (a work directory inside the checkout) and the directories in `exclude`
 * (NULL-terminated, may be NULL: the run's results and repos directories; its venvs
 * directory is among src/'s ancestors).
 * 0 or -1 + err.
 */
int workspace_stage(struct workspace *ws, const char *origin, const char *const *exclude,
		    struct sbuf *err);
/* A fresh out/<rel>/ for one iteration, the test uid's; its path (malloc'd) or NULL. */
char *workspace_iter_dir(struct workspace *ws, const char *rel, struct sbuf *err);
/* out/<rel>/ opened O_NOFOLLOW for reading what the test left there; fd or -errno. */
int workspace_iter_open(const struct workspace *ws, const char *rel);
/* Remove everything (safely: rm_rf) and free. */
void workspace_remove(struct workspace *ws);
void workspace_release(struct workspace *ws);

/*
 * Give a test uid a name where test code looks for one (pwd.getpwuid, `id -un`): the calling
 * worker moves into a mount namespace of its own (private: nothing propagates back to the
 * host), in which /etc/passwd and /etc/group are the host's plus the uid's line (home: the
 * workspace's), bind-mounted read-only; the host's files are untouched. Every process the
 * worker starts inherits it. In a chroot whose / is not a mount point (no private mount
 * can be had there) the chroot's own files get the lines instead, under lckpwdf(), until
 * the uid's sweep removes them. -errno where mount namespaces are not allowed (an
 * unprivileged container): the uid then has no name, which most code does not mind.
 */
int sandbox_name_user(const struct workspace *ws, const struct run_as *ra);

#endif
