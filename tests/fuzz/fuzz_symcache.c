/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * libFuzzer target: the symbolizer's cache files past their checksum (a file whose
 * checksum matches can still be from another version, or written by a bug): the bytes are
 * saved with a valid trailer (diskcache_save) and loaded back by their loaders.
 *   - first byte even: a line table (line_table_load, linecache.c) under a fixed build-id,
 *     the header's build-id overlaid so the loader gets past it, then looked up; and the
 *     same bytes as an inline table (inline_table_load, inlines.c), likewise;
 *   - odd: the symbol table of /bin/true (elfsyms.c symtab_load through elf_file_open),
 *     its header's identity taken from the table saved for the real file, the fuzzer
 *     giving nsyms, names_len and everything after the header; then symbolized.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/symbolizer/internal.h"
#include "ftscope/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ELF "/bin/true"
#define LT_BID "00112233445566778899aabbccddeeff00112233"
#define LT_BID_OFF 40
#define IT_BID_OFF 32
#define SYMS_COUNTS_OFF 24 /* nsyms, names_len */

static char dir[] = "/tmp/ftscope-fuzz-symcache.XXXXXX";
static char *syms_bid;
static unsigned char *syms_hdr;
static size_t syms_hdr_len;

static void cleanup(void)
{
	rm_rf(dir);
}

static struct elf_file *open_elf(void)
{
	return elf_file_open(open(ELF, O_RDONLY | O_CLOEXEC), ELF, SYMBOLIZER_NO_DEBUGINFO);
}

/* The header of the table saved for ELF: its size follows from the counts it holds. Without
 * a build-id there (another distribution) only line tables are fuzzed. */
static void setup(void)
{
	struct elf_file *ef;
	const unsigned char *m;
	uint64_t nsyms, names_len;
	uint32_t sym_size;
	size_t len;

	if (!mkdtemp(dir))
		abort();
	atexit(cleanup);
	symbolizer_set_cache_dir(dir);
	ef = open_elf();
	if (!ef || !elf_file_build_id(ef)) {
		elf_file_put(ef);
		return;
	}
	syms_bid = xstrdup(elf_file_build_id(ef));
	elf_file_put(ef);
	m = diskcache_map(syms_bid, "syms", &len);
	if (!m)
		return;
	memcpy(&sym_size, m + 12, 4);
	memcpy(&nsyms, m + SYMS_COUNTS_OFF, 8);
	memcpy(&names_len, m + SYMS_COUNTS_OFF + 8, 8);
	syms_hdr_len = len - nsyms * (sym_size + 8) - names_len;
	syms_hdr = xmalloc(syms_hdr_len);
	memcpy(syms_hdr, m, syms_hdr_len);
	diskcache_unmap(m, len);
}

static void lines(const uint8_t *data, size_t size)
{
	unsigned char *buf = xmalloc(size + 1);
	struct line_table *lt;
	const char *file;
	int line;

	memcpy(buf, data, size);
	if (size >= LT_BID_OFF + 130) {
		memset(buf + LT_BID_OFF, 0, 130);
		memcpy(buf + LT_BID_OFF, LT_BID, strlen(LT_BID));
	}
	diskcache_save(LT_BID, "lines", buf, size);
	free(buf);
	lt = line_table_load(LT_BID);
	if (!lt)
		return;
	for (uint64_t a = 0; a < 1u << 16; a += 257)
		if (line_table_lookup(lt, a, &file, &line) && strlen(file) > (1u << 30))
			abort();
	for (size_t i = 0; i + 8 <= size && i < 512; i += 8) {
		uint64_t v;
		memcpy(&v, data + i, 8);
		line_table_lookup(lt, v, &file, &line);
	}
	line_table_free(lt);
}

static void inlines(const uint8_t *data, size_t size)
{
	unsigned char *buf = xmalloc(size + 1);
	struct inline_hit hits[INLINE_MAX];
	struct inline_table *it;

	memcpy(buf, data, size);
	if (size >= IT_BID_OFF + 130) {
		memset(buf + IT_BID_OFF, 0, 130);
		memcpy(buf + IT_BID_OFF, LT_BID, strlen(LT_BID));
	}
	diskcache_save(LT_BID, "inlines", buf, size);
	free(buf);
	it = inline_table_load(LT_BID);
	if (!it)
		return;
	for (uint64_t a = 0; a < 1u << 16; a += 257) {
		size_t k = inline_table_lookup(it, a, hits, INLINE_MAX);
		for (size_t i = 0; i < k; i++)
			if (strlen(hits[i].name) > (1u << 30) ||
			    (hits[i].call_file && strlen(hits[i].call_file) > (1u << 30)))
				abort();
	}
	for (size_t i = 0; i + 8 <= size && i < 512; i += 8) {
		uint64_t v;
		memcpy(&v, data + i, 8);
		inline_table_lookup(it, v, hits, INLINE_MAX);
	}
	inline_table_free(it);
}

static void syms(const uint8_t *data, size_t size)
{
	size_t n = size < 16 ? size : 16;
	unsigned char *buf = xmalloc(syms_hdr_len + size);
	struct elf_sym_hit hit;
	struct elf_file *ef;
	uint64_t v;

	memcpy(buf, syms_hdr, syms_hdr_len);
	memcpy(buf + SYMS_COUNTS_OFF, data, n);
	memcpy(buf + syms_hdr_len, data + n, size - n);
	diskcache_save(syms_bid, "syms", buf, syms_hdr_len + size - n);
	free(buf);
	ef = open_elf();
	if (!ef)
		abort();
	for (uint64_t a = 0; a < 1u << 16; a += 127)
		if (elf_file_symbolize(ef, a, &hit) && strlen(hit.name) > (1u << 30))
			abort();
	for (size_t i = 0; i + 8 <= size && i < 512; i += 8) {
		memcpy(&v, data + i, 8);
		elf_file_symbolize(ef, v, &hit);
	}
	elf_file_symbol_by_name(ef, "main", &v);
	elf_file_put(ef);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1 << 20))
		return 0;
	static bool ready;
	if (!ready) {
		setup();
		ready = true;
	}
	if ((data[0] & 1) && syms_hdr)
		syms(data + 1, size - 1);
	else {
		lines(data + 1, size - 1);
		inlines(data + 1, size - 1);
	}
	return 0;
}
