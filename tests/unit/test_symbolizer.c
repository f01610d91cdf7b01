/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The native symbolizer (src/symbolizer/) against the fixtures of tests/fixtures/native, built
 * by their build.sh with pinned flags: stack_chain (main -> f0 .. f3, separate TUs) in its
 * pause, crash and signal modes, deadlock_native (two threads, two mutexes), and
 * stack_chain threads 100 for timings. Threads are stopped the way ftscope stops them
 * (PTRACE_SEIZE + PTRACE_INTERRUPT), unwound, symbolized, then detached.
 * Expected stacks are regexes over function names that tolerate libc internals (strace-k).
 * Skips when there is no C compiler or ptrace is not permitted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ftscope/symbolizer.h"
#include "ftscope/util.h"
#include "tap.h"

#define SYS_PAUSE 34
#define SYS_FUTEX 202
#define MAX_DEPTH 256

static char tmp_dir[] = "/tmp/ftscope-test-symbolizer.XXXXXX";
static char src_dir[4096];
static pid_t children[8];
static size_t nchildren;

static void kill_children(void)
{
	size_t i;
	for (i = 0; i < nchildren; i++) {
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, __WALL);
			children[i] = 0;
		}
	}
}

static __attribute__((noreturn)) void bail(const char *why)
{
	printf("Bail out! %s\n", why);
	kill_children();
	exit(99);
}

static void forget_child(pid_t pid)
{
	size_t i;
	for (i = 0; i < nchildren; i++)
		if (children[i] == pid)
			children[i] = 0;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, __WALL);
	forget_child(pid);
}

/* tests/fixtures/native: from $FTSCOPE_SRCDIR, next to build/tests/unit/, or the cwd. */
static bool find_src_dir(void)
{
	char exe[2048], *p;
	const char *env = getenv("FTSCOPE_SRCDIR");
	ssize_t n;
	struct stat st;

	if (env) {
		snprintf(src_dir, sizeof(src_dir), "%s/tests/fixtures/native", env);
		if (!stat(src_dir, &st))
			return true;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		p = strstr(exe, "/build/tests/unit/");
		if (p) {
			*p = '\0';
			snprintf(src_dir, sizeof(src_dir), "%s/tests/fixtures/native", exe);
			if (!stat(src_dir, &st))
				return true;
		}
	}
	if (!getcwd(exe, sizeof(exe) - 64))
		return false;
	snprintf(src_dir, sizeof(src_dir), "%s/tests/fixtures/native", exe);
	return !stat(src_dir, &st);
}

/* Line of the first line of src_dir/file containing marker, or -1. */
static int marker_line(const char *file, const char *marker)
{
	char *path = xasprintf("%s/%s", src_dir, file), *buf = NULL, *p;
	int line = 1, ret = -1;

	if (read_file(path, &buf, NULL) == 0 && (p = strstr(buf, marker))) {
		for (char *q = buf; q < p; q++)
			line += *q == '\n';
		ret = line;
	}
	free(path);
	free(buf);
	return ret;
}

static pid_t spawn(const char *prog, const char *arg1, const char *arg2, bool traceme)
{
	char *path = xasprintf("%s/%s", tmp_dir, prog);
	pid_t pid = fork();

	if (pid < 0)
		bail("fork failed");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0)
			dup2(null, 1);
		if (traceme)
			ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execl(path, prog, arg1, arg2, (char *)NULL);
		_exit(127);
	}
	free(path);
	if (nchildren < ARRAY_SIZE(children))
		children[nchildren++] = pid;
	return pid;
}

/* Syscall number a task is blocked in (/proc/PID/task/TID/syscall), or -1. */
static long task_syscall(pid_t pid, pid_t tid)
{
	char path[64], *buf = NULL;
	long nr = -1;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	if (read_file(path, &buf, NULL) == 0 && buf[0] >= '0' && buf[0] <= '9')
		nr = strtol(buf, NULL, 10);
	free(buf);
	return nr;
}

static size_t list_tasks(pid_t pid, pid_t *tids, size_t max)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max)
		if (de->d_name[0] != '.')
			tids[n++] = (pid_t)atoi(de->d_name);
	closedir(d);
	return n;
}

/* Wait until `want` tasks of pid (and at least that many) sit in syscall nr. */
static bool wait_blocked(pid_t pid, long nr, size_t want)
{
	pid_t tids[512];
	int i;

	for (i = 0; i < 1000; i++) {
		size_t n = list_tasks(pid, tids, ARRAY_SIZE(tids)), k, hits = 0;
		for (k = 0; k < n; k++)
			hits += task_syscall(pid, tids[k]) == nr;
		if (n >= want && hits >= want)
			return true;
		usleep(10000);
	}
	return false;
}

static char proc_state(pid_t pid)
{
	char path[64], *buf = NULL, *p, st = '?';

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, &buf, NULL) == 0 && (p = strrchr(buf, ')')) && p[1] && p[2])
		st = p[2];
	free(buf);
	return st;
}

/* PTRACE_SEIZE + PTRACE_INTERRUPT + waitpid (lowlevel.md 2.1); 0 or -errno. */
static int seize_stop(pid_t tid)
{
	int status;

	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)PTRACE_O_EXITKILL) < 0)
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0)
		return -errno;
	if (waitpid(tid, &status, __WALL) < 0)
		return -errno;
	if (!WIFSTOPPED(status) || (status >> 16) != PTRACE_EVENT_STOP)
		return -EPROTO;
	return 0;
}

static size_t seize_all(pid_t pid, pid_t *tids, size_t max)
{
	size_t n = list_tasks(pid, tids, max), i;
	for (i = 0; i < n; i++)
		if (seize_stop(tids[i]) < 0)
			bail("cannot stop a fixture thread");
	return n;
}

static void detach_all(const pid_t *tids, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		ptrace(PTRACE_DETACH, tids[i], NULL, NULL);
}

static const char *fname(const struct frame *f)
{
	return f->function ? f->function : "?";
}

static void print_stack(const char *title, const struct frame *fr, size_t n)
{
	size_t i;

	printf("# %s\n", title);
	for (i = 0; i < n; i++)
		printf("#   #%-2zu %s+%#llx/%#llx%s (%s+%#llx) %s:%d\n", i, fname(&fr[i]),
		       (unsigned long long)fr[i].func_offset, (unsigned long long)fr[i].func_size,
		       fr[i].signal_frame ? " [signal]" : "", fr[i].module ? fr[i].module : "?",
		       (unsigned long long)fr[i].module_offset,
		       fr[i].src_file ? fr[i].src_file : "", fr[i].src_line);
}

/* Function names joined by spaces ("?" when unnamed), for regex matching. */
static char *names_of(const struct frame *fr, size_t n)
{
	struct sbuf sb = SBUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			sbuf_addc(&sb, ' ');
		sbuf_adds(&sb, fname(&fr[i]));
	}
	return sbuf_detach(&sb);
}

static bool matches(const char *s, const char *re)
{
	regex_t r;
	bool m;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB))
		bail("bad regex in test");
	m = !regexec(&r, s, 0, NULL, 0);
	regfree(&r);
	return m;
}

static ssize_t find_frame(const struct frame *fr, size_t n, const char *name)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (fr[i].function && !strcmp(fr[i].function, name))
			return (ssize_t)i;
	return -1;
}

static bool ends_with_base(const char *path, const char *base)
{
	const char *b;
	if (!path)
		return false;
	b = strrchr(path, '/');
	return !strcmp(b ? b + 1 : path, base);
}

/* The st_size rule, checked on every named frame: the looked-up pc is in the symbol. */
static bool names_within_bounds(const struct frame *fr, size_t n, const char *module)
{
	size_t i;
	for (i = 0; i < n; i++) {
		uint64_t pc_off;
		if (!fr[i].function || (module && (!fr[i].module || strcmp(fr[i].module, module))))
			continue;
		pc_off = fr[i].func_offset - (fr[i].exact_ip ? 0 : 1);
		if (fr[i].func_size ? pc_off >= fr[i].func_size : pc_off != 0) {
			printf("# frame #%zu %s+%#llx outside its size %#llx\n", i, fr[i].function,
			       (unsigned long long)fr[i].func_offset,
			       (unsigned long long)fr[i].func_size);
			return false;
		}
		if (!strcmp(fr[i].function, "__nptl_death_event"))
			return false;
	}
	return true;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *libc_debug_file(const struct frame *fr, size_t n, char *buf, size_t len)
{
	size_t i;
	for (i = 0; i < n; i++) {
		if (fr[i].module && !strcmp(fr[i].module, "libc.so.6") && fr[i].build_id) {
			snprintf(buf, len, "/usr/lib/debug/.build-id/%.2s/%s.debug", fr[i].build_id,
				 fr[i].build_id + 2);
			return access(buf, R_OK) ? NULL : buf;
		}
	}
	return NULL;
}

/* Offsets of f3 .. main and of frame #0 from one "stack_chain pause" run, for ASLR. */
struct chain_offsets {
	uint64_t off[6], ip[6];
	bool valid;
};

static const char *const chain[] = { "f3", "f2", "f1", "f0", "main" };

static void check_chain_shape(const struct frame *fr, size_t n, ssize_t k, const char *mode,
			      const char *module)
{
	size_t i;

	ok(k >= 0 && (size_t)k + ARRAY_SIZE(chain) <= n, "%s: f3 found with 4 frames above", mode);
	if (k < 0 || (size_t)k + ARRAY_SIZE(chain) > n)
		return;
	for (i = 0; i < ARRAY_SIZE(chain); i++)
		is_str(fr[k + (ssize_t)i].function, chain[i], "%s: frame #%zd is %s", mode,
		       k + (ssize_t)i, chain[i]);
	for (i = 0; i < ARRAY_SIZE(chain); i++)
		if (strcmp(fr[k + (ssize_t)i].module ? fr[k + (ssize_t)i].module : "", module))
			break;
	ok(i == ARRAY_SIZE(chain), "%s: f3..main are in module '%s' (a basename)", mode, module);
}

static void test_pause(struct chain_offsets *co, bool verbose)
{
	pid_t pid = spawn("stack_chain", "pause", NULL, false), tid = pid;
	struct symbolizer *s, *s_nodbg;
	struct frame *fr = NULL, *fr2 = NULL, f = FRAME_INIT;
	size_t n = 0, n2 = 0, i;
	char dbg[512], *names;
	const char *dbgfile;
	uint64_t addr;
	ssize_t k;
	double t0, t1;
	int r, reps = 200;

	co->valid = false;
	if (!wait_blocked(pid, SYS_PAUSE, 1))
		bail("stack_chain pause never reached pause()");
	ok(seize_stop(tid) == 0, "seize + interrupt stack_chain (event stop)");
	s = symbolizer_new(pid);
	ok(s != NULL, "symbolizer_new");
	if (!s)
		bail("symbolizer_new failed");
	is_int(symbolizer_pid(s), pid, "symbolizer_pid");
	t0 = now();
	r = unwind_thread(s, tid, MAX_DEPTH, &fr, &n);
	t1 = now();
	is_int(r, 0, "unwind_thread on a thread in pause()");
	if (verbose) {
		print_stack("stack_chain pause:", fr, n);
		printf("# cold unwind + symbolize: %.2f ms\n", (t1 - t0) * 1e3);
	}
	names = names_of(fr, n);
	ok(matches(names, "^(((__)?(libc_)?pause|__GI_[a-z_]+|(__)?syscall[a-z_]*|\\?) )*"
			  "f3 f2 f1 f0 main( |$)"),
	   "stack matches libc-internals* f3 f2 f1 f0 main: %s", names);
	free(names);
	k = find_frame(fr, n, "f3");
	check_chain_shape(fr, n, k, "pause", "stack_chain");
	ok(n > 0 && fr[0].exact_ip, "frame #0 is looked up at its exact pc");
	ok(n > 1 && !fr[1].exact_ip, "callers are looked up at pc-1");
	for (i = 0; i < (size_t)(k > 0 ? k : 0); i++)
		if (!fr[i].module || strcmp(fr[i].module, "libc.so.6"))
			break;
	ok(k > 0 && i == (size_t)k, "every frame above f3 is in libc.so.6");
	if (k >= 0 && (size_t)k + 4 < n) {
		ok(ends_with_base(fr[k].src_file, "f3.c"), "f3's src_file is f3.c (%s)",
		   fr[k].src_file ? fr[k].src_file : "NULL");
		is_int(fr[k].src_line, marker_line("f3.c", "LINE_PAUSE"),
		       "f3's line is the pause() call");
		ok(ends_with_base(fr[k + 1].src_file, "f2.c"), "f2's src_file is f2.c");
		is_int(fr[k + 1].src_line, marker_line("f2.c", "= f3(mode)"),
		       "f2's line is its call of f3 (return address - 1)");
		ok(fr[k].module_path && fr[k].module_path[0] == '/' &&
		   ends_with_base(fr[k].module_path, "stack_chain"),
		   "module_path is the full path");
		ok(fr[k].build_id && strlen(fr[k].build_id) == 40 &&
		   strspn(fr[k].build_id, "0123456789abcdef") == 40, "build-id is 40 hex digits");
		for (i = 0; i < ARRAY_SIZE(chain); i++) {
			co->off[i] = fr[k + (ssize_t)i].module_offset;
			co->ip[i] = fr[k + (ssize_t)i].ip;
		}
		co->off[5] = fr[0].module_offset;
		co->ip[5] = fr[0].ip;
		co->valid = true;
	}
	for (i = 0; i < n; i++)
		if (fr[i].module && strchr(fr[i].module, '/'))
			break;
	ok(i == n, "module names are basenames");
	ok(names_within_bounds(fr, n, NULL), "every named frame lies within its symbol's st_size");

	/* The same thread without debug files: what a machine without libc6-dbg sees. */
	s_nodbg = symbolizer_new_flags(pid, SYMBOLIZER_NO_DEBUGINFO);
	r = unwind_thread(s_nodbg, tid, MAX_DEPTH, &fr2, &n2);
	is_int(r, 0, "unwind without debug files");
	if (verbose)
		print_stack("stack_chain pause, no debug files:", fr2, n2);
	ok(names_within_bounds(fr2, n2, "libc.so.6"), "stripped libc: no out-of-bounds names");
	is_int(n2, n, "same depth with and without debug files");
	for (i = 0; i < n && i < n2; i++)
		if (fr[i].function && fr2[i].function && strcmp(fr[i].function, fr2[i].function))
			break;
	ok(i == (n < n2 ? n : n2), "aliases resolve alike with and without debug files "
	   "(dynsym names preferred)");
	ok(n2 > 0 && fr2[0].function && (!strcmp(fr2[0].function, "pause") ||
					 !strcmp(fr2[0].function, "__libc_pause")),
	   "frame #0 is pause from .dynsym (%s)", n2 ? fname(&fr2[0]) : "-");

	/*
	 * lowlevel.md's pitfall: __nptl_death_event (st_size 1) + 0xd6 is inside the local
	 * __futex_abstimed_wait_common. Stripped: no name. With libc6-dbg: the real one.
	 */
	dbgfile = libc_debug_file(fr, n, dbg, sizeof(dbg));
	r = symbolizer_find_symbol(s_nodbg, "libc.so", "__nptl_death_event", &addr);
	is_int(r, 0, "find_symbol __nptl_death_event in libc");
	if (!r) {
		symbolizer_lookup(s_nodbg, addr + 0xd6, false, &f);
		ok(!f.function || (strcmp(f.function, "__nptl_death_event") &&
				   f.func_offset < f.func_size),
		   "stripped: __nptl_death_event+0xd6 gets no borrowed name (%s)", fname(&f));
		ok(f.module && !strcmp(f.module, "libc.so.6") && f.module_offset,
		   "... but module libc.so.6 + offset %#llx", (unsigned long long)f.module_offset);
		frame_release(&f);
		symbolizer_lookup(s, addr + 0xd6, false, &f);
		if (dbgfile) {
			printf("# libc debug file: %s\n", dbgfile);
			ok(f.function && strcmp(f.function, "__nptl_death_event"),
			   "with libc6-dbg: __nptl_death_event+0xd6 is %s+%#llx", fname(&f),
			   (unsigned long long)f.func_offset);
			ok(f.src_file && f.src_line > 0,
			   "with libc6-dbg: libc has line info (%s:%d)",
			   f.src_file ? f.src_file : "NULL", f.src_line);
		} else {
			ok(1, "# SKIP libc6-dbg not installed");
			ok(1, "# SKIP libc6-dbg not installed");
		}
		frame_release(&f);
	}
	frames_free(fr2, n2);
	symbolizer_free(s_nodbg);

	/* Warm caches: the cost of one more thread. */
	t0 = now();
	for (i = 0; i < (size_t)reps; i++) {
		if (unwind_thread(s, tid, MAX_DEPTH, &fr2, &n2))
			break;
		frames_free(fr2, n2);
	}
	t1 = now();
	ok(i == (size_t)reps, "warm unwinds succeed");
	if (verbose)
		printf("# warm unwind + symbolize of one thread (%zu frames): %.1f us\n", n,
		       (t1 - t0) * 1e6 / reps);

	/* read_mem: the pause() return address is on the stack at frame #1's sp - 8. */
	if (n > 1 && fr[1].sp) {
		uint64_t word = 0;
		is_int(symbolizer_read_mem(s, fr[1].sp - 8, &word, sizeof(word)), 0, "read_mem");
		ok(word == fr[1].ip, "read_mem finds frame #1's return address below its sp");
	}
	{
		uint64_t word;
		is_int(symbolizer_read_mem(s, 8, &word, sizeof(word)), -EFAULT,
		       "read_mem of an unmapped page is -EFAULT");
	}
	f = (struct frame)FRAME_INIT;
	is_int(symbolizer_lookup(s, 16, false, &f), -ENOENT, "lookup outside every mapping");
	ok(!f.module && !f.function && f.ip == 16, "... leaves only ip set");
	frame_release(&f);
	is_int(symbolizer_refresh_maps(s), 0, "refresh_maps");
	is_int(unwind_thread(s, tid, 3, &fr2, &n2), 0, "unwind with max 3");
	is_int(n2, 3, "max bounds the depth");
	frames_free(fr2, n2);

	/* Detach: the process goes back to pause() and keeps living. */
	ok(ptrace(PTRACE_DETACH, tid, NULL, NULL) == 0, "detach");
	is_int(unwind_thread(s, tid, MAX_DEPTH, &fr2, &n2), -ESRCH,
	       "unwinding a thread we no longer trace is -ESRCH");
	ok(wait_blocked(pid, SYS_PAUSE, 1), "after detach the fixture is back in pause()");
	for (i = 0; i < 200 && proc_state(pid) != 'S'; i++)
		usleep(10000);
	is_int(proc_state(pid), 'S', "after detach the fixture sleeps (state S)");
	ok(kill(pid, 0) == 0, "and is alive");
	frames_free(fr, n);
	symbolizer_free(s);
	reap(pid);
}

static void test_aslr(const struct chain_offsets *a)
{
	struct chain_offsets b;
	size_t i;
	bool same = true, moved = false;
	char *aslr = NULL;

	test_pause(&b, false);
	if (!a->valid || !b.valid) {
		ok(0, "two runs give f3..main");
		return;
	}
	for (i = 0; i < 6; i++) {
		same &= a->off[i] == b.off[i];
		moved |= a->ip[i] != b.ip[i];
	}
	ok(same, "module_offset of f3..main and of frame #0 (libc) is stable across runs");
	read_file("/proc/sys/kernel/randomize_va_space", &aslr, NULL);
	if (aslr && aslr[0] != '0')
		ok(moved, "while the absolute ips moved (ASLR)");
	else
		ok(1, "# SKIP ASLR is off");
	free(aslr);
}

static void test_crash(void)
{
	pid_t pid = spawn("stack_chain", "crash", NULL, true);
	struct symbolizer *s;
	struct frame *fr = NULL;
	size_t n = 0;
	siginfo_t si;
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP)
		bail("stack_chain crash did not stop at exec");
	ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)PTRACE_O_EXITKILL);
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		bail("stack_chain crash did not stop");
	is_int(WSTOPSIG(status), SIGSEGV, "crash: signal-delivery-stop for SIGSEGV");
	ok(ptrace(PTRACE_GETSIGINFO, pid, NULL, &si) == 0 && si.si_addr == NULL,
	   "crash: fault address is NULL");
	s = symbolizer_new(pid);
	is_int(unwind_thread(s, pid, MAX_DEPTH, &fr, &n), 0, "crash: unwind the faulting thread");
	print_stack("stack_chain crash:", fr, n);
	ok(n > 0 && fr[0].function && !strcmp(fr[0].function, "f3") && fr[0].exact_ip,
	   "crash: frame #0 is f3, at its exact pc");
	check_chain_shape(fr, n, find_frame(fr, n, "f3"), "crash", "stack_chain");
	if (n > 0)
		is_int(fr[0].src_line, marker_line("f3.c", "LINE_CRASH"),
		       "crash: f3's line is the NULL write");
	frames_free(fr, n);
	symbolizer_free(s);
	reap(pid);
}

static void test_signal(void)
{
	pid_t pid = spawn("stack_chain", "signal", NULL, false);
	struct symbolizer *s;
	struct frame *fr = NULL;
	size_t n = 0, i;
	ssize_t h, k;
	char *names;

	if (!wait_blocked(pid, SYS_PAUSE, 1))
		bail("stack_chain signal never reached pause()");
	if (seize_stop(pid) < 0)
		bail("cannot stop stack_chain signal");
	s = symbolizer_new(pid);
	is_int(unwind_thread(s, pid, MAX_DEPTH, &fr, &n), 0, "signal: unwind");
	print_stack("stack_chain signal:", fr, n);
	names = names_of(fr, n);
	ok(matches(names, "on_signal [^ ]+ (__)?kill f3 f2 f1 f0 main( |$)"),
	   "signal: ... on_signal <trampoline> kill f3 f2 f1 f0 main: %s", names);
	free(names);
	h = find_frame(fr, n, "on_signal");
	k = find_frame(fr, n, "f3");
	ok(h >= 0 && (size_t)h + 2 < n && fr[h + 1].signal_frame && !fr[h].signal_frame,
	   "signal: the frame after the handler is the signal trampoline");
	if (h >= 0 && (size_t)h + 2 < n) {
		ok(!fr[h + 1].function || !strcmp(fr[h + 1].function, "__restore_rt"),
		   "signal: the trampoline is unnamed or __restore_rt (%s)", fname(&fr[h + 1]));
		ok(fr[h + 1].exact_ip && fr[h + 2].exact_ip,
		   "signal: trampoline and interrupted frame use exact pcs");
		for (i = (size_t)h + 3; i < n; i++)
			if (fr[i].exact_ip)
				break;
		ok(i == n, "signal: frames below the interrupted one use pc-1");
	}
	if (k >= 0)
		is_int(fr[k].src_line, marker_line("f3.c", "LINE_KILL"),
		       "signal: f3's line is kill()");
	ok(names_within_bounds(fr, n, NULL), "signal: names within st_size");
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	frames_free(fr, n);
	symbolizer_free(s);
	reap(pid);
}

/*
 * A binary deleted while it runs (a reinstalled package, a rebuilt extension): the path
 * in maps ends in " (deleted)" and no longer opens; /proc/PID/map_files still does.
 * Also the [vdso], an ELF image that exists only in the target's memory.
 */
static void test_deleted_and_vdso(void)
{
	char *src = xasprintf("%s/stack_chain", tmp_dir), *copy, *cmd;
	struct symbolizer *s;
	struct frame *fr = NULL, f = FRAME_INIT;
	size_t n = 0;
	uint64_t addr;
	pid_t pid;

	copy = xasprintf("%s/stack_chain_deleted", tmp_dir);
	cmd = xasprintf("cp '%s' '%s'", src, copy);
	if (system(cmd))
		bail("cp failed");
	pid = spawn("stack_chain_deleted", "pause", NULL, false);
	if (!wait_blocked(pid, SYS_PAUSE, 1))
		bail("stack_chain_deleted never reached pause()");
	unlink(copy);
	if (seize_stop(pid) < 0)
		bail("cannot stop stack_chain_deleted");
	s = symbolizer_new(pid);
	is_int(unwind_thread(s, pid, MAX_DEPTH, &fr, &n), 0, "deleted binary: unwind");
	check_chain_shape(fr, n, find_frame(fr, n, "f3"), "deleted binary",
			  "stack_chain_deleted");
	{
		ssize_t k = find_frame(fr, n, "f3");
		is_str(k >= 0 ? fr[k].module : NULL, "stack_chain_deleted",
		       "deleted binary: module is the basename without ' (deleted)'");
		ok(k >= 0 && fr[k].src_line > 0, "deleted binary: DWARF lines still found");
	}
	frames_free(fr, n);

	is_int(symbolizer_find_symbol(s, "[vdso]", "__vdso_clock_gettime", &addr), 0,
	       "vdso: find __vdso_clock_gettime in the target's [vdso]");
	symbolizer_lookup(s, addr + 1, true, &f);
	is_str(f.module, "[vdso]", "vdso: module is [vdso]");
	ok(f.function && matches(f.function, "^(__vdso_)?clock_gettime$") && f.func_offset == 1,
	   "vdso: named from the in-memory ELF (%s+%#llx)", fname(&f),
	   (unsigned long long)f.func_offset);
	frame_release(&f);
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	symbolizer_free(s);
	reap(pid);
	free(src);
	free(copy);
	free(cmd);
}

static void test_deadlock(void)
{
	pid_t pid = spawn("deadlock_native", NULL, NULL, false), tids[16];
	static const char *const workers[] = { "lock_ab_thread", "lock_ba_thread" };
	static const unsigned flags[] = { 0, SYMBOLIZER_NO_DEBUGINFO };
	static const char *const how[] = { "", " (no debug files)" };
	struct symbolizer *s;
	size_t n, i, w, v;

	/* main in pthread_join + two workers in the mutex futex */
	if (!wait_blocked(pid, SYS_FUTEX, 3))
		bail("deadlock_native did not deadlock");
	n = seize_all(pid, tids, ARRAY_SIZE(tids));
	is_int(n, 3, "deadlock: three threads stopped");
	/* pthread_mutex_lock is exported: found with and without libc6-dbg */
	for (v = 0; v < ARRAY_SIZE(flags); v++) {
		size_t found[2] = { 0, 0 };

		s = symbolizer_new_flags(pid, flags[v]);
		for (i = 0; i < n; i++) {
			struct frame *fr = NULL;
			size_t nf = 0, j;
			char title[80];

			if (unwind_thread(s, tids[i], MAX_DEPTH, &fr, &nf))
				continue;
			snprintf(title, sizeof(title), "deadlock_native tid %d%s:", (int)tids[i],
				 how[v]);
			if (!v)
				print_stack(title, fr, nf);
			for (w = 0; w < 2; w++) {
				ssize_t t = find_frame(fr, nf, workers[w]);
				if (t < 0)
					continue;
				for (j = 0; j < (size_t)t; j++)
					if (fr[j].function &&
					    matches(fr[j].function,
						    "^(_{0,3}pthread_mutex_lock|__lll_lock_wait)$"))
						break;
				found[w] += j < (size_t)t;
				ok(names_within_bounds(fr, nf, NULL),
				   "deadlock: %s names within st_size%s", workers[w], how[v]);
			}
			frames_free(fr, nf);
		}
		for (w = 0; w < 2; w++)
			is_int(found[w], 1,
			       "deadlock: one thread shows pthread_mutex_lock below %s%s",
			       workers[w], how[v]);
		symbolizer_free(s);
	}
	detach_all(tids, n);
	reap(pid);
}

/* "stack_chain threads 100": cold and warm snapshot of 101 threads. */
static void test_threads(void)
{
	enum { NTHREADS = 100 };
	pid_t pid = spawn("stack_chain", "threads", "100", false), tids[NTHREADS + 8];
	struct symbolizer *s;
	size_t n, i, good = 0, frames_total = 0;
	double t0, t1, t2;
	int pass;

	if (!wait_blocked(pid, SYS_PAUSE, NTHREADS + 1))
		bail("stack_chain threads never reached pause()");
	n = seize_all(pid, tids, ARRAY_SIZE(tids));
	is_int(n, NTHREADS + 1, "threads: 101 threads stopped");
	t0 = now();
	s = symbolizer_new(pid);
	t1 = t2 = t0;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			struct frame *fr = NULL;
			size_t nf = 0;
			char *names;

			if (unwind_thread(s, tids[i], MAX_DEPTH, &fr, &nf))
				continue;
			names = names_of(fr, nf);
			if (pass == 0) {
				good += matches(names, "f3 f2 f1 f0 (main|worker)( |$)");
				frames_total += nf;
			}
			free(names);
			frames_free(fr, nf);
		}
		if (pass == 0)
			t1 = now();
		else
			t2 = now();
	}
	is_int(good, n, "threads: every thread shows f3 f2 f1 f0 main|worker");
	printf("# timing: %zu threads, %zu frames: cold (new symbolizer, ELF/DWARF loading) "
	       "%.1f ms, warm %.1f ms = %.1f us/thread\n", n, frames_total, (t1 - t0) * 1e3,
	       (t2 - t1) * 1e3, (t2 - t1) * 1e6 / (double)n);
	detach_all(tids, n);
	symbolizer_free(s);
	reap(pid);
}

static bool ptrace_permitted(void)
{
	pid_t pid = fork();
	bool ret;

	if (pid < 0)
		return false;
	if (pid == 0) {
		pause();
		_exit(0);
	}
	ret = ptrace(PTRACE_SEIZE, pid, NULL, NULL) == 0;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, __WALL);
	return ret;
}

int main(void)
{
	struct chain_offsets first;
	char *cmd;
	int st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!find_src_dir()) {
		printf("1..0 # SKIP tests/fixtures/native not found\n");
		return 0;
	}
	if (system("command -v \"${CC:-cc}\" >/dev/null 2>&1")) {
		printf("1..0 # SKIP no C compiler to build the fixtures\n");
		return 0;
	}
	if (!ptrace_permitted()) {
		printf("1..0 # SKIP ptrace not permitted (%s)\n", strerror(errno));
		return 0;
	}
	if (!mkdtemp(tmp_dir))
		bail("mkdtemp failed");
	cmd = xasprintf("sh '%s/build.sh' '%s' >&2", src_dir, tmp_dir);
	st = system(cmd);
	free(cmd);
	if (st)
		bail("tests/fixtures/native/build.sh failed");
	atexit(kill_children);

	test_pause(&first, true);
	test_aslr(&first);
	test_crash();
	test_signal();
	test_deleted_and_vdso();
	test_deadlock();
	test_threads();

	kill_children();
	rm_rf(tmp_dir);
	return tap_done();
}
