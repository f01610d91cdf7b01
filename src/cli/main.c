/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <getopt.h>
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
	{ "merge", cmd_merge, "join the runs of a survey's shards (run --shard) into one run" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ftscope [--version] [--help] <command> [<args>]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'ftscope <command> --help' describes a command's options.\n");
}

/*
 * Where saved DWARF line tables live (src/symbolizer/linecache.c): FTSCOPE_SYMBOL_CACHE if set
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

/* Edit distance of a and b with transpositions (optimal string alignment): "rnu" is one
 * edit from "run". Command names are short. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[33][33];
	if (la > 32 || lb > 32)
		return (size_t)-1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

static const struct cmd_struct *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* "'rnu' is not an ftscope command; did you mean 'run'?" and exit 2. */
static _Noreturn void unknown_command(const char *name)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		size_t d = edit_distance(name, commands[i].name);
		if (d < bestd) {
			bestd = d;
			best = commands[i].name;
		}
	}
	/* close enough: one edit, two in a name of six letters or more */
	if (best && bestd > (strlen(best) >= 6 ? 2u : 1u))
		best = NULL;
	fprintf(stderr, "ftscope: error: '%s' is not an ftscope command", name);
	if (best)
		fprintf(stderr, "; did you mean '%s'?\n", best);
	else
		fprintf(stderr, " (ftscope --help lists them)\n");
	exit(FT_EXIT_USAGE);
}

static const char exit_status_help[] =
	"\nExit status: 0 done; 1 an error stopped the command (on stderr); 2 bad usage;\n"
	"3 (run --fail-on) a package landed in one of the given categories; 130 run interrupted.\n";

/* After a command's usage, however it ends (some exit() from their option parsing). */
static void print_exit_status_help(void)
{
	fputs(exit_status_help, stdout);
}

/* `-h` or `--help` among a command's arguments (before `--`). */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const struct cmd_struct *cmd;
	bool help = false;
	int ret;
	opterr = 0; /* commands say what was wrong, in one line (die_bad_option) */
	if (argc < 2) {
		usage(stderr);
		return FT_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    (!strcmp(argv[1], "help") && argc == 2)) {
		usage(stdout);
		return FT_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("ftscope %s\n", FTSCOPE_VERSION);
		return FT_EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		/* `ftscope help CMD` is `ftscope CMD --help` */
		argv++;
		argc--;
		help = true;
	}
	cmd = find_command(argv[1]);
	if (!cmd)
		unknown_command(argv[1]);
	if (help || wants_help(argc - 1, argv + 1)) {
		char *hargv[] = { argv[1], (char *)"--help", NULL };
		atexit(print_exit_status_help);
		return cmd->fn(2, hargv);
	}
	symbol_cache_setup();
	term_guard_stdout(); /* names and output of packages: nothing raw on a terminal */
	ret = cmd->fn(argc - 1, argv + 1);
	/* A full disk or closed pipe must not pass as success (git's run_builtin). */
	if (fflush(stdout) || ferror(stdout)) {
		if (errno != EPIPE)
			die_errno("write failure on standard output");
	}
	return ret;
}
