/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/error.h"
#include "ftscope/signature.h"
#include "ftscope/tsan.h"
#include "ftscope/util.h"

#define TSAN_RULE "=================="
#define TSAN_WARNING "WARNING: ThreadSanitizer: "
#define TSAN_SUMMARY "SUMMARY: ThreadSanitizer: "
/* A fatal report: "==PID==ERROR: ThreadSanitizer: SEGV on unknown address 0x0 (pc ...)" */
#define TSAN_ERROR "ERROR: ThreadSanitizer: "
#define TSAN_FATAL "FATAL: ThreadSanitizer: "
/* Stacks a report may have; TSAN prints a handful, the rest would be garbage. */
#define MAX_STACKS 64
#define MAX_FRAMES 256
/* Stacks that make a signature (a lock cycle has one per edge). */
#define MAX_KEY_STACKS 8

/* ---- small string helpers over (pointer, length) lines ---- */

static bool line_starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && !memcmp(s, prefix, k);
}

static char *str_of(const char *s, size_t n)
{
	return xstrndup(s, n);
}

static bool all_digits(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int to_int(const char *s, size_t n)
{
	long v = 0;
	for (size_t i = 0; i < n && v < 100000000; i++)
		v = v * 10 + (s[i] - '0');
	return (int)v;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');
	return b ? b + 1 : path;
}

/* ---- frames ---- */

bool tsan_frame_is_runtime(const char *function, const char *file, const char *module)
{
	static const char *const fn_prefixes[] = { "__tsan_", "__interceptor_", "___interceptor_",
						   "__sanitizer_", "__ubsan_", "__asan_", NULL };
	if (function)
		for (const char *const *p = fn_prefixes; *p; p++)
			if (starts_with(function, *p))
				return true;
	if (module &&
	    (starts_with(module, "libtsan.so") || starts_with(module, "libclang_rt.tsan")))
		return true;
	/* the runtime linked into an executable (clang): its sources say where it is */
	if (file && (strstr(file, "/tsan/") || strstr(file, "sanitizer_common/") ||
		     starts_with(base_name(file), "tsan_interceptors")))
		return true;
	return false;
}

/* "file.c:18:5", "??:?", "<null>", "file.c:18", or not a location at all. */
static bool is_location(const char *s, size_t n)
{
	size_t i;
	if (n == 6 && !memcmp(s, "<null>", 6))
		return true;
	for (i = n; i > 0 && s[i - 1] != ':'; i--)
		;
	if (i == 0 || i == 1)
		return false;
	return (n - i == 1 && s[i] == '?') || all_digits(s + i, n - i);
}

static void parse_location(const char *s, size_t n, struct tsan_frame *f)
{
	size_t c1, c2;
	if (n == 6 && !memcmp(s, "<null>", 6))
		return;
	for (c1 = n; c1 > 0 && s[c1 - 1] != ':'; c1--)
		;
	if (c1 == 0) {
		f->file = str_of(s, n);
		return;
	}
	/* s[c1-1] == ':'; is there a line before a column? */
	for (c2 = c1 - 1; c2 > 0 && s[c2 - 1] != ':'; c2--)
		;
	if (c2 > 0 && all_digits(s + c2, c1 - 1 - c2) && all_digits(s + c1, n - c1)) {
		f->line = to_int(s + c2, c1 - 1 - c2);
		f->column = to_int(s + c1, n - c1);
		n = c2 - 1;
	} else {
		if (all_digits(s + c1, n - c1))
			f->line = to_int(s + c1, n - c1);
		n = c1 - 1;
	}
	if (n && !(n == 2 && !memcmp(s, "??", 2)))
		f->file = str_of(s, n);
}

/* "(module+0xoff)", "(<unknown module>)", "(0x4005d6)" -- without the parentheses. */
static void parse_module(const char *s, size_t n, struct tsan_frame *f)
{
	const char *plus = NULL;
	for (size_t i = 0; i + 2 < n; i++)
		if (s[i] == '+' && s[i + 1] == '0' && s[i + 2] == 'x')
			plus = s + i;
	if (plus) {
		char *m = str_of(s, (size_t)(plus - s));
		char *hex = str_of(plus + 3, n - (size_t)(plus + 3 - s));
		f->offset = strtoull(hex, NULL, 16);
		if (*m)
			f->module = xstrdup(base_name(m));
		free(m);
		free(hex);
	} else if (n && s[0] != '<' && !line_starts(s, n, "0x")) {
		char *m = str_of(s, n);
		f->module = xstrdup(base_name(m));
		free(m);
	}
}

/* "func file:line:col (module+0xoff)" after "#N ". Anchored on the trailing (module). */
static void parse_frame(const char *s, size_t n, struct tsan_frame *f)
{
	size_t fn_end = n;
	memset(f, 0, sizeof(*f));
	if (n && s[n - 1] == ')') {
		size_t open = n;
		while (open > 0 && !(s[open - 1] == '(' && (open == 1 || s[open - 2] == ' ')))
			open--;
		if (open > 0) {
			parse_module(s + open, n - open - 1, f);
			fn_end = open >= 2 ? open - 2 : 0;
		}
	}
	if (fn_end) {
		size_t sp = fn_end;
		while (sp > 0 && s[sp - 1] != ' ')
			sp--;
		if (sp > 1 && is_location(s + sp, fn_end - sp)) {
			parse_location(s + sp, fn_end - sp, f);
			fn_end = sp - 1;
		}
		if (fn_end && !(fn_end == 6 && !memcmp(s, "<null>", 6)))
			f->function = str_of(s, fn_end);
	}
	f->runtime = tsan_frame_is_runtime(f->function, f->file, f->module);
}

/* ---- reports ---- */

static void frame_release(struct tsan_frame *f)
{
	free(f->function);
	free(f->file);
	free(f->module);
}

static void stack_release(struct tsan_stack *s)
{
	free(s->header);
	free(s->op);
	free(s->thread);
	free(s->mutexes);
	for (size_t i = 0; i < s->nframes; i++)
		frame_release(&s->frames[i]);
	free(s->frames);
}

static void tsan_report_release(struct tsan_report *r)
{
	free(r->kind);
	for (size_t i = 0; i < r->nstacks; i++)
		stack_release(&r->stacks[i]);
	free(r->stacks);
	free(r->location);
	free(r->summary);
	free(r->summary_location);
	free(r->summary_function);
	free(r->signature);
	free(r->suppressed_by);
}

void tsan_reports_release(struct tsan_reports *r)
{
	for (size_t i = 0; i < r->n; i++)
		tsan_report_release(&r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static struct tsan_stack *new_stack(struct tsan_report *r, enum tsan_stack_kind kind,
				    const char *header, size_t hn)
{
	struct tsan_stack *s;
	if (r->nstacks == MAX_STACKS)
		return NULL;
	r->stacks = xrealloc(r->stacks, (r->nstacks + 1) * sizeof(*r->stacks));
	s = &r->stacks[r->nstacks++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	if (header)
		s->header = str_of(header, hn);
	return s;
}

static const char *find_in(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(s + i, needle, k))
			return s + i;
	return NULL;
}

/* "Write of size 8 at 0x7b.. by thread T1 (mutexes: write M0)" (the ':' is gone). */
static void parse_access(struct tsan_stack *s, const char *h, size_t n)
{
	const char *of = find_in(h, n, " of size "), *by = find_in(h, n, " by "), *end = h + n;
	const char *mx = find_in(h, n, " (mutexes: ");
	const char *op_end = of ? of : find_in(h, n, " at ");
	if (line_starts(h, n, "Previous ")) {
		s->previous = true;
	}
	if (op_end) {
		const char *op = s->previous ? h + 9 : h;
		if (op < op_end) {
			s->op = str_of(op, (size_t)(op_end - op));
			for (char *p = s->op; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
		}
	}
	if (of) {
		const char *d = of + 9;
		size_t k = 0;
		while (d + k < end && d[k] >= '0' && d[k] <= '9')
			k++;
		s->size = to_int(d, k);
	}
	if (by) {
		const char *t = by + 4, *t_end = mx && mx > t ? mx : end;
		s->thread = str_of(t, (size_t)(t_end - t));
	}
	if (mx) {
		const char *m = mx + 11;
		size_t k = (size_t)(end - m);
		if (k && m[k - 1] == ')')
			k--;
		s->mutexes = str_of(m, k);
	}
}

static bool is_access_header(const char *h, size_t n)
{
	if (line_starts(h, n, "Previous "))
		return true;
	if (line_starts(h, n, "Modifying access ") || line_starts(h, n, "Read-only access "))
		return true;
	return (line_starts(h, n, "Write ") || line_starts(h, n, "Read ") ||
		line_starts(h, n, "Atomic ")) && find_in(h, n, " of size ");
}

static enum tsan_stack_kind header_kind(const char *h, size_t n)
{
	if (is_access_header(h, n))
		return TSAN_STACK_ACCESS;
	if (line_starts(h, n, "Mutex ") && find_in(h, n, " acquired here while holding "))
		return TSAN_STACK_ACQUIRED;
	if (line_starts(h, n, "Mutex ") && find_in(h, n, " previously acquired by the same thread"))
		return TSAN_STACK_PREV_ACQUIRED;
	if (line_starts(h, n, "Mutex "))
		return TSAN_STACK_MUTEX;
	if (line_starts(h, n, "Thread "))
		return TSAN_STACK_THREAD;
	if (line_starts(h, n, "Location is "))
		return TSAN_STACK_LOCATION;
	if ((n == 3 && !memcmp(h, "and", 3)) || line_starts(h, n, "Signal "))
		return TSAN_STACK_PRIMARY;
	return TSAN_STACK_OTHER;
}

/* "global 'counter' of size 8 at 0x7fd2 (m.so+0x41)" -> without " at 0x..." and the end. */
static char *clean_location(const char *s, size_t n)
{
	struct sbuf sb = SBUF_INIT;
	size_t i = 0;
	while (n && (s[n - 1] == ':' || s[n - 1] == '.' || s[n - 1] == ' '))
		n--;
	while (i < n) {
		if (i + 6 <= n && !memcmp(s + i, " at 0x", 6)) {
			i += 6;
			while (i < n && s[i] != ' ')
				i++;
			continue;
		}
		sbuf_addc(&sb, s[i++]);
	}
	if (!sb.buf)
		sbuf_adds(&sb, "");
	return sbuf_detach(&sb);
}

static void parse_summary(struct tsan_report *r, const char *s, size_t n)
{
	const char *rest = s, *end = s + n, *loc_end;
	size_t k = r->kind ? strlen(r->kind) : 0;
	r->summary = str_of(s, n);
	if (k && n > k && !memcmp(s, r->kind, k) && s[k] == ' ')
		rest = s + k + 1;
	else
		return;
	if (rest < end && *rest == '(') {
		loc_end = memchr(rest, ')', (size_t)(end - rest));
		if (!loc_end)
			return;
		r->summary_location = str_of(rest + 1, (size_t)(loc_end - rest - 1));
		loc_end++;
	} else {
		loc_end = memchr(rest, ' ', (size_t)(end - rest));
		if (!loc_end)
			loc_end = end;
		r->summary_location = str_of(rest, (size_t)(loc_end - rest));
	}
	if (end - loc_end > 4 && !memcmp(loc_end, " in ", 4))
		r->summary_function = str_of(loc_end + 4, (size_t)(end - loc_end - 4));
}

size_t tsan_key_stacks(const struct tsan_report *r, const struct tsan_stack **out, size_t max)
{
	static const enum tsan_stack_kind order[] = { TSAN_STACK_ACCESS, TSAN_STACK_ACQUIRED,
						      TSAN_STACK_PRIMARY, TSAN_STACK_THREAD,
						      TSAN_STACK_MUTEX };
	for (size_t o = 0; o < ARRAY_SIZE(order); o++) {
		size_t k = 0;
		for (size_t i = 0; i < r->nstacks && k < max; i++)
			if (r->stacks[i].kind == order[o])
				out[k++] = &r->stacks[i];
		if (k)
			return order[o] == TSAN_STACK_ACCESS && k > 2 ? 2 : k;
	}
	return 0;
}

/* Normalized name of a frame for signatures: function, else module+offset, else "??". */
static char *frame_key(const struct tsan_frame *f)
{
	if (f->function) {
		char *s = normalize_function(f->function);
		if (s && *s)
			return s;
		free(s);
	}
	if (f->module)
		return xasprintf("%s+0x%llx", f->module, f->offset);
	return xstrdup("??");
}

size_t tsan_top_frames(const struct tsan_stack *s, char **out, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < s->nframes && k < n; i++) {
		const struct tsan_frame *f = &s->frames[i];
		char *name;
		if (f->runtime)
			continue;
		name = frame_key(f);
		if (f->file && f->line)
			out[k++] = xasprintf("%s (%s:%d)", name, f->file, f->line);
		else if (f->module)
			out[k++] = xasprintf("%s (%s+0x%llx)", name, f->module, f->offset);
		else
			out[k++] = xstrdup(name);
		free(name);
	}
	return k;
}

static void sign(struct tsan_report *r)
{
	const struct tsan_stack *keys[MAX_KEY_STACKS];
	char *tops[MAX_KEY_STACKS];
	size_t nk = tsan_key_stacks(r, keys, MAX_KEY_STACKS);
	struct sbuf sb = SBUF_INIT;
	for (size_t i = 0; i < nk; i++) {
		const struct tsan_stack *s = keys[i];
		tops[i] = NULL;
		for (size_t j = 0; j < s->nframes && !tops[i]; j++)
			if (!s->frames[j].runtime)
				tops[i] = frame_key(&s->frames[j]);
		if (!tops[i])
			tops[i] = xstrdup("??");
	}
	qsort(tops, nk, sizeof(char *), cmp_strp);
	sbuf_adds(&sb, r->kind ? r->kind : "?");
	for (size_t i = 0; i < nk; i++) {
		sbuf_addf(&sb, " | %s", tops[i]);
		free(tops[i]);
	}
	r->signature = sbuf_detach(&sb);
	hash_hex(r->signature, r->id);
}

static void finish(struct tsan_report *r)
{
	if (!r->summary)
		r->truncated = true;
	sign(r);
}

static void start_report(struct tsan_reports *out, const char *s, size_t n)
{
	struct tsan_report *r;
	const char *pid = find_in(s, n, " (pid=");
	size_t kn = pid ? (size_t)(pid - s) : n;
	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 8;
		out->v = xrealloc(out->v, out->cap * sizeof(*out->v));
	}
	r = &out->v[out->n++];
	memset(r, 0, sizeof(*r));
	while (kn && s[kn - 1] == ' ')
		kn--;
	r->kind = str_of(s, kn);
	r->pid = -1;
	if (pid) {
		const char *d = pid + 6;
		size_t k = 0;
		while (d + k < s + n && d[k] >= '0' && d[k] <= '9' && k < 9)
			k++;
		if (k)
			r->pid = to_int(d, k);
	}
}

/*
 * A fatal report's first line, "==PID==ERROR: ThreadSanitizer: SEGV on unknown address ..."
 * (or FATAL:, with or without the ==PID== prefix): the kind's start (after "ThreadSanitizer: ")
 * and the pid, else NULL.
 */
static const char *fatal_line(const char *s, size_t n, long *pid)
{
	size_t i = 0, k = 0;
	*pid = -1;
	if (n > 4 && s[0] == '=' && s[1] == '=') {
		for (i = 2; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i + 2 > n || s[i] != '=' || s[i + 1] != '=')
			return NULL;
		if (i > 2 && i - 2 <= 9)
			*pid = to_int(s + 2, i - 2);
		i += 2;
	}
	if (line_starts(s + i, n - i, TSAN_ERROR))
		k = strlen(TSAN_ERROR);
	else if (line_starts(s + i, n - i, TSAN_FATAL))
		k = strlen(TSAN_FATAL);
	return k ? s + i + k : NULL;
}

/* "SEGV on unknown address 0x0 (pc ...)" -> "SEGV": up to " on ", " (" or the end. */
static void start_fatal(struct tsan_reports *out, const char *s, size_t n, long pid)
{
	const char *on = find_in(s, n, " on "), *par = find_in(s, n, " (");
	size_t kn = n;
	if (on && (size_t)(on - s) < kn)
		kn = (size_t)(on - s);
	if (par && (size_t)(par - s) < kn)
		kn = (size_t)(par - s);
	start_report(out, s, kn);
	out->v[out->n - 1].pid = pid;
	out->v[out->n - 1].fatal = true;
}

int tsan_fatal_signal(const struct tsan_report *r)
{
	static const struct {
		const char *kind;
		int sig;
	} sigs[] = { { "SEGV", SIGSEGV }, { "BUS", SIGBUS }, { "FPE", SIGFPE }, { "ILL", SIGILL },
		     { "ABRT", SIGABRT }, { "stack-overflow", SIGSEGV } };
	if (!r->fatal)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		if (r->kind && !strcmp(r->kind, sigs[i].kind))
			return sigs[i].sig;
	return SIGABRT; /* any other fatal error: the runtime Die()s */
}

const struct tsan_report *tsan_first_fatal(const struct tsan_reports *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].fatal)
			return &r->v[i];
	return NULL;
}

size_t tsan_parse(const char *text, size_t len, struct tsan_reports *out)
{
	const char *p = text, *end = text + len;
	struct tsan_report *cur = NULL;
	struct tsan_stack *st = NULL;
	const char *fk;
	long fpid;
	size_t added = 0;
	if (!text)
		return 0;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *s = p;
		size_t n = (size_t)((eol ? eol : end) - p);
		p = eol ? eol + 1 : end;
		if (n && s[n - 1] == '\r')
			n--;
		fk = fatal_line(s, n, &fpid);
		if (fk || line_starts(s, n, TSAN_WARNING)) {
			/* a new report: a warning, or a fatal error */
			if (cur)
				finish(cur);
			cur = NULL;
			if (out->n >= TSAN_REPORTS_KEEP) {
				out->more++;
				continue;
			}
			if (fk)
				start_fatal(out, fk, n - (size_t)(fk - s), fpid);
			else
				start_report(out, s + strlen(TSAN_WARNING), n - strlen(TSAN_WARNING));
			cur = &out->v[out->n - 1];
			st = NULL;
			added++;
			continue;
		}
		if (!cur)
			continue;
		if (line_starts(s, n, TSAN_RULE)) {
			finish(cur);
			cur = NULL;
			continue;
		}
		if (line_starts(s, n, TSAN_SUMMARY)) {
			parse_summary(cur, s + strlen(TSAN_SUMMARY), n - strlen(TSAN_SUMMARY));
			finish(cur);
			cur = NULL;
			continue;
		}
		if (n == 0) {
			st = NULL;
			continue;
		}
		{
			size_t ind = 0;
			while (ind < n && s[ind] == ' ')
				ind++;
			if (ind == n) {
				st = NULL; /* a blank line ends a stack */
				continue;
			}
			if (ind >= 2 && s[ind] == '#') {
				/* "    #N rest" */
				size_t d = ind + 1;
				struct tsan_frame f;
				while (d < n && s[d] >= '0' && s[d] <= '9')
					d++;
				if (d == ind + 1 || d >= n || s[d] != ' ')
					continue;
				if (!st)
					st = new_stack(cur, TSAN_STACK_PRIMARY, NULL, 0);
				if (!st || st->nframes == MAX_FRAMES)
					continue;
				parse_frame(s + d + 1, n - d - 1, &f);
				st->frames = xrealloc(st->frames, (st->nframes + 1) * sizeof(f));
				st->frames[st->nframes++] = f;
				continue;
			}
			if (ind >= 2 &&
			    line_starts(s + ind, n - ind, "[failed to restore the stack]")) {
				if (!st)
					st = new_stack(cur, TSAN_STACK_PRIMARY, NULL, 0);
				if (st)
					st->unrestored = true;
				continue;
			}
			if (ind == 2) {
				const char *h = s + 2;
				size_t hn = n - 2;
				bool section = h[hn - 1] == ':';
				if (line_starts(h, hn, "Location is ") && !cur->location)
					cur->location = clean_location(h + 12, hn - 12);
				if (!section) {
					/* "Cycle in lock order graph: ...", "And 2 more ..." */
					st = NULL;
					continue;
				}
				hn--;
				st = new_stack(cur, header_kind(h, hn), h, hn);
				if (st && st->kind == TSAN_STACK_ACCESS)
					parse_access(st, h, hn);
				continue;
			}
			/* anything else (interleaved output, hints) leaves the state alone */
		}
	}
	if (cur)
		finish(cur);
	return added;
}

/* ---- suppressions ---- */

static const struct {
	const char *name;
	enum tsan_supp_type type;
} supp_types[] = {
	{ "race", TSAN_SUPP_RACE },
	{ "race_top", TSAN_SUPP_RACE_TOP },
	{ "thread", TSAN_SUPP_THREAD },
	{ "mutex", TSAN_SUPP_MUTEX },
	{ "signal", TSAN_SUPP_SIGNAL },
	{ "deadlock", TSAN_SUPP_DEADLOCK },
	{ "called_from_lib", TSAN_SUPP_CALLED_FROM_LIB },
};

void tsan_supp_release(struct tsan_supp *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->rules[i].pattern);
		free(s->rules[i].text);
	}
	free(s->rules);
	memset(s, 0, sizeof(*s));
}

int tsan_supp_parse(const char *text, const char *name, struct tsan_supp *s)
{
	const char *p = text;
	int lineno = 0;
	while (p && *p) {
		const char *eol = strchr(p, '\n'), *b = p, *e = eol ? eol : p + strlen(p);
		const char *colon;
		size_t i;
		p = eol ? eol + 1 : NULL;
		lineno++;
		/* sanitizer_suppressions.cpp: blanks around the line go, nothing else */
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (b == e || *b == '#')
			continue;
		colon = memchr(b, ':', (size_t)(e - b));
		for (i = 0; colon && i < ARRAY_SIZE(supp_types); i++)
			if (strlen(supp_types[i].name) == (size_t)(colon - b) &&
			    !memcmp(b, supp_types[i].name, (size_t)(colon - b)))
				break;
		if (!colon || i == ARRAY_SIZE(supp_types)) {
			char *bad = xstrndup(b, (size_t)(e - b));
			int ret = error("%s:%d: not a ThreadSanitizer suppression: '%s' (want "
					"race:, race_top:, thread:, mutex:, signal:, deadlock: or "
					"called_from_lib:)",
					name, lineno, bad);
			free(bad);
			return ret;
		}
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 16;
			s->rules = xrealloc(s->rules, s->cap * sizeof(*s->rules));
		}
		s->rules[s->n].type = supp_types[i].type;
		s->rules[s->n].pattern = xstrndup(colon + 1, (size_t)(e - colon - 1));
		s->rules[s->n].text = xstrndup(b, (size_t)(e - b));
		s->n++;
	}
	return 0;
}

int tsan_supp_load(const char *path, struct tsan_supp *s)
{
	char *text = NULL;
	int ret = read_file(path, &text, NULL);
	if (ret < 0) {
		errno = -ret;
		return error_errno("cannot read TSAN suppressions '%s'", path);
	}
	ret = tsan_supp_parse(text, path, s);
	free(text);
	return ret;
}

/* '*'-only glob, iterative with one backtrack point: linear-ish, never exponential. */
static bool glob_match(const char *pat, size_t pn, const char *str)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0, sn = strlen(str);
	while (si < sn) {
		if (pi < pn && pat[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && pat[pi] == str[si]) {
			pi++;
			si++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < pn && pat[pi] == '*')
		pi++;
	return pi == pn;
}

bool tsan_pattern_match(const char *pattern, const char *str)
{
	struct sbuf sb = SBUF_INIT;
	size_t n = strlen(pattern);
	bool head = pattern[0] == '^', tail = n > (size_t)head && pattern[n - 1] == '$', m;
	if (!str || !*str)
		return false;
	if (!head)
		sbuf_addc(&sb, '*');
	sbuf_add(&sb, pattern + head, n - head - tail);
	if (!tail)
		sbuf_addc(&sb, '*');
	m = glob_match(sb.buf, sb.len, str);
	sbuf_release(&sb);
	return m;
}

static bool frame_matches(const struct tsan_frame *f, const char *pattern)
{
	return tsan_pattern_match(pattern, f->function) || tsan_pattern_match(pattern, f->file) ||
	       tsan_pattern_match(pattern, f->module);
}

/* TSAN's report type -> suppression type (tsan_suppressions.cpp conv()); -1: none. */
static int supp_type_of(const char *kind)
{
	static const char *const mutex_kinds[] = {
		"destroy of a locked mutex", "double lock of a mutex", "use of an invalid mutex",
		"unlock of an unlocked mutex", "read lock of a write locked mutex",
		"read unlock of a write locked mutex", "mutex held in the wrong context", NULL,
	};
	if (!kind)
		return -1;
	if (starts_with(kind, "data race") || starts_with(kind, "heap-use-after-free") ||
	    starts_with(kind, "race on external object"))
		return TSAN_SUPP_RACE;
	if (!strcmp(kind, "thread leak"))
		return TSAN_SUPP_THREAD;
	if (starts_with(kind, "lock-order-inversion"))
		return TSAN_SUPP_DEADLOCK;
	if (starts_with(kind, "signal-unsafe call") || starts_with(kind, "signal handler spoils"))
		return TSAN_SUPP_SIGNAL;
	for (const char *const *m = mutex_kinds; *m; m++)
		if (starts_with(kind, *m))
			return TSAN_SUPP_MUTEX;
	return -1;
}

/* The stacks TSAN checks against suppressions: accesses, the report's own stacks, threads. */
static bool checked_stack(const struct tsan_stack *s)
{
	return s->kind == TSAN_STACK_ACCESS || s->kind == TSAN_STACK_PRIMARY ||
	       s->kind == TSAN_STACK_ACQUIRED || s->kind == TSAN_STACK_PREV_ACQUIRED ||
	       s->kind == TSAN_STACK_THREAD;
}

static bool rule_matches(const struct tsan_supp_rule *rule, const struct tsan_report *r)
{
	int type = supp_type_of(r->kind);
	if (rule->type == TSAN_SUPP_CALLED_FROM_LIB) {
		for (size_t i = 0; i < r->nstacks; i++) {
			const struct tsan_stack *s = &r->stacks[i];
			if ((s->kind == TSAN_STACK_ACCESS || s->kind == TSAN_STACK_PRIMARY) &&
			    s->nframes > 1 && s->frames[0].runtime &&
			    tsan_pattern_match(rule->pattern, s->frames[1].module))
				return true;
		}
		return false;
	}
	if (rule->type == TSAN_SUPP_RACE_TOP) {
		if (type != TSAN_SUPP_RACE)
			return false;
		for (size_t i = 0; i < r->nstacks; i++)
			if (checked_stack(&r->stacks[i]) && r->stacks[i].nframes &&
			    frame_matches(&r->stacks[i].frames[0], rule->pattern))
				return true;
		return false;
	}
	if ((int)rule->type != type)
		return false;
	for (size_t i = 0; i < r->nstacks; i++) {
		const struct tsan_stack *s = &r->stacks[i];
		if (!checked_stack(s))
			continue;
		for (size_t j = 0; j < s->nframes; j++)
			if (frame_matches(&s->frames[j], rule->pattern))
				return true;
	}
	/* a global's name: "global 'counter' of size 8 ..." */
	if (r->location && starts_with(r->location, "global '")) {
		const char *b = r->location + 8, *e = strchr(b, '\'');
		if (e) {
			char *name = xstrndup(b, (size_t)(e - b));
			bool m = tsan_pattern_match(rule->pattern, name);
			free(name);
			if (m)
				return true;
		}
	}
	return false;
}

const struct tsan_supp_rule *tsan_supp_match(const struct tsan_supp *s,
					     const struct tsan_report *r)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (rule_matches(&s->rules[i], r))
			return &s->rules[i];
	return NULL;
}

void tsan_supp_apply(const struct tsan_supp *s, struct tsan_reports *r)
{
	for (size_t i = 0; s && i < r->n; i++) {
		const struct tsan_supp_rule *rule = tsan_supp_match(s, &r->v[i]);
		free(r->v[i].suppressed_by);
		r->v[i].suppressed_by = rule ? xstrdup(rule->text) : NULL;
		r->v[i].suppressed = rule != NULL;
	}
}
