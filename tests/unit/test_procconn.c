/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The kernel's process events (procconn.h) and the ptrace tracer's lazy threads
 * (ptracer.h, lazy_threads): a thread of ours is named with its process; a traced child's
 * new threads are seized from the events without a stop, or by a sweep when the events were
 * not read; an event whose id is not what it claims (a reused pid) is let go. Needs root
 * (the connector and ptrace) in the initial namespaces; skips with the reason elsewhere.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ftscope/procconn.h"
#include "ftscope/ptracer.h"
#include "ftscope/util.h"
#include "tap.h"

struct seen {
	pid_t want_tid, want_tgid;
	bool found;
	int n;
};

static void on_event(void *arg, const struct procconn_fork *f)
{
	struct seen *s = arg;
	s->n++;
	if (f->child_pid == s->want_tid && f->child_tgid == s->want_tgid)
		s->found = true;
}

static pid_t thread_tid;
static void *thread_main(void *arg)
{
	(void)arg;
	thread_tid = (pid_t)syscall(SYS_gettid);
	return NULL;
}

/* Read events for up to ms, each to fn. */
static void pump(int fd, int ms, void (*fn)(void *, const struct procconn_fork *), void *arg)
{
	double end = now_monotonic() + ms / 1000.0;
	while (now_monotonic() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 20) > 0)
			procconn_drain(fd, fn, arg);
	}
}

static void on_fork_pt(void *arg, const struct procconn_fork *f)
{
	ptracer_on_fork(arg, f);
}

static void *sleeper(void *arg)
{
	usleep((useconds_t)(long)arg);
	return NULL;
}

/* A child that stops itself, then starts n threads that each sleep ms and exits. */
static pid_t threaded_child(int n, int ms)
{
	pid_t c = fork();
	if (c == 0) {
		pthread_t t[64];
		raise(SIGSTOP);
		for (int i = 0; i < n; i++)
			pthread_create(&t[i], NULL, sleeper, (void *)(long)(ms * 1000));
		for (int i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		_exit(0);
	}
	return c;
}

/* Service the traced child's stops until it is gone. */
static int run_to_end(struct ptracer *pt, pid_t c, int pc_fd)
{
	int st = 0;
	for (;;) {
		pid_t w = waitpid(-1, &st, __WALL | WNOHANG);
		if (w > 0) {
			ptracer_handle(pt, w, st);
			if (w == c && (WIFEXITED(st) || WIFSIGNALED(st)))
				return st;
			continue;
		}
		if (w < 0)
			return -1;
		if (pc_fd >= 0)
			pump(pc_fd, 2, on_fork_pt, pt);
		else
			usleep(1000);
	}
}

static bool traced_by_anyone(pid_t pid)
{
	char path[64], *text = NULL, *p;
	bool traced = false;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file(path, &text, NULL) == 0 && (p = strstr(text, "TracerPid:")))
		traced = strtol(p + 10, NULL, 10) != 0;
	free(text);
	return traced;
}

int main(void)
{
	int fd = procconn_open();
	const char *why = NULL;
	if (fd < 0) {
		printf("1..0 # SKIP the kernel's process events are not to be had here: %s\n",
		       strerror(-fd));
		return 0;
	}
	if (!ptrace_permitted(&why)) {
		procconn_close(fd);
		printf("1..0 # SKIP %s\n", why ? why : "ptrace is not permitted");
		return 0;
	}

	{ /* one of our own threads is named, with our pid as its process */
		pthread_t t;
		struct seen s = { .want_tgid = getpid() };
		pthread_create(&t, NULL, thread_main, NULL);
		pthread_join(t, NULL);
		s.want_tid = thread_tid;
		pump(fd, 200, on_event, &s);
		ok(s.found, "a thread we started is named, with our pid (%d events read)", s.n);
	}

	{ /* a traced child's threads: seized from the events, no clone stops */
		struct ptracer pt = { .lazy_threads = true };
		pid_t c = threaded_child(16, 100);
		int st, r = ptracer_attach_child(&pt, c);
		is_int(r, 0, "lazy: the child is seized");
		st = run_to_end(&pt, c, fd);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "lazy: the child ran to its end");
		is_int(pt.stops.seized, 16, "lazy: its 16 threads were seized from the events");
		is_int(pt.stops.clone + pt.stops.new_task, 0, "lazy: without a clone stop or a first stop");
		ok(pt.stops.seize_lag_max_us > 0 && pt.stops.seize_lag_max_us < 100000,
		   "lazy: seized %.0f us after their start at most", pt.stops.seize_lag_max_us);
		is_int(pt.peak_threads, 17, "lazy: 17 threads at once (16 and the main one)");
		ptracer_release(&pt);
	}

	{ /* events not read: the sweep finds the threads */
		struct ptracer pt = { .lazy_threads = true };
		pid_t c = threaded_child(8, 300);
		int st = 0, n;
		double until;
		ptracer_attach_child(&pt, c);
		/* let it run (its stops serviced) and start its threads, their events unread */
		until = now_monotonic() + 0.15;
		while (now_monotonic() < until) {
			pid_t w = waitpid(-1, &st, __WALL | WNOHANG);
			if (w > 0)
				ptracer_handle(&pt, w, st);
			else
				usleep(1000);
		}
		n = ptracer_sweep(&pt, 0);
		is_int(n, 8, "sweep: the 8 threads the events were not read for are seized");
		is_int(ptracer_sweep(&pt, 0), 0, "sweep: a second sweep finds none new");
		procconn_drain(fd, NULL, NULL); /* what came meanwhile, unread */
		st = run_to_end(&pt, c, -1);
		ok(WIFEXITED(st), "sweep: the child ran to its end");
		ptracer_release(&pt);
	}

	{ /* an event naming a task that is not what it claims is let go */
		struct ptracer pt = { .lazy_threads = true };
		pid_t c = threaded_child(0, 0), stranger = fork();
		struct procconn_fork f = { 0 };
		int st;
		if (stranger == 0) {
			pause();
			_exit(0);
		}
		ptracer_attach_child(&pt, c);
		/* "a thread of c" that is a process of its own */
		f.child_pid = stranger;
		f.child_tgid = c;
		f.parent_pid = f.parent_tgid = getpid();
		ptracer_on_fork(&pt, &f);
		ok(!ptracer_owns(&pt, stranger) && !traced_by_anyone(stranger),
		   "a claimed thread of the child that is not one is let go");
		/* "a process the child's untraced thread started" whose parent is someone else */
		f.child_pid = f.child_tgid = stranger;
		f.parent_tgid = c;
		f.parent_pid = c + 100000; /* a thread of c not in the table */
		ptracer_on_fork(&pt, &f);
		ok(!ptracer_owns(&pt, stranger) && !traced_by_anyone(stranger),
		   "a claimed child of the child whose parent is another is let go");
		kill(stranger, SIGKILL);
		waitpid(stranger, &st, 0);
		st = run_to_end(&pt, c, -1);
		ok(WIFEXITED(st), "the child ran to its end");
		ptracer_release(&pt);
	}
	procconn_close(fd);
	return tap_done();
}
