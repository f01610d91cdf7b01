/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_EXIT_H
#define FTSCOPE_EXIT_H

/* Exit codes of every subcommand. */
enum ft_exit {
	FT_EXIT_OK = 0,        /* done; for `run`, every package was processed */
	FT_EXIT_FAILURE = 1,   /* an error stopped the command (message on stderr) */
	FT_EXIT_USAGE = 2,     /* bad command line */
	FT_EXIT_FAIL_ON = 3,   /* `run --fail-on`: a package landed in one of those categories */
	FT_EXIT_INTERRUPTED = 130, /* `run` stopped by SIGINT/SIGTERM; the run dir is valid */
};

#endif
