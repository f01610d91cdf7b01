/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The Python side of a snapshot, for a person: each thread's threading name, the Python
 * primitive it waits in (Event.wait rather than "a PyMutex"), the expression of the lock it
 * waits for (`acc.lock_b`) and, for a lock another thread holds, the line where the holder
 * took it: the `with` statement around its current line, or an earlier acquire() call, whose
 * expression evaluates -- in the holder's frame, out of process (pyreader_eval) -- to that
 * very lock object.
 *
 * Source lines come from the frames' files, read as linecache would (a relative co_filename
 * is relative to the target's working directory). A snapshot runs as root over files the
 * test user controls: a file is read only if it ends in ".py", is a regular file (lstat
 * before the open, then O_NOFOLLOW | O_NONBLOCK and fstat: read_file_at) and is at most
 * SRC_MAX bytes.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ftscope/pyframes.h"
#include "ftscope/snapshot.h"
#include "ftscope/util.h"

#define SRC_MAX (2u << 20)
#define SRC_FILES 16
#define SCAN_LINES 400 /* lines searched above a frame's current line */

struct src_file {
	char *path;
	char *data;             /* NULL: unreadable */
	char **lines;           /* lines[0] is line 1, each NUL-terminated in data */
	size_t n;
};

struct src_cache {
	pid_t pid;
	struct src_file f[SRC_FILES];
	size_t n;
};

static const struct src_file *src_open(struct src_cache *c, const char *path)
{
	struct src_file *s;
	struct stat st;
	char *full;
	size_t len = 0;

	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->f[i].path, path))
			return &c->f[i];
	if (c->n == SRC_FILES)
		return NULL;
	s = &c->f[c->n++];
	memset(s, 0, sizeof(*s));
	s->path = xstrdup(path);
	if (!ends_with(path, ".py"))
		return s;
	full = path[0] == '/' ? xstrdup(path) : xasprintf("/proc/%d/cwd/%s", (int)c->pid, path);
	if (lstat(full, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= SRC_MAX &&
	    read_file_at(AT_FDCWD, full, SRC_MAX, FILE_ANY_OWNER, &s->data, &len) == 0) {
		size_t cap = 0;
		for (char *p = s->data; p < s->data + len;) {
			char *nl = memchr(p, '\n', (size_t)(s->data + len - p));
			if (s->n == cap) {
				cap = cap ? 2 * cap : 256;
				s->lines = xrealloc(s->lines, cap * sizeof(*s->lines));
			}
			s->lines[s->n++] = p;
			if (!nl)
				break;
			*nl = '\0';
			if (nl > p && nl[-1] == '\r')
				nl[-1] = '\0';
			p = nl + 1;
		}
	}
	free(full);
	return s;
}

static void src_release(struct src_cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->f[i].path);
		free(c->f[i].data);
		free(c->f[i].lines);
	}
}

static const char *src_line(const struct src_file *s, int line)
{
	if (!s || !s->data || line < 1 || (size_t)line > s->n)
		return NULL;
	return s->lines[line - 1];
}

static int indent_of(const char *l)
{
	int n = 0;
	for (; *l == ' ' || *l == '\t'; l++)
		n = *l == '\t' ? (n / 8 + 1) * 8 : n + 1;
	return n;
}

static bool blank_or_comment(const char *l)
{
	l += strspn(l, " \t");
	return !*l || *l == '#';
}

static char *stripped(const char *l)
{
	char *s = xstrdup(l), *t = trim(s);
	memmove(s, t, strlen(t) + 1);
	return s;
}

static bool dotted(const char *s, size_t n)
{
	bool start = true;
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '.') {
			if (start)
				return false;
			start = true;
		} else if (ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (!start && ch >= '0' && ch <= '9')) {
			start = false;
		} else {
			return false;
		}
	}
	return !start;
}

/* The dotted-name items of a one-line `with A, B as b:` statement; false if not one. */
static bool parse_with(const char *line, struct strv *items)
{
	const char *p = line + strspn(line, " \t"), *end;
	if (starts_with(p, "async "))
		p += 6;
	if (!starts_with(p, "with ") && !starts_with(p, "with\t"))
		return false;
	p += 5;
	end = strrchr(p, ':');
	if (!end)
		return false;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p)), *e = comma ? comma : end;
		const char *as;
		char *item = xstrndup(p, (size_t)(e - p)), *t;
		as = strstr(item, " as ");
		if (as)
			item[as - item] = '\0';
		t = trim(item);
		if (dotted(t, strlen(t)))
			strv_push(items, t);
		free(item);
		p = comma ? comma + 1 : end;
	}
	return true;
}

/* The EXPR of `EXPR.acquire(` in a line, malloc'd, or NULL. */
static char *parse_acquire(const char *line)
{
	const char *a = strstr(line, ".acquire("), *b;
	if (!a)
		return NULL;
	for (b = a; b > line && (b[-1] == '.' || b[-1] == '_' || (b[-1] >= 'a' && b[-1] <= 'z') ||
				 (b[-1] >= 'A' && b[-1] <= 'Z') || (b[-1] >= '0' && b[-1] <= '9'));
	     b--)
		;
	return dotted(b, (size_t)(a - b)) ? xstrndup(b, (size_t)(a - b)) : NULL;
}

static void site_set(struct snap_site *s, const struct py_frame *f, const char *text, int line)
{
	s->function = xstrdup(f->func);
	s->file = xstrdup(f->file);
	s->line = line;
	s->text = text ? stripped(text) : NULL;
}

static void site_release(struct snap_site *s)
{
	free(s->function);
	free(s->file);
	free(s->text);
}

/* The expression among `items` that evaluates to lock in frame f, malloc'd, or NULL. */
static char *match_expr(struct pyreader *pr, const struct py_frame *f, const struct strv *items,
			uint64_t lock)
{
	for (size_t i = 0; i < items->n; i++) {
		uint64_t v;
		if (!pyreader_eval(pr, f, items->v[i], &v) && v == lock)
			return xstrdup(items->v[i]);
	}
	return NULL;
}

static bool is_def(const char *l)
{
	l += strspn(l, " \t");
	return starts_with(l, "def ") || starts_with(l, "async def ") || starts_with(l, "class ");
}

/* Line l is code of frame f itself, not of a def or class nested in it (or, for a module,
 * in it at all): no such header encloses it between f's first line and l. */
static bool own_line(const struct src_file *s, const struct py_frame *f, int lo, int l)
{
	const char *first = src_line(s, f->firstlineno);
	int base = first && strcmp(f->func, "<module>") ? indent_of(first) : -1;
	int m = indent_of(src_line(s, l));
	for (int k = l - 1; k >= lo && m > 0; k--) {
		const char *t = src_line(s, k);
		if (!t || blank_or_comment(t) || indent_of(t) >= m)
			continue;
		m = indent_of(t);
		if (m > base && is_def(t))
			return false;
	}
	return true;
}

/*
 * The line of frame f's function, above its current line, that calls `X.acquire(` where X
 * evaluates to lock, with no `X.release(` after it; 0 if none. *expr = X (malloc'd).
 */
static int acquire_line(const struct src_file *s, struct pyreader *pr, const struct py_frame *f,
			uint64_t lock, char **expr)
{
	int lo = f->firstlineno > 0 ? f->firstlineno : 1;
	if (!src_line(s, f->line))
		return 0;
	if (f->line - lo > SCAN_LINES)
		lo = f->line - SCAN_LINES;
	for (int l = f->line - 1; l >= lo; l--) {
		const char *t = src_line(s, l);
		char *e = t ? parse_acquire(t) : NULL, *rel;
		uint64_t v;
		bool released = false;
		if (!e)
			continue;
		if (!own_line(s, f, lo, l) || pyreader_eval(pr, f, e, &v) || v != lock) {
			free(e);
			continue;
		}
		rel = xasprintf("%s.release(", e);
		for (int k = l + 1; k < f->line && !released; k++)
			released = src_line(s, k) && strstr(src_line(s, k), rel);
		free(rel);
		if (released) {
			free(e);
			return 0;
		}
		*expr = e;
		return l;
	}
	return 0;
}

/*
 * Where frame f took lock: a `with` enclosing its current line (or on it), else an earlier
 * `X.acquire(` in its function, whose expression is the lock. in_with: f keeps the lock's
 * __exit__ on its stack; then a single enclosing one-item `with` is taken as it even when its
 * expression cannot be evaluated (not verified).
 */
static bool find_taking(struct src_cache *c, struct pyreader *pr, const struct py_frame *f,
			uint64_t lock, bool in_with, struct snap_hold *h)
{
	const struct src_file *s = src_open(c, f->file);
	const char *cur = src_line(s, f->line);
	int ind, lo = f->firstlineno > 0 ? f->firstlineno : 1, guess = 0, nwith = 0;
	struct strv items = STRV_INIT;
	char *guess_expr = NULL;

	if (!cur)
		return false;
	if (f->line - lo > SCAN_LINES)
		lo = f->line - SCAN_LINES;
	ind = indent_of(cur) + 1;
	for (int l = f->line; l >= lo; l--) {
		const char *t = src_line(s, l);
		char *e;
		if (!t || blank_or_comment(t) || indent_of(t) >= ind)
			continue;
		ind = indent_of(t);
		strv_release(&items);
		if (!parse_with(t, &items))
			continue;
		e = match_expr(pr, f, &items, lock);
		if (e) {
			h->expr = e;
			h->how = "with";
			h->verified = true;
			site_set(&h->site, f, t, l);
			free(guess_expr);
			strv_release(&items);
			return true;
		}
		if (l != f->line && nwith++ == 0 && items.n == 1) {
			guess = l;
			guess_expr = xstrdup(items.v[0]);
		}
	}
	strv_release(&items);
	{
		char *e = NULL;
		int l = acquire_line(s, pr, f, lock, &e);
		if (l) {
			h->expr = e;
			h->how = "acquire";
			h->verified = true;
			site_set(&h->site, f, src_line(s, l), l);
			free(guess_expr);
			return true;
		}
	}
	if (in_with && nwith == 1 && guess) {
		h->expr = guess_expr;
		h->how = "with";
		site_set(&h->site, f, src_line(s, guess), guess);
		return true;
	}
	free(guess_expr);
	return false;
}

static const struct py_thread *py_thread_of(const struct snap_process *p, pid_t tid)
{
	for (size_t k = 0; k < p->npyt; k++)
		if (p->pyt[k].native_tid == (uint64_t)tid)
			return &p->pyt[k];
	return NULL;
}

static bool stdlib_sync(const char *file)
{
	return ends_with(file, "/threading.py") || ends_with(file, "/queue.py");
}

/* Public names of the waits of threading.py and queue.py, by qualname. */
static const char *known_primitive(const char *qualname)
{
	static const char *const known[] = {
		"Event.wait", "Condition.wait", "Condition.wait_for", "Semaphore.acquire",
		"BoundedSemaphore.acquire", "Barrier.wait", "Thread.join", "Queue.get", "Queue.put",
		"Queue.join", NULL,
	};
	for (const char *const *k = known; *k; k++)
		if (!strcmp(*k, qualname))
			return *k;
	return NULL;
}

/* The primitive a blocked thread waits in and the Python frame that called it. */
static void classify_python_wait(struct src_cache *c, struct pyreader *pr, struct snap_thread *t,
				 const struct py_thread *py)
{
	struct snap_wait *w = &t->wait;
	const struct py_frame *site = NULL;
	const char *prim = NULL;
	size_t k = 0;
	if (!py || !py->n || !w->kind || strcmp(w->kind, "futex") || !w->lock)
		return;
	/* the run of threading.py / queue.py frames the thread is in, innermost first */
	for (; k < py->n && stdlib_sync(py->frames[k].file); k++)
		if (known_primitive(py->frames[k].func))
			prim = known_primitive(py->frames[k].func);
	if (k < py->n)
		site = &py->frames[k];
	if (!prim && k == 0) {
		if (!strcmp(w->lock, "threading.Lock"))
			prim = "Lock.acquire";
		else if (!strcmp(w->lock, "threading.RLock"))
			prim = "RLock.acquire";
		else if (!strcmp(w->lock, "thread join"))
			prim = "Thread.join";
	}
	if (!prim)
		return;
	w->primitive = !strcmp(prim, "BoundedSemaphore.acquire") ? "Semaphore.acquire" : prim;
	if (strcmp(prim, "Lock.acquire") && strcmp(prim, "RLock.acquire")) {
		/* a notification, not a lock: nobody owns it */
		w->owner_note = "waits to be notified; nothing owns it";
		if (!w->owner_certain) {
			w->owner = 0;
			w->ncandidates = 0;
		}
	}
	if (site) {
		const char *text = src_line(src_open(c, site->file), site->line);
		struct strv items = STRV_INIT;
		w->site = xcalloc(1, sizeof(*w->site));
		site_set(w->site, site, text, site->line);
		if (w->lock_obj && text) {
			char *acq = parse_acquire(text);
			if (acq)
				strv_push_owned(&items, acq);
			parse_with(text, &items);
			w->expr = match_expr(pr, site, &items, w->lock_obj);
		}
		strv_release(&items);
	}
}

static void add_hold(struct src_cache *c, struct pyreader *pr, struct snap_thread *holder,
		     const struct py_thread *py, const struct snap_wait *w)
{
	struct snap_hold *h;
	for (size_t i = 0; i < holder->nholds; i++)
		if (holder->holds[i].lock_obj == w->lock_obj)
			return;
	holder->holds = xrealloc(holder->holds, (holder->nholds + 1) * sizeof(*holder->holds));
	h = &holder->holds[holder->nholds++];
	memset(h, 0, sizeof(*h));
	h->lock_obj = w->lock_obj;
	h->lock = w->lock;
	if (!py)
		return;
	/* the frame inside `with` on it first, then every frame, innermost first */
	for (size_t i = 0; i < py->nlocks; i++) {
		const struct py_lockref *l = &py->locks[i];
		if (l->obj == w->lock_obj && l->in_with && l->frame < py->n &&
		    find_taking(c, pr, &py->frames[l->frame], w->lock_obj, true, h))
			return;
	}
	for (size_t k = 0; k < py->n; k++)
		if (!stdlib_sync(py->frames[k].file) &&
		    find_taking(c, pr, &py->frames[k], w->lock_obj, false, h))
			return;
}

/*
 * A Lock that no thread is inside `with` on: its holder may be the one thread whose frames
 * are past an acquire() of it (acquire_line), the waiter itself included (it waits at a
 * second acquire()). Sets the owner, inferred.
 */
static void infer_acquire_owner(struct src_cache *c, struct snap_process *p, struct snap_thread *t)
{
	struct snap_wait *w = &t->wait;
	int found = 0;
	if (!w->lock_obj || w->owner || !w->primitive || strcmp(w->primitive, "Lock.acquire"))
		return;
	for (size_t i = 0; i < p->n; i++) {
		const struct py_thread *py = py_thread_of(p, p->threads[i].tid);
		bool has = false;
		if (!py)
			continue; /* (the waiter itself too: a second acquire() of a Lock) */
		for (size_t k = 0; k < py->n && !has; k++) {
			char *e = NULL;
			if (stdlib_sync(py->frames[k].file))
				continue;
			has = acquire_line(src_open(c, py->frames[k].file), p->pr, &py->frames[k],
					   w->lock_obj, &e) != 0;
			free(e);
		}
		if (has && !found++)
			w->owner = p->threads[i].tid;
	}
	if (found == 1) {
		w->ncandidates = 1;
		w->owner_note = "inferred: the only thread past an acquire() of this lock";
	} else {
		w->owner = 0;
	}
}

void snapshot_python_story(struct snap_process *p)
{
	struct src_cache c;
	if (!p->pr || !p->pyt)
		return;
	memset(&c, 0, sizeof(c));
	c.pid = p->pid;
	for (size_t i = 0; i < p->n; i++) {
		struct snap_thread *t = &p->threads[i];
		const struct py_thread *py = py_thread_of(p, t->tid);
		if (!py)
			continue;
		if (py->name)
			t->name = xstrdup(py->name);
		else if (py->main_thread && py->interp_id == 0)
			t->name = xstrdup("MainThread"); /* threading's name for it, unless renamed */
		classify_python_wait(&c, p->pr, t, py);
	}
	for (size_t i = 0; i < p->n; i++)
		infer_acquire_owner(&c, p, &p->threads[i]);
	for (size_t i = 0; i < p->n; i++) {
		const struct snap_wait *w = &p->threads[i].wait;
		if (!w->owner || !w->lock_obj || (w->primitive && strcmp(w->primitive, "Lock.acquire") &&
						  strcmp(w->primitive, "RLock.acquire")))
			continue;
		for (size_t k = 0; k < p->n; k++)
			if (p->threads[k].tid == w->owner)
				add_hold(&c, p->pr, &p->threads[k], py_thread_of(p, w->owner), w);
	}
	src_release(&c);
}

void snapshot_python_release(struct snap_thread *t)
{
	free(t->name);
	for (size_t i = 0; i < t->nholds; i++) {
		free(t->holds[i].expr);
		site_release(&t->holds[i].site);
	}
	free(t->holds);
	if (t->wait.site) {
		site_release(t->wait.site);
		free(t->wait.site);
	}
	free(t->wait.expr);
}
