/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * User side of the eBPF recorder (bpf/recorder.bpf.c); the API is in ftscope/bpfrec.h.
 * Lifecycle as in libbpf-bootstrap: open -> rodata and map sizes -> load -> fill maps ->
 * attach -> poll. JSON ownership: bpfrec_summary() returns a fresh tree the caller owns.
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
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/perf_event.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cjson/cJSON.h>

#include "ftscope/bpfrec.h"
#include "ftscope/error.h"
#include "ftscope/recorder_event.h"
#include "ftscope/util.h"
#include "recorder.skel.h"

#define BPFREC_MAX_EVENTS 20000  /* in-memory cap on signal + lifecycle records */
#define BPFREC_TOP_WAITS 16
#define BPFREC_BUSIEST 8
#define TRACKED_MAX 4096
#define THREADS_MAX 16384        /* live and blocked */
#define WAITS_MAX 8192
#define RINGBUF_BYTES (1u << 20)
#define BTF_PATH "/sys/kernel/btf/vmlinux"

struct bpfrec {
	struct ftscope_recorder *skel;
	struct ring_buffer *rb;
	uint64_t t0_ns;              /* last reset */
	struct recorder_event *ev;   /* consumed events, time order */
	size_t nev, cap;
	uint64_t dropped;            /* events past BPFREC_MAX_EVENTS */
	bool discard;                /* draining for a reset */
	const char *syscall_hooks;   /* how futex/wait4/waitid are seen (bpfrec_syscall_hooks) */
};

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
	if (kernel_before(5, 12)) {
		sbuf_addf(why, "Linux %s is older than 5.12 (the recorder needs BPF atomics, the "
			  "ring buffer and BTF tracepoints); fix: a kernel >= 5.12, " NO_EBPF,
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

/* --- Reading the maps ---------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * The keys of a u32-keyed hash map, sorted and deduplicated (iterating while the kernel
 * deletes can restart from the first key). *n keys, malloc'd.
 */
static __u32 *map_keys_u32(const struct bpf_map *map, size_t *n)
{
	int fd = bpf_map__fd(map);
	size_t cap = bpf_map__max_entries(map), k = 0, limit = 2 * cap;
	__u32 *keys = xcalloc(cap ? cap : 1, sizeof(*keys)), key, *prev = NULL;

	while (k < cap && limit-- && bpf_map_get_next_key(fd, prev, &key) == 0) {
		keys[k] = key;
		prev = &keys[k++];
	}
	qsort(keys, k, sizeof(*keys), cmp_u32);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (i == 0 || keys[i] != keys[i - 1])
			keys[(*n)++] = keys[i];
	return keys;
}

static int cmp_blocked(const void *a, const void *b)
{
	const struct bpf_blocked *x = a, *y = b;

	if (x->since_ns != y->since_ns)
		return x->since_ns < y->since_ns ? -1 : 1;
	return x->tid - y->tid;
}

/* All blocked threads, oldest first; *n entries, malloc'd. */
static struct bpf_blocked *blocked_all(struct bpfrec *r, size_t *n)
{
	int fd = bpf_map__fd(r->skel->maps.blocked);
	size_t nkeys, k = 0;
	__u32 *keys = map_keys_u32(r->skel->maps.blocked, &nkeys);
	struct bpf_blocked *out = xcalloc(nkeys ? nkeys : 1, sizeof(*out));

	for (size_t i = 0; i < nkeys; i++) {
		struct recorder_blocked b;

		if (bpf_map_lookup_elem(fd, &keys[i], &b) < 0)
			continue;
		out[k++] = (struct bpf_blocked){
			.tid = keys[i],
			.tgid = b.tgid,
			.since_ns = b.since_ns,
			.uaddr = b.kind == RECORDER_BLOCK_CHILD ? (uint64_t)(int64_t)(int32_t)b.uaddr
								  : b.uaddr,
			.op = b.op,
			.timed = b.timed,
			.child_wait = b.kind == RECORDER_BLOCK_CHILD,
		};
	}
	free(keys);
	qsort(out, k, sizeof(*out), cmp_blocked);
	*n = k;
	return out;
}

size_t bpfrec_threads(struct bpfrec *r, struct bpf_blocked *blocked, size_t max,
		      size_t *nblocked)
{
	size_t nlive, nb;
	__u32 *keys = map_keys_u32(r->skel->maps.live, &nlive);
	struct bpf_blocked *all = blocked_all(r, &nb);

	free(keys);
	if (nb > max)
		nb = max;
	if (nb)
		memcpy(blocked, all, nb * sizeof(*all));
	free(all);
	if (nblocked)
		*nblocked = nb;
	return nlive;
}

/* --- Summary ------------------------------------------------------------------------------ */

static double ms(uint64_t ns)
{
	return (double)(ns / 1000) / 1000.0; /* microsecond resolution */
}

static double t_ms(const struct bpfrec *r, uint64_t ts)
{
	return ts > r->t0_ns ? ms(ts - r->t0_ns) : 0;
}

static void add_sig_name(cJSON *j, int sig)
{
	const char *name = signal_name(sig);
	char buf[32];

	if (!name) {
		if (sig >= SIGRTMIN && sig <= SIGRTMAX)
			snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
		else
			snprintf(buf, sizeof(buf), "SIG%d", sig);
		name = buf;
	}
	cJSON_AddStringToObject(j, "name", name);
}

static void add_comm(cJSON *j, const char comm[RECORDER_COMM_LEN])
{
	char buf[RECORDER_COMM_LEN + 1];

	memcpy(buf, comm, RECORDER_COMM_LEN);
	buf[RECORDER_COMM_LEN] = '\0';
	cJSON_AddStringToObject(j, "comm", buf);
}

static int cmp_event(const void *a, const void *b)
{
	const struct recorder_event *x = a, *y = b;

	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

static void summary_events(struct bpfrec *r, cJSON *root)
{
	cJSON *sigs = cJSON_AddArrayToObject(root, "signals");
	cJSON *life = cJSON_AddArrayToObject(root, "lifecycle");

	/* Ring-buffer order is reservation order; CPUs may disagree by a few ns. */
	qsort(r->ev, r->nev, sizeof(*r->ev), cmp_event);
	for (size_t i = 0; i < r->nev; i++) {
		const struct recorder_event *e = &r->ev[i];
		cJSON *j = cJSON_CreateObject();

		cJSON_AddNumberToObject(j, "t_ms", t_ms(r, e->ts_ns));
		switch (e->kind) {
		case RECORDER_EV_SIG_GENERATE:
		case RECORDER_EV_SIG_DELIVER:
			cJSON_AddStringToObject(j, "kind", e->kind == RECORDER_EV_SIG_GENERATE ?
							   "generate" : "deliver");
			cJSON_AddNumberToObject(j, "sig", e->sig);
			add_sig_name(j, e->sig);
			cJSON_AddNumberToObject(j, "from_pid", e->from_pid);
			cJSON_AddNumberToObject(j, "to_pid", e->pid);
			cJSON_AddNumberToObject(j, "to_tid", e->tid);
			cJSON_AddNumberToObject(j, "code", e->code);
			if (e->kind == RECORDER_EV_SIG_GENERATE)
				cJSON_AddNumberToObject(j, "result", e->result);
			cJSON_AddItemToArray(sigs, j);
			break;
		case RECORDER_EV_FORK:
		case RECORDER_EV_EXEC:
		case RECORDER_EV_EXIT:
			cJSON_AddStringToObject(j, "event", e->kind == RECORDER_EV_FORK ? "fork" :
							    e->kind == RECORDER_EV_EXEC ? "exec" : "exit");
			cJSON_AddNumberToObject(j, "pid", e->pid);
			cJSON_AddNumberToObject(j, "tid", e->tid);
			cJSON_AddNumberToObject(j, "ppid", e->ppid);
			add_comm(j, e->comm);
			if (e->kind == RECORDER_EV_EXIT) {
				cJSON_AddNumberToObject(j, "exit_code", (e->exit_code >> 8) & 0xff);
				cJSON_AddNumberToObject(j, "signal", e->exit_code & 0x7f);
				cJSON_AddBoolToObject(j, "core", (e->exit_code & 0x80) != 0);
			}
			cJSON_AddItemToArray(life, j);
			break;
		default:
			cJSON_Delete(j);
		}
	}
}

struct wait_row {
	struct recorder_wait_key key;
	struct recorder_wait_val val;
	uint64_t pending;
};

static int cmp_wait_row(const void *a, const void *b)
{
	const struct wait_row *x = a, *y = b;

	if (x->val.total_ns != y->val.total_ns)
		return x->val.total_ns > y->val.total_ns ? -1 : 1;
	if (x->key.tgid != y->key.tgid)
		return x->key.tgid < y->key.tgid ? -1 : 1;
	return x->key.uaddr < y->key.uaddr ? -1 : x->key.uaddr > y->key.uaddr;
}

static void summary_waits(struct bpfrec *r, cJSON *root, uint64_t now)
{
	const struct recorder_stats *st = &r->skel->bss->stats;
	int fd = bpf_map__fd(r->skel->maps.waits);
	size_t cap = bpf_map__max_entries(r->skel->maps.waits), limit = 2 * cap, n = 0, nb;
	struct wait_row *rows = xcalloc(cap + THREADS_MAX, sizeof(*rows));
	struct recorder_wait_key key, *prev = NULL;
	struct bpf_blocked *bl = blocked_all(r, &nb);
	cJSON *lw = cJSON_AddObjectToObject(root, "lock_waits");
	cJSON *top = cJSON_AddArrayToObject(lw, "top");
	size_t shown = 0;

	while (n < cap && limit-- && bpf_map_get_next_key(fd, prev, &key) == 0) {
		rows[n].key = key;
		prev = &rows[n].key;
		if (bpf_map_lookup_elem(fd, &key, &rows[n].val) == 0)
			n++;
	}
	/* Fold in the waits still going on: they are what a deadlock looks like. */
	for (size_t i = 0; i < nb; i++) {
		uint64_t d = now > bl[i].since_ns ? now - bl[i].since_ns : 0;
		size_t k;

		if (bl[i].child_wait)
			continue;
		for (k = 0; k < n; k++)
			if (rows[k].key.tgid == (__u32)bl[i].tgid && rows[k].key.uaddr == bl[i].uaddr)
				break;
		if (k == n) {
			rows[n].key = (struct recorder_wait_key){ .tgid = bl[i].tgid,
								  .uaddr = bl[i].uaddr };
			rows[n].val.peak = 1;
			n++;
		}
		rows[k].pending++;
		rows[k].val.count++;
		rows[k].val.total_ns += d;
		if (d > rows[k].val.max_ns)
			rows[k].val.max_ns = d;
	}
	free(bl);
	qsort(rows, n, sizeof(*rows), cmp_wait_row);
	for (size_t k = 0; k < n && shown < BPFREC_TOP_WAITS; k++) {
		cJSON *j;
		char addr[32];

		if (!rows[k].val.count)
			continue;
		j = cJSON_CreateObject();
		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)rows[k].key.uaddr);
		cJSON_AddNumberToObject(j, "tgid", rows[k].key.tgid);
		cJSON_AddStringToObject(j, "uaddr", addr);
		cJSON_AddNumberToObject(j, "count", rows[k].val.count);
		cJSON_AddNumberToObject(j, "total_ms", ms(rows[k].val.total_ns));
		cJSON_AddNumberToObject(j, "max_ms", ms(rows[k].val.max_ns));
		cJSON_AddNumberToObject(j, "waiters", rows[k].val.peak);
		cJSON_AddNumberToObject(j, "pending", rows[k].pending);
		cJSON_AddItemToArray(top, j);
		shown++;
	}
	free(rows);
	cJSON_AddNumberToObject(lw, "total_waits", st->total_waits);
	cJSON_AddNumberToObject(lw, "contended_waits", st->contended_waits);
}

struct busy_row {
	__u32 tid;
	struct recorder_thread t;
};

static int cmp_busy(const void *a, const void *b)
{
	const struct busy_row *x = a, *y = b;

	if (x->t.on_cpu_ns != y->t.on_cpu_ns)
		return x->t.on_cpu_ns > y->t.on_cpu_ns ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static void summary_concurrency(struct bpfrec *r, cJSON *root, uint64_t now)
{
	const struct recorder_stats *st = &r->skel->bss->stats;
	cJSON *c = cJSON_AddObjectToObject(root, "concurrency");
	uint64_t on_cpu = st->on_cpu_ns, overlap = st->overlap_ns, start;
	uint64_t proc_overlap = st->proc_overlap_ns;
	int ncpu = libbpf_num_possible_cpus();
	size_t nlive, nrows = 0;
	__u32 *keys = map_keys_u32(r->skel->maps.live, &nlive);
	struct busy_row *rows = xcalloc(nlive ? nlive : 1, sizeof(*rows));
	struct recorder_cpu *slots = ncpu > 0 ? xcalloc(ncpu, sizeof(*slots)) : NULL;
	__u32 zero = 0;
	cJSON *busiest;

	for (size_t i = 0; i < nlive; i++) {
		rows[nrows].tid = keys[i];
		if (bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.live), &keys[i],
					&rows[nrows].t) == 0)
			nrows++;
	}
	/* Threads on a CPU right now have not been credited yet (a spinning thread may never
	 * be switched out). */
	if (slots && bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.cpu_slot), &zero, slots) == 0) {
		for (int cpu = 0; cpu < ncpu; cpu++) {
			uint64_t d;

			if (!slots[cpu].tid || slots[cpu].gen != st->gen || now <= slots[cpu].since_ns)
				continue;
			d = now - slots[cpu].since_ns;
			on_cpu += d;
			for (size_t i = 0; i < nrows; i++)
				if (rows[i].tid == slots[cpu].tid)
					rows[i].t.on_cpu_ns += d;
		}
	}
	start = st->overlap_start_ns;
	if (st->n_running >= 2 && start && now > start)
		overlap += now - start;
	{
		/* per process, with the intervals still open */
		size_t np;
		__u32 *pk = map_keys_u32(r->skel->maps.proc_run, &np);
		for (size_t i = 0; i < np; i++) {
			struct recorder_proc_run pr;
			if (bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.proc_run), &pk[i], &pr) ==
				    0 && pr.n_running >= 2 && pr.overlap_start_ns &&
			    now > pr.overlap_start_ns)
				proc_overlap += now - pr.overlap_start_ns;
		}
		free(pk);
	}
	cJSON_AddNumberToObject(c, "peak_threads", st->peak_threads);
	cJSON_AddNumberToObject(c, "peak_tree_threads", st->peak_tree_threads);
	cJSON_AddNumberToObject(c, "live_threads", nlive);
	cJSON_AddNumberToObject(c, "cpu_overlap_ms", ms(proc_overlap));
	cJSON_AddNumberToObject(c, "cpu_overlap_tree_ms", ms(overlap));
	cJSON_AddNumberToObject(c, "on_cpu_ms", ms(on_cpu));
	qsort(rows, nrows, sizeof(*rows), cmp_busy);
	busiest = cJSON_AddArrayToObject(c, "busiest");
	for (size_t i = 0; i < nrows && i < BPFREC_BUSIEST; i++) {
		cJSON *j = cJSON_CreateObject();

		cJSON_AddNumberToObject(j, "tid", rows[i].tid);
		cJSON_AddNumberToObject(j, "tgid", rows[i].t.tgid);
		cJSON_AddNumberToObject(j, "on_cpu_ms", ms(rows[i].t.on_cpu_ns));
		cJSON_AddItemToArray(busiest, j);
	}
	free(slots);
	free(rows);
	free(keys);
}

cJSON *bpfrec_summary(struct bpfrec *r)
{
	const struct recorder_stats *st = &r->skel->bss->stats;
	cJSON *root = cJSON_CreateObject(), *d;
	uint64_t now;

	bpfrec_consume(r);
	now = bpfrec_now_ns();
	summary_events(r, root);
	summary_waits(r, root, now);
	summary_concurrency(r, root, now);
	d = cJSON_AddObjectToObject(root, "dropped");
	cJSON_AddNumberToObject(d, "ringbuf", st->ringbuf_drops);
	cJSON_AddNumberToObject(d, "events", r->dropped);
	cJSON_AddNumberToObject(d, "map_full", st->map_full);
	return root;
}
