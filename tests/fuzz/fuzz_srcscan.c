/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * libFuzzer target: the source scan (srcscan_buffer) of one file of the package's tree,
 * whose type the first byte picks (C, C++, Cython, Python, Rust, setup.py, setup.cfg,
 * pyproject.toml, meson.build, CMakeLists.txt), then its JSON (srcscan_json).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/srcscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
	"src/mod.c",	  "src/mod.cpp",	 "pkg/_speedups.pyx", "pkg/defs.pxd",
	"pkg/__init__.py", "src/lib.rs",	 "setup.py",	      "setup.cfg",
	"pyproject.toml", "meson.build",	 "CMakeLists.txt",    "include/mod.h",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srcscan s = SRCSCAN_INIT;
	const char *name;
	cJSON *j;

	if (size < 1 || size > (1 << 20))
		return 0;
	name = names[data[0] % (sizeof(names) / sizeof(names[0]))];
	srcscan_buffer(&s, name, (const char *)data + 1, size - 1);
	for (size_t i = 0; i < s.n; i++)
		if (!s.decls[i].file || s.decls[i].line < 1 || !s.decls[i].line_text ||
		    strlen(s.decls[i].line_text) > 200)
			abort();
	j = srcscan_json(&s);
	if (!j)
		abort();
	cJSON_Delete(j);
	srcscan_release(&s);
	return 0;
}
