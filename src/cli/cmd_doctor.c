/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ftscope/cgroup.h"
#include "ftscope/cmd.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/pyframes.h"
#include "ftscope/symbolizer.h"
#include "ftscope/tracer.h"
#include "ftscope/util.h"
#include "ftscope/workspace.h"

static const char *const doctor_usage[] = {
	"", /* the usage line: print_usage() names the tracers of the table */
	"",
	"What this host allows ftscope to do (ptrace, the pids cgroup, BPF) and, with",
	"--target-python, whether that interpreter is free-threaded and readable from outside",
	"(debug offsets found). What cannot work is named with its cause and its fix.",
	"Exit 0 when runs can be supervised with the tracer asked for (default auto: ptrace",
	"is required, the eBPF recorder is not; ebpf: both are; none: neither), 1 otherwise.",
	NULL,
};

static int failures;

static void print_usage(void)
{
	const struct tracer_ops *t;
	printf("usage: ftscope doctor [--target-python PATH] [--tracer auto");
	for (size_t i = 0; (t = tracer_at(i)); i++)
		printf("|%s", t->name);
	printf("]\n");
	for (const char *const *l = doctor_usage + 1; *l; l++)
		puts(*l);
}

static void line(bool ok, bool required, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void line(bool ok, bool required, const char *what, const char *fmt, ...)
{
	va_list ap;
	printf("  %-6s %-22s ", ok ? "ok" : required ? "FAIL" : "note", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok && required)
		failures++;
}

/*
 * One line per tracer of the table that needs something of the host (tracer_ops.doctor),
 * the simplest first. Required: the one asked for and what it builds on; for auto, those
 * it cannot do without (auto_needs). One that cannot run says what auto uses instead.
 */
static void tracer_lines(const char *want)
{
	const struct tracer_ops *asked = strcmp(want, "auto") ? tracer_find(want) : NULL, *t;
	struct sbuf msg[16];
	int ok[16];
	size_t n = 0;

	while (n < ARRAY_SIZE(msg) && tracer_at(n))
		n++;
	for (size_t i = 0; i < n; i++) {
		t = tracer_at(i);
		msg[i] = (struct sbuf)SBUF_INIT;
		ok[i] = !t->doctor || t->doctor(&msg[i]) == 0;
	}
	for (size_t i = n; i-- > 0;) {
		bool required;
		t = tracer_at(i);
		if (!t->doctor)
			continue;
		required = asked ? asked == t || asked->builds_on == t : t->auto_needs;
		if (ok[i]) {
			line(true, required, t->doctor_what, "%s", msg[i].buf);
		} else {
			/* auto's choice without it: the next of the table that can run */
			size_t k = i + 1;
			while (k < n && !ok[k])
				k++;
			if (k < n && tracer_at(k)->fallback_note)
				line(false, required, t->doctor_what, "%s (--tracer auto uses %s: %s)",
				     msg[i].buf, tracer_at(k)->name, tracer_at(k)->fallback_note);
			else
				line(false, required, t->doctor_what, "%s (--tracer auto uses %s)",
				     msg[i].buf, k < n ? tracer_at(k)->name : "nothing");
		}
	}
	for (size_t i = 0; i < n; i++)
		sbuf_release(&msg[i]);
}

/* Start the interpreter asleep and read its runtime from outside. */
static void check_readable(const char *python)
{
	struct pyreader *r = NULL;
	struct sbuf why = SBUF_INIT;
	struct py_thread *t = NULL;
	size_t n = 0;
	int p[2], st;
	char c;
	pid_t pid;
	if (pipe(p) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		unsetenv("PYTHON_GIL");
		execl(python, python, "-I", "-c",
		      "import sys, time; sys.stdout.write('r'); sys.stdout.flush(); time.sleep(60)",
		      (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1) {
		line(false, true, "python readable", "the interpreter did not start");
	} else if (pyreader_open(pid, &r, &why) < 0) {
		line(false, true, "python readable", "%s", why.buf);
	} else {
		int k = pyreader_threads(r, &t, &n);
		line(k == 0 && n > 0, true, "python readable",
		     "%s %s, runtime found by %s, %zu thread state(s) with %zu frame(s)",
		     pyreader_version(r), pyreader_free_threaded(r) ? "free-threaded" : "with GIL",
		     pyreader_runtime_how(r), n, n ? t[0].n : 0);
	}
	close(p[0]);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	py_threads_free(t, n);
	pyreader_free(r);
	sbuf_release(&why);
}

/* Where snapshots keep sorted symbols and DWARF line tables, and what is in it. */
static void symbol_cache_line(void)
{
	const char *dir = symbolizer_cache_dir();
	char *probe;
	size_t files = 0;
	off_t bytes = 0;
	DIR *top, *sub;
	struct dirent *de, *fe;
	struct stat st;
	bool writable;

	if (!dir) {
		line(true, false, "symbol cache", "off (FTSCOPE_SYMBOL_CACHE is empty): every "
		     "snapshot parses symbols and DWARF lines anew");
		return;
	}
	if ((top = opendir(dir))) {
		while ((de = readdir(top))) {
			char *subdir;
			if (de->d_name[0] == '.')
				continue;
			subdir = path_join(dir, de->d_name);
			if ((sub = opendir(subdir))) {
				while ((fe = readdir(sub))) {
					char *f = path_join(subdir, fe->d_name);
					if (fe->d_name[0] != '.' && !stat(f, &st) && S_ISREG(st.st_mode)) {
						files++;
						bytes += st.st_size;
					}
					free(f);
				}
				closedir(sub);
			}
			free(subdir);
		}
		closedir(top);
	}
	probe = xstrdup(dir);
	while (!path_exists(probe) && strrchr(probe, '/') && strrchr(probe, '/') != probe)
		*strrchr(probe, '/') = '\0'; /* the nearest existing ancestor is what mkdir needs */
	writable = access(probe, W_OK) == 0;
	free(probe);
	line(writable, false, "symbol cache", "%s: %zu files, %.1f MB%s", dir, files,
	     (double)bytes / 1e6,
	     writable ? "" : " (not writable: snapshots parse symbols anew each time)");
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "target-python", required_argument, NULL, 't' },
		{ "tracer", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *python = NULL, *why = NULL, *tracer = "auto";
	struct utsname u;
	struct cgroup cg;
	int c;
	optind = 0;
	failures = 0;
	while ((c = getopt_long(argc, argv, ":t:T:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			python = optarg;
			break;
		case 'T':
			if (strcmp(optarg, "auto") && !tracer_find(optarg))
				die_usage("doctor", "--tracer wants %s, not '%s'", tracer_choices(),
					  optarg);
			tracer = optarg;
			break;
		case 'h':
			print_usage();
			return FT_EXIT_OK;
		default:
			die_bad_option("doctor", c, argv);
		}
	}
	if (optind != argc)
		die_usage("doctor", "unexpected argument '%s'", argv[optind]);
	uname(&u);
	printf("Host: %s %s %s\n", u.sysname, u.release, u.machine);
	line(geteuid() == 0, false, "root", geteuid() == 0 ? "yes" : "no: test trees of other "
								      "users cannot be traced");
	tracer_lines(tracer);
	if (cgroup_create(&cg, 64, &why) == 0) {
		line(true, false, "pids cgroup", "%s: --max-pids contains fork storms",
		     cg.v2 ? "cgroup v2" : "cgroup v1");
		cgroup_destroy(&cg);
	} else {
		line(false, false, "pids cgroup", "%s: --max-pids is not enforced", why);
	}
	line(path_exists("/sys/kernel/btf/vmlinux"), false, "BTF",
	     path_exists("/sys/kernel/btf/vmlinux") ? "present (/sys/kernel/btf/vmlinux)"
						     : "missing: the eBPF recorder cannot load");
	line(is_dir("/usr/lib/debug/.build-id"), false, "libc debug symbols",
	     is_dir("/usr/lib/debug/.build-id") ? "installed: frames inside libc are named"
						 : "missing (install libc6-dbg): libc frames show as "
						   "module+offset");
	symbol_cache_line();
	if (python) {
		struct sbuf err = SBUF_INIT;
		struct cJSON *profile = NULL;
		printf("Target Python: %s\n", python);
		if (python_check(python, &profile, &err) == 0) {
			line(true, true, "free-threaded", "%s (%s)", profile_version(profile),
			     profile_compiler(profile) ? profile_compiler(profile) : "?");
			check_readable(python);
			if (profile_pytest_run_parallel(profile))
				line(true, false, "pytest-run-parallel", "%s (run --parallel-threads)",
				     profile_pytest_run_parallel(profile));
			else
				line(false, false, "pytest-run-parallel",
				     "not installed: run --parallel-threads cannot stress "
				     "(scripts/setup.sh installs Debian's)");
		} else {
			line(false, true, "free-threaded", "%s", err.buf);
		}
		profile_free(profile);
		sbuf_release(&err);
	}
	printf("%s\n", failures ? "Some checks failed." : "All required checks passed.");
	return failures ? FT_EXIT_FAILURE : FT_EXIT_OK;
}
