/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_DLIB_H
#define FTSCOPE_DLIB_H

/*
 * Libraries opened at first use instead of at start-up. libgit2 and libxml2 (with their
 * dependencies: kerberos, mbedtls, libssh2, pcre2, ICU, libstdc++) were 22 of ftscope's
 * 35 shared objects and ~6 of its ~8 ms start-up, paid by every command although only
 * `run` clones repositories and parses JUnit XML. The headers are used at build time, so
 * every pointer has the library function's own type (__typeof__), and the soname is the
 * one the build found (Makefile), so the ABI is the one compiled against.
 */
#include <stddef.h>

struct dlib_sym {
	const char *name;
	void **addr; /* where the address goes */
};

/*
 * dlopen(soname) and resolve every symbol. 0, or -1 with a one-line reason in *why
 * (malloc'd; nothing resolved is kept). Callers run it once (pthread_once).
 */
int dlib_load(const char *soname, const struct dlib_sym *syms, size_t n, char **why);

#endif
