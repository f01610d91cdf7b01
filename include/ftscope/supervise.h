/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_SUPERVISE_H
#define FTSCOPE_SUPERVISE_H

/*
 * One supervised process tree: `/bin/sh -c command` in its own process group, stdout and
 * stderr captured to files (bounded), the whole tree monitored for progress through /proc
 * until it exits, hangs or times out; then every process of it is killed and reaped.
 *
 * Hang rules (design.md "Iteration verdicts"):
 *  - lock_wait: every live thread of the tree is blocked in an untimed futex wait (or waits
 *    for a child), at least one in a futex, and no thread gained CPU time, for
 *    deadlock_window seconds;
 *  - stall: no byte on stdout or stderr and no CPU progress for stall_threshold seconds;
 *  - timeout: timeout seconds elapsed.
 * Before killing a hung tree, every process of it that catches SIGABRT (faulthandler) gets
 * one, so Python dumps all its threads' stacks to stderr; that text is kept.
 *
 * The caller must have made itself a child subreaper (supervise_init) so orphans of the
 * tree stay reachable and are reaped here.
 */
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ftscope/ptracer.h"
#include "ftscope/util.h"
#include "ftscope/verdict.h"



/* A process of the tree that ended by a crash signal (ptrace tracer only). */
struct proc_crash {
	int pid, ppid;
	char comm[20], parent_comm[20];
	int sig;
	bool runner;       /* started by the test command, not by Python: the test runner */
	int tid;           /* thread that received the signal (0 if not seen) */
	bool from_recorder; /* its thread was not traced: registers from the eBPF recorder,
			       the process held at its exit stop */
	int fault_code;        /* siginfo si_code */
	unsigned long long fault_addr; /* siginfo si_addr */
	char sig_id[17];   /* crash signature id ("" if no snapshot) */
	char *sig_text;    /* crash signature text, or NULL */
	char *py_frame;    /* innermost Python frame of the crashing thread, or NULL */
	struct cJSON *top_frames; /* the signature's frames (array), or NULL */
};

struct cJSON;
struct tracer;

struct iter_spec {
	const char *command;      /* run by /bin/sh -c */
	const char *cwd;
	char *const *envp;        /* the complete environment */
	const char *stdout_path;  /* capture files; NULL: discard */
	const char *stderr_path;
	double timeout;           /* seconds; <= 0: none */
	double stall_threshold;   /* seconds; <= 0: off */
	double deadlock_window;   /* seconds; <= 0: off */
	size_t max_output;        /* bytes kept per capture file (and per collect buffer) */
	struct sbuf *collect_stdout; /* if set, stdout is also kept here (bounded) */
	long max_tasks;           /* pids cgroup limit for the tree; 0: none */
	struct tracer *tracer;    /* what watches the tree (tracer.h); NULL: /proc only */
	bool seize_threads;       /* new threads seized from process events, not clone stops */
	volatile sig_atomic_t *interrupted;
	/* Called about every 100 ms while the tree runs (progress line). */
	void (*tick)(void *arg, double elapsed);
	void *tick_arg;
};

struct hang_thread {
	int pid, tid;
	char comm[20];
	char state;
	long syscall;
	unsigned long long futex_uaddr;
	unsigned long long futex_op;
	bool blocked; /* untimed futex wait or waiting for a child */
};

struct iter_outcome {
	bool started;            /* false: fork/exec failed (spawn_error says why) */
	char *spawn_error;
	bool exited;             /* the shell exited normally (exit_code valid) */
	int exit_code;           /* 0..255, or -SIG when a signal ended it */
	int term_signal;         /* the signal that ended it, else 0 */
	bool core_dumped;
	double duration_s;
	double cpu_s;            /* user + sys of every reaped process of the tree */
	double supervisor_cpu_s; /* user + sys of the supervisor itself while it watched */
	long max_rss_kb;
	int processes;           /* distinct processes seen in the tree */
	enum killed_by killed_by;
	double detected_after_s; /* last progress -> verdict, for hangs */
	struct hang_thread *threads; /* the tree's threads when the hang was declared */
	size_t nthreads;
	char *python_stacks;     /* output the SIGABRT dump produced, or NULL */
	size_t stdout_bytes, stderr_bytes;
	bool output_truncated;
	bool output_stalled;     /* no output for >= stall_threshold at the end */
	char *stdout_tail;       /* last 4096 bytes */
	char *stderr_tail;
	char *last_output_line;  /* last non-empty line of either stream (<= 200 chars) */
	long task_limit;         /* the pids limit in force, 0 if none */
	const char *task_limit_off; /* why there was none although asked (static), or NULL */
	long task_limit_hits;    /* forks/clones refused by the limit */
	long peak_tasks;         /* most tasks alive at once (cgroup), -1 unknown */
	const char *tracer;      /* name of the tracer that ran (may fall back to "none") */
	bool traced;             /* ptrace followed the tree (ptrace_stops, crashes) */
	char *tracer_error;      /* why ptrace could not be used, or NULL */
	const char *why_clone_stops; /* static: why --seize-threads could not be (NULL: not asked) */
	struct ptrace_stops ptrace_stops; /* what tracing stopped the tests for (ptrace) */
	int runner_crash_sig;    /* crash signal that ended the test runner (ptrace), else 0 */
	struct proc_crash *crashes; /* every crashed process of the tree (ptrace) */
	size_t ncrashes;
	struct cJSON *recorder;  /* the eBPF recorder's summary (bpfrec.h), or NULL */
	/* Was concurrency exercised? Peak threads from the recorder's or ptrace's clone and
	 * exit events, else (--tracer none) from /proc samples; concurrency_source says which
	 * ("ebpf", "ptrace", "proc"; static). */
	const char *concurrency_source;
	int peak_threads;        /* most live threads of one process of the tree at once */
	double cpu_overlap_ms;   /* time two or more threads were on a CPU together */
	long contended_waits;    /* futex waits seen (blocking lock acquisitions) */
	struct cJSON *forensics; /* array of snapshots (snapshot.h JSON form), or NULL */
	struct cJSON *hang_snapshot; /* borrowed: the hang's snapshot inside forensics */
};

/* Become a child subreaper. 0 or -errno. */
int supervise_init(void);

/*
 * The user every supervised command runs as (tests, installs, probes): the supervisor keeps
 * its privileges, the children drop to uid/gid with the user's groups before exec.
 * Applies to every later supervise_run; NULL: run as ourselves.
 */
struct run_as {
	uid_t uid;
	gid_t gid;
	char name[64];
	char home[512];  /* the user's home, or "" if it does not exist */
	bool dynamic;    /* a test uid without a passwd entry (sandbox.h): no groups */
};
void supervise_set_user(const struct run_as *ra);
const struct run_as *supervise_user(void); /* NULL if not switching */
/* Become ra for good (in a child): its groups (none for a dynamic uid), gid and uid, real,
 * effective and saved. 0 or -errno. */
int supervise_become(const struct run_as *ra);
int supervise_run(const struct iter_spec *spec, struct iter_outcome *out);
void iter_outcome_release(struct iter_outcome *o);

#endif
