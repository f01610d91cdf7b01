/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ftscope/category.h"
#include "ftscope/cmd.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/report.h"
#include "ftscope/runstore.h"
#include "ftscope/text.h"
#include "ftscope/util.h"

static const char *const report_usage[] = {
	"usage: ftscope report RUN_DIR [--format markdown|text|html] [-o FILE]",
	"",
	"A run (complete, interrupted or still running) as a document to share: the summary,",
	"crashes with their signatures, deadlocks with their wait-for cycles and blocked Python",
	"frames, intermittent failures, TSAN warnings, C extension compatibility, the GIL",
	"comparison, PEP 779 ratios (time <= 1.15, memory <= 1.20) and crash clusters.",
	"",
	"  RUN_DIR            a run directory, or a results directory (its newest run)",
	"  --format markdown  labeille's report sections, then ftscope's (the default)",
	"  --format text      summary, package table and the \"Investigation Priority\" list",
	"  --format html      one self-contained page: the markdown's tables plus SVG charts",
	"                     (categories, pass rates, PEP 779 ratios); no script, no network",
	"  -o, --output FILE  write FILE (atomically) instead of standard output",
	"  -h, --help         show this help",
	NULL,
};

static void write_markdown(struct sbuf *out, const struct report *r, const char *output)
{
	report_markdown(out, r);
}

static void write_text(struct sbuf *out, const struct report *r, const char *output)
{
	/* symbols as `show` prints them; a file gets ASCII unless FTSCOPE_SYMBOLS says */
	report_text(out, r, category_utf8_ok(output ? -1 : STDOUT_FILENO));
}

static void write_html(struct sbuf *out, const struct report *r, const char *output)
{
	report_html(out, r);
}

/* The formats: a new one is a backend file and one line here (and the usage text). */
static const struct report_format {
	const char *name, *alias;
	void (*write)(struct sbuf *out, const struct report *r, const char *output);
	bool escapes_itself;        /* else the document is made terminal-safe */
	unsigned build;             /* report_build()'s flags: what the format shows */
} formats[] = {
	{ "markdown", "md", write_markdown, false, REPORT_STORIES },
	{ "text", NULL, write_text, false, 0 },
	{ "html", NULL, write_html, true, REPORT_STORIES },
};

struct report_opts {
	const char *dir;
	const struct report_format *format;
	const char *output; /* NULL: stdout */
};

static void print_usage(FILE *f)
{
	for (size_t i = 0; report_usage[i]; i++)
		fprintf(f, "%s\n", report_usage[i]);
}

static void parse_report_options(int argc, char **argv, struct report_opts *opts)
{
	enum { OPT_FORMAT = 0x100 };
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_usage(stdout);
			exit(FT_EXIT_OK);
		case OPT_FORMAT:
			opts->format = NULL;
			for (size_t i = 0; i < ARRAY_SIZE(formats) && !opts->format; i++)
				if (!strcmp(optarg, formats[i].name) ||
				    (formats[i].alias && !strcmp(optarg, formats[i].alias)))
					opts->format = &formats[i];
			if (!opts->format)
				die_usage("report", "--format must be markdown, text or html, not '%s'",
					  optarg);
			break;
		case 'o':
			if (!*optarg)
				die_usage("report", "-o needs a file name");
			opts->output = optarg;
			break;
		default:
			die_bad_option("report", c, argv);
		}
	}
	opts->dir = the_run_dir("report", argc, argv);
}

int cmd_report(int argc, char **argv)
{
	struct report_opts opts = { .format = &formats[0], .output = NULL };
	struct run_view v;
	struct report r;
	struct sbuf out = SBUF_INIT;
	int ret = FT_EXIT_FAILURE;

	parse_report_options(argc, argv, &opts);
	if (runstore_load(opts.dir, &v) < 0)
		return FT_EXIT_FAILURE;

	report_build(&r, &v, opts.format->build);
	opts.format->write(&out, &r, opts.output);
	if (!opts.format->escapes_itself) {
		/* text for terminals and editors: the packages' names and output lines may not
		 * carry control or bidi characters into it (html escapes its own) */
		char *safe = term_escape(out.buf, out.len);
		sbuf_reset(&out);
		sbuf_adds(&out, safe);
		free(safe);
	}

	if (emit_output(opts.output, out.buf, out.len) < 0)
		goto out;
	if (opts.output)
		info("wrote the report of %zu package%s to '%s'", v.n, v.n == 1 ? "" : "s",
		     opts.output);
	ret = FT_EXIT_OK;
out:
	sbuf_release(&out);
	report_release(&r);
	run_view_release(&v);
	return ret;
}
