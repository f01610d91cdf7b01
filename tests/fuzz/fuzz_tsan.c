/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * libFuzzer target: ThreadSanitizer reports (tsan_parse on the raw, not NUL-terminated bytes,
 * then signatures and frames), and the same bytes as a suppressions file applied to them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/error.h"
#include "ftscope/tsan.h"
#include "ftscope/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsan_reports r = TSAN_REPORTS_INIT;
	struct tsan_supp s = TSAN_SUPP_INIT;
	char *text;
	size_t n;
	if (size > (1 << 20))
		return 0;
	/* exactly `size` bytes: an overread past the end is caught by ASan */
	text = xmalloc(size ? size : 1);
	memcpy(text, data, size);
	n = tsan_parse(text, size, &r);
	if (n != r.n)
		abort();
	for (size_t i = 0; i < r.n; i++) {
		const struct tsan_stack *keys[8];
		size_t nk = tsan_key_stacks(&r.v[i], keys, 8);
		if (!r.v[i].kind || !r.v[i].signature || strlen(r.v[i].id) != 16 || nk > 8)
			abort();
		for (size_t k = 0; k < nk; k++) {
			char *top[3];
			size_t nt = tsan_top_frames(keys[k], top, 3);
			for (size_t j = 0; j < nt; j++)
				free(top[j]);
		}
	}
	free(text);
	text = xstrndup((const char *)data, size);
	if (tsan_supp_parse(text, "fuzz", &s) == 0)
		tsan_supp_apply(&s, &r);
	tsan_supp_release(&s);
	/* the first line as a pattern against the rest */
	{
		char *nl = strchr(text, '\n');
		if (nl) {
			*nl = '\0';
			tsan_pattern_match(text, nl + 1);
		}
	}
	free(text);
	tsan_reports_release(&r);
	return 0;
}
