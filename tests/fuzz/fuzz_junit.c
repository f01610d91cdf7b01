/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * libFuzzer target: JUnit XML (junit_parse_buf, libxml2) and pytest's summary line
 * (pytest_summary_parse) on the same bytes. `make fuzz` builds and runs it.
 */
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
	char *text;
	if (size > (1 << 20))
		return 0;
	junit_parse_buf((const char *)data, size, &r);
	for (size_t i = 0; i < r.n; i++)
		if (!r.tests[i].id || !r.tests[i].outcome)
			abort();
	test_report_release(&r);
	text = xstrndup((const char *)data, size);
	pytest_summary_parse(text, &r);
	test_report_release(&r);
	free(text);
	return 0;
}
