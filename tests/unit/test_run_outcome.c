/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* run_outcome.c: --fail-on's categories and the progress line. */
#include <string.h>

#include "ftscope/category.h"
#include "ftscope/run_outcome.h"
#include "ftscope/util.h"
#include "tap.h"

int main(void)
{
	static const int counts[5] = { 3, 1, 0, 0, 2 };
	struct sbuf sb = SBUF_INIT;
	const char *bad = NULL;
	unsigned mask = 0;

	ok(fail_on_parse("deadlock,crash,intermittent", &mask, &bad) == 0 &&
	   mask == (1u << CAT_DEADLOCK | 1u << CAT_CRASH | 1u << CAT_INTERMITTENT),
	   "fail_on_parse: three categories");
	ok(fail_on_parse("all-failing", &mask, &bad) == 0 && !(mask & 1u << CAT_COMPATIBLE) &&
	   (mask & 1u << CAT_DEADLOCK) && (mask & 1u << CAT_IMPORT_FAILURE) &&
	   !(mask & 1u << CAT_INTERMITTENT), "fail_on_parse: all-failing is the unusable ones");
	ok(fail_on_parse("deadlock,crashes", &mask, &bad) < 0 && bad && !strcmp(bad, "crashes"),
	   "fail_on_parse: names the bad word");
	ok(fail_on_parse("compatible_by_wheel", &mask, &bad) == 0 &&
	   mask == 1u << CAT_COMPATIBLE_BY_WHEEL,
	   "fail_on_parse: compatible_by_wheel is its own category, not compatible");

	progress_line(&sb, 80, 3, 10, "a-package-with-a-really-very-long-name-indeed", "test", 4,
		      10, counts, 125);
	ok(sb.len <= 79, "progress: fits 80 columns (%zu: %s)", sb.len, sb.buf);
	ok(strstr(sb.buf, "ETA 0:") != NULL, "progress: with an ETA");
	ok(strstr(sb.buf, "deadlock 2") && !strstr(sb.buf, "crash 0"), "progress: counts at 0 left out");
	ok(strstr(sb.buf, "[3/10] a-package") == sb.buf, "progress: the package, shortened");
	sbuf_reset(&sb);
	progress_line(&sb, 60, 3, 10, "pkg", "test", 4, 10, counts, 125);
	ok(sb.len <= 59 && !strstr(sb.buf, "ETA"), "progress: 60 columns: no room for the ETA (%s)", sb.buf);
	sbuf_reset(&sb);
	progress_line(&sb, 80, 1, 10, "pkg", "setup", 0, 10, counts, 1);
	ok(!strstr(sb.buf, "ETA"), "progress: no ETA before anything is done");
	sbuf_release(&sb);
	return tap_done();
}
