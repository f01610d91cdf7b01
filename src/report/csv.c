/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/csv.h"
#include "ftscope/error.h"

void csv_out_release(struct csv_out *c)
{
	sbuf_release(&c->sb);
	c->col = 0;
	c->row_empty = true;
}

bool csv_needs_quotes(const char *s)
{
	return s && s[strcspn(s, ",\"\r\n")] != '\0';
}

void csv_add_field(struct csv_out *c, const char *s)
{
	if (c->col++)
		sbuf_addc(&c->sb, ',');
	if (!s || !*s)
		return;
	c->row_empty = false;
	if (!csv_needs_quotes(s)) {
		sbuf_adds(&c->sb, s);
		return;
	}
	sbuf_addc(&c->sb, '"');
	for (; *s; s++) {
		if (*s == '"')
			sbuf_addc(&c->sb, '"');
		sbuf_addc(&c->sb, *s);
	}
	sbuf_addc(&c->sb, '"');
}

void csv_add_fieldf(struct csv_out *c, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("out of memory formatting a CSV field");
	csv_add_field(c, s);
	free(s);
}

void csv_add_bool(struct csv_out *c, bool b)
{
	csv_add_field(c, b ? "True" : "False");
}

void csv_add_rounded(struct csv_out *c, double v, int ndigits)
{
	char buf[64];
	csv_add_field(c, csv_format_rounded(buf, sizeof(buf), v, ndigits));
}

void csv_end_row(struct csv_out *c)
{
	if (c->col == 1 && c->row_empty)
		sbuf_adds(&c->sb, "\"\"");
	sbuf_adds(&c->sb, "\r\n");
	c->col = 0;
	c->row_empty = true;
}

char *csv_format_rounded(char *buf, size_t n, double v, int ndigits)
{
	char *dot, *end;
	if (!isfinite(v)) {
		snprintf(buf, n, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
		return buf;
	}
	snprintf(buf, n, "%.*f", ndigits, v);
	if (buf[0] == '-' && buf[1 + strspn(buf + 1, "0.")] == '\0')
		memmove(buf, buf + 1, strlen(buf)); /* "-0.00" */
	dot = strchr(buf, '.');
	if (!dot) {
		size_t len = strlen(buf);
		if (len + 3 <= n)
			memcpy(buf + len, ".0", 3);
		return buf;
	}
	end = buf + strlen(buf) - 1;
	while (end > dot + 1 && *end == '0')
		*end-- = '\0';
	return buf;
}
