/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* libFuzzer target: registry YAML (yaml_to_json, libyaml -> cJSON). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "ftscope/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *j = NULL;
	char *err = NULL;
	if (size > (1 << 20))
		return 0;
	if (yaml_to_json((const char *)data, size, &j, &err) == 0) {
		char *s = cJSON_PrintUnformatted(j);
		free(s);
	} else if (!err) {
		abort(); /* an error always says why */
	}
	cJSON_Delete(j);
	free(err);
	return 0;
}
