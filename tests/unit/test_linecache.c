/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Saved line tables (symbolizer/linecache.c) against libdw on the real libc of this host:
 * for every exported function of libc (and a few pcs inside each), the table built from
 * libc6-dbg's (compressed) DWARF, and the same table loaded back from disk, must give the
 * file:line libdw gives. A truncated or foreign file in the cache is ignored and replaced.
 * Skips when libc has no DWARF here (libc6-dbg not installed).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../symbolizer/internal.h"
#include "ftscope/util.h"
#include "tap.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

struct answer {
	uint64_t pc;
	char *file;
	int line;
};

static uint64_t *pcs;
static size_t npcs;

/* Exported functions of libc, and pcs 1, 7 and 33 bytes in (when inside the function). */
static void collect_pcs(void)
{
	int fd = open(LIBC, O_RDONLY | O_CLOEXEC);
	Elf *elf;
	Elf_Scn *scn = NULL;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while (elf && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 1; i < sh.sh_size / sh.sh_entsize; i++) {
			static const uint64_t offs[] = { 0, 1, 7, 33 };
			GElf_Sym s;
			if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
			    !s.st_value)
				continue;
			for (size_t k = 0; k < 4; k++) {
				if (offs[k] && offs[k] >= s.st_size)
					continue;
				pcs = xrealloc(pcs, (npcs + 1) * sizeof(*pcs));
				pcs[npcs++] = s.st_value + offs[k];
			}
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
}

/* file:line of every pc through a fresh elf_file (so nothing is shared with the last). */
static struct answer *lookup_all(size_t *nfound)
{
	struct elf_file *ef = elf_file_open(open(LIBC, O_RDONLY | O_CLOEXEC), LIBC, 0);
	struct answer *a = xcalloc(npcs, sizeof(*a));
	*nfound = 0;
	for (size_t i = 0; ef && i < npcs; i++) {
		const char *file;
		int line;
		a[i].pc = pcs[i];
		if (!elf_file_srcline(ef, pcs[i], &file, &line)) {
			a[i].file = xstrdup(file);
			a[i].line = line;
			(*nfound)++;
		}
	}
	elf_file_put(ef);
	return a;
}

static void answers_free(struct answer *a)
{
	for (size_t i = 0; i < npcs; i++)
		free(a[i].file);
	free(a);
}

static size_t mismatches(const struct answer *want, const struct answer *got, const char *what)
{
	size_t bad = 0;
	for (size_t i = 0; i < npcs; i++) {
		bool same = want[i].line == got[i].line &&
			    (!want[i].file ? !got[i].file
					   : got[i].file && !strcmp(want[i].file, got[i].file));
		if (!same && bad++ < 5)
			printf("#   %s: pc %#llx: libdw %s:%d, table %s:%d\n", what,
			       (unsigned long long)pcs[i], want[i].file ? want[i].file : "-",
			       want[i].line, got[i].file ? got[i].file : "-", got[i].line);
	}
	return bad;
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) ? -1 : st.st_size;
}

int main(void)
{
	char dir[] = "/tmp/ftscope-test-linecache.XXXXXX";
	struct answer *libdw, *built, *loaded, *again;
	struct elf_file *ef;
	char *bid;
	char *path, *debug_path;
	size_t n_libdw, n_built, n_loaded, n_again;
	off_t size;
	FILE *f;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ef = elf_file_open(open(LIBC, O_RDONLY | O_CLOEXEC), LIBC, 0);
	if (!ef || !elf_file_build_id(ef) || !elf_file_debug_path(ef)) {
		printf("1..0 # SKIP %s has no DWARF here (install libc6-dbg)\n", LIBC);
		elf_file_put(ef);
		return 0;
	}
	bid = xstrdup(elf_file_build_id(ef));
	debug_path = xstrdup(elf_file_debug_path(ef));
	elf_file_put(ef); /* files are shared while referenced: every lookup_all starts afresh */
	if (!mkdtemp(dir))
		return printf("Bail out! mkdtemp\n"), 1;
	path = xasprintf("%s/%.2s/%s.lines", dir, bid, bid + 2);
	collect_pcs();
	ok(npcs > 1000, "%zu pcs from libc's exported functions", npcs);
	ok(1, "libc's DWARF is in %s", debug_path);

	symbolizer_set_cache_dir(NULL);
	libdw = lookup_all(&n_libdw);
	ok(n_libdw > npcs / 2, "libdw: %zu of %zu pcs have a line", n_libdw, npcs);
	ok(file_size(path) < 0, "no cache dir: nothing saved");

	symbolizer_set_cache_dir(dir);
	is_str(symbolizer_cache_dir(), dir, "cache dir set");
	built = lookup_all(&n_built);
	size = file_size(path);
	ok(size > 100000, "table saved at first use (%lld bytes)", (long long)size);
	is_int(mismatches(libdw, built, "built"), 0, "built table: same lines as libdw");
	is_int(n_built, n_libdw, "built table: as many lines");

	loaded = lookup_all(&n_loaded);
	is_int(mismatches(libdw, loaded, "loaded"), 0, "loaded table: same lines as libdw");
	is_int(file_size(path), size, "loading leaves the file alone");

	/* truncated (a crash while writing would leave no such file: it is renamed into place) */
	ok(truncate(path, size / 2) == 0, "truncate the saved table");
	again = lookup_all(&n_again);
	is_int(mismatches(libdw, again, "after truncation"), 0, "truncated table ignored");
	is_int(file_size(path), size, "and rebuilt");
	answers_free(again);

	/* another module's table under this build-id: the header names its build-id */
	f = fopen(path, "r+b");
	ok(f && fseek(f, 40, SEEK_SET) == 0 && fputc('0' == bid[0] ? '1' : '0', f) != EOF,
	   "overwrite the build-id in the header");
	if (f)
		fclose(f);
	again = lookup_all(&n_again);
	is_int(mismatches(libdw, again, "foreign"), 0, "foreign table ignored");
	answers_free(again);
	f = fopen(path, "rb");
	ok(f && fseek(f, 40, SEEK_SET) == 0 && fgetc(f) == bid[0], "and replaced by libc's own");
	if (f)
		fclose(f);

	answers_free(libdw);
	answers_free(built);
	answers_free(loaded);
	free(bid);
	symbolizer_set_cache_dir(NULL);
	free(path);
	free(debug_path);
	free(pcs);
	rm_rf(dir);
	return tap_done();
}
