/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_CMD_H
#define FTSCOPE_CMD_H

/*
 * How to add a subcommand:
 *  1. write src/cmd_<name>.c with one non-static `int cmd_<name>(int argc, char **argv)`;
 *     argv[0] is the subcommand name; the return value is the exit status (exit.h);
 *     `--help` prints usage to stdout and returns 0; usage errors go through die_usage().
 *  2. declare it below and add a row to the table in src/cli/main.c;
 *  3. add an e2e test (tests/e2e/tNNNN-<name>-*.sh) and document it in README.md.
 * The Makefile picks up every C file in src/ by itself.
 */
int cmd_run(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_deadlocks(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_flaky(int argc, char **argv);
int cmd_crashes(int argc, char **argv);
int cmd_compat(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_merge(int argc, char **argv);

#endif
