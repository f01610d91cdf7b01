/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Per-build-id files that spare the next process a module's expensive parsing: its
 * sorted symbol table (elfsyms.c) and its flattened DWARF line table (linecache.c).
 * A build-id names one exact binary, so a file stays right until its format changes; each
 * user validates its own header and sizes and rebuilds what does not match.
 *
 *	<dir>/<first 2 hex digits of the build-id>/<the rest>.<ext>
 *
 * Integrity, whatever the format: every file ends with a trailer, "FTCSUM01" and a 64-bit
 * hash of all the bytes before it, so a flipped or zeroed span (a crash before the file
 * reached the disk, a stray write) is a stale file, rebuilt, and never a wrong frame. The
 * hash is checked in full when a file is first loaded; then a stamp (the extended attribute
 * user.ftscope.checked: the file's inode, size, modification time and hash) spares the
 * loads after it the check until the file changes (the check of a warm dump's 15 MB of
 * tables was 5-8 ms of CPU). Where the file system has no user xattrs every load checks. Files
 * are written to an O_EXCL temporary name with random letters (mkostemp) and renamed into
 * place, so a reader never sees half a file. When root uses the cache, its directories
 * are root-only (0700), and a file that root does not own, or that others could write,
 * or that is not a regular file, is not read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ftscope/error.h"
#include "ftscope/util.h"
#include "internal.h"

#define TRAILER_MAGIC "FTCSUM01"

struct cache_trailer {
	char magic[8];
	uint64_t hash;
};

static char *cache_dir; /* NULL: no cache */
static enum symbolizer_cache_mode cache_mode = SYMCACHE_SAVE_NOW;

void symbolizer_set_cache_mode(enum symbolizer_cache_mode mode)
{
	cache_mode = mode;
}

bool diskcache_save_later(void)
{
	return cache_dir && cache_mode == SYMCACHE_SAVE_LATER;
}

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

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

static inline uint64_t hash_round(uint64_t acc, uint64_t w)
{
	return rotl64(acc + w * P2, 31) * P1;
}

/*
 * A 64-bit non-cryptographic hash of a buffer, four independent lanes of 8-byte words
 * (xxHash64's round; ~4 GB/s here, so a 10 MB line table costs ~2.5 ms to check). It
 * finds accidental damage; it is no defence against someone who can write the file,
 * which is why root reads only files it owns.
 */
uint64_t diskcache_hash(const void *buf, size_t len)
{
	const unsigned char *p = buf, *end = p + len;
	uint64_t a0 = P1 + P2, a1 = P2, a2 = 0, a3 = (uint64_t)0 - P1, h, w;

	/* the lanes in registers: an array here cost twice the instructions (12.9 M of a warm
	 * dump's 45 M for its 8 MB of tables) */
	for (; end - p >= 32; p += 32) {
		a0 = hash_round(a0, load64(p));
		a1 = hash_round(a1, load64(p + 8));
		a2 = hash_round(a2, load64(p + 16));
		a3 = hash_round(a3, load64(p + 24));
	}
	h = rotl64(a0, 1) + rotl64(a1, 7) + rotl64(a2, 12) + rotl64(a3, 18);
	h = (h ^ hash_round(0, a0)) * P1 + P3;
	h = (h ^ hash_round(0, a1)) * P1 + P3;
	h = (h ^ hash_round(0, a2)) * P1 + P3;
	h = (h ^ hash_round(0, a3)) * P1 + P3;
	h += (uint64_t)len;
	for (; end - p >= 8; p += 8) {
		memcpy(&w, p, 8);
		h = rotl64(h ^ hash_round(0, w), 27) * P1 + P3;
	}
	for (; p < end; p++)
		h = rotl64(h ^ (*p * 0x27D4EB2F165667C5ull), 11) * P1;
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	return h ^ (h >> 32);
}

/* A cache file root may trust: a regular file it owns that nobody else can write. */
static bool file_trusted(const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		return false;
	if (geteuid() != 0)
		return true;
	return st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

#define STAMP_XATTR "user.ftscope.checked"

/* What the stamp holds: the file it was taken of, and the hash that file passed. */
struct cache_stamp {
	uint64_t ino, size, mtime_s, mtime_ns, hash;
};

static void stamp_of(const struct stat *st, uint64_t hash, struct cache_stamp *out)
{
	memset(out, 0, sizeof(*out));
	out->ino = (uint64_t)st->st_ino;
	out->size = (uint64_t)st->st_size;
	out->mtime_s = (uint64_t)st->st_mtim.tv_sec;
	out->mtime_ns = (uint64_t)st->st_mtim.tv_nsec;
	out->hash = hash;
}

/* Whether this file, as fstat sees it, passed its check before with this trailer hash. */
static bool stamp_valid(int fd, const struct stat *st, uint64_t hash)
{
	struct cache_stamp want, got;

	stamp_of(st, hash, &want);
	return fgetxattr(fd, STAMP_XATTR, &got, sizeof(got)) == (ssize_t)sizeof(got) &&
	       !memcmp(&got, &want, sizeof(got));
}

bool diskcache_has(const char *build_id, const char *ext)
{
	struct stat st;
	char *path;
	bool has;

	if (!cache_dir || !valid_build_id(build_id))
		return false;
	path = cache_path(build_id, ext);
	has = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return has;
}

const void *diskcache_map(const char *build_id, const char *ext, size_t *len)
{
	struct cache_trailer t;
	struct stat st;
	size_t size;
	char *path;
	void *map;
	bool stamped;
	int fd;

	if (!cache_dir || !valid_build_id(build_id))
		return NULL;
	path = cache_path(build_id, ext);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		free(path);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !file_trusted(&st) || st.st_size <= (off_t)sizeof(t)) {
		debug("symbolizer: not reading %s (not a regular file of ours, or empty)", path);
		free(path);
		close(fd);
		return NULL;
	}
	size = (size_t)st.st_size;
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		close(fd);
		free(path);
		return NULL;
	}
	memcpy(&t, (const char *)map + size - sizeof(t), sizeof(t));
	stamped = !memcmp(t.magic, TRAILER_MAGIC, 8) && stamp_valid(fd, &st, t.hash);
	if (memcmp(t.magic, TRAILER_MAGIC, 8) ||
	    (!stamped && t.hash != diskcache_hash(map, size - sizeof(t)))) {
		debug("symbolizer: %s fails its checksum: ignored, to be rebuilt", path);
		munmap(map, size);
		close(fd);
		free(path);
		return NULL;
	}
	if (!stamped) {
		struct cache_stamp sp;
		stamp_of(&st, t.hash, &sp);
		(void)fsetxattr(fd, STAMP_XATTR, &sp, sizeof(sp), 0); /* best effort */
	}
	close(fd);
	free(path);
	*len = size - sizeof(t);
	return map;
}

void diskcache_unmap(const void *map, size_t len)
{
	if (map)
		munmap((void *)map, len + sizeof(struct cache_trailer));
}

/*
 * The cache's directories, made root-only when root writes them: the top one is created
 * 0700 or, already there, must be a real directory root owns (then it is chmod'ed 0700);
 * one that someone else owns is not used.
 */
static int make_dirs(const char *dir)
{
	struct stat st;
	int r;

	if (geteuid() != 0)
		return mkdir_p(dir, 0755);
	r = mkdir_p(dir, 0700);
	if (r)
		return r;
	for (const char *d = cache_dir; d; d = d == cache_dir ? dir : NULL) {
		if (lstat(d, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode) || st.st_uid != 0)
			return -EPERM;
		if ((st.st_mode & 07777) != 0700 && chmod(d, 0700) < 0)
			return -errno;
	}
	return 0;
}

static int save_file(const char *path, const void *buf, size_t len)
{
	struct cache_trailer t;
	struct iovec iov[2];
	char *tmp = xasprintf("%s.XXXXXX", path);
	size_t left = len + sizeof(t);
	int r = 0, fd = mkostemp(tmp, O_CLOEXEC); /* O_EXCL, 0600, random name */

	if (fd < 0) {
		r = -errno;
		goto out;
	}
	memcpy(t.magic, TRAILER_MAGIC, 8);
	t.hash = diskcache_hash(buf, len);
	iov[0] = (struct iovec){ (void *)buf, len };
	iov[1] = (struct iovec){ &t, sizeof(t) };
	while (left) {
		ssize_t n = writev(fd, iov, 2);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		left -= (size_t)n;
		for (int i = 0; i < 2; i++) {
			size_t k = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			n -= (ssize_t)k;
		}
	}
	if (!r && geteuid() != 0 && fchmod(fd, 0644) < 0) /* a user's cache: readable as before */
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0) /* a cache: no fsync, a file lost in a crash is rebuilt */
		r = -errno;
	if (r)
		unlink(tmp);
out:
	free(tmp);
	return r;
}

int symbolizer_cache_lock(void)
{
	char *lock;
	int fd, r;

	if (!cache_dir)
		return -ENOENT;
	r = mkdir_p(cache_dir, 0755);
	if (r < 0)
		return r;
	lock = path_join(cache_dir, ".build.lock");
	fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	free(lock);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int diskcache_save(const char *build_id, const char *ext, const void *buf, size_t len)
{
	char *path, *dir;
	int r;

	if (!cache_dir || !valid_build_id(build_id))
		return -EINVAL;
	path = cache_path(build_id, ext);
	dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
	r = make_dirs(dir);
	if (r == 0)
		r = save_file(path, buf, len);
	debug("symbolizer: %s %s: %s", r ? "cannot save" : "saved", path, r ? strerror(-r) : "ok");
	free(dir);
	free(path);
	return r;
}
