/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The per-build-id disk cache (src/symbolizer/diskcache.c) on the real libc of this host: for
 * every exported function of libc (and a few pcs inside each), the symbol and the
 * file:line from a saved table (linecache.c, elfsyms.c), built or loaded back from disk,
 * must be what parsing libc + libc6-dbg gives without a cache (libelf, libdw). A truncated
 * or foreign file is ignored and replaced; a table saved with the debug file is not used
 * when debug files are to be ignored. Skips when libc has no DWARF here (no libc6-dbg).
 *
 * Without a saved table, lines come from the units of the pcs asked for (dwlines.c: by
 * compile unit, for libc6-dbg's compressed sections once inflated into an image in memory,
 * and for an uncompressed -g libpython; for libc also by the scan of .debug_line alone, the
 * way of a file without .debug_aranges): they must equal the saved whole table's, for libc
 * and, with FT_PYTHON, for libpython. SYMCACHE_SAVE_LATER saves nothing until
 * symbolizer_cache_save_pending().
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../../src/symbolizer/internal.h"
#include "ftscope/error.h"
#include "ftscope/util.h"
#include "tap.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

static const char *module = LIBC; /* the file under test */

struct answer {
	uint64_t pc;
	char *file;
	int line;
	char *sym;
	uint64_t sym_start;
	char *inl;      /* the inline chain: "f@file:line < g@file:line", NULL if none */
};

static size_t n_inlined; /* pcs of the last lookup_flags with an inline chain */

static uint64_t *pcs;
static size_t npcs;

/* Exported functions of libc, and pcs 1, 7 and 33 bytes in (when inside the function). */
static void collect_pcs(void)
{
	int fd = open(module, O_RDONLY | O_CLOEXEC);
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

static char *inline_chain(struct elf_file *ef, uint64_t pc)
{
	struct inline_hit hits[INLINE_MAX];
	size_t k = elf_file_inlines(ef, pc, hits, INLINE_MAX);
	struct sbuf sb = SBUF_INIT;
	for (size_t i = 0; i < k; i++)
		sbuf_addf(&sb, "%s%s@%s:%d", i ? " < " : "", hits[i].name,
			  hits[i].call_file ? hits[i].call_file : "-", hits[i].call_line);
	return k ? sbuf_detach(&sb) : NULL;
}

/* Symbol, file:line and inline chain of every pc through a fresh elf_file (nothing shared with the last). */
static struct answer *lookup_flags(size_t *nfound, unsigned flags)
{
	struct elf_file *ef = elf_file_open(open(module, O_RDONLY | O_CLOEXEC), module, flags);
	struct answer *a = xcalloc(npcs, sizeof(*a));
	*nfound = 0;
	n_inlined = 0;
	for (size_t i = 0; ef && i < npcs; i++) {
		struct elf_sym_hit hit;
		const char *file;
		int line;
		a[i].pc = pcs[i];
		if (elf_file_symbolize(ef, pcs[i], &hit)) {
			a[i].sym = xstrdup(hit.name);
			a[i].sym_start = hit.start;
		}
		if (!elf_file_srcline(ef, pcs[i], &file, &line)) {
			a[i].file = xstrdup(file);
			a[i].line = line;
			(*nfound)++;
		}
		a[i].inl = inline_chain(ef, pcs[i]);
		n_inlined += a[i].inl != NULL;
	}
	elf_file_put(ef);
	return a;
}

static struct answer *lookup_all(size_t *nfound)
{
	return lookup_flags(nfound, 0);
}

static void answers_free(struct answer *a)
{
	for (size_t i = 0; i < npcs; i++) {
		free(a[i].file);
		free(a[i].sym);
		free(a[i].inl);
	}
	free(a);
}

static size_t mismatches(const struct answer *want, const struct answer *got, const char *what)
{
	size_t bad = 0;
	for (size_t i = 0; i < npcs; i++) {
		bool same = want[i].line == got[i].line &&
			    (!want[i].file ? !got[i].file
					   : got[i].file && !strcmp(want[i].file, got[i].file)) &&
			    want[i].sym_start == got[i].sym_start &&
			    (!want[i].sym ? !got[i].sym
					  : got[i].sym && !strcmp(want[i].sym, got[i].sym)) &&
			    (!want[i].inl ? !got[i].inl
					  : got[i].inl && !strcmp(want[i].inl, got[i].inl));
		if (!same && bad++ < 5)
			printf("#   %s: pc %#llx: parsed %s %s:%d, cached %s %s:%d\n", what,
			       (unsigned long long)pcs[i], want[i].sym ? want[i].sym : "-",
			       want[i].file ? want[i].file : "-", want[i].line,
			       got[i].sym ? got[i].sym : "-", got[i].file ? got[i].file : "-",
			       got[i].line);
		if (!same && bad <= 5 && (want[i].inl || got[i].inl))
			printf("#     inlined: parsed %s, cached %s\n", want[i].inl ? want[i].inl : "-",
			       got[i].inl ? got[i].inl : "-");
	}
	return bad;
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) ? -1 : st.st_size;
}

static long header_u32(const char *path, long off)
{
	uint32_t v;
	FILE *f = fopen(path, "rb");
	long r = f && fseek(f, off, SEEK_SET) == 0 && fread(&v, 4, 1, f) == 1 ? (long)v : -1;
	if (f)
		fclose(f);
	return r;
}

/* Corrupt a saved file two ways; each time the next lookups must ignore and replace it. */
static void corrupt_and_recover(const char *path, const char *what, size_t id_off,
				const char *bid, const struct answer *want)
{
	struct answer *again;
	off_t size = file_size(path);
	size_t n;
	FILE *f;

	ok(size > 1000, "%s saved (%lld bytes)", what, (long long)size);
	/* truncated (a crash while writing leaves no such file: it is renamed into place) */
	ok(truncate(path, size / 2) == 0, "%s: truncate it", what);
	again = lookup_all(&n);
	is_int(mismatches(want, again, what), 0, "%s: truncated file ignored", what);
	answers_free(again);
	is_int(file_size(path), size, "%s: and rebuilt", what);

	/* another module's table under this build-id */
	f = fopen(path, "r+b");
	ok(f && fseek(f, (long)id_off, SEEK_SET) == 0 &&
		   fputc('0' == bid[0] ? '1' : '0', f) != EOF,
	   "%s: overwrite the build-id in the header", what);
	if (f)
		fclose(f);
	again = lookup_all(&n);
	is_int(mismatches(want, again, what), 0, "%s: foreign file ignored", what);
	answers_free(again);
	f = fopen(path, "rb");
	ok(f && fseek(f, (long)id_off, SEEK_SET) == 0 && fgetc(f) == bid[0],
	   "%s: and replaced by libc's own", what);
	if (f)
		fclose(f);
}

static char *slurp(const char *path, size_t *len)
{
	char *buf = NULL;
	if (read_file(path, &buf, len))
		return NULL;
	return buf;
}

/*
 * Random damage, many times: a span of 1 byte to 4 KB zeroed, overwritten with random
 * bytes, or one bit flipped, anywhere in either file. Every damaged file must be refused
 * (the answers stay those of the parsed module) and rebuilt to the same bytes as before.
 * Without the checksum some of these were accepted: a zeroed 4 KB in the symbol table
 * gave a wrong frame.
 */
static void random_corruptions(const char *lines, const char *syms, const struct answer *want,
			       int rounds)
{
	const char *paths[2] = { lines, syms };
	char *orig[2];
	size_t orig_len[2];
	unsigned seed = getenv("FTSCOPE_TEST_SEED") ? (unsigned)atoi(getenv("FTSCOPE_TEST_SEED"))
						    : 20261122u;
	int refused = 0, rebuilt = 0;

	srandom(seed);
	for (int k = 0; k < 2; k++)
		orig[k] = slurp(paths[k], &orig_len[k]);
	ok(orig[0] && orig[1], "random damage (seed %u): both files read", seed);
	for (int i = 0; orig[0] && orig[1] && i < rounds; i++) {
		int k = i % 2, how = (int)(random() % 3);
		size_t span = how == 2 ? 1 : 1 + (size_t)random() % 4096;
		size_t off = (size_t)random() % orig_len[k];
		char *bad = xmalloc(orig_len[k]), *now;
		struct answer *got;
		size_t n, now_len = 0, wrong;
		FILE *f;

		memcpy(bad, orig[k], orig_len[k]);
		if (off + span > orig_len[k])
			span = orig_len[k] - off;
		for (size_t j = 0; j < span; j++)
			bad[off + j] = how == 0 ? 0 : how == 1 ? (char)random() : bad[off + j];
		if (how == 2)
			bad[off] ^= (char)(1 << (random() % 8));
		if (!memcmp(bad, orig[k], orig_len[k])) { /* zeros over zeros: not damage */
			free(bad);
			i--;
			continue;
		}
		f = fopen(paths[k], "wb");
		if (!f || fwrite(bad, 1, orig_len[k], f) != orig_len[k] || fclose(f))
			ok(0, "cannot write %s", paths[k]);
		got = lookup_all(&n);
		wrong = mismatches(want, got, paths[k]);
		refused += wrong == 0;
		if (wrong)
			printf("# round %d: %s, %s %zu bytes at %zu: accepted, %zu wrong "
			       "answers\n", i, k ? "symbol table" : "line table",
			       how == 0 ? "zeroed" : how == 1 ? "random" : "bit flip", span, off,
			       wrong);
		now = slurp(paths[k], &now_len);
		rebuilt += now && now_len == orig_len[k] && !memcmp(now, orig[k], now_len);
		free(now);
		f = fopen(paths[k], "wb"); /* each round starts from the good file */
		if (!f || fwrite(orig[k], 1, orig_len[k], f) != orig_len[k] || fclose(f))
			ok(0, "cannot restore %s", paths[k]);
		free(bad);
		answers_free(got);
	}
	is_int(refused, rounds, "random damage: %d of %d damaged files refused", refused, rounds);
	is_int(rebuilt, rounds, "random damage: %d of %d rebuilt as before", rebuilt, rounds);
	free(orig[0]);
	free(orig[1]);
}

/*
 * The check's stamp: a file that passed its check once carries user.ftscope.checked and is
 * not hashed again; a file changed after that (here: one byte, size kept, a later mtime) is
 * checked again and refused, and a stamp that does not describe the file is no pass.
 */
static void stamp_checks(const char *path, const struct answer *want)
{
	unsigned char stamp[64], again[64];
	ssize_t len, len2;
	struct answer *got;
	struct timespec ts[2];
	struct stat st;
	size_t n;
	FILE *f;
	int c;

	got = lookup_all(&n); /* loads the good file: checked, stamped */
	answers_free(got);
	len = getxattr(path, "user.ftscope.checked", stamp, sizeof(stamp));
	if (len < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP)) {
		ok(1, "# SKIP the file system of %s has no user xattrs", path);
		return;
	}
	ok(len > 0, "a file that passed its check carries the stamp (%zd bytes)", len);
	/* a stamp naming another file is no pass: the file is checked, and stamped right */
	ok(setxattr(path, "user.ftscope.checked", "not a stamp", 11, 0) == 0, "stamp replaced");
	got = lookup_all(&n);
	is_int(mismatches(want, got, "restamped"), 0, "a wrong stamp: the file is checked again");
	answers_free(got);
	len2 = getxattr(path, "user.ftscope.checked", again, sizeof(again));
	ok(len2 == len && !memcmp(stamp, again, (size_t)len), "and stamped again, as before");
	/* one byte changed after the stamp, size kept: checked again, refused, rebuilt */
	ok(stat(path, &st) == 0, "stat the stamped file");
	f = fopen(path, "r+b");
	c = f && fseek(f, 4096, SEEK_SET) == 0 ? fgetc(f) : EOF;
	ok(c != EOF && fseek(f, 4096, SEEK_SET) == 0 && fputc(c ^ 0x5a, f) != EOF && fclose(f) == 0,
	   "flip a byte of the stamped file in place");
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	ts[1].tv_sec += 1; /* a later mtime, whatever the clock's granularity */
	ok(utimensat(AT_FDCWD, path, ts, 0) == 0, "(its mtime later)");
	got = lookup_all(&n);
	is_int(mismatches(want, got, "changed after the stamp"), 0,
	       "changed after its stamp: checked again and refused");
	answers_free(got);
	f = fopen(path, "rb");
	ok(f && fseek(f, 4096, SEEK_SET) == 0 && fgetc(f) == c, "and rebuilt");
	if (f)
		fclose(f);
}

/* Root reads only files root owns, that nobody else can write, and no symlink. */
static void untrusted_files(const char *dir, const char *syms, const struct answer *want)
{
	struct answer *got;
	struct stat st;
	size_t n;
	char *link = xasprintf("%s.elsewhere", syms);

	if (geteuid() != 0) {
		ok(1, "# SKIP ownership checks need root");
		free(link);
		return;
	}
	if (stat(dir, &st))
		st.st_mode = 0;
	ok((st.st_mode & 0777) == 0700, "root's cache dir is 0700 (%o)", st.st_mode & 0777);
	if (stat(syms, &st))
		st.st_mode = 0;
	ok(st.st_uid == 0 && (st.st_mode & 0777) == 0600, "root's cache file is 0600 (%o)",
	   st.st_mode & 0777);
	ok(chown(syms, 65534, 65534) == 0, "hand the symbol table to nobody");
	got = lookup_all(&n);
	is_int(mismatches(want, got, "nobody's"), 0, "a file root does not own: answers right");
	answers_free(got);
	ok(stat(syms, &st) == 0 && st.st_uid == 0, "and it was replaced by root's own");
	answers_free(lookup_all(&n));

	ok(rename(syms, link) == 0 && symlink(link, syms) == 0, "symbol table made a symlink");
	got = lookup_all(&n);
	is_int(mismatches(want, got, "symlink"), 0, "a symlink: answers right");
	answers_free(got);
	ok(lstat(syms, &st) == 0 && S_ISREG(st.st_mode), "and replaced by a regular file");
	unlink(link);
	free(link);
}

/* libpython of FT_PYTHON (a -g build: DWARF in the library, not compressed), or NULL. */
static char *find_libpython(void)
{
	const char *py = getenv("FT_PYTHON");
	char *dir, *slash, *path;
	if (!py || !*py)
		return NULL;
	dir = xstrdup(py);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	path = xasprintf("%s/../lib/libpython3.13t.so.1.0", dir);
	free(dir);
	if (access(path, R_OK)) {
		free(path);
		return NULL;
	}
	return path;
}

/* Lines without a saved table (units of the pcs) against the saved whole table, for the
 * module under test; and the SYMCACHE_SAVE_LATER flow. */
static void lazy_against_table(const char *what, const char *dir)
{
	struct answer *lazy, *table, *loaded;
	size_t n_lazy, n_table, n_loaded;
	char cmd[256];

	symbolizer_set_cache_dir(NULL);
	lazy = lookup_all(&n_lazy);
	ok(n_lazy > npcs / 2, "%s: no cache: %zu of %zu pcs have a line (units of the pcs)", what,
	   n_lazy, npcs);
	ok(n_inlined > 0, "%s: no cache: %zu pcs in inlined functions (units of the pcs)", what,
	   n_inlined);
	rm_rf(dir);
	symbolizer_set_cache_dir(dir);
	symbolizer_set_cache_mode(SYMCACHE_SAVE_LATER);
	table = lookup_all(&n_table);
	is_int(mismatches(lazy, table, what), 0, "%s: save later: the same answers", what);
	ok(symbolizer_cache_pending() >= 1, "%s: save later: the module is pending", what);
	snprintf(cmd, sizeof(cmd), "test -z \"$(find %s -name '*.lines' 2>/dev/null)\"", dir);
	ok(system(cmd) == 0, "%s: save later: nothing saved yet", what);
	ok(symbolizer_cache_save_pending() >= 1 && !symbolizer_cache_pending(),
	   "%s: pending tables saved", what);
	symbolizer_set_cache_mode(SYMCACHE_SAVE_NOW);
	answers_free(table);
	loaded = lookup_all(&n_loaded);
	is_int(mismatches(lazy, loaded, what), 0,
	       "%s: the saved whole table answers as the units did, pc for pc", what);
	is_int(n_loaded, n_lazy, "%s: as many lines", what);
	answers_free(lazy);
	answers_free(loaded);
	symbolizer_set_cache_dir(NULL);
	rm_rf(dir);
}

/* A file's first compressed section: its ch_size's file offset in *chsize_off, its
 * compressed length in *packed. 0, or -1 if it has none. */
static int first_compressed(const char *path, uint64_t *chsize_off, uint64_t *packed)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), found = -1;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while (elf && (scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_COMPRESSED)) {
			*chsize_off = sh.sh_offset + offsetof(Elf64_Chdr, ch_size);
			*packed = sh.sh_size;
			found = 0;
			break;
		}
	elf_end(elf);
	close(fd);
	return found;
}

static int check_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);

	ret = elf_inflate_check(elf, path);
	elf_end(elf);
	close(fd);
	return ret;
}

/* The zlib-bomb cap: libc6-dbg's file passes; with a cap below its sizes, or a copy whose
 * header declares more than deflate can give, its DWARF is not read on either path (the lazy
 * index and libdw's), and libc's lines are gone, not read at any cost. */
static void inflate_cap_checks(const char *debug_path)
{
	char dir[] = "/tmp/ftscope-test-bomb.XXXXXX";
	char *copy = mkdtemp(dir) ? xasprintf("%s/bomb.debug", dir) : xstrdup("/nonexistent"), *cmd;
	uint64_t off = 0, packed = 0, lie;
	const char *file;
	struct elf_file *ef;
	int line, fd;

	symbolizer_set_cache_dir(NULL); /* no saved table: the DWARF itself */
	is_int(check_file(debug_path), 0, "libc6-dbg's compressed sections are within the cap");
	ef = elf_file_open(open(LIBC, O_RDONLY | O_CLOEXEC), LIBC, 0);
	is_int(elf_file_srcline(ef, pcs[0], &file, &line), 0, "libc's first pc has a line");
	elf_file_put(ef);

	elf_inflate_set_max(1 << 20);
	ft_verbose = getenv("TEST_VERBOSE") ? 2 : 0;
	is_int(check_file(debug_path), -EFBIG, "a 1 MiB cap refuses it");
	ef = elf_file_open(open(LIBC, O_RDONLY | O_CLOEXEC), LIBC, 0);
	is_int(elf_file_srcline(ef, pcs[0], &file, &line), -ENOENT,
	       "refused: no line for libc, from neither the lazy index nor libdw");
	elf_file_put(ef);
	elf_inflate_set_max(0);

	cmd = xasprintf("cp '%s' '%s'", debug_path, copy);
	ok(!system(cmd), "a copy of libc's debug file");
	free(cmd);
	if (first_compressed(copy, &off, &packed)) {
		ok(0, "the copy has no compressed section");
	} else {
		lie = packed * 2000; /* past deflate's 1032:1, below the 4 GiB cap */
		fd = open(copy, O_WRONLY | O_CLOEXEC);
		ok(fd >= 0 && pwrite(fd, &lie, sizeof(lie), (off_t)off) == sizeof(lie),
		   "its first compressed section now declares %llu bytes from %llu",
		   (unsigned long long)lie, (unsigned long long)packed);
		close(fd);
		is_int(check_file(copy), -EFBIG, "more than deflate can give: refused");
		ok(!lazy_lines_open(open(copy, O_RDONLY | O_CLOEXEC), copy),
		   "and the lazy line index does not open it");
	}
	unlink(copy);
	rmdir(dir);
	free(copy);
}

/* A module whose .gnu_debuglink names a FIFO next to it (a venv the test user writes): root
 * must not open it (open() of a FIFO blocks until a writer comes). Run in a child with an
 * alarm, so that a regression fails instead of hanging. */
static void debuglink_fifo_check(void)
{
	char dir[] = "/tmp/ftscope-test-fifo.XXXXXX", *cmd, *mod;
	pid_t pid;
	int st = 0;

	if (!mkdtemp(dir) || system("command -v objcopy >/dev/null 2>&1")) {
		ok(1, "# SKIP no objcopy or temporary directory");
		return;
	}
	mod = xasprintf("%s/mod.so", dir);
	cmd = xasprintf("cp %s '%s/mod.debug' && cp %s '%s' && "
			"objcopy --remove-section=.gnu_debuglink --remove-section=.note.gnu.build-id '%s' && "
			"objcopy --add-gnu-debuglink='%s/mod.debug' '%s' && rm '%s/mod.debug' && "
			"mkfifo '%s/mod.debug'", LIBC, dir, LIBC, mod, mod, dir, mod, dir, dir);
	if (system(cmd)) {
		ok(0, "could not make the module with a FIFO as its debug file");
	} else if ((pid = fork()) == 0) {
		struct elf_file *ef;
		alarm(20);
		ef = elf_file_open(open(mod, O_RDONLY | O_CLOEXEC), mod, 0);
		_exit(ef && !elf_file_debug_path(ef) ? 0 : 3);
	} else {
		waitpid(pid, &st, 0);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		   "a FIFO named by a module's debuglink is not opened (no hang, no debug file)");
	}
	free(cmd);
	cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd))
		ok(0, "cleanup");
	free(cmd);
	free(mod);
}

int main(void)
{
	char dir[] = "/tmp/ftscope-test-diskcache.XXXXXX";
	struct answer *parsed, *built, *loaded, *nodebug, *nodebug2;
	struct elf_file *ef;
	char *bid, *lines, *syms, *debug_path;
	size_t n_parsed, n_built, n_loaded, n_nodebug, nd_syms = 0, d_syms = 0;
	off_t lines_size, syms_size;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ef = elf_file_open(open(LIBC, O_RDONLY | O_CLOEXEC), LIBC, 0);
	if (!ef || !elf_file_build_id(ef) || !elf_file_debug_path(ef)) {
		printf("1..0 # SKIP %s has no DWARF here (install libc6-dbg)\n", LIBC);
		elf_file_put(ef);
		return 0;
	}
	bid = xstrdup(elf_file_build_id(ef));
	debug_path = xstrdup(elf_file_debug_path(ef));
	/* what the line preparation takes for the C library (not waited on) */
	ok(elf_file_soname_is(ef, "libc.so"), "libc's DT_SONAME starts with libc.so");
	ok(!elf_file_soname_is(ef, "libm.so"), "and not with libm.so");
	elf_file_put(ef); /* files are shared while referenced: every lookup_all starts afresh */
	if (!mkdtemp(dir))
		return printf("Bail out! mkdtemp\n"), 1;
	lines = xasprintf("%s/%.2s/%s.lines", dir, bid, bid + 2);
	syms = xasprintf("%s/%.2s/%s.syms", dir, bid, bid + 2);
	collect_pcs();
	ok(npcs > 1000, "%zu pcs from libc's exported functions", npcs);
	ok(1, "libc's debug file: %s", debug_path);

	symbolizer_set_cache_dir(NULL);
	parsed = lookup_all(&n_parsed);
	ok(n_parsed > npcs / 2, "no cache: %zu of %zu pcs have a line", n_parsed, npcs);
	ok(file_size(lines) < 0 && file_size(syms) < 0, "no cache dir: nothing saved");

	symbolizer_set_cache_dir(dir);
	is_str(symbolizer_cache_dir(), dir, "cache dir set");
	built = lookup_all(&n_built);
	lines_size = file_size(lines);
	syms_size = file_size(syms);
	ok(lines_size > 100000, "line table saved at first use (%lld bytes)", (long long)lines_size);
	ok(syms_size > 100000, "symbol table saved at first use (%lld bytes)", (long long)syms_size);
	{
		char *inl = xasprintf("%s/%.2s/%s.inlines", dir, bid, bid + 2);
		ok(file_size(inl) > 10000, "inline table saved at first use (%lld bytes)",
		   (long long)file_size(inl));
		free(inl);
	}
	is_int(mismatches(parsed, built, "built"), 0, "first use: same symbols and lines");
	is_int(n_built, n_parsed, "first use: as many lines");

	loaded = lookup_all(&n_loaded);
	is_int(mismatches(parsed, loaded, "loaded"), 0, "from disk: same symbols and lines");
	is_int(file_size(lines), lines_size, "loading leaves the line table alone");
	is_int(file_size(syms), syms_size, "loading leaves the symbol table alone");

	corrupt_and_recover(lines, "line table", 40, bid, parsed);
	corrupt_and_recover(syms, "symbol table", 72, bid, parsed);
	random_corruptions(lines, syms, parsed, 100);
	stamp_checks(lines, parsed);
	untrusted_files(dir, syms, parsed);

	/* without debug files libc has only .dynsym: the saved table must not be used */
	symbolizer_set_cache_dir(NULL);
	nodebug = lookup_flags(&n_nodebug, SYMBOLIZER_NO_DEBUGINFO);
	symbolizer_set_cache_dir(dir);
	nodebug2 = lookup_flags(&n_nodebug, SYMBOLIZER_NO_DEBUGINFO);
	for (size_t i = 0; i < npcs; i++) {
		nd_syms += nodebug2[i].sym != NULL;
		d_syms += parsed[i].sym != NULL;
	}
	is_int(mismatches(nodebug, nodebug2, "no debug files"), 0,
	       "ignoring debug files: the table saved with them is not used");
	ok(nd_syms <= d_syms, "(%zu pcs named without debug files, %zu with)", nd_syms, d_syms);
	is_int(header_u32(syms, 16), SYMBOLIZER_NO_DEBUGINFO,
	       "the table saved with debug files was replaced by one without");
	answers_free(nodebug);
	answers_free(nodebug2);
	loaded = (answers_free(loaded), lookup_all(&n_loaded));
	is_int(mismatches(parsed, loaded, "after no-debug"), 0,
	       "back to the default: same symbols and lines as parsed");
	is_int(header_u32(syms, 16), 0, "and the saved table is the one with debug files again");

	answers_free(parsed);
	answers_free(built);
	answers_free(loaded);
	symbolizer_set_cache_dir(NULL);

	lazy_against_table("libc", dir);
	lazy_lines_force_scan(true);
	lazy_against_table("libc, units by the scan of .debug_line", dir);
	lazy_lines_force_scan(false);
	inflate_cap_checks(debug_path);
	debuglink_fifo_check();
	{
		char *libpython = find_libpython();
		if (libpython) {
			free(pcs);
			pcs = NULL;
			npcs = 0;
			module = libpython;
			collect_pcs();
			ok(npcs > 1000, "%zu pcs from %s's exported functions", npcs, libpython);
			lazy_against_table("libpython", dir);
			module = LIBC;
			free(libpython);
		} else {
			ok(1, "# SKIP FT_PYTHON not set: no libpython to check");
		}
	}
	free(bid);
	free(lines);
	free(syms);
	free(debug_path);
	free(pcs);
	rm_rf(dir);
	return tap_done();
}
