/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/dist.h"
#include "ftscope/results.h"
#include "ftscope/workspace.h"

#include "py_ft_dist.h"

void dist_found_release(struct dist_found *f)
{
	free(f->version);
	free(f->sdist);
	free(f->wheel);
	free(f->error);
	strv_release(&f->ft_wheels);
	memset(f, 0, sizeof(*f));
}

/* A file name ft_dist.py reported: a plain path without newlines, or NULL. */
static char *path_from(const cJSON *j, const char *key)
{
	const char *s = json_str(j, key);
	if (!s || s[0] != '/' || strpbrk(s, "\n\r"))
		return NULL;
	return xstrdup(s);
}

int dist_find(const char *python, const char *name, const char *abi, bool want_sdist,
	      bool want_wheel, const char *outdir, const char *cwd, const struct strv *env,
	      const char *script_path, double timeout, struct dist_found *f)
{
	struct sbuf cmd = SBUF_INIT;
	struct iter_outcome o = { 0 };
	char *out = NULL;
	cJSON *j = NULL, *w;
	int ret = -1;

	memset(f, 0, sizeof(*f));
	if (write_file_atomic(script_path, py_ft_dist, strlen(py_ft_dist)) < 0) {
		f->error = xasprintf("cannot write '%s'", script_path);
		goto out;
	}
	sbuf_add_shquoted(&cmd, python);
	sbuf_addc(&cmd, ' ');
	sbuf_add_shquoted(&cmd, script_path);
	sbuf_addc(&cmd, ' ');
	sbuf_add_shquoted(&cmd, name);
	sbuf_addf(&cmd, " %s ", abi);
	sbuf_add_shquoted(&cmd, outdir);
	if (want_sdist)
		sbuf_adds(&cmd, " --sdist");
	if (want_wheel)
		sbuf_adds(&cmd, " --wheel");
	if (run_collect(cmd.buf, cwd, env, timeout, NULL, &out, &o) == 0)
		j = last_json_line(out);
	if (!cJSON_IsObject(j)) {
		f->error = xasprintf("looking for %s's release failed%s%s", name,
				     o.stderr_tail && *o.stderr_tail ? ": " : "",
				     o.stderr_tail ? o.stderr_tail : "");
		goto out;
	}
	f->version = xstrdup(json_str(j, "version"));
	f->sdist = path_from(j, "sdist");
	f->wheel = path_from(j, "target_wheel");
	f->error = xstrdup(json_str(j, "error"));
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(j, "ft_wheels"))
		if (cJSON_IsString(w))
			strv_push(&f->ft_wheels, w->valuestring);
	if (!f->version && !f->error)
		f->error = xasprintf("no release of %s found", name);
	ret = f->version ? 0 : -1;
out:
	cJSON_Delete(j);
	iter_outcome_release(&o);
	sbuf_release(&cmd);
	free(out);
	return ret;
}

char *dist_ft_abi(const char *minor)
{
	unsigned a, b;
	char end;
	if (!minor || sscanf(minor, "%u.%u%c", &a, &b, &end) != 2)
		return NULL;
	return xasprintf("cp%u%ut", a, b);
}

/* ---- the install command ---- */

/* Split a command line into words, quotes kept as written (only used to find and replace
 * whole words). */
static void words(const char *s, struct strv *out)
{
	while (*s) {
		const char *b;
		char q = 0;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		b = s;
		while (*s && (q || !isspace((unsigned char)*s))) {
			if (q && *s == q)
				q = 0;
			else if (!q && (*s == '\'' || *s == '"'))
				q = *s;
			s++;
		}
		strv_push_owned(out, xstrndup(b, (size_t)(s - b)));
	}
}

/* The word without its quotes. */
static char *unquoted(const char *w)
{
	struct sbuf sb = SBUF_INIT;
	for (; *w; w++)
		if (*w != '\'' && *w != '"')
			sbuf_addc(&sb, *w);
	return sbuf_detach(&sb);
}

/* "." / "./" / ".[x]" / "./[x]": the project itself; *extras points at "[x]" or "". */
static bool self_ref(const char *w, const char **extras)
{
	if (w[0] != '.')
		return false;
	w += w[1] == '/' ? 2 : 1;
	if (*w && (*w != '[' || w[strlen(w) - 1] != ']'))
		return false;
	*extras = w;
	return true;
}

/* Is the segment (its words) `pip install ...` / `python -m pip install ...`? Index of the
 * first argument after "install", or 0. */
static size_t pip_install_args(const struct strv *wv)
{
	size_t i = 0;
	if (wv->n >= 4 && (!strcmp(wv->v[0], "python") || !strcmp(wv->v[0], "python3")) &&
	    !strcmp(wv->v[1], "-m"))
		i = 2;
	if (wv->n < i + 2 || (strcmp(wv->v[i], "pip") && strcmp(wv->v[i], "pip3")) ||
	    strcmp(wv->v[i + 1], "install"))
		return 0;
	return i + 2;
}

char *dist_install_command(const char *command, const char *artifact, const char *shield)
{
	struct sbuf sb = SBUF_INIT;
	const char *p = command;
	bool replaced = false;

	while (p) {
		const char *amp = strstr(p, "&&");
		char *seg = amp ? xstrndup(p, (size_t)(amp - p)) : xstrdup(p);
		struct strv wv = STRV_INIT;
		size_t first;
		words(seg, &wv);
		first = pip_install_args(&wv);
		if (sb.len)
			sbuf_adds(&sb, " && ");
		for (size_t i = 0; i < wv.n; i++) {
			char *u = unquoted(wv.v[i]);
			const char *extras = NULL;
			bool ed = first && i >= first && i + 1 < wv.n &&
				  (!strcmp(u, "-e") || !strcmp(u, "--editable"));
			char *next = ed ? unquoted(wv.v[i + 1]) : NULL;
			if (ed && self_ref(next, &extras))
				i++; /* "-e ." -> the artifact (not editable) */
			else if (!(first && i >= first && self_ref(u, &extras)))
				extras = NULL;
			if (i && sb.len && sb.buf[sb.len - 1] != ' ')
				sbuf_addc(&sb, ' ');
			if (extras) {
				char *a = xasprintf("%s%s", artifact, extras);
				sbuf_add_shquoted(&sb, a);
				free(a);
				replaced = true;
			} else {
				sbuf_adds(&sb, wv.v[i]);
			}
			free(u);
			free(next);
		}
		strv_release(&wv);
		free(seg);
		p = amp ? amp + 2 : NULL;
	}
	if (!replaced) {
		sbuf_adds(&sb, sb.len ? " && pip install " : "pip install ");
		sbuf_add_shquoted(&sb, artifact);
	}
	if (shield && *shield) {
		/* as the test user, in the checkout; a failed rename fails the install */
		sbuf_adds(&sb, " && { for m in ");
		sbuf_add_shquoted(&sb, shield);
		sbuf_adds(&sb, " ");
		{
			char *py = xasprintf("%s.py", shield);
			sbuf_add_shquoted(&sb, py);
			free(py);
		}
		sbuf_adds(&sb, "; do if [ -e \"$m\" ]; then mv -- \"$m\" \"_ftscope_shielded_$m\" "
			       "|| exit 1; fi; done; }");
	}
	return sbuf_detach(&sb);
}

void dist_tag_candidates(const char *name, const char *version, struct strv *out)
{
	strv_push_owned(out, xasprintf("v%s", version));
	strv_push(out, version);
	strv_push_owned(out, xasprintf("%s-%s", name, version));
	strv_push_owned(out, xasprintf("release-%s", version));
	strv_push_owned(out, xasprintf("V%s", version));
}
