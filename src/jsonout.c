/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * JSON documents as events (include/ftscope/jsonout.h): a cJSON backend, a streaming
 * backend in cJSON_Print()'s format, and a replay of cJSON trees.
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

/* ---- streaming, in cJSON_Print()'s format ---- */

static void tabs(FILE *f, int n)
{
	static const char t[JSONOUT_MAX_DEPTH] = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t"
						  "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";
	if (n > 0)
		fwrite_unlocked(t, 1, (size_t)(n < JSONOUT_MAX_DEPTH ? n : JSONOUT_MAX_DEPTH), f);
}

/* cJSON's print_string_ptr: ", \ and the C escapes; other control bytes as \u00XX. Runs
 * that need no escape are written in one go. */
static void put_string(FILE *f, const char *s)
{
	putc_unlocked('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		const unsigned char *q = p;
		while (*q >= 32 && *q != '"' && *q != '\\')
			q++;
		if (q > p) {
			fwrite_unlocked(p, 1, (size_t)(q - p), f);
			p = q;
			if (!*p)
				break;
		}
		switch (*p) {
		case '"':
			fputs_unlocked("\\\"", f);
			break;
		case '\\':
			fputs_unlocked("\\\\", f);
			break;
		case '\b':
			fputs_unlocked("\\b", f);
			break;
		case '\f':
			fputs_unlocked("\\f", f);
			break;
		case '\n':
			fputs_unlocked("\\n", f);
			break;
		case '\r':
			fputs_unlocked("\\r", f);
			break;
		case '\t':
			fputs_unlocked("\\t", f);
			break;
		default:
			fprintf(f, "\\u%04x", *p);
		}
	}
	putc_unlocked('"', f);
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
			fputs_unlocked(", ", s->f);
	} else {
		if (s->items[d - 1])
			fputs_unlocked(",\n", s->f);
		tabs(s->f, d);
		put_string(s->f, key ? key : "");
		fputs_unlocked(":\t", s->f);
	}
	s->items[d - 1]++;
}

static void st_open(struct jsonout *o, const char *key, bool array)
{
	struct jsonout_stream *s = (struct jsonout_stream *)o;
	before_value(s, key);
	fputs_unlocked(array ? "[" : "{\n", s->f);
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
		putc_unlocked(']', s->f);
	} else {
		if (s->items[s->depth])
			putc_unlocked('\n', s->f);
		tabs(s->f, s->depth);
		putc_unlocked('}', s->f);
	}
}

static void st_str(struct jsonout *o, const char *key, const char *v)
{
	struct jsonout_stream *s = (struct jsonout_stream *)o;
	before_value(s, key);
	if (v)
		put_string(s->f, v);
	else
		fputs_unlocked("null", s->f);
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
		fputs_unlocked("null", s->f);
	} else if (d == (double)(long long)d && fabs(d) < 1e15 && (d != 0 || !signbit(d))) {
		char *e = buf + sizeof(buf), *b = e;
		long long v = (long long)d;
		unsigned long long u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
		do
			*--b = (char)('0' + u % 10);
		while (u /= 10);
		if (v < 0)
			*--b = '-';
		fwrite_unlocked(b, 1, (size_t)(e - b), s->f);
	} else {
		snprintf(buf, sizeof(buf), "%1.15g", d);
		test = strtod(buf, NULL);
		if (fabs(test - d) > (fabs(test) > fabs(d) ? fabs(test) : fabs(d)) * DBL_EPSILON)
			snprintf(buf, sizeof(buf), "%1.17g", d);
		fputs_unlocked(buf, s->f);
	}
}

static void st_bool(struct jsonout *o, const char *key, bool v)
{
	struct jsonout_stream *s = (struct jsonout_stream *)o;
	before_value(s, key);
	fputs_unlocked(v ? "true" : "false", s->f);
}

static const struct jsonout_ops stream_ops = { st_open, st_close, st_str, st_num, st_bool };

void jsonout_stream_init(struct jsonout_stream *s, FILE *f)
{
	memset(s, 0, sizeof(*s));
	s->o.ops = &stream_ops;
	s->f = f;
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
