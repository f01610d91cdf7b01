/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * JSON events (src/results/jsonout.c): the streaming backend writes exactly what json_print()
 * (cJSON_Print, strings made valid UTF-8, TEXT_NUL_MARK as \u0000) makes of the same document, the cJSON backend builds that document, and a replay of a tree
 * gives it back. Documents: escapes and control bytes, UTF-8, invalid UTF-8 and the NUL mark, numbers that print as whole
 * numbers, fractions, -0, huge and tiny values, NaN; empty and nested objects and arrays.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/json.h"
#include "ftscope/jsonout.h"
#include "ftscope/text.h"
#include "tap.h"

static const double nums[] = {
	0, -0.0, 1, -1, 42, 1e14, 999999999999999, 1e15, 1e16, -123456789012345,
	0.5, 12.34, 0.1, 1.0 / 3, 2.5e-300, 1e300, 6.02214076e23, 3.14159265358979,
	-7.25, 4294967296.0, 65536.5,
};

/* One document with something of every kind. */
static void emit_doc(struct jsonout *o, int variant)
{
	jo_object(o, NULL);
	jo_str(o, "plain", "dump");
	jo_str(o, "escapes", "q\" b\\ \b\f\n\r\t end");
	jo_str(o, "control", "\x01\x02\x1f x");
	jo_str(o, "utf8", "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x90\x8d");
	jo_str(o, "invalid", "a\xff b\xc3 c\xe2\x86 d\xed\xa0\x80 e\xc0\xaf f\xf4\x90\x80\x80 g\xc3");
	jo_str(o, "nul mark", "before" TEXT_NUL_MARK "after" TEXT_NUL_MARK);
	jo_str(o, "bad \xfe key", "x");
	jo_str(o, "", "empty key");
	jo_str(o, "key \"quoted\"\n", "");
	jo_null(o, "nothing");
	jo_bool(o, "yes", true);
	jo_bool(o, "no", false);
	jo_array(o, "numbers");
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		jo_num(o, NULL, nums[i] * (variant ? -1 : 1));
	jo_num(o, NULL, NAN);
	jo_num(o, NULL, INFINITY);
	jo_close(o);
	jo_object(o, "empty_object");
	jo_close(o);
	jo_array(o, "empty_array");
	jo_close(o);
	jo_array(o, "objects");
	for (int i = 0; i < 3; i++) {
		jo_object(o, NULL);
		jo_num(o, "i", i);
		jo_array(o, "inner");
		jo_str(o, NULL, "a");
		jo_null(o, NULL);
		jo_object(o, NULL);
		jo_object(o, "deeper");
		jo_bool(o, "x", i & 1);
		jo_close(o);
		jo_close(o);
		jo_array(o, NULL);
		jo_close(o);
		jo_close(o);
		jo_close(o);
	}
	jo_close(o);
	jo_close(o);
}

static char *stream_text(int variant)
{
	struct jsonout_stream s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	jsonout_stream_init(&s, f);
	emit_doc(&s.o, variant);
	fclose(f);
	return buf;
}

int main(void)
{
	for (int variant = 0; variant < 2; variant++) {
		struct jsonout_cjson b;
		struct jsonout_stream s;
		cJSON *tree;
		char *want, *got, *again = NULL;
		size_t len = 0;
		FILE *f;

		jsonout_cjson_init(&b);
		emit_doc(&b.o, variant);
		tree = jsonout_cjson_result(&b);
		ok(tree && cJSON_IsObject(tree), "variant %d: the cJSON backend builds an object", variant);
		want = json_print(tree, true);
		got = stream_text(variant);
		is_str(got, want, "variant %d: the stream is json_print's text, byte for byte", variant);
		ok(cJSON_IsNumber(cJSON_GetArrayItem(cJSON_GetObjectItem(tree, "numbers"), 6)) &&
			   cJSON_GetArrayItem(cJSON_GetObjectItem(tree, "numbers"), 6)->valuedouble ==
				   999999999999999.0 * (variant ? -1 : 1),
		   "variant %d: numbers kept", variant);

		/* the tree replayed into the stream: the same text again */
		f = open_memstream(&again, &len);
		jsonout_stream_init(&s, f);
		jsonout_replay(tree, NULL, &s.o);
		fclose(f);
		is_str(again, want, "variant %d: replay of the tree streams the same text", variant);
		free(again);
		free(got);
		free(want);
		cJSON_Delete(tree);
	}
	return tap_done();
}
