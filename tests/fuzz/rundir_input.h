/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * For fuzz targets that read a run directory: the input becomes the ft_results.jsonl of a
 * private temporary run directory, made at the first call and removed at exit. Returns the
 * directory.
 */
#ifndef FTSCOPE_FUZZ_RUNDIR_INPUT_H
#define FTSCOPE_FUZZ_RUNDIR_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ftscope/util.h"

static char rundir_input_dir[] = "/tmp/ftscope-fuzz-run.XXXXXX";
static char *rundir_input_results;

static void rundir_input_cleanup(void)
{
	if (rundir_input_results) {
		unlink(rundir_input_results);
		rmdir(rundir_input_dir);
	}
}

static const char *rundir_input(const uint8_t *data, size_t size)
{
	FILE *f;
	if (!rundir_input_results) {
		if (!mkdtemp(rundir_input_dir))
			abort();
		rundir_input_results = path_join(rundir_input_dir, "ft_results.jsonl");
		atexit(rundir_input_cleanup);
	}
	f = fopen(rundir_input_results, "w");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	return rundir_input_dir;
}

#endif
