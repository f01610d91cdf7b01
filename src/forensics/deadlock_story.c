/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * `ftscope deadlocks`, the story first (deadlock_story.h): iterations grouped by a
 * signature of what hung -- for a cycle, each of its threads' name, the line it waits at and
 * the lock's expression, sorted: tids differ between iterations, these do not --, then the
 * cycle of the group's first iteration thread by thread, the other threads one line each.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/deadlock_story.h"
#include "ftscope/json.h"
#include "ftscope/runstore.h"
#include "ftscope/snapshot.h"
#include "ftscope/util.h"

static const cJSON *item(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const cJSON *thread_find(const cJSON *snap, int tid)
{
	const cJSON *p, *t;
	cJSON_ArrayForEach(p, item(snap, "processes"))
		cJSON_ArrayForEach(t, item(p, "threads"))
			if (json_int(t, "tid", -1) == tid)
				return t;
	return NULL;
}

/* The working directory of the process of thread t (short paths), or NULL. */
static const char *cwd_of(const cJSON *snap, const cJSON *t)
{
	const cJSON *p, *x;
	cJSON_ArrayForEach(p, item(snap, "processes"))
		cJSON_ArrayForEach(x, item(p, "threads"))
			if (x == t)
				return json_str(p, "cwd");
	return NULL;
}

static const char *thread_name(const cJSON *t)
{
	const char *n = json_str(t, "name");
	return n ? n : json_str(t, "comm") ? json_str(t, "comm") : "?";
}

/* Where a thread is: its wait's Python site, else its first Python frame, else its first
 * native frame that is not plumbing. */
struct where {
	const char *function, *file, *text;
	int line;
	bool python;
};

static struct where where_of(const cJSON *t)
{
	struct where w = { NULL, NULL, NULL, 0, false };
	const cJSON *site = item(item(t, "wait"), "site"), *f;
	if (cJSON_IsObject(site)) {
		w.function = json_str(site, "function");
		w.file = json_str(site, "file");
		w.text = json_str(site, "text");
		w.line = json_int(site, "line", 0);
		w.python = true;
		return w;
	}
	/* pass 0: Python frames; pass 1: native frames that are not plumbing */
	for (int pass = 0; pass < 2; pass++)
		cJSON_ArrayForEach(f, item(t, "frames")) {
			bool py = json_bool(f, "python", false);
			if (pass == 0 ? !py : py || json_bool(f, "plumbing", false) ||
					     !json_str(f, "function"))
				continue;
			w.function = json_str(f, "function");
			w.file = json_str(f, "file");
			w.line = json_int(f, "line", 0);
			w.python = py;
			return w;
		}
	return w;
}

static void where_print(FILE *out, const struct where *w, const char *cwd)
{
	if (!w->function) {
		fputs(" (no stack)", out);
		return;
	}
	if (w->python && w->file)
		fprintf(out, " at %s:%d", py_short_path_in(w->file, cwd), w->line);
	else if (w->file)
		fprintf(out, " in %s (%s:%d)", w->function, strrchr(w->file, '/') ?
			strrchr(w->file, '/') + 1 : w->file, w->line);
	else
		fprintf(out, " in %s", w->function);
	if (w->text)
		fprintf(out, "  %s", w->text);
	else if (w->python)
		fprintf(out, " (%s)", w->function);
}

/* The first cycle of a snapshot, or NULL. */
static const cJSON *first_cycle(const cJSON *snap)
{
	const cJSON *c = cJSON_GetArrayItem(item(snap, "cycles"), 0);
	return cJSON_IsObject(c) ? c : NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What hung, independent of tids: see the top of the file. malloc'd. */
static char *signature(const struct story_iter *it)
{
	const cJSON *cyc = it->snap ? first_cycle(it->snap) : NULL, *tid;
	struct strv parts = STRV_INIT;
	struct sbuf sb = SBUF_INIT;
	if (!cyc)
		return xasprintf("no cycle: %s", it->reason ? it->reason : "?");
	cJSON_ArrayForEach(tid, item(cyc, "tids")) {
		const cJSON *t = thread_find(it->snap, (int)tid->valuedouble);
		struct where w = where_of(t);
		strv_push_owned(&parts, xasprintf("%s|%s:%d|%s", thread_name(t),
						  w.function ? w.function : "?", w.line,
						  json_str(item(t, "wait"), "expr") ?
						  json_str(item(t, "wait"), "expr") : ""));
	}
	if (parts.n)
		qsort(parts.v, parts.n, sizeof(*parts.v), cmp_str);
	sbuf_adds(&sb, "cycle");
	for (size_t i = 0; i < parts.n; i++)
		sbuf_addf(&sb, ";%s", parts.v[i]);
	strv_release(&parts);
	return sbuf_detach(&sb);
}

/* "1, 2, 3" or "gil-1, gil-2" of the group's iterations of one mode */
static void labels(FILE *out, const struct story_iter *it, const size_t *idx, size_t n, bool gil)
{
	bool first = true;
	for (size_t i = 0; i < n; i++)
		if (it[idx[i]].gil == gil) {
			fprintf(out, "%s%s", first ? "" : ", ", it[idx[i]].label);
			first = false;
		}
}

static const char *plural(int n)
{
	return n == 1 ? "" : "s";
}

static void print_holds(FILE *out, const cJSON *t, const cJSON *waiter, const char *cwd)
{
	const cJSON *h = cJSON_GetArrayItem(item(t, "holds"), 0), *ww = item(waiter, "wait");
	const char *lobj = json_str(ww, "lock_object");
	const cJSON *x;
	/* the hold the waiter waits for, if there are several */
	cJSON_ArrayForEach(x, item(t, "holds"))
		if (lobj && json_str(x, "lock_object") && !strcmp(lobj, json_str(x, "lock_object")))
			h = x;
	if (cJSON_IsObject(h)) {
		const cJSON *site = item(h, "site");
		fprintf(out, "      holds %s", json_str(h, "expr") ? json_str(h, "expr")
				: json_str(h, "lock") ? json_str(h, "lock") : "a lock");
		if (cJSON_IsObject(site))
			fprintf(out, ", taken at %s:%d  %s", py_short_path_in(json_str(site, "file") ?
					json_str(site, "file") : "?", cwd), json_int(site, "line", 0),
				json_str(site, "text") ? json_str(site, "text") : "");
		else
			fputs(" (where it was taken is unknown)", out);
		fputc('\n', out);
		return;
	}
	fprintf(out, "      holds the %s %s that \"%s\" waits for\n",
		json_str(ww, "lock") ? json_str(ww, "lock") : "lock",
		json_str(ww, "expr") ? json_str(ww, "expr") :
		json_str(ww, "futex_uaddr") ? json_str(ww, "futex_uaddr") : "", thread_name(waiter));
}

static void print_waits(FILE *out, const cJSON *t, const cJSON *holder, const char *cwd)
{
	const cJSON *w = item(t, "wait");
	struct where wh = where_of(t);
	const char *what = json_str(w, "expr") ? json_str(w, "expr") : json_str(w, "lock");
	fprintf(out, "      waits for %s", what ? what : "?");
	where_print(out, &wh, cwd);
	if (holder)
		fprintf(out, "  (held by \"%s\"%s)", thread_name(holder),
			json_bool(w, "owner_certain", false) ? "" : ", inferred");
	fputc('\n', out);
}

static void print_other(FILE *out, const cJSON *t, const char *cwd)
{
	const cJSON *w = item(t, "wait");
	struct where wh = where_of(t);
	const char *prim = json_str(w, "primitive"), *kind = json_str(w, "kind");
	fprintf(out, "    \"%s\" (thread %d): ", thread_name(t), json_int(t, "tid", 0));
	if (json_bool(t, "crashed", false))
		fputs("crashed", out);
	else if (prim)
		fputs(prim, out);
	else if (kind && !strcmp(kind, "child"))
		fputs("waits for a child process", out);
	else if (kind && !strcmp(kind, "futex"))
		fprintf(out, "waits on %s", json_str(w, "lock") ? json_str(w, "lock") : "a futex");
	else if (kind && !strcmp(kind, "syscall"))
		fputs("in a system call", out);
	else
		fputs("running", out);
	where_print(out, &wh, cwd);
	fputc('\n', out);
}

static bool in_cycle(const cJSON *cyc, int tid)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, item(cyc, "tids"))
		if ((int)x->valuedouble == tid)
			return true;
	return false;
}

static void print_group(FILE *out, const struct story_iter *it, const size_t *idx, size_t n)
{
	const struct story_iter *first = &it[idx[0]];
	const cJSON *snap = first->snap, *cyc = snap ? first_cycle(snap) : NULL, *x, *p, *t;
	const cJSON *tids = item(cyc, "tids");
	int nt = cJSON_GetArraySize(tids);

	if (!snap) {
		fprintf(out, "  no snapshot was taken (--full shows what the /proc monitor saw)\n");
		return;
	}
	if (cyc) {
		fprintf(out, "  Cycle%s: ", json_bool(cyc, "certain", false) ? "" :
			" (owners inferred)");
		for (int i = 0; i <= nt && nt; i++) {
			t = thread_find(snap, (int)cJSON_GetArrayItem(tids, i % nt)->valuedouble);
			fprintf(out, "\"%s\"%s", thread_name(t), i < nt ? " -> " : "\n");
		}
		for (int i = 0; i < nt; i++) {
			const cJSON *me = thread_find(snap, (int)cJSON_GetArrayItem(tids, i)->valuedouble);
			const cJSON *next = thread_find(snap, (int)cJSON_GetArrayItem(tids, (i + 1) % nt)->valuedouble);
			const cJSON *prev = thread_find(snap, (int)cJSON_GetArrayItem(tids, (i + nt - 1) % nt)->valuedouble);
			fprintf(out, "    \"%s\" (thread %d)\n", thread_name(me), json_int(me, "tid", 0));
			print_holds(out, me, prev, cwd_of(snap, me));
			print_waits(out, me, next, cwd_of(snap, me));
		}
	}
	fprintf(out, "  %s:\n", cyc ? "Other threads" : "Threads");
	cJSON_ArrayForEach(p, item(snap, "processes"))
		cJSON_ArrayForEach(t, item(p, "threads"))
			if (!cyc || !in_cycle(cyc, json_int(t, "tid", 0)))
				print_other(out, t, json_str(p, "cwd"));
	(void)x;
	(void)n;
}

static void print_proc_fallback(FILE *out, const struct rs_hang *hang)
{
	fprintf(out, "  (no ptrace snapshot: the /proc monitor saw)\n");
	for (size_t i = 0; hang && i < hang->nthreads; i++) {
		const struct rs_proc_thread *t = &hang->threads[i];
		fprintf(out, "    pid %d tid %d %-16s [%s] %s %s%s\n", t->pid, t->tid,
			t->comm ? t->comm : "?", t->state ? t->state : "?",
			t->syscall ? t->syscall : "-", t->futex_op ? t->futex_op : "",
			t->blocked ? " (blocked)" : "");
	}
	if (hang && hang->python_stacks)
		fprintf(out, "\n  Python stacks (faulthandler):\n%s\n", hang->python_stacks);
}

/* Every iteration's merged stacks (--full); blank_first: a blank line before the first. */
static void print_stacks(FILE *out, const char *package, const struct story_iter *it, size_t n,
			 unsigned flags, bool blank_first)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s=== %s, iteration %s (PYTHON_GIL=%d): %s after %.1f s without progress\n",
			i || blank_first ? "\n" : "", package, it[i].label, it[i].gil,
			it[i].reason ? it[i].reason : "?", it[i].after_s);
		if (it[i].snap)
			snapshot_print_json(out, it[i].snap, SNAP_PRINT_NATIVE |
					    ((flags & STORY_ALL_FRAMES) ? SNAP_PRINT_ALL_FRAMES : 0));
		else
			print_proc_fallback(out, it[i].hang);
	}
}

void deadlock_story_print(FILE *out, const char *package, const struct story_iter *it, size_t n,
			  int ntotal_ft, int ntotal_gil, unsigned flags)
{
	char **sig;
	size_t *idx;
	bool *done;
	size_t ngroups = 0;

	if (flags & STORY_STACKS_ONLY) {
		print_stacks(out, package, it, n, flags, false);
		return;
	}
	sig = xcalloc(n ? n : 1, sizeof(*sig));
	idx = xcalloc(n ? n : 1, sizeof(*idx));
	done = xcalloc(n ? n : 1, sizeof(*done));
	for (size_t i = 0; i < n; i++)
		sig[i] = signature(&it[i]);
	for (size_t i = 0; i < n; i++)
		if (!done[i])
			for (size_t k = i; k < n; k++)
				if (!strcmp(sig[i], sig[k]))
					done[k] = true;
	for (size_t i = 0; i < n; i++) {
		size_t m = 0;
		int ft = 0, gil = 0;
		bool cycle = starts_with(sig[i], "cycle");
		if (!done[i])
			continue;
		for (size_t k = i; k < n; k++)
			if (done[k] && !strcmp(sig[i], sig[k])) {
				idx[m++] = k;
				ft += !it[k].gil;
				gil += it[k].gil;
			}
		for (size_t k = 0; k < m; k++)
			done[idx[k]] = false;
		ngroups++;
		fprintf(out, "%s%s: %s", ngroups > 1 ? "\n" : "", package,
			cycle ? "deadlock (lock-order cycle)" : "hang without a wait-for cycle");
		if (!cycle)
			fprintf(out, " (%s)", it[i].reason ? it[i].reason : "?");
		if (ft) {
			fprintf(out, " in %d of %d iteration%s (", ft, ntotal_ft, plural(ntotal_ft));
			labels(out, it, idx, m, false);
			fputc(')', out);
			if (ft > 1)
				fputs(cycle ? ", same cycle" : ", same threads", out);
			if (gil) {
				fprintf(out, "; also with the GIL: %d of %d (", gil, ntotal_gil);
				labels(out, it, idx, m, true);
				fputc(')', out);
			} else if (ntotal_gil > 0) {
				fprintf(out, "; not with the GIL");
			}
		} else {
			fprintf(out, " only with the GIL: %d of %d iteration%s (", gil, ntotal_gil,
				plural(ntotal_gil));
			labels(out, it, idx, m, true);
			fputc(')', out);
		}
		fputc('\n', out);
		print_group(out, it, idx, m);
	}
	for (size_t i = 0; i < n; i++)
		free(sig[i]);
	free(sig);
	free(idx);
	free(done);
	if (flags & STORY_FULL)
		print_stacks(out, package, it, n, flags, true);
}

/* The iterations of pkg that hung: its plain then its GIL ones, or (stress) its stress ones.
 * A malloc'd array of *n pointers into pkg (NULL when none). */
static const struct rs_iter **hung_iters(const struct rs_pkg *pkg, bool stress, size_t *n)
{
	const struct rs_iter **its = NULL;

	*n = 0;
	for (int m = stress ? 2 : 0; m < (stress ? 3 : 2); m++) {
		const struct rs_iter *arr = m == 0 ? pkg->it : m == 1 ? pkg->git : pkg->sit;
		size_t narr = m == 0 ? pkg->nit : m == 1 ? pkg->ngit : pkg->nsit;
		for (size_t k = 0; k < narr; k++) {
			if (!arr[k].hang.present)
				continue;
			its = xrealloc(its, (*n + 1) * sizeof(*its));
			its[(*n)++] = &arr[k];
		}
	}
	return its;
}

void story_pkg_load(struct story_pkg *s, const struct rs_pkg *pkg, bool stress)
{
	memset(s, 0, sizeof(*s));
	s->pkg = pkg;
	s->stress = stress;
	s->its = hung_iters(pkg, stress, &s->n);
	if (!s->n)
		return;
	s->stacks = xcalloc(s->n, sizeof(*s->stacks));
	s->labels = xcalloc(s->n, sizeof(*s->labels));
	s->story = xcalloc(s->n, sizeof(*s->story));
	for (size_t k = 0; k < s->n; k++) {
		const struct rs_iter *it = s->its[k];
		const char *art = json_str(it->raw, "artifacts");
		runstore_hang_stacks(pkg, it, 0, &s->stacks[k]);
		s->labels[k] = art && strrchr(art, '/')
				 ? xstrdup(strrchr(art, '/') + 1)
				 : xasprintf("%s%ld", it->gil ? "gil-" : it->stress ? "stress-" : "",
					     it->index);
		s->story[k] = (struct story_iter){ s->labels[k], it->gil, it->hang.reason,
						   it->hang.detected_after_s, s->stacks[k].snap,
						   &it->hang };
	}
}

const struct rs_hang_stacks *story_pkg_stacks(const struct story_pkg *s, const struct rs_iter *it)
{
	for (size_t k = 0; k < s->n; k++)
		if (s->its[k] == it)
			return &s->stacks[k];
	return NULL;
}

int story_pkg_print(FILE *out, const struct story_pkg *s, unsigned flags, bool blank_before)
{
	const struct rs_pkg *pkg = s->pkg;
	char *title;

	if (!s->n)
		return 0;
	title = s->stress ? xasprintf("%s (stress iterations)", pkg->name)
			  : xstrdup(pkg->name ? pkg->name : "?");
	if (blank_before)
		fputc('\n', out);
	deadlock_story_print(out, title, s->story, s->n, (int)(s->stress ? pkg->nsit : pkg->nit),
			     s->stress ? 0 : (int)pkg->ngit, flags);
	free(title);
	return (int)s->n;
}

void story_pkg_release(struct story_pkg *s)
{
	for (size_t k = 0; k < s->n; k++) {
		runstore_hang_stacks_release(&s->stacks[k]);
		free(s->labels[k]);
	}
	free(s->story);
	free(s->stacks);
	free(s->labels);
	free(s->its);
	memset(s, 0, sizeof(*s));
}
