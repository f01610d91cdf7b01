/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * A snapshot for a person: threads, merged stacks (innermost first), waits, owners, cycles.
 * It is a consumer of the snapshot's JSON events (jsonout.h), so a snapshot just taken
 * (snapshot_emit, `ftscope dump`) and one read back from forensics.json (jsonout_replay,
 * `ftscope deadlocks`, `ftscope crashes`) print alike, through this one formatter.
 *
 * What it prints of a thread needs its fields and its frames; a thread's frames are printed
 * as they come, after its header, which is printed when the frames begin (every field the
 * header needs comes before "frames" in the form snapshot_emit writes).
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/jsonout.h"
#include "ftscope/snapshot.h"
#include "ftscope/util.h"

enum level {
	L_OTHER, L_ROOT, L_PROCS, L_PROC, L_PYTHON, L_THREADS, L_THREAD, L_WAIT, L_FRAMES,
	L_FRAME, L_CYCLES, L_CYCLE, L_TIDS, L_HOLDS, L_HOLD, L_HOLD_SITE,
};

struct field {
	struct sbuf s;
	bool set;               /* a string was given (not null, not absent) */
};

struct printer {
	struct jsonout o;
	FILE *f;
	bool all_frames, native;
	enum level stack[JSONOUT_MAX_DEPTH];
	int depth;
	/* the process */
	long pid;
	struct field cmdline, cwd, py_version, py_error;
	bool python, free_threaded, gil_enabled, header_done;
	/* the thread */
	long tid, python_frames;
	struct field comm, name, state, holds, h_expr, h_file, h_text, unwind_error;
	bool crashed, merged, thread_header_done;
	int idx, hidden, h_line;
	/* its wait */
	struct field kind, futex_uaddr, futex_op, lock, owner_note, primitive, expr, owner_name,
		lock_object;
	bool wait, untimed, owner_certain, has_owner;
	long owner;
	/* a frame */
	struct field fn, file, module, offset;
	bool fr_python, plumbing, inlined;
	long line;
	/* the threads' names, for the cycles */
	long *name_tids;
	struct strv names;
	/* a cycle */
	bool certain;
	long *tids;
	size_t ntids, captids;
};

static void set_field(struct field *fl, const char *v)
{
	sbuf_reset(&fl->s);
	fl->set = v != NULL;
	if (v)
		sbuf_adds(&fl->s, v);
}

static void clear_field(struct field *fl)
{
	sbuf_reset(&fl->s);
	fl->set = false;
}

static const char *val(const struct field *fl, const char *dflt)
{
	return fl->set ? fl->s.buf : dflt;
}

static enum level top(const struct printer *p)
{
	return p->depth ? p->stack[p->depth - 1] : L_OTHER;
}

static void print_process_header(struct printer *p)
{
	FILE *f = p->f;
	if (p->header_done)
		return;
	p->header_done = true;
	fprintf(f, "Process %ld: %s\n", p->pid, val(&p->cmdline, "?"));
	if (p->python)
		fprintf(f, "Python %s%s%s\n", val(&p->py_version, "(null)"),
			p->free_threaded ? " (free-threaded" : " (GIL build",
			p->free_threaded ? (p->gil_enabled ? ", GIL re-enabled)" : ")") : ")");
	else if (p->py_error.set)
		fprintf(f, "no Python stacks: %s\n", p->py_error.s.buf);
}

const char *py_short_path(const char *path)
{
	static const char *const marks[] = { "/site-packages/", "/dist-packages/" };
	const char *m, *lib;
	for (size_t i = 0; i < ARRAY_SIZE(marks); i++)
		if ((m = strstr(path, marks[i])))
			return m + strlen(marks[i]);
	/* the standard library: .../lib/python3.13t/threading.py, .../pathlib/_local.py */
	lib = strstr(path, "/lib/python3");
	if (lib) {
		const char *slash = strchr(lib + 5, '/');
		if (slash && slash[1])
			return slash + 1;
	}
	return path;
}

const char *py_short_path_in(const char *path, const char *dir)
{
	size_t n = dir ? strlen(dir) : 0;
	const char *s = py_short_path(path);
	if (s == path && n > 1 && !strncmp(path, dir, n) && path[n] == '/' && path[n + 1])
		return path + n + 1;
	return s;
}

static bool is_idle(const struct printer *p)
{
	return p->wait && p->kind.set && strcmp(p->kind.s.buf, "running");
}

static void print_thread_header(struct printer *p)
{
	FILE *f = p->f;
	bool lockwait;
	if (p->thread_header_done)
		return;
	p->thread_header_done = true;
	fprintf(f, "\nThread %ld \"%s\"", p->tid, val(&p->name, val(&p->comm, "?")));
	/* a native name of its own (prctl, pthread_setname_np) beside the Python one: shown,
	 * it is what ps and top call the thread */
	if (p->name.set && p->comm.set && strcmp(p->comm.s.buf, p->name.s.buf) &&
	    strncmp(p->comm.s.buf, "python", 6))
		fprintf(f, " [native \"%s\"]", p->comm.s.buf);
	fprintf(f, " (%s)", p->crashed ? "CRASHED" : is_idle(p) ? "idle" : "active");
	if (p->primitive.set)
		fprintf(f, ": %s%s%s", p->primitive.s.buf, p->untimed ? "" : " (with timeout)",
			p->expr.set ? "" : "");
	else if (p->wait && p->futex_uaddr.set)
		fprintf(f, ": waits on %s", val(&p->lock, "?"));
	else if (p->wait && p->kind.set && !strcmp(p->kind.s.buf, "child"))
		fprintf(f, ": waits for a child process");
	fputc('\n', f);
	lockwait = p->wait && p->futex_uaddr.set &&
		   (!p->primitive.set || !strcmp(p->primitive.s.buf, "Lock.acquire") ||
		    !strcmp(p->primitive.s.buf, "RLock.acquire"));
	if (lockwait && (p->expr.set || p->lock_object.set || p->has_owner)) {
		fprintf(f, "    waits for %s", p->expr.set ? p->expr.s.buf : val(&p->lock, "?"));
		if (p->lock_object.set)
			fprintf(f, " (%s %s)", val(&p->lock, "lock"), p->lock_object.s.buf);
		if (p->has_owner)
			fprintf(f, ", held by thread %d%s%s%s%s", (int)p->owner,
				p->owner_name.set ? " \"" : "", val(&p->owner_name, ""),
				p->owner_name.set ? "\"" : "",
				p->owner_certain ? "" : " (inferred)");
		else if (p->owner_note.set)
			fprintf(f, "; owner unknown: %s", p->owner_note.s.buf);
		fputc('\n', f);
	} else if (lockwait && p->owner_note.set && p->native) {
		fprintf(f, "    owner unknown: %s\n", p->owner_note.s.buf);
	}
	if (p->holds.set)
		fputs(p->holds.s.buf, f);
	if (p->native && p->futex_uaddr.set)
		fprintf(f, "    futex %s, %s%s\n", p->futex_uaddr.s.buf, val(&p->futex_op, "?"),
			p->untimed ? ", no timeout" : ", with timeout");
	if (p->native && !p->merged && p->python_frames > 0)
		fprintf(f, "    (Python frames listed after the native ones: the stacks could not "
			   "be merged)\n");
}

static void print_frame(struct printer *p)
{
	FILE *f = p->f;
	if ((!p->all_frames && p->plumbing) || (!p->native && !p->fr_python && p->python_frames)) {
		p->hidden++;
		return;
	}
	if (p->fr_python) {
		fprintf(f, "    #%-3d %s%s (%s:%d)\n", p->idx++, p->native ? "py   " : "",
			val(&p->fn, "???"), py_short_path_in(val(&p->file, "???"), val(&p->cwd, NULL)), (int)p->line);
		return;
	}
	fprintf(f, "    #%-3d %s%s", p->idx++, val(&p->fn, "??"), p->inlined ? " [inlined]" : "");
	fprintf(f, " in %s+%s", val(&p->module, "?"), val(&p->offset, "?"));
	if (p->file.set) {
		const char *b = strrchr(p->file.s.buf, '/');
		fprintf(f, " (%s:%d)", b ? b + 1 : p->file.s.buf, (int)p->line);
	}
	fputc('\n', f);
}

/* "    holds acc.lock_a, taken at __init__.py:22: with acc.lock_a:" */
static void add_hold_line(struct printer *p)
{
	struct sbuf *sb = &p->holds.s;
	p->holds.set = true;
	sbuf_addf(sb, "    holds %s", p->h_expr.set ? p->h_expr.s.buf : "a lock");
	if (p->h_file.set)
		sbuf_addf(sb, ", taken at %s:%d", py_short_path_in(p->h_file.s.buf, val(&p->cwd, NULL)), p->h_line);
	if (p->h_text.set)
		sbuf_addf(sb, ": %s", p->h_text.s.buf);
	sbuf_addc(sb, '\n');
}

static void pr_open(struct jsonout *o, const char *key, bool array)
{
	struct printer *p = (struct printer *)o;
	enum level parent = top(p), l = L_OTHER;
	const char *k = key ? key : "";

	if (!p->depth)
		l = L_ROOT;
	else if (parent == L_ROOT && array && !strcmp(k, "processes"))
		l = L_PROCS;
	else if (parent == L_ROOT && array && !strcmp(k, "cycles"))
		l = L_CYCLES;
	else if (parent == L_PROCS && !array)
		l = L_PROC;
	else if (parent == L_PROC && !array && !strcmp(k, "python"))
		l = L_PYTHON;
	else if (parent == L_PROC && array && !strcmp(k, "threads"))
		l = L_THREADS;
	else if (parent == L_THREADS && !array)
		l = L_THREAD;
	else if (parent == L_THREAD && !array && !strcmp(k, "wait"))
		l = L_WAIT;
	else if (parent == L_THREAD && array && !strcmp(k, "frames"))
		l = L_FRAMES;
	else if (parent == L_THREAD && array && !strcmp(k, "holds"))
		l = L_HOLDS;
	else if (parent == L_HOLDS && !array)
		l = L_HOLD;
	else if (parent == L_HOLD && !array && !strcmp(k, "site"))
		l = L_HOLD_SITE;
	else if (parent == L_FRAMES && !array)
		l = L_FRAME;
	else if (parent == L_CYCLES && !array)
		l = L_CYCLE;
	else if (parent == L_CYCLE && array && !strcmp(k, "tids"))
		l = L_TIDS;

	switch (l) {
	case L_PROC:
		p->pid = 0;
		clear_field(&p->cmdline);
		clear_field(&p->cwd);
		clear_field(&p->py_version);
		clear_field(&p->py_error);
		p->python = p->free_threaded = p->gil_enabled = p->header_done = false;
		break;
	case L_PYTHON:
		p->python = true;
		break;
	case L_THREADS:
		print_process_header(p);
		break;
	case L_THREAD:
		p->tid = p->python_frames = 0;
		clear_field(&p->comm);
		clear_field(&p->name);
		clear_field(&p->holds);
		clear_field(&p->state);
		clear_field(&p->unwind_error);
		p->crashed = p->merged = p->thread_header_done = p->wait = false;
		p->idx = p->hidden = 0;
		break;
	case L_WAIT:
		p->wait = true;
		clear_field(&p->kind);
		clear_field(&p->futex_uaddr);
		clear_field(&p->futex_op);
		clear_field(&p->lock);
		clear_field(&p->owner_note);
		clear_field(&p->primitive);
		clear_field(&p->expr);
		clear_field(&p->owner_name);
		clear_field(&p->lock_object);
		p->untimed = p->owner_certain = p->has_owner = false;
		p->owner = 0;
		break;
	case L_FRAMES:
		print_thread_header(p);
		break;
	case L_FRAME:
		clear_field(&p->fn);
		clear_field(&p->file);
		clear_field(&p->module);
		clear_field(&p->offset);
		p->fr_python = p->plumbing = p->inlined = false;
		p->line = 0;
		break;
	case L_CYCLE:
		p->certain = false;
		p->ntids = 0;
		break;
	case L_HOLD:
		clear_field(&p->h_expr);
		clear_field(&p->h_file);
		clear_field(&p->h_text);
		p->h_line = 0;
		break;
	default:
		break;
	}
	if (p->depth < JSONOUT_MAX_DEPTH)
		p->stack[p->depth++] = l;
}

static void pr_close(struct jsonout *o)
{
	struct printer *p = (struct printer *)o;
	enum level l;

	if (!p->depth)
		return;
	l = p->stack[--p->depth];
	switch (l) {
	case L_PROC:
		print_process_header(p);
		fputc('\n', p->f);
		break;
	case L_THREAD:
		print_thread_header(p);
		p->name_tids = xrealloc(p->name_tids, (p->names.n + 1) * sizeof(*p->name_tids));
		p->name_tids[p->names.n] = p->tid;
		strv_push(&p->names, val(&p->name, val(&p->comm, "?")));
		if (p->hidden && p->native)
			fprintf(p->f, "    (%d interpreter/libc plumbing frame%s hidden)\n",
				p->hidden, p->hidden == 1 ? "" : "s");
		if (p->unwind_error.set && (p->native || !p->python_frames))
			fprintf(p->f, "    %s\n", p->unwind_error.s.buf);
		break;
	case L_FRAME:
		print_frame(p);
		break;
	case L_HOLD:
		add_hold_line(p);
		break;
	case L_CYCLE:
		fprintf(p->f, "Deadlock cycle%s: ", p->certain ? "" : " (inferred)");
		for (size_t i = 0; i <= p->ntids && p->ntids; i++) {
			long tid = p->tids[i % p->ntids];
			const char *name = NULL;
			for (size_t k = 0; k < p->names.n && !name; k++)
				if (p->name_tids[k] == tid)
					name = p->names.v[k];
			fprintf(p->f, "thread %ld%s%s%s%s", tid, name ? " \"" : "", name ? name : "",
				name ? "\"" : "", i < p->ntids ? " -> " : "\n");
		}
		break;
	default:
		break;
	}
}

static void pr_str(struct jsonout *o, const char *key, const char *v)
{
	struct printer *p = (struct printer *)o;
	const char *k = key ? key : "";
	struct field *fl = NULL;

	switch (top(p)) {
	case L_PROC:
		fl = !strcmp(k, "cmdline") ? &p->cmdline : !strcmp(k, "python_error") ? &p->py_error
			: !strcmp(k, "cwd") ? &p->cwd : NULL;
		break;
	case L_PYTHON:
		fl = !strcmp(k, "version") ? &p->py_version : NULL;
		break;
	case L_THREAD:
		fl = !strcmp(k, "comm") ? &p->comm : !strcmp(k, "name") ? &p->name
			: !strcmp(k, "state") ? &p->state
			: !strcmp(k, "unwind_error") ? &p->unwind_error : NULL;
		break;
	case L_WAIT:
		fl = !strcmp(k, "kind") ? &p->kind : !strcmp(k, "futex_uaddr") ? &p->futex_uaddr
			: !strcmp(k, "futex_op") ? &p->futex_op : !strcmp(k, "lock") ? &p->lock
			: !strcmp(k, "owner_note") ? &p->owner_note
			: !strcmp(k, "primitive") ? &p->primitive : !strcmp(k, "expr") ? &p->expr
			: !strcmp(k, "owner_name") ? &p->owner_name
			: !strcmp(k, "lock_object") ? &p->lock_object : NULL;
		break;
	case L_HOLD:
		fl = !strcmp(k, "expr") ? &p->h_expr : NULL;
		break;
	case L_HOLD_SITE:
		fl = !strcmp(k, "file") ? &p->h_file : !strcmp(k, "text") ? &p->h_text : NULL;
		break;
	case L_FRAME:
		fl = !strcmp(k, "function") ? &p->fn : !strcmp(k, "file") ? &p->file
			: !strcmp(k, "module") ? &p->module : !strcmp(k, "offset") ? &p->offset : NULL;
		break;
	default:
		break;
	}
	if (fl)
		set_field(fl, v);
}

static void pr_num(struct jsonout *o, const char *key, double v)
{
	struct printer *p = (struct printer *)o;
	const char *k = key ? key : "";

	switch (top(p)) {
	case L_PROC:
		if (!strcmp(k, "pid"))
			p->pid = (long)v;
		break;
	case L_THREAD:
		if (!strcmp(k, "tid"))
			p->tid = (long)v;
		else if (!strcmp(k, "python_frames"))
			p->python_frames = (long)v;
		break;
	case L_WAIT:
		if (!strcmp(k, "owner")) {
			p->owner = (long)v;
			p->has_owner = true;
		}
		break;
	case L_FRAME:
		if (!strcmp(k, "line"))
			p->line = (long)v;
		break;
	case L_HOLD_SITE:
		if (!strcmp(k, "line"))
			p->h_line = (int)v;
		break;
	case L_TIDS:
		if (p->ntids == p->captids) {
			p->captids = p->captids ? 2 * p->captids : 16;
			p->tids = xrealloc(p->tids, p->captids * sizeof(*p->tids));
		}
		p->tids[p->ntids++] = (long)v;
		break;
	default:
		break;
	}
}

static void pr_bool(struct jsonout *o, const char *key, bool v)
{
	struct printer *p = (struct printer *)o;
	const char *k = key ? key : "";

	switch (top(p)) {
	case L_PYTHON:
		if (!strcmp(k, "free_threaded"))
			p->free_threaded = v;
		else if (!strcmp(k, "gil_enabled"))
			p->gil_enabled = v;
		break;
	case L_THREAD:
		if (!strcmp(k, "crashed"))
			p->crashed = v;
		else if (!strcmp(k, "merged"))
			p->merged = v;
		break;
	case L_WAIT:
		if (!strcmp(k, "untimed"))
			p->untimed = v;
		else if (!strcmp(k, "owner_certain"))
			p->owner_certain = v;
		break;
	case L_FRAME:
		if (!strcmp(k, "python"))
			p->fr_python = v;
		else if (!strcmp(k, "plumbing"))
			p->plumbing = v;
		else if (!strcmp(k, "inlined"))
			p->inlined = v;
		break;
	case L_CYCLE:
		if (!strcmp(k, "certain"))
			p->certain = v;
		break;
	default:
		break;
	}
}

static const struct jsonout_ops printer_ops = { pr_open, pr_close, pr_str, pr_num, pr_bool };

/* Every text field of the printer: four runs of struct field members. */
static void each_field(struct printer *p, void (*fn)(struct sbuf *))
{
	struct field *runs[][2] = {
		{ &p->cmdline, &p->py_error },
		{ &p->comm, &p->unwind_error },
		{ &p->kind, &p->lock_object },
		{ &p->fn, &p->offset },
	};
	for (size_t r = 0; r < ARRAY_SIZE(runs); r++)
		for (struct field *fl = runs[r][0]; fl <= runs[r][1]; fl++)
			fn(&fl->s);
}

static void printer_init(struct printer *p, FILE *f, unsigned flags)
{
	memset(p, 0, sizeof(*p));
	p->o.ops = &printer_ops;
	p->f = f;
	p->all_frames = flags & SNAP_PRINT_ALL_FRAMES;
	p->native = flags & (SNAP_PRINT_NATIVE | SNAP_PRINT_ALL_FRAMES);
	each_field(p, sbuf_init);
}

static void printer_release(struct printer *p)
{
	each_field(p, sbuf_release);
	free(p->tids);
	free(p->name_tids);
	strv_release(&p->names);
}

void snapshot_print_json(FILE *f, const cJSON *snap, unsigned flags)
{
	struct printer p;
	printer_init(&p, f, flags);
	jsonout_replay(snap, NULL, &p.o);
	printer_release(&p);
}

void snapshot_print(FILE *f, const struct snapshot *snap, unsigned flags)
{
	struct printer p;
	printer_init(&p, f, flags);
	snapshot_emit(snap, &p.o);
	printer_release(&p);
}
