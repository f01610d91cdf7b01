/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/error.h"
#include "ftscope/json.h"
#include "ftscope/jsonout.h"
#include "ftscope/procfs.h"
#include "ftscope/pyframes.h"
#include "ftscope/signature.h"
#include "ftscope/snapshot.h"
#include "ftscope/util.h"

#define MAX_NATIVE_FRAMES 256

static void snapshot_proc_release(struct snap_process *p);

static bool is_eval_frame(const char *fn)
{
	return fn && (starts_with(fn, "_PyEval_EvalFrameDefault") ||
		      (starts_with(fn, "_TAIL_CALL_") && strstr(fn, ".llvm.")));
}

static void copy_py_frame(struct frame *dst, const struct py_frame *p)
{
	memset(dst, 0, sizeof(*dst));
	dst->is_python = true;
	dst->py_file = xstrdup(p->file);
	dst->py_func = xstrdup(p->func);
	dst->py_line = p->line;
}

/*
 * pystack's merge: each native eval-loop frame stands for the Python frames from the
 * current position up to and including the next entry frame. Only when the counts agree;
 * otherwise the Python frames follow the native ones, unmerged.
 */
static void merge(struct snap_thread *t, struct frame *nat, size_t nn, const struct py_thread *py)
{
	size_t evals = 0, entries = 0, k = 0, pi = 0;
	size_t cap = nn + (py ? py->n : 0);
	for (size_t i = 0; i < nn; i++)
		evals += is_eval_frame(nat[i].function);
	for (size_t i = 0; py && i < py->n; i++)
		entries += py->frames[i].entry;
	t->frames = xcalloc(cap ? cap : 1, sizeof(*t->frames));
	t->npython = py ? py->n : 0;
	t->merged = py && py->n && evals == entries;
	for (size_t i = 0; i < nn; i++) {
		if (t->merged && is_eval_frame(nat[i].function)) {
			while (pi < py->n) {
				bool entry = py->frames[pi].entry;
				copy_py_frame(&t->frames[k++], &py->frames[pi++]);
				if (entry)
					break;
			}
		}
		t->frames[k++] = nat[i]; /* moves ownership of the strings */
		memset(&nat[i], 0, sizeof(nat[i]));
	}
	if (py && !t->merged)
		for (pi = 0; pi < py->n; pi++)
			copy_py_frame(&t->frames[k++], &py->frames[pi]);
	t->nframes = k;
}

static bool has_frame(const struct snap_thread *t, size_t depth, const char *const *names)
{
	for (size_t i = 0; i < t->nframes && i < depth; i++) {
		const char *fn = t->frames[i].function;
		if (!fn)
			continue;
		for (const char *const *n = names; *n; n++) {
			size_t l = strlen(*n);
			if (!strncmp(fn, *n, l) && (fn[l] == '\0' || fn[l] == '.'))
				return true;
		}
	}
	return false;
}

#define FUTEX_CMD(op) ((int)((op) & ~(0x80ULL | 0x100ULL)))

void snapshot_classify_wait(struct symbolizer *sym, struct snap_thread *t)
{
	static const char *const n_join[] = { "ThreadHandle_join", "_PyThread_join", "thread_join",
					      "PyThread_join_thread", NULL };
	static const char *const n_stw[] = { "_PyEval_StopTheWorld", "stop_the_world",
					     "tstate_wait_attach", NULL };
	static const char *const n_rlock[] = { "rlock_acquire", "_PyRecursiveMutex_Lock",
					       "_PyRecursiveMutex_LockTimed", NULL };
	static const char *const n_lock[] = { "lock_PyThread_acquire_lock", "acquire_timed",
					      "PyThread_acquire_lock_timed", "lock_acquire_parse_args",
					      NULL };
	static const char *const n_pymutex[] = { "_PyMutex_LockTimed", "_PyMutex_LockSlow",
						 "PyMutex_Lock", NULL };
	static const char *const n_event[] = { "PyEvent_WaitTimed", "_PyEvent_WaitTimed",
					       "PyEvent_Wait", "_PyParkingLot_Park", NULL };
	static const char *const n_pmutex[] = { "pthread_mutex_lock", "__pthread_mutex_lock",
						"___pthread_mutex_lock", "__lll_lock_wait",
						"pthread_mutex_timedlock", "__pthread_mutex_lock_full",
						NULL };
	static const char *const n_cond[] = { "pthread_cond_wait", "__pthread_cond_wait",
					      "___pthread_cond_wait", "pthread_cond_timedwait",
					      "pthread_cond_clockwait", NULL };
	static const char *const n_sem[] = { "sem_wait", "sem_timedwait", "sem_clockwait",
					     "__new_sem_wait_slow64", "__new_sem_wait_slow", NULL };
	struct snap_wait *w = &t->wait;
	memset(w, 0, sizeof(*w));
	if (t->syscall == FT_SYS_WAIT4 || t->syscall == FT_SYS_WAITID) {
		w->kind = "child";
		return;
	}
	if (t->syscall != FT_SYS_FUTEX) {
		w->kind = t->syscall >= 0 ? "syscall" : NULL;
		return;
	}
	w->kind = "futex";
	w->uaddr = t->args[0];
	w->op = t->args[1];
	w->untimed = futex_op_is_wait(w->op) && t->args[3] == 0;
	/* Innermost frames tell which primitive it is; Python-level markers win. */
	if (has_frame(t, 40, n_stw)) {
		w->lock = "stop-the-world";
	} else if (has_frame(t, 40, n_join)) {
		w->lock = "thread join";
		w->owner_note = "waits for another thread to finish";
	} else if (has_frame(t, 40, n_rlock)) {
		w->lock = "threading.RLock";
	} else if (has_frame(t, 40, n_lock)) {
		w->lock = "threading.Lock";
		w->owner_note = "a PyThread lock records no owner";
	} else if (has_frame(t, 40, n_pymutex)) {
		w->lock = "PyMutex";
		w->owner_note = "PyMutex records no owner";
	} else if (has_frame(t, 40, n_event)) {
		w->lock = "parking lot";
		w->owner_note = "parking-lot waits record no owner";
	} else if (has_frame(t, 12, n_pmutex)) {
		w->lock = "pthread_mutex";
	} else if (has_frame(t, 12, n_cond)) {
		w->lock = "condition variable";
		w->owner_note = "condition variables have no owner";
	} else if (has_frame(t, 12, n_sem)) {
		w->lock = "semaphore";
		w->owner_note = "semaphores have no owner";
	} else {
		w->lock = "unknown";
	}
	/* Owners recorded in the lock word (lockword_owner: waitgraph.c). */
	if (FUTEX_CMD(w->op) == 6 || FUTEX_CMD(w->op) == 13 ||
	    (FUTEX_CMD(w->op) == 0 && !strcmp(w->lock, "pthread_mutex"))) {
		int32_t m[5] = { 0 };
		bool pi = FUTEX_CMD(w->op) != 0;
		int owner = 0;
		/* a PI futex word is 4 bytes, a mutex 20 */
		if (!symbolizer_mem_read(sym, w->uaddr, m, pi ? 4 : sizeof(m)))
			owner = lockword_owner(w->op, m, &pi);
		if (owner) {
			if (pi)
				w->lock = "pi_futex";
			w->owner = owner;
			w->owner_certain = true;
		} else if (FUTEX_CMD(w->op) == 0) {
			w->owner_note = "the mutex word has no owner (unlocked or not a pthread mutex)";
		}
	}
}

/* A thread's registers (taken), and its syscall (orig_rax) and arguments. */
static void set_regs(struct snap_thread *t, struct user_regs_struct *r)
{
	t->regs = r;
	t->syscall = (long)r->orig_rax;
	t->args[0] = r->rdi;
	t->args[1] = r->rsi;
	t->args[2] = r->rdx;
	t->args[3] = r->r10;
	t->args[4] = r->r8;
	t->args[5] = r->r9;
	/* held by us: say what it was doing before */
	t->state = t->syscall >= 0 ? 'S' : 'R';
}

/* The registers of a held thread. */
static int read_regs(pid_t tid, struct snap_thread *t)
{
	struct user_regs_struct *r = xmalloc(sizeof(*r));
	if (ptrace(PTRACE_GETREGS, tid, 0, r) < 0) {
		free(r);
		return -errno;
	}
	set_regs(t, r);
	return 0;
}

/* The thread's name (comm), from an open /proc/PID/task: one open, one read, one close
 * (its stat file took five system calls and the kernel formats fifty fields for it). */
static void read_comm(int taskfd, pid_t tid, struct snap_thread *t)
{
	char path[32], buf[sizeof(t->comm) + 1];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "%d/comm", (int)tid);
	fd = taskfd >= 0 ? openat(taskfd, path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n <= 0)
		return;
	buf[n] = '\0';
	n = (ssize_t)strcspn(buf, "\n");
	if ((size_t)n >= sizeof(t->comm))
		n = sizeof(t->comm) - 1;
	memcpy(t->comm, buf, (size_t)n);
	t->comm[n] = '\0';
}

static char *read_cmdline(pid_t pid)
{
	char path[64], *text = NULL;
	size_t len = 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	if (read_file(path, &text, &len) < 0)
		return NULL;
	for (size_t i = 0; i + 1 < len; i++)
		if (text[i] == '\0')
			text[i] = ' ';
	return text;
}

static const struct py_thread *py_of(const struct py_thread *pyt, size_t n, pid_t tid)
{
	for (size_t k = 0; k < n; k++)
		if (pyt[k].native_tid == (uint64_t)tid)
			return &pyt[k];
	return NULL;
}

static const struct py_lockref *find_lock(const struct py_thread *pyt, size_t n, uint64_t mutex)
{
	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < pyt[k].nlocks; i++)
			if (mutex && pyt[k].locks[i].mutex == mutex)
				return &pyt[k].locks[i];
	return NULL;
}

bool snapshot_waits_parked(const struct snap_wait *w)
{
	return w->kind && !strcmp(w->kind, "futex") && w->lock &&
	       (!strcmp(w->lock, "threading.Lock") || !strcmp(w->lock, "PyMutex") ||
		!strcmp(w->lock, "parking lot"));
}

void snapshot_resolve_python_lock(struct snap_wait *w, const struct py_thread *pyt, size_t npyt,
				  uint64_t parked_mutex)
{
	const struct py_lockref *l = NULL;
	if (!w->kind || strcmp(w->kind, "futex") || !w->lock)
		return;
	if (snapshot_waits_parked(w))
		l = find_lock(pyt, npyt, parked_mutex);
	if (!l)
		l = find_lock(pyt, npyt, w->uaddr); /* RLock: the futex is its sem_t */
	if (!l)
		return;
	w->lock_obj = l->obj;
	w->lock = l->rlock ? "threading.RLock" : "threading.Lock";
	if (l->rlock) {
		w->owner_note = "the RLock is free (a wake-up is in flight)";
		for (size_t k = 0; l->rlock_owner && k < npyt; k++)
			if (pyt[k].thread_id == l->rlock_owner) {
				w->owner = (int)pyt[k].native_tid;
				w->owner_certain = true;
				w->owner_note = NULL;
			}
		return;
	}
	for (size_t k = 0; k < npyt; k++)
		for (size_t i = 0; i < pyt[k].nlocks; i++) {
			const struct py_lockref *c = &pyt[k].locks[i];
			if (c->obj != l->obj || !c->in_with)
				continue;
			if (!w->owner)
				w->owner = (int)pyt[k].native_tid;
			w->ncandidates++;
			break;
		}
	if (w->ncandidates == 1)
		w->owner_note = "inferred: the only thread inside `with` on this lock";
	else if (w->ncandidates > 1)
		w->owner_note = "inferred: first of several threads inside `with` on this lock";
	else
		w->owner_note = "a PyMutex records no owner and no thread is inside `with` on it";
}

/* The stack bytes copied per thread while it is held, at most (from its stack pointer up to
 * the end of its stack mapping, where a thread's outermost frames and its TLS are). */
#define STACK_COPY_MAX (1u << 20)
#define STACK_COPY_GUESS (8u << 10) /* per thread, for symbolizer_mem_reserve */

static struct snap_process *proc_of(struct snapshot *snap, pid_t pid)
{
	for (size_t i = 0; i < snap->n; i++)
		if (snap->procs[i].pid == pid && !snap->procs[i].held)
			return &snap->procs[i];
	return NULL;
}

/* How many threads pid has (0 if unknown). */
static size_t count_tasks(pid_t pid)
{
	char path[64];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

int snapshot_prepare(struct snapshot *snap, pid_t pid)
{
	struct snap_process *p;
	/* lines come in a pass of their own, once every stack is unwound (finish_process) */
	struct symbolizer *sym = symbolizer_new_flags(pid, SYMBOLIZER_NO_LINES);
	struct sbuf why = SBUF_INIT;
	char path[64], buf[4096];
	ssize_t l;

	if (!sym)
		return -errno;
	snap->procs = xrealloc(snap->procs, (snap->n + 1) * sizeof(*snap->procs));
	p = &snap->procs[snap->n++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->gil_enabled = -1;
	p->sym = sym;
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	l = readlink(path, buf, sizeof(buf) - 1);
	if (l > 0) {
		buf[l] = '\0';
		p->exe = xstrdup(buf);
	}
	p->cmdline = read_cmdline(pid);
	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	l = readlink(path, buf, sizeof(buf) - 1);
	if (l > 0) {
		buf[l] = '\0';
		p->cwd = xstrdup(buf);
	}
	if (pyreader_open_sym(sym, 0, &p->pr, &why) == 0) {
		const uint64_t *hints;
		size_t nhints = pyreader_line_hints(p->pr, &hints);
		p->python_version = xstrdup(pyreader_version(p->pr));
		p->free_threaded = pyreader_free_threaded(p->pr);
		/* every Python stack has the eval loop, nearly every thread thread_run, ...: their
		 * units' lines are worth starting on */
		symbolizer_prepare_lines(sym, hints, nhints);
		p->nguess = pyreader_guess_ranges(p->pr, &p->guess);
	} else {
		p->py_error = sbuf_detach(&why);
		symbolizer_prepare_lines(sym, NULL, 0);
	}
	sbuf_release(&why);
	/* room for the stacks, touched now rather than while they are held (a thread blocked
	 * in CPython uses ~6 KiB of its stack) */
	symbolizer_mem_reserve(sym, count_tasks(pid) * STACK_COPY_GUESS);
	return 0;
}

/*
 * While the threads are held, read only: registers, then in one batch every stack (from the
 * stack pointer to the end of its mapping) and the words of the futexes waited on. The
 * Python walk, unwinding, symbols and lines come after the release (snapshot_finish): the
 * unwinder from these pages; the Python walk from its own batched reads (a Python entry
 * frame lives on the C stack: it is in the copy), which for a hung process (its threads
 * blocked) see what they saw while held.
 */
int snapshot_process(struct snapshot *snap, pid_t pid, const pid_t *tids, size_t ntids,
		     pid_t crashed_tid)
{
	return snapshot_process_crashed(snap, pid, tids, ntids, crashed_tid, NULL, NULL);
}

int snapshot_process_crashed(struct snapshot *snap, pid_t pid, const pid_t *tids, size_t ntids,
			     pid_t crashed_tid, const struct user_regs_struct *crashed_regs,
			     const char *crashed_comm)
{
	struct snap_process *p = proc_of(snap, pid);
	struct mem_range *rg;
	size_t nrg = 0;
	bool refreshed = false;
	double t0 = now_monotonic(), t1, t2;
	int r;

	if (!p) {
		r = snapshot_prepare(snap, pid);
		if (r < 0)
			return r;
		p = &snap->procs[snap->n - 1];
	}
	p->held = true;
	p->crashed_tid = crashed_tid;
	symbolizer_mem_reset(p->sym);
	p->threads = xcalloc(ntids + 1, sizeof(*p->threads));
	for (size_t i = 0; i < ntids; i++) {
		struct snap_thread *t = &p->threads[p->n++];
		t->tid = tids[i];
		t->crashed = tids[i] == crashed_tid;
		t->syscall = -1;
		t->state = 'R';
		t->regs_err = read_regs(tids[i], t);
	}
	if (crashed_regs) {
		/* a thread gone by now, its registers from its crash: its stack is still there */
		struct snap_thread *t = &p->threads[p->n++];
		struct user_regs_struct *regs = xmalloc(sizeof(*regs));
		*regs = *crashed_regs;
		t->tid = crashed_tid;
		t->crashed = true;
		set_regs(t, regs);
		if (crashed_comm)
			snprintf(t->comm, sizeof(t->comm), "%s", crashed_comm);
	}
	rg = xcalloc(2 * p->n + p->nguess + 1, sizeof(*rg));
	for (size_t pass = 0; pass < 2 && !nrg; pass++) {
		bool unknown = false;
		for (size_t i = 0; i < p->n; i++) {
			const struct snap_thread *t = &p->threads[i];
			uint64_t sp, end;
			if (!t->regs)
				continue;
			sp = t->regs->rsp - 128; /* the red zone below it */
			end = symbolizer_map_end(p->sym, t->regs->rsp);
			if (!end) {
				unknown = true; /* a thread newer than our copy of the maps */
				end = sp + 4 * 4096;
			}
			if (end - sp > STACK_COPY_MAX)
				end = sp + STACK_COPY_MAX;
			rg[nrg++] = (struct mem_range){ sp, end - sp };
			if (t->syscall == FT_SYS_FUTEX)
				rg[nrg++] = (struct mem_range){ t->args[0], 24 };
		}
		if (unknown && !refreshed) {
			refreshed = true;
			if (symbolizer_refresh_maps(p->sym) == 0)
				nrg = 0; /* again, with its stack's mapping */
		}
	}
	if (ft_verbose) {
		uint64_t total = 0, mx = 0;
		for (size_t i = 0; i < nrg; i++) {
			total += rg[i].len;
			mx = rg[i].len > mx ? rg[i].len : mx;
		}
		debug("snapshot: pid %d: %zu ranges of stacks and futex words, %llu KiB (largest %llu KiB)",
		      (int)pid, nrg, (unsigned long long)total / 1024, (unsigned long long)mx / 1024);
	}
	t1 = now_monotonic();
	symbolizer_mem_prefetch(p->sym, rg, nrg);
	free(rg);
	t2 = now_monotonic();
	snap->hold_reads += symbolizer_mem_stats(p->sym)->reads;
	snap->hold_pages += symbolizer_mem_stats(p->sym)->pages;
	debug("snapshot: pid %d: registers %.2f ms, stacks %.2f ms", (int)pid, (t1 - t0) * 1e3,
	      (t2 - t1) * 1e3);
	snap->duration_s += now_monotonic() - t0;
	return 0;
}

/*
 * file:line of t's native frames, and the functions inlined at each pc as frames of their
 * own (before their physical frame). After the merge: the eval-loop frames are found by
 * their real function's name.
 */
static void lines_and_inlines(struct symbolizer *sym, struct snap_thread *t)
{
	struct frame *out = NULL;
	size_t n = 0, cap = 0;
	bool any = false;

	for (size_t f = 0; f < t->nframes; f++) {
		struct frame *fr = &t->frames[f], *inl = NULL;
		size_t ninl = 0;
		if (!fr->is_python && fr->ip && !symbolizer_lookup_line(sym, fr))
			symbolizer_inline_frames(sym, fr, &inl, &ninl);
		if (n + ninl + 1 > cap) {
			cap = 2 * (n + ninl + 1) + t->nframes - f;
			out = xrealloc(out, cap * sizeof(*out));
		}
		if (ninl) {
			memcpy(&out[n], inl, ninl * sizeof(*inl)); /* moves the strings */
			n += ninl;
			any = true;
			free(inl);
		}
		out[n++] = *fr;
	}
	if (!any) {
		free(out);
		return;
	}
	free(t->frames);
	t->frames = out;
	t->nframes = n;
}

/* The Python threads (after the release): the thread states guessed by snapshot_prepare()
 * in one read, then the walk's batched phases, then decoding. */
static void read_python(struct snap_process *p)
{
	struct py_gil gil;
	double t0 = now_monotonic();

	symbolizer_mem_prefetch(p->sym, p->guess, p->nguess);
	if (pyreader_threads_read(p->pr) < 0)
		p->py_failed = true;
	if (pyreader_gil(p->pr, 0, &gil) == 0)
		p->gil_enabled = gil.enabled;
	if (!p->py_failed)
		pyreader_threads_decode(p->pr, &p->pyt, &p->npyt);
	debug("snapshot: pid %d: Python %.2f ms (%zu guessed ranges)", (int)p->pid,
	      (now_monotonic() - t0) * 1e3, p->nguess);
}

static void finish_process(struct snap_process *p)
{
	uint64_t *pcs = xcalloc(p->n + 1, sizeof(*pcs));
	size_t npcs = 0;
	int taskfd;

	symbolizer_prepare_go(); /* (a dump has released the target by now) */
	/* the modules the threads are in: their inlined functions will be asked for */
	for (size_t i = 0; i < p->n; i++)
		if (p->threads[i].regs)
			pcs[npcs++] = p->threads[i].regs->rip;
	symbolizer_prepare_pcs(p->sym, pcs, npcs);
	free(pcs);
	if (p->pr)
		read_python(p);
	{
		char tp[48];
		snprintf(tp, sizeof(tp), "/proc/%d/task", (int)p->pid);
		taskfd = open(tp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	for (size_t i = 0; i < p->n; i++) {
		struct snap_thread *t = &p->threads[i];
		struct frame *nat = NULL;
		size_t nn = 0;
		int r = t->regs_err;
		read_comm(taskfd, t->tid, t);
		if (!r)
			r = unwind_thread_regs(p->sym, t->tid, t->regs, MAX_NATIVE_FRAMES, &nat, &nn);
		if (r < 0)
			t->unwind_error = xasprintf("unwinding failed: %s", strerror(-r));
		symbolizer_prepare_frames(p->sym, nat, nn);
		merge(t, nat, nn, py_of(p->pyt, p->npyt, t->tid));
		frames_free(nat, nn);
		snapshot_classify_wait(p->sym, t);
		free(t->regs);
		t->regs = NULL;
	}
	symbolizer_prepare_frames_done();
	if (taskfd >= 0)
		close(taskfd);
	if (p->pr) {
		if (p->py_failed)
			p->py_error = xstrdup("cannot read the Python thread states");
		for (size_t i = 0; i < p->n; i++) {
			struct snap_wait *w = &p->threads[i].wait;
			uint64_t parked = snapshot_waits_parked(w)
						  ? pyreader_parked_mutex(p->pr, w->uaddr)
						  : 0;
			snapshot_resolve_python_lock(w, p->pyt, p->npyt, parked);
		}
		snapshot_python_story(p);
	}
	/*
	 * file:line last: on a host's first snapshot the line lookups wait for the thread that
	 * prepares them (symbolizer_prepare_lines, started before the stop); everything above
	 * has run meanwhile.
	 */
	for (size_t i = 0; i < p->n; i++)
		lines_and_inlines(p->sym, &p->threads[i]);
	debug("snapshot: pid %d: %u reads of target memory (%zu pages) in all", (int)p->pid,
	      symbolizer_mem_stats(p->sym)->reads, symbolizer_mem_stats(p->sym)->pages);
	py_threads_free(p->pyt, p->npyt);
	p->pyt = NULL;
	p->npyt = 0;
	pyreader_free(p->pr);
	p->pr = NULL;
	free(p->guess);
	p->guess = NULL;
	p->finished = true;
}

void snapshot_finish(struct snapshot *snap)
{
	for (size_t i = 0; i < snap->n; i++)
		if (snap->procs[i].held && !snap->procs[i].finished)
			finish_process(&snap->procs[i]);
	/* prepared but never held (the process went away first) */
	for (size_t i = 0; i < snap->n;) {
		if (!snap->procs[i].held) {
			snapshot_proc_release(&snap->procs[i]);
			memmove(&snap->procs[i], &snap->procs[i + 1],
				(snap->n - i - 1) * sizeof(*snap->procs));
			snap->n--;
		} else {
			i++;
		}
	}
}

static const struct snap_thread *thread_of(const struct snapshot *snap, int tid)
{
	for (size_t i = 0; i < snap->n; i++)
		for (size_t k = 0; k < snap->procs[i].n; k++)
			if (snap->procs[i].threads[k].tid == tid)
				return &snap->procs[i].threads[k];
	return NULL;
}

void snapshot_analyze(struct snapshot *snap)
{
	free(snap->edges);
	snap->edges = NULL;
	snap->nedges = 0;
	for (size_t i = 0; i < snap->n; i++)
		for (size_t k = 0; k < snap->procs[i].n; k++) {
			const struct snap_thread *t = &snap->procs[i].threads[k];
			if (!t->wait.owner || !thread_of(snap, t->wait.owner))
				continue;
			snap->edges = xrealloc(snap->edges, (snap->nedges + 1) * sizeof(*snap->edges));
			snap->edges[snap->nedges].waiter = t->tid;
			snap->edges[snap->nedges].owner = t->wait.owner;
			snap->edges[snap->nedges].certain = t->wait.owner_certain;
			snap->nedges++;
		}
	wg_cycles_free(snap->cycles, snap->ncycles);
	waitgraph_cycles(snap->edges, snap->nedges, &snap->cycles, &snap->ncycles);
}

/*
 * Whether a native frame is interpreter/libc plumbing (signature.c's ignore list: ~60
 * fnmatch patterns). A snapshot repeats the same few dozen functions in every thread, so
 * the answer is kept per function name for the length of one snapshot_json().
 */
struct plumbing_memo {
	struct { char *fn; bool plumbing; } slot[512];
	size_t n; /* at most 384 kept, so a probe always ends at an empty slot */
};

static bool frame_plumbing(struct plumbing_memo *m, const struct frame *f)
{
	uint64_t h = 1469598103934665603ull;
	size_t k;
	char *n;
	bool r;

	if (!f->function)
		return false;
	if (frame_is_ignored(NULL, f->module))
		return true; /* by module ([vdso]) */
	for (const char *c = f->function; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ull;
	for (k = h % 512; m->slot[k].fn; k = (k + 1) % 512)
		if (!strcmp(m->slot[k].fn, f->function))
			return m->slot[k].plumbing;
	n = normalize_function(f->function);
	r = frame_is_ignored(n, NULL) || is_eval_frame(f->function);
	free(n);
	if (m->n < 384) {
		m->slot[k].fn = xstrdup(f->function);
		m->slot[k].plumbing = r;
		m->n++;
	}
	return r;
}

static void plumbing_memo_release(struct plumbing_memo *m)
{
	for (size_t k = 0; k < 512; k++)
		free(m->slot[k].fn);
}

/* "0x%llx" of v into buf (at least 19 bytes): printf's machinery is most of the cost of
 * the ~3000 offsets of a 100-thread dump. */
static const char *hex(char *buf, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0, k = 0;
	do
		tmp[n++] = digits[v & 15];
	while (v >>= 4);
	buf[k++] = '0';
	buf[k++] = 'x';
	while (n)
		buf[k++] = tmp[--n];
	buf[k] = '\0';
	return buf;
}

static void frame_emit(struct jsonout *o, const struct frame *f, struct plumbing_memo *memo)
{
	char off[32];
	jo_object(o, NULL);
	if (f->is_python) {
		jo_bool(o, "python", true);
		jo_str(o, "function", f->py_func);
		jo_str(o, "file", f->py_file);
		jo_num(o, "line", f->py_line);
		jo_close(o);
		return;
	}
	jo_str(o, "function", f->function);
	jo_str(o, "module", f->module);
	jo_str(o, "offset", hex(off, f->module_offset));
	if (f->src_file) {
		jo_str(o, "file", f->src_file);
		jo_num(o, "line", f->src_line);
	}
	if (f->inlined)
		jo_bool(o, "inlined", true);
	if (frame_plumbing(memo, f))
		jo_bool(o, "plumbing", true);
	jo_close(o);
}

static void site_emit(struct jsonout *o, const char *key, const struct snap_site *s)
{
	jo_object(o, key);
	jo_str(o, "function", s->function);
	jo_str(o, "file", s->file);
	jo_num(o, "line", s->line);
	jo_str(o, "text", s->text);
	jo_close(o);
}

static void holds_emit(struct jsonout *o, const struct snap_thread *t)
{
	char buf[32];
	if (!t->nholds)
		return;
	jo_array(o, "holds");
	for (size_t i = 0; i < t->nholds; i++) {
		const struct snap_hold *h = &t->holds[i];
		jo_object(o, NULL);
		jo_str(o, "lock_object", hex(buf, h->lock_obj));
		jo_str(o, "lock", h->lock);
		jo_str(o, "expr", h->expr);
		jo_str(o, "how", h->how);
		jo_bool(o, "verified", h->verified);
		if (h->site.function)
			site_emit(o, "site", &h->site);
		jo_close(o);
	}
	jo_close(o);
}

static void wait_emit(struct jsonout *o, const struct snapshot *snap, const struct snap_wait *w)
{
	const struct snap_thread *owner;
	char buf[64];
	if (!w->kind) {
		jo_null(o, "wait");
		return;
	}
	jo_object(o, "wait");
	jo_str(o, "kind", w->kind);
	if (!strcmp(w->kind, "futex")) {
		jo_str(o, "futex_uaddr", hex(buf, w->uaddr));
		futex_op_name(w->op, buf, sizeof(buf));
		jo_str(o, "futex_op", buf);
		jo_bool(o, "untimed", w->untimed);
		jo_str(o, "lock", w->lock);
		if (w->owner)
			jo_num(o, "owner", w->owner);
		else
			jo_null(o, "owner");
		owner = w->owner ? thread_of(snap, w->owner) : NULL;
		if (owner && owner->name)
			jo_str(o, "owner_name", owner->name);
		jo_bool(o, "owner_certain", w->owner_certain);
		jo_str(o, "owner_note", w->owner_note);
		if (w->lock_obj) {
			jo_str(o, "lock_object", hex(buf, w->lock_obj));
		}
		if (w->ncandidates)
			jo_num(o, "owner_candidates", w->ncandidates);
		if (w->primitive)
			jo_str(o, "primitive", w->primitive);
		if (w->expr)
			jo_str(o, "expr", w->expr);
		if (w->site)
			site_emit(o, "site", w->site);
	}
	jo_close(o);
}

/* The snapshot's forensics.json form (docs/results.md), as events: one description for the
 * stored tree, the streamed --json output and the text printer. A NULL string is written as
 * null. */
void snapshot_emit(const struct snapshot *snap, struct jsonout *o)
{
	struct plumbing_memo *memo = xcalloc(1, sizeof(*memo));
	char ts[32];
	iso_utc(snap->taken_at, ts, sizeof(ts));
	jo_object(o, NULL);
	jo_str(o, "reason", snap->reason);
	jo_str(o, "taken_at", ts);
	jo_num(o, "hold_ms", round_to(snap->duration_s * 1000, 2));
	jo_array(o, "processes");
	for (size_t i = 0; i < snap->n; i++) {
		const struct snap_process *p = &snap->procs[i];
		jo_object(o, NULL);
		jo_num(o, "pid", p->pid);
		jo_str(o, "exe", p->exe);
		jo_str(o, "cmdline", p->cmdline);
		jo_str(o, "cwd", p->cwd);
		if (p->python_version) {
			jo_object(o, "python");
			jo_str(o, "version", p->python_version);
			jo_bool(o, "free_threaded", p->free_threaded);
			if (p->gil_enabled >= 0)
				jo_bool(o, "gil_enabled", p->gil_enabled > 0);
			jo_close(o);
		} else {
			jo_null(o, "python");
		}
		jo_str(o, "python_error", p->py_error);
		jo_array(o, "threads");
		for (size_t k = 0; k < p->n; k++) {
			const struct snap_thread *t = &p->threads[k];
			char st[2] = { t->state, 0 };
			jo_object(o, NULL);
			jo_num(o, "tid", t->tid);
			jo_str(o, "comm", t->comm);
			jo_str(o, "name", t->name);
			jo_str(o, "state", st);
			jo_num(o, "syscall", (double)t->syscall);
			jo_bool(o, "crashed", t->crashed);
			wait_emit(o, snap, &t->wait);
			holds_emit(o, t);
			jo_bool(o, "merged", t->merged);
			jo_num(o, "python_frames", (double)t->npython);
			jo_str(o, "unwind_error", t->unwind_error);
			jo_array(o, "frames");
			for (size_t f = 0; f < t->nframes; f++)
				frame_emit(o, &t->frames[f], memo);
			jo_close(o);
			jo_close(o);
		}
		jo_close(o);
		jo_close(o);
	}
	jo_close(o);
	jo_array(o, "edges");
	for (size_t i = 0; i < snap->nedges; i++) {
		jo_object(o, NULL);
		jo_num(o, "waiter", snap->edges[i].waiter);
		jo_num(o, "owner", snap->edges[i].owner);
		jo_bool(o, "certain", snap->edges[i].certain);
		jo_close(o);
	}
	jo_close(o);
	jo_array(o, "cycles");
	for (size_t i = 0; i < snap->ncycles; i++) {
		jo_object(o, NULL);
		jo_array(o, "tids");
		for (size_t k = 0; k < snap->cycles[i].n; k++)
			jo_num(o, NULL, snap->cycles[i].tids[k]);
		jo_close(o);
		jo_bool(o, "certain", snap->cycles[i].certain);
		jo_close(o);
	}
	jo_close(o);
	jo_close(o);
	plumbing_memo_release(memo);
	free(memo);
}

cJSON *snapshot_json(const struct snapshot *snap)
{
	struct jsonout_cjson b;
	jsonout_cjson_init(&b);
	snapshot_emit(snap, &b.o);
	return jsonout_cjson_result(&b);
}

void snapshot_write_json(FILE *f, const struct snapshot *snap)
{
	struct jsonout_stream s;
	jsonout_stream_init(&s, f);
	snapshot_emit(snap, &s.o);
	putc('\n', f);
}

static void snapshot_proc_release(struct snap_process *p)
{
	for (size_t k = 0; k < p->n; k++) {
		frames_free(p->threads[k].frames, p->threads[k].nframes);
		free(p->threads[k].unwind_error);
		free(p->threads[k].regs);
		snapshot_python_release(&p->threads[k]);
	}
	free(p->threads);
	py_threads_free(p->pyt, p->npyt);
	pyreader_free(p->pr);
	symbolizer_free(p->sym);
	free(p->guess);
	free(p->exe);
	free(p->cmdline);
	free(p->cwd);
	free(p->python_version);
	free(p->py_error);
}

void snapshot_release(struct snapshot *snap)
{
	for (size_t i = 0; i < snap->n; i++)
		snapshot_proc_release(&snap->procs[i]);
	free(snap->procs);
	free(snap->edges);
	wg_cycles_free(snap->cycles, snap->ncycles);
	free(snap->reason);
	memset(snap, 0, sizeof(*snap));
}

int snapshot_crash_signature(const struct snapshot *snap, const char *kind, struct crash_sig *out)
{
	for (size_t i = 0; i < snap->n; i++)
		for (size_t k = 0; k < snap->procs[i].n; k++) {
			const struct snap_thread *t = &snap->procs[i].threads[k];
			struct sig_frame *sf;
			int r;
			if (!t->crashed)
				continue;
			sf = xcalloc(t->nframes ? t->nframes : 1, sizeof(*sf));
			for (size_t f = 0; f < t->nframes; f++) {
				const struct frame *fr = &t->frames[f];
				sf[f].function = fr->function;
				sf[f].module = fr->module;
				sf[f].module_offset = fr->module_offset;
				sf[f].is_python = fr->is_python;
				sf[f].py_file = fr->py_file;
				sf[f].py_func = fr->py_func;
			}
			r = crash_signature(kind, sf, t->nframes, out);
			free(sf);
			return r;
		}
	return crash_signature(kind, NULL, 0, out);
}
