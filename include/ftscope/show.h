/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_SHOW_H
#define FTSCOPE_SHOW_H

/* `ftscope show RUN_DIR`'s summary on stdout, default order, every row: what a run prints
 * at its end (src/cli/cmd_show.c). Returns an exit status (exit.h). */
int show_run_summary(const char *run_dir);

#endif
