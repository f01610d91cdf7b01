/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_REPORT_SVG_H
#define FTSCOPE_REPORT_SVG_H

/*
 * The HTML report's charts (src/report/report_svg.c), inline SVG; and the colours the page and
 * its charts share (one per category).
 */
#include <stddef.h>

#include "ftscope/category.h"
#include "ftscope/report.h"
#include "ftscope/util.h"

extern const char *const report_cat_colors[CAT_NR];
#define REPORT_OK_COLOR "#2da44e"
#define REPORT_OVER_COLOR "#cf222e"

/* Packages per category (bars). */
void svg_chart_categories(struct sbuf *sb, const struct report *r);
/* Packages per pass-rate bucket. */
void svg_chart_rate_distribution(struct sbuf *sb, const struct report *r);
/* Time and RSS ratios of the packages idx[0..n), with PEP 779's limits. */
void svg_chart_pep779(struct sbuf *sb, const struct report *r, const size_t *idx, size_t n);

#endif
