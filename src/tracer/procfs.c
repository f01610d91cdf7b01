/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ftscope/procfs.h"
#include "ftscope/util.h"

/* linux/futex.h, spelled out so the build does not depend on kernel headers. */
#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_LOCK_PI2 13
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_CMD_MASK (~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME))

bool futex_op_is_wait(uint64_t op)
{
	switch ((int)(op & FUTEX_CMD_MASK)) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
	case FUTEX_WAIT_REQUEUE_PI:
		return true;
	default:
		return false;
	}
}

void futex_op_name(uint64_t op, char *buf, size_t n)
{
	static const char *const names[] = {
		"FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_FD", "FUTEX_REQUEUE", "FUTEX_CMP_REQUEUE",
		"FUTEX_WAKE_OP", "FUTEX_LOCK_PI", "FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI",
		"FUTEX_WAIT_BITSET", "FUTEX_WAKE_BITSET", "FUTEX_WAIT_REQUEUE_PI",
		"FUTEX_CMP_REQUEUE_PI", "FUTEX_LOCK_PI2",
	};
	unsigned cmd = (unsigned)(op & FUTEX_CMD_MASK);
	if (cmd < ARRAY_SIZE(names))
		snprintf(buf, n, "%s%s%s", names[cmd], op & FUTEX_PRIVATE_FLAG ? "_PRIVATE" : "",
			 op & FUTEX_CLOCK_REALTIME ? "|FUTEX_CLOCK_REALTIME" : "");
	else
		snprintf(buf, n, "0x%" PRIx64, op);
}

void parse_syscall_line(const char *line, struct task_sample *t)
{
	char *end;
	memset(t->args, 0, sizeof(t->args));
	t->untimed_futex_wait = t->child_wait = false;
	if (starts_with(line, "running")) {
		t->syscall = -2;
		return;
	}
	t->syscall = strtol(line, &end, 10);
	if (end == line) {
		t->syscall = -3;
		return;
	}
	if (t->syscall < 0)
		return;
	for (int i = 0; i < 6; i++) {
		const char *p = end;
		t->args[i] = strtoull(p, &end, 16);
		if (end == p)
			break;
	}
	if (t->syscall == FT_SYS_FUTEX)
		t->untimed_futex_wait = futex_op_is_wait(t->args[1]) && t->args[3] == 0;
	else if (t->syscall == FT_SYS_WAIT4 || t->syscall == FT_SYS_WAITID)
		t->child_wait = true;
}

int proc_stat_parse(const char *buf, char *comm, size_t commlen, char *state, pid_t *ppid,
		    unsigned long long *ticks)
{
	const char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
	unsigned long long ut = 0, st = 0;
	int pp = 0;

	if (!open_paren || !close_paren || close_paren < open_paren || !close_paren[1])
		return -EIO;
	if (comm && commlen) {
		size_t l = (size_t)(close_paren - open_paren - 1);
		if (l >= commlen)
			l = commlen - 1;
		memcpy(comm, open_paren + 1, l);
		comm[l] = '\0';
	}
	if (sscanf(close_paren + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", state,
		   &pp, &ut, &st) < 4)
		return -EIO;
	if (ppid)
		*ppid = pp;
	if (ticks)
		*ticks = ut + st;
	return 0;
}

static int read_stat(const char *path, char *comm, size_t commlen, char *state, pid_t *ppid,
		     unsigned long long *ticks)
{
	char buf[1024];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return proc_stat_parse(buf, comm, commlen, state, ppid, ticks);
}

const char *proc_status_field(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ':')
			return p + n + 1;
	return NULL;
}

static void push_pid(struct tree_sample *ts, pid_t pid)
{
	if (ts->npids == ts->pids_cap) {
		ts->pids_cap = ts->pids_cap ? ts->pids_cap * 2 : 32;
		ts->pids = xrealloc(ts->pids, ts->pids_cap * sizeof(*ts->pids));
	}
	ts->pids[ts->npids++] = pid;
}

static struct task_sample *push_task(struct tree_sample *ts)
{
	if (ts->n == ts->cap) {
		ts->cap = ts->cap ? ts->cap * 2 : 64;
		ts->tasks = xrealloc(ts->tasks, ts->cap * sizeof(*ts->tasks));
	}
	memset(&ts->tasks[ts->n], 0, sizeof(ts->tasks[0]));
	return &ts->tasks[ts->n++];
}

static long read_rss_kb(pid_t pid)
{
	char path[64], *text = NULL, *p;
	long kb = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file(path, &text, NULL) < 0)
		return 0;
	p = (char *)proc_status_field(text, "VmRSS");
	if (p)
		kb = strtol(p, NULL, 10);
	free(text);
	return kb;
}

bool proc_catches_signal(pid_t pid, int sig)
{
	char path[64], *text = NULL, *p;
	bool r = false;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file(path, &text, NULL) < 0)
		return false;
	p = (char *)proc_status_field(text, "SigCgt");
	if (p && sig >= 1 && sig <= 64) {
		unsigned long long mask = strtoull(p, NULL, 16);
		r = (mask >> (sig - 1)) & 1;
	}
	free(text);
	return r;
}

static void sample_threads(struct tree_sample *ts, pid_t pid)
{
	char path[96], line[512];
	DIR *d;
	struct dirent *de;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct task_sample *t;
		pid_t tid;
		int fd;
		ssize_t n;
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		tid = (pid_t)atoi(de->d_name);
		t = push_task(ts);
		t->pid = pid;
		t->tid = tid;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
		if (read_stat(path, t->comm, sizeof(t->comm), &t->state, NULL, &t->cpu_ticks) < 0) {
			ts->n--; /* the thread exited between readdir and read */
			continue;
		}
		t->syscall = -3;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, line, sizeof(line) - 1);
			close(fd);
			if (n > 0) {
				line[n] = '\0';
				parse_syscall_line(line, t);
			}
		}
	}
	closedir(d);
}

/* Every thread of the listed processes, and their RSS. */
static void sample_pids(struct tree_sample *ts)
{
	for (size_t q = 0; q < ts->npids; q++) {
		sample_threads(ts, ts->pids[q]);
		ts->rss_kb += read_rss_kb(ts->pids[q]);
	}
}

int tree_sample_take(struct tree_sample *ts, pid_t root, pid_t also_children_of)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	struct {
		pid_t pid, ppid;
	} *all = NULL;
	size_t nall = 0, capall = 0;
	ts->n = 0;
	ts->npids = 0;
	ts->rss_kb = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[64], state;
		pid_t pid, ppid;
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		if (read_stat(path, NULL, 0, &state, &ppid, NULL) < 0)
			continue;
		if (nall == capall) {
			capall = capall ? capall * 2 : 512;
			all = xrealloc(all, capall * sizeof(*all));
		}
		all[nall].pid = pid;
		all[nall].ppid = ppid;
		nall++;
	}
	closedir(d);
	/* Breadth-first over ppid links from the roots. */
	for (size_t i = 0; i < nall; i++)
		if (all[i].pid == root || (also_children_of > 0 && all[i].ppid == also_children_of &&
					   all[i].pid != root))
			push_pid(ts, all[i].pid);
	for (size_t q = 0; q < ts->npids; q++)
		for (size_t i = 0; i < nall; i++)
			if (all[i].ppid == ts->pids[q] && all[i].pid != ts->pids[q])
				push_pid(ts, all[i].pid);
	free(all);
	sample_pids(ts);
	return 0;
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return x < y ? -1 : x > y;
}

int tree_sample_take_pids(struct tree_sample *ts, const pid_t *pids, size_t n)
{
	pid_t *sorted = xcalloc(n ? n : 1, sizeof(*sorted));
	ts->n = 0;
	ts->npids = 0;
	ts->rss_kb = 0;
	memcpy(sorted, pids, n * sizeof(*pids));
	qsort(sorted, n, sizeof(*sorted), pid_cmp);
	for (size_t i = 0; i < n; i++)
		push_pid(ts, sorted[i]);
	free(sorted);
	sample_pids(ts);
	return 0;
}

void tree_sample_release(struct tree_sample *ts)
{
	free(ts->tasks);
	free(ts->pids);
	memset(ts, 0, sizeof(*ts));
}
