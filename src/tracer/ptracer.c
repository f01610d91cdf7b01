/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ftscope/procconn.h"
#include "ftscope/procfs.h"
#include "ftscope/ptracer.h"
#include "ftscope/util.h"
#include "ftscope/verdict.h"

#define SEIZE_OPTS                                                                          \
	(PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | \
	 PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL)

/* comm and parent of pid from /proc/PID/stat (procfs.h's parser). 0 or -errno. */
static int stat_of(pid_t pid, char *comm, size_t commlen, pid_t *ppid)
{
	char path[64], *text = NULL, state;
	int r;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	r = read_file(path, &text, NULL);
	if (r == 0)
		r = proc_stat_parse(text, comm, commlen, &state, ppid, NULL);
	free(text);
	return r;
}

static pid_t tgid_of(pid_t tid)
{
	char path[64], *text = NULL, *p;
	pid_t tgid = tid;
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	if (read_file(path, &text, NULL) == 0 && (p = strstr(text, "\nTgid:")))
		tgid = (pid_t)strtol(p + 6, NULL, 10);
	free(text);
	return tgid;
}

/* Is tid a thread of process tgid? tgkill with no signal checks exactly that (ESRCH when tid
 * is not in tgid's thread group), cheaper than a path lookup in /proc. */
static bool thread_of(pid_t tgid, pid_t tid)
{
	return syscall(SYS_tgkill, tgid, tid, 0) == 0 || errno == EPERM;
}

/* A task whose first stop came before its creator's event: a thread of a process we know
 * (a handful of live processes at most) or a new process. */
static pid_t first_stop_tgid(struct ptracer *pt, pid_t tid)
{
	for (size_t i = 0; i < pt->n; i++) {
		const struct ptask *p = &pt->tasks[i];
		if (p->tid == p->tgid && !p->exited && thread_of(p->tgid, tid))
			return p->tgid;
	}
	return tgid_of(tid);
}

static struct ptask *find(struct ptracer *pt, pid_t tid)
{
	for (size_t i = 0; i < pt->n; i++)
		if (pt->tasks[i].tid == tid && !pt->tasks[i].exited)
			return &pt->tasks[i];
	return NULL;
}

bool ptracer_owns(const struct ptracer *pt, pid_t tid)
{
	return find((struct ptracer *)pt, tid) != NULL;
}

static struct ptask *add(struct ptracer *pt, pid_t tid, pid_t tgid, int opts)
{
	struct ptask *t = find(pt, tid);
	if (t)
		return t;
	if (pt->n == pt->cap) {
		pt->cap = pt->cap ? pt->cap * 2 : 32;
		pt->tasks = xrealloc(pt->tasks, pt->cap * sizeof(*pt->tasks));
	}
	t = &pt->tasks[pt->n++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->tgid = tgid > 0 ? tgid : tgid_of(tid);
	t->opts = opts;
	if (t->tid == t->tgid)
		pt->processes++;
	{
		/* this process's live threads, now that one more exists */
		unsigned long live = 0;
		for (size_t i = 0; i < pt->n; i++)
			live += pt->tasks[i].tgid == t->tgid && !pt->tasks[i].exited;
		if (live > pt->peak_threads)
			pt->peak_threads = live;
	}
	return t;
}

/* An ended task leaves the table, which so stays as small as the live tree. */
static void drop(struct ptracer *pt, struct ptask *t)
{
	size_t i = (size_t)(t - pt->tasks);
	if (i < pt->n - 1)
		pt->tasks[i] = pt->tasks[pt->n - 1];
	pt->n--;
}

/*
 * Give a task the options its kind needs (it must be in a ptrace stop). A thread needs no
 * exit stop, only a process's identity is read there: one stop fewer per thread, which counts
 * in suites that start thousands. Auto-attached tasks inherit their creator's options (a
 * process forked by a thread would lack the exit stop), so each new task gets its own at its
 * first stop, and a task that execs (a thread's exec makes it the leader) again.
 */
static void set_opts(struct ptracer *pt, struct ptask *t)
{
	int want = t->tid == t->tgid ? pt->opts : pt->opts & ~PTRACE_O_TRACEEXIT;
	if (t->opts != want && ptrace(PTRACE_SETOPTIONS, t->tid, 0, want) == 0)
		t->opts = want;
}

bool ptrace_permitted(const char **why)
{
	static int cached = -1;
	static const char *cached_why;
	pid_t c;
	int st;
	if (cached >= 0) {
		*why = cached_why;
		return cached;
	}
	cached = 0;
	c = fork();
	if (c == 0) {
		raise(SIGSTOP);
		_exit(0);
	}
	if (c < 0) {
		cached_why = "fork failed";
	} else {
		waitpid(c, &st, WSTOPPED);
		if (ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_EXITKILL) == 0) {
			cached = 1;
			cached_why = NULL;
		} else {
			cached_why = errno == EPERM ? "ptrace is not permitted (needs root or "
						      "CAP_SYS_PTRACE; seccomp or Yama may forbid it)"
						    : "ptrace failed";
		}
		kill(c, SIGKILL);
		waitpid(c, &st, __WALL);
	}
	*why = cached_why;
	return cached;
}

void ptracer_child_prepare(void)
{
	raise(SIGSTOP);
}

int ptracer_attach_child(struct ptracer *pt, pid_t child)
{
	int st = 0;
	pid_t w = 0;
	/* The child stops itself before exec; never wait for that forever. */
	for (int i = 0; i < 5000 && w == 0; i++) {
		w = waitpid(child, &st, WSTOPPED | WNOHANG);
		if (w == 0)
			usleep(1000);
	}
	if (w < 0)
		return -errno;
	if (w == 0)
		return -ETIMEDOUT;
	if (!WIFSTOPPED(st))
		return -ECHILD;
	pt->opts = pt->lazy_threads ? SEIZE_OPTS & ~PTRACE_O_TRACECLONE : SEIZE_OPTS;
	pt->stops.lazy = pt->lazy_threads;
	if (ptrace(PTRACE_SEIZE, child, 0, pt->opts) < 0)
		return -errno;
	add(pt, child, child, pt->opts);
	kill(child, SIGCONT);
	return 0;
}

int ptracer_attach_process(struct ptracer *pt, pid_t pid)
{
	/* Threads may start while we attach: list until no new one appears. Threads started
	 * while attached are followed too; no exit-kill: the process outlives us. */
	pt->opts = PTRACE_O_TRACECLONE;
	for (int round = 0; round < 10; round++) {
		char path[64];
		DIR *d;
		struct dirent *de;
		bool added = false;
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		d = opendir(path);
		if (!d)
			return -errno;
		while ((de = readdir(d))) {
			pid_t tid = (pid_t)atoi(de->d_name);
			if (tid <= 0 || find(pt, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACECLONE) < 0) {
				int e = -errno;
				if (e == -ESRCH)
					continue; /* the thread ended meanwhile */
				closedir(d);
				return e;
			}
			add(pt, tid, pid, pt->opts);
			added = true;
		}
		closedir(d);
		if (!added)
			return 0;
	}
	return 0;
}

/* The parent process of pid, or -1. */
static pid_t ppid_of(pid_t pid)
{
	pid_t ppid = -1;
	stat_of(pid, NULL, 0, &ppid);
	return ppid;
}

/* Let go of a task seized by mistake: detaching needs it in a stop. */
static void let_go(pid_t tid)
{
	int st;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) == 0 && waitpid(tid, &st, __WALL) == tid &&
	    WIFSTOPPED(st))
		ptrace(PTRACE_DETACH, tid, 0, 0);
}

/*
 * Seize a running task with its kind's options (no stop: PTRACE_SEIZE does not stop it).
 * false if it is gone or already traced (auto-attached meanwhile). Its identity is checked
 * once it is ours (a traced task's id cannot be reused until we reap it): a thread of tgid,
 * or a process whose parent is parent (> 0); an id that ended and was reused by another task
 * between the event and the seize is let go.
 */
static bool seize_running(struct ptracer *pt, pid_t tid, pid_t tgid, pid_t parent)
{
	int opts = tid == tgid ? pt->opts : pt->opts & ~PTRACE_O_TRACEEXIT;
	if (ptrace(PTRACE_SEIZE, tid, 0, opts) < 0)
		return false;
	if (tid == tgid ? parent > 0 && ppid_of(tid) != parent : !thread_of(tgid, tid)) {
		let_go(tid);
		return false;
	}
	add(pt, tid, tgid, opts);
	pt->stops.seized++;
	return true;
}

/* Is process tgid followed? Its leader stays in the table until the whole process is gone. */
static bool process_traced(struct ptracer *pt, pid_t tgid)
{
	return find(pt, tgid) != NULL;
}

void ptracer_on_fork(struct ptracer *pt, const struct procconn_fork *f)
{
	struct timespec ts;
	double lag;
	if (!pt->lazy_threads || find(pt, f->child_pid))
		return;
	if (f->child_pid != f->child_tgid) {
		if (!process_traced(pt, f->child_tgid))
			return;
	} else if (!process_traced(pt, f->parent_tgid)) {
		return; /* not ours */
	}
	/* A process whose creator was traced when it forked is ours already (the kernel
	 * attaches it in fork, before the event): the seize fails (EPERM). Its creator being
	 * traced now says nothing: it may have been seized after the fork. */
	if (!seize_running(pt, f->child_pid, f->child_tgid, f->parent_tgid))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	lag = ((double)ts.tv_sec * 1e9 + (double)ts.tv_nsec - (double)f->at_ns) / 1e3;
	if (lag < 0)
		lag = 0;
	pt->stops.seize_lag_sum_us += lag;
	if (lag > pt->stops.seize_lag_max_us)
		pt->stops.seize_lag_max_us = lag;
}

static int sweep_process(struct ptracer *pt, pid_t tgid)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	int n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", tgid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		if (tid > 0 && tid != tgid && !find(pt, tid) && seize_running(pt, tid, tgid, 0))
			n++;
	}
	closedir(d);
	return n;
}

int ptracer_sweep(struct ptracer *pt, pid_t tgid)
{
	pid_t *leaders;
	size_t k = 0;
	int n = 0;
	if (!pt->lazy_threads)
		return 0;
	if (tgid > 0)
		return process_traced(pt, tgid) ? sweep_process(pt, tgid) : 0;
	/* the table grows as we seize: list the processes first */
	leaders = xcalloc(pt->n + 1, sizeof(*leaders));
	for (size_t i = 0; i < pt->n; i++)
		if (pt->tasks[i].tid == pt->tasks[i].tgid && !pt->tasks[i].exited)
			leaders[k++] = pt->tasks[i].tid;
	for (size_t i = 0; i < k; i++)
		n += sweep_process(pt, leaders[i]);
	free(leaders);
	return n;
}

void ptracer_detach_all(struct ptracer *pt)
{
	for (size_t i = 0; i < pt->n; i++) {
		struct ptask *t = &pt->tasks[i];
		if (t->exited)
			continue;
		ptrace(PTRACE_DETACH, t->tid, 0, t->stopped ? t->pending_sig : 0);
		t->exited = true;
	}
}

/* Who a process is (comm, parent, parent's comm), read while it still exists: at its
 * PTRACE_EVENT_EXIT stop. After our wait4 returns its exit, its parent may reap it at once. */
static void capture_identity(struct ptask *t)
{
	char path[64], *text = NULL;
	stat_of(t->tid, t->comm, sizeof(t->comm), &t->ppid);
	if (t->ppid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/comm", t->ppid);
		if (read_file(path, &text, NULL) == 0)
			snprintf(t->parent_comm, sizeof(t->parent_comm), "%s", trim(text));
		free(text);
	}
	t->identified = true;
}

static void record_end(struct ptracer *pt, struct ptask *t, int status)
{
	struct proc_end *e;
	if (!t->identified)
		capture_identity(t); /* best effort: no exit stop was seen */
	if (pt->nends == pt->capends) {
		pt->capends = pt->capends ? pt->capends * 2 : 16;
		pt->ends = xrealloc(pt->ends, pt->capends * sizeof(*pt->ends));
	}
	e = &pt->ends[pt->nends++];
	e->pid = t->tid;
	e->ppid = t->ppid;
	e->status = status;
	e->crashed = WIFSIGNALED(status) && is_crash_signal(WTERMSIG(status));
	memcpy(e->comm, t->comm, sizeof(e->comm));
	memcpy(e->parent_comm, t->parent_comm, sizeof(e->parent_comm));
}

static bool crashed_before(struct ptracer *pt, pid_t tgid)
{
	for (size_t i = 0; i < pt->ncrashed; i++)
		if (pt->crashed_tgids[i] == tgid)
			return true;
	pt->crashed_tgids = xrealloc(pt->crashed_tgids, (pt->ncrashed + 1) * sizeof(pid_t));
	pt->crashed_tgids[pt->ncrashed++] = tgid;
	return false;
}

/* A process ends of a crash signal that no crash stop of ours saw: a thread not traced
 * crashed. Its leader is in its exit stop (the exit status is its event message). */
static void exit_crash(struct ptracer *pt, struct ptask *t)
{
	unsigned long msg = 0;
	pid_t tgid = t->tgid;
	int st;
	if (ptrace(PTRACE_GETEVENTMSG, t->tid, 0, &msg) < 0)
		return;
	st = (int)msg;
	if (!WIFSIGNALED(st) || !is_crash_signal(WTERMSIG(st)) || crashed_before(pt, tgid))
		return;
	t->stopped = true;
	pt->on_exit_crash(pt->arg, pt, tgid, WTERMSIG(st));
	t = find(pt, tgid); /* the table may have grown meanwhile */
	if (t)
		t->stopped = false;
}

static bool is_group_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

void ptracer_handle(struct ptracer *pt, pid_t tid, int status)
{
	struct ptask *t = find(pt, tid);
	int sig, ev;
	if (!t) {
		/* A new task's first stop can beat its creator's event; its options are unknown. */
		t = add(pt, tid, first_stop_tgid(pt, tid), -1);
		t->fresh = true;
	}
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (t->tid == t->tgid)
			record_end(pt, t, status);
		drop(pt, t);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	sig = WSTOPSIG(status);
	ev = (unsigned)status >> 16;
	switch (ev) {
	case PTRACE_EVENT_STOP:
		if (t->fresh) { /* its first stop */
			set_opts(pt, t);
			t->fresh = false;
			pt->stops.new_task++;
		} else {
			pt->stops.other++;
		}
		if (t->want_stop) {
			t->stopped = true;
			t->want_stop = false;
		} else if (is_group_stop_sig(sig)) {
			ptrace(PTRACE_LISTEN, tid, 0, 0);
		} else {
			ptrace(PTRACE_CONT, tid, 0, 0);
		}
		return;
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK: {
		unsigned long msg = 0;
		pt->stops.clone++;
		ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
		if (msg && !find(pt, (pid_t)msg)) {
			pid_t nt = (pid_t)msg;
			int opts = t->opts; /* inherited */
			add(pt, nt, ev == PTRACE_EVENT_CLONE && thread_of(t->tgid, nt) ? t->tgid : nt, opts)->fresh =
				true;
		}
		ptrace(PTRACE_CONT, tid, 0, 0);
		return;
	}
	case 0:
		break;
	default: /* EXEC, VFORK_DONE, EXIT */
		if (ev == PTRACE_EVENT_EXIT)
			pt->stops.exit++;
		else if (ev == PTRACE_EVENT_EXEC)
			pt->stops.exec++;
		else
			pt->stops.other++;
		if (ev == PTRACE_EVENT_EXIT && t->tid == t->tgid) {
			capture_identity(t);
			if (pt->lazy_threads && pt->on_exit_crash)
				exit_crash(pt, t);
		}
		if (ev == PTRACE_EVENT_EXEC) {
			t->tgid = tgid_of(tid); /* a non-leader exec takes over the leader's pid */
			set_opts(pt, t);
		}
		ptrace(PTRACE_CONT, tid, 0, 0);
		return;
	}
	/* A signal-delivery-stop. */
	pt->stops.signal++;
	if (t->want_stop) {
		/* We asked for a stop and got this one: hold it, deliver the signal later. */
		t->pending_sig = sig;
		t->stopped = true;
		t->want_stop = false;
		return;
	}
	if (is_crash_signal(sig) && pt->on_crash && !crashed_before(pt, t->tgid)) {
		/* Before any handler runs: hold the whole process still for the snapshot. */
		siginfo_t si;
		pid_t tgid = t->tgid;
		memset(&si, 0, sizeof(si));
		ptrace(PTRACE_GETSIGINFO, tid, 0, &si);
		t->stopped = true;
		ptracer_stop_all(pt, tgid, 1.0);
		pt->on_crash(pt->arg, pt, tid, tgid, sig, &si);
		t = find(pt, tid); /* the table may have grown meanwhile */
		if (t)
			t->stopped = false;
		ptracer_resume_all(pt);
	}
	ptrace(PTRACE_CONT, tid, 0, sig);
}

int ptracer_stop_all(struct ptracer *pt, pid_t tgid, double timeout_s)
{
	double deadline = now_monotonic() + timeout_s;
	int stopped = 0;
	ptracer_sweep(pt, tgid); /* every thread, also one started a moment ago */
	for (size_t i = 0; i < pt->n; i++) {
		struct ptask *t = &pt->tasks[i];
		if (t->exited || t->stopped || (tgid > 0 && t->tgid != tgid))
			continue;
		if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) == 0)
			t->want_stop = true;
	}
	for (;;) {
		bool waiting = false;
		int st;
		pid_t w;
		for (size_t i = 0; i < pt->n; i++)
			if (pt->tasks[i].want_stop && !pt->tasks[i].exited)
				waiting = true;
		if (!waiting || now_monotonic() > deadline)
			break;
		w = waitpid(-1, &st, WNOHANG | __WALL);
		if (w > 0) {
			ptracer_handle(pt, w, st);
			continue;
		}
		if (w < 0 && errno == ECHILD)
			break;
		usleep(200);
	}
	for (size_t i = 0; i < pt->n; i++) {
		struct ptask *t = &pt->tasks[i];
		t->want_stop = false;
		if (!t->exited && t->stopped && (tgid <= 0 || t->tgid == tgid))
			stopped++;
	}
	return stopped;
}

void ptracer_resume_all(struct ptracer *pt)
{
	for (size_t i = 0; i < pt->n; i++) {
		struct ptask *t = &pt->tasks[i];
		if (t->exited || !t->stopped)
			continue;
		ptrace(PTRACE_CONT, t->tid, 0, t->pending_sig);
		t->pending_sig = 0;
		t->stopped = false;
	}
}

size_t ptracer_stopped_tasks(const struct ptracer *pt, pid_t tgid, pid_t *out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < pt->n && k < max; i++) {
		const struct ptask *t = &pt->tasks[i];
		if (!t->exited && t->stopped && (tgid <= 0 || t->tgid == tgid))
			out[k++] = t->tid;
	}
	return k;
}

void ptracer_release(struct ptracer *pt)
{
	free(pt->tasks);
	free(pt->ends);
	free(pt->crashed_tgids);
	memset(pt, 0, sizeof(*pt));
}
