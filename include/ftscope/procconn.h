/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_PROCCONN_H
#define FTSCOPE_PROCCONN_H

/*
 * The kernel's process events connector (netlink, CN_IDX_PROC): one message per task the
 * host creates, thread or process, sent before the task first runs, without stopping
 * anything. The ptrace tracer learns of new threads from it and seizes them (no clone stop,
 * no first stop: ptracer.h). It needs root in the initial user, pid and network namespaces;
 * elsewhere the kernel ignores the request, and procconn_open says so: it waits for the
 * kernel's acknowledgement instead of trusting a socket that would stay silent.
 */
#include <stdint.h>
#include <sys/types.h>

struct procconn_fork {
	pid_t parent_pid, parent_tgid; /* a thread's: its process's parent */
	pid_t child_pid, child_tgid;   /* child_pid != child_tgid: a thread */
	uint64_t at_ns;                /* CLOCK_MONOTONIC of the event, nanoseconds */
};

/* A listening socket (non-blocking), or -errno (-EPERM, -EPROTONOSUPPORT, -ETIMEDOUT: no
 * acknowledgement, as in a container's own namespaces). */
int procconn_open(void);
/* Read every queued message; fn for each fork event. Returns the number of fork events, or
 * -ENOBUFS when the kernel dropped messages (the socket fell behind: some were lost). */
int procconn_drain(int fd, void (*fn)(void *arg, const struct procconn_fork *f), void *arg);
/* Stop listening and close. */
void procconn_close(int fd);

#endif
