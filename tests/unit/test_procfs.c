/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The /proc parsers (procfs.h) on the /proc files of real processes started here: a child
 * in an untimed futex wait, one in a timed wait, one waiting for its own child, one asleep,
 * one spinning, one with a comm full of parentheses and a SIGUSR1 handler.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ftscope/procfs.h"
#include "ftscope/util.h"
#include "tap.h"

#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE 1

static uint32_t futex_word; /* at the same address in every forked child */

enum child_kind { C_FUTEX, C_FUTEX_TIMED, C_WAIT4, C_SLEEP, C_SPIN, C_NAMED };

static void on_usr1(int sig)
{
	(void)sig;
}

static _Noreturn void child(enum child_kind k)
{
	struct timespec ts = { 30, 0 };
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	switch (k) {
	case C_FUTEX:
		syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
		break;
	case C_FUTEX_TIMED:
		syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
		break;
	case C_WAIT4: {
		pid_t g = fork();
		if (g == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
			syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
			_exit(0);
		}
		waitpid(g, NULL, 0);
		break;
	}
	case C_SLEEP:
		nanosleep(&ts, NULL);
		break;
	case C_SPIN:
		for (volatile unsigned long i = 0;; i++)
			;
	case C_NAMED:
		signal(SIGUSR1, on_usr1);
		prctl(PR_SET_NAME, "a) b (c", 0, 0, 0);
		syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
		break;
	}
	_exit(0);
}

static pid_t start(enum child_kind k)
{
	pid_t pid = fork();
	if (pid == 0)
		child(k);
	return pid;
}

/* The child's syscall line once it is in syscall nr (or, for -2, running); NULL after 5 s. */
static char *syscall_line(pid_t pid, long nr)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	for (int i = 0; i < 500; i++) {
		char *text = NULL;
		if (read_file(path, &text, NULL) == 0) {
			long got = starts_with(text, "running") ? -2 : strtol(text, NULL, 10);
			if (got == nr)
				return text;
		}
		free(text);
		usleep(10000);
	}
	return NULL;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_syscall_lines(void)
{
	static const struct {
		enum child_kind kind;
		long nr;
		bool untimed, child_wait;
		const char *what;
	} cases[] = {
		{ C_FUTEX, FT_SYS_FUTEX, true, false, "untimed FUTEX_WAIT_PRIVATE" },
		{ C_FUTEX_TIMED, FT_SYS_FUTEX, false, false, "FUTEX_WAIT with a timeout" },
		{ C_WAIT4, FT_SYS_WAIT4, false, true, "waitpid for its child" },
		{ C_SLEEP, 230 /* clock_nanosleep */, false, false, "nanosleep" },
		{ C_SPIN, -2, false, false, "spinning" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		pid_t pid = start(cases[i].kind);
		char *line = syscall_line(pid, cases[i].nr);
		struct task_sample t;
		memset(&t, 0xff, sizeof(t));
		if (!ok(line != NULL, "%s: /proc/%d/syscall shows syscall %ld", cases[i].what, pid,
			cases[i].nr)) {
			stop(pid);
			continue;
		}
		parse_syscall_line(line, &t);
		is_int(t.syscall, cases[i].nr, "%s: syscall", cases[i].what);
		is_int(t.untimed_futex_wait, cases[i].untimed, "%s: untimed futex wait", cases[i].what);
		is_int(t.child_wait, cases[i].child_wait, "%s: child wait", cases[i].what);
		if (cases[i].nr == FT_SYS_FUTEX) {
			ok(t.args[0] == (uint64_t)(uintptr_t)&futex_word, "%s: uaddr is the word",
			   cases[i].what);
			is_int(t.args[1], FUTEX_WAIT_PRIVATE, "%s: op", cases[i].what);
			is_int(t.args[3] != 0, !cases[i].untimed, "%s: timeout argument",
			       cases[i].what);
		}
		free(line);
		stop(pid);
	}
	{
		struct task_sample t;
		parse_syscall_line("garbage", &t);
		is_int(t.syscall, -3, "an unreadable line is unknown (-3)");
		parse_syscall_line("-1 0x7ffc 0x0", &t);
		is_int(t.syscall, -1, "-1: not in a syscall");
		is_int(t.untimed_futex_wait, false, "-1: not a futex wait");
	}
}

static void test_stat_status_signals(void)
{
	pid_t pid = start(C_NAMED);
	char path[64], comm[20] = "", state = 0, *text = NULL, *line;
	pid_t ppid = 0;
	unsigned long long ticks = ~0ULL;
	const char *v;
	/* once it waits, its name and handler are set */
	line = syscall_line(pid, FT_SYS_FUTEX);
	ok(line != NULL, "the named child waits");
	free(line);
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	ok(read_file(path, &text, NULL) == 0, "read /proc/%d/stat", pid);
	is_int(proc_stat_parse(text ? text : "", comm, sizeof(comm), &state, &ppid, &ticks), 0,
	       "a stat line whose comm has ') (' parses");
	is_str(comm, "a) b (c", "comm up to the last ')'");
	is_int(state, 'S', "state S (in a futex wait)");
	is_int(ppid, getpid(), "ppid is ours");
	ok(ticks < 1000, "utime + stime of an idle child is small (%llu)", ticks);
	{
		char small[4];
		proc_stat_parse(text ? text : "", small, sizeof(small), &state, NULL, NULL);
		is_str(small, "a) ", "comm truncated to the buffer");
	}
	is_int(proc_stat_parse("1234 (no closing paren S 1", NULL, 0, &state, NULL, NULL), -EIO,
	       "no ')': -EIO");
	is_int(proc_stat_parse("1234 (x)", NULL, 0, &state, NULL, NULL), -EIO,
	       "nothing after ')': -EIO");
	free(text);
	text = NULL;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	ok(read_file(path, &text, NULL) == 0, "read /proc/%d/status", pid);
	v = text ? proc_status_field(text, "PPid") : NULL;
	ok(v && strtol(v, NULL, 10) == getpid(), "status PPid: our pid");
	v = text ? proc_status_field(text, "Threads") : NULL;
	ok(v && strtol(v, NULL, 10) == 1, "status Threads: 1");
	is_str(text ? proc_status_field(text, "Ppid") : NULL, NULL, "field names are exact");
	is_str(text ? proc_status_field(text, "PP") : NULL, NULL, "a prefix is no field");
	free(text);

	is_int(proc_catches_signal(pid, SIGUSR1), true, "catches SIGUSR1 (its handler)");
	is_int(proc_catches_signal(pid, SIGUSR2), false, "does not catch SIGUSR2");
	is_int(proc_catches_signal(getpid(), SIGUSR1), false, "we do not catch SIGUSR1");
	stop(pid);
	is_int(proc_catches_signal(pid, SIGUSR1), false, "a reaped process catches nothing");
}

static void test_tree_sample(void)
{
	pid_t pid = start(C_WAIT4);
	struct tree_sample ts = { 0 };
	char *line = syscall_line(pid, FT_SYS_WAIT4);
	bool root = false, waiter = false, child_wait = false;
	ok(line != NULL, "tree: the root waits for its child");
	free(line);
	/* the grandchild's futex wait may take a moment to show */
	for (int k = 0; k < 200 && !waiter; k++) {
		tree_sample_take(&ts, pid, 0);
		root = waiter = child_wait = false;
		for (size_t i = 0; i < ts.n; i++) {
			if (ts.tasks[i].pid == pid) {
				root = true;
				child_wait |= ts.tasks[i].child_wait;
			} else {
				waiter |= ts.tasks[i].untimed_futex_wait && ts.tasks[i].state == 'S';
			}
		}
		if (!waiter)
			usleep(10000);
	}
	is_int(ts.npids, 2, "tree: the root and its child");
	ok(root && child_wait, "tree: the root's thread waits for a child");
	ok(waiter, "tree: the grandchild is in an untimed futex wait");
	ok(ts.rss_kb > 0, "tree: VmRSS summed (%ld kB)", ts.rss_kb);
	{
		pid_t pids[1] = { pid };
		tree_sample_take_pids(&ts, pids, 1);
		is_int(ts.npids, 1, "by pids: only the ones given");
		ok(ts.n >= 1 && ts.tasks[0].pid == pid, "by pids: their threads");
	}
	tree_sample_release(&ts);
	stop(pid);
}

static void test_futex_ops(void)
{
	static const struct {
		uint64_t op;
		bool wait;
		const char *name;
	} cases[] = {
		{ 0, true, "FUTEX_WAIT" },
		{ 128, true, "FUTEX_WAIT_PRIVATE" },
		{ 1, false, "FUTEX_WAKE" },
		{ 129, false, "FUTEX_WAKE_PRIVATE" },
		{ 9 | 128 | 256, true, "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME" },
		{ 6, true, "FUTEX_LOCK_PI" },
		{ 7, false, "FUTEX_UNLOCK_PI" },
		{ 11, true, "FUTEX_WAIT_REQUEUE_PI" },
		{ 13 | 128, true, "FUTEX_LOCK_PI2_PRIVATE" },
		{ 99, false, "0x63" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[64];
		futex_op_name(cases[i].op, buf, sizeof(buf));
		is_str(buf, cases[i].name, "futex op %#llx name", (unsigned long long)cases[i].op);
		is_int(futex_op_is_wait(cases[i].op), cases[i].wait, "%s is%s a wait", cases[i].name,
		       cases[i].wait ? "" : " not");
	}
}

int main(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/syscall", getpid());
	test_futex_ops();
	if (access(path, R_OK) < 0) {
		printf("# skip: /proc/PID/syscall is not readable here (%s)\n", strerror(errno));
		return tap_done();
	}
	test_syscall_lines();
	test_stat_status_signals();
	test_tree_sample();
	return tap_done();
}
