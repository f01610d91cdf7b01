/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_CSV_H
#define FTSCOPE_CSV_H

/*
 * RFC 4180 CSV, written the way Python's csv.writer does by default (what labeille's
 * `ft export` used): fields separated by ',', rows ended by CRLF, a field quoted only when
 * it holds ',', '"', CR or LF, '"' doubled inside quotes. A NULL field is empty; a row made
 * of one empty field is written as "" so that it is not a blank line.
 *
 *   struct csv_out c = CSV_OUT_INIT;
 *   csv_add_field(&c, "a,b"); csv_add_field(&c, "c"); csv_end_row(&c);
 *   -> c.sb.buf == "\"a,b\",c\r\n"
 *   csv_out_release(&c);
 */
#include <stdbool.h>
#include <stddef.h>

#include "ftscope/util.h"

struct csv_out {
	struct sbuf sb;  /* the CSV text so far */
	size_t col;      /* fields in the current row */
	bool row_empty;  /* every field of the current row was empty */
};
#define CSV_OUT_INIT { SBUF_INIT, 0, true }
void csv_out_release(struct csv_out *c);

/* Append one field (NULL = empty). */
void csv_add_field(struct csv_out *c, const char *s);
/* A formatted field (quoted as needed, like any other). */
void csv_add_fieldf(struct csv_out *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Python's str(bool): "True" / "False". */
void csv_add_bool(struct csv_out *c, bool b);
/* A float as Python prints round(v, ndigits), see csv_format_rounded(). */
void csv_add_rounded(struct csv_out *c, double v, int ndigits);
/* End the row with CRLF. */
void csv_end_row(struct csv_out *c);

/* Whether s must be quoted. */
bool csv_needs_quotes(const char *s);
/*
 * v with at most ndigits decimals, trailing zeros dropped but one kept, the way Python
 * prints round(v, ndigits): "1.0", "0.3333", "12.5". "-0.0" is printed "0.0". Returns buf
 * (n >= 32 is always enough for ndigits <= 6 and |v| < 1e18).
 */
char *csv_format_rounded(char *buf, size_t n, double v, int ndigits);

#endif
