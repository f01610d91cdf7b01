/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <dirent.h>
#include <malloc.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ftscope/cmd.h"
#include "ftscope/error.h"
#include "ftscope/hugemem.h"
#include "ftscope/exit.h"
#include "ftscope/json.h"
#include "ftscope/ptracer.h"
#include "ftscope/snapshot.h"
#include "ftscope/symbolizer.h"
#include "ftscope/util.h"

static const char *const dump_usage[] = {
	"usage: sudo ftscope dump PID [--native] [--all-frames] [--json] [-v]",
	"",
	"Snapshot a running process ftscope did not start: stop every thread for a moment,",
	"read its native and Python stacks and what each thread waits on, then let it go on.",
	"Each thread is shown py-spy style: its threading name, what it waits in (Event.wait,",
	"Lock.acquire on acc.lock, held by ...), the locks it holds and where it took them, and",
	"its Python frames, innermost first.",
	"",
	"  --native        also show the native frames (merged with the Python ones)",
	"  --all-frames    --native, with the interpreter and libc plumbing frames",
	"  --json          everything, machine-readable (the forensics.json form)",
	"  -v, --verbose   say on stderr where the time went (and debug messages)",
	NULL,
};

static struct ptracer dump_pt;

/*
 * The symbol and line tables this dump found missing from the cache (its first dump on
 * this host, or of these binaries) are built and saved by a child that outlives us, so the
 * answer is not held up by them (~0.3 s of DWARF for python and libc). The child has no
 * terminal and none of our caller's files (stdio is /dev/null, inherited descriptors are
 * closed), runs at the lowest priority, under a time limit, and touches nothing but the
 * cache directory. While it works it holds an exclusive lock on <cache>/.build.lock: a
 * second builder does not start, and a script can wait for it (flock FILE true).
 */
static bool spawn_cache_builder(void)
{
	pid_t pid;
	int fd;

	symbolizer_prepare_wait(); /* no thread of ours may be mid-work at the fork */
	if (!symbolizer_cache_pending())
		return false;
	fd = symbolizer_cache_lock();
	if (fd < 0) /* no cache, or another dump's builder is at it */
		return false;
	fflush(NULL);
	pid = fork();
	if (pid != 0) {
		if (pid > 0)
			debug("dump: the tables of %zu modules are built and saved in the background "
			      "(pid %d)", symbolizer_cache_pending(), (int)pid);
		close(fd); /* the child keeps the lock (a fork shares it) */
		return pid > 0;
	}
	/* the child */
	setsid();
	{
		int nul = open("/dev/null", O_RDWR);
		DIR *d;
		struct dirent *de;
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
			if (nul > 2)
				close(nul);
		}
		/* descriptors inherited from our caller: ours are all close-on-exec */
		d = opendir("/proc/self/fd");
		while (d && (de = readdir(d))) {
			int n = atoi(de->d_name);
			int fl = n > 2 && n != dirfd(d) ? fcntl(n, F_GETFD) : -1;
			if (fl >= 0 && !(fl & FD_CLOEXEC))
				close(n);
		}
		if (d)
			closedir(d);
	}
	setpriority(PRIO_PROCESS, 0, 19);
	alarm(300);
	symbolizer_cache_save_pending();
	_exit(0);
}

static double dump_t0;

/* -v: how long each step took, since the command started */
static void step(const char *what)
{
	debug("dump: %-10s %7.2f ms", what, (now_monotonic() - dump_t0) * 1e3);
}

static void dump_cleanup(void)
{
	ptracer_detach_all(&dump_pt); /* never leave a process stopped */
}

int cmd_dump(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all-frames", no_argument, NULL, 'a' },
		{ "native", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool as_json = false;
	unsigned print_flags = 0;
	static struct snapshot snap; /* static: left to the exit, still reachable (LSan) */
	pid_t *tids = NULL;
	long pid;
	size_t n;
	int c, r;
	double t0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":jahvn", longopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			ft_verbose++;
			break;
		case 'j':
			as_json = true;
			break;
		case 'a':
			print_flags |= SNAP_PRINT_ALL_FRAMES;
			break;
		case 'n':
			print_flags |= SNAP_PRINT_NATIVE;
			break;
		case 'h':
			for (const char *const *l = dump_usage; *l; l++)
				puts(*l);
			return FT_EXIT_OK;
		default:
			die_bad_option("dump", c, argv);
		}
	}
	if (optind + 1 != argc || parse_int(argv[optind], 1, 1 << 30, &pid) < 0)
		die_usage("dump", "expected one process id");
	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		die("no process %ld", pid);
	set_die_cleanup(dump_cleanup);
	dump_t0 = now_monotonic();
	symbolizer_set_cache_mode(SYMCACHE_SAVE_LATER); /* see spawn_cache_builder() */
	r = ptracer_attach_process(&dump_pt, (pid_t)pid);
	if (r < 0) {
		ptracer_detach_all(&dump_pt);
		errno = -r;
		die_errno("cannot attach to pid %ld%s", pid,
			  r == -EPERM ? " (run as root, or check ptrace_scope / seccomp)" : "");
	}
	/* The dump's memory in huge pages: a warm dump of a 100-thread process touched some 850
	 * fresh 4 KiB pages, a first dump ~8,000, and on our VMs each first touch is a fault of
	 * 10-15 us. One heap (threads too), grown once by what a dump of that many threads uses
	 * (virtual: a huge page is touched only when used); nothing is given back. */
	(void)hugemem_heap((64u << 20) + (dump_pt.n < 8192 ? dump_pt.n : 8192) * (128u << 10));
	snap.reason = xstrdup("dump");
	/* Maps, ELF files, the Python runtime and where its thread states are: before the
	 * threads stop (attaching does not stop them). */
	step("attached");
	r = snapshot_prepare(&snap, (pid_t)pid);
	step("prepared");
	/* Held from here to the detach: registers, stacks and Python state are read, nothing
	 * else (hold_ms, the figure a person running this on a live server cares about). */
	t0 = now_monotonic();
	snap.taken_at = now_wall();
	ptracer_stop_all(&dump_pt, (pid_t)pid, 2.0);
	step("stopped");
	tids = xcalloc(dump_pt.n ? dump_pt.n : 1, sizeof(pid_t));
	n = ptracer_stopped_tasks(&dump_pt, (pid_t)pid, tids, dump_pt.n);
	if (r == 0)
		r = snapshot_process(&snap, (pid_t)pid, tids, n, 0);
	step("read");
	ptracer_detach_all(&dump_pt); /* the process goes on */
	snap.duration_s = now_monotonic() - t0;
	step("released");
	debug("dump: held %zu threads for %.2f ms; %u reads of target memory (%zu pages) while held",
	      n, snap.duration_s * 1e3, snap.hold_reads, snap.hold_pages);
	set_die_cleanup(NULL);
	if (r < 0) {
		errno = -r;
		snapshot_release(&snap);
		free(tids);
		ptracer_release(&dump_pt);
		die_errno("cannot snapshot pid %ld", pid);
	}
	snapshot_finish(&snap);
	step("finished");
	snapshot_analyze(&snap);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16); /* ~1 MB of output for 100 threads */
	if (as_json) {
		snapshot_write_json(stdout, &snap);
	} else {
		snapshot_print(stdout, &snap, print_flags);
		printf("(%zu thread%s held for %.1f ms)\n", n, n == 1 ? "" : "s",
		       snap.duration_s * 1000);
	}
	fflush(stdout);
	step("printed");
	if (ft_verbose) {
		struct mallinfo2 mi = mallinfo2();
		debug("dump: heap %zu KiB, %zu KiB in mmapped blocks", mi.arena / 1024,
		      mi.hblkhd / 1024);
	}
	/* The snapshot is not released: the process ends here and its memory goes with it
	 * (releasing it, thousands of frees and the symbolizer's unmaps, took ~2 ms of a 30 ms
	 * warm dump). */
	/* With a builder running, the modules are left to the exit: since the fork every page
	 * written is a copy, and freeing their tables here took 70 ms (a cold dump's exit).
	 * Output not on a terminal (no stdout guard to close, main's check of stdout done
	 * here): the rest too, through _exit (the frees and the exit handlers cost ~3 ms). */
	if (spawn_cache_builder()) {
		if (!isatty(STDOUT_FILENO) && !fflush(stdout) && !ferror(stdout))
			_exit(FT_EXIT_OK);
	} else {
		symbolizer_cache_drop_pending();
	}
	free(tids);
	ptracer_release(&dump_pt);
	return FT_EXIT_OK;
}
