/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "ftscope/error.h"
#include "ftscope/json.h"
#include "ftscope/srcscan.h"
#include "ftscope/util.h"

#define LINE_TEXT_MAX 200
/* how far after a token its value may be (a slot or call spread over a few lines) */
#define VALUE_WINDOW 400
#define MAX_DEPTH 40

/* What to look for in a file, from its name. */
enum {
	SCAN_C = 1 << 0,      /* C/C++: Py_mod_gil, SetGIL, pybind11 (C comments/strings) */
	SCAN_CYTHON = 1 << 1, /* Py_mod_gil, SetGIL with Python comments/strings */
	SCAN_CYDIR = 1 << 2,  /* "# cython: freethreading_compatible = ..." */
	SCAN_BUILD = 1 << 3,  /* freethreading_compatible in build configuration */
	SCAN_RUST = 1 << 4,   /* PyO3 */
	SCAN_CMAKE = 1 << 5,  /* nanobind */
};

const char *srcscan_kind_name(enum srcscan_kind k)
{
	switch (k) {
	case SRCSCAN_MOD_GIL:
		return "Py_mod_gil";
	case SRCSCAN_SET_GIL:
		return "PyUnstable_Module_SetGIL";
	case SRCSCAN_CYTHON:
		return "cython_directive";
	case SRCSCAN_CYTHON_BUILD:
		return "cython_build_directive";
	case SRCSCAN_PYBIND11:
		return "pybind11";
	case SRCSCAN_PYO3:
		return "pyo3";
	case SRCSCAN_NANOBIND:
		return "nanobind";
	}
	return "?";
}

static int file_flags(const char *path)
{
	static const char *const c_ext[] = { ".c", ".cc", ".cpp", ".cxx", ".c++", ".h",
					     ".hh", ".hpp", ".hxx", ".inl" };
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (!strcmp(base, "setup.py"))
		return SCAN_CYDIR | SCAN_BUILD;
	if (!strcmp(base, "setup.cfg") || !strcmp(base, "pyproject.toml") ||
	    !strcmp(base, "meson.build"))
		return SCAN_BUILD;
	if (!strcmp(base, "CMakeLists.txt") || ends_with(base, ".cmake"))
		return SCAN_BUILD | SCAN_CMAKE;
	for (size_t i = 0; i < ARRAY_SIZE(c_ext); i++)
		if (ends_with(base, c_ext[i]))
			return SCAN_C;
	if (ends_with(base, ".pyx") || ends_with(base, ".pxd") || ends_with(base, ".pxi"))
		return SCAN_CYTHON | SCAN_CYDIR;
	if (ends_with(base, ".py"))
		return SCAN_CYDIR;
	if (ends_with(base, ".rs"))
		return SCAN_RUST;
	return 0;
}

bool srcscan_wants(const char *name)
{
	return file_flags(name) != 0;
}

/* ---- blanking comments and string literals (newlines are kept, so offsets and line
 * numbers stay those of the original text) ---- */

static void blank(char *b, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (b[i] != '\n')
			b[i] = ' ';
}

/* End (exclusive) of a quoted literal starting at i (the quote), at most to the line end. */
static size_t quoted_end(const char *t, size_t len, size_t i)
{
	char q = t[i];
	for (size_t j = i + 1; j < len; j++) {
		if (t[j] == '\\' && j + 1 < len) {
			j++;
			continue;
		}
		if (t[j] == q)
			return j + 1;
		if (t[j] == '\n')
			return j;
	}
	return len;
}

/* C, C++ and (rust = true) Rust: // and block comments, "strings", 'c' literals. */
/* A copy of all len bytes (NULs included: a file may hold them), NUL-terminated. */
static char *copy_bytes(const char *t, size_t len)
{
	char *b = xmalloc(len + 1);
	memcpy(b, t, len);
	b[len] = '\0';
	return b;
}

static char *blank_c(const char *t, size_t len, bool rust)
{
	char *b = copy_bytes(t, len);
	size_t i = 0, e;

	while (i < len) {
		if (t[i] == '/' && i + 1 < len && t[i + 1] == '/') {
			for (e = i; e < len && t[e] != '\n'; e++)
				;
		} else if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
			const char *end = memmem(t + i + 2, len - i - 2, "*/", 2);
			e = end ? (size_t)(end - t) + 2 : len;
		} else if (t[i] == '"') {
			e = quoted_end(t, len, i);
		} else if (t[i] == '\'') {
			/* in Rust 'a is a lifetime: only 'x' and '\..' are character literals */
			if (rust && !(i + 2 < len && (t[i + 1] == '\\' || t[i + 2] == '\''))) {
				i++;
				continue;
			}
			e = quoted_end(t, len, i);
		} else {
			i++;
			continue;
		}
		blank(b, i, e);
		i = e > i ? e : i + 1;
	}
	return b;
}

/* Python, Cython, CMake, TOML: # comments; strings (triple-quoted too) when strings. */
static char *blank_hash(const char *t, size_t len, bool strings)
{
	char *b = copy_bytes(t, len);
	size_t i = 0, e;

	while (i < len) {
		if (t[i] == '#') {
			for (e = i; e < len && t[e] != '\n'; e++)
				;
		} else if (strings && (t[i] == '"' || t[i] == '\'')) {
			char triple[3] = { t[i], t[i], t[i] };
			if (i + 2 < len && t[i + 1] == t[i] && t[i + 2] == t[i]) {
				const char *end = memmem(t + i + 3, len - i - 3, triple, 3);
				e = end ? (size_t)(end - t) + 3 : len;
			} else {
				e = quoted_end(t, len, i);
			}
		} else {
			i++;
			continue;
		}
		blank(b, i, e);
		i = e > i ? e : i + 1;
	}
	return b;
}

/* ---- tokens ---- */

static bool is_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Next occurrence at or after from of the identifier word (whole word), or len. */
static size_t find_word(const char *b, size_t len, size_t from, const char *word)
{
	size_t wl = strlen(word);
	while (from < len) {
		const char *p = memmem(b + from, len - from, word, wl);
		size_t at;
		if (!p)
			break;
		at = (size_t)(p - b);
		if ((at == 0 || !is_ident_char(b[at - 1])) &&
		    (at + wl >= len || !is_ident_char(b[at + wl])))
			return at;
		from = at + 1;
	}
	return len;
}

static size_t skip_ws(const char *b, size_t len, size_t i)
{
	while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r' ||
			   b[i] == '\f' || b[i] == '\v'))
		i++;
	return i;
}

/* Index of the last non-blank character before i, or (size_t)-1. */
static size_t prev_nonblank(const char *b, size_t i)
{
	while (i > 0) {
		char c = b[--i];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return i;
	}
	return (size_t)-1;
}

/* The identifier at i (b[i] is an identifier character): its length. */
static size_t ident_len(const char *b, size_t len, size_t i)
{
	size_t j = i;
	while (j < len && is_ident_char(b[j]))
		j++;
	return j - i;
}

static bool ident_is(const char *b, size_t i, size_t n, const char *word)
{
	return n == strlen(word) && !memcmp(b + i, word, n);
}

/* The matching ')' for the '(' at open, at most VALUE_WINDOW bytes on; len if none. */
static size_t paren_end(const char *b, size_t len, size_t open)
{
	int depth = 0;
	for (size_t i = open; i < len && i - open < VALUE_WINDOW; i++) {
		if (b[i] == '(')
			depth++;
		else if (b[i] == ')' && --depth == 0)
			return i;
	}
	return len;
}

/*
 * In b[from, to): the first identifier among Py_MOD_GIL_NOT_USED (1) and Py_MOD_GIL_USED
 * (0), stopping at stop_word; -1 if none. *at gets its end.
 */
static int find_gil_value(const char *b, size_t from, size_t to, const char *stop_word,
			  size_t *at)
{
	for (size_t i = from; i < to;) {
		size_t n;
		if (!is_ident_char(b[i]) || (i > 0 && is_ident_char(b[i - 1]))) {
			i++;
			continue;
		}
		n = ident_len(b, to, i);
		*at = i + n;
		if (ident_is(b, i, n, "Py_MOD_GIL_NOT_USED"))
			return 1;
		if (ident_is(b, i, n, "Py_MOD_GIL_USED"))
			return 0;
		if (stop_word && ident_is(b, i, n, stop_word))
			return -1;
		i += n;
	}
	return -1;
}

/* true/True/1/yes/on: 1; false/False/0/no/off: 0; anything else -1. */
static int bool_word(const char *b, size_t len, size_t i)
{
	static const char *const yes[] = { "True", "true", "1", "yes", "on", "ON", "TRUE" };
	static const char *const no[] = { "False", "false", "0", "no", "off", "OFF", "FALSE" };
	size_t n = ident_len(b, len, i);
	for (size_t k = 0; k < ARRAY_SIZE(yes); k++)
		if (ident_is(b, i, n, yes[k]))
			return 1;
	for (size_t k = 0; k < ARRAY_SIZE(no); k++)
		if (ident_is(b, i, n, no[k]))
			return 0;
	return -1;
}

/* ---- recording ---- */

static int line_of(const char *t, size_t off)
{
	int line = 1;
	for (size_t i = 0; i < off; i++)
		if (t[i] == '\n')
			line++;
	return line;
}

/* The raw text from the start of start's line to the end of end's line, blanks collapsed. */
static char *decl_text(const char *t, size_t len, size_t start, size_t end)
{
	struct sbuf sb = SBUF_INIT;
	bool space = false;

	while (start > 0 && t[start - 1] != '\n')
		start--;
	while (end < len && t[end] != '\n')
		end++;
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			space = sb.len > 0;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		if (space)
			sbuf_addc(&sb, ' ');
		space = false;
		sbuf_addc(&sb, (char)c);
		if (sb.len >= LINE_TEXT_MAX - 3) { /* with the "...", at most LINE_TEXT_MAX */
			sb.len = LINE_TEXT_MAX - 3;
			sb.buf[sb.len] = '\0';
			/* do not end inside a UTF-8 sequence */
			while (sb.len && ((unsigned char)sb.buf[sb.len - 1] & 0xc0) == 0x80)
				sb.buf[--sb.len] = '\0';
			if (sb.len && ((unsigned char)sb.buf[sb.len - 1] & 0xc0) == 0xc0)
				sb.buf[--sb.len] = '\0';
			sbuf_adds(&sb, "...");
			break;
		}
	}
	return sbuf_detach(&sb);
}

struct file_ctx {
	struct srcscan *s;
	const char *rel;
	const char *t; /* raw text */
	size_t len;
	size_t found;
};

static void add_decl(struct file_ctx *fc, enum srcscan_kind kind, bool not_used, size_t start,
		     size_t end)
{
	struct srcscan *s = fc->s;
	struct srcscan_decl *d;

	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->decls = xrealloc(s->decls, s->cap * sizeof(*s->decls));
	}
	d = &s->decls[s->n++];
	d->file = xstrdup(fc->rel);
	d->line = line_of(fc->t, start);
	d->line_text = decl_text(fc->t, fc->len, start, end);
	d->kind = kind;
	d->not_used = not_used;
	fc->found++;
}

/* ---- the declarations ---- */

/* {Py_mod_gil, Py_MOD_GIL_NOT_USED}, also spread over lines, or .slot = Py_mod_gil, .value = */
static void scan_mod_gil(struct file_ctx *fc, const char *b)
{
	size_t len = fc->len;

	for (size_t i = find_word(b, len, 0, "Py_mod_gil"); i < len;
	     i = find_word(b, len, i + 1, "Py_mod_gil")) {
		size_t j = skip_ws(b, len, i + strlen("Py_mod_gil")), to, at = 0;
		int v;
		/* a slot has a value after a comma; "#ifdef Py_mod_gil" has none */
		if (j >= len || b[j] != ',')
			continue;
		for (to = j + 1; to < len && to - j < VALUE_WINDOW; to++)
			if (b[to] == '{' || b[to] == '}' || b[to] == ';')
				break;
		v = find_gil_value(b, j + 1, to, "Py_mod_gil", &at);
		if (v >= 0)
			add_decl(fc, SRCSCAN_MOD_GIL, v == 1, i, at);
	}
}

/* PyUnstable_Module_SetGIL(module, Py_MOD_GIL_NOT_USED) */
static void scan_set_gil(struct file_ctx *fc, const char *b)
{
	size_t len = fc->len;
	const char *w = "PyUnstable_Module_SetGIL";

	for (size_t i = find_word(b, len, 0, w); i < len; i = find_word(b, len, i + 1, w)) {
		size_t j = skip_ws(b, len, i + strlen(w)), close, at = 0;
		int v;
		if (j >= len || b[j] != '(')
			continue;
		close = paren_end(b, len, j);
		if (close >= len)
			continue;
		/* a compatibility shim's definition names no value, so it is not counted */
		v = find_gil_value(b, j + 1, close, NULL, &at);
		if (v >= 0)
			add_decl(fc, SRCSCAN_SET_GIL, v == 1, i, close);
	}
}

/* PYBIND11_MODULE(name, m, py::mod_gil_not_used()) -- not pybind11's own class */
static void scan_pybind11(struct file_ctx *fc, const char *b)
{
	size_t len = fc->len;
	const char *w = "mod_gil_not_used";

	for (size_t i = find_word(b, len, 0, w); i < len; i = find_word(b, len, i + 1, w)) {
		size_t j = skip_ws(b, len, i + strlen(w)), close, p = prev_nonblank(b, i);
		bool not_used = true;
		if (j >= len || b[j] != '(' || p == (size_t)-1)
			continue;
		if (!(b[p] == ':' || b[p] == '(' || b[p] == ','))
			continue;
		close = paren_end(b, len, j);
		if (close >= len)
			continue;
		if (find_word(b, close, j, "bool") < close)
			continue; /* a declaration of the constructor */
		if (find_word(b, close, j, "false") < close)
			not_used = false;
		add_decl(fc, SRCSCAN_PYBIND11, not_used, i, close);
	}
}

/* The attribute "#[name(" that encloses i, if it is pymodule or pyo3. */
static size_t pyo3_attr_start(const char *b, size_t i)
{
	for (size_t k = i, n = 0; k > 1 && n < 300; k--, n++) {
		size_t a, l;
		if (b[k - 1] == ']' || b[k - 1] == ';' || b[k - 1] == '{')
			return (size_t)-1;
		if (b[k - 2] != '#' || b[k - 1] != '[')
			continue;
		a = k;
		while (b[a] == ' ' || b[a] == '\t')
			a++;
		l = ident_len(b, i, a);
		if (ident_is(b, a, l, "pymodule") || ident_is(b, a, l, "pyo3"))
			return k - 2;
		return (size_t)-1;
	}
	return (size_t)-1;
}

/* #[pymodule(gil_used = false)], m.gil_used(false) */
static void scan_pyo3(struct file_ctx *fc, const char *b)
{
	size_t len = fc->len;
	const char *w = "gil_used";

	for (size_t i = find_word(b, len, 0, w); i < len; i = find_word(b, len, i + 1, w)) {
		size_t j = skip_ws(b, len, i + strlen(w)), start, p;
		int v;
		if (j >= len)
			break;
		if (b[j] == '=' && (j + 1 >= len || b[j + 1] != '=')) {
			start = pyo3_attr_start(b, i);
			if (start == (size_t)-1)
				continue;
		} else if (b[j] == '(') {
			p = prev_nonblank(b, i);
			if (p == (size_t)-1 || b[p] != '.')
				continue;
			start = i;
		} else {
			continue;
		}
		j = skip_ws(b, len, j + 1);
		if (j >= len || (v = bool_word(b, len, j)) < 0)
			continue;
		add_decl(fc, SRCSCAN_PYO3, v == 0, start, j);
	}
}

/* nanobind_add_module(name FREE_THREADED ...) */
static void scan_nanobind(struct file_ctx *fc, const char *b)
{
	size_t len = fc->len;
	const char *w = "nanobind_add_module";

	for (size_t i = find_word(b, len, 0, w); i < len; i = find_word(b, len, i + 1, w)) {
		size_t j = skip_ws(b, len, i + strlen(w)), close;
		if (j >= len || b[j] != '(')
			continue;
		for (close = j; close < len && b[close] != ')'; close++)
			;
		if (find_word(b, close, j, "FREE_THREADED") < close)
			add_decl(fc, SRCSCAN_NANOBIND, true, i, j);
	}
}

static size_t skip_blanks(const char *t, size_t i, size_t end)
{
	while (i < end && (t[i] == ' ' || t[i] == '\t'))
		i++;
	return i;
}

/* One line: "# cython: a=1, freethreading_compatible = True": 1, 0, or -1 if not such a line. */
static int cython_directive_line(const char *t, size_t ls, size_t le)
{
	const char *w = "freethreading_compatible";
	size_t i = skip_blanks(t, ls, le), k;

	if (i >= le || t[i] != '#')
		return -1;
	i = skip_blanks(t, i + 1, le);
	if (le - i < 6 || memcmp(t + i, "cython", 6))
		return -1;
	i = skip_blanks(t, i + 6, le);
	if (i >= le || t[i] != ':')
		return -1;
	k = find_word(t, le, i, w);
	if (k >= le)
		return -1;
	k = skip_blanks(t, k + strlen(w), le);
	if (k >= le || t[k] != '=')
		return -1;
	return bool_word(t, le, skip_blanks(t, k + 1, le));
}

/* "# cython: language_level=3, freethreading_compatible=True" header comments */
static void scan_cython_directive(struct file_ctx *fc)
{
	const char *t = fc->t;
	size_t len = fc->len;

	for (size_t ls = 0; ls < len;) {
		const char *nl = memchr(t + ls, '\n', len - ls);
		size_t le = nl ? (size_t)(nl - t) : len;
		int v = cython_directive_line(t, ls, le);
		if (v >= 0)
			add_decl(fc, SRCSCAN_CYTHON, v == 1, ls, le);
		ls = le + 1;
	}
}

/* compiler_directives={"freethreading_compatible": True}, -Xfreethreading_compatible=True */
static void scan_build_directive(struct file_ctx *fc)
{
	const char *t = fc->t, *w = "freethreading_compatible";
	size_t len = fc->len;

	for (size_t i = find_word(t, len, 0, w); i < len; i = find_word(t, len, i + 1, w)) {
		size_t j = i + strlen(w), ls = i;
		int v;
		while (ls > 0 && t[ls - 1] != '\n')
			ls--;
		if (memchr(t + ls, '#', i - ls))
			continue; /* commented out (or a "# cython:" line, counted as such) */
		while (j < len && (t[j] == ' ' || t[j] == '\t' || t[j] == '"' || t[j] == '\''))
			j++;
		if (j >= len || (t[j] != '=' && t[j] != ':'))
			continue;
		j++;
		while (j < len && (t[j] == ' ' || t[j] == '\t' || t[j] == '"' || t[j] == '\''))
			j++;
		if (j >= len || (v = bool_word(t, len, j)) < 0)
			continue;
		add_decl(fc, SRCSCAN_CYTHON_BUILD, v == 1, i, j);
	}
}

void srcscan_buffer(struct srcscan *s, const char *relpath, const char *text, size_t len)
{
	int flags = file_flags(relpath);
	struct file_ctx fc = { .s = s, .rel = relpath, .t = text, .len = len };
	char *b;

	s->files_scanned++;
	if (flags & (SCAN_C | SCAN_RUST)) {
		b = blank_c(text, len, flags & SCAN_RUST);
		if (flags & SCAN_C) {
			scan_mod_gil(&fc, b);
			scan_set_gil(&fc, b);
			scan_pybind11(&fc, b);
		} else {
			scan_pyo3(&fc, b);
		}
		free(b);
	}
	if (flags & SCAN_CYTHON) {
		b = blank_hash(text, len, true);
		scan_mod_gil(&fc, b);
		scan_set_gil(&fc, b);
		free(b);
	}
	if (flags & SCAN_CYDIR)
		scan_cython_directive(&fc);
	if (flags & SCAN_BUILD)
		scan_build_directive(&fc);
	if (flags & SCAN_CMAKE) {
		b = blank_hash(text, len, false);
		scan_nanobind(&fc, b);
		free(b);
	}
	if (fc.found)
		s->files_with_decl++;
}

/* ---- the walk ---- */

static bool skip_dir(const char *name)
{
	static const char *const skip[] = { "build", "dist", "venv", "node_modules", "target",
					    "__pycache__", "site-packages" };
	if (name[0] == '.')
		return true; /* .git .tox .venv .eggs ... */
	if (ends_with(name, ".egg-info"))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(skip); i++)
		if (!strcmp(name, skip[i]))
			return true;
	return false;
}

static void scan_file(struct srcscan *s, const char *path, const char *rel, off_t size)
{
	char *text = NULL;
	size_t len = 0;

	if (size > SRCSCAN_MAX_BYTES) {
		s->files_too_large++;
		return;
	}
	if (read_file(path, &text, &len) < 0) {
		debug("source scan: cannot read '%s'", path);
		return;
	}
	srcscan_buffer(s, rel, text, len);
	free(text);
}

static int walk(struct srcscan *s, const char *dir, const char *rel, int depth)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, NULL, alphasort);

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *path, *r;
		struct stat st;

		if (!strcmp(name, ".") || !strcmp(name, "..") || s->truncated)
			goto next;
		if (++s->entries > SRCSCAN_MAX_ENTRIES) {
			s->truncated = true;
			goto next;
		}
		path = path_join(dir, name);
		r = *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
		if (lstat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode) && !skip_dir(name) && depth < MAX_DEPTH) {
				walk(s, path, r, depth + 1);
			} else if (S_ISREG(st.st_mode) && file_flags(name)) {
				if (s->files_scanned >= SRCSCAN_MAX_FILES)
					s->truncated = true;
				else
					scan_file(s, path, r, st.st_size);
			}
		}
		free(r);
		free(path);
next:
		free(ents[i]);
	}
	free(ents);
	return 0;
}

static int decl_cmp(const void *pa, const void *pb)
{
	const struct srcscan_decl *a = pa, *b = pb;
	int c = strcmp(a->file, b->file);
	if (c)
		return c;
	return a->line < b->line ? -1 : a->line > b->line;
}

int srcscan_tree(const char *root, struct srcscan *s)
{
	int ret = walk(s, root, "", 0);
	if (s->n > 1)
		qsort(s->decls, s->n, sizeof(*s->decls), decl_cmp);
	return ret;
}

cJSON *srcscan_json(const struct srcscan *s)
{
	cJSON *j = cJSON_CreateObject(), *arr = cJSON_CreateArray();

	cJSON_AddNumberToObject(j, "files_scanned", (double)s->files_scanned);
	cJSON_AddNumberToObject(j, "files_with_mod_gil", (double)s->files_with_decl);
	for (size_t i = 0; i < s->n; i++) {
		const struct srcscan_decl *d = &s->decls[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "file", d->file);
		cJSON_AddNumberToObject(o, "line_number", d->line);
		cJSON_AddStringToObject(o, "line_text", d->line_text);
		cJSON_AddStringToObject(o, "kind", srcscan_kind_name(d->kind));
		cJSON_AddBoolToObject(o, "is_not_used", d->not_used);
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddItemToObject(j, "declarations", arr);
	if (s->truncated)
		cJSON_AddTrueToObject(j, "truncated");
	if (s->files_too_large)
		cJSON_AddNumberToObject(j, "files_too_large", (double)s->files_too_large);
	return j;
}

void srcscan_release(struct srcscan *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->decls[i].file);
		free(s->decls[i].line_text);
	}
	free(s->decls);
	memset(s, 0, sizeof(*s));
}

int srcscan_attach(cJSON *pkg, const char *root)
{
	struct srcscan s = SRCSCAN_INIT;
	cJSON *ext;
	int ret = srcscan_tree(root, &s);

	if (ret < 0) {
		errno = -ret;
		warning_errno("cannot scan the sources in '%s'", root);
		goto out;
	}
	ext = cJSON_GetObjectItemCaseSensitive(pkg, "extension_compat");
	if (!cJSON_IsObject(ext)) {
		ext = cJSON_CreateObject();
		json_set(pkg, "extension_compat", ext);
	}
	json_set(ext, "source_scan", srcscan_json(&s));
	debug("source scan of '%s': %zu files, %zu declarations", root, s.files_scanned, s.n);
out:
	srcscan_release(&s);
	return ret;
}

void srcscan_carry(cJSON *pkg, cJSON *new_ext)
{
	cJSON *old = cJSON_GetObjectItemCaseSensitive(pkg, "extension_compat");
	cJSON *scan;

	if (!cJSON_IsObject(old) || !cJSON_IsObject(new_ext) || old == new_ext)
		return;
	scan = cJSON_DetachItemFromObjectCaseSensitive(old, "source_scan");
	if (scan)
		json_set(new_ext, "source_scan", scan);
}
