/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* libFuzzer target: `python -m unittest -v` output (unittest_parse). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/testreport.h"
#include "ftscope/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct test_report r = { 0 };
	char *text = xstrndup((const char *)data, size);
	if (unittest_parse(text, &r)) {
		if (!r.have_counts || r.passed < 0 || r.failed < 0 || r.errored < 0 ||
		    r.skipped < 0)
			abort();
		for (size_t i = 0; i < r.n; i++)
			if (!r.tests[i].id || !r.tests[i].outcome)
				abort();
	} else if (r.n || r.have_counts) {
		abort(); /* "r is then untouched" */
	}
	test_report_release(&r);
	free(text);
	return 0;
}
