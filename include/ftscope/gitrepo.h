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
 * url may be an http(s) URL, a file:// URL or a local path (made absolute for origin).
 * The target is the remote's HEAD (its default branch, followed if it changes); a full
 * repository stays full whatever depth says; a shallow one is fetched with `git fetch
 * --depth N origin HEAD`, or `--unshallow` for depth 0. Untracked empty directories go too;
 * nested repositories and symlinks are removed, never followed; submodules are left alone.
 * libgit2 (like git's safe.directory) refuses repositories owned by another user: the
 * message then says so. No network timeout (libgit2 1.5 has none): a hung server hangs.
 * git CLI children run with GIT_TERMINAL_PROMPT=0 and are reaped with waitpid(pid): a
 * process-wide SIGCHLD reaper would steal their status.
 * On success *commit is the 40-hex HEAD (malloc'd) and 0 is returned; on failure -1 and a
 * one-line reason is appended to err.
 */
int gitrepo_sync(const char *url, const char *dir, int depth, char **commit, struct sbuf *err);

/*
 * HEAD commit of the repository containing dir (searching upward), malloc'd; NULL if not a
 * git repository or HEAD is unborn. Works on repositories owned by another user (`sudo
 * ftscope run --package-dir .`): it then reads HEAD, loose and packed refs by hand.
 */
char *gitrepo_head(const char *dir);

/*
 * --install-from sdist: check out in root's clone `dir` (a gitrepo_sync() one) the first of
 * `tags` (NULL-terminated) that its origin has, fetching it (--depth 1 into a shallow
 * clone). Returns 0 with *matched (the tag) and *commit (its 40-hex commit), 1 when the
 * origin has none of them (the clone is left as it was), -1 with err when the checkout
 * failed. The git CLI runs as gitrepo_sync's does (no hooks, no GIT_* of the caller).
 */
int gitrepo_checkout_tag(const char *dir, const char *const *tags, char **matched,
			 char **commit, struct sbuf *err);

#endif
