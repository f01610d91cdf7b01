/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * YAML -> cJSON through libyaml's event parser.
 *
 * Ownership: parse_node() returns a node the caller owns until it is added to a parent; the
 * anchor table keeps its own deep copies, because a node in the tree can be freed later
 * (duplicate key replaced, merge-key value consumed) while an alias still refers to it.
 * Aliases are expanded by copying; the total expansion is bounded (billion-laughs input).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <yaml.h>

#include "ftscope/registry.h"
#include "ftscope/util.h"

#define YJ_MAX_DEPTH 512
#define YJ_MAX_ALIAS_NODES 200000

#define TAG_STR "tag:yaml.org,2002:str"
#define TAG_INT "tag:yaml.org,2002:int"
#define TAG_FLOAT "tag:yaml.org,2002:float"
#define TAG_BOOL "tag:yaml.org,2002:bool"
#define TAG_NULL "tag:yaml.org,2002:null"
#define TAG_MAP "tag:yaml.org,2002:map"
#define TAG_SEQ "tag:yaml.org,2002:seq"

struct anchor {
	char *name;
	cJSON *node; /* owned copy */
	size_t nodes;
};

struct yj {
	yaml_parser_t parser;
	const char *text;
	size_t len;
	struct anchor *anchors;
	size_t nanchors, anchors_cap;
	size_t alias_budget;
	int depth;
	char *err; /* first error, malloc'd */
};

static void yj_fail(struct yj *y, const yaml_mark_t *mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void yj_fail(struct yj *y, const yaml_mark_t *mark, const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	va_list ap;
	char *msg;

	if (y->err)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	sbuf_addf(&sb, "line %zu, column %zu: %s", mark->line + 1, mark->column + 1,
		  msg ? msg : "out of memory");
	free(msg);
	y->err = sbuf_detach(&sb);
}

/* Reader errors carry a byte offset, not a mark: count lines ourselves. */
static yaml_mark_t mark_at_offset(const struct yj *y, size_t off)
{
	yaml_mark_t m = { 0, 0, 0 };
	size_t i;

	if (off > y->len)
		off = y->len;
	m.index = off;
	for (i = 0; i < off; i++) {
		if (y->text[i] == '\n') {
			m.line++;
			m.column = 0;
		} else {
			m.column++;
		}
	}
	return m;
}

static void yj_parser_error(struct yj *y)
{
	const yaml_parser_t *p = &y->parser;
	const char *problem = p->problem ? p->problem : "invalid YAML";
	yaml_mark_t m;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		m = mark_at_offset(y, 0);
		yj_fail(y, &m, "out of memory while parsing");
		break;
	case YAML_READER_ERROR:
		m = mark_at_offset(y, p->problem_offset);
		if (p->problem_value != -1)
			yj_fail(y, &m, "%s (byte 0x%02x)", problem, (unsigned)p->problem_value);
		else
			yj_fail(y, &m, "%s", problem);
		break;
	default:
		if (p->context)
			yj_fail(y, &p->problem_mark, "%s (%s at line %zu, column %zu)", problem,
				p->context, p->context_mark.line + 1, p->context_mark.column + 1);
		else
			yj_fail(y, &p->problem_mark, "%s", problem);
		break;
	}
}

static int next_event(struct yj *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->parser, ev)) {
		yj_parser_error(y);
		return -1;
	}
	return 0;
}

/* cJSON allocation failures get the xmalloc policy: the CLI has no OOM branches. */
static cJSON *must(cJSON *n)
{
	if (!n) {
		fputs("ftscope: error: out of memory building a JSON tree\n", stderr);
		abort();
	}
	return n;
}

static size_t count_nodes(const cJSON *n)
{
	size_t c = 1;
	const cJSON *ch;

	for (ch = n->child; ch; ch = ch->next)
		c += count_nodes(ch);
	return c;
}

static void anchor_add(struct yj *y, const yaml_char_t *name, const cJSON *node)
{
	struct anchor *a;

	if (!name)
		return;
	if (y->nanchors == y->anchors_cap) {
		y->anchors_cap = y->anchors_cap ? 2 * y->anchors_cap : 8;
		y->anchors = xrealloc(y->anchors, y->anchors_cap * sizeof(*y->anchors));
	}
	a = &y->anchors[y->nanchors++];
	a->name = xstrdup((const char *)name);
	a->node = must(cJSON_Duplicate(node, 1));
	a->nodes = count_nodes(a->node);
}

/* A redefined anchor refers to its latest definition: search from the end. */
static const struct anchor *anchor_find(const struct yj *y, const char *name)
{
	size_t i;

	for (i = y->nanchors; i-- > 0;)
		if (!strcmp(y->anchors[i].name, name))
			return &y->anchors[i];
	return NULL;
}

static cJSON *alias_copy(struct yj *y, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const struct anchor *a = anchor_find(y, name);

	if (!a) {
		yj_fail(y, &ev->start_mark, "undefined alias '*%s'", name);
		return NULL;
	}
	if (a->nodes > y->alias_budget) {
		yj_fail(y, &ev->start_mark, "too many alias expansions (alias '*%s')", name);
		return NULL;
	}
	y->alias_budget -= a->nodes;
	return must(cJSON_Duplicate(a->node, 1));
}

static bool eq_any(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

static const char *const null_words[] = { "", "~", "null", "Null", "NULL", NULL };
static const char *const true_words[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
					  "on",	  "On",	  "ON",	  NULL };
static const char *const false_words[] = { "false", "False", "FALSE", "no", "No", "NO",
					   "off",   "Off",   "OFF",   NULL };

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/*
 * YAML 1.1 integers (as PyYAML resolves them): [-+]? then 0x.., 0o.. (1.2), 0b.., 0[0-7]..
 * (1.1 octal), 0, or [1-9][0-9_]*. Underscores are separators. Sexagesimal (1:30) is not
 * supported and stays a string.
 */
static bool resolve_int(const char *s, double *out)
{
	bool neg = false, any = false;
	int base = 10;
	double v = 0;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && s[1] == 'o') {
		base = 8;
		s += 2;
	} else if (s[0] == '0' && s[1] == 'b') {
		base = 2;
		s += 2;
	} else if (s[0] == '0' && s[1]) {
		base = 8;
		s += 1;
	} else if (s[0] == '0') {
		*out = 0;
		return true;
	} else if (!(s[0] >= '1' && s[0] <= '9')) {
		return false;
	}
	for (; *s; s++) {
		int d;
		if (*s == '_')
			continue;
		d = digit_value(*s);
		if (d >= base)
			return false;
		v = v * base + d;
		any = true;
	}
	if (!any)
		return false;
	*out = neg ? -v : v;
	return true;
}

/*
 * Floats: YAML 1.1 ([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)? and 1.2 exponent forms
 * (1e3), plus .inf/.nan. A '.' or an exponent is required, so "08" stays a string.
 */
static bool resolve_float(const char *s, double *out)
{
	const char *p = s, *body;
	bool neg = false, dot = false, exp = false;
	size_t mant_digits = 0;
	struct sbuf sb = SBUF_INIT;
	char *end;
	double v;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	body = p;
	if (!strcmp(body, ".inf") || !strcmp(body, ".Inf") || !strcmp(body, ".INF")) {
		*out = neg ? -INFINITY : INFINITY;
		return true;
	}
	if (body == s &&
	    (!strcmp(body, ".nan") || !strcmp(body, ".NaN") || !strcmp(body, ".NAN"))) {
		*out = NAN;
		return true;
	}
	if (*p == '_')
		return false;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			mant_digits++;
		} else if (*p == '_') {
			continue;
		} else if (*p == '.' && !dot) {
			dot = true;
		} else {
			break;
		}
	}
	if (!mant_digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		const char *q = p + 1;
		if (*q == '-' || *q == '+')
			q++;
		if (!(*q >= '0' && *q <= '9'))
			return false;
		while (*q >= '0' && *q <= '9')
			q++;
		if (*q)
			return false;
		exp = true;
	} else if (*p) {
		return false;
	}
	if (!dot && !exp)
		return false;
	for (p = s; *p; p++)
		if (*p != '_')
			sbuf_addc(&sb, *p);
	errno = 0;
	v = strtod(sb.buf, &end);
	if (*end) {
		sbuf_release(&sb);
		return false;
	}
	sbuf_release(&sb);
	*out = v;
	return true;
}

enum scalar_kind { SK_ANY, SK_STR, SK_NULL, SK_BOOL, SK_INT, SK_FLOAT };

static cJSON *make_scalar(struct yj *y, const yaml_event_t *ev, enum scalar_kind kind)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	double d;

	if (strlen(s) != len) {
		yj_fail(y, &ev->start_mark, "scalar contains a NUL character");
		return NULL;
	}
	if (kind == SK_STR)
		return must(cJSON_CreateString(s));
	if ((kind == SK_ANY || kind == SK_NULL) && eq_any(s, null_words))
		return must(cJSON_CreateNull());
	if (kind == SK_ANY || kind == SK_BOOL) {
		if (eq_any(s, true_words))
			return must(cJSON_CreateTrue());
		if (eq_any(s, false_words))
			return must(cJSON_CreateFalse());
	}
	if ((kind == SK_ANY || kind == SK_INT || kind == SK_FLOAT) && resolve_int(s, &d))
		return must(cJSON_CreateNumber(d));
	if ((kind == SK_ANY || kind == SK_FLOAT) && resolve_float(s, &d))
		return must(cJSON_CreateNumber(d));
	if (kind == SK_ANY)
		return must(cJSON_CreateString(s));
	yj_fail(y, &ev->start_mark, "cannot resolve '%s' as %s", s,
		kind == SK_NULL ? "!!null" : kind == SK_BOOL ? "!!bool" :
		kind == SK_INT ? "!!int" : "!!float");
	return NULL;
}

static cJSON *scalar_node(struct yj *y, const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	enum scalar_kind kind;

	if (!tag || !strcmp(tag, "?"))
		kind = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? SK_ANY : SK_STR;
	else if (!strcmp(tag, "!") || !strcmp(tag, TAG_STR))
		kind = SK_STR;
	else if (!strcmp(tag, TAG_NULL))
		kind = SK_NULL;
	else if (!strcmp(tag, TAG_BOOL))
		kind = SK_BOOL;
	else if (!strcmp(tag, TAG_INT))
		kind = SK_INT;
	else if (!strcmp(tag, TAG_FLOAT))
		kind = SK_FLOAT;
	else {
		yj_fail(y, &ev->start_mark, "unsupported tag '%s'", tag);
		return NULL;
	}
	return make_scalar(y, ev, kind);
}

static int check_collection_tag(struct yj *y, const yaml_event_t *ev, const yaml_char_t *tag,
				const char *want)
{
	if (!tag || !strcmp((const char *)tag, "!") || !strcmp((const char *)tag, want))
		return 0;
	yj_fail(y, &ev->start_mark, "unsupported tag '%s'", (const char *)tag);
	return -1;
}

static cJSON *parse_node(struct yj *y, yaml_event_t *ev);

/* Set key in obj: a duplicate key is replaced (last one wins). Takes val. */
static void object_set(cJSON *obj, const char *key, cJSON *val)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val);
	else
		cJSON_AddItemToObject(obj, key, val);
}

/* YAML 1.1 merge key: copy keys of src (a mapping) that obj does not have yet. */
static void merge_keys(cJSON *obj, const cJSON *src)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, src) {
		cJSON *copy;
		if (cJSON_GetObjectItemCaseSensitive(obj, it->string))
			continue;
		copy = must(cJSON_Duplicate(it, 1));
		cJSON_AddItemToObject(obj, it->string, copy);
	}
}

static int merge_value(struct yj *y, const yaml_mark_t *mark, cJSON *obj, const cJSON *val)
{
	const cJSON *it;

	if (cJSON_IsObject(val)) {
		merge_keys(obj, val);
		return 0;
	}
	if (cJSON_IsArray(val)) {
		cJSON_ArrayForEach(it, val) {
			if (!cJSON_IsObject(it))
				goto bad;
		}
		/* Earlier mappings in the list take precedence. */
		cJSON_ArrayForEach(it, val)
			merge_keys(obj, it);
		return 0;
	}
bad:
	yj_fail(y, mark, "merge key '<<' needs a mapping or a list of mappings");
	return -1;
}

/* The key text of a mapping entry; the key event is consumed. */
static char *mapping_key(struct yj *y, yaml_event_t *kev, bool *is_merge)
{
	char *key = NULL;

	*is_merge = false;
	if (kev->type == YAML_SCALAR_EVENT) {
		const char *s = (const char *)kev->data.scalar.value;
		if (strlen(s) != kev->data.scalar.length) {
			yj_fail(y, &kev->start_mark, "mapping key contains a NUL character");
			goto out;
		}
		*is_merge = kev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			    !kev->data.scalar.tag && !strcmp(s, "<<");
		/* Keys keep their text: a "3.10" key must not become the number 3.1. */
		key = xstrdup(s);
		if (kev->data.scalar.anchor) {
			cJSON *tmp = must(cJSON_CreateString(s));
			anchor_add(y, kev->data.scalar.anchor, tmp);
			cJSON_Delete(tmp);
		}
	} else if (kev->type == YAML_ALIAS_EVENT) {
		const struct anchor *a = anchor_find(y, (const char *)kev->data.alias.anchor);
		if (!a)
			yj_fail(y, &kev->start_mark, "undefined alias '*%s'",
				(const char *)kev->data.alias.anchor);
		else if (!cJSON_IsString(a->node))
			yj_fail(y, &kev->start_mark,
				"alias '*%s' used as a mapping key is not a string", a->name);
		else
			key = xstrdup(a->node->valuestring);
	} else {
		yj_fail(y, &kev->start_mark, "complex mapping keys are not supported");
	}
out:
	yaml_event_delete(kev);
	return key;
}

static cJSON *mapping_node(struct yj *y)
{
	cJSON *obj = must(cJSON_CreateObject());
	yaml_event_t kev, vev;

	for (;;) {
		bool is_merge;
		yaml_mark_t vmark;
		char *key;
		cJSON *val;

		if (next_event(y, &kev) < 0)
			goto fail;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			break;
		}
		key = mapping_key(y, &kev, &is_merge);
		if (!key)
			goto fail;
		if (next_event(y, &vev) < 0) {
			free(key);
			goto fail;
		}
		vmark = vev.start_mark;
		val = parse_node(y, &vev);
		if (!val) {
			free(key);
			goto fail;
		}
		if (is_merge) {
			int r = merge_value(y, &vmark, obj, val);
			cJSON_Delete(val);
			free(key);
			if (r < 0)
				goto fail;
		} else {
			object_set(obj, key, val);
			free(key);
		}
	}
	return obj;
fail:
	cJSON_Delete(obj);
	return NULL;
}

static cJSON *sequence_node(struct yj *y)
{
	cJSON *arr = must(cJSON_CreateArray());
	yaml_event_t ev;

	for (;;) {
		cJSON *val;

		if (next_event(y, &ev) < 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		val = parse_node(y, &ev);
		if (!val)
			goto fail;
		cJSON_AddItemToArray(arr, val);
	}
	return arr;
fail:
	cJSON_Delete(arr);
	return NULL;
}

/* Build the node that starts with *ev (consumed). NULL on error (y->err set). */
static cJSON *parse_node(struct yj *y, yaml_event_t *ev)
{
	cJSON *node = NULL;
	yaml_char_t *anchor = NULL;

	if (++y->depth > YJ_MAX_DEPTH) {
		yj_fail(y, &ev->start_mark, "nesting deeper than %d levels", YJ_MAX_DEPTH);
		goto out;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		node = scalar_node(y, ev);
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_ALIAS_EVENT:
		node = alias_copy(y, ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
		if (check_collection_tag(y, ev, ev->data.sequence_start.tag, TAG_SEQ) < 0)
			break;
		node = sequence_node(y);
		anchor = ev->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		if (check_collection_tag(y, ev, ev->data.mapping_start.tag, TAG_MAP) < 0)
			break;
		node = mapping_node(y);
		anchor = ev->data.mapping_start.anchor;
		break;
	default:
		yj_fail(y, &ev->start_mark, "unexpected YAML event %d", (int)ev->type);
		break;
	}
	if (node && anchor)
		anchor_add(y, anchor, node);
out:
	y->depth--;
	yaml_event_delete(ev);
	if (!node && !y->err) {
		yaml_mark_t m = { 0, 0, 0 };
		yj_fail(y, &m, "out of memory");
	}
	return node;
}

int yaml_to_json(const char *text, size_t len, struct cJSON **out, char **errmsg)
{
	struct yj y = { .text = text, .len = len, .alias_budget = YJ_MAX_ALIAS_NODES };
	yaml_event_t ev;
	cJSON *root = NULL;
	bool have_parser = false;
	int ret = -1;
	size_t i;

	*out = NULL;
	if (errmsg)
		*errmsg = NULL;
	if (!yaml_parser_initialize(&y.parser)) {
		y.err = xstrdup("line 1, column 1: cannot initialize the YAML parser");
		goto out;
	}
	have_parser = true;
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);

	if (next_event(&y, &ev) < 0)
		goto out;
	yaml_event_delete(&ev); /* STREAM-START */
	if (next_event(&y, &ev) < 0)
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {
		/* An empty stream is null, as PyYAML's safe_load("") is None. */
		yaml_event_delete(&ev);
		root = must(cJSON_CreateNull());
		ret = 0;
		goto out;
	}
	yaml_event_delete(&ev); /* DOCUMENT-START */
	if (next_event(&y, &ev) < 0)
		goto out;
	root = parse_node(&y, &ev);
	if (!root)
		goto out;
	if (next_event(&y, &ev) < 0)
		goto out;
	yaml_event_delete(&ev); /* DOCUMENT-END */
	if (next_event(&y, &ev) < 0)
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT) {
		yj_fail(&y, &ev.start_mark, "expected a single document in the stream");
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);
	ret = 0;
out:
	if (have_parser)
		yaml_parser_delete(&y.parser);
	for (i = 0; i < y.nanchors; i++) {
		free(y.anchors[i].name);
		cJSON_Delete(y.anchors[i].node);
	}
	free(y.anchors);
	if (ret == 0) {
		*out = root;
	} else {
		cJSON_Delete(root);
		if (errmsg)
			*errmsg = y.err ? y.err : xstrdup("line 1, column 1: invalid YAML");
		else
			free(y.err);
		y.err = NULL;
	}
	free(y.err);
	return ret;
}
