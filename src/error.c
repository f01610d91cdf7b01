/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
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
	vreport("error: ", fmt, ap, 0);
	va_end(ap);
	fprintf(stderr, "Try 'ftscope %s --help'.\n", cmd ? cmd : "");
	exit(FT_EXIT_USAGE);
}
