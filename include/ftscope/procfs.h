/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_PROCFS_H
#define FTSCOPE_PROCFS_H

/*
 * Reading process and thread state from /proc: the progress monitor of the supervisor
 * (no tracer needed). Root (or the same uid without Yama restrictions) is needed for
 * /proc/PID/task/TID/syscall; without it, syscall reads as unknown and no thread counts as
 * blocked, so only the stall fallback and the timeout apply.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Syscall numbers (x86_64) the monitor cares about. */
#define FT_SYS_FUTEX 202
#define FT_SYS_WAIT4 61
#define FT_SYS_WAITID 247

struct task_sample {
	pid_t pid, tid;
	char comm[20];
	char state;                /* R, S, D, Z, T, t, X, I */
	unsigned long long cpu_ticks; /* utime + stime */
	long syscall;              /* -1 not in a syscall, -2 running, -3 unknown */
	uint64_t args[6];
	bool untimed_futex_wait;   /* FUTEX_WAIT*, LOCK_PI* with a NULL timeout */
	bool child_wait;           /* wait4/waitid: waits for its children */
};

struct tree_sample {
	struct task_sample *tasks;
	size_t n, cap;
	pid_t *pids;               /* processes of the tree */
	size_t npids, pids_cap;
	long rss_kb;               /* sum of VmRSS */
};

/*
 * List the processes descending from `root` (root included, if alive) by scanning /proc
 * and following ppid; `also_children_of` (the supervisor, a subreaper) adds orphans
 * reparented to it, except `exclude`. Then sample every thread of them.
 * Returns 0 or -errno (only when /proc cannot be read at all).
 */
int tree_sample_take(struct tree_sample *ts, pid_t root, pid_t also_children_of);
/* The same for processes known otherwise (the members of the tree's cgroup: no scan of every
 * process of the machine), in pid order. */
int tree_sample_take_pids(struct tree_sample *ts, const pid_t *pids, size_t n);
void tree_sample_release(struct tree_sample *ts);

/* Decode a futex op: true if it is a blocking wait (WAIT, WAIT_BITSET, LOCK_PI,
 * LOCK_PI2, WAIT_REQUEUE_PI). */
bool futex_op_is_wait(uint64_t op);
/* "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME" style name into buf. */
void futex_op_name(uint64_t op, char *buf, size_t n);

/* Parse a /proc/PID/task/TID/syscall line into t (syscall, args, untimed_futex_wait,
 * child_wait). Exposed for unit tests. */
void parse_syscall_line(const char *line, struct task_sample *t);

/* Parse a /proc/PID/stat line (NUL-terminated): comm (truncated to commlen), state, ppid,
 * utime + stime. Any pointer may be NULL but state. 0 or -EIO. Exposed for fuzzing. */
int proc_stat_parse(const char *buf, char *comm, size_t commlen, char *state, pid_t *ppid,
		    unsigned long long *ticks);
/* The value after "Name:" of the line starting with name in /proc/PID/status text, or
 * NULL. Borrowed from text. */
const char *proc_status_field(const char *text, const char *name);

/* Signals a process catches (SigCgt of /proc/PID/status) include sig? */
bool proc_catches_signal(pid_t pid, int sig);

#endif
