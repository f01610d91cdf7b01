/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * libFuzzer target: an iteration.json as `run --resume` reads it back (iteration_parse),
 * then aggregated into a package the way a resumed run does (pkg_aggregate takes the
 * recovered iterations as they are), and printed back as the results line would be.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "ftscope/results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *it, *pkg, *arr;
	char *line;

	if (size > (1 << 20))
		return 0;
	it = iteration_parse((const char *)data, size);
	if (!it)
		return 0;
	pkg = cJSON_CreateObject();
	cJSON_AddStringToObject(pkg, "package", "fuzz");
	cJSON_AddBoolToObject(pkg, "install_ok", 1);
	cJSON_AddBoolToObject(pkg, "import_ok", 1);
	arr = cJSON_AddArrayToObject(pkg, "iterations");
	cJSON_AddItemToArray(arr, cJSON_Duplicate(it, 1));
	cJSON_AddItemToArray(arr, it);
	pkg_aggregate(pkg);
	line = cJSON_PrintUnformatted(pkg);
	if (!line)
		abort();
	free(line);
	cJSON_Delete(pkg);
	return 0;
}
