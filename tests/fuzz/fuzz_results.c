/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * libFuzzer target: a run directory's ft_results.jsonl (run_load: truncated lines, duplicate
 * packages, anything), then every loaded package re-aggregated (pkg_aggregate reads whatever
 * "iterations" hold: types are not trusted). The input is written to a private temporary
 * run directory, made once.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/results.h"
#include "ftscope/rundir.h"
#include "ftscope/util.h"
#include "rundir_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run_data rd = { 0 };
	if (size > (1 << 20))
		return 0;
	if (run_load(rundir_input(data, size), &rd) == 0) {
		for (size_t i = 0; i < rd.n; i++) {
			cJSON *copy = cJSON_Duplicate(rd.pkgs[i], true);
			if (cJSON_IsObject(copy))
				pkg_aggregate(copy);
			cJSON_Delete(copy);
		}
		run_data_release(&rd);
	}
	return 0;
}
