/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * JSON documents as events (include/ftscope/jsonout.h): a cJSON backend, a streaming
 * backend in json_print()'s format (results.c), and a replay of cJSON trees.
 *
 * Why a streaming backend: a 101-thread dump is ~20,000 JSON values. Building the tree,
 * printing it and freeing it was half of the instructions of a whole `ftscope dump`, and
 * cJSON prints every number with "%1.15g" and reads it back with sscanf to check it.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/jsonout.h"
#include "ftscope/text.h"

/* ---- cJSON tree ---- */

static void cj_add(struct jsonout_cjson *b, const char *key, cJSON *item)
{
	cJSON *parent;
	if (!b->depth) {
		if (!b->root)
			b->root = item;
		else
			cJSON_Delete(item);
		return;
	}
	parent = b->stack[b->depth - 1];
	if (cJSON_IsArray(parent))
		cJSON_AddItemToArray(parent, item);
	else
		cJSON_AddItemToObject(parent, key, item);
}

static void cj_open(struct jsonout *o, const char *key, bool array)
{
	struct jsonout_cjson *b = (struct jsonout_cjson *)o;
	cJSON *item = array ? cJSON_CreateArray() : cJSON_CreateObject();
	cj_add(b, key, item);
	if (b->depth < JSONOUT_MAX_DEPTH)
		b->stack[b->depth++] = item;
}

static void cj_close(struct jsonout *o)
{
	struct jsonout_cjson *b = (struct jsonout_cjson *)o;
	if (b->depth)
		b->depth--;
}

static void cj_str(struct jsonout *o, const char *key, const char *v)
{
	cj_add((struct jsonout_cjson *)o, key, v ? cJSON_CreateString(v) : cJSON_CreateNull());
}

static void cj_num(struct jsonout *o, const char *key, double v)
{
	cj_add((struct jsonout_cjson *)o, key, cJSON_CreateNumber(v));
}

static void cj_bool(struct jsonout *o, const char *key, bool v)
{
	cj_add((struct jsonout_cjson *)o, key, cJSON_CreateBool(v));
}

static const struct jsonout_ops cjson_ops = { cj_open, cj_close, cj_str, cj_num, cj_bool };

void jsonout_cjson_init(struct jsonout_cjson *b)
{
	memset(b, 0, sizeof(*b));
	b->o.ops = &cjson_ops;
}

cJSON *jsonout_cjson_result(struct jsonout_cjson *b)
{
	cJSON *r = b->root;
	b->root = NULL;
	return r;
}

/* ---- streaming, in json_print()'s format ---- */

/* Output goes through the stream's own buffer, written out in large pieces: a dump is
 * ~200,000 small pieces (keys, tabs, values), and stdio's per-call work was most of it. */
static void flush_out(struct jsonout_stream *s)
{
	if (s->len)
		fwrite(s->buf, 1, s->len, s->f);
	s->len = 0;
}

static void out(struct jsonout_stream *s, const void *p, size_t n)
{
	if (s->len + n > sizeof(s->buf)) {
		flush_out(s);
		if (n > sizeof(s->buf)) {
			fwrite(p, 1, n, s->f);
			return;
		}
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void out_c(struct jsonout_stream *s, char c)
{
	if (s->len == sizeof(s->buf))
		flush_out(s);
	s->buf[s->len++] = c;
}

#define OUT_LIT(s, lit) out((s), (lit), sizeof(lit) - 1)

static void tabs(struct jsonout_stream *s, int n)
{
	static const char t[JSONOUT_MAX_DEPTH] = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t"
						  "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";
	if (n > 0)
		out(s, t, (size_t)(n < JSONOUT_MAX_DEPTH ? n : JSONOUT_MAX_DEPTH));
}

/* Bytes cJSON's print_string_ptr escapes: ", \ and everything below 32; and the bytes past
 * ASCII, checked as UTF-8 as json_print() does. */
static const unsigned char needs_escape[256] = {
	[0 ... 31] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 2,
};

/* json_print()'s string (results.c): cJSON's print_string_ptr (", \ and the C escapes; other
 * control bytes as \u00XX) of the string made valid UTF-8 (utf8_fix: an invalid byte as
 * U+FFFD), TEXT_NUL_MARK as \u0000. Runs that need no escape are copied in one go. */
static void put_string(struct jsonout_stream *s, const char *str)
{
	const unsigned char *p = (const unsigned char *)str;

	out_c(s, '"');
	for (;;) {
		const unsigned char *q = p;
		char esc[8];
		while (!needs_escape[*q])
			q++;
		if (q > p)
			out(s, p, (size_t)(q - p));
		p = q;
		if (!*p)
			break;
		if (needs_escape[*p] == 2) {
			size_t n = strnlen((const char *)p, 4), k;
			uint32_t cp;
			if ((k = utf8_decode(p, n, &cp))) {
				out(s, p, k);
				p += k;
			} else if (n >= 2 && !memcmp(p, TEXT_NUL_MARK, 2)) {
				OUT_LIT(s, "\\u0000");
				p += 2;
			} else {
				OUT_LIT(s, "\xEF\xBF\xBD"); /* U+FFFD */
				p++;
			}
			continue;
		}
		switch (*p) {
		case '"':
			OUT_LIT(s, "\\\"");
			break;
		case '\\':
			OUT_LIT(s, "\\\\");
			break;
		case '\b':
			OUT_LIT(s, "\\b");
			break;
		case '\f':
			OUT_LIT(s, "\\f");
			break;
		case '\n':
			OUT_LIT(s, "\\n");
			break;
		case '\r':
			OUT_LIT(s, "\\r");
			break;
		case '\t':
			OUT_LIT(s, "\\t");
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			out(s, esc, 6);
		}
		p++;
	}
	out_c(s, '"');
}

/* What goes before a value: the separator after the previous item, the indentation and the
 * key inside an object. */
static void before_value(struct jsonout_stream *s, const char *key)
{
	int d = s->depth;
	if (!d)
		return;
	if (s->array[d - 1]) {
		if (s->items[d - 1])
			OUT_LIT(s, ", ");
	} else {
		if (s->items[d - 1])
			OUT_LIT(s, ",\n");
		tabs(s, d);
		put_string(s, key ? key : "");
		OUT_LIT(s, ":\t");
	}
	s->items[d - 1]++;
}

static void st_open(struct jsonout *o, const char *key, bool array)
{
	struct jsonout_stream *s = (struct jsonout_stream *)o;
	before_value(s, key);
	if (array)
		out_c(s, '[');
	else
		OUT_LIT(s, "{\n");
	if (s->depth < JSONOUT_MAX_DEPTH) {
		s->array[s->depth] = array;
		s->items[s->depth] = 0;
		s->depth++;
	}
}

static void st_close(struct jsonout *o)
{
	struct jsonout_stream *s = (struct jsonout_stream *)o;
	if (!s->depth)
		return;
	s->depth--;
	if (s->array[s->depth]) {
		out_c(s, ']');
	} else {
		if (s->items[s->depth])
			out_c(s, '\n');
		tabs(s, s->depth);
		out_c(s, '}');
	}
	if (!s->depth)
		flush_out(s); /* the document is complete */
}

static void st_str(struct jsonout *o, const char *key, const char *v)
{
	struct jsonout_stream *s = (struct jsonout_stream *)o;
	before_value(s, key);
	if (v)
		put_string(s, v);
	else
		OUT_LIT(s, "null");
}

/* cJSON's print_number: "%1.15g", or "%1.17g" when that does not read back the same. Whole
 * numbers print the same with "%lld" and need no check. */
static void st_num(struct jsonout *o, const char *key, double d)
{
	struct jsonout_stream *s = (struct jsonout_stream *)o;
	char buf[32];
	double test;

	before_value(s, key);
	if (isnan(d) || isinf(d)) {
		OUT_LIT(s, "null");
	} else if (d == (double)(long long)d && fabs(d) < 1e15 && (d != 0 || !signbit(d))) {
		char *e = buf + sizeof(buf), *b = e;
		long long v = (long long)d;
		unsigned long long u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
		do
			*--b = (char)('0' + u % 10);
		while (u /= 10);
		if (v < 0)
			*--b = '-';
		out(s, b, (size_t)(e - b));
	} else {
		snprintf(buf, sizeof(buf), "%1.15g", d);
		test = strtod(buf, NULL);
		if (fabs(test - d) > (fabs(test) > fabs(d) ? fabs(test) : fabs(d)) * DBL_EPSILON)
			snprintf(buf, sizeof(buf), "%1.17g", d);
		out(s, buf, strlen(buf));
	}
}

static void st_bool(struct jsonout *o, const char *key, bool v)
{
	struct jsonout_stream *s = (struct jsonout_stream *)o;
	before_value(s, key);
	if (v)
		OUT_LIT(s, "true");
	else
		OUT_LIT(s, "false");
}

static const struct jsonout_ops stream_ops = { st_open, st_close, st_str, st_num, st_bool };

void jsonout_stream_init(struct jsonout_stream *s, FILE *f)
{
	memset(s, 0, sizeof(*s));
	s->o.ops = &stream_ops;
	s->f = f;
}

void jsonout_stream_flush(struct jsonout_stream *s)
{
	flush_out(s);
}

/* ---- cJSON tree -> events ---- */

void jsonout_replay(const cJSON *item, const char *key, struct jsonout *o)
{
	const cJSON *c;

	if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
		bool array = cJSON_IsArray(item);
		o->ops->open(o, key, array);
		for (c = item->child; c; c = c->next)
			jsonout_replay(c, array ? NULL : c->string, o);
		o->ops->close(o);
	} else if (cJSON_IsString(item)) {
		o->ops->str(o, key, item->valuestring);
	} else if (cJSON_IsNumber(item)) {
		o->ops->num(o, key, item->valuedouble);
	} else if (cJSON_IsBool(item)) {
		o->ops->boolean(o, key, cJSON_IsTrue(item));
	} else {
		o->ops->str(o, key, NULL); /* null (and raw, which we never write) */
	}
}
