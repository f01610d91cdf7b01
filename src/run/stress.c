/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/results.h"
#include "ftscope/stress.h"
#include "ftscope/util.h"
#include "ftscope/workspace.h"

/* Whether a word of the command is pytest's: pytest, py.test, -m pytest, .../pytest. */
bool command_runs_pytest(const char *cmd)
{
	const char *p = cmd;
	while ((p = strstr(p, "py")) != NULL) {
		bool start = p == cmd || strchr(" \t/;&|(", p[-1]);
		size_t n = !strncmp(p, "pytest", 6) ? 6 : !strncmp(p, "py.test", 7) ? 7 : 0;
		if (start && n && (!p[n] || strchr(" \t;&|)", p[n])))
			return true;
		p += 2;
	}
	return false;
}

const char *stress_skip_reason(const char *test_command)
{
	if (!test_command || !*test_command)
		return "no test command";
	if (!command_runs_pytest(test_command))
		return "the test command does not run pytest, and pytest-run-parallel is a pytest "
		       "plugin: no stress iterations";
	return NULL;
}

void stress_env(struct strv *env, int threads, int iterations)
{
	const char *ao = env_get(env, "PYTEST_ADDOPTS");
	char *v = xasprintf("%s%s--parallel-threads=%d --iterations=%d", ao ? ao : "",
			    ao && *ao ? " " : "", threads, iterations);
	env_set(env, "PYTEST_ADDOPTS", v);
	env_set(env, "PYTEST_RUN_PARALLEL_VERBOSE", "1");
	free(v);
}

/* The node id in front of `mark` on a -v line: from the line's start, trimmed. */
static char *id_before(const char *line, const char *mark)
{
	size_t n = (size_t)(mark - line);
	char *id;
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	id = xstrndup(line, n);
	if (!strstr(id, "::")) { /* not a node id: some other output */
		free(id);
		return NULL;
	}
	return id;
}

void stress_parse_output(const char *text, cJSON *it)
{
	cJSON *failed = cJSON_CreateArray(), *unsafe = cJSON_CreateObject();
	const char *p = text ? text : "";
	while (*p) {
		const char *eol = strchr(p, '\n'), *m;
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char *line = xstrndup(p, n), *id;
		p += n + (eol ? 1 : 0);
		if ((m = strstr(line, " PARALLEL FAILED")) && (id = id_before(line, m))) {
			bool seen = false;
			const cJSON *k;
			cJSON_ArrayForEach(k, failed)
				seen |= !strcmp(k->valuestring, id);
			if (!seen)
				cJSON_AddItemToArray(failed, cJSON_CreateString(id));
			free(id);
		} else if (((m = strstr(line, " PASSED [thread-unsafe]: ")) ||
			    (m = strstr(line, " FAILED ([thread-unsafe]: "))) &&
			   (id = id_before(line, m))) {
			const char *r = strstr(m, "]: ") + 3;
			char *reason = xstrdup(r), *e;
			/* "reason [ 50%]" / "reason)" without the progress and the parenthesis */
			if ((e = strstr(reason, "  [")) || (e = strstr(reason, " [")))
				*e = '\0';
			e = reason + strlen(reason);
			while (e > reason && (e[-1] == ' ' || e[-1] == ')' || e[-1] == '\r'))
				*--e = '\0';
			json_set_str(unsafe, id, reason);
			free(reason);
			free(id);
		}
		free(line);
	}
	json_set(it, "parallel_failed", failed);
	json_set(it, "thread_unsafe", unsafe);
}

cJSON *stress_block(int threads, int iterations, const char *plugin_version,
		    const char *skipped_reason)
{
	cJSON *s = cJSON_CreateObject();
	cJSON_AddNumberToObject(s, "threads", threads);
	cJSON_AddNumberToObject(s, "plugin_iterations", iterations);
	json_set_str(s, "plugin_version", plugin_version);
	json_set_str(s, "skipped_reason", skipped_reason);
	cJSON_AddItemToObject(s, "iterations", cJSON_CreateArray());
	return s;
}

const char *concurrency_how(const cJSON *pkg)
{
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(pkg, "concurrency_exercised_by"), *k;
	bool own = false, stress = false;
	if (!cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(pkg, "concurrency_exercised")))
		return NULL;
	cJSON_ArrayForEach(k, by)
	{
		own |= cJSON_IsString(k) && !strcmp(k->valuestring, "own_threads");
		stress |= cJSON_IsString(k) && !strcmp(k->valuestring, "stress");
	}
	if (!json_bool(pkg, "concurrency_exercised", false))
		return "none";
	return own && stress ? "own threads + stress" : stress ? "stress" : "own threads";
}

char *stress_summary(const cJSON *pkg)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(pkg, "stress"), *k;
	struct sbuf sb = SBUF_INIT;
	int n = 0;
	if (!cJSON_IsObject(st))
		return NULL;
	if (json_str(st, "skipped_reason"))
		return xstrdup("no stress (not a pytest suite)");
	sbuf_addf(&sb, "stress x%d: %d/%d passed", json_int(st, "threads", 0),
		  json_int(st, "pass_count", 0), json_int(st, "iterations_completed", 0));
	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(st, "stress_only_tests"))
	{
		if (!cJSON_IsString(k))
			continue;
		if (n++ < 2)
			sbuf_addf(&sb, "%s%s", n == 1 ? "; fails only under stress: " : ", ",
				  k->valuestring);
	}
	if (n > 2)
		sbuf_addf(&sb, " (+%d)", n - 2);
	return sbuf_detach(&sb);
}
