/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_SIGNATURE_H
#define FTSCOPE_SIGNATURE_H

/*
 * Crash signatures (lowlevel.md §4.5, after ClusterFuzz, Socorro and satyr): the signal plus
 * the top 3 meaningful frames of the crashing thread after an ignore list (raise/abort,
 * signal trampolines, faulthandler, eval-loop plumbing, thread bootstrap), normalized (no
 * addresses, offsets, clone suffixes, argument lists or paths), plus the innermost Python
 * frame. The id is a hash of that text: the same bug gives the same id across iterations,
 * runs and machines (for the same binaries); different bugs give different ids.
 */
#include <stdbool.h>
#include <stddef.h>

struct sig_frame {
	const char *function;  /* native symbol, or NULL */
	const char *module;    /* basename of the module, or NULL */
	unsigned long long module_offset;
	bool is_python;
	const char *py_file;   /* Python frames: file path */
	const char *py_func;   /* Python frames: function (qualname) */
};

#define SIG_FRAMES 3

struct crash_sig {
	char id[17];                    /* 16 hex digits */
	char *text;                     /* "SIGSEGV | f3 | f2 | f1 | py test_x.py:work" */
	char *frames[SIG_FRAMES];       /* normalized native or Python frames kept */
	size_t nframes;
	char *py_frame;                 /* innermost Python frame "file.py:func", or NULL */
	bool unsymbolized;              /* a kept frame had no symbol (module+offset used) */
};

/* frames innermost first. 0, or -1 if there is nothing to sign (then only the signal). */
int crash_signature(const char *kind, const struct sig_frame *frames, size_t n,
		    struct crash_sig *out);
void crash_sig_release(struct crash_sig *s);

/* "foo.cold.12" -> "foo", "ns::f<int>(char*) const" -> "ns::f<T>", "__GI_raise" -> "raise".
 * malloc'd. */
char *normalize_function(const char *name);
/* Frames that never make a signature (see the list in signature.c). */
bool frame_is_ignored(const char *normalized_function, const char *module);
/* Basename of a .py path, malloc'd. */
char *py_basename(const char *path);
/* 64-bit FNV-1a as 16 hex digits. */
void hash_hex(const char *text, char out[17]);

#endif
