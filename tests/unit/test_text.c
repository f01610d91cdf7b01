/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Untrusted text (src/base/text.c, json_print in results.c): invalid UTF-8 becomes U+FFFD, a NUL
 * of the test's output survives into JSON as \u0000, and control and bidi characters reach
 * a terminal only as escapes.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/json.h"
#include "ftscope/text.h"
#include "ftscope/util.h"
#include "tap.h"

static const struct {
	const char *in, *want; /* want NULL: valid as it is */
	const char *what;
} fixes[] = {
	{ "plain ascii", NULL, "ascii" },
	{ "caf\xc3\xa9 \xe2\x80\xae \xf0\x9f\x92\xa5", NULL, "2-, 3- and 4-byte sequences" },
	{ "a\xff" "b", "a\xef\xbf\xbd" "b", "a stray byte" },
	{ "\xc3(", "\xef\xbf\xbd(", "a lead byte without its continuation" },
	{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", "an overlong '/'" },
	{ "\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "a 3-byte overlong" },
	{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "a UTF-16 surrogate" },
	{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	  "past U+10FFFF" },
	{ "cut \xe2\x80", "cut \xef\xbf\xbd\xef\xbf\xbd", "a sequence cut at the end" },
	{ "nul " TEXT_NUL_MARK " kept", NULL, "the NUL mark is kept" },
};

static const struct {
	const char *in, *want;
} escapes[] = {
	{ "pkg-name", "pkg-name" },
	{ "evil\xe2\x80\xaegnp.exe", "evil\\u202egnp.exe" },
	{ "\x1b[2J\x07", "\\x1b[2J\\x07" },
	{ "tab\tand\nnewline", "tab\tand\nnewline" },
	{ "del\x7f c1\xc2\x9b", "del\\x7f c1\\u009b" },
	{ "bad\xff", "bad\\xff" },
	{ "\xe2\x81\xa6isolate\xe2\x81\xa9 \xef\xbb\xbf", "\\u2066isolate\\u2069 \\ufeff" },
	{ "\xf0\x9f\x92\xa5 \xe2\x9c\x93", "\xf0\x9f\x92\xa5 \xe2\x9c\x93" },
};

int main(void)
{
	static const char raw[] = "out \xff\xfe \0 after nul \xed\xa0\x80 end";
	char *t, *s, *p;
	cJSON *j, *back;

	for (size_t i = 0; i < ARRAY_SIZE(fixes); i++) {
		char *f = utf8_fix(fixes[i].in);
		if (!fixes[i].want)
			ok(f == NULL, "utf8_fix: %s: valid as it is", fixes[i].what);
		else
			is_str(f, fixes[i].want, "utf8_fix: %s", fixes[i].what);
		free(f);
	}
	for (size_t i = 0; i < ARRAY_SIZE(escapes); i++) {
		t = term_str(escapes[i].in);
		is_str(t, escapes[i].want, "term_escape %zu", i);
		ok(term_needs_escape(escapes[i].in) == !!strcmp(escapes[i].in, escapes[i].want),
		   "term_needs_escape %zu", i);
		free(t);
	}

	t = text_from_bytes(raw, sizeof(raw) - 1);
	ok(strstr(t, "after nul") != NULL, "text_from_bytes: the text after a NUL is kept");
	ok(strstr(t, TEXT_NUL_MARK) != NULL, "and the NUL is the mark");
	t = (free(t), tail_bytes(raw, sizeof(raw) - 1, 20));
	ok(strstr(t, TEXT_NUL_MARK) != NULL && strstr(t, " end"), "tail_bytes keeps NULs: '%s'",
	   t);
	free(t);

	/* the one JSON writer: strict UTF-8 and \u0000 for NUL, in keys and values */
	j = cJSON_CreateObject();
	t = text_from_bytes(raw, sizeof(raw) - 1);
	cJSON_AddStringToObject(j, "stdout_tail", t);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(j, "test_results"), t, "PASSED");
	free(t);
	s = json_print(j, false);
	ok(s && strstr(s, "\\u0000 after nul") != NULL, "json_print writes NUL as \\u0000");
	ok(s && !strstr(s, "\xff") && !strstr(s, "\xc0\x80") && !strstr(s, "\xed\xa0"),
	   "no invalid byte is left");
	for (p = s; p && *p;) {
		uint32_t cp;
		size_t k = utf8_decode((const unsigned char *)p, strlen(p), &cp);
		if (!k)
			break;
		p += k;
	}
	ok(p && !*p, "the whole document is valid UTF-8");
	ok(s && strstr(s, "\xef\xbf\xbd\xef\xbf\xbd") != NULL, "invalid bytes became U+FFFD");
	back = cJSON_Parse(s);
	ok(cJSON_IsObject(back), "and it parses back");
	cJSON_Delete(back);
	back = json_parse(s, strlen(s));
	p = cJSON_GetStringValue(cJSON_GetObjectItem(back, "stdout_tail"));
	ok(p && strstr(p, TEXT_NUL_MARK " after nul"), "json_parse: the NUL comes back as the mark");
	t = json_print(back, false);
	is_str(t, s, "and is written again the same");
	free(t);
	cJSON_Delete(back);
	back = json_parse("{\"a\": \"\\\\u0000\"} ", 17);
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(back, "a")), "\\u0000",
	       "an escaped backslash before u0000 is not a NUL");
	cJSON_Delete(back);
	ok(json_parse("{} {}", 5) == NULL, "json_parse: one value only");

	/* numbers from files the tests can write: clamped, never an undefined cast */
	t = xstrdup("{\"pid\": 2.7e101, \"neg\": -1e300, \"n\": 42.9, \"s\": \"7\"}");
	back = json_parse(t, strlen(t));
	free(t);
	is_int(json_int(back, "pid", 0), INT_MAX, "json_int clamps 2.7e101 to INT_MAX");
	is_int(json_int(back, "neg", 0), INT_MIN, "and -1e300 to INT_MIN");
	ok(json_long(back, "pid", 0) == LONG_MAX, "json_long clamps to LONG_MAX");
	is_int(json_int(back, "n", 0), 42, "42.9 is 42");
	is_int(json_int(back, "s", -1), -1, "a string is the default");
	cJSON_Delete(back);
	free(s);
	s = json_print(j, true);
	ok(s && strstr(s, "\\u0000") != NULL && !strstr(s, "\xc0\x80"), "formatted as well");
	free(s);
	cJSON_Delete(j);

	{
		/* sbuf_add_wrapped: words never cut, continuation indented, no limit at 0 */
		struct sbuf sb = SBUF_INIT;
		sbuf_add_wrapped(&sb, "3 deadlocks, vs GIL: pre_existing", 10, 10, 30);
		is_str(sb.buf, "3 deadlocks, vs GIL:\n          pre_existing",
		       "wrapped at a word, under the column");
		sbuf_reset(&sb);
		sbuf_add_wrapped(&sb, "a_very_long_word_that_cannot_fit x", 0, 2, 10);
		is_str(sb.buf, "a_very_long_word_that_cannot_fit\n  x", "a long word is kept whole");
		sbuf_reset(&sb);
		sbuf_add_wrapped(&sb, "no  limit   at all", 70, 4, 0);
		is_str(sb.buf, "no limit at all", "width 0: one line");
		sbuf_reset(&sb);
		sbuf_add_wrapped(&sb, "caf\xc3\xa9 ok", 0, 0, 7);
		is_str(sb.buf, "caf\xc3\xa9 ok", "widths count code points, not bytes");
		sbuf_release(&sb);
	}
	return tap_done();
}
