/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * JSON helpers (include/ftscope/json.h): the one way ftscope prints and parses JSON, and
 * typed reads and writes of object members. No ftscope module below this one.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/json.h"
#include "ftscope/text.h"
#include "ftscope/util.h"

/* Valid UTF-8 in j's key and string value (an owned copy replaces an invalid one), then in
 * everything under j. */
static void json_fix_strings(cJSON *j)
{
	char *f;

	if (j->string && !(j->type & cJSON_StringIsConst) && (f = utf8_fix(j->string))) {
		cJSON_free(j->string);
		j->string = f;
	}
	if (cJSON_IsString(j) && j->valuestring && (f = utf8_fix(j->valuestring))) {
		cJSON_free(j->valuestring);
		j->valuestring = f;
	}
	for (cJSON *c = j->child; c; c = c->next)
		json_fix_strings(c);
}

cJSON *json_parse(const char *text, size_t len)
{
	struct sbuf sb = SBUF_INIT;
	const char *p, *end = text + len;
	cJSON *j;

	if (!text)
		return NULL;
	/* a NUL-terminated copy; escapes come in pairs: "\\\\u0000" is a backslash and
	 * "u0000" */
	for (p = text; p < end; p++) {
		if (*p != '\\' || p + 1 >= end) {
			sbuf_addc(&sb, *p);
		} else if (end - p >= 6 && !memcmp(p, "\\u0000", 6)) {
			sbuf_add(&sb, TEXT_NUL_MARK, 2);
			p += 5;
		} else {
			sbuf_add(&sb, p, 2);
			p++;
		}
	}
	sbuf_add(&sb, "", 0);
	j = cJSON_ParseWithOpts(sb.buf, NULL, true);
	sbuf_release(&sb);
	return j;
}

char *json_print(cJSON *j, bool formatted)
{
	struct sbuf sb = SBUF_INIT;
	char *t, *p, *m;

	if (!j)
		return NULL;
	json_fix_strings(j);
	t = formatted ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
	if (!t || !strstr(t, TEXT_NUL_MARK))
		return t;
	for (p = t; (m = strstr(p, TEXT_NUL_MARK)); p = m + 2) {
		sbuf_add(&sb, p, (size_t)(m - p));
		sbuf_adds(&sb, "\\u0000");
	}
	sbuf_adds(&sb, p);
	cJSON_free(t);
	return sbuf_detach(&sb);
}

void json_set(cJSON *obj, const char *key, cJSON *val)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val);
	else
		cJSON_AddItemToObject(obj, key, val);
}

void json_set_str(cJSON *obj, const char *key, const char *s)
{
	json_set(obj, key, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

void json_set_num(cJSON *obj, const char *key, double v)
{
	json_set(obj, key, cJSON_CreateNumber(v));
}

void json_set_bool(cJSON *obj, const char *key, bool v)
{
	json_set(obj, key, cJSON_CreateBool(v));
}

double json_num(const cJSON *obj, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

long json_long(const cJSON *obj, const char *key, long dflt)
{
	return json_as_long(cJSON_GetObjectItemCaseSensitive(obj, key), dflt);
}

long json_as_long(const cJSON *v, long dflt)
{
	double d = cJSON_IsNumber(v) ? v->valuedouble : (double)dflt;
	if (d != d)
		return dflt;
	if (d >= (double)LONG_MAX) /* LONG_MAX rounds up to 2^63 as a double */
		return LONG_MAX;
	if (d <= (double)LONG_MIN)
		return LONG_MIN;
	return (long)d;
}

int json_int(const cJSON *obj, const char *key, int dflt)
{
	long v = json_long(obj, key, dflt);
	return v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
}

const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool json_bool(const cJSON *obj, const char *key, bool dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

double round_to(double v, int decimals)
{
	double f = pow(10, decimals);
	return round(v * f) / f;
}

cJSON *json_strv(const struct strv *sv)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < sv->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(sv->v[i]));
	return a;
}
