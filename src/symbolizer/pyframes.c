/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Python stacks out of process from CPython's _Py_DebugOffsets (3.13, 3.14; default and
 * free-threaded). Sources of truth for the layouts: 3.13.5's Include/internal/pycore_runtime.h
 * (+ pycore_runtime_init.h), 3.14's Include/internal/pycore_debug_offsets.h. Everything read
 * from the target is untrusted: every loop is bounded and every length is checked.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyreader.h"

/*
 * Target memory: the snapshot's pages (src/symbolizer/memcache.c), shared with the unwinder
 * (the reads themselves are in pyreader.h; noting and fetching them in pymem.c).
 */

/*
 * Bring the pages holding addrs[0..n) (0s skipped) into the snapshot's pages with as few
 * process_vm_readv calls as possible: the objects a frame's locals point to are scattered,
 * and reading their headers one page fault of a syscall at a time was most of a snapshot's
 * reads. Best effort: what cannot be read is left to mem_read.
 */
static void mem_prefetch(struct pyreader *r, const uint64_t *addrs, size_t n)
{
	struct mem_range *rg;
	size_t k = 0;

	rg = xmalloc((n ? n : 1) * sizeof(*rg));
	for (size_t i = 0; i < n; i++)
		if (addrs[i] && addrs[i] < USER_ADDR_END)
			rg[k++] = (struct mem_range){ addrs[i], 1 };
	symbolizer_mem_prefetch(r->sym, rg, k);
	free(rg);
}


/*
 * Finding _PyRuntime: the symbolizer's maps and the ELF file of python/libpython.
 */

static bool is_python_map(const struct map_entry *m)
{
	return m->path && m->path[0] == '/' && strstr(m->base, "python") != NULL;
}

/* addr is inside a writable mapping of the file f */
static bool in_writable_map(const struct symbolizer *s, const struct map_entry *f, uint64_t addr)
{
	for (size_t i = 0; i < s->nmaps; i++) {
		const struct map_entry *m = &s->maps[i];
		if (m->path && m->inode == f->inode && !strcmp(m->path, f->path) &&
		    m->perms[1] == 'w' && addr >= m->start && addr + 24 <= m->end)
			return true;
	}
	return false;
}

static bool has_cookie(struct pyreader *r, uint64_t addr)
{
	char cookie[8];
	return !mem_read_raw(r, addr, cookie, sizeof(cookie)) && !memcmp(cookie, "xdebugpy", 8);
}

/* Scan one writable mapping for the cookie followed by a 3.13+ version. */
static uint64_t scan_map(struct pyreader *r, const struct map_entry *m)
{
	size_t chunk = 1u << 20;
	uint64_t *buf = xmalloc(chunk + 16), found = 0;
	for (uint64_t a = m->start; a < m->end && !found; a += chunk) {
		size_t len = m->end - a < chunk ? (size_t)(m->end - a) : chunk;
		if (mem_read_raw(r, a, buf, len))
			continue;
		for (size_t i = 0; i + 2 <= len / 8; i++) {
			uint64_t v = buf[i + 1];
			if (memcmp(&buf[i], "xdebugpy", 8) || (v >> 24) != 3 ||
			    ((v >> 16) & 0xff) < 13)
				continue;
			found = a + 8 * i;
			break;
		}
	}
	free(buf);
	return found;
}

static int locate_runtime(struct pyreader *r, unsigned flags, struct sbuf *why)
{
	/* then the functions nearly every CPython thread's native stack has (3.13, 3.14): the
	 * line preparation decodes their units before the stacks are known (pyreader_line_hints) */
	static const char *const names[] = {
		"_PyRuntime", "PyCode_Type", "PyUnicode_Type", "PyBytes_Type",
		"_PyEval_EvalFrameDefault",
		"thread_run", "pythread_wrapper", "_PySemaphore_Wait", "_PyMutex_LockTimed",
		"PyObject_Vectorcall", "method_vectorcall", "method_vectorcall_VARARGS_KEYWORDS",
		"Py_RunMain", "_PyRun_SimpleFileObject",
	};
	struct symbolizer *s = r->sym;
	bool any_python = false;

	/* (a) symbol, (b) section, per python file in map order */
	for (size_t i = 0; i < s->nmaps; i++) {
		struct map_entry *m = &s->maps[i];
		uint64_t v[ARRAY_SIZE(names)], sec = 0, bias = 0;
		struct elf_file *ef;
		bool seen = false;

		if (!is_python_map(m))
			continue;
		for (size_t k = 0; k < i && !seen; k++)
			seen = s->maps[k].path && s->maps[k].inode == m->inode &&
			       !strcmp(s->maps[k].path, m->path);
		if (seen)
			continue;
		any_python = true;
		ef = maps_file_elf(s, m, &bias);
		if (!ef)
			continue;
		/* the hints only for a module whose line table is not saved: the first five are
		 * exported (.dynsym, searched first), the hints' statics are in .symtab, whose
		 * ~20,000 symbols took 1 ms to search */
		memset(v, 0, sizeof(v));
		elf_file_symbols_by_name(ef, names, elf_file_lines_saved(ef) ? 5 : ARRAY_SIZE(names),
					 (1u << STT_OBJECT) | (1u << STT_FUNC), v);
		if (flags & PYREADER_NO_SYMBOL)
			v[0] = 0;
		if ((flags & PYREADER_NO_SECTION) || elf_file_section_addr(ef, ".PyRuntime", &sec))
			sec = 0;
		if (v[0] && in_writable_map(s, m, bias + v[0]) && has_cookie(r, bias + v[0])) {
			r->runtime = bias + v[0];
			r->how = "symbol";
		} else if (sec && in_writable_map(s, m, bias + sec) && has_cookie(r, bias + sec)) {
			r->runtime = bias + sec;
			r->how = "section";
		} else {
			continue;
		}
		r->code_type = v[1] ? bias + v[1] : 0;
		r->unicode_type = v[2] ? bias + v[2] : 0;
		r->bytes_type = v[3] ? bias + v[3] : 0;
		r->eval_loop = v[4] ? bias + v[4] : 0;
		r->nline_hints = 0;
		for (size_t k = 4; k < ARRAY_SIZE(names); k++)
			if (v[k] && r->nline_hints < ARRAY_SIZE(r->line_hints))
				r->line_hints[r->nline_hints++] = bias + v[k];
		return 0;
	}
	/* (c) cookie scan of writable file-backed python mappings */
	for (size_t i = 0; i < s->nmaps; i++) {
		uint64_t a;
		if (!is_python_map(&s->maps[i]) || s->maps[i].perms[1] != 'w')
			continue;
		a = scan_map(r, &s->maps[i]);
		if (a) {
			r->runtime = a;
			r->how = "scan";
			return 0;
		}
	}
	sbuf_addf(why, "no Python runtime in process %d (not CPython 3.13+?)", (int)r->pid);
	if (any_python)
		sbuf_addf(why, ": python is mapped but has no _PyRuntime with debug offsets");
	return -1;
}

/*
 * The reader.
 */

int pyreader_open(pid_t pid, struct pyreader **out, struct sbuf *why)
{
	return pyreader_open_flags(pid, 0, out, why);
}

/* Read and validate the table at r->runtime, then set up the snapshot caches. */
static int load_offsets(struct pyreader *r, struct sbuf *why)
{
	unsigned char raw[sizeof(struct dbg314)];
	struct dbg_head h;
	size_t len;
	int err;

	err = mem_read_raw(r, r->runtime, &h, sizeof(h));
	if (err) {
		sbuf_addf(why, "cannot read the debug offsets of process %d at 0x%" PRIx64 ": %s",
			  (int)r->pid, r->runtime, strerror(-err));
		return -1;
	}
	len = ((h.version >> 16) & 0xff) == 13 ? sizeof(struct dbg313) : sizeof(struct dbg314);
	err = mem_read_raw(r, r->runtime, raw, len);
	if (err) {
		/* A 3.12 table is shorter; report the version, not the read. */
		len = sizeof(h);
		memcpy(raw, &h, len);
	}
	if (parse_offsets(raw, len, &r->L, why))
		return -1;
	version_string(r->L.version, r->version, sizeof(r->version));
	r->codes = xcalloc(CODE_SLOTS, sizeof(*r->codes));
	/* small: they grow (aset_grow), and a page of them first touched is a page fault */
	aset_init(&r->interps, 64);
	aset_init(&r->tstates, 256);
	aset_init(&r->frames, 1024);
	aset_init(&r->want_pages, 256);
	return 0;
}

/* A reader on sym, or on a symbolizer of its own when sym is NULL. */
static struct pyreader *reader_new(pid_t pid, struct symbolizer *sym, unsigned flags,
				   struct sbuf *why)
{
	struct pyreader *r;
	if (kill(pid, 0) && errno == ESRCH) {
		sbuf_addf(why, "no process %d", (int)pid);
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->pid = pid;
	r->sym = sym;
	if (!sym) {
		r->sym = symbolizer_new_flags(pid, SYMBOLIZER_NO_LINES |
						   ((flags & PYREADER_PROCMEM) ? SYMBOLIZER_PROCMEM : 0));
		r->own_sym = true;
		if (!r->sym) {
			sbuf_addf(why, "cannot read /proc/%d/maps: %s", (int)pid, strerror(errno));
			free(r);
			return NULL;
		}
	}
	return r;
}

/* Locate the runtime (unless given) and validate; r (may be NULL) is freed on failure. */
static int open_reader(struct pyreader *r, unsigned flags, const uint64_t *given,
		       struct pyreader **out, struct sbuf *why)
{
	if (r && given) {
		r->runtime = *given;
		r->how = "given";
	}
	if (!r || (!given && locate_runtime(r, flags, why)) || load_offsets(r, why)) {
		pyreader_free(r);
		*out = NULL;
		return -1;
	}
	*out = r;
	return 0;
}

int pyreader_open_flags(pid_t pid, unsigned flags, struct pyreader **out, struct sbuf *why)
{
	return open_reader(reader_new(pid, NULL, flags, why), flags, NULL, out, why);
}

int pyreader_open_sym(struct symbolizer *sym, unsigned flags, struct pyreader **out,
		      struct sbuf *why)
{
	return open_reader(reader_new(symbolizer_pid(sym), sym, flags, why), flags, NULL, out, why);
}

int pyreader_open_runtime(pid_t pid, uint64_t runtime, struct pyreader **out, struct sbuf *why)
{
	return open_reader(reader_new(pid, NULL, 0, why), 0, &runtime, out, why);
}


void pyreader_free(struct pyreader *r)
{
	if (!r)
		return;
	if (r->codes)
		for (size_t i = 0; i < CODE_SLOTS; i++)
			code_info_release(&r->codes[i]);
	free(r->codes);
	aset_release(&r->interps);
	aset_release(&r->tstates);
	aset_release(&r->frames);
	walk_free(r->walk);
	if (r->own_sym)
		symbolizer_free(r->sym);
	free(r->want);
	aset_release(&r->want_pages);
	free(r);
}

const char *pyreader_version(const struct pyreader *r)
{
	return r->version;
}

uint32_t pyreader_version_hex(const struct pyreader *r)
{
	return r->L.version;
}

bool pyreader_free_threaded(const struct pyreader *r)
{
	return r->L.ft;
}

uint64_t pyreader_runtime_addr(const struct pyreader *r)
{
	return r->runtime;
}

const char *pyreader_runtime_how(const struct pyreader *r)
{
	return r->how;
}

uint64_t pyreader_eval_loop(const struct pyreader *r)
{
	return r->eval_loop;
}

size_t pyreader_line_hints(const struct pyreader *r, const uint64_t **hints)
{
	*hints = r->line_hints;
	return r->nline_hints;
}



void pyreader_prefetch(struct pyreader *r, const uint64_t *addrs, size_t n)
{
	mem_prefetch(r, addrs, n);
}
