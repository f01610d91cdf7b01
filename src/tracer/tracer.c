/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* The tracers, and the choice of one (tracer.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/tracer.h"

/* Every tracer, in auto's order of preference: the first that can run here is taken. */
static const struct tracer_ops *const tracers[] = {
	&tracer_ebpf_ops,
	&tracer_ptrace_ops,
	&tracer_none_ops,
};

const struct tracer_ops *tracer_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(tracers); i++)
		if (!strcmp(tracers[i]->name, name))
			return tracers[i];
	return NULL;
}

const struct tracer_ops *tracer_at(size_t i)
{
	return i < ARRAY_SIZE(tracers) ? tracers[i] : NULL;
}

const char *tracer_choices(void)
{
	static char buf[256];
	struct sbuf sb = SBUF_INIT;
	if (buf[0])
		return buf;
	sbuf_adds(&sb, "auto");
	for (size_t i = ARRAY_SIZE(tracers); i-- > 0;)
		sbuf_addf(&sb, "%s%s", i ? ", " : " or ", tracers[i]->name);
	snprintf(buf, sizeof(buf), "%s", sb.buf);
	sbuf_release(&sb);
	return buf;
}

static struct tracer *tracer_new(const struct tracer_ops *ops)
{
	struct tracer *t = xcalloc(1, sizeof(*t));
	t->ops = ops;
	return t;
}

int tracer_select(const char *want, struct tracer **out, char **reason, struct sbuf *err)
{
	struct sbuf why = SBUF_INIT, prev = SBUF_INIT;
	const struct tracer_ops *ops;
	int ret = -1;
	*out = NULL;
	*reason = NULL;
	if (strcmp(want, "auto")) {
		ops = tracer_find(want);
		if (!ops)
			sbuf_addf(err, "--tracer wants %s, not '%s'", tracer_choices(), want);
		else if (ops->probe(&why) < 0)
			sbuf_addf(err, "--tracer %s: %s", want,
				  why.len ? why.buf : "cannot run here");
		else {
			*out = tracer_new(ops);
			*reason = xasprintf("asked for (--tracer %s)", want);
			ret = 0;
		}
		sbuf_release(&why);
		return ret;
	}
	/* auto: the first that can run; a fallback says why the one before it cannot */
	for (size_t i = 0; i < ARRAY_SIZE(tracers) && ret < 0; i++) {
		ops = tracers[i];
		sbuf_reset(&why);
		if (ops->probe(&why) < 0) {
			sbuf_reset(&prev);
			sbuf_adds(&prev, why.len ? why.buf : "?");
			continue;
		}
		*out = tracer_new(ops);
		if (i == 0)
			*reason = xasprintf("auto: %s", ops->auto_note);
		else if (ops->fallback_note)
			*reason = xasprintf("auto: %s; %s", prev.buf, ops->fallback_note);
		else
			*reason = xasprintf("auto: %s", prev.buf);
		ret = 0;
	}
	if (ret < 0)
		sbuf_addf(err, "no tracer can run here: %s", prev.buf);
	sbuf_release(&why);
	sbuf_release(&prev);
	return ret;
}

const char *tracer_name(const struct tracer *t)
{
	return t ? t->ops->name : tracer_none_ops.name;
}

void tracer_release(struct tracer *t)
{
	if (!t)
		return;
	if (t->ops->release)
		t->ops->release(t);
	free(t);
}
