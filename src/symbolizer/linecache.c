/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * A module's whole DWARF line table, flattened to sorted (address, file, line) rows and
 * kept on disk by build-id (diskcache.c), so that the next snapshot gets file:line with one mmap and a
 * binary search.
 *
 * Why: Debian's -dbg packages ship zlib-compressed .debug_* sections, and libdw inflates
 * every one of them when it opens the file (dwarf_begin_elf): for libc6-dbg that is ~45 ms
 * per process that looks up a single libc line. In a -g libpython, the lines of
 * _PyEval_EvalFrameDefault sit in ceval.c's huge line program, which libdw decodes per
 * process (~8 ms). Those two were most of an `ftscope dump`. Flattening costs ~30 ms
 * (libc, 2.3 MB on disk) and ~110 ms (libpython3.13t, ~10 MB) once per build-id.
 *
 * File layout (native byte order, all offsets from the file's start):
 *	struct lt_header
 *	struct lt_row  rows[nrows]     sorted by addr; line 0 = no line from addr on
 *	uint32_t       files[nfiles]   offsets into the string area
 *	char           strings[strsize] NUL-terminated names, the last byte is NUL
 * A file that does not match this exactly (truncated, other version, other build-id) is
 * ignored and rebuilt.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "ftscope/error.h"
#include "ftscope/util.h"
#include "internal.h"

#define LT_MAGIC "FTLINES1"
#define LT_VERSION 1u

struct lt_header {
	char magic[8];
	uint32_t version;
	uint32_t row_size;
	uint64_t nrows, nfiles, strsize;
	char build_id[130]; /* hex, NUL-padded */
	char pad[6];
};

struct lt_row {
	uint64_t addr;
	uint32_t file;
	int32_t line;
};

struct line_table {
	/* either mapped (map != NULL) or built in memory (owned arrays) */
	const void *map;
	size_t map_len;
	const struct lt_row *rows;
	const uint32_t *files;
	const char *strings;
	uint64_t nrows, nfiles, strsize;
	/* in-memory build */
	struct lt_row *own_rows;
	uint32_t *own_files;
	struct sbuf own_strings;
};

struct line_table *line_table_load(const char *build_id)
{
	struct line_table *lt;
	const struct lt_header *h;
	size_t len = 0;
	const void *map = diskcache_map(build_id, "lines", &len);
	uint64_t need = sizeof(*h);

	if (!map)
		return NULL;
	h = map;
	if (len < sizeof(*h) || memcmp(h->magic, LT_MAGIC, 8) || h->version != LT_VERSION ||
	    h->row_size != sizeof(struct lt_row) || strncmp(h->build_id, build_id, 130) ||
	    h->nrows > (1ull << 40) / sizeof(struct lt_row) || h->nfiles > (1ull << 32) ||
	    h->strsize > (1ull << 40))
		goto bad;
	need += h->nrows * sizeof(struct lt_row) + h->nfiles * 4 + h->strsize;
	if (need != len || !h->strsize || ((const char *)map)[len - 1] != '\0')
		goto bad;
	lt = xcalloc(1, sizeof(*lt));
	lt->map = map;
	lt->map_len = len;
	lt->nrows = h->nrows;
	lt->nfiles = h->nfiles;
	lt->strsize = h->strsize;
	lt->rows = (const struct lt_row *)(h + 1);
	lt->files = (const uint32_t *)(lt->rows + lt->nrows);
	lt->strings = (const char *)(lt->files + lt->nfiles);
	for (uint64_t i = 0; i < lt->nfiles; i++)
		if (lt->files[i] >= lt->strsize) {
			free(lt);
			goto bad;
		}
	debug("symbolizer: line table of %s loaded (%llu rows)", build_id,
	      (unsigned long long)lt->nrows);
	return lt;
bad:
	debug("symbolizer: ignoring an invalid line table for %s", build_id);
	diskcache_unmap(map, len);
	return NULL;
}

/* File names interned by content: an open-addressing set of indexes into offs. */
static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void intern_grow(struct str_interner *in)
{
	size_t ncap = in->cap ? 2 * in->cap : 1024;
	uint32_t *ns = xcalloc(ncap, sizeof(*ns));
	for (size_t i = 0; i < in->cap; i++) {
		uint32_t v = in->slots[i];
		size_t k;
		if (!v)
			continue;
		k = str_hash(in->strings.buf + in->offs[v - 1]) & (ncap - 1);
		while (ns[k])
			k = (k + 1) & (ncap - 1);
		ns[k] = v;
	}
	free(in->slots);
	in->slots = ns;
	in->cap = ncap;
}

uint32_t str_intern(struct str_interner *in, const char *name)
{
	size_t k;
	if (2 * (in->n + 1) > in->cap)
		intern_grow(in);
	k = str_hash(name) & (in->cap - 1);
	for (; in->slots[k]; k = (k + 1) & (in->cap - 1)) {
		uint32_t idx = in->slots[k] - 1;
		if (!strcmp(in->strings.buf + in->offs[idx], name))
			return idx;
	}
	if (in->n == in->cap_offs) {
		in->cap_offs = in->cap_offs ? 2 * in->cap_offs : 256;
		in->offs = xrealloc(in->offs, in->cap_offs * sizeof(*in->offs));
	}
	in->offs[in->n] = (uint32_t)in->strings.len;
	sbuf_add(&in->strings, name, strlen(name) + 1);
	in->slots[k] = (uint32_t)++in->n;
	return (uint32_t)(in->n - 1);
}

static int row_cmp(const void *a, const void *b)
{
	const struct lt_row *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* at one address an end of sequence sorts first, so the row starting there wins */
	if ((x->line == 0) != (y->line == 0))
		return x->line == 0 ? -1 : 1;
	return 0;
}

/* Collecting rows from one or more units' Dwarf_Lines (line_table_add) into a table. */
struct lt_builder {
	struct line_table *lt;
	struct str_interner in;
	size_t cap, n;
	uint64_t bias;
	const char *last_src; /* libdw's name of the last row's file, and its index */
	uint32_t last_file;
};

static void builder_init(struct lt_builder *b, uint64_t bias)
{
	memset(b, 0, sizeof(*b));
	b->lt = xcalloc(1, sizeof(*b->lt));
	b->bias = bias;
	sbuf_init(&b->in.strings);
}

/* One unit's rows: transitions only (a row like the previous adds nothing). */
static void builder_add(struct lt_builder *b, Dwarf_Lines *lines, size_t nl)
{
	struct line_table *lt = b->lt;
	int prev_line = -1;
	uint32_t prev_file = UINT32_MAX;

	b->last_src = NULL; /* another unit: another file table */
	for (size_t i = 0; i < nl; i++) {
		Dwarf_Line *l = dwarf_onesrcline(lines, i);
		Dwarf_Addr a;
		bool end = false;
		int ln = 0;
		const char *src;
		uint32_t file;

		if (!l || dwarf_lineaddr(l, &a) || dwarf_lineendsequence(l, &end))
			continue;
		if (end) {
			ln = 0;
			file = 0;
		} else {
			src = dwarf_linesrc(l, NULL, NULL);
			if (dwarf_lineno(l, &ln) || ln <= 0 || !src)
				ln = 0;
			/* rows of one file come in runs, with libdw's one string for its name */
			if (ln && src != b->last_src) {
				b->last_src = src;
				b->last_file = str_intern(&b->in, src);
			}
			file = ln ? b->last_file : 0;
		}
		if (!end && ln == prev_line && file == prev_file)
			continue;
		prev_line = end ? -1 : ln;
		prev_file = end ? UINT32_MAX : file;
		if (b->n == b->cap) {
			b->cap = b->cap ? 2 * b->cap : 4096;
			lt->own_rows = xrealloc(lt->own_rows, b->cap * sizeof(*lt->own_rows));
		}
		lt->own_rows[b->n].addr = a + b->bias;
		lt->own_rows[b->n].file = file;
		lt->own_rows[b->n].line = ln;
		b->n++;
	}
}

static struct line_table *builder_finish(struct lt_builder *b)
{
	struct line_table *lt = b->lt;
	size_t j = 0;

	free(b->in.slots);
	lt->own_files = b->in.offs;
	lt->nfiles = b->in.n;
	lt->own_strings = b->in.strings;
	for (size_t i = 1; i < b->n; i++)
		if (row_cmp(&lt->own_rows[i - 1], &lt->own_rows[i]) > 0) {
			qsort(lt->own_rows, b->n, sizeof(*lt->own_rows), row_cmp);
			break;
		}
	/* one row per address (the later, starting row wins), then drop repeats again */
	for (size_t i = 0; i < b->n; i++) {
		if (j && lt->own_rows[j - 1].addr == lt->own_rows[i].addr)
			j--;
		if (j && lt->own_rows[j - 1].line == lt->own_rows[i].line &&
		    lt->own_rows[j - 1].file == lt->own_rows[i].file)
			continue;
		lt->own_rows[j++] = lt->own_rows[i];
	}
	if (!lt->own_strings.len)
		sbuf_addc(&lt->own_strings, '\0');
	lt->nrows = j;
	lt->rows = lt->own_rows;
	lt->files = lt->own_files;
	lt->strings = lt->own_strings.buf;
	lt->strsize = lt->own_strings.len;
	return lt;
}

struct line_table *line_table_from_dwarf(Dwarf *dw, uint64_t bias)
{
	struct lt_builder b;
	Dwarf_CU *cu = NULL, *next;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die cudie;

	builder_init(&b, bias);
	while (dwarf_get_units(dw, cu, &next, &version, &unit_type, &cudie, NULL) == 0) {
		Dwarf_Lines *lines;
		size_t nl;
		if ((unit_type == DW_UT_compile || unit_type == DW_UT_partial) &&
		    dwarf_getsrclines(&cudie, &lines, &nl) == 0)
			builder_add(&b, lines, nl);
		cu = next;
	}
	return builder_finish(&b);
}

int line_table_save(const struct line_table *lt, const char *build_id)
{
	struct lt_header h;
	struct sbuf out = SBUF_INIT;
	int r;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, LT_MAGIC, 8);
	h.version = LT_VERSION;
	h.row_size = sizeof(struct lt_row);
	h.nrows = lt->nrows;
	h.nfiles = lt->nfiles;
	h.strsize = lt->strsize;
	strncpy(h.build_id, build_id, sizeof(h.build_id) - 1);
	sbuf_add(&out, &h, sizeof(h));
	sbuf_add(&out, lt->rows, lt->nrows * sizeof(*lt->rows));
	sbuf_add(&out, lt->files, lt->nfiles * sizeof(*lt->files));
	sbuf_add(&out, lt->strings, lt->strsize);
	r = diskcache_save(build_id, "lines", out.buf, out.len);
	sbuf_release(&out);
	return r;
}

bool line_table_lookup(const struct line_table *lt, uint64_t vaddr, const char **file, int *line)
{
	size_t lo = rows_upper_bound(lt->rows, lt->nrows, sizeof(*lt->rows), vaddr);
	const struct lt_row *r;

	if (!lo)
		return false;
	r = &lt->rows[lo - 1];
	if (r->line <= 0 || r->file >= lt->nfiles)
		return false;
	*file = lt->strings + lt->files[r->file];
	*line = r->line;
	return true;
}

void line_table_free(struct line_table *lt)
{
	if (!lt)
		return;
	diskcache_unmap(lt->map, lt->map_len);
	free(lt->own_rows);
	free(lt->own_files);
	sbuf_release(&lt->own_strings);
	free(lt);
}
