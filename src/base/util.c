/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ftscope/error.h"
#include "ftscope/diskspace.h"
#include "ftscope/util.h"
#include "ftscope/text.h"

static _Noreturn void oom(size_t n)
{
	fprintf(stderr, "ftscope: error: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		oom(n * sz);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

char *xstrdup(const char *s)
{
	char *d;
	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		oom(strlen(s));
	return d;
}

char *xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);
	if (!d)
		oom(n);
	return d;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom(0);
	va_end(ap);
	return s;
}

void sbuf_init(struct sbuf *sb)
{
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

static void sbuf_grow(struct sbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	sb->cap = (sb->len + extra + 1) * 2;
	if (sb->cap < 64)
		sb->cap = 64;
	sb->buf = xrealloc(sb->buf, sb->cap);
}

void sbuf_add(struct sbuf *sb, const void *data, size_t n)
{
	sbuf_grow(sb, n);
	if (n) /* data may be NULL when n is 0 */
		memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sbuf_adds(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void sbuf_addc(struct sbuf *sb, char c)
{
	sbuf_add(sb, &c, 1);
}

void sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		va_end(ap2);
		return;
	}
	sbuf_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	sb->len += (size_t)n;
}

void sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void sbuf_release(struct sbuf *sb)
{
	free(sb->buf);
	sbuf_init(sb);
}

char *sbuf_detach(struct sbuf *sb)
{
	char *s = sb->buf ? sb->buf : xstrdup("");
	sbuf_init(sb);
	return s;
}

void sbuf_add_shquoted(struct sbuf *sb, const char *s)
{
	sbuf_addc(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sbuf_adds(sb, "'\\''");
		else
			sbuf_addc(sb, *s);
	}
	sbuf_addc(sb, '\'');
}

void strv_push_owned(struct strv *sv, char *s)
{
	if (sv->n + 1 >= sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void strv_push(struct strv *sv, const char *s)
{
	strv_push_owned(sv, xstrdup(s));
}

bool strv_contains(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return true;
	return false;
}

void strv_push_unique(struct strv *sv, const char *s)
{
	if (!strv_contains(sv, s))
		strv_push(sv, s);
}

void strv_release(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_split(struct strv *sv, const char *s, const char *seps)
{
	char *copy = xstrdup(s), *save = NULL, *tok;
	for (tok = strtok_r(copy, seps, &save); tok; tok = strtok_r(NULL, seps, &save)) {
		char *t = trim(tok);
		if (*t)
			strv_push(sv, t);
	}
	free(copy);
}

int read_file(const char *path, char **out, size_t *len)
{
	struct sbuf sb = SBUF_INIT;
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			close(fd);
			sbuf_release(&sb);
			return -e;
		}
		sbuf_add(&sb, buf, (size_t)n);
	}
	close(fd);
	if (len)
		*len = sb.len;
	*out = sbuf_detach(&sb);
	return 0;
}

int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int read_file_at(int dirfd, const char *name, size_t max, uid_t owner, char **out, size_t *len)
{
	struct sbuf sb = SBUF_INIT;
	struct stat st;
	char buf[65536];
	int fd, ret = 0;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL; /* a FIFO, a device, a socket, a directory */
		goto out;
	}
	if (owner != FILE_ANY_OWNER && (st.st_uid != owner || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		ret = -EPERM;
		goto out;
	}
	if ((uintmax_t)st.st_size > max) {
		ret = -EFBIG;
		goto out;
	}
	for (;;) {
		size_t want = max - sb.len + 1 < sizeof(buf) ? max - sb.len + 1 : sizeof(buf);
		ssize_t n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > max) {
			ret = -EFBIG; /* it grew while we read */
			goto out;
		}
		sbuf_add(&sb, buf, (size_t)n);
	}
	if (len)
		*len = sb.len;
	*out = sbuf_detach(&sb);
out:
	close(fd);
	sbuf_release(&sb);
	return ret;
}

int open_dir_at(int dirfd, const char *name, uid_t owner)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (owner == FILE_ANY_OWNER)
		return fd;
	if (fstat(fd, &st) < 0 || st.st_uid != owner || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int open_temp_beside(const char *path, mode_t mode, char **tmp_out)
{
	for (int tries = 0; tries < 100; tries++) {
		unsigned char r[8];
		char *tmp;
		int fd;
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -EIO;
		tmp = xasprintf("%s.tmp.%02x%02x%02x%02x%02x%02x%02x%02x", path, r[0], r[1], r[2],
				r[3], r[4], r[5], r[6], r[7]);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0) {
			*tmp_out = tmp;
			return fd;
		}
		free(tmp);
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int write_file_atomic(const char *path, const void *data, size_t len)
{
	return write_file_replace(path, data, len, true);
}

static int write_replace_once(const char *path, const void *data, size_t len, bool durable)
{
	char *tmp = NULL;
	int ret, fd = open_temp_beside(path, 0644, &tmp);
	if (fd < 0)
		return fd;
	ret = write_all(fd, data, len);
	if (!ret && durable && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

/* A full disk gives the run's reserve back (diskspace.h), then the write is tried again. */
int write_file_replace(const char *path, const void *data, size_t len, bool durable)
{
	int r = write_replace_once(path, data, len, durable);
	if (space_full(r))
		r = write_replace_once(path, data, len, durable);
	return r;
}

static int append_once(const char *path, const struct sbuf *sb)
{
	int ret, fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
	struct stat st;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = write_all(fd, sb->buf, sb->len); /* one write: O_APPEND keeps lines whole */
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (ret && ftruncate(fd, st.st_size) == 0) /* no half line: what was written goes */
		fsync(fd);
	if (close(fd) < 0 && !ret)
		ret = -errno;
	return ret;
}

int append_line_fsync(const char *path, const char *line)
{
	struct sbuf sb = SBUF_INIT;
	int ret;
	sbuf_adds(&sb, line);
	sbuf_addc(&sb, '\n');
	ret = append_once(path, &sb);
	if (space_full(ret))
		ret = append_once(path, &sb);
	sbuf_release(&sb);
	return ret;
}

int emit_output(const char *path, const char *buf, size_t len)
{
	int err;
	if (!path)
		return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
	err = write_file_atomic(path, buf, len);
	if (err) {
		errno = -err;
		return error_errno("cannot write '%s'", path);
	}
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path), *s;
	int ret = 0;
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			ret = -errno;
			goto out;
		}
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		ret = -errno;
	else if (!is_dir(p))
		ret = -ENOTDIR;
out:
	free(p);
	return ret;
}

/* Deeper than this, a tree is not removed (one descriptor per level). */
#define RM_MAX_DEPTH 512

/*
 * Remove dirfd/name and everything below it without following a symlink anywhere: each
 * level is entered with openat(O_NOFOLLOW | O_DIRECTORY) relative to its parent's
 * descriptor, so a directory swapped for a symlink while we work is unlinked, not followed.
 */
static int rm_at(int dirfd, const char *name, int depth)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, ret = 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (depth >= RM_MAX_DEPTH)
		return -ELOOP;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP) /* swapped under us */
			return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
		return errno == ENOENT ? 0 : -errno;
	}
	d = fdopendir(fd);
	if (!d) {
		ret = -errno;
		close(fd);
		return ret;
	}
	while ((de = readdir(d))) {
		int r;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = rm_at(fd, de->d_name, depth + 1);
		if (r < 0 && !ret)
			ret = r;
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && !ret)
		ret = -errno;
	return ret;
}

int rm_rf_at(int dirfd, const char *name)
{
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/'))
		return -EINVAL;
	return rm_at(dirfd, name, 0);
}

int rm_rf(const char *path)
{
	char *dir = xstrdup(path), *slash;
	size_t n = strlen(dir);
	int dfd, ret;
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	slash = strrchr(dir, '/');
	if (!slash) {
		ret = rm_rf_at(AT_FDCWD, dir);
		free(dir);
		return ret;
	}
	*slash = '\0';
	dfd = open(slash == dir ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		ret = errno == ENOENT ? 0 : -errno;
	} else {
		ret = rm_rf_at(dfd, slash + 1);
		close(dfd);
	}
	free(dir);
	return ret;
}

bool path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	if (b[0] == '/')
		return xstrdup(b);
	if (la && a[la - 1] == '/')
		return xasprintf("%s%s", a, b);
	return xasprintf("%s/%s", a, b);
}

char *abs_path(const char *path)
{
	char buf[PATH_MAX], *r = realpath(path, NULL);
	if (r)
		return r;
	if (path[0] == '/')
		return xstrdup(path);
	if (!getcwd(buf, sizeof(buf)))
		return xstrdup(path);
	return path_join(buf, path);
}

double now_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double now_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void iso_utc(double t, char *buf, size_t n)
{
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;
	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;
	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

char *trim(char *s)
{
	char *e;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static const struct {
	int sig;
	const char *name;
} signames[] = {
	{ SIGHUP, "SIGHUP" },   { SIGINT, "SIGINT" },   { SIGQUIT, "SIGQUIT" }, { SIGILL, "SIGILL" },
	{ SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" }, { SIGBUS, "SIGBUS" },   { SIGFPE, "SIGFPE" },
	{ SIGKILL, "SIGKILL" }, { SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
	{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" }, { SIGCHLD, "SIGCHLD" },
	{ SIGCONT, "SIGCONT" }, { SIGSTOP, "SIGSTOP" }, { SIGTSTP, "SIGTSTP" }, { SIGXCPU, "SIGXCPU" },
	{ SIGXFSZ, "SIGXFSZ" }, { SIGSYS, "SIGSYS" },
};

const char *signal_name(int sig)
{
	for (size_t i = 0; i < ARRAY_SIZE(signames); i++)
		if (signames[i].sig == sig)
			return signames[i].name;
	return NULL;
}

int signal_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(signames); i++)
		if (!strcmp(signames[i].name, name))
			return signames[i].sig;
	return -1;
}

int output_width(FILE *f)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	long v;
	if (isatty(fileno(f)) && ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	if (env && parse_int(env, 20, 10000, &v) == 0)
		return (int)v;
	return 0;
}

void sbuf_add_wrapped(struct sbuf *sb, const char *text, int col, int indent, int width)
{
	const char *p = text;
	while (*p == ' ')
		p++;
	while (*p) {
		const char *e = strchr(p, ' ');
		int n = e ? (int)(e - p) : (int)strlen(p);
		int cps = 0;
		for (int i = 0; i < n; i++)
			cps += ((unsigned char)p[i] & 0xc0) != 0x80;
		if (width > 0 && col > indent && col + 1 + cps > width) {
			sbuf_addf(sb, "\n%*s", indent, "");
			col = indent;
		} else if (p != text && col > indent) {
			sbuf_addc(sb, ' ');
			col++;
		}
		sbuf_add(sb, p, (size_t)n);
		col += cps;
		p += n;
		while (*p == ' ')
			p++;
	}
}

/* ---- directories root trusts ---- */

#define ROOTS_MAX_DEPTH 256 /* tree_is_roots: deeper is not believed */

/* Root's, and writable by nobody else: no other-write, group-write only for group 0. */
static bool mode_is_roots(const struct stat *st)
{
	if (st->st_uid != geteuid())
		return false;
	if (S_ISLNK(st->st_mode))
		return true;
	return !(st->st_mode & S_IWOTH) && (!(st->st_mode & S_IWGRP) || st->st_gid == 0);
}

static bool tree_roots_at(int fd, int depth)
{
	DIR *d;
	struct dirent *de;
	bool ok = true;
	int dup_fd;
	if (depth > ROOTS_MAX_DEPTH || (dup_fd = dup(fd)) < 0)
		return false;
	d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return false;
	}
	rewinddir(d); /* the duplicate shares fd's position */
	while (ok && (de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !mode_is_roots(&st)) {
			ok = false;
		} else if (S_ISDIR(st.st_mode)) {
			int c = openat(fd, de->d_name,
				       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			ok = c >= 0 && tree_roots_at(c, depth + 1);
			if (c >= 0)
				close(c);
		}
	}
	closedir(d);
	return ok;
}

bool tree_is_roots(const char *path)
{
	struct stat st;
	bool ok;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	ok = fstat(fd, &st) == 0 && mode_is_roots(&st) && tree_roots_at(fd, 0);
	close(fd);
	return ok;
}

int ensure_own_dir_at(int dirfd, const char *name, mode_t mode, bool *replaced)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (replaced)
		*replaced = false;
	if (fd >= 0 && fstat(fd, &st) == 0 && mode_is_roots(&st)) {
		fchmod(fd, mode);
		return fd;
	}
	if (fd >= 0 || errno != ENOENT) {
		int r;
		if (fd >= 0)
			close(fd);
		r = rm_rf_at(dirfd, name);
		if (r < 0)
			return r;
		if (replaced)
			*replaced = true;
	}
	if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !mode_is_roots(&st)) {
		close(fd);
		return -EPERM;
	}
	fchmod(fd, mode);
	return fd;
}

int fd_copy_data(int in, int out, unsigned long long *bytes)
{
	char buf[65536];
	bool plain = false;
	for (;;) {
		ssize_t n;
		if (!plain) {
			n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
			if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
				      errno == EOPNOTSUPP)) {
				plain = true;
				continue;
			}
		} else {
			n = read(in, buf, sizeof(buf));
			if (n > 0) {
				for (ssize_t off = 0; off < n;) {
					ssize_t w = write(out, buf + off, (size_t)(n - off));
					if (w < 0 && errno != EINTR)
						return -errno;
					off += w > 0 ? w : 0;
				}
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		*bytes += (unsigned long long)n;
	}
}

/*
 * qsort(), wrapped (the link's --wrap=qsort: ours and the static archives' calls, libdw's
 * among them): an array made of a few sorted runs is merged run by run, else glibc's qsort
 * sorts it. libdw sorts each line table it decodes by address, and a unit's rows come in
 * one or two runs already (CPython's ceval.c: 26,657 rows in 2): glibc's merge sort made
 * ~390,000 calls of libdw's comparator for them, this ~53,000 (a first dump's libpython
 * preparation: 116 M -> 97 M instructions, callgrind). Stable, like glibc's (a merge sort,
 * when it may allocate its buffer): the same order for any comparator.
 */
void __real_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
void __wrap_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

static void merge_runs(const char *a, size_t na, const char *b, size_t nb, char *out, size_t size,
		       int (*cmp)(const void *, const void *))
{
	const char *ea = a + na * size, *eb = b + nb * size;

	while (a < ea && b < eb) {
		const char **from = cmp(b, a) < 0 ? &b : &a; /* equal: the left run's first */
		if (size == sizeof(uint64_t))
			memcpy(out, *from, sizeof(uint64_t));
		else
			memcpy(out, *from, size);
		*from += size;
		out += size;
	}
	memcpy(out, a, (size_t)(ea - a));
	memcpy(out + (ea - a), b, (size_t)(eb - b));
}

void __wrap_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *src = base, *dst, *tmp;
	size_t *runs, nruns = 1, max_runs = n / 64;

	if (n < 128 || size == 0 || n > SIZE_MAX / size) {
		__real_qsort(base, n, size, cmp);
		return;
	}
	runs = malloc((max_runs + 1) * sizeof(*runs));
	if (!runs) {
		__real_qsort(base, n, size, cmp);
		return;
	}
	/* where each run starts: a run goes on while no element is below the one before */
	runs[0] = 0;
	for (size_t i = 1; i < n && nruns <= max_runs; i++)
		if (cmp(src + i * size, src + (i - 1) * size) < 0)
			runs[nruns++] = i;
	if (nruns == 1) {
		free(runs);
		return;
	}
	tmp = nruns <= max_runs ? malloc(n * size) : NULL;
	if (!tmp) { /* runs of fewer than 64 elements on average: glibc's is as good */
		free(runs);
		__real_qsort(base, n, size, cmp);
		return;
	}
	dst = tmp;
	while (nruns > 1) { /* merge the runs two by two, between base and tmp */
		size_t k = 0;
		for (size_t r = 0; r < nruns; r += 2) {
			size_t s = runs[r], m = r + 1 < nruns ? runs[r + 1] : n,
			       e = r + 2 < nruns ? runs[r + 2] : n;
			merge_runs(src + s * size, m - s, src + m * size, e - m, dst + s * size, size,
				   cmp);
			runs[k++] = s;
		}
		nruns = k;
		{
			char *t = src;
			src = dst;
			dst = t;
		}
	}
	if (src != (char *)base)
		memcpy(base, src, n * size);
	free(tmp);
	free(runs);
}
