/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/error.h"
#include "ftscope/exit.h"

int ft_verbose;
static void (*die_cleanup)(void);

void set_die_cleanup(void (*fn)(void))
{
	die_cleanup = fn;
}

static void vreport(const char *prefix, const char *fmt, va_list ap, int err)
{
	fflush(stdout);
	fprintf(stderr, "ftscope: %s", prefix);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
}

int error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("error: ", fmt, ap, 0);
	va_end(ap);
	return -1;
}

int error_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vreport("error: ", fmt, ap, err);
	va_end(ap);
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap, 0);
	va_end(ap);
}

void warning_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap, err);
	va_end(ap);
}

void debug(const char *fmt, ...)
{
	va_list ap;
	if (!ft_verbose)
		return;
	va_start(ap, fmt);
	vreport("", fmt, ap, 0);
	va_end(ap);
}

void info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap, 0);
	va_end(ap);
}

static _Noreturn void die_common(const char *fmt, va_list ap, int err)
{
	vreport("error: ", fmt, ap, err);
	if (die_cleanup) {
		void (*fn)(void) = die_cleanup;
		die_cleanup = NULL;
		fn();
	}
	exit(FT_EXIT_FAILURE);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	die_common(fmt, ap, 0);
}

void die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	die_common(fmt, ap, err);
}

void die_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fflush(stdout);
	fprintf(stderr, "ftscope: error: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'ftscope %s --help')\n", cmd ? cmd : "");
	exit(FT_EXIT_USAGE);
}

void die_bad_option(const char *cmd, int c, char **argv)
{
	char letter[3] = { '-', (char)optopt, 0 };
	const char *arg = optind > 0 ? argv[optind - 1] : "?";
	if (c == ':')
		die_usage(cmd, "option '%s' needs a value", arg);
	/* getopt sets optopt to an unknown short option's letter, 0 for a long one */
	die_usage(cmd, "unknown option '%s'", optopt > 0 && optopt < 128 ? letter : arg);
}

const char *the_run_dir(const char *cmd, int argc, char **argv)
{
	if (optind >= argc)
		die_usage(cmd, "missing RUN_DIR");
	if (optind + 1 < argc)
		die_usage(cmd, "unexpected argument '%s'", argv[optind + 1]);
	return argv[optind];
}
