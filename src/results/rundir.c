/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/error.h"
#include "ftscope/json.h"
#include "ftscope/rundir.h"
#include "ftscope/util.h"

/* "ft_YYYYMMDD_HHMMSS" */
#define RUN_STAMP_LEN 18

static bool has_run_files(const char *dir)
{
	char *meta = path_join(dir, "ft_meta.json");
	char *res = path_join(dir, "ft_results.jsonl");
	bool ret = path_exists(meta) || path_exists(res);
	free(meta);
	free(res);
	return ret;
}

/*
 * Order of run directory names: by the UTC stamp, then by the "_N" suffix a second run in
 * the same second gets (numerically, so _10 comes after _2; no suffix is the first).
 */
static int run_name_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int c = strncmp(a, b, RUN_STAMP_LEN);
	long na = 1, nb = 1;
	if (c)
		return c;
	if (la > RUN_STAMP_LEN + 1 && a[RUN_STAMP_LEN] == '_')
		na = strtol(a + RUN_STAMP_LEN + 1, NULL, 10);
	if (lb > RUN_STAMP_LEN + 1 && b[RUN_STAMP_LEN] == '_')
		nb = strtol(b + RUN_STAMP_LEN + 1, NULL, 10);
	if (na != nb)
		return na < nb ? -1 : 1;
	return strcmp(a, b);
}

/*
 * dir is not a run itself: find the newest ft_* run directly inside it. Returns the run's
 * path (malloc'd), or NULL after printing why.
 */
static char *find_newest_run(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *best = NULL, *path = NULL;
	size_t nruns = 0;

	if (!d) {
		error_errno("cannot open '%s'", dir);
		return NULL;
	}
	while ((de = readdir(d))) {
		char *p;
		if (!starts_with(de->d_name, "ft_"))
			continue;
		p = path_join(dir, de->d_name);
		if (is_dir(p) && has_run_files(p)) {
			nruns++;
			if (!best || run_name_cmp(de->d_name, best) > 0) {
				free(best);
				best = xstrdup(de->d_name);
			}
		}
		free(p);
	}
	closedir(d);
	if (!best) {
		error("'%s' holds no ftscope run (no ft_meta.json, no ft_results.jsonl, "
		      "no ft_* run directory)", dir);
		return NULL;
	}
	path = path_join(dir, best);
	if (nruns > 1)
		info("note: '%s' holds %zu runs; reading the newest, '%s'", dir, nruns, best);
	free(best);
	return path;
}

/*
 * A run whose meta says "running" while no ftscope holds its lock lost its supervisor
 * (SIGKILL, a crash of the machine): it is read as interrupted, which --resume finishes.
 */
static void check_supervisor(struct run_data *rd)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(rd->meta, "status");
	char *lock;
	int fd;
	if (!cJSON_IsString(st) || strcmp(st->valuestring, "running"))
		return;
	lock = path_join(rd->dir, RUN_LOCK_FILE);
	fd = open(lock, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) == 0) {
		rd->supervisor_died = true;
		cJSON_SetValuestring((cJSON *)st, "interrupted");
		warning("the ftscope that ran '%s' (pid %.0f) is gone without finishing it; "
			"reading it as interrupted (ftscope run --resume %s finishes it)", rd->dir,
			json_num(rd->meta, "supervisor_pid", 0), rd->dir);
	}
	if (fd >= 0)
		close(fd);
	free(lock);
}

static void load_meta(struct run_data *rd)
{
	char *path = path_join(rd->dir, "ft_meta.json");
	char *text = NULL;
	size_t len = 0;
	int err = read_file(path, &text, &len);

	if (err == -ENOENT) {
		warning("no ft_meta.json in '%s' (run not started properly?); "
			"reading its results without it", rd->dir);
	} else if (err) {
		errno = -err;
		warning_errno("cannot read '%s'", path);
	} else {
		rd->meta = json_parse(text, len);
		if (rd->meta && !cJSON_IsObject(rd->meta)) {
			cJSON_Delete(rd->meta);
			rd->meta = NULL;
		}
		if (!rd->meta)
			warning("cannot parse '%s'; ignoring the run's metadata", path);
	}
	free(text);
	free(path);
	check_supervisor(rd);
}

static size_t find_index(const struct run_data *rd, const char *name)
{
	for (size_t i = 0; i < rd->n; i++) {
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rd->pkgs[i],
										      "package"));
		if (p && !strcmp(p, name))
			return i;
	}
	return (size_t)-1;
}

/* One NUL-terminated line of ft_results.jsonl: 0 if taken, -1 if unreadable. */
static int add_line(struct run_data *rd, size_t *cap, const char *line)
{
	/* the whole line must be one value: no trailing bytes of a half-written second one */
	cJSON *obj = json_parse(line, strlen(line));
	const char *name;
	size_t i;

	if (!obj)
		return -1;
	name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "package"));
	if (!cJSON_IsObject(obj) || !name || !*name) {
		cJSON_Delete(obj);
		return -1;
	}
	/* The last line wins (--resume appends the completed one), in its first place. */
	i = find_index(rd, name);
	if (i != (size_t)-1) {
		cJSON_Delete(rd->pkgs[i]);
		rd->pkgs[i] = obj;
		return 0;
	}
	if (rd->n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		rd->pkgs = xrealloc(rd->pkgs, *cap * sizeof(*rd->pkgs));
	}
	rd->pkgs[rd->n++] = obj;
	return 0;
}

static int load_results(struct run_data *rd)
{
	char *path = path_join(rd->dir, "ft_results.jsonl");
	char *text = NULL, *p, *end;
	size_t len = 0, cap = 0;
	int ret = -1, err = read_file(path, &text, &len);

	if (err == -ENOENT) {
		/* a run that has not finished its first package yet */
		ret = 0;
		goto out;
	}
	if (err) {
		errno = -err;
		ret = error_errno("cannot read '%s'", path);
		goto out;
	}
	for (p = text, end = text + len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *eol = nl ? nl : end;
		size_t n = (size_t)(eol - p);
		*eol = '\0';
		if (memchr(p, '\0', n))
			rd->bad_lines++; /* a zero-filled tail after a crash of the machine */
		else if (p[strspn(p, " \t\r")] && add_line(rd, &cap, p) < 0)
			rd->bad_lines++; /* blank lines (the final newline) are not damage */
		p = eol + 1;
	}
	if (rd->bad_lines)
		warning("skipped %zu unreadable line(s) in '%s' (truncated run?)", rd->bad_lines,
			path);
	ret = 0;
out:
	free(text);
	free(path);
	return ret;
}

int run_load(const char *dir, struct run_data *rd)
{
	int ret = -1;

	memset(rd, 0, sizeof(*rd));
	if (!path_exists(dir))
		return error("run directory '%s' does not exist", dir);
	if (!is_dir(dir))
		return error("'%s' is not a directory", dir);
	if (has_run_files(dir))
		rd->dir = xstrdup(dir);
	else if (!(rd->dir = find_newest_run(dir)))
		goto out;

	load_meta(rd);
	if (load_results(rd) < 0)
		goto out;
	ret = 0;
out:
	if (ret)
		run_data_release(rd);
	return ret;
}

int run_repair_results(const char *run_dir, char **moved_to)
{
	char *path = path_join(run_dir, "ft_results.jsonl"), *frag = NULL, *moved = NULL;
	struct stat st;
	off_t end, start;
	int fd, ret = 0;
	*moved_to = NULL;
	fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = errno == ENOENT ? 0 : -errno;
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	end = st.st_size;
	/* Where the last line starts: after the last '\n'. */
	for (start = end; start > 0;) {
		char buf[4096];
		off_t from = start > (off_t)sizeof(buf) ? start - (off_t)sizeof(buf) : 0;
		ssize_t n = pread(fd, buf, (size_t)(start - from), from), i;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			goto out;
		}
		for (i = n; i > 0 && buf[i - 1] != '\n'; i--)
			;
		if (i > 0) {
			start = from + i;
			break;
		}
		start = from;
	}
	if (start == end)
		goto out; /* empty, or ends with a newline */
	frag = xmalloc((size_t)(end - start) + 1);
	if (pread(fd, frag, (size_t)(end - start), start) != end - start) {
		ret = -EIO;
		goto out;
	}
	frag[end - start] = '\0';
	{
		cJSON *j = cJSON_ParseWithOpts(frag, NULL, true);
		bool whole = cJSON_IsObject(j) && !memchr(frag, '\0', (size_t)(end - start));
		cJSON_Delete(j);
		if (whole) {
			/* only the newline was lost */
			ret = pwrite(fd, "\n", 1, end) == 1 && fsync(fd) == 0 ? 0 : -errno;
			goto out;
		}
	}
	for (int k = 1; k < 1000 && !moved; k++) {
		char *p = xasprintf("%s.fragment-%d", path, k);
		int ffd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (ffd >= 0) {
			bool ok = write(ffd, frag, (size_t)(end - start)) == end - start &&
				  fsync(ffd) == 0;
			close(ffd);
			if (ok) {
				moved = p;
				break;
			}
			unlink(p);
		} else if (errno != EEXIST) {
			free(p);
			break;
		}
		free(p);
	}
	if (!moved) {
		ret = -EIO;
		goto out;
	}
	if (ftruncate(fd, start) < 0 || fsync(fd) < 0) {
		ret = -errno;
		goto out;
	}
	*moved_to = moved;
	moved = NULL;
	ret = 1;
out:
	if (fd >= 0)
		close(fd);
	free(moved);
	free(frag);
	free(path);
	return ret;
}

void run_data_release(struct run_data *rd)
{
	for (size_t i = 0; i < rd->n; i++)
		cJSON_Delete(rd->pkgs[i]);
	free(rd->pkgs);
	cJSON_Delete(rd->meta);
	free(rd->dir);
	memset(rd, 0, sizeof(*rd));
}

int run_dir_protect(const char *dir, const char **what)
{
	const char *sg = getenv("SUDO_GID");
	long g = 0;
	int fd = open_dir_at(AT_FDCWD, dir, geteuid()), afd, ret = 0;
	*what = "";
	if (fd < 0)
		return -EPERM;
	if (!sg || parse_int(sg, 1, 0x7fffffff, &g) < 0)
		g = 0;
	if (geteuid() == 0 && (fchown(fd, 0, (gid_t)g) < 0 || fchmod(fd, 0750) < 0)) {
		ret = -errno;
		goto out;
	}
	*what = "/artifacts";
	afd = ensure_own_dir_at(fd, "artifacts", geteuid() == 0 ? 0750 : 0755, NULL);
	if (afd < 0 || (geteuid() == 0 && fchown(afd, 0, (gid_t)g) < 0))
		ret = afd < 0 ? afd : -errno;
	if (afd >= 0)
		close(afd);
out:
	close(fd);
	return ret;
}

struct cJSON *run_find_pkg(const struct run_data *rd, const char *name)
{
	size_t i = name ? find_index(rd, name) : (size_t)-1;
	return i == (size_t)-1 ? NULL : rd->pkgs[i];
}

bool run_pkg_finished(const struct run_data *rd, const char *name)
{
	const cJSON *p = run_find_pkg(rd, name);
	return p && !json_bool(p, "interrupted", false);
}

cJSON *run_load_forensics(const char *run_dir, const cJSON *it, char **path_out)
{
	const cJSON *rel = cJSON_GetObjectItemCaseSensitive(it, "artifacts");
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(it, "forensics");
	char *path, *text = NULL;
	cJSON *j = NULL;
	if (path_out)
		*path_out = NULL;
	if (!cJSON_IsString(rel) || !cJSON_IsString(f))
		return NULL;
	path = xasprintf("%s/%s/%s", run_dir, rel->valuestring, f->valuestring);
	if (read_file(path, &text, NULL) == 0) {
		j = json_parse(text, strlen(text));
		if (!cJSON_IsArray(j)) {
			cJSON_Delete(j);
			j = NULL;
		}
	}
	free(text);
	if (path_out)
		*path_out = path;
	else
		free(path);
	return j;
}

const cJSON *forensics_hang_snapshot(const cJSON *forensics)
{
	const cJSON *s, *found = NULL;
	cJSON_ArrayForEach(s, forensics)
	{
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(s, "reason");
		if (cJSON_IsString(r) && strcmp(r->valuestring, "crash"))
			found = s;
	}
	return found;
}
