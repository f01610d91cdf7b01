/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The libunwind-ptrace backend. libunwind does the CFI work; memory comes from a page
 * cache filled by process_vm_readv (_UPT_access_mem would PTRACE_PEEKDATA one word at a
 * time, and every FDE lookup walks eh_frame_hdr in the target's memory); names come from
 * our own lookup (unw_get_proc_name returns the nearest exported symbol, whatever its
 * size).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include <libunwind-ptrace.h>

#include "ftscope/error.h"
#include "ftscope/util.h"
#include "internal.h"

#define MEM_PAGE 4096u
#define MEM_SLOTS 64u /* 256 KiB: a few stack pages per thread + eh_frame(_hdr) pages */

struct mem_page {
	uint64_t base;
	uint64_t last_use;
	unsigned gen; /* maps_gen when read */
	bool valid;
	bool ro;      /* from a non-writable mapping: survives walks until maps change */
	unsigned char data[MEM_PAGE];
};

/* Per symbolizer (s->unw). */
struct lu_state {
	unw_addr_space_t as;
	unsigned maps_gen;
	struct mem_page *pages;
	uint64_t clock;
	/* the walk in progress */
	struct symbolizer *s;
	void *upt;
};

static void pages_invalidate(struct lu_state *st, bool all)
{
	unsigned i;
	for (i = 0; i < MEM_SLOTS; i++)
		if (all || !st->pages[i].ro)
			st->pages[i].valid = false;
}

static int read_word(struct lu_state *st, uint64_t addr, unw_word_t *val)
{
	uint64_t base = addr & ~(uint64_t)(MEM_PAGE - 1), off = addr - base;
	struct mem_page *p, *victim = NULL;
	struct map_entry *m;
	unsigned i;

	if (off + sizeof(*val) > MEM_PAGE)
		return symbolizer_read_mem(st->s, addr, val, sizeof(*val));
	st->clock++;
	for (i = 0; i < MEM_SLOTS; i++) {
		p = &st->pages[i];
		if (p->valid && p->base == base) {
			p->last_use = st->clock;
			memcpy(val, p->data + off, sizeof(*val));
			return 0;
		}
		if (!victim || !p->valid || (victim->valid && p->last_use < victim->last_use))
			victim = p;
	}
	p = victim;
	if (symbolizer_read_mem(st->s, base, p->data, MEM_PAGE) < 0) {
		p->valid = false;
		return symbolizer_read_mem(st->s, addr, val, sizeof(*val));
	}
	m = maps_find(st->s, base);
	p->base = base;
	p->valid = true;
	p->ro = m && m->perms[1] != 'w';
	p->gen = st->s->maps_gen;
	p->last_use = st->clock;
	memcpy(val, p->data + off, sizeof(*val));
	return 0;
}

/*
 * libunwind hands the `arg` of unw_init_remote (the _UPT_create() handle) to every
 * accessor, also from inside _UPT_find_proc_info, so the state of the walk in progress
 * cannot travel in it: it is in lu_current (one walk at a time; nothing here is
 * thread-safe). Memory that is not ours to read goes to libunwind's own word reader.
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

static int lu_init(struct symbolizer *s)
{
	struct lu_state *st;

	if (s->unw)
		return 0;
	if (!lu_accessors.access_mem) {
		lu_accessors = _UPT_accessors;
		lu_accessors.access_mem = lu_access_mem;
	}
	st = xcalloc(1, sizeof(*st));
	st->as = unw_create_addr_space(&lu_accessors, 0);
	if (!st->as) {
		free(st);
		return -ENOMEM;
	}
	/* One address space per process: the cache is keyed by ip and shared by its threads. */
	unw_set_caching_policy(st->as, UNW_CACHE_GLOBAL);
	st->pages = xcalloc(MEM_SLOTS, sizeof(*st->pages));
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
	free(st->pages);
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

static int lu_walk(struct symbolizer *s, pid_t tid, size_t max, frame_fn fn, void *data)
{
	struct user_regs_struct regs;
	struct { uint64_t ip, sp; } *seen = NULL;
	struct lu_state *st;
	unw_cursor_t cur;
	bool after_signal = false;
	size_t depth, i;
	int ret = -1, r;

	if (!max)
		return -EINVAL;
	/* Fails with ESRCH unless tid is traced by us and stopped. */
	if (ptrace(PTRACE_GETREGS, tid, NULL, &regs) < 0)
		return -errno;
	ret = lu_init(s);
	if (ret < 0)
		return ret;
	st = s->unw;
	if (st->maps_gen != s->maps_gen) {
		unw_flush_cache(st->as, 0, 0);
		st->maps_gen = s->maps_gen;
		pages_invalidate(st, true);
	} else {
		pages_invalidate(st, false); /* stacks and data may have changed since */
	}
	st->s = s;
	st->upt = _UPT_create(tid);
	if (!st->upt) {
		ret = -ENOMEM;
		goto out;
	}
	lu_current = st;
	r = unw_init_remote(&cur, st->as, st->upt);
	if (r < 0) {
		debug("symbolizer: unw_init_remote(%d): %s", (int)tid, unw_strerror(r));
		/* Still report where the thread is. */
		ret = emit(s, regs.rip, regs.rsp, true, false, fn, data);
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
		r = unw_step(&cur);
		if (r < 0)
			debug("symbolizer: tid %d: unw_step at %#" PRIx64 ": %s", (int)tid,
			      (uint64_t)ip, unw_strerror(r));
		if (r <= 0)
			break;
	}
	ret = 0;
out:
	if (st->upt)
		_UPT_destroy(st->upt);
	st->upt = NULL;
	st->s = NULL;
	lu_current = NULL;
	free(seen);
	return ret;
}

const struct unwinder_ops unwinder_libunwind = {
	.name = "libunwind",
	.init = lu_init,
	.walk = lu_walk,
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

int unwind_thread(struct symbolizer *s, pid_t tid, size_t max, struct frame **frames, size_t *n)
{
	struct frame_vec fv = { 0 };
	int ret;

	*frames = NULL;
	*n = 0;
	ret = unwinder_libunwind.walk(s, tid, max, collect_frame, &fv);
	if (ret < 0 || !fv.n) {
		frames_free(fv.v, fv.n);
		return ret < 0 ? ret : -ESRCH;
	}
	*frames = fv.v;
	*n = fv.n;
	return 0;
}
