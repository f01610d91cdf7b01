/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The per-process symbolizer: a sorted copy of /proc/PID/maps, the ELF file and load bias
 * of each mapping (resolved on first use), address -> frame lookups, memory reads.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ftscope/error.h"
#include "ftscope/util.h"
#include "internal.h"

#define PAGE_MASK_4K (~(uint64_t)4095)

static void map_entry_release(struct map_entry *m)
{
	free(m->path);
	elf_file_put(m->elf);
}

void maps_free(struct map_entry *maps, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		map_entry_release(&maps[i]);
	free(maps);
}

static int map_cmp(const void *a, const void *b)
{
	const struct map_entry *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/* A hex or decimal number ending at sep; 0 or -1. */
static int parse_num(char **p, int base, char sep, unsigned long long *v)
{
	char *end;
	errno = 0;
	*v = strtoull(*p, &end, base);
	if (end == *p || errno || *end != sep)
		return -1;
	*p = end + 1;
	return 0;
}

/* "start-end perms offset major:minor inode   path" (path may hold spaces). By hand:
 * sscanf was most of reading the maps of a process with a few hundred mappings. */
static int parse_maps_line(char *line, struct map_entry *m)
{
	unsigned long long start, end, offset, inode, major, minor;
	char *p = line, *path;
	size_t len;

	memset(m, 0, sizeof(*m));
	if (parse_num(&p, 16, '-', &start) || parse_num(&p, 16, ' ', &end) || end <= start)
		return -EINVAL;
	if (strlen(p) < 5 || p[4] != ' ')
		return -EINVAL;
	memcpy(m->perms, p, 4);
	m->perms[4] = '\0';
	p += 5;
	if (parse_num(&p, 16, ' ', &offset) || parse_num(&p, 16, ':', &major) ||
	    parse_num(&p, 16, ' ', &minor))
		return -EINVAL;
	inode = strtoull(p, &path, 10);
	if (path == p || (*path != ' ' && *path != '\0'))
		return -EINVAL;
	m->start = start;
	m->end = end;
	m->offset = offset;
	m->dev_major = (unsigned)major;
	m->dev_minor = (unsigned)minor;
	m->inode = inode;
	while (*path == ' ')
		path++;
	len = strlen(path);
	if (!len)
		return 0;
	if (len > 10 && !strcmp(path + len - 10, " (deleted)")) {
		m->deleted = true;
		len -= 10;
	}
	m->path = xstrndup(path, len);
	m->base = strrchr(m->path, '/');
	m->base = m->base ? m->base + 1 : m->path;
	return 0;
}

static bool same_mapping(const struct map_entry *a, const struct map_entry *b)
{
	return a->start == b->start && a->end == b->end && a->offset == b->offset &&
	       a->inode == b->inode && a->dev_major == b->dev_major &&
	       a->dev_minor == b->dev_minor && !strcmp(a->perms, b->perms) &&
	       ((!a->path && !b->path) || (a->path && b->path && !strcmp(a->path, b->path)));
}

int maps_load(struct symbolizer *s)
{
	char path[64], *buf = NULL, *line, *save = NULL;
	struct map_entry *maps = NULL;
	size_t n = 0, cap = 0, i, j;
	int ret = -1;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)s->pid);
	ret = read_file(path, &buf, NULL);
	if (ret < 0)
		goto out;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (n == cap) {
			cap = cap ? 2 * cap : 128;
			maps = xrealloc(maps, cap * sizeof(*maps));
		}
		if (!parse_maps_line(line, &maps[n]))
			n++;
	}
	if (!n) {
		ret = -ESRCH; /* a zombie or a kernel thread has no mappings */
		goto out;
	}
	qsort(maps, n, sizeof(*maps), map_cmp);

	/* Keep what was resolved for mappings that did not change (both lists are sorted). */
	for (i = 0, j = 0; i < n && j < s->nmaps;) {
		struct map_entry *nm = &maps[i], *om = &s->maps[j];
		if (om->start < nm->start) {
			j++;
		} else if (nm->start < om->start) {
			i++;
		} else {
			if (same_mapping(nm, om) && om->elf_tried) {
				nm->elf_tried = true;
				nm->elf = om->elf;
				nm->bias = om->bias;
				nm->bias_ok = om->bias_ok;
				om->elf = NULL;
			}
			i++;
			j++;
		}
	}
	maps_free(s->maps, s->nmaps);
	s->maps = maps;
	s->nmaps = n;
	maps = NULL;
	n = 0;
	s->maps_gen++;
	ret = 0;
out:
	if (maps)
		maps_free(maps, n);
	free(buf);
	return ret;
}

struct map_entry *maps_find(struct symbolizer *s, uint64_t addr)
{
	size_t lo = 0, hi = s->nmaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct map_entry *m = &s->maps[mid];
		if (addr < m->start)
			hi = mid;
		else if (addr >= m->end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

/*
 * Open the file behind a mapping, making sure it is the mapped one (same inode): the
 * path may have been replaced (reinstall, upgrade) or live in another mount namespace.
 * map_files/ (root) names exactly the mapped file, even a deleted one.
 */
static int open_mapping(struct symbolizer *s, const struct map_entry *m)
{
	char alt[PATH_MAX];
	struct stat st;
	int fd;

	if (!m->deleted) {
		fd = open(m->path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (!fstat(fd, &st) && st.st_ino == m->inode)
				return fd;
			close(fd);
		}
	}
	snprintf(alt, sizeof(alt), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)s->pid,
		 m->start, m->end);
	fd = open(alt, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	/* map_files/ wants CAP_SYS_ADMIN; the main executable is also reachable as exe. */
	snprintf(alt, sizeof(alt), "/proc/%d/exe", (int)s->pid);
	fd = open(alt, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (!fstat(fd, &st) && st.st_ino == m->inode)
			return fd;
		close(fd);
	}
	if (!m->deleted && (size_t)snprintf(alt, sizeof(alt), "/proc/%d/root%s", (int)s->pid,
					    m->path) < sizeof(alt)) {
		fd = open(alt, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (!fstat(fd, &st) && st.st_ino == m->inode)
				return fd;
			close(fd);
		}
	}
	debug("symbolizer: cannot open the file mapped at %" PRIx64 " ('%s')", m->start, m->path);
	return -1;
}

/*
 * bias = map_start - map_offset + p_offset - p_vaddr of the PT_LOAD whose file range
 * holds the mapping's offset (mprotect may split one segment into several mappings).
 */
static bool bias_from_loads(const struct map_entry *m, const struct elf_file *ef, uint64_t *bias)
{
	const struct elf_load *loads, *best = NULL;
	size_t n, i;

	loads = elf_file_loads(ef, &n);
	for (i = 0; i < n; i++) {
		const struct elf_load *l = &loads[i];
		uint64_t lo = l->offset & PAGE_MASK_4K;
		uint64_t hi = l->offset + (l->filesz ? l->filesz : 1);

		if (m->offset < lo || m->offset >= hi)
			continue;
		/* two segments can share a page: prefer the one the permissions agree with */
		if (!best || (!!(l->flags & PF_X) == (m->perms[2] == 'x')))
			best = l;
	}
	if (!best)
		return false;
	*bias = m->start - m->offset + best->offset - best->vaddr;
	return true;
}

static void resolve_bias(struct symbolizer *s, struct map_entry *m)
{
	size_t i;

	if (bias_from_loads(m, m->elf, &m->bias)) {
		m->bias_ok = true;
		return;
	}
	/* A mapping outside every PT_LOAD (data mapped by hand): use the file's first one. */
	for (i = 0; i < s->nmaps; i++) {
		struct map_entry *o = &s->maps[i];
		if (o != m && o->offset == 0 && o->inode == m->inode && o->path && m->path &&
		    !strcmp(o->path, m->path) && bias_from_loads(o, m->elf, &m->bias)) {
			m->bias_ok = true;
			return;
		}
	}
}

struct elf_file *maps_elf(struct symbolizer *s, struct map_entry *m)
{
	size_t i;

	if (m->elf_tried)
		return m->bias_ok ? m->elf : NULL;
	m->elf_tried = true;
	if (!m->path)
		return NULL;

	/* Another mapping of the same file already did the work. */
	for (i = 0; i < s->nmaps; i++) {
		struct map_entry *o = &s->maps[i];
		if (o != m && o->elf && o->inode == m->inode && o->dev_major == m->dev_major &&
		    o->dev_minor == m->dev_minor && !strcmp(o->path, m->path)) {
			m->elf = elf_file_get(o->elf);
			break;
		}
	}
	if (!m->elf && !strcmp(m->path, "[vdso]")) {
		size_t len = m->end - m->start;
		void *buf = len <= (1u << 20) ? xmalloc(len) : NULL;
		if (buf && !symbolizer_read_mem(s, m->start, buf, len))
			m->elf = elf_file_from_memory("[vdso]", buf, len, s->flags);
		free(buf);
	} else if (!m->elf && m->path[0] == '/' && m->inode) {
		m->elf = elf_file_open(open_mapping(s, m), m->path, s->flags);
	}
	if (m->elf)
		resolve_bias(s, m);
	return m->bias_ok ? m->elf : NULL;
}

struct elf_file *maps_file_elf(struct symbolizer *s, struct map_entry *f, uint64_t *bias)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < s->nmaps; i++) {
			struct map_entry *m = &s->maps[i];
			struct elf_file *ef;

			if (!m->path || !f->path || m->inode != f->inode || strcmp(m->path, f->path) ||
			    (pass == 0 && m->perms[2] != 'x'))
				continue;
			ef = maps_elf(s, m);
			if (ef) {
				*bias = m->bias;
				return ef;
			}
		}
	}
	return NULL;
}

pid_t symbolizer_pid(const struct symbolizer *s)
{
	return s->pid;
}

int symbolizer_refresh_maps(struct symbolizer *s)
{
	int ret = maps_load(s);
	if (ret < 0)
		return ret;
	s->miss_refreshed = false;
	return 0;
}

int symbolizer_lookup(struct symbolizer *s, uint64_t ip, bool is_return_address, struct frame *f)
{
	uint64_t pc = is_return_address && ip ? ip - 1 : ip;
	struct elf_sym_hit hit;
	struct map_entry *m;
	struct elf_file *ef;
	const char *file;
	int line;

	memset(f, 0, sizeof(*f));
	f->ip = ip;
	f->exact_ip = !is_return_address;
	m = maps_find(s, pc);
	if (!m && !s->miss_refreshed) {
		/* dlopen since the last read? Once only, or every bogus pc would re-read maps. */
		s->miss_refreshed = true;
		if (!maps_load(s))
			m = maps_find(s, pc);
	}
	if (!m)
		return -ENOENT;
	if (m->path) {
		f->module_path = xstrdup(m->path);
		f->module = xstrdup(m->base);
	}
	ef = maps_elf(s, m);
	if (!ef) {
		/* Unparsed file: the file offset is still stable across runs. */
		if (m->path && m->inode)
			f->module_offset = ip - m->start + m->offset;
		return 0;
	}
	f->module_offset = ip - m->bias;
	f->build_id = xstrdup(elf_file_build_id(ef));
	if (elf_file_syms_preparing(ef))
		symbolizer_prepare_go(); /* the lookup waits for that thread: full priority */
	if (elf_file_symbolize(ef, pc - m->bias, &hit)) {
		f->function = xstrdup(hit.name);
		f->func_offset = ip - (hit.start + m->bias);
		f->func_size = hit.size;
	}
	if (!(s->flags & SYMBOLIZER_NO_LINES) &&
	    !elf_file_srcline(ef, pc - m->bias, &file, &line)) {
		f->src_file = xstrdup(file);
		f->src_line = line;
	}
	return 0;
}

int symbolizer_lookup_line(struct symbolizer *s, struct frame *f)
{
	uint64_t pc = !f->exact_ip && f->ip ? f->ip - 1 : f->ip;
	struct map_entry *m = maps_find(s, pc);
	struct elf_file *ef = m ? maps_elf(s, m) : NULL;
	const char *file;
	int line;

	if (!ef || elf_file_srcline(ef, pc - m->bias, &file, &line))
		return -ENOENT;
	free(f->src_file);
	f->src_file = xstrdup(file);
	f->src_line = line;
	return 0;
}

int symbolizer_inline_frames(struct symbolizer *s, struct frame *f, struct frame **out, size_t *n)
{
	uint64_t pc = !f->exact_ip && f->ip ? f->ip - 1 : f->ip;
	struct map_entry *m = maps_find(s, pc);
	struct elf_file *ef = m ? maps_elf(s, m) : NULL;
	struct inline_hit hits[INLINE_MAX];
	size_t k;

	*out = NULL;
	*n = 0;
	if (!ef)
		return -ENOENT;
	k = f->src_file ? elf_file_inlines(ef, pc - m->bias, hits, INLINE_MAX) : 0;
	if (!k)
		return 0;
	*out = xcalloc(k, sizeof(**out));
	for (size_t i = 0; i < k; i++) {
		struct frame *c = &(*out)[i];
		c->ip = f->ip;
		c->sp = f->sp;
		c->module = xstrdup(f->module);
		c->module_path = xstrdup(f->module_path);
		c->module_offset = f->module_offset;
		c->build_id = xstrdup(f->build_id);
		c->function = xstrdup(hits[i].name);
		c->exact_ip = f->exact_ip;
		c->inlined = true;
		/* the innermost is where the pc is; each outer one, where the inner was inlined */
		if (!i) {
			c->src_file = f->src_file;
			c->src_line = f->src_line;
			f->src_file = NULL;
		} else if (hits[i - 1].call_file) {
			c->src_file = xstrdup(hits[i - 1].call_file);
			c->src_line = hits[i - 1].call_line;
		}
	}
	free(f->src_file);
	f->src_file = xstrdup(hits[k - 1].call_file);
	f->src_line = hits[k - 1].call_file ? hits[k - 1].call_line : 0;
	*n = k;
	return 0;
}

int symbolizer_find_symbol(struct symbolizer *s, const char *module_prefix, const char *name,
			   uint64_t *addr)
{
	char exe_link[64], exe[PATH_MAX];
	ssize_t len;
	size_t i, pass;
	uint64_t vaddr, bias;

	snprintf(exe_link, sizeof(exe_link), "/proc/%d/exe", (int)s->pid);
	len = readlink(exe_link, exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = '\0';
	if (len > 10 && !strcmp(exe + len - 10, " (deleted)"))
		exe[len - 10] = '\0';

	/* pass 0: the main executable, pass 1: everything else, in address order */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < s->nmaps; i++) {
			struct map_entry *m = &s->maps[i];
			struct elf_file *ef;
			bool is_exe = m->path && *exe && !strcmp(m->path, exe);

			if (!m->path || (pass == 0) != is_exe)
				continue;
			if (module_prefix && !starts_with(m->base, module_prefix))
				continue;
			/* one lookup per file: its first mapping */
			if (i > 0 && s->maps[i - 1].path && !strcmp(s->maps[i - 1].path, m->path) &&
			    s->maps[i - 1].inode == m->inode)
				continue;
			ef = maps_file_elf(s, m, &bias);
			if (ef && !elf_file_symbol_by_name(ef, name, &vaddr)) {
				*addr = vaddr + bias;
				return 0;
			}
		}
	}
	return -ENOENT;
}

void symbolizer_prepare_lines(struct symbolizer *s, const uint64_t *hints, size_t nhints)
{
	for (size_t i = 0; i < s->nmaps; i++) {
		struct map_entry *m = &s->maps[i];
		uint64_t h[16];
		size_t nh = 0;
		struct elf_file *ef;

		if (!m->path || m->perms[2] != 'x' || !(ef = maps_elf(s, m)))
			continue;
		for (size_t k = 0; k < nhints && nh < ARRAY_SIZE(h); k++)
			if (hints[k] >= m->start && hints[k] < m->end)
				h[nh++] = hints[k] - m->bias;
		elf_file_prepare_lines(ef, h, nh);
	}
	elf_file_prepare_start();
}

void symbolizer_prepare_pcs(struct symbolizer *s, const uint64_t *pcs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct map_entry *m = maps_find(s, pcs[i]);
		struct elf_file *ef = m ? maps_elf(s, m) : NULL;
		if (ef)
			elf_file_prepare_want_units(ef);
	}
	elf_file_prepare_decided();
}

void symbolizer_prepare_frames(struct symbolizer *s, const struct frame *frames, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct frame *f = &frames[i];
		uint64_t pc = !f->exact_ip && f->ip ? f->ip - 1 : f->ip; /* (as the lookups) */
		struct map_entry *m = f->is_python || !f->ip ? NULL : maps_find(s, pc);
		struct elf_file *ef = m ? maps_elf(s, m) : NULL;
		if (ef)
			elf_file_prepare_frame(ef, pc - m->bias);
	}
}

void symbolizer_prepare_frames_done(void)
{
	elf_file_prepare_frames_done();
}

uint64_t symbolizer_map_end(struct symbolizer *s, uint64_t addr)
{
	struct map_entry *m = maps_find(s, addr);
	return m ? m->end : 0;
}

int symbolizer_read_mem(struct symbolizer *s, uint64_t addr, void *buf, size_t len)
{
	char path[64];
	size_t done = 0;

	if (!len)
		return 0;
	if (!s->no_vm_readv) {
		struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
		ssize_t n = process_vm_readv(s->pid, &local, 1, &remote, 1, 0);
		if (n == (ssize_t)len)
			return 0;
		if (n >= 0)
			return -EFAULT;
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
		/* no CONFIG_CROSS_MEMORY_ATTACH, or seccomp: /proc/PID/mem works under ptrace */
		s->no_vm_readv = true;
	}
	if (s->mem_fd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)s->pid);
		s->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->mem_fd < 0)
			return -errno;
	}
	while (done < len) {
		ssize_t n = pread(s->mem_fd, (char *)buf + done, len - done, (off_t)(addr + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EFAULT;
		done += (size_t)n;
	}
	return 0;
}
