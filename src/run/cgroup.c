/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftscope/cgroup.h"
#include "ftscope/util.h"

#define V2_ROOT "/sys/fs/cgroup"
#define V1_PIDS "/sys/fs/cgroup/pids"

static int write_str(const char *dir, const char *file, const char *val)
{
	char *p = path_join(dir, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC), ret = 0;
	free(p);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static bool file_has_word(const char *path, const char *word)
{
	char *text = NULL;
	bool r = false;
	if (read_file(path, &text, NULL) == 0) {
		for (char *tok = strtok(text, " \n"); tok; tok = strtok(NULL, " \n"))
			if (!strcmp(tok, word))
				r = true;
	}
	free(text);
	return r;
}

/*
 * Remove the groups of ftscope processes that are gone: a supervisor that was SIGKILLed (or
 * lost its machine) cannot rmdir its group, and each would stay on the host for good. A group
 * is ftscope-PID-N; PID alive (ours, another run's, or a reused pid) keeps it, and rmdir
 * refuses a group that still has members.
 */
static void sweep_stale(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		int pid;
		unsigned n;
		char tail;
		if (sscanf(de->d_name, "ftscope-%d-%u%c", &pid, &n, &tail) != 2 || pid <= 0 ||
		    pid == (int)getpid())
			continue;
		if (kill(pid, 0) < 0 && errno == ESRCH) {
			char *dir = path_join(root, de->d_name);
			rmdir(dir);
			free(dir);
		}
	}
	closedir(d);
}

static int make_under(struct cgroup *cg, const char *root, long max_tasks)
{
	static unsigned counter;
	char val[32];
	char *dir;
	if (!counter)
		sweep_stale(root);
	dir = xasprintf("%s/ftscope-%d-%u", root, (int)getpid(), counter++);
	if (mkdir(dir, 0755) < 0) {
		int e = -errno;
		free(dir);
		return e;
	}
	snprintf(val, sizeof(val), "%ld", max_tasks);
	if (write_str(dir, "pids.max", val) < 0) {
		rmdir(dir);
		free(dir);
		return -EIO;
	}
	cg->dir = dir;
	return 0;
}

int cgroup_create(struct cgroup *cg, long max_tasks, const char **why)
{
	memset(cg, 0, sizeof(*cg));
	*why = NULL;
	if (max_tasks <= 0) {
		*why = "no task limit asked for";
		return -1;
	}
	if (access(V2_ROOT "/cgroup.controllers", F_OK) == 0) {
		/* Pure v2: the pids controller must be delegated to our children. */
		if (file_has_word(V2_ROOT "/cgroup.controllers", "pids")) {
			write_str(V2_ROOT, "cgroup.subtree_control", "+pids");
			if (make_under(cg, V2_ROOT, max_tasks) == 0) {
				cg->v2 = true;
				return 0;
			}
		}
		*why = "cannot create a cgroup v2 group with the pids controller";
		return -1;
	}
	if (is_dir(V1_PIDS) && make_under(cg, V1_PIDS, max_tasks) == 0)
		return 0;
	*why = access(V1_PIDS, W_OK) < 0 ? "no writable pids cgroup (not root?)"
					  : "cannot create a pids cgroup";
	return -1;
}

int cgroup_enter_self(const struct cgroup *cg)
{
	char path[512];
	int fd, ret = 0;
	if (!cg->dir)
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "0", 1) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static long read_key(const struct cgroup *cg, const char *file, const char *key)
{
	char *p, *text = NULL;
	long v = -1;
	if (!cg->dir)
		return -1;
	p = path_join(cg->dir, file);
	if (read_file(p, &text, NULL) == 0) {
		if (!key) {
			v = strtol(text, NULL, 10);
		} else {
			char *k = strstr(text, key);
			if (k)
				v = strtol(k + strlen(key), NULL, 10);
		}
	}
	free(text);
	free(p);
	return v;
}

long cgroup_limit_hits(const struct cgroup *cg)
{
	return read_key(cg, "pids.events", "max ");
}

long cgroup_peak(const struct cgroup *cg)
{
	return read_key(cg, "pids.peak", NULL);
}

int cgroup_pids(const struct cgroup *cg, pid_t **pids, size_t *n)
{
	char *p, *text = NULL, *save = NULL;
	size_t cap = 0;
	*pids = NULL;
	*n = 0;
	if (!cg->dir)
		return 0;
	p = path_join(cg->dir, "cgroup.procs");
	if (read_file(p, &text, NULL) < 0) {
		free(p);
		return -EIO;
	}
	for (char *tok = strtok_r(text, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*pids = xrealloc(*pids, cap * sizeof(**pids));
		}
		(*pids)[(*n)++] = (pid_t)atoi(tok);
	}
	free(text);
	free(p);
	return 0;
}

void cgroup_destroy(struct cgroup *cg)
{
	if (cg->dir) {
		/* The last members may take a moment to leave after being reaped. */
		for (int i = 0; i < 100 && rmdir(cg->dir) < 0 && errno == EBUSY; i++)
			usleep(10000);
		free(cg->dir);
	}
	memset(cg, 0, sizeof(*cg));
}
