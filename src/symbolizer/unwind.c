/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The libunwind-ptrace backend. libunwind does the CFI work; memory comes from the
 * snapshot's pages (memcache.c, filled by process_vm_readv: _UPT_access_mem would
 * PTRACE_PEEKDATA one word at a time, and every FDE lookup walks eh_frame_hdr in the
 * target's memory), registers from a copy taken while the thread was held; names come from
 * our own lookup (unw_get_proc_name returns the nearest exported symbol, whatever its
 * size).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include <libunwind-ptrace.h>

#include "ftscope/error.h"
#include "ftscope/util.h"
#include "internal.h"

/*
 * libunwind takes its global cache lock with every signal blocked: two sigprocmask() system
 * calls around each unw_step (~3,000 in a 100-thread dump; on our VMs a system call costs
 * 1-2 us). Nothing of ours unwinds in a signal handler and one walk runs at a time
 * (lu_current), so the lock needs no signals blocked: while a walk of this thread is inside
 * libunwind (lu_quiet), the sigprocmask() libunwind imports -- this definition interposes
 * libc's -- does nothing. Every other call is libc's. Not in sanitizer builds: their runtime
 * intercepts sigprocmask itself.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FT_NO_SIGMASK_INTERPOSE 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FT_NO_SIGMASK_INTERPOSE 1
#endif
static __thread bool lu_quiet;
#ifndef FT_NO_SIGMASK_INTERPOSE
int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	int r;

	if (lu_quiet) {
		if (old)
			sigemptyset(old); /* restored by a call that is skipped too */
		return 0;
	}
	r = pthread_sigmask(how, set, old);
	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}
#endif

/* libunwind's search of an .eh_frame_hdr table (what _UPT_find_proc_info calls once it has
 * found the table): exported by libunwind-x86_64 for libunwind-ptrace, not in its headers. */
extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip,
					      unw_dyn_info_t *di, unw_proc_info_t *pi,
					      int need_unwind_info, void *arg);

/* A module's table for libunwind, made from the ELF file the symbolizer has open. */
struct lu_table {
	struct elf_file *ef; /* not a reference: the maps hold one while maps_gen stands */
	uint64_t bias;
	bool ok;
	unw_dyn_info_t di;
};

/* Per symbolizer (s->unw). */
struct lu_state {
	unw_addr_space_t as;
	unsigned maps_gen;
	struct lu_table *tables; /* one per module asked for, since maps_gen */
	size_t ntables;
	/* the walk in progress */
	struct symbolizer *s;
	void *upt;
	const struct user_regs_struct *regs; /* registers of the walk (read while held) */
};

static int read_word(struct lu_state *st, uint64_t addr, unw_word_t *val)
{
	return symbolizer_mem_read(st->s, addr, val, sizeof(*val));
}

/*
 * libunwind hands the `arg` of unw_init_remote (the _UPT_create() handle) to every
 * accessor, also from inside _UPT_find_proc_info, so the state of the walk in progress
 * cannot travel in it: it is in lu_current (one walk at a time; nothing here is
 * thread-safe). Memory comes from the snapshot's pages (memcache.c), registers from the
 * copy taken while the thread was held, so a walk needs no ptrace and can run after the
 * thread was released. Memory that is not ours to read goes to libunwind's own reader.
 */
static struct lu_state *lu_current;
static unw_accessors_t lu_accessors;

static int lu_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
			 void *arg)
{
	struct lu_state *st = lu_current;

	if (write || !st || arg != st->upt)
		return _UPT_access_mem(as, addr, val, write, arg);
	return read_word(st, addr, val) < 0 ? -UNW_EINVAL : 0;
}

/*
 * The FDE of ip: the module's .eh_frame_hdr table, found from the symbolizer's maps and the
 * ELF file it has open, searched by libunwind (the table and the FDEs read through
 * lu_access_mem). _UPT_find_proc_info does the same but re-reads /proc/PID/maps and maps the
 * module's file every time the pc moves to another module than the last one's (0.3-0.6 ms
 * each on our VMs, ~30 times a dump of a 100-thread process). A module without such a
 * table (or a pc outside every module) goes to _UPT_find_proc_info as before.
 */
static int lu_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
			     int need_unwind_info, void *arg)
{
	struct lu_state *st = lu_current;
	struct map_entry *m;
	struct elf_file *ef;
	struct lu_table *t = NULL;

	if (!st || arg != st->upt || !(m = maps_find(st->s, ip)) || !(ef = maps_elf(st->s, m)))
		return _UPT_find_proc_info(as, ip, pi, need_unwind_info, arg);
	if (st->maps_gen != st->s->maps_gen) { /* maps re-read during the walk */
		st->maps_gen = st->s->maps_gen;
		st->ntables = 0;
	}
	for (size_t i = 0; i < st->ntables; i++)
		if (st->tables[i].ef == ef && st->tables[i].bias == m->bias) {
			t = &st->tables[i];
			break;
		}
	if (!t) {
		struct elf_eh_table et;
		st->tables = xrealloc(st->tables, (st->ntables + 1) * sizeof(*st->tables));
		t = &st->tables[st->ntables++];
		memset(t, 0, sizeof(*t));
		t->ef = ef;
		t->bias = m->bias;
		if (elf_file_eh_table(ef, &et) == 0) {
			t->ok = true;
			t->di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
			t->di.start_ip = et.lo + m->bias;
			t->di.end_ip = et.hi + m->bias;
			t->di.u.rti.segbase = et.hdr_vaddr + m->bias;
			t->di.u.rti.table_data = et.table_vaddr + m->bias;
			t->di.u.rti.table_len = et.fde_count * 8 / sizeof(unw_word_t);
		}
	}
	if (!t->ok)
		return _UPT_find_proc_info(as, ip, pi, need_unwind_info, arg);
	return _Ux86_64_dwarf_search_unwind_table(as, ip, &t->di, pi, need_unwind_info, arg);
}

/* libunwind's x86-64 register numbers, as user_regs_struct fields */
static const size_t lu_reg_offset[] = {
	[UNW_X86_64_RAX] = offsetof(struct user_regs_struct, rax),
	[UNW_X86_64_RDX] = offsetof(struct user_regs_struct, rdx),
	[UNW_X86_64_RCX] = offsetof(struct user_regs_struct, rcx),
	[UNW_X86_64_RBX] = offsetof(struct user_regs_struct, rbx),
	[UNW_X86_64_RSI] = offsetof(struct user_regs_struct, rsi),
	[UNW_X86_64_RDI] = offsetof(struct user_regs_struct, rdi),
	[UNW_X86_64_RBP] = offsetof(struct user_regs_struct, rbp),
	[UNW_X86_64_RSP] = offsetof(struct user_regs_struct, rsp),
	[UNW_X86_64_R8] = offsetof(struct user_regs_struct, r8),
	[UNW_X86_64_R9] = offsetof(struct user_regs_struct, r9),
	[UNW_X86_64_R10] = offsetof(struct user_regs_struct, r10),
	[UNW_X86_64_R11] = offsetof(struct user_regs_struct, r11),
	[UNW_X86_64_R12] = offsetof(struct user_regs_struct, r12),
	[UNW_X86_64_R13] = offsetof(struct user_regs_struct, r13),
	[UNW_X86_64_R14] = offsetof(struct user_regs_struct, r14),
	[UNW_X86_64_R15] = offsetof(struct user_regs_struct, r15),
	[UNW_X86_64_RIP] = offsetof(struct user_regs_struct, rip),
};

static int lu_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write,
			 void *arg)
{
	struct lu_state *st = lu_current;

	if (!st || arg != st->upt || !st->regs)
		return _UPT_access_reg(as, reg, val, write, arg);
	if (write || reg < 0 || (size_t)reg >= ARRAY_SIZE(lu_reg_offset))
		return -UNW_EBADREG;
	memcpy(val, (const char *)st->regs + lu_reg_offset[reg], sizeof(*val));
	return 0;
}

static int lu_init(struct symbolizer *s)
{
	struct lu_state *st;

	if (s->unw)
		return 0;
	if (!lu_accessors.access_mem) {
		lu_accessors = _UPT_accessors;
		lu_accessors.access_mem = lu_access_mem;
		lu_accessors.access_reg = lu_access_reg;
		lu_accessors.find_proc_info = lu_find_proc_info;
	}
	st = xcalloc(1, sizeof(*st));
	st->as = unw_create_addr_space(&lu_accessors, 0);
	if (!st->as) {
		free(st);
		return -ENOMEM;
	}
	/* One address space per process: the cache is keyed by ip and shared by its threads. */
	unw_set_caching_policy(st->as, UNW_CACHE_GLOBAL);
	/* One _UPT handle too: registers and memory do not go through it (lu_access_*), and
	 * what it keeps -- the ELF image _UPT_find_proc_info mapped last, found through
	 * /proc/PID/maps -- serves every thread of the process. */
	st->upt = _UPT_create(s->pid);
	if (!st->upt) {
		unw_destroy_addr_space(st->as);
		free(st);
		return -ENOMEM;
	}
	st->maps_gen = s->maps_gen;
	s->unw = st;
	return 0;
}

static void lu_fini(struct symbolizer *s)
{
	struct lu_state *st = s->unw;

	if (!st)
		return;
	unw_destroy_addr_space(st->as);
	_UPT_destroy(st->upt);
	free(st->tables);
	free(st);
	s->unw = NULL;
}

/*
 * The sigreturn trampoline (glibc's __restore_rt, also in the vdso on some kernels):
 * "mov $15, %rax; syscall". libunwind's unw_is_signal_frame() lags one frame behind
 * (its flag is set while stepping *out of* the trampoline), so look at the code instead.
 */
static bool is_sigreturn_trampoline(struct lu_state *st, uint64_t ip)
{
	static const unsigned char code[9] = {
		0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, /* mov $15, %rax */
		0x0f, 0x05,                               /* syscall */
	};
	unw_word_t w[2];

	if (read_word(st, ip, &w[0]) < 0 || read_word(st, ip + 8, &w[1]) < 0)
		return false;
	return !memcmp(w, code, sizeof(code));
}

static int emit(struct symbolizer *s, uint64_t ip, uint64_t sp, bool exact, bool sig, frame_fn fn,
		void *data)
{
	struct frame f;
	int ret;

	symbolizer_lookup(s, ip, !exact, &f);
	f.sp = sp;
	f.signal_frame = sig;
	ret = fn(data, &f);
	frame_release(&f);
	return ret;
}

/* Walk tid's stack from regs (taken while it was held), memory from the snapshot's pages. */
static int lu_walk_regs(struct symbolizer *s, pid_t tid, const struct user_regs_struct *regs,
			size_t max, frame_fn fn, void *data)
{
	struct { uint64_t ip, sp; } *seen = NULL;
	struct lu_state *st;
	unw_cursor_t cur;
	bool after_signal = false;
	size_t depth, i;
	int ret = -1, r;

	if (!max)
		return -EINVAL;
	ret = lu_init(s);
	if (ret < 0)
		return ret;
	st = s->unw;
	if (st->maps_gen != s->maps_gen) {
		unw_flush_cache(st->as, 0, 0);
		st->maps_gen = s->maps_gen;
		st->ntables = 0; /* the modules may have moved, or gone */
	}
	st->s = s;
	st->regs = regs;
	lu_current = st;
	lu_quiet = true;
	r = unw_init_remote(&cur, st->as, st->upt);
	lu_quiet = false;
	if (r < 0) {
		debug("symbolizer: unw_init_remote(%d): %s", (int)tid, unw_strerror(r));
		/* Still report where the thread is. */
		ret = emit(s, regs->rip, regs->rsp, true, false, fn, data);
		goto out;
	}
	seen = xmalloc(max * sizeof(*seen));
	for (depth = 0; depth < max; depth++) {
		unw_word_t ip, sp;
		bool sig;

		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 ||
		    unw_get_reg(&cur, UNW_REG_SP, &sp) < 0)
			break;
		if (!ip)
			break; /* outermost frame (_start, clone3 clear the return address) */
		for (i = 0; i < depth; i++)
			if (seen[i].ip == ip && seen[i].sp == sp)
				break;
		if (i < depth) {
			debug("symbolizer: tid %d: unwinding loops at %#" PRIx64, (int)tid,
			      (uint64_t)ip);
			break;
		}
		seen[depth].ip = ip;
		seen[depth].sp = sp;
		/*
		 * Frame #0 is where the thread stopped (in a syscall: just after the syscall
		 * instruction), a signal trampoline is entered at its first byte (the handler
		 * "returns" there), and the frame a signal interrupted resumes at its exact pc:
		 * no "-1" for those. Every other pc is a return address.
		 */
		sig = is_sigreturn_trampoline(st, ip);
		ret = emit(s, ip, sp, depth == 0 || after_signal || sig, sig, fn, data);
		if (ret)
			goto out;
		after_signal = sig;
		lu_quiet = true;
		r = unw_step(&cur);
		lu_quiet = false;
		if (r < 0)
			debug("symbolizer: tid %d: unw_step at %#" PRIx64 ": %s", (int)tid,
			      (uint64_t)ip, unw_strerror(r));
		if (r <= 0)
			break;
	}
	ret = 0;
out:
	st->s = NULL;
	st->regs = NULL;
	lu_current = NULL;
	free(seen);
	return ret;
}

/* The thread's registers now (it must be ptrace-stopped), and the stack as it is now. */
static int lu_walk(struct symbolizer *s, pid_t tid, size_t max, frame_fn fn, void *data)
{
	struct user_regs_struct regs;

	/* Fails with ESRCH unless tid is traced by us and stopped. */
	if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) < 0)
		return -errno;
	symbolizer_mem_reset(s); /* stacks and data may have changed since the last walk */
	return lu_walk_regs(s, tid, &regs, max, fn, data);
}

const struct unwinder_ops unwinder_libunwind = {
	.name = "libunwind",
	.init = lu_init,
	.walk = lu_walk,
	.walk_regs = lu_walk_regs,
	.fini = lu_fini,
};

void frame_release(struct frame *f)
{
	if (!f)
		return;
	free(f->module);
	free(f->module_path);
	free(f->build_id);
	free(f->function);
	free(f->src_file);
	free(f->py_file);
	free(f->py_func);
	memset(f, 0, sizeof(*f));
}

void frames_free(struct frame *frames, size_t n)
{
	size_t i;

	if (!frames)
		return;
	for (i = 0; i < n; i++)
		frame_release(&frames[i]);
	free(frames);
}

struct frame_vec {
	struct frame *v;
	size_t n, cap;
};

static int collect_frame(void *data, const struct frame *f)
{
	struct frame_vec *fv = data;
	struct frame *c;

	if (fv->n == fv->cap) {
		fv->cap = fv->cap ? 2 * fv->cap : 32;
		fv->v = xrealloc(fv->v, fv->cap * sizeof(*fv->v));
	}
	c = &fv->v[fv->n++];
	*c = *f;
	c->module = xstrdup(f->module);
	c->module_path = xstrdup(f->module_path);
	c->build_id = xstrdup(f->build_id);
	c->function = xstrdup(f->function);
	c->src_file = xstrdup(f->src_file);
	c->py_file = xstrdup(f->py_file);
	c->py_func = xstrdup(f->py_func);
	return 0;
}

static int unwind_common(struct symbolizer *s, pid_t tid, const struct user_regs_struct *regs,
			 size_t max, struct frame **frames, size_t *n)
{
	struct frame_vec fv = { 0 };
	int ret;

	*frames = NULL;
	*n = 0;
	if (regs)
		ret = unwinder_libunwind.walk_regs(s, tid, regs, max, collect_frame, &fv);
	else
		ret = unwinder_libunwind.walk(s, tid, max, collect_frame, &fv);
	if (ret < 0 || !fv.n) {
		frames_free(fv.v, fv.n);
		return ret < 0 ? ret : -ESRCH;
	}
	*frames = fv.v;
	*n = fv.n;
	return 0;
}

int unwind_thread(struct symbolizer *s, pid_t tid, size_t max, struct frame **frames, size_t *n)
{
	return unwind_common(s, tid, NULL, max, frames, n);
}

int unwind_thread_regs(struct symbolizer *s, pid_t tid, const struct user_regs_struct *regs,
		       size_t max, struct frame **frames, size_t *n)
{
	return unwind_common(s, tid, regs, max, frames, n);
}
