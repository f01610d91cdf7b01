/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Source lines of an ELF file (elfsyms.c holds the files and their symbols): the saved table
 * (linecache.c), else a lazy index of the few units asked for (dwlines.c), prepared on a
 * thread of its own while the caller holds the target, else libdw through a Dwfl holding
 * just the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>

#include "ftscope/error.h"
#include "ftscope/util.h"
#include "internal.h"
#include "elffile.h"

static int find_no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			     Dwarf_Addr base, const char *file_name, const char *debuglink_file,
			     GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	return -1;
}

/*
 * The separate debug file, for libdw: the one elfsyms.c found for the module (by build-id
 * under /usr/lib/debug, else its .gnu_debuglink next to it, in .debug/ or under
 * /usr/lib/debug, with a matching build-id), refused when it would inflate past the cap
 * (elf_inflate_check). Not dwfl_standard_find_debuginfo: it gives libdw the file it finds by
 * build-id before a callback could look at it. A dwz file (.gnu_debugaltlink) is looked for
 * by libdw's search, then checked the same way.
 */
static int find_debuginfo_checked(Dwfl_Module *mod, void **userdata, const char *modname,
				  Dwarf_Addr base, const char *file_name,
				  const char *debuglink_file, GElf_Word debuglink_crc,
				  char **debuginfo_file_name)
{
	struct elf_file *ef = userdata ? *userdata : NULL;
	bool alt = !ef || (debuglink_file && (!ef->debuglink || strcmp(debuglink_file, ef->debuglink)));
	const char *name;
	int fd, bad;
	Elf *elf;

	if (alt) {
		fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
						  debuglink_file, debuglink_crc, debuginfo_file_name);
	} else {
		if (!ef->debug_cand)
			return -1;
		fd = open(ef->debug_cand, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			*debuginfo_file_name = xstrdup(ef->debug_cand);
	}
	if (fd < 0)
		return -1;
	name = *debuginfo_file_name ? *debuginfo_file_name : modname;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	bad = elf_inflate_check(elf, name);
	elf_end(elf);
	if (!bad)
		return fd;
	close(fd);
	free(*debuginfo_file_name);
	*debuginfo_file_name = NULL;
	return -1;
}

static const Dwfl_Callbacks dwfl_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = find_debuginfo_checked,
	.section_address = dwfl_offline_section_address,
};

static const Dwfl_Callbacks dwfl_callbacks_nodebug = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = find_no_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* A Dwfl holding just this file at base 0, so dwfl addresses are the ELF's vaddrs; the
 * module, or NULL (and *dwflp NULL) when it has no DWARF. */
static Dwfl_Module *dwfl_report_file(struct elf_file *ef, Dwfl **dwflp, Dwarf_Addr *bias)
{
	const char *base = strrchr(ef->path, '/');
	Dwfl_Module *mod;
	Dwfl *dwfl;
	int fd;

	*dwflp = NULL;
	if (elf_inflate_check(ef->elf, ef->path))
		return NULL; /* its own DWARF would inflate past the cap */
	fd = dup(ef->fd);
	if (fd < 0)
		return NULL;
	dwfl = dwfl_begin((ef->flags & SYMBOLIZER_NO_DEBUGINFO) ? &dwfl_callbacks_nodebug
								 : &dwfl_callbacks);
	if (!dwfl) {
		close(fd);
		return NULL;
	}
	dwfl_report_begin(dwfl);
	mod = dwfl_report_elf(dwfl, base ? base + 1 : ef->path, ef->path, fd, 0, false);
	dwfl_report_end(dwfl, NULL, NULL);
	if (mod) {
		void **userdata = NULL;
		dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
		if (userdata)
			*userdata = ef; /* for find_debuginfo_checked */
	}
	if (!mod) {
		close(fd);
	} else if (!dwfl_module_getdwarf(mod, bias)) {
		/* No DWARF anywhere (stripped, no debug package): don't keep libdw's copy. */
		mod = NULL;
	}
	if (!mod) {
		debug("symbolizer: no DWARF for '%s': %s", ef->path, dwfl_errmsg(-1));
		dwfl_end(dwfl);
		return NULL;
	}
	*dwflp = dwfl;
	return mod;
}

static void dwfl_open(struct elf_file *ef)
{
	ef->dwfl_tried = true;
	ef->mod = dwfl_report_file(ef, &ef->dwfl, &ef->dwbias);
}

/* Whether ef's tables go to the disk cache (a build-id, its own debug files, a file). */
static bool cacheable(const struct elf_file *ef)
{
	return symbolizer_cache_dir() && ef->build_id && !(ef->flags & SYMBOLIZER_NO_DEBUGINFO) &&
	       !ef->image;
}

bool elf_file_lines_saved(const struct elf_file *ef)
{
	return cacheable(ef) && diskcache_has(ef->build_id, "lines");
}

/* The whole module's inline table from dw, kept by ef and saved. */
static void save_inline_table(struct elf_file *ef, Dwarf *dw, Dwarf_Addr bias)
{
	ef->inl_tried = true;
	ef->inl = inline_table_from_dwarf(dw, bias);
	inline_table_save(ef->inl, ef->build_id);
}

/* The same with a Dwfl of its own (the line table was saved before: old caches). */
static void build_inline_table(struct elf_file *ef)
{
	Dwarf_Addr bias = 0;
	Dwfl *dwfl;
	Dwfl_Module *mod = dwfl_report_file(ef, &dwfl, &bias);
	Dwarf *dw = mod ? dwfl_module_getdwarf(mod, &bias) : NULL;

	ef->inl_tried = true;
	if (dw)
		save_inline_table(ef, dw, bias);
	if (dwfl)
		dwfl_end(dwfl);
}

static void prep_join(void);

/* The inline table for vaddr in the DWARF of a lazy line index (bias 0); NULL if no unit
 * has it. */
static struct inline_table *lazy_unit_inlines(struct lazy_lines *ll, struct inline_units *u,
					      uint64_t vaddr)
{
	Dwarf *dw = lazy_lines_dwarf(ll);
	Dwarf_Die cudie;

	if (!dw || !dwarf_addrdie(dw, vaddr, &cudie))
		return NULL;
	return inline_units_at(u, &cudie, 0, vaddr);
}

static struct inline_table *unit_table_at(struct elf_file *ef, uint64_t vaddr);

#define LINE_MEMO 512 /* slots, direct-mapped by pc */
#define INL_MEMO 256

struct line_memo {
	uint64_t key; /* vaddr + 1; 0: empty */
	const char *file;
	int line;
};

struct inl_memo {
	uint64_t key;
	size_t n;
	struct inline_hit hits[INLINE_MAX];
};

static size_t memo_slot(uint64_t vaddr, size_t slots)
{
	return (size_t)((vaddr * 0x9e3779b97f4a7c15ull) >> 32) & (slots - 1);
}

size_t elf_file_inlines(struct elf_file *ef, uint64_t vaddr, struct inline_hit *hits, size_t max)
{
	struct inline_table *t;

	if (ef->image || ef->fd < 0)
		return 0;
	prep_join();
	if (!ef->inl_tried) {
		ef->inl_tried = true;
		if (cacheable(ef)) {
			ef->inl = inline_table_load(ef->build_id);
			if (!ef->inl && !diskcache_save_later())
				build_inline_table(ef);
			else if (!ef->inl)
				elf_file_note_pending(ef);
		}
	}
	if (ef->inl) {
		struct inl_memo *m;
		if (!ef->inl_memo)
			ef->inl_memo = xcalloc(INL_MEMO, sizeof(*ef->inl_memo));
		m = &ef->inl_memo[memo_slot(vaddr, INL_MEMO)];
		if (m->key != vaddr + 1) {
			m->key = vaddr + 1;
			m->n = inline_table_lookup(ef->inl, vaddr, m->hits, INLINE_MAX);
		}
		memcpy(hits, m->hits, (m->n < max ? m->n : max) * sizeof(*hits));
		return m->n < max ? m->n : max;
	}
	/* the same pc again (the threads of a process share most of theirs) */
	for (size_t i = ef->ninl_pcs; i-- > 0;)
		if (ef->inl_pcs[i].vaddr == vaddr)
			return ef->inl_pcs[i].t ? inline_table_lookup(ef->inl_pcs[i].t, vaddr, hits, max)
						: 0;
	t = unit_table_at(ef, vaddr);
	ef->inl_pcs = xrealloc(ef->inl_pcs, (ef->ninl_pcs + 1) * sizeof(*ef->inl_pcs));
	ef->inl_pcs[ef->ninl_pcs++] = (struct inl_pc){ vaddr, t };
	return t ? inline_table_lookup(t, vaddr, hits, max) : 0;
}

/* The table of the functions at vaddr (no whole table), NULL if there is none. */
static struct inline_table *unit_table_at(struct elf_file *ef, uint64_t vaddr)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die *cudie;

	/*
	 * No whole table: the unit of vaddr, walked once; in the DWARF the lazy line index
	 * has open when it has its .debug_info (already inflated, its line programs shared),
	 * else through a Dwfl of its own.
	 */
	if (lazy_lines_dwarf(ef->lazy))
		return lazy_unit_inlines(ef->lazy, &ef->inl_units, vaddr);
	if (!ef->inl_dwfl_tried) {
		ef->inl_dwfl_tried = true;
		ef->inl_mod = dwfl_report_file(ef, &ef->inl_dwfl, &bias);
	}
	if (!ef->inl_mod || !(cudie = dwfl_module_addrdie(ef->inl_mod, vaddr, &bias)))
		return NULL;
	return inline_units_at(&ef->inl_units, cudie, bias, vaddr);
}

/*
 * Opening DWARF costs libdw a full inflate of every .debug_* section when they are
 * compressed (Debian's -dbg packages), and a large CU's line program per lookup (CPython's
 * ceval.c) when they are not: flatten the module's line table once and keep it by
 * build-id (linecache.c), so the next process gets its lines from one mmap.
 */
static void save_line_table(struct elf_file *ef)
{
	Dwarf_Addr bias = 0;
	Dwarf *dw;

	if (!symbolizer_cache_dir() || !ef->build_id || (ef->flags & SYMBOLIZER_NO_DEBUGINFO))
		return;
	dw = dwfl_module_getdwarf(ef->mod, &bias);
	if (!dw)
		return;
	ef->lines = line_table_from_dwarf(dw, bias);
	line_table_save(ef->lines, ef->build_id);
	/* the inline table too, while the DWARF is open */
	if (!ef->inl)
		save_inline_table(ef, dw, bias);
	/* the table answers from now on: give libdw's copy back */
	dwfl_end(ef->dwfl);
	ef->dwfl = NULL;
	ef->mod = NULL;
}

/* The lazy line index of the file that has the DWARF: the ELF itself, else its debug file. */
static void lazy_open(struct elf_file *ef)
{
	char fdpath[64];

	ef->lazy_tried = true;
	if (ef->fd < 0)
		return;
	/* the very file we opened (the path may name another one by now) */
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", ef->fd);
	ef->lazy = lazy_lines_open(open(fdpath, O_RDONLY | O_CLOEXEC), ef->path);
	if (!ef->lazy && ef->debug_cand)
		ef->lazy = lazy_lines_open(open(ef->debug_cand, O_RDONLY | O_CLOEXEC), ef->debug_cand);
}

/*
 * Preparation on threads of their own, one per file (elf_file_prepare_lines), while the
 * caller attaches, holds and unwinds: the file's symbols first (the unwinder's first lookup
 * in it waits for them, in elfsyms.c; noting the file pending is left to the
 * caller), then its lines: the saved table, loaded (mapped, its checksum checked: ~1,200
 * pages for libpython's), else what its lookups will need that does not depend on the
 * stacks -- its lazy index (inflating a compressed .debug_line, scanning it, or libdw's
 * aranges) and the units of the hinted addresses (the eval loop, ...). A thread touches
 * only its file's symbols, its own table and lazy_lines on descriptors opened for it; the
 * first line lookup waits for all of them and adopts what they made (prep_join).
 */
struct prep_job {
	struct elf_file *ef;    /* a reference, put by prep_join */
	int fd, debug_fd;       /* the file and its debug file, for lazy_lines_open */
	char *debug_path;
	uint64_t hints[16];     /* vaddrs whose units to decode */
	size_t nhints;
	bool syms;              /* load its symbols first (the unwinder's lookups wait for them) */
	bool load_table;        /* try the saved table first */
	bool load_inl;          /* and the saved inline table (libpython's: ~1,350 pages to map
				 * and check, off the caller's path) */
	struct inline_table *saved_inl;
	bool lazy_ok;           /* without one, make the lazy index */
	struct line_table *lines; /* the thread's results */
	struct lazy_lines *ll;
	struct inline_units inl; /* the hinted pcs' inlined functions (ll's DWARF) */
	bool heavy;             /* no saved table (libc's and libpython's go side by side on
				 * threads of their own: prep_group) */
	bool libc;              /* the C library (DT_SONAME libc.so*): every thread's stack
				 * starts in it (clone3, __libc_start_call_main), so its units are
				 * not waited on */
	pthread_t thread;
	bool threaded;          /* a thread of its own was started for it (prep_group) */
	bool on_thread;         /* it runs on a thread (its own or its group's): it may wait */
	pid_t tid;
	int want_info;          /* under prep_mu: 0 undecided, 1 a thread is in it, -1 not */
	uint64_t *frames;       /* under prep_mu: the vaddrs of the stacks' frames in it... */
	size_t nframes;
	bool frames_final;      /* ... all of them (elf_file_prepare_frames_done) */
	bool skipped;           /* no thread in it: no lines prepared (the lookups make them) */
};

static struct prep_job *prep_jobs;
static size_t nprep;
static bool prep_running;
/* The threads work at the lowest priority until the target is released or a lookup waits
 * for them (symbolizer_prepare_go): while the target is being stopped, its threads need the
 * CPU to reach their stops, and every ms of it is the target's hold. As root, SCHED_IDLE
 * (root can always set a thread back); otherwise nice 10, which it cannot undo. */
static int prep_go;

static void prep_lower(pid_t tid)
{
	struct sched_param sp = { 0 };
	if (geteuid() == 0)
		sched_setscheduler(tid, SCHED_IDLE, &sp);
	else
		setpriority(PRIO_PROCESS, (id_t)tid, 10);
}

static void prep_raise(pid_t tid)
{
	struct sched_param sp = { 0 };
	if (geteuid() == 0)
		sched_setscheduler(tid, SCHED_OTHER, &sp);
	setpriority(PRIO_PROCESS, (id_t)tid, 0); /* (root may; else it stays at 10) */
}

/*
 * Whether a job goes on to open its file's units (lazy_lines_dwarf): the caller says so
 * once it knows which files the threads were stopped in (symbolizer_prepare_pcs); until
 * then the job waits.
 */
static pthread_mutex_t prep_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t prep_cv = PTHREAD_COND_INITIALIZER;

static bool prep_wants_info(struct prep_job *j)
{
	int want;

	if (!j->on_thread)
		return false; /* (run by the caller: nobody would answer) */
	pthread_mutex_lock(&prep_mu);
	while (!(want = j->want_info))
		pthread_cond_wait(&prep_cv, &prep_mu);
	pthread_mutex_unlock(&prep_mu);
	return want > 0;
}

/* Every job not asked for its units (want = -1), or (want = 1) ef's. */
static void prep_decide(struct elf_file *ef, int want)
{
	pthread_mutex_lock(&prep_mu);
	for (size_t i = 0; i < nprep; i++)
		if (ef ? prep_jobs[i].ef == ef : !prep_jobs[i].want_info)
			prep_jobs[i].want_info = want;
	pthread_cond_broadcast(&prep_cv);
	pthread_mutex_unlock(&prep_mu);
}

/* The vaddrs of the frames in j's file, once the caller has given them all (NULL, 0 when
 * the job runs on the caller); *n their number. The caller's copy. */
static uint64_t *prep_frames(struct prep_job *j, size_t *n)
{
	uint64_t *v = NULL;

	*n = 0;
	if (!j->on_thread)
		return NULL;
	pthread_mutex_lock(&prep_mu);
	while (!j->frames_final)
		pthread_cond_wait(&prep_cv, &prep_mu);
	if (j->nframes) {
		v = xmalloc(j->nframes * sizeof(*v));
		memcpy(v, j->frames, j->nframes * sizeof(*v));
		*n = j->nframes;
	}
	pthread_mutex_unlock(&prep_mu);
	return v;
}

void elf_file_prepare_frame(struct elf_file *ef, uint64_t vaddr)
{
	if (!prep_running)
		return;
	pthread_mutex_lock(&prep_mu);
	for (size_t i = 0; i < nprep; i++) {
		struct prep_job *j = &prep_jobs[i];
		size_t k;
		if (j->ef != ef || j->frames_final)
			continue;
		for (k = 0; k < j->nframes && j->frames[k] != vaddr; k++)
			;
		if (k == j->nframes) {
			j->frames = xrealloc(j->frames, (k + 1) * sizeof(*j->frames));
			j->frames[j->nframes++] = vaddr;
		}
	}
	pthread_mutex_unlock(&prep_mu);
}

void elf_file_prepare_frames_done(void)
{
	if (!prep_running)
		return;
	pthread_mutex_lock(&prep_mu);
	for (size_t i = 0; i < nprep; i++)
		prep_jobs[i].frames_final = true;
	pthread_cond_broadcast(&prep_cv);
	pthread_mutex_unlock(&prep_mu);
}

void elf_file_prepare_want_units(struct elf_file *ef)
{
	if (prep_running)
		prep_decide(ef, 1);
}

void elf_file_prepare_decided(void)
{
	if (prep_running)
		prep_decide(NULL, -1);
}

/* A job's work: its symbols, then its table or lazy index and hinted units. */
static void prep_do(struct prep_job *j)
{
	const char *file;
	int line;
	bool want;

	if (j->syms)
		elf_file_load_symbols(j->ef, false); /* (it tells the lookups waiting for it) */
	if (j->load_inl)
		j->saved_inl = inline_table_load(j->ef->build_id);
	if (j->load_table)
		j->lines = line_table_load(j->ef->build_id);
	if (j->lines || !j->lazy_ok)
		return;
	/* A file without a hint (the eval loop's, ...) waits to learn whether a thread of
	 * the target is in it: if none is (libm, ld.so, most extensions), its lines are left
	 * to a lookup that asks for them (on the caller), and cost nothing if none does.
	 * libc does not wait: its units are the longest to open, and always wanted. */
	want = j->nhints || !j->heavy || j->libc || prep_wants_info(j);
	if (!want) {
		j->skipped = true;
		return;
	}
	j->ll = lazy_lines_open(j->fd, j->ef->path);
	j->fd = -1;
	if (!j->ll && j->debug_fd >= 0) {
		j->ll = lazy_lines_open(j->debug_fd, j->debug_path);
		j->debug_fd = -1;
	}
	for (size_t k = 0; j->ll && k < j->nhints; k++) {
		lazy_lines_lookup(j->ll, j->hints[k], &file, &line);
		lazy_unit_inlines(j->ll, &j->inl, j->hints[k]);
	}
	/* a compressed file's units for the inlined functions (libc6-dbg's .debug_info:
	 * ~1,700 pages inflated), if a thread of the target is in it */
	if (j->ll && !j->nhints && j->heavy)
		lazy_lines_dwarf(j->ll);
	/* then the units of the frames the stacks have in it (known after the unwinding):
	 * each module's thread decodes its own, side by side, while the caller waits */
	if (j->ll && j->heavy) {
		size_t n;
		uint64_t *v = prep_frames(j, &n);
		for (size_t k = 0; k < n; k++) {
			lazy_lines_lookup(j->ll, v[k], &file, &line);
			lazy_unit_inlines(j->ll, &j->inl, v[k]);
		}
		free(v);
	}
}

/*
 * Which thread runs a job: one of its own (-1) for a heavy job (a file without a saved
 * table) that will surely open its units (hinted, or libc's); else one thread for all the
 * light ones (0: table loads), one for the other heavy ones (1: libm, ld.so, the
 * executable..., which mostly wait to learn that no thread is in them): starting a thread
 * costs the caller ~0.2 ms on our VMs, before the target is stopped.
 */
static int prep_group(const struct prep_job *j)
{
	if (!j->heavy)
		return 0;
	return j->nhints || j->libc ? -1 : 1;
}

/* A thread: j's job, or all the jobs of j's group. */
static void *prep_run(void *arg)
{
	struct prep_job *j = arg;
	int group = prep_group(j);

	if (j->threaded) {
		__atomic_store_n(&j->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&prep_go, __ATOMIC_SEQ_CST)) {
			prep_lower(j->tid);
			/* symbolizer_prepare_go() may have looked for our tid just before */
			if (__atomic_load_n(&prep_go, __ATOMIC_SEQ_CST))
				prep_raise(j->tid);
		}
	}
	if (group < 0) {
		prep_do(j);
		return arg;
	}
	for (size_t i = 0; i < nprep; i++)
		if (prep_group(&prep_jobs[i]) == group)
			prep_do(&prep_jobs[i]);
	return arg;
}

/* Mark the jobs j's thread runs (on: it was started). */
static void prep_mark(struct prep_job *j, bool on)
{
	int group = prep_group(j);

	for (size_t i = 0; i < nprep; i++)
		if (group < 0 ? &prep_jobs[i] == j : prep_group(&prep_jobs[i]) == group)
			prep_jobs[i].on_thread = on;
}

/* Wait for the threads and give each file its table or index (unless it made one
 * meanwhile). */
static void prep_join(void)
{
	if (!prep_running)
		return;
	symbolizer_prepare_go();
	prep_decide(NULL, -1);
	elf_file_prepare_frames_done();
	for (size_t i = 0; i < nprep; i++)
		if (prep_jobs[i].threaded)
			pthread_join(prep_jobs[i].thread, NULL);
	prep_go = 0;
	prep_running = false;
	for (size_t i = 0; i < nprep; i++) {
		struct prep_job *j = &prep_jobs[i];
		struct elf_file *ef = j->ef;
		if (j->saved_inl && !ef->inl_tried) { /* (none: elf_file_inlines tries, then builds) */
			ef->inl_tried = true;
			ef->inl = j->saved_inl;
		} else {
			inline_table_free(j->saved_inl);
		}
		if (j->load_table && !ef->table_tried) {
			ef->table_tried = true;
			ef->lines = j->lines;
		} else {
			line_table_free(j->lines);
		}
		if (j->syms && ef->syms_prep) {
			ef->syms_prep = false;
			if (ef->symtab_unsaved)
				elf_file_note_pending(ef);
		}
		if (!j->lazy_ok || ef->lines || j->skipped) {
			lazy_lines_free(j->ll);
		} else if (!ef->lazy_tried) {
			ef->lazy_tried = true;
			ef->lazy = j->ll;
			if (ef->lazy && diskcache_save_later() && !(ef->flags & SYMBOLIZER_NO_DEBUGINFO))
				elf_file_note_pending(ef);
			if (!ef->inl_units.nunits && !ef->inl_units.ncus) { /* (the same DWARF) */
				ef->inl_units = j->inl;
				memset(&j->inl, 0, sizeof(j->inl));
			}
		} else {
			lazy_lines_free(j->ll);
		}
		inline_units_free(&j->inl);
		if (j->fd >= 0)
			close(j->fd);
		if (j->debug_fd >= 0)
			close(j->debug_fd);
		free(j->debug_path);
		free(j->frames);
		elf_file_put(ef);
	}
	free(prep_jobs);
	prep_jobs = NULL;
	nprep = 0;
}

void symbolizer_prepare_wait(void)
{
	prep_join();
}

/* Whether lines of ef will come from a lazy index if it has no saved table (not built now). */
static bool lines_lazy_ok(struct elf_file *ef)
{
	return !ef->lazy_tried && !ef->dwfl_tried && ef->fd >= 0 && !ef->image &&
	       (!symbolizer_cache_dir() || diskcache_save_later() || !ef->build_id ||
		(ef->flags & SYMBOLIZER_NO_DEBUGINFO));
}

void elf_file_prepare_lines(struct elf_file *ef, const uint64_t *hints, size_t nhints)
{
	char fdpath[64];
	struct prep_job *j;
	bool load, lazy, syms, heavy, load_inl;

	if (prep_running) /* (and ef may be a running job's: its fields are the thread's) */
		return;
	load = !ef->table_tried && ef->build_id && !(ef->flags & SYMBOLIZER_NO_DEBUGINFO) &&
	       !ef->image;
	lazy = (load || !ef->lines) && lines_lazy_ok(ef);
	/* heavy: it will need its lazy index (no saved table); then its symbols are likely
	 * unsaved too, and sorting them is worth taking off the caller (a saved table maps) */
	heavy = lazy && !(load && diskcache_has(ef->build_id, "lines"));
	syms = heavy && !ef->syms_loaded && !ef->syms_prep;
	load_inl = !ef->inl_tried && cacheable(ef) && diskcache_has(ef->build_id, "inlines");
	if (!load && !lazy && !load_inl)
		return;
	for (size_t i = 0; i < nprep; i++)
		if (prep_jobs[i].ef == ef)
			return;
	prep_jobs = xrealloc(prep_jobs, (nprep + 1) * sizeof(*prep_jobs));
	j = &prep_jobs[nprep++];
	memset(j, 0, sizeof(*j));
	j->ef = elf_file_get(ef);
	j->syms = syms;
	j->heavy = heavy;
	ef->syms_prep = syms;
	j->load_table = load;
	j->load_inl = load_inl;
	j->lazy_ok = lazy;
	j->fd = j->debug_fd = -1;
	if (lazy) {
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", ef->fd);
		j->fd = open(fdpath, O_RDONLY | O_CLOEXEC);
		j->debug_fd = ef->debug_cand ? open(ef->debug_cand, O_RDONLY | O_CLOEXEC) : -1;
	}
	j->debug_path = xstrdup(ef->debug_cand);
	j->libc = heavy && !nhints && elf_file_soname_is(ef, "libc.so");
	for (size_t k = 0; k < nhints && j->nhints < ARRAY_SIZE(j->hints); k++)
		j->hints[j->nhints++] = hints[k];
}

void symbolizer_prepare_go(void)
{
	if (!prep_running || __atomic_load_n(&prep_go, __ATOMIC_SEQ_CST))
		return;
	__atomic_store_n(&prep_go, 1, __ATOMIC_SEQ_CST);
	for (size_t i = 0; i < nprep; i++) {
		pid_t tid = __atomic_load_n(&prep_jobs[i].tid, __ATOMIC_SEQ_CST);
		if (prep_jobs[i].threaded && tid > 0)
			prep_raise(tid);
	}
}

void elf_file_prepare_start(void)
{
	bool started[2] = { false, false };

	if (prep_running || !nprep)
		return;
	prep_running = true;
	for (size_t i = 0; i < nprep; i++) {
		struct prep_job *j = &prep_jobs[i];
		int group = prep_group(j);
		if (group >= 0 && started[group])
			continue; /* its group's thread runs it */
		if (group >= 0)
			started[group] = true;
		j->threaded = true; /* read by the thread */
		prep_mark(j, true);
		if (pthread_create(&j->thread, NULL, prep_run, j) != 0) {
			j->threaded = false;
			prep_mark(j, false);
			prep_run(j); /* no thread: now, and prep_join adopts the results */
		}
	}
}

int elf_file_srcline(struct elf_file *ef, uint64_t vaddr, const char **file, int *line)
{
	Dwfl_Line *dl;
	const char *src;
	int lineno = 0;

	prep_join();
	if (!ef->table_tried) {
		ef->table_tried = true;
		if (ef->build_id && !(ef->flags & SYMBOLIZER_NO_DEBUGINFO) && !ef->image)
			ef->lines = line_table_load(ef->build_id);
	}
	if (ef->lines) {
		struct line_memo *m;
		if (!ef->line_memo)
			ef->line_memo = xcalloc(LINE_MEMO, sizeof(*ef->line_memo));
		m = &ef->line_memo[memo_slot(vaddr, LINE_MEMO)];
		if (m->key != vaddr + 1) {
			m->key = vaddr + 1;
			if (!line_table_lookup(ef->lines, vaddr, &m->file, &m->line))
				m->file = NULL;
		}
		if (!m->file)
			return -ENOENT;
		*file = m->file;
		*line = m->line;
		return 0;
	}
	/*
	 * No saved table. Build it now when it is to be saved now; otherwise answer from the
	 * units of the addresses asked for (and note the file, to build its table later).
	 */
	if (!ef->dwfl_tried && (!symbolizer_cache_dir() || diskcache_save_later() || !ef->build_id ||
				(ef->flags & SYMBOLIZER_NO_DEBUGINFO) || ef->image)) {
		if (!ef->lazy_tried) {
			lazy_open(ef);
			if (ef->lazy && diskcache_save_later() && !(ef->flags & SYMBOLIZER_NO_DEBUGINFO))
				elf_file_note_pending(ef);
		}
		if (ef->lazy)
			return lazy_lines_lookup(ef->lazy, vaddr, file, line) ? 0 : -ENOENT;
	}
	if (!ef->dwfl_tried) {
		dwfl_open(ef);
		if (ef->mod && !diskcache_save_later())
			save_line_table(ef);
		if (ef->lines)
			return line_table_lookup(ef->lines, vaddr, file, line) ? 0 : -ENOENT;
	}
	if (!ef->mod)
		return -ENOENT;
	/* the module is reported at bias 0: dwfl addresses are the ELF's vaddrs */
	dl = dwfl_module_getsrc(ef->mod, vaddr);
	if (!dl)
		return -ENOENT;
	src = dwfl_lineinfo(dl, NULL, &lineno, NULL, NULL, NULL);
	if (!src || lineno <= 0)
		return -ENOENT;
	*file = src;
	*line = lineno;
	return 0;
}

/* The saved line table of a pending file (symbolizer_cache_save_pending), built now. */
void elf_file_save_lines(struct elf_file *ef)
{
	if (!ef->lines && !ef->dwfl_tried && !(ef->flags & SYMBOLIZER_NO_DEBUGINFO)) {
		dwfl_open(ef);
		if (ef->mod)
			save_line_table(ef);
	}
	if (!ef->inl && cacheable(ef) && !(ef->inl = inline_table_load(ef->build_id)))
		build_inline_table(ef);
}

/* The modules noted pending (elfsyms.c keeps the list): their tables saved, or dropped. Here,
 * above elfsyms.c, because saving a module's lines is this file's. */
size_t symbolizer_cache_save_pending(void)
{
	size_t n, saved = 0;
	struct elf_file **pending;

	symbolizer_prepare_wait();
	pending = elf_file_pending_list(&n);
	for (size_t i = 0; i < n; i++) {
		struct elf_file *ef = pending[i];
		elf_file_save_symtab(ef);
		elf_file_save_lines(ef);
		saved++;
		ef->pending = false;
		elf_file_put(ef);
	}
	elf_file_pending_reset(false);
	return saved;
}

void symbolizer_cache_drop_pending(void)
{
	size_t n;
	struct elf_file **pending;

	symbolizer_prepare_wait();
	pending = elf_file_pending_list(&n);
	for (size_t i = 0; i < n; i++) {
		pending[i]->pending = false;
		elf_file_put(pending[i]);
	}
	elf_file_pending_reset(true);
}
