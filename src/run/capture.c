/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* A supervised tree's output streams (capture.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ftscope/capture.h"
#include "ftscope/diskspace.h"
#include "ftscope/text.h"
#include "ftscope/util.h"

/* A capture file is new, root's, in a directory only root writes (docs/security.md): a name
 * that exists already is refused rather than followed or truncated. */
static int open_capture(const char *path)
{
	if (!path)
		return -1;
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
}

void capture_init(struct capture *c, const char *path, size_t max_output, struct sbuf *collect)
{
	c->fd = -1;
	c->file = open_capture(path);
	c->max_output = max_output;
	c->collect = collect;
}

static void ring_add(struct capture *c, const char *data, size_t n)
{
	if (n >= RING_CAP) {
		memcpy(c->ring, data + n - RING_CAP, RING_CAP);
		c->ring_len = RING_CAP;
		return;
	}
	if (c->ring_len + n > RING_CAP) {
		size_t drop = c->ring_len + n - RING_CAP;
		memmove(c->ring, c->ring + drop, c->ring_len - drop);
		c->ring_len -= drop;
	}
	memcpy(c->ring + c->ring_len, data, n);
	c->ring_len += n;
}

static void file_write(int fd, const char *p, size_t n)
{
	if (space_is_full())
		return; /* the reserve given back is for the run's records, not for captures */
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			space_full(errno);
			return; /* a full disk must not stop supervision */
		}
		p += w;
		n -= (size_t)w;
	}
}

bool capture_read(struct capture *c)
{
	char buf[65536];
	bool got = false;
	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break; /* EAGAIN */
		}
		if (n == 0) {
			close(c->fd);
			c->fd = -1;
			break;
		}
		got = true;
		c->total += (size_t)n;
		c->last_data = now_monotonic();
		ring_add(c, buf, (size_t)n);
		if (c->collect && c->collect->len < c->max_output)
			sbuf_add(c->collect, buf, (size_t)n);
		if (c->hang && c->hang->len < HANG_CAPTURE_MAX)
			sbuf_add(c->hang, buf, (size_t)n);
		if (c->file >= 0 && c->written < c->max_output) {
			size_t room = c->max_output - c->written, k = (size_t)n < room ? (size_t)n : room;
			file_write(c->file, buf, k);
			c->written += k;
			if (k < (size_t)n)
				c->truncated = true;
		} else if (c->file >= 0) {
			c->truncated = true;
		}
	}
	return got;
}

static char *last_line(const struct capture *c)
{
	const char *b = c->ring, *e = c->ring + c->ring_len, *p, *start;
	char *line, *cr;
	size_t len;
	while (e > b && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e == b)
		return NULL;
	for (p = e; p > b && p[-1] != '\n'; p--)
		;
	start = p;
	line = text_from_bytes(start, (size_t)(e - start));
	cr = strrchr(line, '\r'); /* progress bars: keep what is shown last */
	if (cr && cr[1]) {
		char *t = xstrdup(cr + 1);
		free(line);
		line = t;
	}
	len = strlen(line);
	if (len > 200) {
		char *t = tail_bytes(line, len, 200);
		free(line);
		line = t;
	}
	return line;
}

char *capture_latest_line(const struct capture *a, const struct capture *b)
{
	char *l;
	if (b->last_data > a->last_data) {
		const struct capture *t = a;
		a = b;
		b = t;
	}
	l = last_line(a);
	return l ? l : last_line(b);
}

bool capture_finish(struct capture *c, char **tail, size_t *bytes)
{
	bool truncated = false;
	*tail = tail_bytes(c->ring, c->ring_len, TAIL_KEEP);
	*bytes = c->total;
	if (c->truncated && c->file >= 0) {
		/* The file keeps the head; append the tail that is not in it yet. */
		size_t after = c->total - c->written;
		size_t k = after < c->ring_len ? after : c->ring_len;
		char *marker = xasprintf("\n[ftscope: output truncated at %zu bytes: %zu of %zu bytes "
					 "omitted; the last %zu follow]\n",
					 c->written, after - k, c->total, k);
		file_write(c->file, marker, strlen(marker));
		file_write(c->file, c->ring + c->ring_len - k, k);
		free(marker);
		truncated = true;
	}
	if (c->file >= 0) {
		fsync(c->file);
		close(c->file);
	}
	if (c->fd >= 0)
		close(c->fd);
	return truncated;
}
