/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* A run's reserve of disk space (include/ftscope/diskspace.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ftscope/diskspace.h"

static char *reserve_path; /* NULL: no reserve made (full is then never claimed) */
static bool full_here;      /* this process gave it back or saw it gone */
static double checked_at;

int space_reserve(const char *dir)
{
	static const char zeros[65536];
	char *path = malloc(strlen(dir) + sizeof("/.ftscope-space-reserve"));
	int r = 0, fd;

	if (!path)
		return -ENOMEM;
	strcpy(stpcpy(path, dir), "/.ftscope-space-reserve");

	unlink(path); /* a reserve left by an earlier attempt: made anew */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		free(path);
		return r;
	}
	/* written, not fallocate'd: a filesystem without fallocate still reserves */
	for (size_t done = 0; !r && done < SPACE_RESERVE;) {
		ssize_t n = write(fd, zeros, sizeof(zeros));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = n < 0 ? -errno : -EIO;
		else
			done += (size_t)n;
	}
	if (!r && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r) {
		unlink(path);
		free(path);
		return r;
	}
	free(reserve_path);
	reserve_path = path;
	full_here = false;
	return 0;
}

bool space_error(int err)
{
	return err == ENOSPC || err == -ENOSPC || err == EDQUOT || err == -EDQUOT;
}

bool space_full(int err)
{
	if (!space_error(err))
		return false;
	if (reserve_path) {
		unlink(reserve_path);
		full_here = true;
	}
	return true;
}

bool space_is_full(void)
{
	struct timespec ts;
	double now;

	if (!reserve_path)
		return false;
	if (full_here)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (now - checked_at < 0.2) /* capture writes ask often: one look per 200 ms */
		return false;
	checked_at = now;
	full_here = access(reserve_path, F_OK) < 0 && errno == ENOENT;
	return full_here;
}
