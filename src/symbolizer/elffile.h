/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * struct elf_file, shared by elfsyms.c (the files, their symbols, the pending saves) and
 * elflines.c (their lines). Everything else sees it through internal.h's functions.
 */
#ifndef FTSCOPE_SYMBOLIZER_ELFFILE_H
#define FTSCOPE_SYMBOLIZER_ELFFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include <elfutils/libdwfl.h>
#include <libelf.h>

#include "ftscope/util.h"
#include "internal.h"

struct sym;

struct elf_file {
	struct elf_file *next; /* cache_head list (shared files only) */
	unsigned refs;
	bool shared;
	/* identity of a shared file */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	unsigned flags;

	char *path;
	int fd;      /* kept open for libdw, symbols and by-name lookups; -1 for memory images */
	Elf *elf;    /* libelf's view of it, kept: each elf_begin maps the whole file again */
	void *image; /* memory image ([vdso]) */
	size_t image_len;

	struct elf_load *loads;
	size_t nloads;
	bool has_eh_hdr;  /* PT_GNU_EH_FRAME: .eh_frame_hdr (unwind.c's FDE lookups) */
	uint64_t eh_hdr_vaddr, eh_hdr_offset, eh_hdr_filesz;
	char *build_id;
	char *debuglink;
	char *debug_cand; /* the separate debug file found for it (symbols not loaded yet) */
	char *debug_path; /* the debug file its symbols came from */

	bool syms_loaded; /* function symbols are loaded on the first lookup */
	bool syms_prep;   /* ... or by a preparation thread (elflines.c): wait for it */
	bool syms_done;   /* elf_file_load_symbols() has finished (under elfsyms.c's lock) */
	struct sym *syms; /* sorted by start, one per address */
	size_t nsyms, syms_cap;
	uint64_t *max_end; /* max_end[i] = max end of syms[0..i] (sizeless: start + 1) */
	struct sbuf names; /* while collecting */
	const char *symnames; /* names of syms: names.buf, or inside symmap */
	size_t symnames_len;
	const void *symmap;   /* syms, max_end and names mapped from the disk cache */
	size_t symmap_len;

	bool dwfl_tried;
	bool table_tried;
	struct line_table *lines; /* flattened table (linecache.c), used instead of libdw */
	/* the answers from the saved tables by pc (elflines.c): a 100-thread process asks
	 * for the same few dozen pcs ~1,400 times, and each search of a 10 MB table costs
	 * ~20 TLB and cache misses; allocated at the first lookup */
	struct line_memo *line_memo;
	struct inl_memo *inl_memo;
	bool lazy_tried;
	struct lazy_lines *lazy;  /* lines of a few units (dwlines.c), when there is no table */
	bool pending;             /* on the pending list (its tables are to be saved) */
	bool symtab_unsaved;      /* its symbol table was built here and not saved yet */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	Dwarf_Addr dwbias;
	/* inlined functions (inlines.c): the whole module's table (saved), else per unit */
	bool inl_tried, inl_dwfl_tried;
	struct inline_table *inl;
	Dwfl *inl_dwfl;          /* for the units' tables */
	Dwfl_Module *inl_mod;
	struct inline_units inl_units;
	struct inl_pc {          /* the table each vaddr asked for was answered from */
		uint64_t vaddr;
		struct inline_table *t; /* one of inl_units' (NULL: none) */
	} *inl_pcs;
	size_t ninl_pcs;
};

/* Put ef on the list of files whose tables are saved later (SYMCACHE_SAVE_LATER). */
void elf_file_note_pending(struct elf_file *ef);
void elf_file_load_symbols(struct elf_file *ef, bool note);
/* Build and save ef's line table unless it has one (or is not to have one). */
void elf_file_save_lines(struct elf_file *ef);

/* elfsyms.c: the pending list (modules whose tables are saved later) and a module's symbol
 * table saved if it is not yet; elflines.c saves or drops the list. */
struct elf_file **elf_file_pending_list(size_t *n);
void elf_file_pending_reset(bool release); /* empty it; release: free the array too */
void elf_file_save_symtab(struct elf_file *ef);

#endif
