/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* Untrusted text into JSON and onto terminals (include/ftscope/text.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/text.h"
#include "ftscope/util.h"

#include <unistd.h>

char *text_from_bytes(const char *buf, size_t len)
{
	size_t nuls = 0;
	char *out, *o;

	for (const char *p = buf; (p = memchr(p, '\0', (size_t)(buf + len - p))); p++)
		nuls++;
	o = out = xmalloc(len + nuls + 1);
	for (size_t i = 0; i < len; i++) {
		if (buf[i]) {
			*o++ = buf[i];
		} else {
			memcpy(o, TEXT_NUL_MARK, 2);
			o += 2;
		}
	}
	*o = '\0';
	return out;
}

size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len;

	if (!n)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] < 0xC2 || p[0] > 0xF4) /* continuation byte, overlong lead, past U+10FFFF */
		return 0;
	len = p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
	if (n < len)
		return 0;
	c = p[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static bool is_nul_mark(const unsigned char *p, size_t n)
{
	return n >= 2 && p[0] == 0xC0 && p[1] == 0x80;
}

char *utf8_fix(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k;
	struct sbuf sb = SBUF_INIT;
	uint32_t cp;

	while (i < n && ((k = utf8_decode(p + i, n - i, &cp)) || is_nul_mark(p + i, n - i)))
		i += k ? k : 2;
	if (i == n)
		return NULL;
	sbuf_add(&sb, s, i);
	while (i < n) {
		if ((k = utf8_decode(p + i, n - i, &cp))) {
			sbuf_add(&sb, s + i, k);
			i += k;
		} else if (is_nul_mark(p + i, n - i)) {
			sbuf_add(&sb, TEXT_NUL_MARK, 2);
			i += 2;
		} else {
			sbuf_adds(&sb, "\xEF\xBF\xBD"); /* U+FFFD */
			i++;
		}
	}
	return sbuf_detach(&sb);
}

bool term_unsafe(uint32_t cp)
{
	return (cp < 0x20 && cp != '\n' && cp != '\t') || (cp >= 0x7F && cp < 0xA0) ||
	       cp == 0x061C || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF;
}

char *term_escape(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	struct sbuf sb = SBUF_INIT;
	uint32_t cp;
	size_t k;

	sbuf_add(&sb, "", 0);
	for (size_t i = 0; i < len; i += k) {
		k = utf8_decode(p + i, len - i, &cp);
		if (!k) {
			sbuf_addf(&sb, "\\x%02x", p[i]);
			k = 1;
		} else if (!term_unsafe(cp)) {
			sbuf_add(&sb, s + i, k);
		} else if (cp < 0x80) {
			sbuf_addf(&sb, "\\x%02x", (unsigned)cp);
		} else {
			sbuf_addf(&sb, "\\u%04x", (unsigned)cp);
		}
	}
	return sbuf_detach(&sb);
}

char *term_str(const char *s)
{
	return s ? term_escape(s, strlen(s)) : xstrdup("");
}

bool term_needs_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = s ? strlen(s) : 0, k;
	uint32_t cp;

	for (size_t i = 0; i < n; i += k)
		if (!(k = utf8_decode(p + i, n - i, &cp)) || term_unsafe(cp))
			return true;
	return false;
}

struct guard {
	int fd;
	unsigned char carry[4]; /* the start of a UTF-8 sequence the next write completes */
	size_t ncarry;
};

static int guard_out(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Bytes at the end of p[0..n) that start a UTF-8 sequence longer than what is there. */
static size_t incomplete_tail(const unsigned char *p, size_t n)
{
	for (size_t k = 1; k <= 3 && k <= n; k++) {
		unsigned char c = p[n - k];
		if ((c & 0xC0) == 0x80)
			continue;
		if (c >= 0xC2 && c <= 0xF4 && (size_t)(c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4) > k)
			return k;
		return 0;
	}
	return 0;
}

static ssize_t guard_write(void *cookie, const char *buf, size_t n)
{
	struct guard *g = cookie;
	struct sbuf in = SBUF_INIT;
	size_t keep;
	char *esc;
	int r;

	sbuf_add(&in, g->carry, g->ncarry);
	sbuf_add(&in, buf, n);
	keep = incomplete_tail((const unsigned char *)in.buf, in.len);
	g->ncarry = keep;
	memcpy(g->carry, in.buf + in.len - keep, keep);
	esc = term_escape(in.buf, in.len - keep);
	r = guard_out(g->fd, esc, strlen(esc));
	free(esc);
	sbuf_release(&in);
	return r < 0 ? -1 : (ssize_t)n;
}

static int guard_close(void *cookie)
{
	struct guard *g = cookie;
	char *esc = term_escape((const char *)g->carry, g->ncarry); /* a sequence never ended */
	int r = guard_out(g->fd, esc, strlen(esc));
	free(esc);
	free(g);
	return r;
}

void term_guard_stdout(void)
{
	cookie_io_functions_t io = { .write = guard_write, .close = guard_close };
	struct guard *g;
	FILE *f;

	if (!isatty(STDOUT_FILENO))
		return;
	g = xcalloc(1, sizeof(*g));
	g->fd = STDOUT_FILENO;
	f = fopencookie(g, "w", io);
	if (!f) {
		free(g);
		return;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	fflush(stdout);
	stdout = f;
}

char *read_text_at(int dirfd, const char *name, size_t max, uid_t owner)
{
	char *raw = NULL, *text;
	size_t len = 0;
	if (read_file_at(dirfd, name, max, owner, &raw, &len) < 0)
		return NULL;
	if (!memchr(raw, '\0', len))
		return raw;
	text = text_from_bytes(raw, len);
	free(raw);
	return text;
}

char *tail_bytes(const char *s, size_t len, size_t n)
{
	const char *p;
	if (len <= n)
		return text_from_bytes(s, len);
	p = s + len - n;
	while (p < s + len && ((unsigned char)*p & 0xC0) == 0x80)
		p++; /* do not start inside a UTF-8 sequence */
	return text_from_bytes(p, (size_t)(s + len - p));
}
