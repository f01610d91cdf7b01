/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_CATEGORY_H
#define FTSCOPE_CATEGORY_H

/*
 * The package categories (reference/labeille-ft.md §1.3), shared by every reader of a run
 * (show, export, report, compare...). The enum order *is* labeille's severity order, from
 * "works" to "could not even be tested", so sorting by the enum value sorts by severity.
 * The names are the strings stored in ft_results.jsonl's "category".
 */
#include <stdbool.h>

enum ft_category {
	CAT_COMPATIBLE,              /* all iterations pass */
	CAT_COMPATIBLE_BY_WHEEL,     /* --trust-ft-wheels: a published free-threaded wheel, and
					its tests passed (or none ran: -any-version) */
	CAT_COMPATIBLE_GIL_FALLBACK, /* all pass, but an extension re-enabled the GIL */
	CAT_TSAN_WARNINGS,           /* all pass, ThreadSanitizer reported races */
	CAT_INTERMITTENT,            /* 0 < pass rate < 1, no crash or deadlock */
	CAT_INCOMPATIBLE,            /* pass rate 0, no crash or deadlock */
	CAT_CRASH,                   /* at least one iteration crashed */
	CAT_DEADLOCK,                /* at least one iteration deadlocked */
	CAT_INSTALL_FAILURE,         /* clone, venv or install failed */
	CAT_IMPORT_FAILURE,          /* the import probe failed */
	CAT_UNKNOWN,                 /* no iteration completed */
	CAT_NR
};

/* "compatible", "compatible_gil_fallback", ...: the stored name. Static string. */
const char *category_name(enum ft_category c);
/* "Compatible", "Compatible (GIL fallback)", ...: for people. Static string. */
const char *category_label(enum ft_category c);

/*
 * The category for a stored name, or -1 if name is NULL or not a category name.
 */
int category_from_name(const char *name);
/* Like category_from_name(), but CAT_UNKNOWN for anything unrecognised. */
enum ft_category category_parse(const char *name);

/* 0 (compatible, compatible_by_wheel) .. 9 (unknown): labeille's FailureCategory.severity. */
int category_severity(enum ft_category c);
/* Works at least sometimes: compatible*, tsan_warnings, intermittent. */
bool category_is_usable(enum ft_category c);

/*
 * Display symbol: labeille's (✓ ⊕ ⚠ ⚡ ~ ✗ 💥 🔒 ⚙ 📦 ?) when utf8, otherwise one printable
 * ASCII character (+ w g t ~ x ! D # @ ?). Static string. category_symbol_width() is the
 * number of terminal columns it takes (the emoji take 2), for aligning tables.
 */
const char *category_symbol(enum ft_category c, bool utf8);
int category_symbol_width(enum ft_category c, bool utf8);

/*
 * Whether fd is a terminal whose locale (LC_ALL, else LC_CTYPE, else LANG) is UTF-8, i.e.
 * whether symbols and box-drawing characters can be printed to it. FTSCOPE_SYMBOLS=unicode
 * or =ascii in the environment overrides the guess.
 */
bool category_utf8_ok(int fd);

#endif
