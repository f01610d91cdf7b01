/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Shards joined on disk (runstore_merge_dirs(), include/ftscope/runstore.h): the runs of
 * `run --shard K/N` made into one run directory that every reader takes for a single
 * host's run.
 *
 * The shards must share the selection (hash) and the options that change results, the
 * interpreter and its version (shard.h); no package may come from two of them. The merged
 * ft_results.jsonl has the packages in selection order; artifacts are hard links where the
 * file system allows, copies otherwise, taken with the care of docs/security.md (no symlink
 * followed, regular files of the shard's owner only, a size cap). The meta says what a
 * merged run is: merged_from[] keeps each shard's host, system profile, start, end and
 * duration; the run's own start, end and duration span them all (docs/results.md).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/error.h"
#include "ftscope/json.h"
#include "ftscope/rundir.h"
#include "ftscope/runstore.h"
#include "ftscope/shard.h"
#include "ftscope/util.h"

#define item(o, k) cJSON_GetObjectItemCaseSensitive((o), (k))

/* One artifact file larger than this is not taken (a capture is bounded by --max-output). */
#define MERGE_FILE_MAX (4LL << 30)
#define MERGE_MAX_DEPTH 16

/* dfd/name (new) gets the content of the regular file sfd/name, checked first. */
static int take_file(int sfd, int dfd, const char *name, uid_t owner, struct runstore_merged *ls)
{
	struct stat st;
	unsigned long long bytes = 0;
	int in, out, r = 0;

	in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (in < 0) {
		ls->skipped++; /* a symlink (ELOOP), a vanished file */
		return 0;
	}
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != owner ||
	    (st.st_mode & 022) || st.st_size > MERGE_FILE_MAX) {
		close(in);
		ls->skipped++;
		return 0;
	}
	/* the directory is the owner's alone (open_dir_at): the name still is that file */
	if (linkat(sfd, name, dfd, name, 0) == 0) {
		close(in);
		ls->linked++;
		return 0;
	}
	out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     st.st_mode & 0755);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	r = fd_copy_data(in, out, &bytes);
	close(in);
	if (close(out) < 0 && !r)
		r = -errno;
	ls->copied++;
	return r;
}

/* The tree sfd/name into dfd/name: directories made, files taken, anything else left. */
static int take_tree(int sfd, int dfd, const char *name, uid_t owner, int depth,
		     struct runstore_merged *ls)
{
	int s, d, r = 0;
	DIR *dir;
	struct dirent *de;

	if (depth > MERGE_MAX_DEPTH) {
		ls->skipped++;
		return 0;
	}
	s = open_dir_at(sfd, name, owner);
	if (s < 0) {
		ls->skipped++; /* not a directory, or not the shard owner's alone */
		return 0;
	}
	if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		close(s);
		return r;
	}
	d = open_dir_at(dfd, name, geteuid());
	if (d < 0 || !(dir = fdopendir(s))) {
		r = d < 0 ? d : -errno;
		if (d >= 0)
			close(d);
		close(s);
		return r;
	}
	while (!r && (de = readdir(dir))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = take_tree(dirfd(dir), d, de->d_name, owner, depth + 1, ls);
		else if (fstatat(d, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			ls->skipped++; /* a second shard's file of the same name */
		else
			r = take_file(dirfd(dir), d, de->d_name, owner, ls);
	}
	closedir(dir);
	close(d);
	return r;
}

static const char *shard_label(const struct run_data *rd, char *buf, size_t n)
{
	const cJSON *sh = item(rd->meta, "shard");
	if (cJSON_IsObject(sh))
		snprintf(buf, n, "%s (shard %ld/%ld)", rd->dir, json_long(sh, "index", 0),
			 json_long(sh, "count", 0));
	else
		snprintf(buf, n, "%s", rd->dir);
	return buf;
}

/* Do the runs belong together? 0, or -1 after saying what differs. */
static int check_inputs(struct run_data *in, size_t n)
{
	char la[4200], lb[4200];
	for (size_t r = 0; r < n; r++) {
		const cJSON *m = in[r].meta;
		const char *st = json_str(m, "status");
		if (!m || !json_str(item(m, "selection"), "hash"))
			return error("'%s' has no selection in its ft_meta.json: not a run of an "
				     "ftscope that records one (%s)", in[r].dir,
				     m ? "ftscope run --shard records it" : "no readable meta");
		if (st && !strcmp(st, "running"))
			return error("'%s' is still running: merge it when it has finished",
				     in[r].dir);
		for (size_t q = 0; q < r; q++) {
			char *a = realpath(in[q].dir, NULL), *b = realpath(in[r].dir, NULL);
			bool same = a && b && !strcmp(a, b);
			free(a);
			free(b);
			if (same)
				return error("'%s' is given twice: merging a run with itself is "
					     "refused", in[r].dir);
		}
		if (!r)
			continue;
		if (strcmp(json_str(item(m, "selection"), "hash"),
			   json_str(item(in[0].meta, "selection"), "hash")))
			return error("%s and %s are shards of different selections (selection hash "
				     "%s vs %s: other --packages, --top, registry or interpreter "
				     "version)", shard_label(&in[0], la, sizeof(la)),
				     shard_label(&in[r], lb, sizeof(lb)),
				     json_str(item(in[0].meta, "selection"), "hash"),
				     json_str(item(m, "selection"), "hash"));
		{
			char *va, *vb;
			const char *key = result_options_diff(
				item(in[0].meta, "config"), item(in[0].meta, "python_profile"),
				item(m, "config"), item(m, "python_profile"), &va, &vb);
			if (key) {
				error("%s and %s ran with different %s: %s vs %s",
				      shard_label(&in[0], la, sizeof(la)),
				      shard_label(&in[r], lb, sizeof(lb)), key, va, vb);
				free(va);
				free(vb);
				return -1;
			}
		}
	}
	return 0;
}

/* merged_from[]'s entry for a shard: its host, system profile, start, end and duration. */
static cJSON *shard_entry(const struct run_data *rd, const char *abs)
{
	const cJSON *m = rd->meta, *sh = item(m, "shard"), *sys = item(m, "system_profile");
	cJSON *f = cJSON_CreateObject();

	json_set_str(f, "run_id", json_str(m, "run_id"));
	json_set_str(f, "dir", abs ? abs : rd->dir);
	json_set(f, "shard", sh ? cJSON_Duplicate(sh, true) : cJSON_CreateNull());
	json_set_str(f, "hostname", json_str(sys, "hostname"));
	json_set_str(f, "status", json_str(m, "status"));
	json_set_str(f, "started_at", json_str(m, "started_at"));
	json_set_str(f, "finished_at", json_str(m, "finished_at"));
	json_set_num(f, "duration_s", json_num(m, "total_duration_s", 0));
	json_set_num(f, "packages", (double)rd->n);
	json_set(f, "system_profile", sys ? cJSON_Duplicate(sys, true) : cJSON_CreateNull());
	return f;
}

/* The first run's cli_args without --shard: a --resume of OUT takes the whole selection. */
static cJSON *args_without_shard(const cJSON *args)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *a;
	bool skip = false;
	cJSON_ArrayForEach(a, args)
	{
		const char *s = cJSON_GetStringValue(a);
		if (skip) {
			skip = false;
			continue;
		}
		if (s && !strcmp(s, "--shard")) {
			skip = true;
			continue;
		}
		if (s && starts_with(s, "--shard="))
			continue;
		cJSON_AddItemToArray(out, cJSON_Duplicate(a, true));
	}
	return out;
}

static void keep_min_max(const char *v, const char **lo, const char **hi)
{
	if (!v)
		return;
	if (lo && (!*lo || strcmp(v, *lo) < 0))
		*lo = v;
	if (hi && (!*hi || strcmp(v, *hi) > 0))
		*hi = v;
}

/* "2026-12-05T15:09:19Z" (iso_utc's form) as seconds since the epoch; -1 if not that. */
static double iso_seconds(const char *s)
{
	struct tm tm;
	const char *end;
	memset(&tm, 0, sizeof(tm));
	if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) || *end)
		return -1;
	return (double)timegm(&tm);
}

/*
 * The merged run's system_profile: what every shard's host had alike (a member whose
 * value differs between shards, or that a shard lacks, is null: with several hosts, the
 * hostname and the moment's load, memory and disk figures are). Each shard's own is in
 * merged_from[].system_profile.
 */
static cJSON *common_profile(const struct run_data *in, size_t n)
{
	const cJSON *first = item(in[0].meta, "system_profile"), *x;
	cJSON *out;
	if (!cJSON_IsObject(first))
		return cJSON_CreateNull();
	out = cJSON_Duplicate(first, true);
	cJSON_ArrayForEach(x, first)
	{
		bool same = true;
		for (size_t r = 1; r < n && same; r++) {
			const cJSON *sys = item(in[r].meta, "system_profile");
			const cJSON *y = cJSON_IsObject(sys) ? item(sys, x->string) : NULL;
			same = y && cJSON_Compare(x, y, true);
		}
		if (!same)
			json_set(out, x->string, cJSON_CreateNull());
	}
	return out;
}

int runstore_merge_dirs(const char *out_dir, char *const *dirs, size_t ndirs,
			struct runstore_merged *res)
{
	const char *what, *first = NULL, *last = NULL;
	struct run_data *in = NULL;
	size_t n = 0, done = 0, npkgs = 0;
	struct runstore_merged *ls = res;
	struct sbuf lines = SBUF_INIT;
	cJSON *meta = NULL, *from = NULL, *missing = NULL, **owner_of = NULL;
	const cJSON *names, *x;
	const char **dir_of = NULL;
	double iters = 0, dur = 0, wall;
	int r, ret = -1, ofd = -1;
	bool created = false;
	char *path;

	memset(res, 0, sizeof(*res));
	if (path_exists(out_dir))
		return error("'%s' exists already: merge makes a new run directory", out_dir);
	in = xcalloc(ndirs + 1, sizeof(*in));
	for (size_t i = 0; i < ndirs; i++, n++)
		if (run_load(dirs[i], &in[n]) < 0)
			goto out;
	if (check_inputs(in, n) < 0)
		goto out;

	/* Every package of the selection from at most one run. */
	names = item(item(in[0].meta, "selection"), "packages");
	npkgs = (size_t)cJSON_GetArraySize(names);
	owner_of = xcalloc(npkgs + 1, sizeof(*owner_of));
	dir_of = xcalloc(npkgs + 1, sizeof(*dir_of));
	for (size_t r2 = 0; r2 < n; r2++) {
		for (size_t i = 0; i < in[r2].n; i++) {
			const char *p = json_str(in[r2].pkgs[i], "package");
			size_t k = 0;
			cJSON_ArrayForEach(x, names)
			{
				if (cJSON_IsString(x) && !strcmp(x->valuestring, p))
					break;
				k++;
			}
			if (k == npkgs) {
				error("package '%s' of '%s' is not in the selection its ft_meta.json "
				      "records", p, in[r2].dir);
				goto out;
			}
			if (owner_of[k]) {
				error("package '%s' is in two of the runs: '%s' and '%s' (the same "
				      "shard twice, or shards of different counts?)", p, dir_of[k],
				      in[r2].dir);
				goto out;
			}
			owner_of[k] = in[r2].pkgs[i];
			dir_of[k] = in[r2].dir;
		}
	}

	/* OUT: a run directory of ours, artifacts/ in it. */
	if (mkdir_p(out_dir, 0755) < 0) {
		error_errno("cannot create '%s'", out_dir);
		goto out;
	}
	created = true;
	if ((r = run_dir_protect(out_dir, &what)) < 0) {
		errno = -r;
		error_errno("cannot make '%s%s' a run directory", out_dir, what);
		goto out;
	}
	path = path_join(out_dir, "artifacts");
	ofd = open_dir_at(AT_FDCWD, path, geteuid());
	free(path);
	if (ofd < 0) {
		errno = -ofd;
		error_errno("cannot open '%s/artifacts'", out_dir);
		goto out;
	}

	/* Results in selection order, artifacts of each run. */
	missing = cJSON_CreateArray();
	for (size_t k = 0; k < npkgs; k++) {
		char *line;
		if (!owner_of[k] || json_bool(owner_of[k], "interrupted", false)) {
			const cJSON *nm = cJSON_GetArrayItem(names, (int)k);
			cJSON_AddItemToArray(missing, cJSON_Duplicate(nm, true));
			strv_push(&res->missing, cJSON_GetStringValue(nm));
		}
		if (!owner_of[k])
			continue;
		done += !json_bool(owner_of[k], "interrupted", false);
		iters += json_num(owner_of[k], "iterations_completed", 0) +
			 cJSON_GetArraySize(item(owner_of[k], "gil_enabled_iterations"));
		line = json_print(owner_of[k], false);
		sbuf_addf(&lines, "%s\n", line);
		free(line);
	}
	from = cJSON_CreateArray();
	for (size_t r2 = 0; r2 < n; r2++) {
		const cJSON *m = in[r2].meta, *nested = item(m, "merged_from");
		char *abs = realpath(in[r2].dir, NULL);
		struct stat st;
		int afd = -1;
		if (cJSON_IsArray(nested) && cJSON_GetArraySize(nested) > 0) {
			/* A merged run merged again: its shards, not it, are what OUT was merged
			 * from, and their summed durations are its shards_duration_sum_s. */
			const cJSON *e;
			cJSON_ArrayForEach(e, nested)
				cJSON_AddItemToArray(from, cJSON_Duplicate(e, true));
			dur += json_num(m, "shards_duration_sum_s", json_num(m, "total_duration_s", 0));
		} else {
			cJSON_AddItemToArray(from, shard_entry(&in[r2], abs));
			dur += json_num(m, "total_duration_s", 0);
		}
		keep_min_max(json_str(m, "started_at"), &first, NULL);
		keep_min_max(json_str(m, "finished_at"), NULL, &last);
		free(abs);
		/* the shard's artifacts: its owner's alone, as its run directory */
		if (stat(in[r2].dir, &st) == 0) {
			path = path_join(in[r2].dir, "artifacts");
			afd = open_dir_at(AT_FDCWD, path, st.st_uid);
			free(path);
		}
		if (afd < 0) {
			warning("'%s/artifacts' is missing, or not its owner's alone: its artifacts "
				"are not taken", in[r2].dir);
			continue;
		}
		{
			DIR *d = fdopendir(afd);
			struct dirent *de;
			while (d && (de = readdir(d))) {
				if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
					continue;
				if ((r = take_tree(dirfd(d), ofd, de->d_name, st.st_uid, 1, ls)) < 0) {
					errno = -r;
					error_errno("cannot take '%s/artifacts/%s' into '%s'", in[r2].dir,
						    de->d_name, out_dir);
					closedir(d);
					goto out;
				}
			}
			if (d)
				closedir(d);
			else
				close(afd);
		}
	}
	path = path_join(out_dir, "ft_results.jsonl");
	r = write_file_atomic(path, lines.buf ? lines.buf : "", lines.len);
	free(path);
	if (r < 0) {
		errno = -r;
		error_errno("cannot write '%s/ft_results.jsonl'", out_dir);
		goto out;
	}

	/* The meta: the first run's, as one run of the whole selection. */
	meta = cJSON_Duplicate(in[0].meta, true);
	{
		const char *base = strrchr(out_dir, '/');
		char *id = xstrdup(base && base[1] ? base + 1 : out_dir);
		size_t l = strlen(id);
		while (l > 1 && id[l - 1] == '/')
			id[--l] = '\0';
		json_set_str(meta, "run_id", id);
		free(id);
	}
	json_set_str(meta, "status", cJSON_GetArraySize(missing) ? "partial" : "complete");
	json_set_str(meta, "started_at", first);
	json_set_str(meta, "timestamp", first);
	json_set_str(meta, "finished_at", last);
	json_set_num(meta, "packages_total", (double)npkgs);
	json_set_num(meta, "packages_completed", (double)done);
	json_set_num(meta, "total_iterations", iters);
	/* the run's own duration is the wall time from its first start to its last end;
	 * the shards' durations summed (machine time) is kept under its own name */
	wall = iso_seconds(first) >= 0 && iso_seconds(last) >= iso_seconds(first)
		       ? iso_seconds(last) - iso_seconds(first)
		       : 0;
	json_set_num(meta, "total_duration_s", round_to(wall, 2));
	json_set_num(meta, "shards_duration_sum_s", round_to(dur, 2));
	json_set(meta, "system_profile", common_profile(in, n));
	json_set(meta, "shard", cJSON_CreateNull());
	json_set(meta, "cli_args", args_without_shard(item(in[0].meta, "cli_args")));
	json_set(meta, "merged_from", from);
	from = NULL;
	if (cJSON_GetArraySize(missing)) {
		json_set(meta, "packages_missing", missing);
		missing = NULL;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "supervisor_pid");
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "work_dir");
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "resumed_at");
	if (runstore_write_meta(out_dir, meta) < 0)
		goto out;

	res->inputs = n;
	res->packages = npkgs;
	res->finished = done;
	ret = 0;
out:
	if (ofd >= 0)
		close(ofd);
	if (ret < 0 && created && rm_rf(out_dir) < 0)
		warning("cannot remove the unfinished '%s'", out_dir);
	if (ret < 0)
		strv_release(&res->missing);
	for (size_t i = 0; i < n; i++)
		run_data_release(&in[i]);
	free(in);
	free(owner_of);
	free(dir_of);
	sbuf_release(&lines);
	cJSON_Delete(meta);
	cJSON_Delete(from);
	cJSON_Delete(missing);
	return ret;
}
