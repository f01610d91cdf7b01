/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/error.h"
#include "ftscope/results.h"
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

void run_data_release(struct run_data *rd)
{
	for (size_t i = 0; i < rd->n; i++)
		cJSON_Delete(rd->pkgs[i]);
	free(rd->pkgs);
	cJSON_Delete(rd->meta);
	free(rd->dir);
	memset(rd, 0, sizeof(*rd));
}

struct cJSON *run_find_pkg(const struct run_data *rd, const char *name)
{
	size_t i = name ? find_index(rd, name) : (size_t)-1;
	return i == (size_t)-1 ? NULL : rd->pkgs[i];
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
