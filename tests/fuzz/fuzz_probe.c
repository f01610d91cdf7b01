/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * libFuzzer target: the import probe's output (src/run/py/probe_ext.py runs in the package's
 * venv, so the package's import code can print anything before it): the last JSON line
 * (last_json_line) becomes the package's extension_compat, carried with a source scan
 * (srcscan_carry) and aggregated (pkg_aggregate reads its fields, of any type).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "ftscope/results.h"
#include "ftscope/srcscan.h"
#include "ftscope/util.h"
#include "ftscope/workspace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *line;
	cJSON *probe, *pkg, *ext;

	if (size > (1 << 20))
		return 0;
	text = xstrndup((const char *)data, size);
	probe = last_json_line(text);
	free(text);
	if (!probe)
		return 0;
	if (!cJSON_IsObject(probe))
		abort();
	pkg = cJSON_CreateObject();
	cJSON_AddStringToObject(pkg, "package", "fuzz");
	cJSON_AddBoolToObject(pkg, "install_ok", 1);
	cJSON_AddItemToObject(pkg, "iterations", cJSON_CreateArray());
	ext = cJSON_AddObjectToObject(pkg, "extension_compat");
	cJSON_AddItemToObject(ext, "source_scan", cJSON_CreateObject());
	srcscan_carry(pkg, probe);
	cJSON_ReplaceItemInObject(pkg, "extension_compat", probe);
	pkg_aggregate(pkg);
	line = cJSON_PrintUnformatted(pkg);
	if (!line)
		abort();
	free(line);
	cJSON_Delete(pkg);
	return 0;
}
