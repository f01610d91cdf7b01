/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * ELF files behind the target's mappings: PT_LOADs (for the load bias), build-id,
 * function symbols from .symtab/.dynsym and the separate debug file (DWARF lines: elflines.c).
 * Parsed once per file and shared by every symbolizer (cache_head).
 *
 * Symbol lookups honour st_size: Debian's stripped libc has only exported symbols, and the
 * nearest preceding one is usually unrelated (__nptl_death_event has st_size 1, and a
 * futex wait 0xd6 bytes after it belongs to the local __futex_abstimed_wait_common).
 * A pc outside every [st_value, st_value + st_size) gets no name.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <libelf.h>

#include "ftscope/error.h"
#include "ftscope/util.h"
#include "internal.h"
#include "elffile.h"

#define DEBUG_ROOT "/usr/lib/debug"

struct sym {
	uint64_t start, size;
	uint32_t name; /* offset into elf_file.names */
	uint32_t rank; /* lower is preferred among aliases, see sym_rank() */
};

static struct elf_file *cache_head;

static void elf_lib_init(void)
{
	static bool done;
	if (!done) {
		elf_version(EV_CURRENT);
		done = true;
	}
}

/*
 * Among aliases at one address prefer what is visible without debug files (so a machine
 * with and without libc6-dbg names a frame alike): .dynsym before .symtab, then GLOBAL,
 * WEAK, LOCAL. Finer ties (fewer leading underscores: pthread_mutex_lock over
 * __pthread_mutex_lock) are broken in sym_cmp().
 */
static uint32_t sym_rank(bool dynsym, int bind)
{
	uint32_t r = dynsym ? 0 : 4;
	if (bind == STB_WEAK)
		r += 1;
	else if (bind != STB_GLOBAL)
		r += 2;
	return r;
}

static void add_symbols(struct elf_file *ef, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	bool dynsym = sh->sh_type == SHT_DYNSYM;
	size_t n, i;

	if (!data || !sh->sh_entsize)
		return;
	n = sh->sh_size / sh->sh_entsize;
	for (i = 1; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		size_t len;
		struct sym *s;

		if (!gelf_getsym(data, (int)i, &sym))
			break;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF ||
		    sym.st_shndx == SHN_ABS || !sym.st_value)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		len = strcspn(name, "@"); /* "sem_unlink@@GLIBC_2.34" in .symtab */
		if (!len)
			continue;
		if (ef->nsyms == ef->syms_cap) {
			ef->syms_cap = ef->syms_cap ? 2 * ef->syms_cap : 256;
			ef->syms = xrealloc(ef->syms, ef->syms_cap * sizeof(*ef->syms));
		}
		s = &ef->syms[ef->nsyms++];
		s->start = sym.st_value;
		s->size = sym.st_size;
		s->rank = sym_rank(dynsym, GELF_ST_BIND(sym.st_info));
		s->name = (uint32_t)ef->names.len;
		sbuf_add(&ef->names, name, len);
		sbuf_addc(&ef->names, '\0');
	}
}

static void set_build_id(struct elf_file *ef, const unsigned char *desc, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *p;
	size_t i;

	if (!n || n > 64 || ef->build_id)
		return;
	p = ef->build_id = xmalloc(2 * n + 1);
	for (i = 0; i < n; i++) {
		*p++ = hex[desc[i] >> 4];
		*p++ = hex[desc[i] & 15];
	}
	*p = '\0';
}

static void scan_notes(struct elf_file *ef, Elf_Data *data)
{
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	while (data && off < data->d_size &&
	       (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    !memcmp((char *)data->d_buf + name_off, "GNU", 4))
			set_build_id(ef, (unsigned char *)data->d_buf + desc_off, nh.n_descsz);
	}
}

/* Function symbols of one ELF: .symtab, and .dynsym of the main file. */
static void add_all_symbols(struct elf_file *ef, Elf *elf, bool main_file)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) &&
		    (sh.sh_type == SHT_SYMTAB || (main_file && sh.sh_type == SHT_DYNSYM)))
			add_symbols(ef, elf, scn, &sh);
	}
}

/* Program headers, build-id and debuglink of the main file. */
static int parse_elf(struct elf_file *ef, Elf *elf)
{
	GElf_Ehdr eh;
	size_t shstrndx, nph, i;
	Elf_Scn *scn = NULL;

	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		return -EINVAL;
	if (elf_getphdrnum(elf, &nph) == 0) {
		for (i = 0; i < nph; i++) {
			GElf_Phdr ph;
			struct elf_load *l;

			if (!gelf_getphdr(elf, (int)i, &ph))
				continue;
			if (ph.p_type == PT_GNU_EH_FRAME) {
				ef->has_eh_hdr = true;
				ef->eh_hdr_vaddr = ph.p_vaddr;
				ef->eh_hdr_offset = ph.p_offset;
				ef->eh_hdr_filesz = ph.p_filesz;
			}
			if (ph.p_type != PT_LOAD)
				continue;
			ef->loads = xrealloc(ef->loads, (ef->nloads + 1) * sizeof(*l));
			l = &ef->loads[ef->nloads++];
			l->vaddr = ph.p_vaddr;
			l->offset = ph.p_offset;
			l->filesz = ph.p_filesz;
			l->memsz = ph.p_memsz;
			l->flags = ph.p_flags;
		}
	}
	if (elf_getshdrstrndx(elf, &shstrndx) < 0)
		shstrndx = 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = shstrndx ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
		if (sh.sh_type == SHT_NOTE) {
			scan_notes(ef, elf_getdata(scn, NULL));
		} else if (name && !strcmp(name, ".gnu_debuglink") &&
			   sh.sh_type == SHT_PROGBITS) {
			Elf_Data *d = elf_getdata(scn, NULL);
			if (d && d->d_size > 4 && memchr(d->d_buf, '\0', d->d_size))
				ef->debuglink = xstrdup(d->d_buf);
		}
	}
	/* Section headers can be missing (stripped harder, some memory images). */
	if (!ef->build_id && elf_getphdrnum(elf, &nph) == 0) {
		for (i = 0; i < nph; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_NOTE)
				scan_notes(ef, elf_getdata_rawchunk(elf, (int64_t)ph.p_offset,
								    ph.p_filesz, ELF_T_NHDR));
		}
	}
	return 0;
}

static bool file_build_id_matches(const char *path, const char *want)
{
	struct elf_file tmp = { .fd = -1 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	bool ret = false;

	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF) {
		Elf_Scn *scn = NULL;
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOTE)
				scan_notes(&tmp, elf_getdata(scn, NULL));
		}
		ret = !tmp.build_id || !strcmp(tmp.build_id, want);
	}
	free(tmp.build_id);
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

/* The separate debug file, as gdb and libdw look for it: build-id first, then debuglink. */
static char *find_debug_file(const struct elf_file *ef)
{
	char *dir = NULL, *slash, *cand;
	size_t i;

	if (ef->build_id && strlen(ef->build_id) > 2) {
		cand = xasprintf(DEBUG_ROOT "/.build-id/%.2s/%s.debug", ef->build_id,
				 ef->build_id + 2);
		if (!access(cand, R_OK))
			return cand;
		free(cand);
	}
	if (!ef->debuglink || !ef->path || ef->path[0] != '/' || strchr(ef->debuglink, '/'))
		return NULL;
	dir = xstrdup(ef->path);
	slash = strrchr(dir, '/');
	slash[1] = '\0';
	for (i = 0; i < 3; i++) {
		struct stat st;
		if (i == 0)
			cand = xasprintf("%s%s", dir, ef->debuglink);
		else if (i == 1)
			cand = xasprintf("%s.debug/%s", dir, ef->debuglink);
		else
			cand = xasprintf(DEBUG_ROOT "%s%s", dir, ef->debuglink);
		/* The debuglink may name the file itself (same basename, same directory). Only a
		 * regular file: next to a module in a venv, a FIFO of that name would block
		 * root's open() of it for ever. */
		if (!stat(cand, &st) && S_ISREG(st.st_mode) &&
		    !(st.st_dev == ef->dev && st.st_ino == ef->ino) &&
		    (!ef->build_id || file_build_id_matches(cand, ef->build_id))) {
			free(dir);
			return cand;
		}
		free(cand);
	}
	free(dir);
	return NULL;
}

/*
 * The most a file's compressed sections may inflate to. libdw (and dwlines.c's image) inflate
 * a section into a buffer of the size its header declares, and the files come from wherever
 * a module was found: a module in a venv the test user writes, its .debug/ directory. So a
 * zlib bomb in one would cost root that much memory and the time to fill it. A deflate stream
 * expands at most ~1032 times (RFC 1951: 258 bytes from a 2-bit code); a declared size past
 * that is a lie, and the total is capped: libc6-dbg's largest file inflates to ~30 MB, a
 * large C++ extension's debug file to a few hundred.
 */
#define DEFLATE_MAX_RATIO 1032
static uint64_t inflate_max_total = 4ull << 30;

void elf_inflate_set_max(uint64_t max_total)
{
	inflate_max_total = max_total ? max_total : 4ull << 30;
}

int elf_inflate_check(Elf *elf, const char *path)
{
	uint64_t total = 0;
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx))
		return 0; /* nothing libdw would read either */
	while ((scn = elf_nextscn(elf, scn))) {
		uint64_t size, packed;
		bool deflate = true;
		const char *name;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (sh.sh_flags & SHF_COMPRESSED) {
			GElf_Chdr ch;
			if (!gelf_getchdr(scn, &ch))
				continue; /* libdw cannot inflate it either */
			size = ch.ch_size;
			packed = sh.sh_size;
			deflate = ch.ch_type == ELFCOMPRESS_ZLIB;
		} else if (name && starts_with(name, ".zdebug")) {
			/* the old GNU form: "ZLIB", then the size, big-endian */
			Elf_Data *raw = elf_rawdata(scn, NULL);
			const unsigned char *b;
			if (!raw || !raw->d_buf || raw->d_size < 12 || memcmp(raw->d_buf, "ZLIB", 4))
				continue;
			b = (const unsigned char *)raw->d_buf + 4;
			size = 0;
			for (int i = 0; i < 8; i++)
				size = size << 8 | b[i];
			packed = raw->d_size;
		} else {
			continue;
		}
		if ((deflate && size / DEFLATE_MAX_RATIO > packed) || size > inflate_max_total ||
		    total + size > inflate_max_total) {
			debug("symbolizer: '%s': section %s declares %llu bytes from %llu compressed%s; "
			      "its DWARF is not read",
			      path ? path : "?", name ? name : "?", (unsigned long long)size,
			      (unsigned long long)packed,
			      deflate && size / DEFLATE_MAX_RATIO > packed ? " (more than deflate can give)"
									    : " (past the cap)");
			return -EFBIG;
		}
		total += size;
	}
	return 0;
}

static void load_debug_symbols(struct elf_file *ef, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf;

	if (fd < 0)
		return;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF) {
		add_all_symbols(ef, elf, false);
		ef->debug_path = xstrdup(path);
	}
	if (elf)
		elf_end(elf);
	close(fd);
}

static int count_underscores(const char *s)
{
	int n = 0;
	while (s[n] == '_')
		n++;
	return n;
}

static int sym_cmp(const void *a, const void *b, void *names)
{
	const struct sym *x = a, *y = b;
	const char *nx = (const char *)names + x->name, *ny = (const char *)names + y->name;
	int d;
	size_t lx, ly;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (!x->size != !y->size)
		return x->size ? -1 : 1; /* sized before sizeless */
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	d = count_underscores(nx) - count_underscores(ny);
	if (d)
		return d;
	lx = strlen(nx);
	ly = strlen(ny);
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(nx, ny);
}

/* Sort, keep the preferred alias per address, and build the max_end prefix. */
static void finish_symbols(struct elf_file *ef)
{
	size_t i, j = 0;
	uint64_t max = 0;

	ef->symnames = ef->names.buf;
	ef->symnames_len = ef->names.len;
	if (!ef->nsyms)
		return;
	qsort_r(ef->syms, ef->nsyms, sizeof(*ef->syms), sym_cmp, ef->names.buf);
	for (i = 0; i < ef->nsyms; i++)
		if (!j || ef->syms[j - 1].start != ef->syms[i].start)
			ef->syms[j++] = ef->syms[i];
	ef->nsyms = j;
	ef->syms = xrealloc(ef->syms, j * sizeof(*ef->syms));
	ef->syms_cap = j;
	ef->max_end = xmalloc(j * sizeof(*ef->max_end));
	for (i = 0; i < j; i++) {
		const struct sym *s = &ef->syms[i];
		uint64_t end = s->start + (s->size ? s->size : 1);
		if (end > max)
			max = end;
		ef->max_end[i] = max;
	}
}

/*
 * The sorted symbol table, kept by build-id (diskcache.c): sorting libc's ~12000
 * .dynsym + libc6-dbg .symtab entries and reading them cost ~5 ms per process.
 *
 *	struct symtab_header, struct sym syms[nsyms], uint64_t max_end[nsyms], names
 * The header records which debug file the symbols came from (none, or its path, size,
 * mtime and inode): installing, upgrading or removing a -dbg package, or a flag that
 * ignores debug files, makes the saved table stale and it is rebuilt.
 */
#define SYMTAB_MAGIC "FTSYMS01"

struct symtab_header {
	char magic[8];
	uint32_t version, sym_size;
	uint32_t flags, pad;
	uint64_t nsyms, names_len;
	uint64_t debug_size, debug_ino;
	int64_t debug_mtime_sec, debug_mtime_nsec;
	char build_id[136];
	char debug_path[PATH_MAX];
};

static void symtab_identity(struct symtab_header *h, const struct elf_file *ef,
			    const char *debug_path)
{
	struct stat st;

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, SYMTAB_MAGIC, 8);
	h->version = 1;
	h->sym_size = sizeof(struct sym);
	h->flags = ef->flags;
	strncpy(h->build_id, ef->build_id, sizeof(h->build_id) - 1);
	if (debug_path && strlen(debug_path) < sizeof(h->debug_path) && !stat(debug_path, &st)) {
		strcpy(h->debug_path, debug_path);
		h->debug_size = (uint64_t)st.st_size;
		h->debug_ino = (uint64_t)st.st_ino;
		h->debug_mtime_sec = st.st_mtim.tv_sec;
		h->debug_mtime_nsec = st.st_mtim.tv_nsec;
	}
}

static bool symtab_load(struct elf_file *ef, const char *debug_path)
{
	struct symtab_header want;
	const struct symtab_header *h;
	const struct sym *syms;
	const char *names;
	size_t len = 0;
	const void *map;

	if (!ef->build_id)
		return false;
	map = diskcache_map(ef->build_id, "syms", &len);
	if (!map)
		return false;
	h = map;
	symtab_identity(&want, ef, debug_path);
	/* the fixed part up to and including the identity must match byte for byte */
	if (len < sizeof(*h) || memcmp(h->magic, want.magic, offsetof(struct symtab_header, nsyms)) ||
	    memcmp(&h->debug_size, &want.debug_size,
		   sizeof(*h) - offsetof(struct symtab_header, debug_size)) ||
	    h->nsyms > len / sizeof(struct sym) || h->names_len > len ||
	    sizeof(*h) + h->nsyms * (sizeof(struct sym) + 8) + h->names_len != len ||
	    !h->names_len)
		goto bad;
	syms = (const struct sym *)(h + 1);
	names = (const char *)map + len - h->names_len;
	if (names[h->names_len - 1] != '\0')
		goto bad;
	/* A symbol's name offset is checked where a lookup uses it (elf_file_symbolize), not
	 * here: reading every symbol at each load touched all of the table's pages (~90 each
	 * for libc and libpython; ~0.5 ms of a warm dump). The file passed its checksum. */
	ef->symmap = map;
	ef->symmap_len = len;
	ef->syms = (struct sym *)syms;
	ef->nsyms = ef->syms_cap = h->nsyms;
	ef->max_end = (uint64_t *)(syms + h->nsyms);
	ef->symnames = names;
	ef->symnames_len = h->names_len;
	if (debug_path)
		ef->debug_path = xstrdup(debug_path);
	return true;
bad:
	debug("symbolizer: ignoring a stale or invalid symbol table for %s", ef->path);
	diskcache_unmap(map, len);
	return false;
}

static void symtab_save(const struct elf_file *ef)
{
	struct symtab_header h;
	struct sbuf out = SBUF_INIT;

	if (!ef->build_id || !symbolizer_cache_dir())
		return;
	symtab_identity(&h, ef, ef->debug_path);
	h.nsyms = ef->nsyms;
	h.names_len = ef->names.len;
	sbuf_add(&out, &h, sizeof(h));
	sbuf_add(&out, ef->syms, ef->nsyms * sizeof(*ef->syms));
	sbuf_add(&out, ef->max_end, ef->nsyms * sizeof(*ef->max_end));
	sbuf_add(&out, ef->names.buf, ef->names.len);
	diskcache_save(ef->build_id, "syms", out.buf, out.len);
	sbuf_release(&out);
}

static void elf_file_destroy(struct elf_file *ef)
{
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->dwfl)
		dwfl_end(ef->dwfl);
	line_table_free(ef->lines);
	inline_table_free(ef->inl);
	free(ef->line_memo);
	free(ef->inl_memo);
	inline_units_free(&ef->inl_units);
	free(ef->inl_pcs);
	if (ef->inl_dwfl)
		dwfl_end(ef->inl_dwfl);
	lazy_lines_free(ef->lazy);
	if (ef->fd >= 0)
		close(ef->fd);
	free(ef->image);
	free(ef->path);
	free(ef->loads);
	free(ef->build_id);
	free(ef->debuglink);
	free(ef->debug_cand);
	free(ef->debug_path);
	if (ef->symmap) {
		diskcache_unmap(ef->symmap, ef->symmap_len);
	} else {
		free(ef->syms);
		free(ef->max_end);
	}
	sbuf_release(&ef->names);
	free(ef);
}

struct elf_file *elf_file_open(int fd, const char *path, unsigned flags)
{
	struct elf_file *ef;
	struct stat st;
	Elf *elf = NULL;

	elf_lib_init();
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	flags &= SYMBOLIZER_NO_DEBUGINFO; /* the only flag that changes what is parsed */
	for (ef = cache_head; ef; ef = ef->next) {
		if (ef->dev == st.st_dev && ef->ino == st.st_ino && ef->size == st.st_size &&
		    ef->mtime.tv_sec == st.st_mtim.tv_sec &&
		    ef->mtime.tv_nsec == st.st_mtim.tv_nsec && ef->flags == flags) {
			close(fd);
			ef->refs++;
			return ef;
		}
	}

	ef = xcalloc(1, sizeof(*ef));
	ef->refs = 1;
	ef->fd = fd;
	ef->dev = st.st_dev;
	ef->ino = st.st_ino;
	ef->size = st.st_size;
	ef->mtime = st.st_mtim;
	ef->flags = flags;
	ef->path = xstrdup(path);
	sbuf_init(&ef->names);
	sbuf_addc(&ef->names, '\0'); /* offset 0 = "" */

	elf = ef->elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || parse_elf(ef, elf) < 0) {
		debug("symbolizer: '%s' is not an ELF file: %s", path, elf_errmsg(-1));
		elf_file_destroy(ef);
		return NULL;
	}
	if (!(flags & SYMBOLIZER_NO_DEBUGINFO))
		ef->debug_cand = find_debug_file(ef);
	ef->shared = true;
	ef->next = cache_head;
	cache_head = ef;
	return ef;
}

/* Files whose tables are to be saved later (SYMCACHE_SAVE_LATER), each with a reference. */
static struct elf_file **pending;
static size_t npending, cappending;

void elf_file_note_pending(struct elf_file *ef)
{
	if (ef->pending || !ef->build_id || !ef->shared)
		return;
	if (npending == cappending) {
		cappending = cappending ? 2 * cappending : 16;
		pending = xrealloc(pending, cappending * sizeof(*pending));
	}
	ef->pending = true;
	pending[npending++] = elf_file_get(ef);
}

/* Function symbols: the saved table, else .dynsym + .symtab + the debug file's .symtab,
 * sorted (and saved, now or later). Done on the first lookup, not when the file is opened:
 * a dump does not look up every mapped library; or on a preparation thread (elflines.c),
 * which leaves noting the file pending (note) to the caller: that list is not the thread's. */
/* A preparation thread's elf_file_load_symbols() tells the lookup waiting for it. */
static pthread_mutex_t syms_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t syms_cv = PTHREAD_COND_INITIALIZER;

void elf_file_load_symbols(struct elf_file *ef, bool note)
{
	ef->syms_loaded = true;
	if (symtab_load(ef, ef->debug_cand))
		goto out;
	if (ef->elf)
		add_all_symbols(ef, ef->elf, true);
	if (ef->debug_cand)
		load_debug_symbols(ef, ef->debug_cand);
	finish_symbols(ef);
	if (diskcache_save_later()) {
		ef->symtab_unsaved = true;
		if (note)
			elf_file_note_pending(ef);
	} else {
		symtab_save(ef);
	}
out:
	debug("symbolizer: loaded '%s' (%zu symbols%s%s)", ef->path, ef->nsyms,
	      ef->debug_path ? ", debug file " : "", ef->debug_path ? ef->debug_path : "");
	pthread_mutex_lock(&syms_mu);
	ef->syms_done = true;
	pthread_cond_broadcast(&syms_cv);
	pthread_mutex_unlock(&syms_mu);
}

bool elf_file_syms_preparing(const struct elf_file *ef)
{
	return ef->syms_prep;
}

struct elf_file *elf_file_from_memory(const char *name, const void *buf, size_t len,
				      unsigned flags)
{
	struct elf_file *ef;
	Elf *elf;

	elf_lib_init();
	ef = xcalloc(1, sizeof(*ef));
	ef->refs = 1;
	ef->fd = -1;
	ef->flags = flags;
	ef->path = xstrdup(name);
	ef->image = xmalloc(len);
	ef->image_len = len;
	memcpy(ef->image, buf, len);
	sbuf_init(&ef->names);
	sbuf_addc(&ef->names, '\0');
	elf = ef->elf = elf_memory(ef->image, len);
	if (!elf || parse_elf(ef, elf) < 0) {
		elf_file_destroy(ef);
		return NULL;
	}
	add_all_symbols(ef, elf, true);
	finish_symbols(ef);
	ef->syms_loaded = true;
	ef->dwfl_tried = true; /* no DWARF in memory images */
	return ef;
}

struct elf_file *elf_file_get(struct elf_file *ef)
{
	ef->refs++;
	return ef;
}

void elf_file_put(struct elf_file *ef)
{
	struct elf_file **pp;

	if (!ef || --ef->refs)
		return;
	if (ef->shared) {
		for (pp = &cache_head; *pp; pp = &(*pp)->next) {
			if (*pp == ef) {
				*pp = ef->next;
				break;
			}
		}
	}
	elf_file_destroy(ef);
}

const struct elf_load *elf_file_loads(const struct elf_file *ef, size_t *n)
{
	*n = ef->nloads;
	return ef->loads;
}

const char *elf_file_build_id(const struct elf_file *ef)
{
	return ef->build_id;
}

static void load_symbols(struct elf_file *ef)
{
	if (ef->syms_prep) { /* a preparation thread loads them (elflines.c) */
		pthread_mutex_lock(&syms_mu);
		while (!ef->syms_done)
			pthread_cond_wait(&syms_cv, &syms_mu);
		pthread_mutex_unlock(&syms_mu);
		ef->syms_prep = false;
		if (ef->symtab_unsaved)
			elf_file_note_pending(ef);
	}
	if (!ef->syms_loaded)
		elf_file_load_symbols(ef, true);
}

const char *elf_file_debug_path(struct elf_file *ef)
{
	load_symbols(ef);
	return ef->debug_path;
}

bool elf_file_symbolize(struct elf_file *ef, uint64_t vaddr, struct elf_sym_hit *hit)
{
	size_t lo, j;

	load_symbols(ef);
	/* lo = number of symbols starting at or below vaddr */
	lo = rows_upper_bound(ef->syms, ef->nsyms, sizeof(*ef->syms), vaddr);
	/* Walk back over the symbols that could still contain vaddr (nested or big ones). */
	for (j = lo; j-- > 0 && ef->max_end[j] > vaddr;) {
		const struct sym *s = &ef->syms[j];
		if (s->name >= ef->symnames_len)
			continue; /* a name out of the table: the symbol is skipped */
		if (s->size ? vaddr - s->start < s->size : vaddr == s->start) {
			hit->name = ef->symnames + s->name;
			hit->start = s->start;
			hit->size = s->size;
			return true;
		}
	}
	return false;
}

size_t symbolizer_cache_pending(void)
{
	return npending;
}

/* The pending list, for elflines.c's savers (elffile.h). */
struct elf_file **elf_file_pending_list(size_t *n)
{
	*n = npending;
	return pending;
}

void elf_file_pending_reset(bool release)
{
	npending = 0;
	if (!release)
		return;
	free(pending);
	pending = NULL;
	cappending = 0;
}

void elf_file_save_symtab(struct elf_file *ef)
{
	if (!ef->symtab_unsaved)
		return;
	symtab_save(ef);
	ef->symtab_unsaved = false;
}

/* One pass over the symbol tables of elf, in section order (.dynsym comes first). */
static size_t symbols_by_name_in(Elf *elf, const char *const *names, size_t n, unsigned types,
				 uint64_t *vaddrs, size_t found)
{
	Elf_Scn *scn = NULL;

	while (found < n && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t i, nsyms;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		nsyms = sh.sh_size / sh.sh_entsize;
		for (i = 1; i < nsyms && found < n; i++) {
			GElf_Sym sym;
			const char *s;

			if (!gelf_getsym(data, (int)i, &sym))
				break;
			if (!(types & (1u << GELF_ST_TYPE(sym.st_info))) ||
			    sym.st_shndx == SHN_UNDEF || !sym.st_value)
				continue;
			s = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!s)
				continue;
			for (size_t k = 0; k < n; k++) {
				size_t want;
				if (vaddrs[k] || s[0] != names[k][0])
					continue;
				want = strlen(names[k]);
				if (!strncmp(s, names[k], want) && (s[want] == '\0' || s[want] == '@')) {
					vaddrs[k] = sym.st_value;
					found++;
				}
			}
		}
	}
	return found;
}

size_t elf_file_symbols_by_name(struct elf_file *ef, const char *const *names, size_t n,
				unsigned types, uint64_t *vaddrs)
{
	size_t found = 0;
	Elf *elf;
	int fd;

	memset(vaddrs, 0, n * sizeof(*vaddrs));
	if (ef->elf)
		found = symbols_by_name_in(ef->elf, names, n, types, vaddrs, found);
	if (found < n && ef->debug_cand && (fd = open(ef->debug_cand, O_RDONLY | O_CLOEXEC)) >= 0) {
		elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		if (elf) {
			found = symbols_by_name_in(elf, names, n, types, vaddrs, found);
			elf_end(elf);
		}
		close(fd);
	}
	return found;
}

int elf_file_symbol_by_name(struct elf_file *ef, const char *name, uint64_t *vaddr)
{
	return elf_file_symbols_by_name(ef, &name, 1,
					(1u << STT_FUNC) | (1u << STT_OBJECT) | (1u << STT_NOTYPE),
					vaddr) ? 0 : -ENOENT;
}

bool elf_file_soname_is(struct elf_file *ef, const char *prefix)
{
	Elf_Scn *scn = NULL;

	while (ef->elf && (scn = elf_nextscn(ef->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Dyn dyn;
			const char *s;
			if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
				break;
			if (dyn.d_tag != DT_SONAME)
				continue;
			s = elf_strptr(ef->elf, sh.sh_link, dyn.d_un.d_val);
			return s && starts_with(s, prefix);
		}
	}
	return false;
}

/* The size of a DW_EH_PE-encoded value in .eh_frame_hdr, or 0 if not understood. */
static size_t eh_pe_size(unsigned char enc)
{
	switch (enc & 0x0f) {
	case 0x00: /* absptr */
	case 0x04: /* udata8 */
	case 0x0c: /* sdata8 */
		return 8;
	case 0x03: /* udata4 */
	case 0x0b: /* sdata4 */
		return 4;
	default:
		return 0;
	}
}

int elf_file_eh_table(struct elf_file *ef, struct elf_eh_table *t)
{
	const unsigned char *hdr;
	size_t size, ptr_size, count_size;
	uint64_t count = 0;
	char *raw;

	memset(t, 0, sizeof(*t));
	if (!ef->has_eh_hdr || !ef->elf || !ef->nloads)
		return -ENOENT;
	raw = elf_rawfile(ef->elf, &size);
	if (!raw || ef->eh_hdr_offset > size || ef->eh_hdr_filesz > size - ef->eh_hdr_offset ||
	    ef->eh_hdr_filesz < 4)
		return -ENOENT;
	hdr = (const unsigned char *)raw + ef->eh_hdr_offset;
	/* version 1; the table: (pc, fde) pairs, 4-byte signed, relative to the header */
	if (hdr[0] != 1 || hdr[3] != 0x3b || hdr[2] == 0xff)
		return -ENOENT;
	ptr_size = hdr[1] == 0xff ? 0 : eh_pe_size(hdr[1]);
	count_size = eh_pe_size(hdr[2]);
	if ((hdr[1] != 0xff && !ptr_size) || !count_size ||
	    4 + ptr_size + count_size > ef->eh_hdr_filesz)
		return -ENOENT;
	/* the count: udata4/sdata4/udata8/sdata8/absptr, little-endian (x86-64) */
	for (size_t i = count_size; i-- > 0;)
		count = count << 8 | hdr[4 + ptr_size + i];
	if (!count || count > (ef->eh_hdr_filesz - 4 - ptr_size - count_size) / 8)
		return -ENOENT;
	t->hdr_vaddr = ef->eh_hdr_vaddr;
	t->table_vaddr = ef->eh_hdr_vaddr + 4 + ptr_size + count_size;
	t->fde_count = count;
	t->lo = UINT64_MAX;
	for (size_t i = 0; i < ef->nloads; i++) {
		const struct elf_load *l = &ef->loads[i];
		if (l->vaddr < t->lo)
			t->lo = l->vaddr;
		if (l->vaddr + l->memsz > t->hi)
			t->hi = l->vaddr + l->memsz;
	}
	return 0;
}

int elf_file_section_addr(struct elf_file *ef, const char *name, uint64_t *addr)
{
	Elf *elf = ef->elf;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	int ret = -ENOENT;

	if (!elf)
		return -ENOENT;
	if (elf_getshdrstrndx(elf, &shstrndx) == 0) {
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			const char *sn;
			if (!gelf_getshdr(scn, &sh))
				continue;
			sn = elf_strptr(elf, shstrndx, sh.sh_name);
			if (sn && !strcmp(sn, name) && sh.sh_addr) {
				*addr = sh.sh_addr;
				ret = 0;
				break;
			}
		}
	}
	return ret;
}
