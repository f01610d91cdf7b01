/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_GITREPO_H
#define FTSCOPE_GITREPO_H

#include "ftscope/util.h"

/*
 * Bring `dir` to the tip of `url` (libgit2):
 *  - dir missing or empty: clone url into dir (depth > 0: shallow; libgit2 < 1.7 cannot, so
 *    it runs `git clone --depth N` -- a file:// URL is needed for local shallow clones, a
 *    plain path is turned into file://);
 *  - dir is a repository: fetch origin, hard reset to the fetched head, remove untracked
 *    files (git clean -fdx semantics, so stale build products do not survive).
 * url may be an http(s) URL, a file:// URL or a local path.
 * On success *commit is the 40-hex HEAD (malloc'd) and 0 is returned; on failure -1 and a
 * one-line reason is appended to err.
 */
int gitrepo_sync(const char *url, const char *dir, int depth, char **commit, struct sbuf *err);

/* HEAD commit of the repository containing dir, malloc'd; NULL if not a git repository. */
char *gitrepo_head(const char *dir);

#endif
