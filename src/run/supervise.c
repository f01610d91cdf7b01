/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/bpfrec.h"
#include "ftscope/capture.h"
#include "ftscope/cgroup.h"
#include "ftscope/diskspace.h"
#include "ftscope/error.h"
#include "ftscope/procfs.h"
#include "ftscope/procconn.h"
#include "ftscope/ptracer.h"
#include "ftscope/signature.h"
#include "ftscope/snapshot.h"
#include "ftscope/supervise.h"
#include "ftscope/text.h"
#include "ftscope/tracer.h"
#include "ftscope/util.h"
#include "ftscope/waitgraph.h"

#define ABRT_GRACE 2.0   /* seconds for faulthandler to write its dump */
#define EXIT_GRACE 2.0   /* seconds to wait for pipes after the shell exited */
/*
 * After servicing a ptrace stop, keep looking for the next one this long before sleeping
 * (yielding the CPU to anything runnable meanwhile), where the next stop is known to follow:
 *  - STOP_SPIN after a clone/fork event whose new task has not stopped yet (its first stop
 *    is due within microseconds, once it is scheduled);
 *  - STOP_SPIN_SIGNAL after a signal-delivery stop: signals come in storms (a test that
 *    sends them in a loop, a process that forwards one to its children).
 * Waking a sleeping supervisor costs the stopped task 70-80 us on a 2-vCPU KVM guest (halted
 * vCPUs), one found while spinning ~12 us: a signal+handler cost +96 us traced without the
 * look-ahead, +26 us with it (bench/ptrace_events.sh). After any other stop the next one is
 * rarely near: a 30 us look-ahead after every stop found the next stop in 1-5% of ~480 tries
 * an iteration of a thread-heavy suite (test_thread & co., pinned or not) and cost 18 ms of
 * the supervisor's CPU there, 1.5% of the suite's, for nothing measurable in its wall time.
 */
#define STOP_SPIN 300e-6
#define STOP_SPIN_SIGNAL 30e-6
#define STOP_SERVICE_MAX 5e-3
/* Output is read in batches: after a read that found little (under OUTPUT_BATCH_BYTES), the
 * pipes rest OUTPUT_REST seconds before they are polled again, so a test runner that writes
 * a dot per test does not wake the supervisor per test (a cross-CPU wakeup and four syscalls
 * each: 11 ms of the supervisor's CPU for a 0.5 s unittest run of 400 tests). The pipes hold
 * OUTPUT_PIPE_SIZE, so a writer blocks only if it writes that much within the rest (100 MB/s);
 * a big read (a flood) takes no rest. */
#define OUTPUT_PIPE_SIZE (1 << 20)
#define OUTPUT_REST 10e-3
#define OUTPUT_BATCH_BYTES 16384

static struct run_as run_as_user;
static bool run_as_set;

int supervise_become(const struct run_as *ra)
{
	int r = ra->dynamic ? setgroups(0, NULL) : initgroups(ra->name, ra->gid);
	if (r < 0 || setresgid(ra->gid, ra->gid, ra->gid) < 0 ||
	    setresuid(ra->uid, ra->uid, ra->uid) < 0)
		return -errno;
	if (getuid() != ra->uid || geteuid() != ra->uid || getgid() != ra->gid)
		return -EPERM;
	return 0;
}

void supervise_set_user(const struct run_as *ra)
{
	run_as_set = ra != NULL;
	if (ra)
		run_as_user = *ra;
}

const struct run_as *supervise_user(void)
{
	return run_as_set ? &run_as_user : NULL;
}

int supervise_init(void)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

struct sup {
	const struct iter_spec *spec;
	struct iter_outcome *out;
	pid_t root;
	int root_status;
	bool root_done;
	double t0, root_done_at;
	struct capture cap[2];
	struct sbuf hang_buf;   /* what the tree writes while it dumps its stacks */
	char *pre_kill_line; /* last output line before ftscope signalled the tree */
	/* progress state */
	struct tree_sample cur, prev;
	double last_progress;
	bool all_blocked;     /* by the last sample */
	double blocked_since; /* < 0: not all blocked */
	pid_t *seen;
	size_t nseen, capseen;
	struct cgroup cg;
	struct ptracer pt;
	struct tracer_tree tt; /* the tracer watching it; tt.tracing: pt follows the tree */
	int sigchld_fd; /* signalfd: a child changed state (exit or ptrace stop) */
	int procconn_fd; /* the kernel's process events: new threads, seized without stops */
	bool reaped;     /* this pass of the loop reaped until nothing was left */
	double last_overlap_sample;
	uint64_t refuted_waits; /* the waits a snapshot showed were no certain cycle */
	double cpu0;            /* the supervisor's own CPU time when the iteration began */
	double next_cycle_check; /* with the recorder: when to look for a certain cycle */
	double pipes_rest_until; /* OUTPUT_REST: the output pipes are not polled before */
};

/* user + sys of this process (the supervisor: tracing, sampling, capturing output) */
static double self_cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int reap(struct sup *s);

/* A clone, fork or vfork event was serviced whose new task has not stopped yet: its first
 * stop is due within microseconds. */
static bool new_task_due(const struct sup *s)
{
	return s->pt.stops.clone > s->pt.stops.new_task;
}

/*
 * Service ptrace stops as they come, and look ahead for the next one before sleeping where
 * one is known to follow (STOP_SPIN, STOP_SPIN_SIGNAL above): spinning costs the supervisor's
 * CPU, sleeping costs the stopped task a wakeup. Back to the main loop (output, deadlines)
 * within STOP_SERVICE_MAX whatever comes.
 */
static void service_stops(struct sup *s)
{
	double start = now_monotonic(), until = 0;
	for (;;) {
		double now;
		unsigned long signals = s->pt.stops.signal;
		int n = reap(s);
		now = now_monotonic();
		if (now - start >= STOP_SERVICE_MAX)
			return;
		if (n > 0 && new_task_due(s))
			until = now + STOP_SPIN;
		else if (n > 0)
			until = s->pt.stops.signal != signals ? now + STOP_SPIN_SIGNAL : 0;
		if (!s->tt.tracing || now >= until)
			return;
		sched_yield(); /* a task woken onto this CPU (the one just resumed) goes first */
	}
}

static void on_fork(void *arg, const struct procconn_fork *f)
{
	ptracer_on_fork(arg, f);
}

/* New threads, from the kernel's process events: seized as they start (no stop). A socket
 * that fell behind lost events: look for every thread of the tree instead. */
static void follow_new_tasks(struct sup *s)
{
	if (procconn_drain(s->procconn_fd, on_fork, &s->pt) == -ENOBUFS) {
		ptracer_sweep(&s->pt, 0);
		procconn_drain(s->procconn_fd, on_fork, &s->pt);
	}
}

/*
 * Wait up to timeout_ms for output or a child state change (SIGCHLD via signalfd), and
 * handle what came: a traced task waits in its ptrace stop until we resume it, so stops must
 * be serviced at once, not at the next poll timeout.
 */
static bool pump_output(struct sup *s, int timeout_ms)
{
	struct pollfd pfd[5];
	int pc = -1;
	int n = 0, ready;
	bool got = false;
	double now = now_monotonic();
	bool pipes = timeout_ms == 0 || now >= s->pipes_rest_until; /* 0: drain now */
	size_t before = s->cap[0].total + s->cap[1].total;
	if (!pipes) {
		int rest_ms = (int)((s->pipes_rest_until - now) * 1000) + 1;
		if (timeout_ms > rest_ms)
			timeout_ms = rest_ms;
	}
	for (int i = 0; i < 2 && pipes; i++) {
		if (s->cap[i].fd < 0)
			continue;
		pfd[n].fd = s->cap[i].fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	if (s->sigchld_fd >= 0) {
		pfd[n].fd = s->sigchld_fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	if (s->procconn_fd >= 0 && s->tt.tracing) {
		pc = n;
		pfd[n].fd = s->procconn_fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	if (s->tt.ops->poll_fd && s->tt.ops->poll_fd(&s->tt) >= 0) {
		pfd[n].fd = s->tt.ops->poll_fd(&s->tt);
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	if (!n) {
		if (timeout_ms > 0)
			usleep((useconds_t)timeout_ms * 1000);
		return false;
	}
	ready = poll(pfd, (nfds_t)n, timeout_ms);
	/* The recorder's ring wakes us only when half full: drain it at every pass (at least
	 * every 50 ms; a look at two counters when empty). */
	if (s->tt.ops->consume)
		s->tt.ops->consume(&s->tt);
	if (ready <= 0)
		return false;
	if (pc >= 0 && pfd[pc].revents)
		follow_new_tasks(s);
	if (s->sigchld_fd >= 0) {
		struct signalfd_siginfo si[16];
		/* SIGCHLD is a standard signal: one pending at most, one read drains it (a second
		 * read to see EAGAIN was a syscall per ptrace stop). */
		while (read(s->sigchld_fd, si, sizeof(si)) == (ssize_t)sizeof(si))
			;
		service_stops(s);
		s->reaped = true;
	}
	if (!pipes)
		return false;
	for (int i = 0; i < 2; i++)
		if (s->cap[i].fd >= 0)
			got |= capture_read(&s->cap[i]);
	if (got && s->cap[0].total + s->cap[1].total - before < OUTPUT_BATCH_BYTES)
		s->pipes_rest_until = now_monotonic() + OUTPUT_REST;
	return got;
}

static void note_seen(struct sup *s, pid_t pid)
{
	for (size_t i = 0; i < s->nseen; i++)
		if (s->seen[i] == pid)
			return;
	if (s->nseen == s->capseen) {
		s->capseen = s->capseen ? s->capseen * 2 : 16;
		s->seen = xrealloc(s->seen, s->capseen * sizeof(*s->seen));
	}
	s->seen[s->nseen++] = pid;
}

/* Reap every finished process (we are the subreaper of the tree) and service ptrace stops.
 * Returns how many stops were serviced. */
static int reap(struct sup *s)
{
	int st, stops = 0;
	struct rusage ru;
	pid_t w;
	while ((w = wait4(-1, &st, WNOHANG | __WALL, &ru)) > 0) {
		if (s->tt.tracing && (WIFSTOPPED(st) || ptracer_owns(&s->pt, w))) {
			size_t before = s->pt.nends;
			ptracer_handle(&s->pt, w, st);
			if (WIFSTOPPED(st)) {
				stops++;
				continue;
			}
			/* Only our own children's rusage counts: a traced grandchild's is in its
			 * parent's, and a thread's in its process's. */
			if (w != s->root &&
			    (s->pt.nends == before || s->pt.ends[s->pt.nends - 1].ppid != getpid()))
				continue;
		}
		s->out->cpu_s += (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
				 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
		if (ru.ru_maxrss > s->out->max_rss_kb)
			s->out->max_rss_kb = ru.ru_maxrss;
		if (w == s->root) {
			s->root_status = st;
			s->root_done = true;
			s->root_done_at = now_monotonic();
		}
	}
	return stops;
}

static bool is_python_comm(const char *comm)
{
	return starts_with(comm, "python");
}

static void add_forensics(struct iter_outcome *o, cJSON *snap)
{
	if (!o->forensics)
		o->forensics = cJSON_CreateArray();
	cJSON_AddItemToArray(o->forensics, snap);
}

/*
 * Snapshot a held crashing process and sign its crash into the outcome. tids: its held
 * threads; regs: for a crashing thread no tracer stopped (gone by now), its registers from
 * the recorder, and comm its name.
 */
static void sign_crash(struct sup *s, pid_t tid, pid_t tgid, int sig, int code,
		       unsigned long long addr, const pid_t *tids, size_t n,
		       const struct user_regs_struct *regs, const char *comm)
{
	struct iter_outcome *o = s->out;
	struct proc_crash *c;
	struct snapshot snap = { 0 };
	struct crash_sig cs;
	const char *name = signal_name(sig) ? signal_name(sig) : "signal";
	o->crashes = xrealloc(o->crashes, (o->ncrashes + 1) * sizeof(*o->crashes));
	c = &o->crashes[o->ncrashes++];
	memset(c, 0, sizeof(*c));
	c->pid = tgid;
	c->tid = tid;
	c->sig = sig;
	c->fault_code = code;
	c->fault_addr = addr;
	c->from_recorder = regs != NULL;
	snap.reason = xstrdup("crash");
	snap.taken_at = now_wall();
	if (snapshot_process_crashed(&snap, tgid, tids, n, tid, regs, comm) == 0) {
		cJSON *j, *fr;
		snapshot_finish(&snap); /* still held: the signal kills it once we let it go */
		snapshot_analyze(&snap);
		snapshot_crash_signature(&snap, name, &cs);
		memcpy(c->sig_id, cs.id, sizeof(c->sig_id));
		c->sig_text = xstrdup(cs.text);
		c->py_frame = xstrdup(cs.py_frame);
		fr = cJSON_CreateArray();
		for (size_t i = 0; i < cs.nframes; i++)
			cJSON_AddItemToArray(fr, cJSON_CreateString(cs.frames[i]));
		c->top_frames = fr;
		crash_sig_release(&cs);
		j = snapshot_json(&snap);
		cJSON_AddStringToObject(j, "signal", name);
		cJSON_AddNumberToObject(j, "crashed_tid", tid);
		cJSON_AddStringToObject(j, "signature_id", c->sig_id);
		cJSON_AddStringToObject(j, "signature", c->sig_text);
		if (regs)
			cJSON_AddStringToObject(j, "registers", "recorder");
		add_forensics(o, j);
	}
	snapshot_release(&snap);
}

/* Crash stop (ptrace): snapshot the held process, sign the crash, before any handler runs. */
static void on_crash(void *arg, struct ptracer *pt, pid_t tid, pid_t tgid, int sig,
		     const siginfo_t *si)
{
	pid_t tids[4096];
	size_t n = ptracer_stopped_tasks(pt, tgid, tids, ARRAY_SIZE(tids));
	sign_crash(arg, tid, tgid, sig, si->si_code, (unsigned long long)(uintptr_t)si->si_addr,
		   tids, n, NULL, NULL);
}

/*
 * A crash in a thread no tracer followed (threads traced on demand): its process is held at
 * its leader's exit stop, its memory still there; the crashing thread is gone, its
 * registers at the crash come from the recorder. Without them the crash stays unsigned here
 * (classify_crashes lists it; faulthandler's frame signs the iteration).
 */
static void on_exit_crash(void *arg, struct ptracer *pt, pid_t tgid, int sig)
{
	struct sup *s = arg;
	struct bpf_crash bc;
	struct user_regs_struct regs;
	pid_t tids[4096];
	size_t n;
	_Static_assert(sizeof(bc.regs) <= sizeof(regs), "the recorder's registers fit");
	if (!s->tt.ops->crash_regs || s->tt.ops->crash_regs(&s->tt, tgid, &bc) < 0 || !bc.nregs)
		return;
	if (bc.sig != sig)
		debug("supervise: pid %d ended of signal %d, its first crash signal was %d",
		      (int)tgid, sig, bc.sig);
	memset(&regs, 0, sizeof(regs));
	memcpy(&regs, bc.regs, bc.nregs * sizeof(uint64_t));
	n = ptracer_stopped_tasks(pt, tgid, tids, ARRAY_SIZE(tids));
	sign_crash(s, bc.tid, tgid, bc.sig, bc.code, bc.addr, tids, n, &regs, bc.comm);
}

/* Hold every task of the tree (ptrace) and snapshot each process into snap. */
static void take_snapshot(struct sup *s, const char *reason, struct snapshot *snap)
{
	pid_t *tids = xcalloc(s->pt.n ? s->pt.n : 1, sizeof(pid_t));
	pid_t *done = xcalloc(s->pt.n ? s->pt.n : 1, sizeof(pid_t));
	size_t ndone = 0;
	double t0 = now_monotonic();
	ptracer_stop_all(&s->pt, 0, 2.0);
	snap->reason = xstrdup(reason);
	snap->taken_at = now_wall();
	for (size_t i = 0; i < s->pt.n; i++) {
		const struct ptask *t = &s->pt.tasks[i];
		size_t n, k;
		if (t->exited || !t->stopped)
			continue;
		for (k = 0; k < ndone && done[k] != t->tgid; k++)
			;
		if (k < ndone)
			continue;
		done[ndone++] = t->tgid;
		n = ptracer_stopped_tasks(&s->pt, t->tgid, tids, s->pt.n);
		snapshot_process(snap, t->tgid, tids, n, 0);
	}
	snapshot_finish(snap); /* still held: the tree is killed next, or let go if not hung */
	snapshot_analyze(snap);
	snap->duration_s = now_monotonic() - t0; /* the tree was held this long */
	free(tids);
	free(done);
}

/* The hang's snapshot into the results (consumed). true if Python stacks were read, so
 * faulthandler's dump is not needed. */
static bool record_snapshot(struct sup *s, struct snapshot *snap)
{
	bool python = false;
	cJSON *j;
	for (size_t i = 0; i < snap->n; i++)
		if (snap->procs[i].python_version)
			python = true;
	j = snapshot_json(snap);
	add_forensics(s->out, j);
	s->out->hang_snapshot = j;
	snapshot_release(snap);
	return python;
}

/*
 * A wait-for cycle in which every thread waits for a lock whose word names its owner (a
 * pthread mutex, a PI futex) cannot resolve by itself: that is a deadlock now, whatever
 * --deadlock-window says and whatever the other threads do. The lock words of the threads
 * in untimed futex waits are read without stopping anything (waitgraph_lockword_cycle);
 * only when they form such a cycle is the tree held and snapshotted, and only a cycle the
 * snapshot calls certain (the waits are in pthread_mutex_lock, or PI, and the owners come
 * from the words) decides. A candidate the snapshot does not confirm is not tried again
 * until the waits change. true, with the snapshot in *snap, when it is a deadlock.
 */
static bool certain_deadlock(struct sup *s, const struct wg_waiter *w, size_t n,
			     struct snapshot *snap)
{
	uint64_t sig = 1469598103934665603ull;
	bool certain = false;

	if (!s->tt.tracing || n < 2)
		return false;
	for (size_t i = 0; i < n; i++) /* the waits, in the order the sample lists them */
		sig = (sig ^ ((uint64_t)w[i].tid << 32 ^ w[i].uaddr)) * 1099511628211ull;
	if (sig == s->refuted_waits || !waitgraph_lockword_cycle(w, n))
		return false;
	take_snapshot(s, "deadlock", snap);
	for (size_t i = 0; i < snap->ncycles && !certain; i++)
		certain = snap->cycles[i].certain;
	if (!certain) {
		s->refuted_waits = sig;
		snapshot_release(snap);
		ptracer_resume_all(&s->pt);
	}
	return certain;
}

/* After the tree is gone: every crashed process, and whether it was the test runner. */
static void classify_crashes(struct sup *s)
{
	struct iter_outcome *o = s->out;
	for (size_t i = 0; i < s->pt.nends; i++) {
		const struct proc_end *e = &s->pt.ends[i];
		struct proc_crash *c = NULL;
		if (!e->crashed)
			continue;
		for (size_t k = 0; k < o->ncrashes; k++)
			if (o->crashes[k].pid == e->pid)
				c = &o->crashes[k];
		if (!c) {
			o->crashes = xrealloc(o->crashes, (o->ncrashes + 1) * sizeof(*o->crashes));
			c = &o->crashes[o->ncrashes++];
			memset(c, 0, sizeof(*c));
			c->pid = e->pid;
		}
		c->ppid = e->ppid;
		memcpy(c->comm, e->comm, sizeof(c->comm));
		memcpy(c->parent_comm, e->parent_comm, sizeof(c->parent_comm));
		c->sig = WTERMSIG(e->status);
		c->runner = e->pid == s->root ||
			    (is_python_comm(e->comm) && !is_python_comm(e->parent_comm));
		if (c->runner && !o->runner_crash_sig)
			o->runner_crash_sig = c->sig;
	}
	/* Crash stops whose process did not die of it (a handler recovered) stay listed. */
}

static const struct task_sample *find_prev(const struct tree_sample *p, pid_t tid)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->tasks[i].tid == tid)
			return &p->tasks[i];
	return NULL;
}

/* Take a sample; return whether any thread made CPU progress (or threads came or went). */
static bool sample(struct sup *s, bool *all_blocked)
{
	struct tree_sample tmp;
	bool progress = false, any_futex = false, blocked = true;
	size_t live = 0, matched = 0;
	tmp = s->prev;
	s->prev = s->cur;
	s->cur = tmp;
	{
		/* the tree's cgroup lists its processes: cheaper than scanning all of /proc */
		pid_t *members = NULL;
		size_t nm = 0;
		if (s->cg.dir && cgroup_pids(&s->cg, &members, &nm) == 0)
			tree_sample_take_pids(&s->cur, members, nm);
		else
			tree_sample_take(&s->cur, s->root_done ? 0 : s->root, getpid());
		free(members);
	}
	for (size_t i = 0; i < s->cur.npids; i++)
		note_seen(s, s->cur.pids[i]);
	if (s->cur.rss_kb > s->out->max_rss_kb)
		s->out->max_rss_kb = s->cur.rss_kb;
	for (size_t i = 0; i < s->cur.n; i++) {
		const struct task_sample *t = &s->cur.tasks[i], *p;
		if (t->state == 'Z' || t->state == 'X')
			continue;
		live++;
		p = find_prev(&s->prev, t->tid);
		if (!p || p->cpu_ticks != t->cpu_ticks)
			progress = true;
		else
			matched++;
		if (t->untimed_futex_wait && (t->state == 'S' || t->state == 'D'))
			any_futex = true;
		else if (!(t->child_wait && t->state == 'S'))
			blocked = false;
	}
	/* Threads that went away since the previous sample are progress too. */
	{
		size_t prev_live = 0;
		for (size_t i = 0; i < s->prev.n; i++)
			if (s->prev.tasks[i].state != 'Z' && s->prev.tasks[i].state != 'X')
				prev_live++;
		if (prev_live != matched)
			progress = true;
	}
	*all_blocked = live > 0 && blocked && any_futex;
	/* Concurrency seen by /proc (without the recorder): live threads of one process, two
	 * threads of one process that ran in the same interval, futex waits. Threads of
	 * different processes (a shell and the python it waits for) are not concurrency.
	 * A sample lists each process's threads together. */
	{
		int ran = 0, ran_proc = 0, live_proc = 0;
		for (size_t i = 0; i < s->cur.n; i++) {
			const struct task_sample *t = &s->cur.tasks[i], *p = find_prev(&s->prev, t->tid);
			if (i == 0 || t->pid != s->cur.tasks[i - 1].pid)
				ran_proc = live_proc = 0;
			if (t->state != 'Z' && t->state != 'X' && ++live_proc > s->out->peak_threads)
				s->out->peak_threads = live_proc;
			if (p && p->cpu_ticks != t->cpu_ticks && ++ran_proc > ran)
				ran = ran_proc;
			if (t->untimed_futex_wait && (!p || !p->untimed_futex_wait || p->args[0] != t->args[0]))
				s->out->contended_waits++;
		}
		if (ran >= 2 && s->last_overlap_sample > 0)
			s->out->cpu_overlap_ms += (now_monotonic() - s->last_overlap_sample) * 1000;
		s->last_overlap_sample = now_monotonic();
	}
	return progress;
}

static void record_threads(struct sup *s)
{
	struct iter_outcome *o = s->out;
	free(o->threads);
	o->nthreads = s->cur.n;
	o->threads = xcalloc(s->cur.n ? s->cur.n : 1, sizeof(*o->threads));
	for (size_t i = 0; i < s->cur.n; i++) {
		const struct task_sample *t = &s->cur.tasks[i];
		struct hang_thread *h = &o->threads[i];
		h->pid = t->pid;
		h->tid = t->tid;
		memcpy(h->comm, t->comm, sizeof(h->comm));
		h->state = t->state;
		h->syscall = t->syscall;
		if (t->syscall == FT_SYS_FUTEX) {
			h->futex_uaddr = t->args[0];
			h->futex_op = t->args[1];
		}
		h->blocked = (t->untimed_futex_wait || t->child_wait) && t->state != 'R';
	}
}

static bool pid_gone(pid_t pid)
{
	char path[64], *text = NULL;
	bool gone;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, &text, NULL) < 0)
		return true;
	/* A zombie has written all it will write. */
	gone = strstr(text, ") Z ") != NULL || strstr(text, ") X ") != NULL;
	free(text);
	return gone;
}

/*
 * Ask every Python process of the tree for its stacks: faulthandler (PYTHONFAULTHANDLER=1,
 * and pytest enables it too) dumps all threads on SIGABRT before the process dies.
 */
static void capture_python_stacks(struct sup *s)
{
	pid_t abrt[64];
	size_t n = 0;
	double deadline;
	for (size_t i = 0; i < s->cur.npids && n < ARRAY_SIZE(abrt); i++)
		if (proc_catches_signal(s->cur.pids[i], SIGABRT))
			abrt[n++] = s->cur.pids[i];
	if (!n)
		return;
	pump_output(s, 0);
	s->pt.on_crash = NULL; /* our own SIGABRT is not a crash to snapshot */
	s->pt.on_exit_crash = NULL;
	s->cap[0].hang = s->cap[1].hang = &s->hang_buf;
	for (size_t i = 0; i < n; i++)
		kill(abrt[i], SIGABRT);
	deadline = now_monotonic() + ABRT_GRACE;
	while (now_monotonic() < deadline) {
		bool all_gone = true;
		pump_output(s, 50);
		reap(s);
		for (size_t i = 0; i < n; i++)
			if (!pid_gone(abrt[i]))
				all_gone = false;
		if (all_gone)
			break;
	}
	pump_output(s, 0);
	s->cap[0].hang = s->cap[1].hang = NULL;
	if (s->hang_buf.len)
		s->out->python_stacks = sbuf_detach(&s->hang_buf);
}

/* SIGKILL the whole tree until nothing of it is left, reaping as we go. */
static void kill_tree(struct sup *s)
{
	double deadline = now_monotonic() + 10.0;
	struct tree_sample ts = { 0 };
	kill(-s->root, SIGKILL);
	for (;;) {
		bool any = false;
		pid_t *members = NULL;
		size_t nm = 0;
		tree_sample_take(&ts, s->root_done ? 0 : s->root, getpid());
		for (size_t i = 0; i < ts.npids; i++) {
			note_seen(s, ts.pids[i]);
			kill(ts.pids[i], SIGKILL);
			any = true;
		}
		if (cgroup_pids(&s->cg, &members, &nm) == 0) {
			for (size_t i = 0; i < nm; i++)
				if (!pid_gone(members[i])) {
					kill(members[i], SIGKILL);
					any = true;
				}
			free(members);
		}
		reap(s);
		pump_output(s, 0);
		if (!any || now_monotonic() > deadline)
			break;
		usleep(10000);
	}
	if (now_monotonic() > deadline)
		warning("processes of the test tree survived SIGKILL for 10 s (stuck in the kernel?)");
	tree_sample_release(&ts);
}

/* Decide: record the hang (with the snapshot taken already, or one now) and kill the tree. */
static void hang_with(struct sup *s, enum killed_by kind, struct snapshot *taken)
{
	double now = now_monotonic();
	pump_output(s, 0);
	s->pre_kill_line = capture_latest_line(&s->cap[0], &s->cap[1]);
	s->out->killed_by = kind;
	s->out->detected_after_s = now - s->last_progress;
	if (kind != KILLED_INTERRUPT) {
		struct snapshot snap = { 0 };
		record_threads(s);
		if (s->tt.tracing && !taken)
			take_snapshot(s, kind == KILLED_DEADLOCK ? "deadlock"
					 : kind == KILLED_STALL  ? "stall"
								 : "timeout", &snap);
		if (!s->tt.tracing || !record_snapshot(s, taken ? taken : &snap)) {
			if (s->tt.tracing)
				ptracer_resume_all(&s->pt);
			capture_python_stacks(s);
		}
	}
	kill_tree(s);
}

static void hang(struct sup *s, enum killed_by kind)
{
	hang_with(s, kind, NULL);
}

/*
 * The deadlock rules, on the tracer's view of blocked threads (its own live one, or the
 * last /proc sample): a certain cycle of owned locks (certain_deadlock) at once, else every
 * thread blocked for deadlock_window. true: the tree was declared hung (and killed).
 */
static bool deadlock_check(struct sup *s, double now)
{
	const struct iter_spec *spec = s->spec;
	const struct tracer_ops *ops = s->tt.ops;
	struct proc_view pv = { &s->cur, s->all_blocked, s->blocked_since };
	double quiet_from;
	if (spec->deadlock_window <= 0)
		return false;
	if (s->tt.tracing && now >= s->next_cycle_check) {
		struct wg_waiter *w;
		struct snapshot snap = { 0 };
		size_t nw = ops->waiters(&s->tt, &pv, &w);
		bool dl = certain_deadlock(s, w, nw, &snap);
		free(w);
		if (ops->live_view)
			s->next_cycle_check = now + 0.1; /* else at each sample */
		if (dl) {
			if (ops->live_view)
				sample(s, &(bool){ false }); /* the /proc view for the record */
			hang_with(s, KILLED_DEADLOCK, &snap);
			return true;
		}
	}
	/* Everything blocked for the window means no progress for it either: skip the
	 * recorder's map walk while output or CPU time moved within the window. */
	if (now - s->last_progress >= spec->deadlock_window &&
	    ops->all_blocked(&s->tt, &pv, &quiet_from) &&
	    now - (quiet_from > s->last_progress ? quiet_from : s->last_progress) >=
		    spec->deadlock_window) {
		if (ops->live_view)
			sample(s, &(bool){ false }); /* the /proc view for the record */
		hang(s, KILLED_DEADLOCK);
		return true;
	}
	return false;
}

static _Noreturn void child_exec(const struct iter_spec *spec, const struct tracer_ops *tracer,
				 const struct cgroup *cg, int out_w, int err_w, pid_t parent)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;
	struct rlimit core = { 0, 0 };
	int devnull;
	setpgid(0, 0);
	cgroup_enter_self(cg);
	if (run_as_set) {
		/* Drop to the test user before anything of the test runs. */
		int r = supervise_become(&run_as_user);
		if (r < 0) {
			dprintf(2, "ftscope: error: cannot switch to user '%s': %s\n",
				run_as_user.name, strerror(-r));
			_exit(126);
		}
	}
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != parent)
		_exit(127);
	devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0)
		dup2(devnull, 0);
	dup2(out_w, 1);
	dup2(err_w, 2);
	/* Nothing of ftscope's, nor of whoever started it (`exec 7<secret; ftscope run`),
	 * reaches the test: every descriptor but 0, 1 and 2 is closed. */
	if (close_range(3, ~0U, 0) < 0)
		for (int fd = 3; fd < 65536; fd++)
			close(fd);
	umask(022);
	setrlimit(RLIMIT_CORE, &core);
	if (spec->cwd && chdir(spec->cwd) < 0) {
		dprintf(2, "ftscope: error: cannot enter '%s': %s\n", spec->cwd, strerror(errno));
		_exit(127);
	}
	if (tracer->child_prepare)
		tracer->child_prepare(); /* the parent seizes us here, before the command runs */
	execle("/bin/sh", "sh", "-c", spec->command, (char *)NULL, spec->envp);
	dprintf(2, "ftscope: error: cannot execute /bin/sh: %s\n", strerror(errno));
	_exit(127);
}

int supervise_run(const struct iter_spec *spec, struct iter_outcome *out)
{
	struct sup s = { .spec = spec,
			 .out = out,
			 .blocked_since = -1,
			 .sigchld_fd = -1,
			 .procconn_fd = -1 };
	sigset_t chld, oldmask;
	bool masked = false;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	double next_sample = 0, next_tick = 0;
	int ret = -1;
	memset(out, 0, sizeof(*out));
	s.tt.tracer = spec->tracer;
	s.tt.ops = spec->tracer ? spec->tracer->ops : &tracer_none_ops;
	s.tt.pt = &s.pt;
	out->tracer = tracer_none_ops.name; /* until a tracer attaches */
	sbuf_init(&s.hang_buf);
	capture_init(&s.cap[0], spec->stdout_path, spec->max_output, spec->collect_stdout);
	capture_init(&s.cap[1], spec->stderr_path, spec->max_output, NULL);
	if ((spec->stdout_path && s.cap[0].file < 0) || (spec->stderr_path && s.cap[1].file < 0)) {
		out->spawn_error = xasprintf("cannot create capture files in '%s': %s",
					     spec->stdout_path, strerror(errno));
		goto out;
	}
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		out->spawn_error = xasprintf("pipe: %s", strerror(errno));
		goto out;
	}
	fcntl(outp[0], F_SETPIPE_SZ, OUTPUT_PIPE_SIZE); /* best effort: 64 KiB stays */
	fcntl(errp[0], F_SETPIPE_SZ, OUTPUT_PIPE_SIZE);
	if (spec->max_tasks > 0) {
		if (cgroup_create(&s.cg, spec->max_tasks, &out->task_limit_off) == 0)
			out->task_limit = spec->max_tasks;
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	masked = sigprocmask(SIG_BLOCK, &chld, &oldmask) == 0; /* the child unblocks all itself */
	if (s.tt.ops->begin)
		s.tt.ops->begin(&s.tt);
	s.sigchld_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s.tt.ops->signs_crashes && s.tt.ops->signs_crashes(&s.tt)) {
		/* The recorder sees a crash's registers itself (at the signal, in the crashing
		 * thread): threads need not be held from their first instruction, so none is
		 * traced until one must be stopped (a snapshot). A crash in a thread not traced
		 * is signed at its process's exit stop. */
		s.pt.lazy_threads = true;
		s.pt.stops.on_demand = true;
	} else if (s.tt.ops != &tracer_none_ops && spec->seize_threads) {
		/* Threads seized from the kernel's process events instead of two stops each at
		 * their start; where those are not to be had, clone stops as by default. Not the
		 * default: a thread that crashes before it is seized has no crash stop, and a
		 * thread a barrier releases as it starts can crash within microseconds. */
		int fd = procconn_open();
		if (fd >= 0) {
			s.procconn_fd = fd;
			s.pt.lazy_threads = true;
		} else if (fd == -ETIMEDOUT) {
			out->why_clone_stops = "the kernel's process events do not reach this "
					       "namespace (they go to the initial user, pid and "
					       "network namespaces only)";
		} else {
			out->why_clone_stops = strerror(-fd);
		}
	}
	s.t0 = now_monotonic();
	s.cpu0 = self_cpu_s();
	s.root = fork();
	if (s.root < 0) {
		out->spawn_error = xasprintf("fork: %s", strerror(errno));
		goto out;
	}
	if (s.root == 0)
		child_exec(spec, s.tt.ops, &s.cg, outp[1], errp[1], getppid());
	setpgid(s.root, s.root);
	out->started = true;
	s.pt.on_crash = on_crash;
	s.pt.on_exit_crash = on_exit_crash;
	s.pt.arg = &s;
	s.tt.ops->attach(&s.tt, s.root, out);
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	s.cap[0].fd = outp[0];
	s.cap[1].fd = errp[0];
	outp[0] = errp[0] = -1;
	fcntl(s.cap[0].fd, F_SETFL, O_NONBLOCK);
	fcntl(s.cap[1].fd, F_SETFL, O_NONBLOCK);
	s.last_progress = s.t0;
	note_seen(&s, s.root);

	for (;;) {
		double now;
		bool got = pump_output(&s, 50);
		if (!s.reaped) /* what came since is a SIGCHLD for the next poll */
			reap(&s);
		s.reaped = false;
		now = now_monotonic();
		if (got)
			s.last_progress = now;
		if (spec->tick && now >= next_tick) {
			spec->tick(spec->tick_arg, now - s.t0);
			next_tick = now + 0.1;
		}
		if (s.root_done) {
			/* The test command is over: anything it left behind goes too. */
			if (s.cap[0].fd < 0 && s.cap[1].fd < 0)
				break;
			if (now - s.root_done_at > EXIT_GRACE) {
				kill_tree(&s);
				pump_output(&s, 0);
				break;
			}
			continue;
		}
		if (spec->interrupted && *spec->interrupted) {
			hang(&s, KILLED_INTERRUPT);
			break;
		}
		if (spec->timeout > 0 && now - s.t0 >= spec->timeout) {
			sample(&s, &(bool){ false });
			hang(&s, KILLED_TIMEOUT);
			break;
		}
		if (s.tt.ops->live_view && deadlock_check(&s, now))
			break;
		if (now < next_sample)
			continue;
		next_sample = now + s.tt.ops->sample_interval;
		if (s.procconn_fd >= 0 && s.tt.tracing)
			ptracer_sweep(&s.pt, 0); /* a thread whose event was missed, if any */
		{
			bool progress = sample(&s, &s.all_blocked);
			if (progress)
				s.last_progress = now;
			if (!s.all_blocked)
				s.blocked_since = -1;
			else if (s.blocked_since < 0)
				s.blocked_since = now;
			if (!s.tt.ops->live_view && deadlock_check(&s, now))
				break;
			if (spec->stall_threshold > 0 && now - s.last_progress >= spec->stall_threshold) {
				hang(&s, KILLED_STALL);
				break;
			}
		}
	}
	/* Whatever happened, nothing of the tree may outlive the iteration: also not a daemon
	 * that closed its stdout and stderr before the test command ended (it is in the
	 * cgroup, or our orphan as the subreaper). */
	kill_tree(&s);
	while (!s.root_done) { /* the root is our child: it must be reaped */
		int st;
		struct rusage ru;
		pid_t w = wait4(s.root, &st, __WALL, &ru);
		if (w == s.root) {
			s.root_status = st;
			s.root_done = true;
		} else if (w < 0 && errno != EINTR) {
			break;
		}
	}
	reap(&s);
	out->duration_s = now_monotonic() - s.t0;
	out->supervisor_cpu_s = self_cpu_s() - s.cpu0;
	if (WIFEXITED(s.root_status)) {
		out->exited = true;
		out->exit_code = WEXITSTATUS(s.root_status);
	} else if (WIFSIGNALED(s.root_status)) {
		out->term_signal = WTERMSIG(s.root_status);
		out->exit_code = -out->term_signal;
		out->core_dumped = WCOREDUMP(s.root_status);
	}
	{
		double last_data = s.cap[0].last_data > s.cap[1].last_data ? s.cap[0].last_data
									   : s.cap[1].last_data;
		if (last_data == 0)
			last_data = s.t0;
		out->output_stalled = spec->stall_threshold > 0 &&
				      now_monotonic() - last_data >= spec->stall_threshold;
		out->last_output_line = s.pre_kill_line ? s.pre_kill_line
							: capture_latest_line(&s.cap[0], &s.cap[1]);
		s.pre_kill_line = NULL;
	}
	out->processes = (int)s.nseen;
	if (s.tt.tracing) {
		classify_crashes(&s);
		out->ptrace_stops = s.pt.stops;
		/* from clone/exit events: exact, where /proc samples miss short-lived threads */
		out->peak_threads = (int)s.pt.peak_threads;
		out->concurrency_source = "ptrace";
		if (s.pt.processes > (unsigned long)out->processes) /* exact, not sampled */
			out->processes = (int)s.pt.processes;
	}
	if (s.tt.ops->summary)
		s.tt.ops->summary(&s.tt, out);
	out->task_limit_hits = cgroup_limit_hits(&s.cg);
	out->peak_tasks = cgroup_peak(&s.cg);
	ret = 0;
out:
	out->output_truncated |= capture_finish(&s.cap[0], &out->stdout_tail, &out->stdout_bytes);
	out->output_truncated |= capture_finish(&s.cap[1], &out->stderr_tail, &out->stderr_bytes);
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (s.sigchld_fd >= 0)
		close(s.sigchld_fd);
	procconn_close(s.procconn_fd);
	if (masked)
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
	sbuf_release(&s.hang_buf);
	free(s.pre_kill_line);
	cgroup_destroy(&s.cg);
	ptracer_release(&s.pt);
	tree_sample_release(&s.cur);
	tree_sample_release(&s.prev);
	free(s.seen);
	return ret;
}

void iter_outcome_release(struct iter_outcome *o)
{
	free(o->spawn_error);
	free(o->threads);
	free(o->python_stacks);
	free(o->stdout_tail);
	free(o->stderr_tail);
	free(o->last_output_line);
	free(o->tracer_error);
	for (size_t i = 0; i < o->ncrashes; i++) {
		free(o->crashes[i].sig_text);
		free(o->crashes[i].py_frame);
		cJSON_Delete(o->crashes[i].top_frames);
	}
	free(o->crashes);
	cJSON_Delete(o->forensics);
	cJSON_Delete(o->recorder);
	memset(o, 0, sizeof(*o));
}
