/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ftscope/category.h"
#include "ftscope/util.h"

static const struct category_info {
	const char *name;
	const char *label;
	const char *symbol;     /* labeille's FailureCategory.symbol, UTF-8 */
	int symbol_width;       /* terminal columns: East Asian Wide emoji take 2 */
	const char *ascii;
	bool usable;
} categories[CAT_NR] = {
	[CAT_COMPATIBLE] = { "compatible", "Compatible", "\u2713", 1, "+", true },
	[CAT_COMPATIBLE_BY_WHEEL] = { "compatible_by_wheel", "Compatible by wheel", "\u2295", 1,
				      "w", true },
	[CAT_COMPATIBLE_GIL_FALLBACK] = { "compatible_gil_fallback", "Compatible (GIL fallback)",
					  "\u26a0", 1, "g", true },
	[CAT_TSAN_WARNINGS] = { "tsan_warnings", "TSAN warnings", "\u26a1", 2, "t", true },
	[CAT_INTERMITTENT] = { "intermittent", "Intermittent", "~", 1, "~", true },
	[CAT_INCOMPATIBLE] = { "incompatible", "Incompatible", "\u2717", 1, "x", false },
	[CAT_CRASH] = { "crash", "Crash", "\U0001f4a5", 2, "!", false },
	[CAT_DEADLOCK] = { "deadlock", "Deadlock", "\U0001f512", 2, "D", false },
	[CAT_INSTALL_FAILURE] = { "install_failure", "Install failure", "\u2699", 1, "#", false },
	[CAT_IMPORT_FAILURE] = { "import_failure", "Import failure", "\U0001f4e6", 2, "@", false },
	[CAT_UNKNOWN] = { "unknown", "Unknown", "?", 1, "?", false },
};

static const struct category_info *info_of(enum ft_category c)
{
	if ((unsigned)c >= CAT_NR)
		c = CAT_UNKNOWN;
	return &categories[c];
}

const char *category_name(enum ft_category c)
{
	return info_of(c)->name;
}

const char *category_label(enum ft_category c)
{
	return info_of(c)->label;
}

int category_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < CAT_NR; i++) {
		if (!strcmp(name, categories[i].name))
			return i;
	}
	return -1;
}

enum ft_category category_parse(const char *name)
{
	int c = category_from_name(name);
	return c < 0 ? CAT_UNKNOWN : (enum ft_category)c;
}

int category_severity(enum ft_category c)
{
	/* labeille: compatible_by_wheel is as severe as compatible (0), the rest follow */
	if ((unsigned)c >= CAT_NR)
		c = CAT_UNKNOWN;
	return c <= CAT_COMPATIBLE_BY_WHEEL ? 0 : (int)c - 1;
}

bool category_is_usable(enum ft_category c)
{
	return info_of(c)->usable;
}

const char *category_symbol(enum ft_category c, bool utf8)
{
	return utf8 ? info_of(c)->symbol : info_of(c)->ascii;
}

int category_symbol_width(enum ft_category c, bool utf8)
{
	return utf8 ? info_of(c)->symbol_width : 1;
}

static bool locale_is_utf8(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_CTYPE", "LANG" };
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *v = getenv(vars[i]);
		if (!v || !*v)
			continue;
		/* the first one set decides, as setlocale() would */
		return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
	}
	return false;
}

bool category_utf8_ok(int fd)
{
	const char *force = getenv("FTSCOPE_SYMBOLS");
	if (force && !strcmp(force, "unicode"))
		return true;
	if (force && !strcmp(force, "ascii"))
		return false;
	return isatty(fd) && locale_is_utf8();
}
