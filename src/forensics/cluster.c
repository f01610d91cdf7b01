/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <stdlib.h>
#include <string.h>

#include "ftscope/cluster.h"
#include "ftscope/util.h"

void sig_parts_parse(const char *text, struct sig_parts *out)
{
	struct strv parts = STRV_INIT;

	memset(out, 0, sizeof(*out));
	if (!text)
		return;
	if (!strstr(text, " | ")) {
		/* "SIGSEGV", "SIGSEGV: Fatal Python error: ..." (labeille), "SIGSEGV: x.py:f" */
		size_t n = strcspn(text, ": ");
		const char *rest = text + n;
		if (starts_with(text, "SIG") && n > 3)
			out->signal = xstrndup(text, n);
		/* a Python frame is one word with a colon; labeille's message is not one */
		if (out->signal && starts_with(rest, ": ") && rest[2] && strchr(rest + 2, ':') &&
		    !strpbrk(rest + 2, " \t"))
			out->py_frame = xstrdup(rest + 2);
		return;
	}
	/* split on " | " exactly: a frame may hold a '|' (operator|) */
	for (const char *p = text;;) {
		const char *sep = strstr(p, " | ");
		char *item = sep ? xstrndup(p, (size_t)(sep - p)) : xstrdup(p);
		strv_push_owned(&parts, item);
		if (!sep)
			break;
		p = sep + 3;
	}
	for (size_t i = 0; i < parts.n; i++) {
		char *s = trim(parts.v[i]);
		if (!*s)
			continue;
		if (i == 0 && starts_with(s, "SIG"))
			out->signal = xstrdup(s);
		else if (starts_with(s, "py ") && !out->py_frame)
			out->py_frame = xstrdup(s + 3);
		else
			strv_push(&out->frames, s);
	}
	strv_release(&parts);
}

void sig_parts_release(struct sig_parts *p)
{
	free(p->signal);
	free(p->py_frame);
	strv_release(&p->frames);
	memset(p, 0, sizeof(*p));
}

size_t frames_lcs(const char *const *a, size_t na, const char *const *b, size_t nb)
{
	size_t *prev, *cur, ret;

	if (!na || !nb)
		return 0;
	prev = xcalloc(nb + 1, sizeof(*prev));
	cur = xcalloc(nb + 1, sizeof(*cur));
	for (size_t i = 1; i <= na; i++) {
		for (size_t j = 1; j <= nb; j++) {
			if (a[i - 1] && b[j - 1] && !strcmp(a[i - 1], b[j - 1]))
				cur[j] = prev[j - 1] + 1;
			else
				cur[j] = prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
		}
		memcpy(prev, cur, (nb + 1) * sizeof(*prev));
	}
	ret = prev[nb];
	free(prev);
	free(cur);
	return ret;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

bool variants_similar(const struct crash_variant *a, const struct crash_variant *b)
{
	if (a->id && b->id && !strcmp(a->id, b->id))
		return true;
	if (!same_str(a->signal, b->signal))
		return false;
	return frames_lcs(a->frames, a->nframes, b->frames, b->nframes) >= CLUSTER_SAME_FRAMES;
}

static size_t uf_find(size_t *parent, size_t i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]];
		i = parent[i];
	}
	return i;
}

size_t cluster_variants(const struct crash_variant *v, size_t n, size_t *group)
{
	size_t *parent, *num, nclusters = 0;

	if (!n)
		return 0;
	parent = xmalloc(n * sizeof(*parent));
	num = xmalloc(n * sizeof(*num));
	for (size_t i = 0; i < n; i++)
		parent[i] = i;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			size_t ri = uf_find(parent, i), rj = uf_find(parent, j);
			if (ri == rj || !variants_similar(&v[i], &v[j]))
				continue;
			/* the earlier variant stays the root */
			if (ri < rj)
				parent[rj] = ri;
			else
				parent[ri] = rj;
		}
	}
	for (size_t i = 0; i < n; i++)
		num[i] = (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		size_t r = uf_find(parent, i);
		if (num[r] == (size_t)-1)
			num[r] = nclusters++;
		group[i] = num[r];
	}
	free(parent);
	free(num);
	return nclusters;
}
