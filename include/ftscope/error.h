/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_ERROR_H
#define FTSCOPE_ERROR_H

/*
 * Messages: "ftscope: error: cannot open 'x': No such file or directory".
 * Lowercase, no final period, what failed first, paths quoted.
 *
 * Reusable code returns 0 / -errno, or `return error(...)` (prints, returns -1).
 * Only cmd_*() and main() call die(), and die() first runs the registered cleanup
 * hook (kills and reaps the iteration's process tree, flushes result files).
 */
#include <stdarg.h>

extern int ft_verbose; /* -v count */

int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warning_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage error: message, hint to --help, exit 2. */
_Noreturn void die_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The one line for getopt_long's '?' (unknown option) or ':' (missing value: the optstring
 * starts with ':') return c, naming the option (argv[optind - 1]); exit 2. */
_Noreturn void die_bad_option(const char *cmd, int c, char **argv);
/* After getopt: the one RUN_DIR argument left, or die_usage (missing, or one too many). */
const char *the_run_dir(const char *cmd, int argc, char **argv);

/* One cleanup hook, run by die() before exiting (strace's cleanup()). */
void set_die_cleanup(void (*fn)(void));

#endif
