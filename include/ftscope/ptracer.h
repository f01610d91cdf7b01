/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_PTRACER_H
#define FTSCOPE_PTRACER_H

/*
 * The ptrace tracer: follows every process and thread of a supervised tree
 * (PTRACE_SEIZE with clone/fork/vfork/exec tracing and EXITKILL), passes signals through
 * unchanged, and
 *  - stops a thread at the delivery of a crash signal, before any handler runs, so the
 *    caller can snapshot the whole process; then delivers the signal as it would have been;
 *  - stops every task on request (hang snapshots) and resumes them;
 *  - reports how every process of the tree ended, including those whose parent is not us
 *    (a tracer is told of a tracee's exit before its real parent).
 *
 * New threads: auto-attached by PTRACE_O_TRACECLONE (a clone stop and a first stop each), or,
 * with lazy_threads, not at their start: seized without any stop as the kernel's process
 * events name them (the owner passes them to ptracer_on_fork), or only when they must be
 * stopped (ptracer_stop_all); a crash in a thread not traced is seen at its process's exit
 * stop (on_exit_crash).
 *
 * Events (strace's next_event/dispatch_event split): the owner's wait4(-1, __WALL) loop passes
 * each status of a traced task to ptracer_handle(); the tracer restarts the task as each kind
 * of stop requires:
 *   PTRACE_EVENT_STOP, our interrupt       -> stays stopped until ptracer_resume_all
 *   PTRACE_EVENT_STOP, group-stop          -> PTRACE_LISTEN (the stop is the test's own)
 *   PTRACE_EVENT_STOP, new task attached   -> its options (threads: no exit stop), PTRACE_CONT
 *   PTRACE_EVENT_{CLONE,FORK,VFORK,EXEC,VFORK_DONE} -> PTRACE_CONT (new tid recorded)
 *   PTRACE_EVENT_EXIT (processes only)     -> identity read (comm, parent), PTRACE_CONT
 *   signal-delivery-stop, crash signal     -> crash callback, then PTRACE_CONT with the signal
 *   signal-delivery-stop, other signal     -> PTRACE_CONT with the signal
 */
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct ptask {
	pid_t tid, tgid;
	bool stopped;     /* in a stop we hold (interrupt or signal stop of a stopped world) */
	bool want_stop;   /* PTRACE_INTERRUPT sent, waiting for the stop */
	bool exited;      /* detached (an ended task leaves the table) */
	bool fresh;       /* auto-attached, its first stop not seen yet */
	int opts;         /* its ptrace options as set (-1: unknown) */
	int pending_sig;  /* signal to deliver when resumed */
	bool identified;  /* comm/ppid read (at the exit stop) */
	pid_t ppid;
	char comm[20], parent_comm[20];
};

struct proc_end {
	pid_t pid, ppid;
	int status;       /* wait status */
	bool crashed;     /* ended by a crash signal */
	char comm[20], parent_comm[20];
};

/* The stops the tracer serviced, by cause: what tracing cost the tests (each stop holds a
 * task until the supervisor has run). */
struct ptrace_stops {
	unsigned long clone;    /* a task started a thread or a process (its event stop) */
	unsigned long new_task; /* the new task's first stop */
	unsigned long exec;
	unsigned long exit;     /* a process's exit stop (threads have none) */
	unsigned long signal;   /* a signal's delivery */
	unsigned long other;    /* group stops, our own interrupts, vfork-done */
	/* Threads followed without stops (ptracer.lazy_threads): seized when the kernel's
	 * process events named them, and how long after their creation (microseconds). */
	bool lazy;
	bool on_demand; /* lazy, and seized only to be stopped: no process events */
	unsigned long seized;
	double seize_lag_sum_us, seize_lag_max_us;
};

static inline unsigned long ptrace_stops_total(const struct ptrace_stops *s)
{
	return s->clone + s->new_task + s->exec + s->exit + s->signal + s->other;
}

struct ptracer;
struct procconn_fork;

/* Called in a thread's signal-delivery-stop for a crash signal, once per process, with every
 * thread of that process stopped (ptracer_stopped_tasks lists them); the tracer resumes them
 * and delivers the signal afterwards. */
typedef void (*crash_fn)(void *arg, struct ptracer *pt, pid_t tid, pid_t tgid, int sig,
			 const siginfo_t *si);

/* Called at the exit stop of a process that a crash signal ends although no thread of it had
 * a crash stop (the crashing thread was not traced: lazy_threads), once per process, with
 * the leader held (its memory is still there; the other threads are gone). */
typedef void (*exit_crash_fn)(void *arg, struct ptracer *pt, pid_t tgid, int sig);

struct ptracer {
	struct ptask *tasks; /* live tasks only */
	size_t n, cap;
	int opts;            /* a process's options (a thread's lack PTRACE_O_TRACEEXIT) */
	struct proc_end *ends;
	size_t nends, capends;
	pid_t *crashed_tgids; /* processes already snapshotted for a crash */
	size_t ncrashed;
	crash_fn on_crash;
	exit_crash_fn on_exit_crash;
	void *arg;
	struct ptrace_stops stops;
	/* Set before attaching: new threads are not auto-attached (no PTRACE_O_TRACECLONE, so
	 * no clone stop and no first stop), nor processes their untraced threads start. The
	 * owner passes the kernel's process events to ptracer_on_fork, which seizes each new
	 * thread of a traced process as it starts (--seize-threads; ptracer_sweep seizes any
	 * that was missed), or only such processes (the recorder's fork events: threads on
	 * demand, seized by ptracer_stop_all's sweep). A crash in a thread not traced has no
	 * crash stop: on_exit_crash is told at its process's exit stop. */
	bool lazy_threads;
	unsigned long processes; /* processes followed, the first one included */
	unsigned long peak_threads; /* most live threads of one process at once, counted at
				       every clone and exit event (exact, unlike /proc samples) */
};

/* Can this process trace its children? Tries it once on a throwaway child. */
bool ptrace_permitted(const char **why);

/* In the child before exec: stop, so the parent can seize before the command runs. */
void ptracer_child_prepare(void);
/* In the parent: wait for the child's self-stop, seize it, let it run. 0 or -errno. */
int ptracer_attach_child(struct ptracer *pt, pid_t child);
/* Attach to every thread of a running process (ftscope dump). 0 or -errno. */
int ptracer_attach_process(struct ptracer *pt, pid_t pid);
/* Detach from every task (the process continues). */
void ptracer_detach_all(struct ptracer *pt);

/* A task was created (procconn.h, or the recorder's fork event): seize it if it is a thread
 * of a traced process, or a process a traced process started that is not traced yet (its
 * creating thread was not traced when it forked); lazy_threads only. */
void ptracer_on_fork(struct ptracer *pt, const struct procconn_fork *f);
/* Seize every thread of process tgid (0: of every traced process) not yet traced
 * (lazy_threads only). Returns how many were seized. */
int ptracer_sweep(struct ptracer *pt, pid_t tgid);
/* true if tid is traced by pt. */
bool ptracer_owns(const struct ptracer *pt, pid_t tid);
/* Handle a wait status of a traced task (see above). Exits are recorded in pt->ends. */
void ptracer_handle(struct ptracer *pt, pid_t tid, int status);
/*
 * Stop every live task (tgid > 0: only that process's threads) and wait until each is
 * stopped or gone, handling other events meanwhile; gives up after timeout_s. Returns the
 * number of stopped tasks.
 */
int ptracer_stop_all(struct ptracer *pt, pid_t tgid, double timeout_s);
void ptracer_resume_all(struct ptracer *pt);
/* Live tasks of process tgid (or all with 0) that are currently stopped, into out (max n). */
size_t ptracer_stopped_tasks(const struct ptracer *pt, pid_t tgid, pid_t *out, size_t max);
void ptracer_release(struct ptracer *pt);

#endif
