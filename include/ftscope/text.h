/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_TEXT_H
#define FTSCOPE_TEXT_H

/*
 * Text that a test (or a registry) controls, on its way into ftscope's JSON and onto a
 * terminal. Test output can hold any bytes: invalid UTF-8, NULs, escape sequences, bidi
 * overrides.
 *
 * Into JSON: bytes become a C string with text_from_bytes(), which keeps each NUL as the
 * two-byte mark TEXT_NUL_MARK (an overlong encoding no valid UTF-8 text contains) instead of
 * ending the string there. Every JSON document ftscope writes goes out through
 * json_print() (results.h), which makes every string and key valid UTF-8 (an invalid byte
 * becomes U+FFFD) and writes the mark as \u0000.
 *
 * Onto a terminal: term_escape() writes control characters, invalid bytes and the
 * invisible characters that reorder or hide text (bidi overrides, isolates and marks) as
 * visible escapes (\x1b, \u202e), so a name cannot rewrite what the terminal shows.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

#define TEXT_NUL_MARK "\xC0\x80"

/* len bytes as a NUL-terminated string, each NUL byte written as TEXT_NUL_MARK. malloc'd. */
char *text_from_bytes(const char *buf, size_t len);

/* Length of the valid UTF-8 sequence at p (1-4; *cp its code point), or 0 if p[0..n) does
 * not start one (overlong forms, surrogates and code points past U+10FFFF are invalid). */
size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);

/* s as valid UTF-8: each invalid byte replaced by U+FFFD, TEXT_NUL_MARK kept. NULL when s
 * is valid already (nothing to do); else malloc'd. */
char *utf8_fix(const char *s);

/* A code point that must not reach a terminal raw: C0 controls but \n and \t, DEL, C1
 * controls, and the bidi and zero-width controls (U+061C, U+200B-U+200F, U+202A-U+202E,
 * U+2060-U+2069, U+FEFF). */
bool term_unsafe(uint32_t cp);

/* len bytes of s with term_unsafe characters as \xNN / \uNNNN and invalid bytes as \xNN
 * (a backslash stays as it is). malloc'd, NUL-terminated. */
char *term_escape(const char *s, size_t len);
/* term_escape of a whole string, for printf's %s; NULL gives "". malloc'd. */
char *term_str(const char *s);
/* Does s hold anything term_escape would change? */
bool term_needs_escape(const char *s);

/*
 * When stdout is a terminal, replace it with a stream that term_escape()s everything
 * written (a UTF-8 sequence split between two writes is kept whole), so that no command
 * prints a package's control or bidi characters raw. Not a terminal: stdout stays as it is
 * (files and pipes get the data). main() calls it once.
 */
void term_guard_stdout(void);

/* Test output read or cut (util.h's readers underneath). */
/* A file of test output as one string, its NULs kept as TEXT_NUL_MARK (text.h), read with
 * read_file_at() (util.h); NULL if it cannot be read. malloc'd. */
char *read_text_at(int dirfd, const char *name, size_t max, uid_t owner);
/* Last n bytes of s (at a UTF-8 boundary), its NULs as TEXT_NUL_MARK (text.h), malloc'd. */
char *tail_bytes(const char *s, size_t len, size_t n);

#endif
