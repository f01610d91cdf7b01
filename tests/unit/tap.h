/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_TAP_H
#define FTSCOPE_TAP_H
/*
 * A minimal TAP producer for table-driven unit tests, read by prove.
 *   ok(cond, "name %d", i); is_int(got, want, "name"); is_str(got, want, "name");
 *   return tap_done();   -- prints the plan, returns non-zero if anything failed
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline __attribute__((format(printf, 2, 3))) int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

#define is_int(got, want, ...)                                                             \
	do {                                                                               \
		long long _g = (long long)(got), _w = (long long)(want);                   \
		if (!ok(_g == _w, __VA_ARGS__))                                            \
			printf("#   got %lld, want %lld\n", _g, _w);                      \
	} while (0)

static __attribute__((noinline, unused)) const char *tap_s(const char *s)
{
	return s ? s : "(null)";
}

#define is_str(got, want, ...)                                                             \
	do {                                                                               \
		const char *_g = (got), *_w = (want);                                      \
		int _eq = (_g == NULL && _w == NULL) || (_g && _w && !strcmp(_g, _w));     \
		if (!ok(_eq, __VA_ARGS__))                                                 \
			printf("#   got '%s', want '%s'\n", tap_s(_g), tap_s(_w));            \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed)
		printf("# %d of %d failed\n", tap_failed, tap_n);
	return tap_failed ? 1 : 0;
}
#endif
