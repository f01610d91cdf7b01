/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_CAPTURE_H
#define FTSCOPE_CAPTURE_H

/*
 * One output stream of a supervised tree (supervise.c): the pipe's bytes go to a capture
 * file (its first max_output bytes, then the tail at the end), a ring of the last ones, and
 * optionally a collect buffer and the hang buffer (faulthandler's dump).
 */
#include <stdbool.h>
#include <stddef.h>

#include "ftscope/util.h"

#define TAIL_KEEP 4096
#define RING_CAP 16384
#define HANG_CAPTURE_MAX (256 * 1024)

struct capture {
	int fd;         /* read end of the pipe, -1 at EOF */
	int file;       /* capture file, -1 if none */
	size_t total;   /* bytes read */
	size_t written; /* bytes written to the file */
	bool truncated;
	double last_data;
	char ring[RING_CAP];
	size_t ring_len;
	size_t max_output;    /* bytes kept in the file (and in collect) */
	struct sbuf *collect; /* also kept here, or NULL */
	struct sbuf *hang;    /* while set, also kept here (at most HANG_CAPTURE_MAX) */
};

/* fd -1; the capture file at path created (NULL: none; c->file < 0 if it cannot be: a name
 * that exists already is refused). */
void capture_init(struct capture *c, const char *path, size_t max_output, struct sbuf *collect);
/* Drain what is readable now from the pipe; true if bytes came. */
bool capture_read(struct capture *c);
/* Last non-empty line of the stream written to last (the other one if that has none),
 * at most 200 chars; malloc'd or NULL. */
char *capture_latest_line(const struct capture *a, const struct capture *b);
/* The tail (TAIL_KEEP) and the byte count; the file completed with the tail it lacks, synced
 * and closed. Returns whether the file was truncated. */
bool capture_finish(struct capture *c, char **tail, size_t *bytes);

#endif
