/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * libFuzzer target: a hostile extension module. A test's package builds and loads its own
 * .so files, and a snapshot of its process symbolizes them: the bytes are handed to the
 * ELF reader as a file (a memfd; elf_file_open: program and section headers, build-id,
 * .gnu_debuglink, .dynsym/.symtab), then addresses are symbolized (elf_file_symbolize),
 * a symbol is looked up by name, and DWARF lines are read (elf_file_srcline: libdw, then
 * the line table flattened and saved by linecache.c into a private cache directory, and
 * loaded back by the next open).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/symbolizer/internal.h"
#include "ftscope/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/ftscope-fuzz-elf.XXXXXX";
static bool ready;

static void cleanup(void)
{
	rm_rf(dir);
}

static void probe(const uint8_t *data, size_t size, unsigned flags)
{
	struct elf_file *ef;
	const struct elf_load *loads;
	struct elf_sym_hit hit;
	const char *file;
	uint64_t v;
	size_t n = 0;
	int line, fd = memfd_create("fuzz.so", MFD_CLOEXEC);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	ef = elf_file_open(fd, "/nonexistent/fuzz.cpython-313t-x86_64-linux-gnu.so", flags);
	if (!ef)
		return;
	loads = elf_file_loads(ef, &n);
	(void)elf_file_build_id(ef);
	for (size_t i = 0; i < n && i < 8; i++)
		for (uint64_t off = 0; off < 4096 && off <= loads[i].memsz; off += 61)
			if (elf_file_symbolize(ef, loads[i].vaddr + off, &hit) &&
			    strlen(hit.name) > (1u << 30))
				abort();
	for (size_t i = 0; i + 8 <= size && i < 256; i += 8) {
		memcpy(&v, data + i, 8);
		elf_file_symbolize(ef, v, &hit);
		if (elf_file_srcline(ef, v, &file, &line) == 0 && !file)
			abort();
	}
	for (size_t i = 0; i < n && i < 8; i++)
		elf_file_srcline(ef, loads[i].vaddr + 16, &file, &line);
	elf_file_symbol_by_name(ef, "PyInit_fuzz", &v);
	elf_file_put(ef);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1 << 20))
		return 0;
	if (!ready) {
		if (!mkdtemp(dir))
			abort();
		atexit(cleanup);
		ready = true;
	}
	symbolizer_set_cache_dir(dir);
	probe(data, size, 0); /* parses, saves its tables */
	probe(data, size, 0); /* another file: the saved tables are loaded back */
	symbolizer_set_cache_dir(NULL);
	probe(data, size, SYMBOLIZER_NO_DEBUGINFO);
	rm_rf(dir);
	mkdir_p(dir, 0700);
	return 0;
}
