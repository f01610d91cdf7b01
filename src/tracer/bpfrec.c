/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * User side of the eBPF recorder (bpf/recorder.bpf.c); the API is in ftscope/bpfrec.h.
 * Lifecycle as in libbpf-bootstrap: open -> rodata and map sizes -> load -> fill maps ->
 * attach -> poll. Reading the maps (threads, the summary) is in bpfrec_maps.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/perf_event.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ftscope/bpfrec.h"
#include "ftscope/error.h"
#include "ftscope/recorder_event.h"
#include "ftscope/util.h"
#include "bpfrec_internal.h"

#define TRACKED_MAX 4096
#define WAITS_MAX 8192
#define RINGBUF_BYTES (1u << 20)
#define BTF_PATH "/sys/kernel/btf/vmlinux"

/* --- libbpf's log ---------------------------------------------------------------------- */

/* While bpfrec_open() runs, libbpf's warnings are collected here to build `why`. */
static struct sbuf *libbpf_capture;

static void log_lines(enum libbpf_print_level level, char *s)
{
	char *line, *save = NULL;

	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (level == LIBBPF_WARN && !libbpf_capture)
			warning("%s", line);
		else
			debug("%s", line);
	}
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		return 0;
	if (level == LIBBPF_WARN && libbpf_capture)
		sbuf_adds(libbpf_capture, s);
	/* The verifier log is long: only with -vv. */
	if (!(libbpf_capture && strstr(s, "-- BEGIN PROG LOAD LOG --") && ft_verbose < 2))
		log_lines(level, s);
	free(s);
	return 0;
}

/* The last n (<= 4) non-empty lines of text[0..len), joined with " | ", into sb; the
 * verifier's statistics lines do not count. */
static void add_last_lines(struct sbuf *sb, const char *text, size_t len, int n)
{
	const char *p = text, *end = text + len, *start[4];
	size_t l[4];
	int k = 0, first;

	if (n > (int)ARRAY_SIZE(start))
		n = ARRAY_SIZE(start);
	while (p < end) {
		const char *e = memchr(p, '\n', end - p);

		if (!e)
			e = end;
		if (e > p && strncmp(p, "processed ", 10) && strncmp(p, "verification time", 17)) {
			start[k % n] = p;
			l[k % n] = e - p;
			k++;
		}
		p = e + 1;
	}
	first = k > n ? k - n : 0;
	for (int i = first; i < k; i++)
		sbuf_addf(sb, "%s%.*s", i == first ? "" : " | ",
			  (int)(l[i % n] > 200 ? 200 : l[i % n]), start[i % n]);
}

/*
 * The last libbpf warning that says more than "failed to load object", first sentence
 * only, without the "libbpf: " prefix.
 */
static void add_libbpf_reason(struct sbuf *why, const char *text)
{
	static const char *const generic[] = {
		"failed to load object", "failed to load BPF skeleton", "Failed to bump RLIMIT_MEMLOCK",
		"failed to open object",
	};
	const char *p = text, *best = NULL;
	size_t best_len = 0;

	while (*p) {
		const char *e = strchrnul(p, '\n'), *s = p;
		bool skip = e == p;

		for (size_t i = 0; i < ARRAY_SIZE(generic) && !skip; i++)
			skip = memmem(p, e - p, generic[i], strlen(generic[i])) != NULL;
		if (!skip) {
			if (!strncmp(s, "libbpf: ", 8))
				s += 8;
			best = s;
			best_len = e - s;
		}
		p = *e ? e + 1 : e;
	}
	if (best) {
		const char *dot = memmem(best, best_len, ". ", 2);

		if (dot)
			best_len = dot - best;
		if (best_len > 200)
			best_len = 200;
		sbuf_addf(why, ": %.*s", (int)best_len, best);
	}
}

/* The raw reason: strerror and libbpf's last warning, or the verifier's last lines. */
static void explain(struct sbuf *why, int err, const struct sbuf *log, char **prog_out)
{
	const char *text = log->buf ? log->buf : "";
	const char *begin = strstr(text, "-- BEGIN PROG LOAD LOG --\n");
	const char *end = begin ? strstr(begin, "-- END PROG LOAD LOG --") : NULL;
	const char *prog = NULL;

	sbuf_adds(why, strerror(err));
	/* The program is named on the line that opens its log. */
	for (const char *p = text; begin && (p = strstr(p, "prog '")) && p < begin; p++)
		prog = p;
	if (begin && end) {
		const char *q = prog ? strchr(prog + 6, '\'') : NULL;
		if (q)
			*prog_out = xstrndup(prog + 6, (size_t)(q - prog - 6));
		else
			*prog_out = xstrdup("?");
		sbuf_adds(why, ": ");
		begin += strlen("-- BEGIN PROG LOAD LOG --\n");
		add_last_lines(why, begin, end - begin, 3);
	} else {
		add_libbpf_reason(why, text);
	}
}

/* --- Why it cannot work here, and the fix ------------------------------------------------ */

/* A capability in this process's effective set (/proc/self/status CapEff). */
static bool cap_effective(int cap)
{
	char *text = NULL, *p;
	bool on = false;

	if (read_file("/proc/self/status", &text, NULL) == 0 && (p = strstr(text, "\nCapEff:")))
		on = (strtoull(p + 8, NULL, 16) >> cap) & 1;
	free(text);
	return on;
}

static bool seccomp_filtered(void)
{
	char *text = NULL, *p;
	bool on = false;

	if (read_file("/proc/self/status", &text, NULL) == 0 && (p = strstr(text, "\nSeccomp:")))
		on = atoi(p + 9) == 2;
	free(text);
	return on;
}

/* "none [integrity] confidentiality": the bracketed mode; false if unknown. */
static bool locked_down_confidentiality(void)
{
	char *text = NULL;
	bool on = false;

	if (read_file("/sys/kernel/security/lockdown", &text, NULL) == 0)
		on = strstr(text, "[confidentiality]") != NULL;
	free(text);
	return on;
}

static bool kernel_before(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma < major || (ma == major && mi < minor);
}

#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39
#define NO_EBPF "or use --tracer ptrace"

/*
 * One line for the user, e.g. "cannot load the eBPF recorder: a seccomp filter denies
 * bpf() (a container's default profile); fix: start the container with --security-opt
 * seccomp=unconfined, or use --tracer ptrace". detail is the raw reason (libbpf's words),
 * kept only where no better cause is known; prog names a program the verifier rejected.
 */
static void diagnose(struct sbuf *why, const char *step, int err, const char *detail,
		     const char *prog)
{
	struct utsname u;

	uname(&u);
	sbuf_addf(why, "cannot %s the eBPF recorder: ", step);
	if (kernel_before(5, 15)) {
		sbuf_addf(why, "Linux %s is older than 5.15 (the recorder needs BPF atomics, the "
			  "ring buffer, BTF tracepoints and a task's registers); fix: a kernel "
			  ">= 5.15, " NO_EBPF,
			  u.release);
	} else if (prog) {
		sbuf_addf(why, "the kernel's verifier rejected program '%s' (%s); fix: none "
			  "on this kernel (report it with the output of ftscope -vv run), "
			  NO_EBPF,
			  prog, detail);
	} else if (err == EPERM || err == EACCES) {
		bool bpf_caps = cap_effective(CAP_BPF_BIT) && cap_effective(CAP_PERFMON_BIT);

		if (geteuid() != 0 && !bpf_caps)
			sbuf_adds(why, "ftscope is not root; fix: run it as root (sudo ftscope "
				  "...), or give it CAP_BPF and CAP_PERFMON, " NO_EBPF);
		else if (!bpf_caps && !cap_effective(CAP_SYS_ADMIN_BIT))
			sbuf_adds(why, "root here lacks CAP_BPF and CAP_PERFMON (a container's "
				  "capability set); fix: start the container with --cap-add BPF "
				  "--cap-add PERFMON (or --privileged), " NO_EBPF);
		else if (locked_down_confidentiality())
			sbuf_adds(why, "the kernel is locked down in confidentiality mode "
				  "(/sys/kernel/security/lockdown), which keeps BPF from reading "
				  "kernel memory; fix: boot with lockdown=integrity, " NO_EBPF);
		else if (seccomp_filtered())
			sbuf_adds(why, "a seccomp filter denies bpf() or perf_event_open() (a "
				  "container's default profile); fix: start the container with "
				  "--security-opt seccomp=unconfined (or a profile allowing both), "
				  NO_EBPF);
		else
			sbuf_addf(why, "the kernel refused it (%s); fix: none known here "
				  "(ftscope -v run shows libbpf's log), " NO_EBPF, detail);
	} else if (!strcmp(step, "attach") && (err == ENOENT || err == EOPNOTSUPP || err == 524)) {
		sbuf_addf(why, "Linux %s cannot attach one of the recorder's BTF tracepoints (%s); "
			  "fix: a kernel with CONFIG_DEBUG_INFO_BTF and syscall tracepoints "
			  "(CONFIG_FTRACE_SYSCALLS), " NO_EBPF, u.release, detail);
	} else {
		sbuf_addf(why, "%s; fix: none known here (ftscope -v run shows libbpf's log), "
			  NO_EBPF, detail);
	}
}

static void fail(struct sbuf *why, const char *step, int err, const struct sbuf *log)
{
	struct sbuf detail = SBUF_INIT;
	char *prog = NULL;

	explain(&detail, err, log, &prog);
	debug("eBPF recorder: cannot %s: %s", step, detail.buf);
	diagnose(why, step, err, detail.buf, prog);
	free(prog);
	sbuf_release(&detail);
}

/* --- Events ------------------------------------------------------------------------------ */

static int on_event(void *ctx, void *data, size_t size)
{
	struct bpfrec *r = ctx;
	const struct recorder_event *e = data;

	if (r->discard || size < sizeof(*e) || e->ts_ns < r->t0_ns)
		return 0;
	if (e->kind == RECORDER_EV_FORK && r->on_fork)
		r->on_fork(r->on_fork_arg, (pid_t)e->pid, (pid_t)e->from_tid, (pid_t)e->ppid,
			   e->ts_ns);
	if (r->nev == BPFREC_MAX_EVENTS) {
		r->dropped++;
		return 0;
	}
	if (r->nev == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		r->ev = xrealloc(r->ev, r->cap * sizeof(*r->ev));
	}
	r->ev[r->nev++] = *e;
	return 0;
}

uint64_t bpfrec_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/* --- The syscall hooks (bpf/recorder.bpf.c says why two kinds) -------------------------- */

#define TRACEFS "/sys/kernel/tracing"
#define SYS_TP_N 6
static const char *const sys_tp_names[SYS_TP_N] = {
	"sys_enter_futex", "sys_exit_futex", "sys_enter_wait4", "sys_exit_wait4",
	"sys_enter_waitid", "sys_exit_waitid",
};

static void sys_tp_progs(struct ftscope_recorder *skel, struct bpf_program *p[SYS_TP_N],
			 struct bpf_link **l[SYS_TP_N])
{
	p[0] = skel->progs.futex_enter, l[0] = &skel->links.futex_enter;
	p[1] = skel->progs.futex_exit, l[1] = &skel->links.futex_exit;
	p[2] = skel->progs.wait4_enter, l[2] = &skel->links.wait4_enter;
	p[3] = skel->progs.wait4_exit, l[3] = &skel->links.wait4_exit;
	p[4] = skel->progs.waitid_enter, l[4] = &skel->links.waitid_enter;
	p[5] = skel->progs.waitid_exit, l[5] = &skel->links.waitid_exit;
}

/* The syscall tracepoints' ids, from a tracefs mounted at dir. 0 when all were read. */
static int sys_tp_ids_read(const char *dir, long ids[SYS_TP_N])
{
	for (int i = 0; i < SYS_TP_N; i++) {
		char path[128], *text = NULL, *end;

		snprintf(path, sizeof(path), "%s/events/syscalls/%s/id", dir, sys_tp_names[i]);
		if (read_file(path, &text, NULL) < 0)
			return -1;
		ids[i] = strtol(text, &end, 10);
		free(text);
		if (end == text || ids[i] <= 0)
			return -1;
	}
	return 0;
}

/*
 * The host has no tracefs mounted: a child mounts one in a mount namespace of its own,
 * private so that nothing propagates to the host, reads the ids there and exits, which
 * takes the namespace and the mount with it. 0, or -1 with the reason in why.
 */
static int sys_tp_ids_private(long ids[SYS_TP_N], struct sbuf *why)
{
	struct { int err; const char *step; long ids[SYS_TP_N]; } res = { 0 };
	int p[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		sbuf_addf(why, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		/* "/" is not a mount point in a chroot; /sys usually is */
		if (unshare(CLONE_NEWNS) < 0)
			res.step = "unshare(CLONE_NEWNS)";
		else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 &&
			 mount(NULL, "/sys", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			res.step = "make the mounts private";
		else if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) < 0)
			res.step = "mount tracefs on " TRACEFS;
		else if ((errno = ENOENT, sys_tp_ids_read(TRACEFS, res.ids) < 0))
			res.step = "read the syscall tracepoints' ids";
		res.err = errno;
		n = write(p[1], &res, sizeof(res));
		_exit(n == (ssize_t)sizeof(res) ? 0 : 1);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		sbuf_addf(why, "fork: %s", strerror(errno));
		return -1;
	}
	do
		n = read(p[0], &res, sizeof(res));
	while (n < 0 && errno == EINTR);
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(res)) {
		sbuf_adds(why, "the helper process gave no answer");
		return -1;
	}
	if (res.step) {
		/* the string lives at the same address in the child's copy of our memory */
		sbuf_addf(why, "cannot %s: %s", res.step, strerror(res.err));
		return -1;
	}
	memcpy(ids, res.ids, sizeof(res.ids));
	return 0;
}

/*
 * Choose the hooks before loading: the syscall tracepoints if their ids can be read (from
 * the host's tracefs, else from a private mount of it), else the raw syscall tracepoints.
 * Unused programs are not loaded. Returns true (and ids) for the syscall tracepoints.
 */
static bool choose_syscall_hooks(struct bpfrec *r, long ids[SYS_TP_N])
{
	struct ftscope_recorder *skel = r->skel;
	struct bpf_program *progs[SYS_TP_N];
	struct bpf_link **links[SYS_TP_N];
	struct sbuf why = SBUF_INIT;
	bool tp = true;

	sys_tp_progs(skel, progs, links);
	if (sys_tp_ids_read(TRACEFS, ids) == 0 ||
	    sys_tp_ids_read("/sys/kernel/debug/tracing", ids) == 0) {
		r->syscall_hooks = "syscall tracepoints";
	} else if (sys_tp_ids_private(ids, &why) == 0) {
		r->syscall_hooks = "syscall tracepoints (tracefs is not mounted: ids read from a "
				   "private mount of it)";
	} else {
		debug("eBPF recorder: no tracefs (%s): raw syscall tracepoints", why.buf);
		r->syscall_hooks = "raw syscall tracepoints (no tracefs to be had: every syscall "
				   "on the host runs a filter)";
		tp = false;
	}
	for (int i = 0; i < SYS_TP_N; i++) {
		bpf_program__set_autoload(progs[i], tp);
		bpf_program__set_autoattach(progs[i], false); /* attach_sys_tps() does it */
	}
	bpf_program__set_autoload(skel->progs.on_sys_enter, !tp);
	bpf_program__set_autoload(skel->progs.on_sys_exit, !tp);
	sbuf_release(&why);
	return tp;
}

/* Attach the syscall tracepoint programs by id (a perf event each, as libbpf does, but
 * without its tracefs lookup). The skeleton owns the links. 0 or -errno. */
static int attach_sys_tps(struct bpfrec *r, const long ids[SYS_TP_N])
{
	struct bpf_program *progs[SYS_TP_N];
	struct bpf_link **links[SYS_TP_N];

	sys_tp_progs(r->skel, progs, links);
	for (int i = 0; i < SYS_TP_N; i++) {
		struct perf_event_attr a = {
			.type = PERF_TYPE_TRACEPOINT,
			.size = sizeof(a),
			.config = (__u64)ids[i],
		};
		int pfd = syscall(__NR_perf_event_open, &a, -1, 0, -1, PERF_FLAG_FD_CLOEXEC), err;

		if (pfd < 0)
			return -errno;
		*links[i] = bpf_program__attach_perf_event(progs[i], pfd);
		if (!*links[i]) {
			err = -errno;
			close(pfd);
			return err;
		}
	}
	return 0;
}

const char *bpfrec_syscall_hooks(const struct bpfrec *r)
{
	return r->syscall_hooks;
}

/* Is this process in the initial pid namespace? The programs see every task by its pid
 * there (task->pid, bpf_get_current_pid_tgid), and user space tracks its children by the
 * pids it sees: elsewhere they differ, and the recorder would see nothing of the tree. The
 * initial namespace's inode number is fixed (PROC_PID_INIT_INO). */
static bool initial_pid_ns(void)
{
	struct stat st;
	return stat("/proc/self/ns/pid", &st) < 0 || st.st_ino == 0xEFFFFFFCu;
}

/* --- Open / close -------------------------------------------------------------------------- */

int bpfrec_open(struct bpfrec **out, struct sbuf *why)
{
	static bool print_set;
	struct sbuf log = SBUF_INIT;
	struct bpfrec *r = xcalloc(1, sizeof(*r));
	uint64_t t_start = bpfrec_now_ns();
	struct ftscope_recorder *skel;
	long ids[SYS_TP_N];
	int ret = -1, err;
	bool sys_tp;

	*out = NULL;
	if (!print_set) {
		libbpf_set_print(libbpf_print);
		print_set = true;
	}
	libbpf_capture = &log;
	if (!initial_pid_ns()) {
		sbuf_addf(why, "cannot use the eBPF recorder: ftscope runs in a pid namespace of "
			  "its own (a container's), and the recorder sees the host's pids, not "
			  "these; fix: run in the host's pid namespace (docker --pid=host), " NO_EBPF);
		goto out;
	}
	if (access(BTF_PATH, R_OK) < 0) {
		sbuf_addf(why, "cannot load the eBPF recorder: the kernel has no BTF (%s: %s); "
			  "fix: a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian's, Ubuntu's "
			  "and Fedora's are), " NO_EBPF, BTF_PATH, strerror(errno));
		goto out;
	}

	/* Open the BPF object */
	skel = r->skel = ftscope_recorder__open();
	if (!skel) {
		fail(why, "open", errno, &log);
		goto out;
	}

	/* Parameterize: read-only settings and map sizes */
	skel->rodata->record_eagain = false;
	bpf_map__set_max_entries(skel->maps.tracked, TRACKED_MAX);
	bpf_map__set_max_entries(skel->maps.live, THREADS_MAX);
	bpf_map__set_max_entries(skel->maps.blocked, THREADS_MAX);
	bpf_map__set_max_entries(skel->maps.waits, WAITS_MAX);
	bpf_map__set_max_entries(skel->maps.events, RINGBUF_BYTES);

	/* The syscall hooks: tracepoints, else raw tracepoints */
	sys_tp = choose_syscall_hooks(r, ids);

	/* Load and verify the programs */
	err = ftscope_recorder__load(skel);
	if (err) {
		fail(why, "load", -err, &log);
		goto out;
	}

	/* Fill the filter maps: empty until bpfrec_track() */

	/* Attach the tracepoints */
	err = sys_tp ? attach_sys_tps(r, ids) : 0;
	if (!err)
		err = ftscope_recorder__attach(skel);
	if (err) {
		fail(why, "attach", -err, &log);
		goto out;
	}

	/* Set up ring-buffer polling */
	r->rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, r, NULL);
	if (!r->rb) {
		fail(why, "set up the ring buffer of", errno, &log);
		goto out;
	}
	r->t0_ns = bpfrec_now_ns();
	debug("eBPF recorder loaded and attached in %.1f ms",
	      (r->t0_ns - t_start) / 1e6);
	*out = r;
	r = NULL;
	ret = 0;
out:
	libbpf_capture = NULL;
	sbuf_release(&log);
	bpfrec_close(r);
	return ret;
}

void bpfrec_close(struct bpfrec *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	ftscope_recorder__destroy(r->skel);
	free(r->ev);
	free(r->bkeys);
	free(r->bvals);
	free(r);
}

int bpfrec_fd(const struct bpfrec *r)
{
	return ring_buffer__epoll_fd(r->rb);
}

int bpfrec_consume(struct bpfrec *r)
{
	return ring_buffer__consume(r->rb);
}

void bpfrec_on_fork(struct bpfrec *r, bpfrec_fork_fn fn, void *arg)
{
	r->on_fork = fn;
	r->on_fork_arg = arg;
}

_Static_assert(sizeof(((struct bpf_crash *)0)->regs) ==
		       sizeof(((struct recorder_crash *)0)->regs),
	       "bpf_crash.regs holds recorder_crash.regs");

int bpfrec_crash_take(struct bpfrec *r, pid_t tgid, struct bpf_crash *out)
{
	int fd = bpf_map__fd(r->skel->maps.crashes);
	struct recorder_crash c;
	__u32 key = (__u32)tgid;

	if (bpf_map_lookup_and_delete_elem(fd, &key, &c) < 0) {
		/* hash maps have lookup-and-delete since 5.14 */
		if (bpf_map_lookup_elem(fd, &key, &c) < 0)
			return -ENOENT;
		bpf_map_delete_elem(fd, &key);
	}
	memset(out, 0, sizeof(*out));
	out->tid = (pid_t)c.tid;
	out->sig = (int)c.sig;
	out->code = c.code;
	out->addr = c.addr;
	out->ts_ns = c.ts_ns;
	memcpy(out->comm, c.comm, sizeof(out->comm));
	out->comm[sizeof(out->comm) - 1] = '\0';
	out->nregs = c.nregs <= RECORDER_CRASH_REGS ? c.nregs : 0;
	memcpy(out->regs, c.regs, sizeof(out->regs));
	return 0;
}

/* --- Tracking and reset ---------------------------------------------------------------------- */

static void atomic_max(__u64 *peak_p, int64_t v)
{
	__u64 peak = __atomic_load_n(peak_p, __ATOMIC_SEQ_CST);

	while (v > 0 && (uint64_t)v > peak &&
	       !__atomic_compare_exchange_n(peak_p, &peak, (uint64_t)v, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST))
		;
}

static void stats_add_live(struct recorder_stats *st, int64_t n)
{
	int64_t live = __atomic_add_fetch(&st->live_threads, n, __ATOMIC_SEQ_CST);

	atomic_max(&st->peak_tree_threads, live);
}

int bpfrec_track(struct bpfrec *r, pid_t tgid)
{
	char path[64];
	struct dirent *de;
	__u32 key = tgid;
	__s64 nproc = 0;
	DIR *d;

	if (bpf_map_update_elem(bpf_map__fd(r->skel->maps.tracked), &key, &nproc, BPF_ANY) < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)tgid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct recorder_thread t = { .tgid = key };
		char *end;
		unsigned long tid = strtoul(de->d_name, &end, 10);

		if (*end || !tid)
			continue;
		key = tid;
		if (bpf_map_update_elem(bpf_map__fd(r->skel->maps.live), &key, &t, BPF_NOEXIST) == 0) {
			stats_add_live(&r->skel->bss->stats, 1);
			nproc++;
		}
	}
	closedir(d);
	/* The process's own count: threads it started meanwhile were counted by the kernel
	 * side, so add ours to what is there (a root is tracked as it starts: one thread). */
	key = tgid;
	{
		__s64 cur = 0;
		if (bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.tracked), &key, &cur) == 0) {
			cur += nproc;
			bpf_map_update_elem(bpf_map__fd(r->skel->maps.tracked), &key, &cur, BPF_EXIST);
			atomic_max(&r->skel->bss->stats.peak_threads, cur);
		}
	}
	return 0;
}

/* Delete every key; bounded, as the kernel side may insert meanwhile. */
static void map_clear(const struct bpf_map *map)
{
	int fd = bpf_map__fd(map);
	size_t limit = 2 * (size_t)bpf_map__max_entries(map);
	unsigned char key[64];

	if (bpf_map__key_size(map) > sizeof(key))
		return;
	while (limit-- && bpf_map_get_next_key(fd, NULL, key) == 0)
		bpf_map_delete_elem(fd, key);
}

void bpfrec_reset(struct bpfrec *r)
{
	struct recorder_stats *st = &r->skel->bss->stats;

	r->t0_ns = bpfrec_now_ns();
	r->discard = true;
	ring_buffer__consume(r->rb);
	r->discard = false;
	/* The filter first, so that nothing new is recorded while the rest is cleared. */
	map_clear(r->skel->maps.tracked);
	map_clear(r->skel->maps.live);
	map_clear(r->skel->maps.blocked);
	map_clear(r->skel->maps.waits);
	map_clear(r->skel->maps.crashes);
	/* Orphan the CPUs' running slots before zeroing the counters they would decrement. */
	__atomic_add_fetch(&st->gen, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st->n_running, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st->overlap_start_ns, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st->overlap_ns, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st->proc_overlap_ns, 0, __ATOMIC_SEQ_CST);
	map_clear(r->skel->maps.proc_run); /* after the gen bump: no old slot decrements it */
	__atomic_store_n(&st->on_cpu_ns, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st->live_threads, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st->peak_threads, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st->peak_tree_threads, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st->total_waits, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st->contended_waits, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st->ringbuf_drops, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&st->map_full, 0, __ATOMIC_SEQ_CST);
	r->nev = 0;
	r->dropped = 0;
}
