/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/crashlog.h"
#include "ftscope/json.h"
#include "ftscope/runstore.h"
#include "ftscope/signature.h"
#include "ftscope/util.h"

static struct crash_occ *new_occ(struct crashlog *cl)
{
	if (cl->n == cl->cap) {
		cl->cap = cl->cap ? 2 * cl->cap : 32;
		cl->v = xrealloc(cl->v, cl->cap * sizeof(*cl->v));
	}
	memset(&cl->v[cl->n], 0, sizeof(cl->v[0]));
	return &cl->v[cl->n++];
}

static void set_signature(struct crash_occ *o, const char *text, const char *id,
			  const char *signal)
{
	o->signature = text ? text : signal ? signal : "unknown crash";
	sig_parts_parse(o->signature, &o->parts);
	if (!o->parts.signal && signal)
		o->parts.signal = xstrdup(signal);
	if (id && strlen(id) == 16)
		memcpy(o->id, id, 17);
	else
		hash_hex(o->signature, o->id); /* labeille's signatures, or no tracer */
}

static void add_iterations(struct crashlog *cl, const struct run_view *v, size_t run,
			   const struct rs_pkg *pkg, const struct rs_iter *iters, size_t n)
{
	size_t first = cl->n;

	for (size_t i = 0; i < n; i++) {
		const struct rs_iter *it = &iters[i];
		const struct rs_crash *runner = NULL;
		struct crash_occ *o;

		for (size_t k = 0; k < it->ncrashes && !runner; k++)
			if (it->crashes[k].runner)
				runner = &it->crashes[k];
		if (rs_iter_is(it, ITER_CRASH)) {
			o = new_occ(cl);
			o->iter = it->raw;
			o->iteration = (int)it->index;
			o->gil = it->gil;
			o->pid = runner ? (int)runner->pid : 0;
			o->comm = runner ? runner->comm : NULL;
			set_signature(o, it->crash_signature, it->crash_signature_id,
				      it->crash_signal);
		}
		for (size_t k = 0; k < it->ncrashes; k++) {
			const struct rs_crash *c = &it->crashes[k];
			if (c->runner || !c->runner_known)
				continue;
			o = new_occ(cl);
			o->iter = it->raw;
			o->iteration = (int)it->index;
			o->gil = it->gil;
			o->child = true;
			o->pid = (int)c->pid;
			o->comm = c->comm;
			set_signature(o, c->signature, c->signature_id, c->signal);
		}
	}
	for (size_t i = first; i < cl->n; i++) {
		struct crash_occ *o = &cl->v[i];
		o->run = run;
		o->run_label = v->meta.run_id;
		o->run_dir = pkg->run_dir;
		o->package = pkg->name;
		o->started_at = pkg->started_at;
	}
}

void crashlog_add_run(struct crashlog *cl, const struct run_view *v, size_t run, const char *only)
{
	for (size_t i = 0; i < v->n; i++) {
		const struct rs_pkg *pkg = &v->pkgs[i];

		if (!pkg->name || (only && strcmp(pkg->name, only)))
			continue;
		add_iterations(cl, v, run, pkg, pkg->it, pkg->nit);
		add_iterations(cl, v, run, pkg, pkg->git, pkg->ngit);
		/* stress iterations (run --parallel-threads) cluster like any other */
		add_iterations(cl, v, run, pkg, pkg->sit, pkg->nsit);
	}
}

static int str_cmp0(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int occ_cmp(const void *pa, const void *pb)
{
	const struct crash_occ *a = pa, *b = pb;
	int c;

	if (a->run != b->run)
		return a->run < b->run ? -1 : 1;
	if ((c = str_cmp0(a->started_at, b->started_at)))
		return c;
	if ((c = strcmp(a->package, b->package)))
		return c;
	if (a->gil != b->gil)
		return a->gil ? 1 : -1;
	if (a->iteration != b->iteration)
		return a->iteration < b->iteration ? -1 : 1;
	if (a->child != b->child)
		return a->child ? 1 : -1;
	return a->pid < b->pid ? -1 : a->pid > b->pid;
}

void crashlog_sort(struct crashlog *cl)
{
	if (cl->n > 1)
		qsort(cl->v, cl->n, sizeof(*cl->v), occ_cmp);
}

void crashlog_release(struct crashlog *cl)
{
	for (size_t i = 0; i < cl->n; i++)
		sig_parts_release(&cl->v[i].parts);
	free(cl->v);
	memset(cl, 0, sizeof(*cl));
}
