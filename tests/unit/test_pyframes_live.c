/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Python stacks out of process, read from a live free-threaded python (env FT_PYTHON; the
 * offline parts are in test_pyframes.c):
 *  - the location-table decoder on real tables, checked against co_positions();
 *  - three threads blocked in known functions, stopped with PTRACE_SEIZE + PTRACE_INTERRUPT,
 *    read, detached, and expected to exit 0; the stacks must equal what
 *    sys._current_frames() printed before;
 *  - timing of pyreader_open + pyreader_threads on 100 blocked threads;
 *  - snapshots of a process that keeps running (torn state);
 *  - the same live test on 3.14t when FT_PYTHON_314 is set.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/pyframes.h"
#include "ftscope/util.h"
#include "tap.h"

/*
 * A live free-threaded python.
 */

struct child {
	pid_t pid;
	int in, out;            /* its stdin (we write), its stdout (we read) */
	char buf[1 << 16];
	size_t len;
};

static int child_start(struct child *c, const char *python, const char *script)
{
	int pin[2], pout[2];
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC))
		return -1;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (!c->pid) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		unsetenv("PYTHON_GIL");
		execl(python, python, "-I", "-X", "utf8", script, (char *)NULL);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	c->in = pin[1];
	c->out = pout[0];
	c->len = 0;
	return 0;
}

/* Next line of the child's stdout (malloc'd, without '\n'), NULL on EOF or timeout. */
static char *child_line(struct child *c, int timeout_ms)
{
	double deadline = now_monotonic() + timeout_ms / 1000.0;
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd p = { c->out, POLLIN, 0 };
		ssize_t n;
		int left = (int)((deadline - now_monotonic()) * 1000);
		if (nl) {
			char *line = xstrndup(c->buf, (size_t)(nl - c->buf));
			c->len -= (size_t)(nl + 1 - c->buf);
			memmove(c->buf, nl + 1, c->len);
			return line;
		}
		if (left <= 0 || c->len == sizeof(c->buf) || poll(&p, 1, left) <= 0)
			return NULL;
		n = read(c->out, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			return NULL;
		c->len += (size_t)n;
	}
}

/* Wait for the child's exit status (-1 after a timeout: then it is killed). */
static int child_wait(struct child *c, int timeout_ms)
{
	double deadline = now_monotonic() + timeout_ms / 1000.0;
	int st;
	close(c->in);
	while (now_monotonic() < deadline) {
		pid_t p = waitpid(c->pid, &st, WNOHANG);
		if (p == c->pid) {
			close(c->out);
			return st;
		}
		usleep(10000);
	}
	kill(c->pid, SIGKILL);
	waitpid(c->pid, &st, 0);
	close(c->out);
	return -1;
}

static int list_tasks(pid_t pid, pid_t *tids, size_t max)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	size_t n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) && n < max)
		if (de->d_name[0] != '.')
			tids[n++] = (pid_t)atoi(de->d_name);
	closedir(d);
	return (int)n;
}

static bool has_tid(const pid_t *tids, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (tids[i] == tid)
			return true;
	return false;
}

static void detach_all(const pid_t *tids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ptrace(PTRACE_DETACH, tids[i], 0, 0);
}

/* PTRACE_SEIZE + PTRACE_INTERRUPT every thread, re-listing until no new ones appear. Returns
 * the number of threads stopped or -errno. */
static int stop_all(pid_t pid, pid_t *stopped, size_t max)
{
	size_t n = 0;
	for (bool grew = true; grew;) {
		pid_t tids[1024];
		int k = list_tasks(pid, tids, ARRAY_SIZE(tids));
		grew = false;
		for (int i = 0; i < k; i++) {
			int st;
			if (has_tid(stopped, n, tids[i]) || n == max)
				continue;
			if (ptrace(PTRACE_SEIZE, tids[i], 0, (void *)(long)PTRACE_O_EXITKILL) ||
			    ptrace(PTRACE_INTERRUPT, tids[i], 0, 0)) {
				int err = -errno;
				detach_all(stopped, n);
				return err;
			}
			if (waitpid(tids[i], &st, __WALL) != tids[i] || !WIFSTOPPED(st))
				return -EIO;
			stopped[n++] = tids[i];
			grew = true;
		}
	}
	return (int)n;
}

/* Wait until thread tid sits in syscall nr (the main thread reading stdin after "ready"). */
static bool wait_syscall(pid_t tid, long nr, int timeout_ms)
{
	char path[64], *text = NULL;
	double deadline = now_monotonic() + timeout_ms / 1000.0;
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
	while (now_monotonic() < deadline) {
		size_t len;
		bool in = !read_file(path, &text, &len) && strtol(text, NULL, 10) == nr &&
			  text[0] >= '0' && text[0] <= '9';
		free(text);
		text = NULL;
		if (in)
			return true;
		usleep(5000);
	}
	return false;
}

static char *write_script(char *dir, const char *name, const char *text)
{
	char *path = path_join(dir, name);
	if (write_file_atomic(path, text, strlen(text))) {
		free(path);
		return NULL;
	}
	return path;
}

/* 1-based line of the first line containing marker */
static int line_of(const char *text, const char *marker)
{
	const char *p = strstr(text, marker);
	int line = 1;
	if (!p)
		return -1;
	for (const char *q = text; q < p; q++)
		line += *q == '\n';
	return line;
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static const char stacks_py[] =
	"import json, os, sys, threading, time\n"
	"\n"
	"ev = threading.Event()\n"
	"lock = threading.Lock()\n"
	"lock.acquire()\n"
	"lock_gen = threading.Lock()\n"
	"lock_gen.acquire()\n"
	"\n"
	"\n"
	"def \xcf\x89" "ait():\n"                         /* ωait: a 2-byte-kind name */
	"    ev.wait()  # L_OMEGA\n"
	"\n"
	"\n"
	"def waiter_a():\n"
	"    \xcf\x89" "ait()  # L_WAITER\n"
	"\n"
	"\n"
	"def inner():\n"
	"    lock.acquire()  # L_INNER\n"
	"\n"
	"\n"
	"def middle():\n"
	"    inner()  # L_MIDDLE\n"
	"\n"
	"\n"
	"def outer():\n"
	"    middle()  # L_OUTER\n"
	"\n"
	"\n"
	"class Cls:\n"
	"    def gen(self):\n"
	"        lock_gen.acquire()  # L_GEN\n"
	"        yield 1\n"
	"\n"
	"    def method(self):\n"
	"        for _ in self.gen():  # L_METHOD\n"
	"            pass\n"
	"\n"
	"\n"
	"def f\xc3\xbc\xc3\x9f" "e():\n"              /* füße: a 1-byte-kind, non-ASCII name */
	"    Cls().method()  # L_FUSSE\n"
	"\n"
	"\n"
	"def stack(f):\n"
	"    out = []\n"
	"    while f is not None:\n"
	"        c = f.f_code\n"
	"        out.append([c.co_filename, c.co_qualname, f.f_lineno, c.co_firstlineno])\n"
	"        f = f.f_back\n"
	"    return out\n"
	"\n"
	"\n"
	"def in_futex(t):\n"
	"    try:\n"
	"        with open(f'/proc/self/task/{t.native_id}/syscall') as s:\n"
	"            return s.read().startswith('202 ')\n"
	"    except OSError:\n"
	"        return False\n"
	"\n"
	"\n"
	"def snapshot(workers):\n"
	"    frames = sys._current_frames()\n"
	"    return [{'name': t.name, 'tid': t.native_id, 'futex': in_futex(t),\n"
	"             'frames': stack(frames.get(t.ident))} for t in workers]\n"
	"\n"
	"\n"
	"workers = [threading.Thread(target=waiter_a, name='waiter'),\n"
	"           threading.Thread(target=outer, name='chain'),\n"
	"           threading.Thread(target=f\xc3\xbc\xc3\x9f" "e, name='gen')]\n"
	"for t in workers:\n"
	"    t.start()\n"
	"# Blocked: in a futex wait, and the same stacks three polls in a row.\n"
	"prev, same = None, 0\n"
	"for _ in range(2000):\n"
	"    snap = snapshot(workers)\n"
	"    ready = all(s['futex'] and len(s['frames']) >= 4 for s in snap)\n"
	"    same = same + 1 if ready and snap == prev else 0\n"
	"    if same >= 3:\n"
	"        break\n"
	"    prev = snap\n"
	"    time.sleep(0.01)\n"
	"print(json.dumps({'pid': os.getpid(), 'threads': snap}, ensure_ascii=False))\n"
	"print('ready', flush=True)\n"
	"sys.stdin.readline()  # L_MAIN\n"
	"ev.set()\n"
	"lock.release()\n"
	"lock_gen.release()\n"
	"for t in workers:\n"
	"    t.join()\n";

static const struct py_thread *thread_by_tid(const struct py_thread *t, size_t n, uint64_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].native_tid == tid)
			return &t[i];
	return NULL;
}

static bool same_threads(const struct py_thread *a, size_t na, const struct py_thread *b,
			 size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		if (a[i].native_tid != b[i].native_tid || a[i].thread_id != b[i].thread_id ||
		    a[i].n != b[i].n || a[i].main_thread != b[i].main_thread)
			return false;
		for (size_t k = 0; k < a[i].n; k++) {
			const struct py_frame *f = &a[i].frames[k], *g = &b[i].frames[k];
			if (strcmp(f->file, g->file) || strcmp(f->func, g->func) ||
			    f->line != g->line || f->firstlineno != g->firstlineno ||
			    f->entry != g->entry)
				return false;
		}
	}
	return true;
}

/* Frames [i..] are `func` in the script at `marker`'s line. */
static void expect_frame(const struct py_thread *t, size_t i, const char *file, const char *func,
			 int line, const char *what)
{
	const struct py_frame *f = t && i < t->n ? &t->frames[i] : NULL;
	bool good = f && !strcmp(basename_of(f->file), file) && !strcmp(f->func, func) &&
		    (line < 0 || f->line == line);
	ok(good, "%s: frame %zu is %s %s:%d", what, i, func, file, line);
	if (!good && f)
		printf("#   got %s %s:%d\n", f->func, f->file, f->line);
}

/* Out-of-process stacks equal the ones the script printed from sys._current_frames(). */
static void compare_with_oracle(const struct py_thread *t, const cJSON *frames, const char *name)
{
	int n = cJSON_GetArraySize(frames), i = 0, bad = -1;
	const cJSON *f;
	cJSON_ArrayForEach(f, frames) {
		const char *file = cJSON_GetStringValue(cJSON_GetArrayItem(f, 0));
		const char *func = cJSON_GetStringValue(cJSON_GetArrayItem(f, 1));
		int line = cJSON_GetArrayItem(f, 2)->valueint;
		int first = cJSON_GetArrayItem(f, 3)->valueint;
		const struct py_frame *g = (size_t)i < t->n ? &t->frames[i] : NULL;
		if (bad < 0 && (!g || !file || !func || strcmp(g->file, file) ||
				strcmp(g->func, func) || g->line != line || g->firstlineno != first)) {
			bad = i;
			printf("#   frame %d: want %s %s:%d (first %d), got %s %s:%d (first %d)\n", i,
			       func, file, line, first, g ? g->func : "-", g ? g->file : "-",
			       g ? g->line : 0, g ? g->firstlineno : 0);
		}
		i++;
	}
	ok(bad < 0 && (size_t)n == t->n,
	   "thread %s: %zu frames (file, qualname, line, firstlineno) equal sys._current_frames()'s %d",
	   name, t->n, n);
}

static void test_live(const char *python, const char *want_version)
{
	char tmpl[] = "/tmp/ftscope-pyframes-\xf0\x9f\x90\x8d-XXXXXX"; /* 🐍: 4-byte kind */
	char *dir, *script = NULL, *line = NULL;
	const char *tag = want_version;
	struct child c = { 0 };
	struct pyreader *r = NULL;
	struct py_thread *th = NULL;
	struct sbuf why = SBUF_INIT;
	size_t nth = 0;
	pid_t stopped[256];
	int nstopped = -1, st;
	cJSON *oracle = NULL, *jt;
	double t0, t1, t2;

	dir = mkdtemp(tmpl);
	script = dir ? write_script(dir, "stacks.py", stacks_py) : NULL;
	if (!ok(script && !child_start(&c, python, script), "%s: started %s", tag, python))
		goto out;
	line = child_line(&c, 30000);
	oracle = line ? cJSON_Parse(line) : NULL;
	free(line);
	line = child_line(&c, 5000);
	if (!ok(oracle && line && !strcmp(line, "ready"), "%s: script is ready", tag)) {
		kill(c.pid, SIGKILL);
		goto out_wait;
	}

	ok(wait_syscall(c.pid, 0, 10000), "%s: main thread is blocked in read(0)", tag);
	nstopped = stop_all(c.pid, stopped, ARRAY_SIZE(stopped));
	if (nstopped == -EPERM) {
		ok(1, "# SKIP ptrace not permitted here (Yama ptrace_scope, no CAP_SYS_PTRACE?)");
		goto out_detach;
	}
	ok(nstopped == 4, "%s: stopped all %d threads (PTRACE_SEIZE + INTERRUPT)", tag, nstopped);

	t0 = now_monotonic();
	if (!ok(!pyreader_open(c.pid, &r, &why), "%s: pyreader_open%s%s", tag,
		why.buf ? ": " : "", why.buf ? why.buf : ""))
		goto out_detach;
	t1 = now_monotonic();
	is_int(pyreader_threads(r, &th, &nth), 0, "%s: pyreader_threads", tag);
	t2 = now_monotonic();
	printf("# %s: pyreader_open %.2f ms (runtime by %s at 0x%llx), pyreader_threads %.2f ms\n",
	       tag, (t1 - t0) * 1e3, pyreader_runtime_how(r),
	       (unsigned long long)pyreader_runtime_addr(r), (t2 - t1) * 1e3);
	ok(starts_with(pyreader_version(r), want_version), "%s: version %s starts with %s", tag,
	   pyreader_version(r), want_version);
	ok(pyreader_free_threaded(r), "%s: free-threaded", tag);
	is_int(nth, 4, "%s: 4 thread states (main + 3)", tag);
	for (size_t i = 0; i < nth; i++)
		ok(has_tid(stopped, nstopped > 0 ? (size_t)nstopped : 0, (pid_t)th[i].native_tid) &&
			   th[i].interp_id == 0 && th[i].thread_id,
		   "%s: thread %zu has native_tid %llu, a TID of /proc/%d/task, interpreter 0", tag,
		   i, (unsigned long long)th[i].native_tid, (int)c.pid);

	/* main thread: <module>, blocked in sys.stdin.readline() */
	{
		const struct py_thread *m = thread_by_tid(th, nth, (uint64_t)c.pid);
		expect_frame(m, 0, "stacks.py", "<module>", line_of(stacks_py, "# L_MAIN"),
			     "main thread");
		ok(m && m->n == 1 && m->frames[0].entry && m->main_thread,
		   "main thread: one frame, an entry frame, flagged main_thread");
		ok(m && strstr(m->frames[0].file, "/ftscope-pyframes-\xf0\x9f\x90\x8d-"),
		   "main thread: 4-byte-kind file name decodes (%s)", m ? m->frames[0].file : "-");
	}

	cJSON_ArrayForEach(jt, cJSON_GetObjectItem(oracle, "threads")) {
		const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(jt, "name"));
		uint64_t tid = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(jt, "tid"));
		const struct py_thread *t = thread_by_tid(th, nth, tid);
		size_t k;

		if (!ok(t != NULL, "%s: thread %s (tid %llu) found", tag, name,
			(unsigned long long)tid))
			continue;
		ok(!t->main_thread, "thread %s: not the main thread", name);
		compare_with_oracle(t, cJSON_GetObjectItem(jt, "frames"), name);
		if (!strcmp(name, "chain")) {
			expect_frame(t, 0, "stacks.py", "inner", line_of(stacks_py, "# L_INNER"), name);
			expect_frame(t, 1, "stacks.py", "middle", line_of(stacks_py, "# L_MIDDLE"), name);
			expect_frame(t, 2, "stacks.py", "outer", line_of(stacks_py, "# L_OUTER"), name);
			k = 3;
		} else if (!strcmp(name, "gen")) {
			expect_frame(t, 0, "stacks.py", "Cls.gen", line_of(stacks_py, "# L_GEN"), name);
			expect_frame(t, 1, "stacks.py", "Cls.method", line_of(stacks_py, "# L_METHOD"),
				     name);
			expect_frame(t, 2, "stacks.py", "f\xc3\xbc\xc3\x9f" "e",
				     line_of(stacks_py, "# L_FUSSE"), name);
			k = 3;
		} else {
			expect_frame(t, 0, "threading.py", "Condition.wait", -1, name);
			expect_frame(t, 1, "threading.py", "Event.wait", -1, name);
			expect_frame(t, 2, "stacks.py", "\xcf\x89" "ait", line_of(stacks_py, "# L_OMEGA"),
				     name);
			expect_frame(t, 3, "stacks.py", "waiter_a", line_of(stacks_py, "# L_WAITER"),
				     name);
			k = 4;
		}
		expect_frame(t, k, "threading.py", "Thread.run", -1, name);
		expect_frame(t, k + 1, "threading.py", "Thread._bootstrap_inner", -1, name);
		expect_frame(t, k + 2, "threading.py", "Thread._bootstrap", -1, name);
		for (size_t i = 0; i < t->n; i++)
			printf("#   %s%s\n", t->frames[i].func, t->frames[i].entry ? " (entry)" : "");
		ok(t->n == k + 3 && t->frames[k + 2].entry && !t->frames[k].entry &&
			   !t->frames[k + 1].entry && !t->frames[1].entry,
		   "thread %s: %zu frames; Thread._bootstrap (called from C) is the entry frame, "
		   "the inlined calls are not", name, t->n);
	}

	{
		struct py_gil g;
		int err = pyreader_gil(r, 0, &g);
		ok(!err && g.enabled == 0, "%s: GIL of interpreter 0 is disabled (enabled %d, "
		   "locked %d, last holder tid %llu)", tag, g.enabled, g.locked,
		   (unsigned long long)g.holder_tid);
		is_int(pyreader_gil(r, 77, &g), -ENOENT, "%s: no interpreter 77", tag);
	}

	/* A second snapshot reuses the reader and gives the same result. */
	{
		struct py_thread *th2 = NULL;
		size_t n2 = 0;
		is_int(pyreader_threads(r, &th2, &n2), 0, "%s: second snapshot", tag);
		ok(same_threads(th, nth, th2, n2), "%s: second snapshot equals the first", tag);
		py_threads_free(th2, n2);
	}

	/* The other ways to the runtime, and the /proc/PID/mem reader, give the same stacks. */
	{
		static const struct {
			unsigned flags;
			const char *how, *name;
		} alt[] = {
			{ PYREADER_NO_SYMBOL, "section", ".PyRuntime section + load bias" },
			{ PYREADER_NO_SYMBOL | PYREADER_NO_SECTION, "scan",
			  "cookie scan (no PyCode_Type symbol: type named \"code\")" },
			{ PYREADER_PROCMEM, "symbol", "/proc/PID/mem reads" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(alt); i++) {
			struct pyreader *r2 = NULL;
			struct py_thread *th2 = NULL;
			size_t n2 = 0;
			sbuf_reset(&why);
			if (!pyreader_open_flags(c.pid, alt[i].flags, &r2, &why))
				pyreader_threads(r2, &th2, &n2);
			ok(r2 && !strcmp(pyreader_runtime_how(r2), alt[i].how) &&
				   pyreader_runtime_addr(r2) == pyreader_runtime_addr(r) &&
				   same_threads(th, nth, th2, n2),
			   "%s: %s finds the runtime and the same stacks%s%s", tag, alt[i].name,
			   why.buf ? ": " : "", why.buf ? why.buf : "");
			py_threads_free(th2, n2);
			pyreader_free(r2);
		}
	}

out_detach:
	detach_all(stopped, nstopped > 0 ? (size_t)nstopped : 0);
	if (write(c.in, "go\n", 3) != 3)
		kill(c.pid, SIGKILL);
out_wait:
	st = child_wait(&c, 30000);
	ok(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "%s: detached process continues and exits 0 (status 0x%x)", tag, st);
out:
	free(line);
	py_threads_free(th, nth);
	pyreader_free(r);
	sbuf_release(&why);
	cJSON_Delete(oracle);
	if (dir)
		rm_rf(dir);
	free(script);
}

/* The decoder agrees with co_positions() on every code unit of real code objects. */
static const char positions_py[] =
	"import json, sys, threading, json.decoder, dataclasses, argparse\n"
	"def f(a, b):\n"
	"    x = [i * 2 for i in range(a)\n"
	"         if i % 3]\n"
	"    y = {k: v for k, v in zip('abc', (1, 2, 3))}; z = (a\n"
	"        + b)\n"
	"    " "q = 1;" " " "                                                                  "
	"                                                                  "
	"              w = [a, b, a + b + a + b + a + b + a + b + a + b + a + b]\n"
	"    try:\n"
	"        return x, y, z, 1 / 0\n"
	"    except ZeroDivisionError:\n"
	"        pass\n"
	"    return None\n"
	"def walk(c):\n"
	"    yield c\n"
	"    for k in c.co_consts:\n"
	"        if hasattr(k, 'co_code'):\n"
	"            yield from walk(k)\n"
	"mods = [sys.modules[m] for m in ('threading', 'json.decoder', 'dataclasses', 'argparse')]\n"
	"codes = [f.__code__] + [compile(open(m.__file__).read(), m.__file__, 'exec') for m in mods]\n"
	"for top in codes:\n"
	"    for c in walk(top):\n"
	"        pos = [[-1 if v is None else v for v in p] for p in c.co_positions()]\n"
	"        print(json.dumps([c.co_qualname, c.co_firstlineno, c.co_linetable.hex(), pos]))\n";

static void test_real_linetables(const char *python)
{
	char tmpl[] = "/tmp/ftscope-lt-XXXXXX";
	char *dir = mkdtemp(tmpl), *script = dir ? write_script(dir, "pos.py", positions_py) : NULL;
	struct child c = { 0 };
	size_t codes = 0, units = 0, mismatches = 0;
	char *line;
	int st;

	if (!ok(script && !child_start(&c, python, script), "real linetables: started"))
		goto out;
	while ((line = child_line(&c, 30000))) {
		cJSON *j = cJSON_Parse(line), *p;
		const char *hex = cJSON_GetStringValue(cJSON_GetArrayItem(j, 2));
		int first = cJSON_GetArrayItem(j, 1)->valueint;
		size_t len = hex ? strlen(hex) / 2 : 0, u = 0;
		uint8_t *tab = xmalloc(len + 1);
		for (size_t i = 0; i < len; i++)
			tab[i] = (uint8_t)strtoul((char[3]){ hex[2 * i], hex[2 * i + 1], 0 }, NULL, 16);
		cJSON_ArrayForEach(p, cJSON_GetArrayItem(j, 3)) {
			struct py_location loc;
			int want[4];
			for (int k = 0; k < 4; k++)
				want[k] = cJSON_GetArrayItem(p, k)->valueint;
			if (py_linetable_lookup(tab, len, first, u, &loc) || loc.line != want[0] ||
			    loc.end_line != want[1] || loc.col != want[2] || loc.end_col != want[3]) {
				if (!mismatches++)
					printf("# %s unit %zu: want %d-%d col %d-%d\n",
					       cJSON_GetStringValue(cJSON_GetArrayItem(j, 0)), u,
					       want[0], want[1], want[2], want[3]);
			}
			u++;
			units++;
		}
		codes++;
		free(tab);
		cJSON_Delete(j);
		free(line);
	}
	st = child_wait(&c, 30000);
	ok(st == 0 && codes > 300 && mismatches == 0,
	   "real linetables: %zu code objects, %zu code units agree with co_positions() "
	   "(%zu mismatches)", codes, units, mismatches);
out:
	if (dir)
		rm_rf(dir);
	free(script);
}

static const char many_py[] =
	"import os, sys, threading, time\n"
	"lock = threading.Lock()\n"
	"lock.acquire()\n"
	"def c(i):\n"
	"    lock.acquire()\n"
	"def b(i):\n"
	"    c(i)\n"
	"def a(i):\n"
	"    b(i)\n"
	"ts = [threading.Thread(target=a, args=(i,)) for i in range(100)]\n"
	"for t in ts:\n"
	"    t.start()\n"
	"def blocked():\n"
	"    n = 0\n"
	"    for t in ts:\n"
	"        with open(f'/proc/self/task/{t.native_id}/syscall') as s:\n"
	"            n += s.read().startswith('202 ')\n"
	"    return n\n"
	"while blocked() < len(ts):\n"
	"    time.sleep(0.01)\n"
	"print('ready', flush=True)\n"
	"sys.stdin.readline()\n"
	"for t in ts:\n"
	"    lock.release()\n"
	"    time.sleep(0)\n"
	"for t in ts:\n"
	"    t.join()\n";

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void test_timing(const char *python)
{
	char tmpl[] = "/tmp/ftscope-many-XXXXXX";
	char *dir = mkdtemp(tmpl), *script = dir ? write_script(dir, "many.py", many_py) : NULL;
	struct child c = { 0 };
	pid_t stopped[256];
	int nstopped = 0, st;
	double open_ms[7], all_ms[7], attach;
	size_t frames_ok = 0, nth = 0;
	char *line = NULL;

	if (!ok(script && !child_start(&c, python, script), "timing: started"))
		goto out;
	line = child_line(&c, 60000);
	if (!ok(line && !strcmp(line, "ready"), "timing: 100 threads blocked")) {
		kill(c.pid, SIGKILL);
		goto out_wait;
	}
	attach = now_monotonic();
	nstopped = stop_all(c.pid, stopped, ARRAY_SIZE(stopped));
	attach = now_monotonic() - attach;
	if (nstopped == -EPERM) {
		ok(1, "# SKIP ptrace not permitted here");
		nstopped = 0;
		goto out_detach;
	}
	is_int(nstopped, 101, "timing: stopped 101 threads in %.1f ms", attach * 1e3);
	for (size_t i = 0; i < ARRAY_SIZE(open_ms); i++) {
		struct pyreader *r = NULL;
		struct py_thread *th = NULL;
		struct sbuf why = SBUF_INIT;
		double t0 = now_monotonic(), t1, t2;
		if (pyreader_open(c.pid, &r, &why)) {
			sbuf_release(&why);
			break;
		}
		t1 = now_monotonic();
		pyreader_threads(r, &th, &nth);
		t2 = now_monotonic();
		open_ms[i] = (t1 - t0) * 1e3;
		all_ms[i] = (t2 - t0) * 1e3;
		frames_ok = 0;
		for (size_t k = 0; k < nth; k++)
			frames_ok += th[k].n == 6 && !strcmp(th[k].frames[0].func, "c") &&
				     !strcmp(th[k].frames[2].func, "a");
		py_threads_free(th, nth);
		pyreader_free(r);
	}
	is_int(nth, 101, "timing: 101 thread states");
	is_int(frames_ok, 100, "timing: 100 threads at c <- b <- a <- Thread.run...");
	qsort(open_ms, ARRAY_SIZE(open_ms), sizeof(double), cmp_double);
	qsort(all_ms, ARRAY_SIZE(all_ms), sizeof(double), cmp_double);
	printf("# timing (101 threads, 7 runs): pyreader_open median %.2f ms (min %.2f); "
	       "open + threads median %.2f ms (min %.2f, max %.2f); threads alone ~%.2f ms\n",
	       open_ms[3], open_ms[0], all_ms[3], all_ms[0], all_ms[6], all_ms[3] - open_ms[3]);
	ok(all_ms[3] < 1000, "timing: open + threads median %.2f ms < 1 s", all_ms[3]);
out_detach:
	detach_all(stopped, nstopped > 0 ? (size_t)nstopped : 0);
	if (write(c.in, "go\n", 3) != 3)
		kill(c.pid, SIGKILL);
out_wait:
	st = child_wait(&c, 60000);
	ok(st == 0, "timing: process exits 0 after detach (status 0x%x)", st);
out:
	free(line);
	if (dir)
		rm_rf(dir);
	free(script);
}

/* Snapshots of a process that keeps running: torn state must never crash or hang the reader. */
static const char running_py[] =
	"import sys, threading\n"
	"stop = False\n"
	"def rec(n):\n"
	"    if n == 0:\n"
	"        return sum(x for x in range(50))\n"
	"    return rec(n - 1)\n"
	"def spin():\n"
	"    while not stop:\n"
	"        rec(30)\n"
	"        [str(i) for i in range(100)]\n"
	"def churn():\n"
	"    while not stop:\n"
	"        t = threading.Thread(target=rec, args=(20,))\n"
	"        t.start()\n"
	"        t.join()\n"
	"ts = [threading.Thread(target=spin) for _ in range(4)]\n"
	"ts += [threading.Thread(target=churn) for _ in range(2)]\n"
	"for t in ts:\n"
	"    t.start()\n"
	"print('ready', flush=True)\n"
	"sys.stdin.readline()\n"
	"stop = True\n"
	"for t in ts:\n"
	"    t.join()\n";

static void test_running(const char *python)
{
	char tmpl[] = "/tmp/ftscope-run-XXXXXX";
	char *dir = mkdtemp(tmpl), *script = dir ? write_script(dir, "run.py", running_py) : NULL;
	struct child c = { 0 };
	struct pyreader *r = NULL;
	struct sbuf why = SBUF_INIT;
	size_t snaps = 0, good = 0, frames = 0, maxn = 0;
	char *line = NULL;
	double t0;
	int st;

	if (!ok(script && !child_start(&c, python, script), "running: started"))
		goto out;
	line = child_line(&c, 30000);
	if (!ok(line && !strcmp(line, "ready") && !pyreader_open(c.pid, &r, &why),
		"running: open%s%s", why.buf ? ": " : "", why.buf ? why.buf : "")) {
		kill(c.pid, SIGKILL);
		goto out_wait;
	}
	t0 = now_monotonic();
	while (now_monotonic() - t0 < 1.5) {
		struct py_thread *th = NULL;
		size_t n = 0;
		snaps++;
		if (!pyreader_threads(r, &th, &n))
			good++;
		for (size_t i = 0; i < n; i++) {
			frames += th[i].n;
			if (th[i].n > maxn)
				maxn = th[i].n;
		}
		py_threads_free(th, n);
	}
	printf("# running: %zu snapshots without stopping the target, %zu frames, deepest %zu\n",
	       snaps, frames, maxn);
	ok(snaps > 10 && good == snaps && maxn <= PY_MAX_FRAMES && frames > 0,
	   "running: %zu of %zu snapshots of a running target succeed", good, snaps);
	if (write(c.in, "go\n", 3) != 3)
		kill(c.pid, SIGKILL);
out_wait:
	st = child_wait(&c, 30000);
	ok(st == 0, "running: process exits 0 (status 0x%x)", st);
out:
	free(line);
	pyreader_free(r);
	sbuf_release(&why);
	if (dir)
		rm_rf(dir);
	free(script);
}

int main(void)
{
	const char *py = getenv("FT_PYTHON"), *py314 = getenv("FT_PYTHON_314");

	if (py && *py) {
		test_real_linetables(py);
		test_live(py, "3.13");
		test_timing(py);
		test_running(py);
	} else {
		ok(1, "# SKIP FT_PYTHON not set");
	}
	if (py314 && *py314)
		test_live(py314, "3.14");
	else
		ok(1, "# SKIP no 3.14 free-threaded interpreter here");
	return tap_done();
}
