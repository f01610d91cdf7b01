/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_SYMBOLIZER_INTERNAL_H
#define FTSCOPE_SYMBOLIZER_INTERNAL_H

/*
 * Private to src/symbolizer/: the maps cache (maps.c), the ELF/DWARF file cache (elfsyms.c)
 * and the libunwind backend (unwind.c) share these. Not part of the contract in
 * include/ftscope/symbolizer.h.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <elfutils/libdw.h>

#include "ftscope/symbolizer.h"
#include "ftscope/util.h"

/* ---- elfsyms.c: process-wide cache of parsed ELF files ---- */

struct elf_file;

/* One PT_LOAD program header. */
struct elf_load {
	uint64_t vaddr, offset, filesz, memsz;
	uint32_t flags; /* PF_X | PF_W | PF_R */
};

/* A symbol found for an address; name is borrowed from the elf_file. */
struct elf_sym_hit {
	const char *name;
	uint64_t start, size; /* ELF virtual addresses */
};

/*
 * Get the parsed ELF behind fd (an open file; consumed in every case). path is the
 * mapping's path as the target sees it (used for .gnu_debuglink lookups and by libdw).
 * Files are shared by identity (st_dev, st_ino, st_size, st_mtim, flags); the reference
 * returned is owned by the caller (elf_file_put). NULL + debug() on failure.
 */
struct elf_file *elf_file_open(int fd, const char *path, unsigned flags);
/* An ELF image read from the target's memory ([vdso]); not shared. Copies buf. */
struct elf_file *elf_file_from_memory(const char *name, const void *buf, size_t len,
				      unsigned flags);
struct elf_file *elf_file_get(struct elf_file *ef); /* one more reference */
void elf_file_put(struct elf_file *ef);             /* NULL ok */

const struct elf_load *elf_file_loads(const struct elf_file *ef, size_t *n);
const char *elf_file_build_id(const struct elf_file *ef); /* hex, or NULL; borrowed */
const char *elf_file_debug_path(struct elf_file *ef); /* separate debug file, or NULL */
/* Whether a preparation thread loads ef's symbols (a lookup will wait for it: call
 * symbolizer_prepare_go() first, so that it runs at full priority). */
bool elf_file_syms_preparing(const struct elf_file *ef);

/* Function symbol containing vaddr (st_size respected; sizeless symbols only at their
 * exact address). false if none. */
bool elf_file_symbolize(struct elf_file *ef, uint64_t vaddr, struct elf_sym_hit *hit);
/* DWARF line of vaddr through libdw (loaded on first use). *file borrowed. 0 or -ENOENT. */
int elf_file_srcline(struct elf_file *ef, uint64_t vaddr, const char **file, int *line);
/* Whether its line table is saved in the disk cache (no DWARF to prepare then). */
bool elf_file_lines_saved(const struct elf_file *ef);
struct inline_hit;
/* The functions inlined at vaddr, innermost first (hits borrowed from ef's table): the saved
 * table, else one built now (and saved) or, with no table to save now, the tables of the
 * units asked for. 0 when none, or no DWARF. */
size_t elf_file_inlines(struct elf_file *ef, uint64_t vaddr, struct inline_hit *hits, size_t max);
/* Start making, on a thread, what line lookups in ef will need when its lines will come from
 * a lazy index (no saved table): the index, and the units of hints (vaddrs). Files are
 * queued; elf_file_prepare_start() starts the thread; lookups wait for it. */
void elf_file_prepare_lines(struct elf_file *ef, const uint64_t *hints, size_t nhints);
void elf_file_prepare_start(void);
/* A thread of the target was stopped in ef: its preparation (if it has no hints) goes on to
 * its line index and, compressed, its units for the inlined functions (.debug_info
 * inflated); once every such file is named, elf_file_prepare_decided() lets the others end
 * without (a lookup does too). */
void elf_file_prepare_want_units(struct elf_file *ef);
void elf_file_prepare_decided(void);
/* A frame of the stacks is at vaddr in ef: its preparation decodes that unit too (lines and
 * inlined functions) once elf_file_prepare_frames_done() says there are no more. */
void elf_file_prepare_frame(struct elf_file *ef, uint64_t vaddr);
void elf_file_prepare_frames_done(void);

/* st_value of a defined function/object symbol called name (version suffix ignored). */
int elf_file_symbol_by_name(struct elf_file *ef, const char *name, uint64_t *vaddr);
/* The same for several names in one pass (.dynsym, .symtab, then the debug file's), for
 * symbols whose type is in the mask types (1 << STT_OBJECT...): vaddrs[i] is 0 for a name
 * not found. The number found. */
size_t elf_file_symbols_by_name(struct elf_file *ef, const char *const *names, size_t n,
				unsigned types, uint64_t *vaddrs);
/* The binary-search table of .eh_frame_hdr (PT_GNU_EH_FRAME), in ELF vaddrs: the header,
 * the table of fde_count (initial pc, FDE) pairs (4-byte, relative to the header), and the
 * span of the PT_LOADs. 0, or -ENOENT when there is none or it is of another form. */
struct elf_eh_table {
	uint64_t hdr_vaddr, table_vaddr, fde_count;
	uint64_t lo, hi;
};
int elf_file_eh_table(struct elf_file *ef, struct elf_eh_table *t);
/* sh_addr of the section called name (".PyRuntime"). 0 or -ENOENT. */
int elf_file_section_addr(struct elf_file *ef, const char *name, uint64_t *addr);
/* Whether the file's DT_SONAME starts with prefix ("libc.so": glibc's libc.so.6, musl's). */
bool elf_file_soname_is(struct elf_file *ef, const char *prefix);

/* 0, or -EFBIG (and a debug() line) when elf's compressed sections (SHF_COMPRESSED or
 * .zdebug) declare more than deflate can give from their bytes or, together, more than the
 * cap (4 GiB): such a file's DWARF is not read (a zlib bomb would cost that memory). */
int elf_inflate_check(Elf *elf, const char *path);
/* Tests: another cap (0: the default). */
void elf_inflate_set_max(uint64_t max_total);

/* ---- dwlines.c: lines of a few addresses, without the whole table ---- */

struct lazy_lines;
/* An index of the line sequences of the ELF file open on fd (consumed in every case; path
 * for messages), or NULL when that file has no .debug_line or something in it is not
 * understood (the caller then goes through libdw's whole-file path). */
struct lazy_lines *lazy_lines_open(int fd, const char *path);
/* file:line of vaddr (*file borrowed from ll), as the saved whole table would give it. */
bool lazy_lines_lookup(struct lazy_lines *ll, uint64_t vaddr, const char **file, int *line);
/* The DWARF of ll's file with its units, for the inlined functions by compile unit
 * (.debug_aranges finds them); NULL if there is none. Without a cost when the lines are
 * read by unit already (uncompressed); for a compressed file the units are inflated the
 * first time (the location lists, macros and frames never are). Borrowed from ll. */
Dwarf *lazy_lines_dwarf(struct lazy_lines *ll);
void lazy_lines_free(struct lazy_lines *ll); /* NULL ok */
/* Tests: find a compressed file's units by the scan of .debug_line even when it has
 * .debug_aranges (the path of a file whose sections libdw inflates itself). */
void lazy_lines_force_scan(bool on);

/* ---- diskcache.c: files kept by build-id in symbolizer_cache_dir() ---- */

/* The file's contents as saved, mapped read-only; NULL if no cache dir, no file, or a file
 * that fails its checksum or that root may not trust. *len excludes the trailer. */
const void *diskcache_map(const char *build_id, const char *ext, size_t *len);
/* whether there is such a file (not whether it is valid: diskcache_map checks) */
bool diskcache_has(const char *build_id, const char *ext);
void diskcache_unmap(const void *map, size_t len); /* len as diskcache_map gave; NULL ok */
/* Write atomically (O_EXCL temporary file + rename) with the checksum trailer. 0 or -errno. */
int diskcache_save(const char *build_id, const char *ext, const void *buf, size_t len);
/* The checksum of the trailer (64-bit, non-cryptographic). */
uint64_t diskcache_hash(const void *buf, size_t len);
/* Tables are saved when built (SYMCACHE_SAVE_NOW), or noted for
 * symbolizer_cache_save_pending() (SYMCACHE_SAVE_LATER): see symbolizer.h. */
bool diskcache_save_later(void);

/* ---- linecache.c: whole-module line tables kept on disk by build-id ---- */

/* Strings interned by content (file and function names of the saved tables): str_intern
 * gives each distinct string an index; offs[index] is its offset in strings. Zeroed =
 * empty; the caller takes offs and strings, and frees slots. */
struct str_interner {
	struct sbuf strings;
	uint32_t *offs;
	size_t n, cap_offs;
	uint32_t *slots; /* index + 1, 0 = empty; power-of-two cap */
	size_t cap;
};
uint32_t str_intern(struct str_interner *in, const char *s);

struct line_table;
/* The saved table of build_id from the cache directory; NULL if none or invalid. */
struct line_table *line_table_load(const char *build_id);
/* Flatten every compile unit's line table; addresses + bias (ELF vaddrs of the module). */
struct line_table *line_table_from_dwarf(Dwarf *dw, uint64_t bias);
int line_table_save(const struct line_table *lt, const char *build_id); /* 0 or -errno */
/* file:line of vaddr (*file borrowed from lt); false if the table has none. */
/* In rows sorted by a uint64_t key (each row's first field), the number of rows whose key
 * is <= key; few pages touched (sortsearch.c). */
size_t rows_upper_bound(const void *rows, size_t n, size_t size, uint64_t key);
bool line_table_lookup(const struct line_table *lt, uint64_t vaddr, const char **file, int *line);
void line_table_free(struct line_table *lt); /* NULL ok */

/* ---- inlines.c: a module's inlined subroutines, by address ---- */

#define INLINE_MAX 16 /* levels of inlining reported at one pc */
struct inline_hit {
	const char *name;      /* the inlined function (borrowed from the table) */
	const char *call_file; /* where it was inlined: DW_AT_call_file, or NULL */
	int call_line;
	unsigned depth;        /* 1: inlined straight into the real function */
};
struct inline_table;
/* The saved table of build_id ("<id>.inlines"); NULL if none or invalid. */
struct inline_table *inline_table_load(const char *build_id);
/* Every unit's inlined subroutines, or one unit's; addresses + bias (ELF vaddrs). */
struct inline_table *inline_table_from_dwarf(Dwarf *dw, uint64_t bias);
struct inline_table *inline_table_from_cu(Dwarf_Die *cudie, uint64_t bias);
/*
 * Tables of a module without a whole one, for the pcs asked for: the rows of just the
 * functions whose code holds the pc (a table of them answers for it as the module's does,
 * and a big unit costs only what those functions do), else of the pc's whole unit.
 */
struct inline_units {
	struct inl_unit {
		uint64_t key;  /* the DIE offset of its first function, or of its unit */
		struct inline_table *t;
	} *units;
	size_t nunits;
	struct inline_fn { /* the functions of the units seen: an address range each */
		uint64_t lo, hi, die;
	} *fns;
	size_t nfns, capfns;
	uint64_t *cus;     /* the units whose functions are listed */
	size_t ncus;
};
/* The table for vaddr in cudie's unit (kept in u, built the first time). */
struct inline_table *inline_units_at(struct inline_units *u, Dwarf_Die *cudie, uint64_t bias,
				     uint64_t vaddr);
void inline_units_free(struct inline_units *u); /* (and zeroes it) */
int inline_table_save(const struct inline_table *it, const char *build_id); /* 0 or -errno */
/* The inline chain at vaddr, innermost first (at most max); 0 when vaddr is in no inlined
 * subroutine. Strings borrowed from it. */
size_t inline_table_lookup(const struct inline_table *it, uint64_t vaddr, struct inline_hit *hits,
			   size_t max);
void inline_table_free(struct inline_table *it); /* NULL ok */

/* ---- memcache.c: the target's pages, kept for one snapshot ---- */

struct memcache;
void memcache_free(struct memcache *mc); /* NULL ok */

/* ---- maps.c: the per-process object ---- */

struct map_entry {
	uint64_t start, end, offset;
	uint64_t inode;
	unsigned dev_major, dev_minor;
	char perms[5];
	char *path;        /* without " (deleted)"; NULL for anonymous mappings */
	const char *base;  /* basename inside path */
	bool deleted;
	/* resolved lazily by maps_elf() */
	bool elf_tried;
	bool bias_ok;
	struct elf_file *elf;
	uint64_t bias;     /* load bias: runtime address = ELF vaddr + bias */
};

struct symbolizer {
	pid_t pid;
	unsigned flags;
	struct map_entry *maps; /* sorted by start, non-overlapping */
	size_t nmaps;
	unsigned maps_gen;      /* bumped by every refresh */
	bool miss_refreshed;    /* a lookup miss already re-read maps since the last refresh */
	int mem_fd;             /* /proc/PID/mem, -1 until needed */
	bool no_vm_readv;       /* process_vm_readv failed with ENOSYS/EPERM: use mem_fd */
	void *unw;              /* unwind.c's state (address space), lazily */
	struct memcache *mem;   /* memcache.c: snapshot pages, lazily */
};

/* The maps of s->pid read into s (0 or -errno); maps_free frees such an array. */
int maps_load(struct symbolizer *s);
void maps_free(struct map_entry *maps, size_t n);
struct map_entry *maps_find(struct symbolizer *s, uint64_t addr);
/* ELF of the mapping (borrowed, owned by the entry) with m->bias set; NULL if none. */
struct elf_file *maps_elf(struct symbolizer *s, struct map_entry *m);
/* ELF of the file f maps and its load bias, from an executable mapping of the file when
 * there is one (ctypes may map a binary a second time, without execute permission, for
 * its trampolines: that copy has another bias). NULL if none. */
struct elf_file *maps_file_elf(struct symbolizer *s, struct map_entry *f, uint64_t *bias);

#endif
