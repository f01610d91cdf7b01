/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ftscope/cmd.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/symbolizer.h"
#include "ftscope/text.h"
#include "ftscope/util.h"
#include "ftscope/version.h"

static const struct cmd_struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{ "run", cmd_run, "run package test suites under free-threaded CPython" },
	{ "show", cmd_show, "summarise a run: categories and a per-package table" },
	{ "export", cmd_export, "export a run's package results as CSV or JSON" },
	{ "deadlocks", cmd_deadlocks, "threads, stacks, lock owners and cycles of hung iterations" },
	{ "dump", cmd_dump, "snapshot a live process: every thread's stacks and lock waits" },
	{ "doctor", cmd_doctor, "what this host allows (ptrace, cgroups, BPF); check a Python" },
	{ "report", cmd_report, "a run as a markdown, text or self-contained HTML report" },
	{ "flaky", cmd_flaky, "per-test flakiness: failure rates, intervals, patterns, streaks" },
	{ "crashes", cmd_crashes, "crash-signature clusters across iterations, packages and runs" },
	{ "compat", cmd_compat, "extension modules: GIL fallback and free-threading declarations" },
	{ "compare", cmd_compare, "what changed between two runs: categories, crashes, deadlocks" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ftscope [--version] [--help] <command> [<args>]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'ftscope <command> --help' describes a command's options.\n");
}

/*
 * Where saved DWARF line tables live (symbolizer/linecache.c): FTSCOPE_SYMBOL_CACHE if set
 * ("" turns the cache off), else ${FTSCOPE_CACHE:-/var/cache/ftscope}/symbols for root
 * (beside the interpreter cache), else ${XDG_CACHE_HOME:-~/.cache}/ftscope/symbols.
 */
static void symbol_cache_setup(void)
{
	const char *env = getenv("FTSCOPE_SYMBOL_CACHE"), *base;
	char *dir = NULL;

	if (env) {
		symbolizer_set_cache_dir(env);
		return;
	}
	if (geteuid() == 0) {
		base = getenv("FTSCOPE_CACHE");
		dir = path_join(base && *base ? base : "/var/cache/ftscope", "symbols");
	} else if ((base = getenv("XDG_CACHE_HOME")) && *base == '/') {
		dir = path_join(base, "ftscope/symbols");
	} else if ((base = getenv("HOME")) && *base == '/') {
		dir = path_join(base, ".cache/ftscope/symbols");
	}
	symbolizer_set_cache_dir(dir);
	free(dir);
}

int main(int argc, char **argv)
{
	int ret;
	if (argc < 2) {
		usage(stderr);
		return FT_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return FT_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("ftscope %s\n", FTSCOPE_VERSION);
		return FT_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		symbol_cache_setup();
		term_guard_stdout(); /* names and output of packages: nothing raw on a terminal */
		ret = commands[i].fn(argc - 1, argv + 1);
		/* A full disk or closed pipe must not pass as success (git's run_builtin). */
		if (fflush(stdout) || ferror(stdout)) {
			if (errno != EPIPE)
				die_errno("write failure on standard output");
		}
		return ret;
	}
	fprintf(stderr, "ftscope: error: '%s' is not an ftscope command\n", argv[1]);
	usage(stderr);
	return FT_EXIT_USAGE;
}
