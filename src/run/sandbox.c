/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The privilege boundary: test uids, their guardian, package workspaces and staging
 * (sandbox.h; the rules are in docs/security.md).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <shadow.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ftscope/error.h"
#include "ftscope/sandbox.h"

#define LOCK_DIR "/run/ftscope"
#define MAX_DEPTH 256

/* ---- test uids ---- */

void test_uids_range(uid_t *first, uid_t *last)
{
	const char *e = getenv("FTSCOPE_TEST_UIDS");
	unsigned long a, b;
	char *end;
	*first = TEST_UID_FIRST;
	*last = TEST_UID_FIRST + TEST_UID_COUNT - 1;
	if (!e || !*e)
		return;
	errno = 0;
	a = strtoul(e, &end, 10);
	if (errno || *end != '-')
		goto bad;
	b = strtoul(end + 1, &end, 10);
	if (errno || *end || a < 1000 || b < a || b >= 0xfffffffeUL || b - a > 65535)
		goto bad;
	*first = (uid_t)a;
	*last = (uid_t)b;
	return;
bad:
	warning("FTSCOPE_TEST_UIDS='%s' is not FIRST-LAST (uids >= 1000); using %u-%u", e,
		(unsigned)*first, (unsigned)*last);
}

/* Live (not zombie) processes whose real, effective or saved uid is uid, but `self`. */
static int uid_live_processes(uid_t uid, pid_t self)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[64], *text = NULL, *u, *st;
		unsigned long r, e, s;
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
		if (read_file_at(AT_FDCWD, path, 1 << 16, FILE_ANY_OWNER, &text, NULL) < 0)
			continue;
		u = strstr(text, "\nUid:");
		st = strstr(text, "\nState:");
		if (u && sscanf(u + 5, "%lu %lu %lu", &r, &e, &s) == 3 &&
		    (r == uid || e == uid || s == uid) && !(st && strchr("ZX", st[8])))
			n++;
		free(text);
	}
	closedir(d);
	return n;
}

static void unname(uid_t uid);
static bool named_by_us(uid_t id);

/*
 * Kill every process of uid, wherever it went (a daemon, a process reparented to init):
 * kill(-1) as that uid reaches all of them and nothing else. Only ever done for a test uid
 * we hold the lock of, never for a real user's.
 */
static void sweep(uid_t uid, gid_t gid)
{
	struct run_as ra = { .uid = uid, .gid = gid, .dynamic = true };
	pid_t pid = fork();
	if (pid == 0) {
		if (supervise_become(&ra) < 0)
			_exit(2);
		for (int i = 0; i < 400; i++) {
			if (kill(-1, SIGKILL) < 0 && errno == ESRCH)
				_exit(0);
			if (!uid_live_processes(uid, getpid()))
				_exit(0);
			usleep(5000);
		}
		_exit(1);
	}
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	unname(uid);
}

/* Close every descriptor from 3 up but the n in keep[] (-1s ignored). */
static void close_all_but(const int *keep, size_t n)
{
	int k[4], nk = 0, from = 3;
	for (size_t i = 0; i < n && nk < 4; i++) {
		int j = nk++;
		for (; j > 0 && k[j - 1] > keep[i]; j--)
			k[j] = k[j - 1];
		k[j] = keep[i];
	}
	for (int i = 0; i < nk; i++) {
		if (k[i] < from)
			continue;
		if (k[i] > from)
			close_range((unsigned)from, (unsigned)k[i] - 1, 0);
		from = k[i] + 1;
	}
	close_range((unsigned)from, ~0U, 0);
}

/*
 * The claim on uid that other ftscopes see even where they cannot see our lock file: an
 * abstract unix socket "ftscope-uid-N" (one per network namespace, which chroots of one host
 * share while each has its own /run; kill(-1) as a test uid reaches every process of the
 * pid namespace, so two roots must never take the same uid). Freed by the kernel when the
 * last holder exits. The descriptor, or -errno (-EADDRINUSE: claimed).
 */
static int claim_uid(uid_t uid)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), n;
	if (fd < 0)
		return -errno;
	n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "ftscope-uid-%u", (unsigned)uid);
	if (bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
							 1 + (size_t)n)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/*
 * The guardian: a root process that waits until the worker is gone (the pipe's write end,
 * which only the worker holds, closes however the worker ends, SIGKILL included), then
 * sweeps the uid and, by exiting, drops the lock it shares with the worker.
 */
static int start_guardian(struct test_uid *t)
{
	int p[2];
	pid_t pid;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(p[0]);
		close(p[1]);
		return e;
	}
	if (pid == 0) {
		static const int ignore[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };
		char c;
		close(p[1]);
		close_all_but((const int[]){ p[0], t->lock_fd, t->claim_fd }, 3);
		/* Ctrl-C reaches the whole process group: the guardian must outlive the worker. */
		for (size_t i = 0; i < ARRAY_SIZE(ignore); i++)
			signal(ignore[i], SIG_IGN);
		prctl(PR_SET_NAME, "ftscope-guard", 0, 0, 0);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		sweep(t->uid, t->gid);
		_exit(0);
	}
	close(p[0]);
	t->guard_fd = p[1];
	t->guard_pid = pid;
	return 0;
}

int test_uid_acquire(struct test_uid *t, bool guard, struct sbuf *err)
{
	uid_t first, last, uid;
	int dfd, named = 0, busy = 0, claimed = 0, cfd, r;
	test_uids_range(&first, &last);
	t->lock_fd = t->claim_fd = t->guard_fd = -1;
	t->guard_pid = 0;
	if (mkdir(LOCK_DIR, 0700) < 0 && errno != EEXIST) {
		sbuf_addf(err, "cannot create '%s': %s", LOCK_DIR, strerror(errno));
		return -1;
	}
	dfd = open_dir_at(AT_FDCWD, LOCK_DIR, 0);
	if (dfd < 0) {
		sbuf_addf(err, "'%s' is not a directory only root can write (%s)", LOCK_DIR,
			  strerror(-dfd));
		return -1;
	}
	for (uid = first; uid <= last && uid >= first; uid++) {
		char name[40];
		int fd;
		if ((getpwuid(uid) || getgrgid((gid_t)uid)) && !named_by_us(uid)) {
			named++;
			continue;
		}
		snprintf(name, sizeof(name), "uid-%u.lock", (unsigned)uid);
		fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd); /* another ftscope's */
			continue;
		}
		cfd = claim_uid(uid);
		if (cfd == -EADDRINUSE) { /* another root's ftscope (or a squatter) */
			claimed++;
			close(fd);
			continue;
		}
		if (uid_live_processes(uid, 0)) {
			/* Not ours (or left over where no guardian could see it): never killed,
			 * never shared. */
			busy++;
			close(fd);
			if (cfd >= 0)
				close(cfd);
			continue;
		}
		t->uid = uid;
		t->gid = (gid_t)uid;
		t->lock_fd = fd;
		t->claim_fd = cfd >= 0 ? cfd : -1; /* (no socket at all: the lock file alone) */
		close(dfd);
		r = guard ? start_guardian(t) : 0;
		if (r < 0) {
			sbuf_addf(err, "cannot start the guardian of test uid %u: %s",
				  (unsigned)uid, strerror(-r));
			close(fd);
			if (t->claim_fd >= 0)
				close(t->claim_fd);
			t->lock_fd = t->claim_fd = -1;
			return -1;
		}
		debug("test uid %u", (unsigned)uid);
		return 0;
	}
	close(dfd);
	sbuf_addf(err, "no free test uid in %u-%u (%d have a passwd or group entry, %d have "
		  "processes running, %d are claimed by an ftscope in another root; "
		  "FTSCOPE_TEST_UIDS=FIRST-LAST picks another range)",
		  (unsigned)first, (unsigned)last, named, busy, claimed);
	return -1;
}

void test_uid_release(struct test_uid *t)
{
	if (t->guard_fd >= 0)
		close(t->guard_fd); /* the guardian sweeps the uid now */
	else if (t->lock_fd >= 0)
		sweep(t->uid, t->gid);
	/* Our child only where we started it; a worker's guardian is the supervisor's. */
	while (t->guard_pid > 0 && waitpid(t->guard_pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (t->lock_fd >= 0)
		close(t->lock_fd);
	if (t->claim_fd >= 0)
		close(t->claim_fd);
	t->guard_fd = t->lock_fd = t->claim_fd = -1;
	t->guard_pid = 0;
}

void test_uid_hand_over(struct test_uid *t)
{
	if (t->guard_fd >= 0)
		close(t->guard_fd);
	if (t->lock_fd >= 0)
		close(t->lock_fd);
	if (t->claim_fd >= 0)
		close(t->claim_fd);
	t->guard_fd = t->lock_fd = t->claim_fd = -1;
	t->guard_pid = 0;
}

void test_uid_run_as(const struct test_uid *t, struct run_as *ra)
{
	memset(ra, 0, sizeof(*ra));
	ra->uid = t->uid;
	ra->gid = t->gid;
	ra->dynamic = true;
	snprintf(ra->name, sizeof(ra->name), "ftscope-%u", (unsigned)t->uid);
}

/* ---- workspaces ---- */

/* Give fd (or dirfd/name for a symlink) to the test uid. */
static int give_fd(const struct workspace *ws, int fd)
{
	return ws->chown && fchown(fd, ws->uid, ws->gid) < 0 ? -errno : 0;
}

/* A new directory path (its parent is root's), mode, the test uid's if give. */
static int make_dir(const struct workspace *ws, const char *path, mode_t mode, bool give)
{
	int fd, r = 0;
	if (mkdir(path, 0700) < 0)
		return -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0 || (give && give_fd(ws, fd) < 0))
		r = -errno;
	close(fd);
	return r;
}

int workspace_create(struct workspace *ws, const char *root, const char *name,
		     const struct run_as *owner, struct sbuf *err)
{
	const char *what;
	int r;
	memset(ws, 0, sizeof(*ws));
	ws->dir = path_join(root, name);
	ws->src = path_join(ws->dir, "src");
	ws->venv = path_join(ws->dir, "venv");
	ws->home = path_join(ws->dir, "home");
	ws->tmp = path_join(ws->dir, "tmp");
	ws->out = path_join(ws->dir, "out");
	ws->chown = owner != NULL;
	ws->uid = owner ? owner->uid : geteuid();
	ws->gid = owner ? owner->gid : getegid();
	if ((r = rm_rf(ws->dir)) < 0) {
		what = ws->dir;
		goto fail;
	}
	if ((r = make_dir(ws, what = ws->dir, 0711, false)) < 0 ||
	    (r = make_dir(ws, what = ws->out, 0711, false)) < 0 ||
	    (r = make_dir(ws, what = ws->venv, 0755, true)) < 0 ||
	    (r = make_dir(ws, what = ws->home, 0700, true)) < 0 ||
	    (r = make_dir(ws, what = ws->tmp, 0700, true)) < 0)
		goto fail;
	return 0;
fail:
	sbuf_addf(err, "cannot make the workspace directory '%s': %s", what, strerror(-r));
	return -1;
}

struct stage {
	const struct workspace *ws;
	struct { dev_t dev; ino_t ino; } excl[32]; /* directories never copied */
	size_t nexcl;
	size_t files, skipped;
	unsigned long long bytes;
	struct sbuf *err;
};

static int copy_file(struct stage *sg, int sfd, int dfd, const char *name)
{
	struct stat st;
	int in, out, r;
	in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(in);
		sg->skipped++;
		return 0;
	}
	out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	r = fd_copy_data(in, out, &sg->bytes);
	if (!r && (fchmod(out, (st.st_mode & 0777) | 0600) < 0 || give_fd(sg->ws, out) < 0))
		r = -errno;
	close(in);
	if (close(out) < 0 && !r)
		r = -errno;
	sg->files++;
	return r;
}

/* Not staged: a virtualenv anywhere (pyvenv.cfg), .tox and .nox at the top. */
static bool skip_dir(int sfd, const char *name, int depth)
{
	char *p;
	bool venv;
	if (depth == 0 && (!strcmp(name, ".tox") || !strcmp(name, ".nox")))
		return true;
	p = xasprintf("%s/pyvenv.cfg", name);
	venv = faccessat(sfd, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	free(p);
	return venv;
}

static void exclude_path(struct stage *sg, const char *path)
{
	struct stat st;
	if (path && sg->nexcl < ARRAY_SIZE(sg->excl) && stat(path, &st) == 0 &&
	    S_ISDIR(st.st_mode)) {
		sg->excl[sg->nexcl].dev = st.st_dev;
		sg->excl[sg->nexcl++].ino = st.st_ino;
	}
}

static bool excluded(const struct stage *sg, int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return false;
	for (size_t i = 0; i < sg->nexcl; i++)
		if (sg->excl[i].dev == st.st_dev && sg->excl[i].ino == st.st_ino)
			return true;
	return false;
}

static int copy_tree(struct stage *sg, int sfd, int dfd, const char *rel, int depth)
{
	DIR *d;
	struct dirent *de;
	int r = 0, dup_fd;
	if (depth > MAX_DEPTH)
		return -ELOOP;
	if ((dup_fd = dup(sfd)) < 0)
		return -errno;
	d = fdopendir(dup_fd);
	if (!d) {
		r = -errno;
		close(dup_fd);
		return r;
	}
	rewinddir(d); /* the duplicate shares sfd's position */
	while (!r && (de = readdir(d))) {
		const char *name = de->d_name;
		struct stat st;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int cs, cd;
			char *crel;
			if (skip_dir(sfd, name, depth)) {
				sg->skipped++;
				continue;
			}
			cs = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cs < 0)
				continue;
			if (excluded(sg, cs)) {
				debug("staging: '%s%s%s' left out (ftscope's own work or results "
				      "directory)", rel, *rel ? "/" : "", name);
				sg->skipped++;
				close(cs);
				continue;
			}
			if (mkdirat(dfd, name, 0700) < 0 ||
			    (cd = openat(dfd, name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
				r = -errno;
				close(cs);
				break;
			}
			crel = *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
			r = copy_tree(sg, cs, cd, crel, depth + 1);
			if (!r && (fchmod(cd, (st.st_mode & 0777) | 0700) < 0 ||
				   give_fd(sg->ws, cd) < 0))
				r = -errno;
			free(crel);
			close(cs);
			close(cd);
		} else if (S_ISREG(st.st_mode)) {
			r = copy_file(sg, sfd, dfd, name);
			if (r < 0)
				sbuf_addf(sg->err, "cannot copy '%s%s%s': %s", rel, *rel ? "/" : "",
					  name, strerror(-r));
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(sfd, name, target, sizeof(target) - 1);
			if (n < 0)
				continue;
			target[n] = '\0';
			if (symlinkat(target, dfd, name) < 0 ||
			    (sg->ws->chown &&
			     fchownat(dfd, name, sg->ws->uid, sg->ws->gid,
				      AT_SYMLINK_NOFOLLOW) < 0))
				r = -errno;
		} else {
			sg->skipped++; /* FIFOs, sockets, devices */
		}
	}
	closedir(d);
	return r;
}

int workspace_stage(struct workspace *ws, const char *origin, const char *const *exclude,
		    struct sbuf *err)
{
	struct stage sg = { .ws = ws, .err = err };
	struct stat st;
	size_t errlen = err->len;
	int sfd, dfd = -1, r;
	char *up;
	sfd = open(origin, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0 || fstat(sfd, &st) < 0) {
		sbuf_addf(err, "cannot open '%s': %s", origin, strerror(errno));
		if (sfd >= 0)
			close(sfd);
		return -1;
	}
	/* src/ is root's and 0700 until it is complete, so nothing else can touch it. */
	rm_rf(ws->src);
	if (mkdir(ws->src, 0700) < 0 ||
	    (dfd = open(ws->src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		sbuf_addf(err, "cannot create '%s': %s", ws->src, strerror(errno));
		close(sfd);
		return -1;
	}
	/* `run --package-dir .` keeps results/, venvs/ and repos/ in the checkout by default:
	 * the copy must not take ftscope's own directories (nor recurse into itself). */
	for (up = xstrdup(ws->src); strcmp(up, "/") && strcmp(up, ".");) {
		char *parent;
		exclude_path(&sg, up);
		parent = xstrdup(dirname(up));
		free(up);
		up = parent;
	}
	free(up);
	for (; exclude && *exclude; exclude++)
		exclude_path(&sg, *exclude);
	r = copy_tree(&sg, sfd, dfd, "", 0);
	if (!r && (fchmod(dfd, (st.st_mode & 0777) | 0700) < 0 || give_fd(ws, dfd) < 0))
		r = -errno;
	close(sfd);
	close(dfd);
	if (r < 0) {
		if (err->len == errlen)
			sbuf_addf(err, "cannot stage '%s' in '%s': %s", origin, ws->src,
				  strerror(-r));
		return -1;
	}
	debug("staged '%s' in '%s': %zu files, %llu bytes, %zu skipped", origin, ws->src, sg.files,
	      sg.bytes, sg.skipped);
	return 0;
}

char *workspace_iter_dir(struct workspace *ws, const char *rel, struct sbuf *err)
{
	char *p = path_join(ws->out, rel);
	int r = rm_rf(p);
	if (r < 0 || (r = make_dir(ws, p, 0700, true)) < 0) {
		sbuf_addf(err, "cannot make '%s': %s", p, strerror(-r));
		free(p);
		return NULL;
	}
	return p;
}

int workspace_iter_open(const struct workspace *ws, const char *rel)
{
	int ofd = open_dir_at(AT_FDCWD, ws->out, geteuid()), fd;
	if (ofd < 0)
		return ofd;
	fd = open_dir_at(ofd, rel, FILE_ANY_OWNER);
	close(ofd);
	return fd;
}

void workspace_release(struct workspace *ws)
{
	free(ws->dir);
	free(ws->src);
	free(ws->venv);
	free(ws->home);
	free(ws->tmp);
	free(ws->out);
	memset(ws, 0, sizeof(*ws));
}

void workspace_remove(struct workspace *ws)
{
	int r;
	if (ws->dir && (r = rm_rf(ws->dir)) < 0) {
		errno = -r;
		warning_errno("cannot remove the workspace '%s'", ws->dir);
	}
	workspace_release(ws);
}

/* dst = the host's file + line, root's, 0644; then bind-mounted read-only over `host`. */
static int overlay_file(const char *host, const char *dst, const char *line)
{
	struct sbuf sb = SBUF_INIT;
	char *text = NULL;
	size_t len = 0;
	int r = read_file_at(AT_FDCWD, host, 16u << 20, FILE_ANY_OWNER, &text, &len);
	if (r < 0)
		return r;
	sbuf_add(&sb, text, len);
	if (sb.len && sb.buf[sb.len - 1] != '\n')
		sbuf_addc(&sb, '\n');
	sbuf_adds(&sb, line);
	r = write_file_atomic(dst, sb.buf, sb.len);
	if (!r && (mount(dst, host, NULL, MS_BIND, NULL) < 0 ||
		   mount(NULL, host, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0))
		r = -errno;
	free(text);
	sbuf_release(&sb);
	return r;
}

/* ---- naming in place, where no private mount can be had (a chroot) ---- */

#define TEST_GECOS "ftscope test user"

/* Is line (len bytes, no newline) test uid id's own line of /etc/passwd or /etc/group? */
static bool is_test_line(const char *line, size_t len, uid_t id)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "ftscope-%u:x:%u:", (unsigned)id, (unsigned)id);
	return (size_t)n <= len && !memcmp(line, head, (size_t)n);
}

/*
 * Rewrite `path` (an /etc/passwd-format file) without test uid id's lines, plus `add` if not
 * NULL: a new file beside it with the old one's owner and mode, fsynced, renamed over it. Only
 * a regular file is touched. The caller holds lckpwdf().
 */
static int edit_ids_file(const char *path, uid_t id, const char *add)
{
	struct sbuf sb = SBUF_INIT;
	char *text = NULL, *tmp = NULL;
	size_t len = 0, removed = 0;
	struct stat st;
	int r, fd;
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	r = read_file_at(AT_FDCWD, path, 16u << 20, FILE_ANY_OWNER, &text, &len);
	if (r < 0)
		return r;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		if (is_test_line(text + i, n, id))
			removed++;
		else {
			sbuf_add(&sb, text + i, n);
			sbuf_addc(&sb, '\n');
		}
		i += n + 1;
	}
	free(text);
	if (!add && !removed) {
		sbuf_release(&sb);
		return 0;
	}
	if (add)
		sbuf_adds(&sb, add);
	fd = open_temp_beside(path, 0600, &tmp);
	if (fd < 0) {
		sbuf_release(&sb);
		return fd;
	}
	r = write_all(fd, sb.buf, sb.len);
	if (!r && (fchown(fd, st.st_uid, st.st_gid) < 0 || fchmod(fd, st.st_mode & 07777) < 0 ||
		   fsync(fd) < 0))
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	free(tmp);
	sbuf_release(&sb);
	return r;
}

/* Add (pwl, grl) or, with NULLs, remove test uid id's lines of /etc/passwd and /etc/group. */
static int edit_ids(uid_t id, const char *pwl, const char *grl)
{
	int r;
	if (lckpwdf() < 0)
		return -errno ? -errno : -EAGAIN;
	r = edit_ids_file("/etc/passwd", id, pwl);
	if (!r)
		r = edit_ids_file("/etc/group", id, grl);
	else
		edit_ids_file("/etc/passwd", id, NULL);
	ulckpwdf();
	return r;
}

/* Is the entry uid/gid has one we wrote (left by a guardian that could not remove it)? */
static bool named_by_us(uid_t id)
{
	char name[32];
	struct passwd *pw = getpwuid(id);
	struct group *gr = getgrgid((gid_t)id);
	snprintf(name, sizeof(name), "ftscope-%u", (unsigned)id);
	if (pw && (strcmp(pw->pw_name, name) || strcmp(pw->pw_gecos, TEST_GECOS)))
		return false;
	if (gr && strcmp(gr->gr_name, name))
		return false;
	return pw || gr;
}

/* Remove the lines sandbox_name_user() wrote in place, if any (cheap where there are none). */
static void unname(uid_t uid)
{
	int r;
	if (!named_by_us(uid))
		return;
	r = edit_ids(uid, NULL, NULL);
	if (r < 0)
		warning("cannot remove test uid %u's lines from /etc/passwd and /etc/group: %s",
			(unsigned)uid, strerror(-r));
}

int sandbox_name_user(const struct workspace *ws, const struct run_as *ra)
{
	char *pw, *gr, *pwl, *grl;
	int r = 0;
	bool in_place = false;
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		/*
		 * EINVAL: / is not a mount point, so this is a chroot inside a mount we cannot
		 * name, and a bind mount over /etc/passwd would propagate out of it. The
		 * chroot's own files get the lines instead, for as long as the uid is held:
		 * its sweep removes them (sweep(), however the worker ends).
		 */
		if (errno != EINVAL)
			return -errno;
		in_place = true;
	}
	pwl = xasprintf("%s:x:%u:%u:" TEST_GECOS ":%s:/bin/sh\n", ra->name, (unsigned)ra->uid,
			(unsigned)ra->gid, ws->home);
	grl = xasprintf("%s:x:%u:\n", ra->name, (unsigned)ra->gid);
	if (in_place) {
		r = edit_ids(ra->uid, pwl, grl);
		debug("/ is not a mount point: named test uid %u in /etc/passwd itself (%s)",
		      (unsigned)ra->uid, r < 0 ? strerror(-r) : "ok");
		free(pwl);
		free(grl);
		return r;
	}
	pw = path_join(ws->dir, "passwd");
	gr = path_join(ws->dir, "group");
	r = overlay_file("/etc/passwd", pw, pwl);
	if (!r)
		r = overlay_file("/etc/group", gr, grl);
	free(pw);
	free(gr);
	free(pwl);
	free(grl);
	return r;
}
