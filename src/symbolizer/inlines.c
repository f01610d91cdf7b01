/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Inlined functions of a module: every DW_TAG_inlined_subroutine's address ranges, with
 * its name (DW_AT_name through DW_AT_abstract_origin), the place it was inlined at
 * (DW_AT_call_file, DW_AT_call_line) and its depth (how many inlined subroutines enclose
 * it, plus one), flattened to rows sorted by address. A pc's inline chain is then the rows
 * whose range holds it, deepest first: what dwarf_getscopes gives, and what gdb,
 * `eu-stack -i` and `addr2line -i` show as frames of their own.
 *
 * Two ways to fill a table, with the same rows for the same unit: a whole module (kept on
 * disk by build-id next to its line table, built when the line table is: the DWARF is open
 * then), or one compile unit at a time (a module without a saved table: only the units of
 * the frames asked for are walked).
 *
 * File layout (native byte order):
 *	struct it_header
 *	struct it_row  rows[nrows]      sorted by lo
 *	char           strings[strsize] NUL-terminated names, the last byte is NUL
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>

#include "ftscope/error.h"
#include "ftscope/util.h"
#include "internal.h"

#define IT_MAGIC "FTINLIN1"
#define IT_VERSION 1u
#define IT_MAX_WALK 8192 /* rows looked at backwards from a pc (ranges overlap only by nesting) */

struct it_header {
	char magic[8];
	uint32_t version;
	uint32_t row_size;
	uint64_t nrows, strsize;
	char build_id[130]; /* hex, NUL-padded */
	char pad[6];
};

struct it_row {
	uint64_t lo, hi;   /* [lo, hi), ELF vaddrs of the module */
	uint64_t max_hi;   /* the largest hi of rows[0..this] */
	uint32_t name;     /* offsets into strings */
	uint32_t call_file;
	int32_t call_line;
	uint32_t depth;    /* 1: inlined straight into a real function */
};

struct inline_table {
	const void *map; /* mapped from the disk cache, or NULL (built: owned arrays) */
	size_t map_len;
	const struct it_row *rows;
	const char *strings;
	uint64_t nrows, strsize;
	struct it_row *own_rows;
	struct sbuf own_strings;
};

struct inline_table *inline_table_load(const char *build_id)
{
	struct inline_table *it;
	const struct it_header *h;
	size_t len = 0;
	const void *map = diskcache_map(build_id, "inlines", &len);

	if (!map)
		return NULL;
	h = map;
	if (len < sizeof(*h) || memcmp(h->magic, IT_MAGIC, 8) || h->version != IT_VERSION ||
	    h->row_size != sizeof(struct it_row) || strncmp(h->build_id, build_id, 130) ||
	    h->nrows > (1ull << 40) / sizeof(struct it_row) || h->strsize > (1ull << 40) ||
	    sizeof(*h) + h->nrows * sizeof(struct it_row) + h->strsize != len || !h->strsize ||
	    ((const char *)map)[len - 1] != '\0') {
		debug("symbolizer: ignoring an invalid inline table for %s", build_id);
		diskcache_unmap(map, len);
		return NULL;
	}
	it = xcalloc(1, sizeof(*it));
	it->map = map;
	it->map_len = len;
	it->nrows = h->nrows;
	it->strsize = h->strsize;
	it->rows = (const struct it_row *)(h + 1);
	it->strings = (const char *)(it->rows + it->nrows);
	/* A row's string offsets are checked where a lookup uses the row, not here: reading
	 * every row (~100k for libpython) at each load was 6% of a warm dump's CPU. */
	return it;
}

int inline_table_save(const struct inline_table *it, const char *build_id)
{
	struct it_header h;
	struct sbuf out = SBUF_INIT;
	int r;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, IT_MAGIC, 8);
	h.version = IT_VERSION;
	h.row_size = sizeof(struct it_row);
	h.nrows = it->nrows;
	h.strsize = it->strsize;
	strncpy(h.build_id, build_id, sizeof(h.build_id) - 1);
	sbuf_add(&out, &h, sizeof(h));
	sbuf_add(&out, it->rows, it->nrows * sizeof(*it->rows));
	sbuf_add(&out, it->strings, it->strsize);
	r = diskcache_save(build_id, "inlines", out.buf, out.len);
	sbuf_release(&out);
	return r;
}

struct it_builder {
	struct str_interner in;
	struct it_row *rows;
	size_t n, cap;
	uint64_t bias;
};

static void add_rows(struct it_builder *b, Dwarf_Die *die, uint32_t depth, Dwarf_Files *files,
		     size_t nfiles)
{
	Dwarf_Attribute a;
	Dwarf_Addr base, lo, hi;
	Dwarf_Word fi = 0, line = 0;
	const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	const char *file = NULL;
	uint32_t iname, ifile;
	ptrdiff_t off = 0;

	if (files && !dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &a), &fi) && fi < nfiles)
		file = dwarf_filesrc(files, fi, NULL, NULL);
	dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &a), &line);
	/* the rows keep offsets into the strings */
	iname = str_intern(&b->in, name ? name : "??");
	iname = b->in.offs[iname];
	ifile = str_intern(&b->in, file ? file : "");
	ifile = b->in.offs[ifile];
	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		if (hi <= lo)
			continue;
		if (b->n == b->cap) {
			b->cap = b->cap ? 2 * b->cap : 1024;
			b->rows = xrealloc(b->rows, b->cap * sizeof(*b->rows));
		}
		b->rows[b->n++] = (struct it_row){ .lo = lo + b->bias, .hi = hi + b->bias,
						   .name = iname, .call_file = ifile,
						   .call_line = (int32_t)line, .depth = depth };
	}
}

/* The inlined subroutines under die; depth: how many enclose it. */
static void walk(struct it_builder *b, Dwarf_Die *die, uint32_t depth, Dwarf_Files *files,
		 size_t nfiles)
{
	Dwarf_Die child;

	if (dwarf_child(die, &child) != 0)
		return;
	do {
		switch (dwarf_tag(&child)) {
		case DW_TAG_inlined_subroutine:
			add_rows(b, &child, depth + 1, files, nfiles);
			walk(b, &child, depth + 1, files, nfiles);
			break;
		case DW_TAG_subprogram:
			/* an abstract instance (DW_AT_inline) has no code of its own */
			if (!dwarf_hasattr(&child, DW_AT_inline))
				walk(b, &child, depth, files, nfiles);
			break;
		case DW_TAG_lexical_block:
		case DW_TAG_namespace:
			walk(b, &child, depth, files, nfiles);
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static void builder_add_cu(struct it_builder *b, Dwarf_Die *cudie)
{
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;

	if (dwarf_getsrcfiles(cudie, &files, &nfiles) != 0)
		files = NULL;
	walk(b, cudie, 0, files, nfiles);
}

static int row_cmp(const void *a, const void *b)
{
	const struct it_row *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->depth < y->depth ? -1 : x->depth > y->depth;
}

static struct inline_table *builder_finish(struct it_builder *b)
{
	struct inline_table *it = xcalloc(1, sizeof(*it));
	uint64_t max_hi = 0;

	free(b->in.slots);
	free(b->in.offs);
	if (b->n) /* (rows is NULL when nothing was inlined) */
		qsort(b->rows, b->n, sizeof(*b->rows), row_cmp);
	for (size_t i = 0; i < b->n; i++) {
		if (b->rows[i].hi > max_hi)
			max_hi = b->rows[i].hi;
		b->rows[i].max_hi = max_hi;
	}
	if (!b->in.strings.len)
		sbuf_addc(&b->in.strings, '\0');
	it->own_rows = b->rows;
	it->own_strings = b->in.strings;
	it->rows = it->own_rows;
	it->nrows = b->n;
	it->strings = it->own_strings.buf;
	it->strsize = it->own_strings.len;
	return it;
}

struct inline_table *inline_table_from_dwarf(Dwarf *dw, uint64_t bias)
{
	struct it_builder b = { .bias = bias };
	Dwarf_CU *cu = NULL, *next;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die cudie;

	while (dwarf_get_units(dw, cu, &next, &version, &unit_type, &cudie, NULL) == 0) {
		if (unit_type == DW_UT_compile || unit_type == DW_UT_partial)
			builder_add_cu(&b, &cudie);
		cu = next;
	}
	return builder_finish(&b);
}

struct inline_table *inline_table_from_cu(Dwarf_Die *cudie, uint64_t bias)
{
	struct it_builder b = { .bias = bias };

	builder_add_cu(&b, cudie);
	return builder_finish(&b);
}

/* The functions (subprograms, not abstract instances) among die's children, and in its
 * namespaces: each of their address ranges (DWARF addresses) added to u->fns. */
static void add_functions(struct inline_units *u, Dwarf_Die *die)
{
	Dwarf_Die child;
	Dwarf_Addr base, lo, hi;

	if (dwarf_child(die, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		ptrdiff_t off = 0;
		if (tag == DW_TAG_namespace)
			add_functions(u, &child);
		if (tag != DW_TAG_subprogram || dwarf_hasattr(&child, DW_AT_inline))
			continue;
		while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0) {
			if (hi <= lo)
				continue;
			if (u->nfns == u->capfns) {
				u->capfns = u->capfns ? 2 * u->capfns : 256;
				u->fns = xrealloc(u->fns, u->capfns * sizeof(*u->fns));
			}
			u->fns[u->nfns++] = (struct inline_fn){ lo, hi, dwarf_dieoffset(&child) };
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

/* The table of the functions whose code holds vaddr, made of their DIEs subs[0..n). */
static struct inline_table *from_functions(Dwarf_Die *cudie, uint64_t bias, Dwarf_Die *subs,
					   size_t n)
{
	struct it_builder b = { .bias = bias };
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;

	if (dwarf_getsrcfiles(cudie, &files, &nfiles) != 0)
		files = NULL;
	for (size_t i = 0; i < n; i++)
		walk(&b, &subs[i], 0, files, nfiles);
	return builder_finish(&b);
}

struct inline_table *inline_units_at(struct inline_units *u, Dwarf_Die *cudie, uint64_t bias,
				     uint64_t vaddr)
{
	Dwarf *dw = dwarf_cu_getdwarf(cudie->cu);
	Dwarf_Off cu = dwarf_dieoffset(cudie), key;
	Dwarf_Die subs[4];
	size_t i, n = 0;

	/* the unit's functions, listed the first time one of its pcs is asked for */
	for (i = 0; i < u->ncus && u->cus[i] != cu; i++)
		;
	if (i == u->ncus) {
		u->cus = xrealloc(u->cus, (u->ncus + 1) * sizeof(*u->cus));
		u->cus[u->ncus++] = cu;
		add_functions(u, cudie);
	}
	for (i = 0; i < u->nfns && n < ARRAY_SIZE(subs); i++)
		if (u->fns[i].lo <= vaddr - bias && vaddr - bias < u->fns[i].hi &&
		    (!n || dwarf_dieoffset(&subs[n - 1]) != u->fns[i].die) &&
		    dwarf_offdie(dw, u->fns[i].die, &subs[n]))
			n++;
	key = n ? dwarf_dieoffset(&subs[0]) : cu;
	for (i = 0; i < u->nunits && u->units[i].key != key; i++)
		;
	if (i == u->nunits) {
		u->units = xrealloc(u->units, (i + 1) * sizeof(*u->units));
		u->units[i].key = key;
		/* (no function holds vaddr: the whole unit, as the saved table would have it) */
		u->units[i].t = n ? from_functions(cudie, bias, subs, n) : inline_table_from_cu(cudie, bias);
		u->nunits++;
	}
	return u->units[i].t;
}

void inline_units_free(struct inline_units *u)
{
	for (size_t i = 0; i < u->nunits; i++)
		inline_table_free(u->units[i].t);
	free(u->units);
	free(u->fns);
	free(u->cus);
	memset(u, 0, sizeof(*u));
}

static int hit_cmp(const void *a, const void *b)
{
	const struct it_row *x = *(const struct it_row *const *)a, *y = *(const struct it_row *const *)b;
	return x->depth > y->depth ? -1 : x->depth < y->depth;
}

size_t inline_table_lookup(const struct inline_table *it, uint64_t vaddr, struct inline_hit *hits,
			   size_t max)
{
	const struct it_row *found[INLINE_MAX];
	/* lo = number of rows starting at or below vaddr */
	size_t lo = rows_upper_bound(it->rows, it->nrows, sizeof(*it->rows), vaddr), n = 0, k = 0;

	for (size_t i = lo, walked = 0; i-- > 0 && it->rows[i].max_hi > vaddr && walked < IT_MAX_WALK;
	     walked++)
		if (it->rows[i].hi > vaddr && n < INLINE_MAX && it->rows[i].name < it->strsize &&
		    it->rows[i].call_file < it->strsize) /* a row pointing out: skipped */
			found[n++] = &it->rows[i];
	qsort(found, n, sizeof(*found), hit_cmp);
	/* one per depth, and a chain without gaps: depth d, d-1, ..., 1 */
	for (size_t i = 0; i < n && k < max; i++) {
		if (k && found[i]->depth == hits[k - 1].depth)
			continue;
		if (k && found[i]->depth != hits[k - 1].depth - 1)
			break;
		hits[k].name = it->strings + found[i]->name;
		hits[k].call_file = it->strings[found[i]->call_file] ? it->strings + found[i]->call_file
								      : NULL;
		hits[k].call_line = found[i]->call_line;
		hits[k].depth = found[i]->depth;
		k++;
	}
	if (k && hits[k - 1].depth != 1)
		return 0; /* the outer levels are missing: a chain that cannot be placed */
	return k;
}

void inline_table_free(struct inline_table *it)
{
	if (!it)
		return;
	diskcache_unmap(it->map, it->map_len);
	free(it->own_rows);
	sbuf_release(&it->own_strings);
	free(it);
}
