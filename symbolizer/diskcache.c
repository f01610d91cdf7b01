/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Per-build-id files that spare the next process a module's expensive parsing: its
 * sorted symbol table (elfsyms.c) and its flattened DWARF line table (linecache.c).
 * A build-id names one exact binary, so a file stays right until its format changes; each
 * user validates its own header and sizes and rebuilds what does not match. Files are
 * written to a temporary name and renamed into place, so a reader never sees half a file.
 *
 *	<dir>/<first 2 hex digits of the build-id>/<the rest>.<ext>
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftscope/error.h"
#include "ftscope/util.h"
#include "internal.h"

static char *cache_dir; /* NULL: no cache */

void symbolizer_set_cache_dir(const char *dir)
{
	free(cache_dir);
	cache_dir = dir && *dir ? xstrdup(dir) : NULL;
}

const char *symbolizer_cache_dir(void)
{
	return cache_dir;
}

static bool valid_build_id(const char *b)
{
	size_t n = b ? strlen(b) : 0;
	return n >= 4 && n <= 128 && strspn(b, "0123456789abcdef") == n;
}

static char *cache_path(const char *build_id, const char *ext)
{
	return xasprintf("%s/%.2s/%s.%s", cache_dir, build_id, build_id + 2, ext);
}

const void *diskcache_map(const char *build_id, const char *ext, size_t *len)
{
	struct stat st;
	char *path;
	void *map;
	int fd;

	if (!cache_dir || !valid_build_id(build_id))
		return NULL;
	path = cache_path(build_id, ext);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		close(fd);
		return NULL;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return NULL;
	*len = (size_t)st.st_size;
	return map;
}

void diskcache_unmap(const void *map, size_t len)
{
	if (map)
		munmap((void *)map, len);
}

int diskcache_save(const char *build_id, const char *ext, const void *buf, size_t len)
{
	char *path, *dir;
	int r;

	if (!cache_dir || !valid_build_id(build_id))
		return -EINVAL;
	path = cache_path(build_id, ext);
	dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	r = mkdir_p(dir, 0755);
	if (r == 0)
		r = write_file_replace(path, buf, len, false); /* a cache: no fsync */
	debug("symbolizer: %s %s: %s", r ? "cannot save" : "saved", path, r ? strerror(-r) : "ok");
	free(dir);
	free(path);
	return r;
}
