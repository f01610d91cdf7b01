/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_JSONOUT_H
#define FTSCOPE_JSONOUT_H

/*
 * A JSON document as a stream of events (open an object or array, a string, a number, a
 * boolean, close), so one function can describe a document and several backends consume it:
 *
 *	struct jsonout_cjson b;                 a cJSON tree (jsonout_cjson_init/_result)
 *	struct jsonout_stream s;                text, exactly as json_print() formats it,
 *	                                        written as it comes (no tree, no doubles
 *	                                        printed twice to check them)
 *	jsonout_replay(item, key, out)          a cJSON tree back into events, so a stored
 *	                                        document reaches the same consumers
 *
 * Keys are NULL inside arrays (and for the root). Events must nest properly; the backends
 * trust the caller.
 */
#include <stdbool.h>
#include <stdio.h>

struct cJSON;
struct jsonout;

struct jsonout_ops {
	void (*open)(struct jsonout *o, const char *key, bool array);
	void (*close)(struct jsonout *o);
	void (*str)(struct jsonout *o, const char *key, const char *v); /* v NULL: null */
	void (*num)(struct jsonout *o, const char *key, double v);
	void (*boolean)(struct jsonout *o, const char *key, bool v);
};

struct jsonout {
	const struct jsonout_ops *ops;
};

static inline void jo_object(struct jsonout *o, const char *key)
{
	o->ops->open(o, key, false);
}
static inline void jo_array(struct jsonout *o, const char *key)
{
	o->ops->open(o, key, true);
}
static inline void jo_close(struct jsonout *o)
{
	o->ops->close(o);
}
static inline void jo_str(struct jsonout *o, const char *key, const char *v)
{
	o->ops->str(o, key, v);
}
static inline void jo_null(struct jsonout *o, const char *key)
{
	o->ops->str(o, key, NULL);
}
static inline void jo_num(struct jsonout *o, const char *key, double v)
{
	o->ops->num(o, key, v);
}
static inline void jo_bool(struct jsonout *o, const char *key, bool v)
{
	o->ops->boolean(o, key, v);
}

#define JSONOUT_MAX_DEPTH 32

/* Builds a cJSON tree; jsonout_cjson_result() hands it over (NULL if nothing was emitted). */
struct jsonout_cjson {
	struct jsonout o;
	struct cJSON *stack[JSONOUT_MAX_DEPTH];
	int depth;
	struct cJSON *root;
};
void jsonout_cjson_init(struct jsonout_cjson *b);
struct cJSON *jsonout_cjson_result(struct jsonout_cjson *b);

/* Writes to f what json_print(tree, true) would return (no final newline; results.h), through
 * a buffer of its own: flushed when the root closes, or by jsonout_stream_flush(). */
struct jsonout_stream {
	struct jsonout o;
	FILE *f;
	int depth;
	bool array[JSONOUT_MAX_DEPTH]; /* the open container at each depth is an array */
	int items[JSONOUT_MAX_DEPTH];  /* items written into it so far */
	size_t len;
	char buf[1 << 16];
};
void jsonout_stream_init(struct jsonout_stream *s, FILE *f);
void jsonout_stream_flush(struct jsonout_stream *s);

/* Emit item (named key inside an object) and everything under it. */
void jsonout_replay(const struct cJSON *item, const char *key, struct jsonout *o);

#endif
