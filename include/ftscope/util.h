/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_UTIL_H
#define FTSCOPE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

/* Allocation that dies on out-of-memory (the CLI has no OOM branches). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);         /* xstrdup(NULL) == NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Growable byte buffer; buf is always NUL-terminated. SBUF_INIT or sbuf_init(). */
struct sbuf {
	char *buf;
	size_t len, cap;
};
#define SBUF_INIT { NULL, 0, 0 }
void sbuf_init(struct sbuf *sb);
void sbuf_add(struct sbuf *sb, const void *data, size_t n);
void sbuf_adds(struct sbuf *sb, const char *s);
void sbuf_addf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_addc(struct sbuf *sb, char c);
void sbuf_reset(struct sbuf *sb);
void sbuf_release(struct sbuf *sb);
/* Returns the malloc'd string (caller frees) and resets sb. */
char *sbuf_detach(struct sbuf *sb);
/* Shell-quote s ('...' with '\'' escapes) and append. */
void sbuf_add_shquoted(struct sbuf *sb, const char *s);

/* Growable array of owned strings. */
struct strv {
	char **v;
	size_t n, cap;
};
#define STRV_INIT { NULL, 0, 0 }
void strv_push(struct strv *sv, const char *s);        /* copies s */
void strv_push_owned(struct strv *sv, char *s);        /* takes s */
bool strv_contains(const struct strv *sv, const char *s);
void strv_push_unique(struct strv *sv, const char *s); /* unless already there */
void strv_release(struct strv *sv);
/* Split s on any of seps, trimming blanks, dropping empty items. */
void strv_split(struct strv *sv, const char *s, const char *seps);
/* qsort() comparator of char * elements, by strcmp. */
int cmp_strp(const void *a, const void *b);

/* The width output to f should fit: the terminal's when f is one, else $COLUMNS, else 0
 * (no limit: a pipe or a file). */
int output_width(FILE *f);
/* Append text word by word (words are never cut), starting at column col: a word that would
 * pass `width` (0: no limit) goes on a new line indented by `indent` blanks. */
void sbuf_add_wrapped(struct sbuf *sb, const char *text, int col, int indent, int width);

/* Files. All return 0 or -errno unless said otherwise. */
int read_file(const char *path, char **out, size_t *len);     /* *out malloc'd, NUL-terminated */
/*
 * The one way root reads a file someone else may control (docs/security.md):
 * openat(dirfd, name, O_NOFOLLOW | O_NONBLOCK) -- no symlink is followed and a FIFO or a
 * leased file cannot block the open --, fstat: a regular file (-EINVAL otherwise), owned by
 * `owner` and not writable by group or others (-EPERM; FILE_ANY_OWNER skips both checks),
 * at most `max` bytes (-EFBIG, also when it grows while read). dirfd may be AT_FDCWD.
 */
#define FILE_ANY_OWNER ((uid_t)-1)
int read_file_at(int dirfd, const char *name, size_t max, uid_t owner, char **out, size_t *len);
/* Open dirfd/name as a directory without following a symlink (O_DIRECTORY | O_NOFOLLOW);
 * with an owner, it must also be owned by it and not writable by group or others (-EPERM).
 * Returns the descriptor (O_CLOEXEC) or -errno. */
int open_dir_at(int dirfd, const char *name, uid_t owner);
/* Create "<path>.tmp.<16 random hex digits>" with O_CREAT | O_EXCL | O_NOFOLLOW: a name
 * nobody can predict or pre-plant. Returns the descriptor (*tmp malloc'd) or -errno. */
int open_temp_beside(const char *path, mode_t mode, char **tmp);
int write_all(int fd, const void *data, size_t len);                 /* 0 or -errno; retries EINTR */
int write_file_atomic(const char *path, const void *data, size_t len); /* tmp + fsync + rename */
/* The same; durable=false skips the fsync (caches: a file lost in a crash is rebuilt). */
int write_file_replace(const char *path, const void *data, size_t len, bool durable);
int append_line_fsync(const char *path, const char *line);   /* appends line + '\n', fsyncs */
int mkdir_p(const char *path, mode_t mode);
/* A command's output: to path atomically (-o FILE), or to stdout when path is NULL (main()
 * checks stdout's flush). Prints why on failure; 0 or -1. */
int emit_output(const char *path, const char *buf, size_t len);
/* Remove a tree; never follows a symlink, also when the tree's owner swaps entries while it
 * is removed (each level is opened O_NOFOLLOW relative to its parent). 0 if it is gone. */
int rm_rf(const char *path);
int rm_rf_at(int dirfd, const char *name);
/*
 * A directory root may run git in: it and everything below it is root's and not writable
 * by group or others (so no test ever wrote there: git config, hooks, attributes).
 */
bool tree_is_roots(const char *path);
/*
 * Make dirfd/name a directory of ours, mode `mode`, not writable by anyone else: an
 * existing one that is not (a symlink, someone else's, group/other-writable) is removed
 * first (*replaced = true). Returns an O_NOFOLLOW descriptor of it or -errno.
 */
int ensure_own_dir_at(int dirfd, const char *name, mode_t mode, bool *replaced);
/* Copy what is left of in to out (copy_file_range, else read/write); *bytes counts. */
int fd_copy_data(int in, int out, unsigned long long *bytes);
bool path_exists(const char *path);
bool is_dir(const char *path);
char *path_join(const char *a, const char *b);               /* malloc'd */
char *abs_path(const char *path);                            /* malloc'd; realpath or cwd-joined */

/* Time. */
double now_monotonic(void);
double now_wall(void);
/* "2026-11-22T10:11:12Z" into buf (>= 32 bytes). */
void iso_utc(double t, char *buf, size_t n);

/* Numbers from the command line: strict, with end check. 0 or -EINVAL. */
int parse_int(const char *s, long min, long max, long *out);
int parse_double(const char *s, double min, double max, double *out);

/* String helpers. */
bool starts_with(const char *s, const char *prefix);
bool ends_with(const char *s, const char *suffix);
char *trim(char *s);                                        /* in place */

/* Signals by name: "SIGSEGV" for 11; NULL for unknown. */
const char *signal_name(int sig);
int signal_from_name(const char *name);                     /* -1 if unknown */

#endif
