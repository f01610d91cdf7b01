/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * file:line of the few addresses a dump needs, in a module whose line table is not saved
 * yet (the first dump on a host), without what makes the whole table expensive:
 *
 *  - libdw inflates every compressed .debug_* section it knows when it opens a file, with
 *    zlib: libc6-dbg's are 8.6 MB inflated, ~60 ms. We inflate them with libdeflate (~4x
 *    faster) into an ELF image in memory that libdw reads in place (image_open), only the
 *    sections lines and inlined functions read (not the location lists, macros, frames);
 *  - decoding every unit's line program (flattening the table) costs ~100 ms per big
 *    module: libdw decodes just the units that hold an address asked for. Which unit that
 *    is comes from .debug_aranges when there is .debug_info (libdw's dwarf_addrdie), else
 *    from a scan of .debug_line that notes only where each unit's sequences start and end
 *    (then dwarf_next_lines decodes the unit). For the scan, the other debug sections are
 *    hidden from libdw (renamed in our copy of the section headers): that spares
 *    dwarf_next_lines() its search of .debug_info for the unit's CU, and, when libdw
 *    inflates (a compression libdeflate does not do), the inflating of what lines do not
 *    read.
 *
 * A unit's rows are read with the rules of the saved whole table (unit_lookup), and units
 * do not overlap, so the answer is the one the saved table gives. The scan of the
 * line programs is ours (libdw has no "which unit covers this address" without .debug_info
 * or a full decode); it reads addresses only, and anything it does not understand makes
 * lazy_lines_open() give up, so the caller falls back to libdw's whole-file path.
 *
 * Line tables older than DWARF 5 are not handled here: their directory 0 is the compilation
 * directory, which is only in .debug_info.
 *
 * The inlined functions (inlines.c) need the units themselves: lazy_lines_dwarf() gives the
 * Dwarf that has them, the same one when lines go by compile unit, else a second one on the
 * same ELF with .debug_info & co. shown again (and inflated), opened at the first ask.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dwarf.h>
#include <gelf.h>
#include <libdeflate.h>

#include "ftscope/error.h"
#include "ftscope/hugemem.h"
#include "ftscope/util.h"
#include "internal.h"

struct unit_seq {
	uint64_t start, end;    /* [start, end) of one sequence */
	uint64_t off;           /* its unit in .debug_line */
};

struct lazy_unit {
	uint64_t off;
	Dwarf_Lines *lines;     /* libdw's, sorted by address; NULL: could not be decoded */
	size_t nl;
};

struct lazy_lines {
	int fd;
	Elf *elf;
	Dwarf *dw;
	bool by_cu;             /* uncompressed, with .debug_aranges: units found by libdw */
	/* the special opcodes' address advances, for the header values they were made for */
	unsigned sp_base, sp_range, sp_inst;
	uint32_t special[256];
	struct unit_seq *seq;   /* sorted by start */
	size_t nseq, capseq;
	struct lazy_unit *units;
	size_t nunits, capunits;
	/* compressed: the sections hidden from dw that the inlined functions need, shown to a
	 * second Dwarf (info_dw) on the same ELF only when asked for (lazy_lines_dwarf) */
	bool info_ok, info_tried;
	struct hidden_scn {
		size_t ndx;
		GElf_Word name;
	} hidden[16];
	size_t nhidden;
	Dwarf *info_dw;
	/* compressed: elf is an image in memory (image_open) of the file's debug sections,
	 * inflated into it by us, each when it is first shown to libdw */
	Elf *file_elf;
	char *image;
	size_t image_mapped;
	struct zscn {
		size_t ndx;            /* in the image */
		const uint8_t *src;    /* in the file's mapping: zlib stream, or plain bytes */
		size_t srclen, size;
		bool zlib, done;
	} zs[16];
	size_t nzs;
	struct libdeflate_decompressor *dec;
	char *path;             /* for messages */
};

struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t rd_n(struct cursor *c, size_t n)
{
	uint64_t v = 0;
	if ((size_t)(c->end - c->p) < n) {
		c->bad = true;
		c->p = c->end;
		return 0;
	}
	memcpy(&v, c->p, n); /* little-endian host and file (x86-64) */
	c->p += n;
	return v;
}

static uint64_t rd_uleb(struct cursor *c)
{
	uint64_t v = 0;
	for (unsigned shift = 0; c->p < c->end; shift += 7) {
		uint8_t b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	c->bad = true;
	return 0;
}

static void add_seq(struct lazy_lines *ll, uint64_t start, uint64_t end, uint64_t off)
{
	if (end <= start)
		return;
	if (ll->nseq == ll->capseq) {
		ll->capseq = ll->capseq ? 2 * ll->capseq : 1024;
		ll->seq = xrealloc(ll->seq, ll->capseq * sizeof(*ll->seq));
	}
	ll->seq[ll->nseq++] = (struct unit_seq){ start, end, off };
}

/*
 * One unit's header and the address part of its line program (DWARF 2-5 state machine:
 * special opcodes, advance_pc, const_add_pc, fixed_advance_pc, set_address,
 * end_sequence). *version gets the unit's version. 0, or -1 if the unit cannot be read.
 */
static int scan_unit(struct lazy_lines *ll, const uint8_t *sec, size_t size, uint64_t off,
		     uint64_t *next, unsigned *version)
{
	struct cursor c = { sec + off, sec + size, false };
	const uint8_t *unit_end, *prog;
	uint64_t len, hlen, addr = 0, seq_start = 0;
	unsigned offsz = 4, min_inst, line_range, opcode_base;
	uint8_t std_len[256] = { 0 };
	const uint32_t *special = ll->special; /* address advance of each special opcode */
	bool in_seq = false;

	len = rd_n(&c, 4);
	if (len == 0xffffffff) {
		offsz = 8;
		len = rd_n(&c, 8);
	} else if (len >= 0xfffffff0) {
		return -1;
	}
	if (c.bad || len > (size_t)(c.end - c.p))
		return -1;
	unit_end = c.p + len;
	*next = (uint64_t)(unit_end - sec);
	*version = (unsigned)rd_n(&c, 2);
	if (*version < 2 || *version > 5)
		return -1;
	if (*version >= 5)
		rd_n(&c, 2); /* address_size, segment_selector_size */
	hlen = rd_n(&c, offsz);
	if (c.bad || hlen > (size_t)(unit_end - c.p))
		return -1;
	prog = c.p + hlen;
	min_inst = (unsigned)rd_n(&c, 1);
	if (*version >= 4)
		rd_n(&c, 1); /* maximum_operations_per_instruction: 1 on x86 */
	rd_n(&c, 2);         /* default_is_stmt, line_base */
	line_range = (unsigned)rd_n(&c, 1);
	opcode_base = (unsigned)rd_n(&c, 1);
	if (c.bad || !line_range || !opcode_base || (size_t)(prog - c.p) < opcode_base - 1)
		return -1;
	for (unsigned i = 1; i < opcode_base; i++)
		std_len[i] = (uint8_t)rd_n(&c, 1);
	if (opcode_base != ll->sp_base || line_range != ll->sp_range || min_inst != ll->sp_inst) {
		for (unsigned op = opcode_base; op < 256; op++)
			ll->special[op] = ((op - opcode_base) / line_range) * min_inst;
		ll->sp_base = opcode_base;
		ll->sp_range = line_range;
		ll->sp_inst = min_inst;
	}

	c.p = prog;
	c.end = unit_end;
	while (c.p < c.end && !c.bad) {
		unsigned op = *c.p++;
		if (op >= opcode_base) {
			addr += special[op];
			if (!in_seq) {
				in_seq = true;
				seq_start = addr;
			}
			continue;
		}
		switch (op) {
		case 0: { /* extended */
			uint64_t elen = rd_uleb(&c);
			const uint8_t *eend;
			unsigned sub;
			if (c.bad || !elen || elen > (size_t)(c.end - c.p))
				return -1;
			eend = c.p + elen;
			sub = *c.p++;
			if (sub == DW_LNE_end_sequence) {
				if (in_seq)
					add_seq(ll, seq_start, addr, off);
				in_seq = false;
				addr = 0;
			} else if (sub == DW_LNE_set_address) {
				if (elen - 1 != 4 && elen - 1 != 8)
					return -1;
				addr = rd_n(&c, elen - 1);
				if (!in_seq) {
					in_seq = true;
					seq_start = addr;
				}
			}
			c.p = eend;
			break;
		}
		case DW_LNS_copy:
			if (!in_seq) {
				in_seq = true;
				seq_start = addr;
			}
			break;
		case DW_LNS_advance_pc:
			addr += rd_uleb(&c) * min_inst;
			break;
		case DW_LNS_const_add_pc:
			addr += (uint64_t)((255 - opcode_base) / line_range) * min_inst;
			break;
		case DW_LNS_fixed_advance_pc:
			addr += rd_n(&c, 2);
			break;
		default: /* operands we do not need: as many ULEB128s as the header says */
			for (unsigned i = 0; i < std_len[op]; i++)
				rd_uleb(&c);
		}
	}
	return c.bad ? -1 : 0;
}

static int seq_cmp(const void *a, const void *b)
{
	const struct unit_seq *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static bool section_is(const char *name, const char *want)
{
	return name && !strcmp(name, want);
}

/* The next section of ll's ELF and its header and name (NULL at the end). */
static Elf_Scn *next_section(struct lazy_lines *ll, Elf_Scn *scn, size_t shstrndx, GElf_Shdr *sh,
			     const char **name)
{
	while ((scn = elf_nextscn(ll->elf, scn))) {
		if (!gelf_getshdr(scn, sh))
			continue;
		*name = elf_strptr(ll->elf, shstrndx, sh->sh_name);
		return scn;
	}
	return NULL;
}

/* The sections the inlined functions by compile unit read besides the lines': the units,
 * their abbreviations, strings and address ranges, and .debug_aranges to find them. */
static bool by_cu_needs(const char *name)
{
	static const char *const keep[] = {
		".debug_info", ".debug_abbrev", ".debug_aranges", ".debug_line",
		".debug_line_str", ".debug_str", ".debug_str_offsets", ".debug_addr",
		".debug_ranges", ".debug_rnglists",
	};
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		if (!strcmp(name, keep[i]))
			return true;
	return false;
}

/* Note a section hidden from libdw that lazy_lines_dwarf() shows it again. */
static void hide(struct lazy_lines *ll, Elf_Scn *scn, GElf_Word name)
{
	if (ll->nhidden < ARRAY_SIZE(ll->hidden))
		ll->hidden[ll->nhidden++] = (struct hidden_scn){ elf_ndxscn(scn), name };
	else
		ll->info_ok = false;
}

/* The sections the line index shows libdw (lazy_lines_open hides the others from it). */
static bool lines_need(const char *name)
{
	return section_is(name, ".debug_line") || section_is(name, ".debug_line_str") ||
	       section_is(name, ".debug_str");
}

static size_t align_to(size_t v, size_t a)
{
	return a > 1 ? (v + a - 1) / a * a : v;
}

/*
 * A compressed file (Debian's -dbg packages): the .debug_* sections that lines and inlined
 * functions read, in an ELF image of their own in memory (elf_memory) where libdw reads
 * them in place, uncompressed. libdw would inflate them itself with zlib when it opens the
 * file; libdeflate does it ~4 times faster (libc6-dbg's 8.6 MB: ~15 ms instead of ~60, the
 * longest wait of a first dump). A section is inflated into its place in the image when it
 * is first shown to libdw (image_fill): all at once when lines go by compile unit, else the
 * lines' three first and the units' at lazy_lines_dwarf(). ll->elf becomes the image's ELF
 * (the file's is kept for the compressed bytes); *line_ndx gets .debug_line's index in it.
 * 0, or -1: the file is read as before.
 */
static int image_open(struct lazy_lines *ll, size_t shstrndx, size_t *line_ndx)
{
	struct pick {
		Elf_Scn *scn;
		GElf_Shdr sh;
		const char *name;
		bool early;
	} pick[ARRAY_SIZE(ll->zs)];
	size_t npick = 0, strsize = 1, shoff, off, total, mapped;
	Elf_Scn *scn = NULL;
	Elf *image_elf;
	Elf64_Ehdr *eh;
	Elf64_Shdr *shdrs;
	GElf_Ehdr feh;
	GElf_Shdr sh;
	const char *name;
	char *img, *strtab;

	if (gelf_getclass(ll->elf) != ELFCLASS64 || !gelf_getehdr(ll->elf, &feh))
		return -1;
	/* the lines' sections first: their pages are the ones touched first */
	for (int early = 1; early >= 0; early--) {
		while ((scn = next_section(ll, scn, shstrndx, &sh, &name))) {
			if (section_is(name, ".gnu_debugaltlink"))
				return -1; /* libdw finds the alt file next to the file's path */
			if (!name || !starts_with(name, ".debug_") || sh.sh_type == SHT_NOBITS ||
			    lines_need(name) != early || !(early || by_cu_needs(name)))
				continue;
			if (npick == ARRAY_SIZE(pick) - 1) /* (index 0 is the null section) */
				return -1;
			pick[npick++] = (struct pick){ scn, sh, name, early };
			strsize += strlen(name) + 1;
		}
	}
	/* the layout: ELF header, names, section headers, then the sections' bytes */
	strsize += sizeof(".shstrtab");
	shoff = align_to(sizeof(Elf64_Ehdr) + strsize, 8);
	off = align_to(shoff + (npick + 2) * sizeof(Elf64_Shdr), 64);
	for (size_t i = 0; i < npick; i++) {
		struct zscn *z = &ll->zs[i];
		GElf_Chdr ch;
		Elf_Data *raw = elf_rawdata(pick[i].scn, NULL);
		size_t align = pick[i].sh.sh_addralign;

		if (!raw || !raw->d_buf)
			return -1;
		z->ndx = i + 1;
		z->src = raw->d_buf;
		z->srclen = z->size = raw->d_size;
		if (pick[i].sh.sh_flags & SHF_COMPRESSED) {
			if (!gelf_getchdr(pick[i].scn, &ch) || ch.ch_type != ELFCOMPRESS_ZLIB ||
			    raw->d_size < sizeof(Elf64_Chdr) || ch.ch_size > (1ull << 34))
				return -1;
			z->zlib = true;
			z->src += sizeof(Elf64_Chdr);
			z->srclen -= sizeof(Elf64_Chdr);
			z->size = ch.ch_size;
			align = ch.ch_addralign;
		}
		off = align_to(off, align > 16 ? align : 16);
		pick[i].sh.sh_offset = off;
		pick[i].sh.sh_addralign = align;
		off += z->size;
	}
	total = off;
	img = hugemem_map(total, &mapped);
	if (!img)
		return -1;
	eh = (Elf64_Ehdr *)img;
	memcpy(eh->e_ident, feh.e_ident, EI_NIDENT);
	eh->e_type = feh.e_type;
	eh->e_machine = feh.e_machine;
	eh->e_version = feh.e_version;
	eh->e_flags = feh.e_flags;
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shoff = shoff;
	eh->e_shnum = (Elf64_Half)(npick + 2);
	eh->e_shstrndx = (Elf64_Half)(npick + 1);
	strtab = img + sizeof(Elf64_Ehdr);
	shdrs = (Elf64_Shdr *)(img + shoff);
	off = 1;
	for (size_t i = 0; i < npick; i++) {
		const GElf_Shdr *p = &pick[i].sh;
		shdrs[i + 1] = (Elf64_Shdr){
			.sh_name = (Elf64_Word)off, .sh_type = p->sh_type,
			.sh_flags = p->sh_flags & ~(GElf_Xword)SHF_COMPRESSED, .sh_offset = p->sh_offset,
			.sh_size = ll->zs[i].size, .sh_addralign = p->sh_addralign,
			.sh_entsize = p->sh_entsize,
		};
		memcpy(strtab + off, pick[i].name, strlen(pick[i].name) + 1);
		off += strlen(pick[i].name) + 1;
		if (section_is(pick[i].name, ".debug_line"))
			*line_ndx = i + 1;
	}
	memcpy(strtab + off, ".shstrtab", sizeof(".shstrtab"));
	shdrs[npick + 1] = (Elf64_Shdr){ .sh_name = (Elf64_Word)off, .sh_type = SHT_STRTAB,
					 .sh_offset = sizeof(Elf64_Ehdr), .sh_size = strsize,
					 .sh_addralign = 1 };
	ll->dec = libdeflate_alloc_decompressor();
	image_elf = elf_memory(img, total);
	if (!ll->dec || !image_elf || elf_kind(image_elf) != ELF_K_ELF) {
		elf_end(image_elf);
		libdeflate_free_decompressor(ll->dec);
		ll->dec = NULL;
		hugemem_unmap(img, mapped);
		return -1;
	}
	ll->file_elf = ll->elf;
	ll->elf = image_elf;
	ll->image = img;
	ll->image_mapped = mapped;
	ll->nzs = npick;
	return 0;
}

/* Inflate (or copy) the image's sections the lines need (early), or all the others. */
static int image_fill(struct lazy_lines *ll, bool early)
{
	GElf_Shdr sh;
	Elf_Scn *scn;
	size_t shstrndx;

	if (elf_getshdrstrndx(ll->elf, &shstrndx))
		return -1;
	for (size_t i = 0; i < ll->nzs; i++) {
		struct zscn *z = &ll->zs[i];
		char *dst;
		if (z->done)
			continue;
		scn = elf_getscn(ll->elf, z->ndx);
		if (!scn || !gelf_getshdr(scn, &sh))
			return -1;
		/* (a hidden section's name is "" by now: early ones are never hidden) */
		if (early && !lines_need(elf_strptr(ll->elf, shstrndx, sh.sh_name)))
			continue;
		dst = ll->image + sh.sh_offset;
		if (!z->zlib)
			memcpy(dst, z->src, z->size);
		else if (libdeflate_zlib_decompress(ll->dec, z->src, z->srclen, dst, z->size, NULL) !=
			 LIBDEFLATE_SUCCESS)
			return -1;
		z->done = true;
	}
	return 0;
}

static bool force_scan;

void lazy_lines_force_scan(bool on)
{
	force_scan = on;
}

struct lazy_lines *lazy_lines_open(int fd, const char *path)
{
	struct lazy_lines *ll = xcalloc(1, sizeof(*ll));
	Elf_Scn *scn = NULL, *line_scn = NULL;
	bool compressed = false, info = false, aranges = false;
	size_t shstrndx, line_ndx = 0;
	Elf_Data *data;
	GElf_Shdr sh;
	const char *name;

	ll->fd = fd;
	ll->path = xstrdup(path);
	if (ll->fd < 0)
		goto fail;
	/* a private mapping: the section headers are edited in our copy only */
	ll->elf = elf_begin(ll->fd, ELF_C_READ_MMAP_PRIVATE, NULL);
	if (!ll->elf || elf_kind(ll->elf) != ELF_K_ELF || elf_getshdrstrndx(ll->elf, &shstrndx) ||
	    elf_inflate_check(ll->elf, path))
		goto fail;
	while ((scn = next_section(ll, scn, shstrndx, &sh, &name))) {
		if (name && starts_with(name, ".zdebug"))
			goto fail; /* old GNU compression: leave it to libdw's whole-file path */
		if (section_is(name, ".debug_line"))
			line_scn = scn;
		if (section_is(name, ".debug_info"))
			info = true;
		if (section_is(name, ".debug_aranges"))
			aranges = true;
		if (name && starts_with(name, ".debug_") && (sh.sh_flags & SHF_COMPRESSED))
			compressed = true;
	}
	if (!line_scn)
		goto fail;
	if (compressed && image_open(ll, shstrndx, &line_ndx) == 0) {
		/* from here on the ELF is the image */
		line_scn = elf_getscn(ll->elf, line_ndx);
		if (!line_scn || elf_getshdrstrndx(ll->elf, &shstrndx))
			goto fail;
	}
	if (info && aranges && (!compressed || (ll->image && !force_scan))) {
		/* Let libdw find an address's unit with .debug_aranges and decode that unit's
		 * lines (with its CU's directory). Opening costs nothing for a file as it is (a
		 * mapping); a compressed one has all its sections inflated into the image now:
		 * the inlined functions want its units anyway, and that spares the scan. */
		if (ll->image && image_fill(ll, false) < 0)
			goto fail;
		ll->dw = dwarf_begin_elf(ll->elf, DWARF_C_READ, NULL);
		if (!ll->dw)
			goto fail;
		ll->by_cu = true;
		debug("symbolizer: %s: lines by compile unit%s", path,
		      ll->image ? " (compressed DWARF, inflated)" : "");
		return ll;
	}
	ll->info_ok = info && aranges;
	{
		/* libdw inflates every compressed debug section it knows by name, and
		 * dwarf_next_lines() looks for the unit's CU in .debug_info (parsing every CU's
		 * abbreviations): show it only what lines use */
		while ((scn = next_section(ll, scn, shstrndx, &sh, &name))) {
			if (!name || !starts_with(name, ".debug_") || lines_need(name))
				continue;
			if (by_cu_needs(name))
				hide(ll, scn, sh.sh_name);
			sh.sh_name = 0; /* "": not a section libdw looks at */
			if (!gelf_update_shdr(scn, &sh))
				goto fail;
		}
	}
	if (ll->image && image_fill(ll, true) < 0)
		goto fail;
	ll->dw = dwarf_begin_elf(ll->elf, DWARF_C_READ, NULL);
	if (!ll->dw)
		goto fail;
	/* .debug_line inflated (by libdw, else in the image): scan it */
	data = elf_getdata(line_scn, NULL);
	if (!data || !data->d_buf)
		goto fail;
	for (uint64_t off = 0, next; off < data->d_size; off = next) {
		unsigned version;
		if (scan_unit(ll, data->d_buf, data->d_size, off, &next, &version) < 0 ||
		    version < 5)
			goto fail;
	}
	qsort(ll->seq, ll->nseq, sizeof(*ll->seq), seq_cmp);
	debug("symbolizer: %s: %zu line sequences%s", path, ll->nseq,
	      compressed ? " (compressed DWARF)" : "");
	return ll;
fail:
	debug("symbolizer: %s: no lazy line lookups, libdw reads the whole file", path);
	lazy_lines_free(ll);
	return NULL;
}

static struct lazy_unit *unit_find(struct lazy_lines *ll, uint64_t off, bool *found)
{
	struct lazy_unit *u;

	for (size_t i = 0; i < ll->nunits; i++)
		if (ll->units[i].off == off) {
			*found = true;
			return &ll->units[i];
		}
	if (ll->nunits == ll->capunits) {
		ll->capunits = ll->capunits ? 2 * ll->capunits : 16;
		ll->units = xrealloc(ll->units, ll->capunits * sizeof(*ll->units));
	}
	u = &ll->units[ll->nunits++];
	memset(u, 0, sizeof(*u));
	u->off = off;
	*found = false;
	return u;
}

/* The unit at .debug_line offset off (scan). */
static struct lazy_unit *unit_lines(struct lazy_lines *ll, uint64_t off)
{
	Dwarf_Off next;
	Dwarf_CU *cu = NULL;
	Dwarf_Files *files;
	size_t nf;
	bool found;
	struct lazy_unit *u = unit_find(ll, off, &found);

	if (!found && dwarf_next_lines(ll->dw, off, &next, &cu, &files, &nf, &u->lines, &u->nl))
		u->lines = NULL;
	return u;
}

/*
 * The row of a unit's lines for vaddr, by the rules of the saved whole table
 * (linecache.c): the last row at or below vaddr, the later of several at one address (libdw
 * sorts an end of sequence before the rows that start there, and keeps the rest in order);
 * an end of sequence, or a row without a line or file, means no line.
 */
static bool unit_lookup(const struct lazy_unit *u, uint64_t vaddr, const char **file, int *line)
{
	size_t lo = 0, hi = u->nl;
	Dwarf_Line *l;
	Dwarf_Addr a;
	bool end = false;
	int ln = 0;
	const char *src;

	if (!u->lines)
		return false;
	while (lo < hi) { /* lo = number of rows at or below vaddr */
		size_t mid = lo + (hi - lo) / 2;
		l = dwarf_onesrcline(u->lines, mid);
		if (l && !dwarf_lineaddr(l, &a) && a <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	l = dwarf_onesrcline(u->lines, lo - 1);
	if (!l || dwarf_lineendsequence(l, &end) || end || dwarf_lineno(l, &ln) || ln <= 0)
		return false;
	src = dwarf_linesrc(l, NULL, NULL);
	if (!src)
		return false;
	*file = src;
	*line = ln;
	return true;
}

/* The compile unit holding vaddr (by_cu), NULL if none. */
static struct lazy_unit *cu_lines(struct lazy_lines *ll, uint64_t vaddr)
{
	Dwarf_Die cudie;
	struct lazy_unit *u;
	bool found;

	if (!dwarf_addrdie(ll->dw, vaddr, &cudie))
		return NULL;
	u = unit_find(ll, dwarf_dieoffset(&cudie), &found);
	if (!found && dwarf_getsrclines(&cudie, &u->lines, &u->nl))
		u->lines = NULL;
	return u;
}

bool lazy_lines_lookup(struct lazy_lines *ll, uint64_t vaddr, const char **file, int *line)
{
	size_t lo = 0, hi = ll->nseq;
	struct lazy_unit *u;

	if (ll->by_cu) {
		u = cu_lines(ll, vaddr);
		return u && unit_lookup(u, vaddr, file, line);
	}
	while (lo < hi) { /* lo = number of sequences starting at or below vaddr */
		size_t mid = lo + (hi - lo) / 2;
		if (ll->seq[mid].start <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || vaddr >= ll->seq[lo - 1].end)
		return false;
	return unit_lookup(unit_lines(ll, ll->seq[lo - 1].off), vaddr, file, line);
}

Dwarf *lazy_lines_dwarf(struct lazy_lines *ll)
{
	GElf_Shdr sh;
	Elf_Scn *scn;

	if (!ll)
		return NULL;
	if (ll->by_cu)
		return ll->dw;
	if (ll->info_tried || !ll->info_ok)
		return ll->info_dw;
	ll->info_tried = true;
	if (ll->image && image_fill(ll, false) < 0) {
		debug("symbolizer: %s: cannot inflate the units' sections", ll->path);
		return NULL;
	}
	/*
	 * Show libdw the sections hidden from the line index, in the same ELF: what is
	 * inflated already (.debug_line, the strings) stays so; .debug_info, .debug_abbrev,
	 * ... are inflated now. The location lists, macros and frames stay hidden.
	 */
	for (size_t i = 0; i < ll->nhidden; i++) {
		scn = elf_getscn(ll->elf, ll->hidden[i].ndx);
		if (!scn || !gelf_getshdr(scn, &sh))
			return NULL;
		sh.sh_name = ll->hidden[i].name;
		if (!gelf_update_shdr(scn, &sh))
			return NULL;
	}
	ll->info_dw = dwarf_begin_elf(ll->elf, DWARF_C_READ, NULL);
	debug("symbolizer: %s: units opened for the inlined functions (compressed DWARF)%s",
	      ll->path, ll->info_dw ? "" : ": failed");
	return ll->info_dw;
}

void lazy_lines_free(struct lazy_lines *ll)
{
	if (!ll)
		return;
	free(ll->units); /* their lines belong to libdw */
	free(ll->path);
	free(ll->seq);
	if (ll->dw)
		dwarf_end(ll->dw);
	if (ll->info_dw)
		dwarf_end(ll->info_dw);
	if (ll->elf)
		elf_end(ll->elf);
	if (ll->file_elf)
		elf_end(ll->file_elf);
	hugemem_unmap(ll->image, ll->image_mapped); /* (after libelf and libdw: theirs) */
	libdeflate_free_decompressor(ll->dec);
	if (ll->fd >= 0)
		close(ll->fd);
	free(ll);
}
