/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_JSON_H
#define FTSCOPE_JSON_H

/*
 * JSON helpers over cJSON, for every layer (snapshot, workspace, sysinfo, results, the run
 * store...): printing and parsing as ftscope's files need it, and typed reads of object
 * members with a default. Depends on nothing of ftscope but text.h/util.h.
 */
#include <stdbool.h>
#include <stddef.h>

struct cJSON;

/* Helpers for optional values. */
void json_set(struct cJSON *obj, const char *key, struct cJSON *val); /* replaces */
void json_set_str(struct cJSON *obj, const char *key, const char *s); /* NULL -> null */
/*
 * The one way ftscope writes JSON (cJSON_Print, or cJSON_PrintUnformatted when !formatted):
 * first every key and string under j is made valid UTF-8 in place (utf8_fix: an invalid
 * byte becomes U+FFFD), then each TEXT_NUL_MARK (a NUL of the test's output, text.h) is
 * written as \u0000. malloc'd (free()); NULL for NULL or out of memory.
 */
char *json_print(struct cJSON *j, bool formatted);
/* Parse JSON that json_print wrote: \u0000 comes back as TEXT_NUL_MARK, not as a NUL that
 * would end the string. NULL unless text is one JSON value (trailing blanks allowed). */
struct cJSON *json_parse(const char *text, size_t len);
struct strv;
struct cJSON *json_strv(const struct strv *sv); /* an array of its strings */
void json_set_num(struct cJSON *obj, const char *key, double v);
void json_set_bool(struct cJSON *obj, const char *key, bool v);
double json_num(const struct cJSON *obj, const char *key, double dflt);
/* json_num as an integer: NaN gives dflt, anything out of range the nearest end of it (a
 * results file or an iteration.json may hold any number; a cast would be undefined). */
long json_long(const struct cJSON *obj, const char *key, long dflt);
long json_as_long(const struct cJSON *v, long dflt); /* the same for a value */
int json_int(const struct cJSON *obj, const char *key, int dflt);
const char *json_str(const struct cJSON *obj, const char *key); /* NULL if absent/not str */
bool json_bool(const struct cJSON *obj, const char *key, bool dflt);
/* Round to n decimals (labeille: pass_rate 4 dp, durations 2-3 dp). */
double round_to(double v, int decimals);

#endif
