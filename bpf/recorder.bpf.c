/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The eBPF recorder: follows the process trees user space registers in `tracked` (children
 * are added here, at fork, so filtering never leaves the kernel) and records
 *   - fork/exec/exit and signal generate/deliver as ring-buffer events;
 *   - per process, the first crash signal one of its threads raised, with that thread's
 *     registers (`crashes`): a crash signed without the thread having been traced;
 *   - per thread, the blocking futex/wait4/waitid call it is in (`blocked`);
 *   - per futex word, how often and how long threads waited (`waits`);
 *   - on-CPU time, time with >= 2 threads of one process (and of the tree) on CPU at once,
 *     live/peak threads (`stats`, `proc_run`).
 * User side: src/tracer/bpfrec.c. Shared layouts: include/ftscope/recorder_event.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "ftscope/recorder_event.h"

/* linux/futex.h */
#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_LOCK_PI2 13
#define FUTEX_CMD_MASK 0x7f /* ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME) */

#define EEXIST 17
#define EINTR 4
#define RINGBUF_SIZE (256 * 1024)

/* Count futex waits that returned -EAGAIN at once (never slept) in `waits`. */
const volatile bool record_eagain = false;

struct recorder_stats stats = {};

/* tgid -> its live threads. Filled by user space (roots) and by on_fork (descendants). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __s64);
} tracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct recorder_thread);
} live SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct recorder_blocked);
} blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct recorder_wait_key);
	__type(value, struct recorder_wait_val);
} waits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct recorder_cpu);
} cpu_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct recorder_crash);
} crashes SEC(".maps");

/* tgid -> its threads on a CPU (per-process overlap); dropped when the process ends. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct recorder_proc_run);
} proc_run SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RINGBUF_SIZE);
} events SEC(".maps");

/*
 * The blocking syscalls (futex, wait4, waitid) are seen one of two ways; user space picks
 * one before loading (src/tracer/bpfrec.c) and leaves the other's programs unloaded:
 *  - the syscalls:sys_{enter,exit}_<name> tracepoints (the *_enter/_exit programs below):
 *    only their own syscalls run a program. They are attached by id through perf events,
 *    and the id is read from tracefs, mounted for a moment in a private mount namespace
 *    where the host has not mounted it;
 *  - where tracefs cannot be had at all: the raw syscall tracepoints tp_btf/sys_enter and
 *    sys_exit, attached by BTF id, filtered on the syscall number; every syscall of every
 *    task then runs a program (bench/bpfrec_overhead.c measures both).
 */
/* The syscalls:sys_{enter,exit}_* record: 8 bytes of common fields, the syscall number,
 * then the arguments (or the return value) as 8-byte slots. Stable since tracepoints for
 * syscalls exist (kernel/trace/trace_syscalls.c). */
struct sys_enter_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 args[6];
};

struct sys_exit_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__s64 ret;
};

/* For the raw tracepoints: the syscall numbers, and the arguments in the user registers.
 * 32-bit (compat) tasks are not told apart there: their numbers differ, and a tracked one
 * could only add a blocked entry that its syscall's exit removes again. */
#if defined(__TARGET_ARCH_x86)
#define NR_futex 202
#define NR_wait4 61
#define NR_waitid 247
#define SYSCALL_NR(regs) ((regs)->orig_ax)
#define SYSCALL_ARG1(regs) ((regs)->di)
#define SYSCALL_ARG2(regs) ((regs)->si)
#define SYSCALL_ARG3(regs) ((regs)->dx)
#define SYSCALL_ARG4(regs) ((regs)->r10)
#elif defined(__TARGET_ARCH_arm64)
#define NR_futex 98
#define NR_wait4 260
#define NR_waitid 95
#define SYSCALL_NR(regs) ((regs)->syscallno)
#define SYSCALL_ARG1(regs) ((regs)->orig_x0)
#define SYSCALL_ARG2(regs) ((regs)->regs[1])
#define SYSCALL_ARG3(regs) ((regs)->regs[2])
#define SYSCALL_ARG4(regs) ((regs)->regs[3])
#else
#error "the recorder knows the syscall numbers and registers of x86-64 and arm64 only"
#endif

static __always_inline bool is_tracked(__u32 tgid)
{
	return bpf_map_lookup_elem(&tracked, &tgid) != NULL;
}

static __always_inline void thread_add(__u32 tid, __u32 tgid)
{
	struct recorder_thread t = { .tgid = tgid };
	__s64 n, *proc;
	long err;

	err = bpf_map_update_elem(&live, &tid, &t, BPF_NOEXIST);
	if (err) {
		if (err != -EEXIST)
			__sync_fetch_and_add(&stats.map_full, 1);
		return;
	}
	n = __sync_fetch_and_add(&stats.live_threads, 1) + 1;
	/* Racy max: two CPUs forking at once may lose one update; fine for a peak. */
	if (n > 0 && (__u64)n > stats.peak_tree_threads)
		stats.peak_tree_threads = n;
	/* Concurrency is threads of one process: a shell waiting for its python is not. */
	proc = bpf_map_lookup_elem(&tracked, &tgid);
	if (!proc)
		return;
	n = __sync_fetch_and_add(proc, 1) + 1;
	if (n > 0 && (__u64)n > stats.peak_threads)
		stats.peak_threads = n;
}

static __always_inline void thread_del(__u32 tid)
{
	struct recorder_thread *t = bpf_map_lookup_elem(&live, &tid);
	__u32 tgid = t ? t->tgid : 0;
	__s64 *proc;

	if (bpf_map_delete_elem(&live, &tid) != 0)
		return;
	__sync_fetch_and_add(&stats.live_threads, -1);
	proc = bpf_map_lookup_elem(&tracked, &tgid);
	if (proc)
		__sync_fetch_and_add(proc, -1);
}

static __always_inline struct recorder_event *event_new(__u32 kind)
{
	struct recorder_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&stats.ringbuf_drops, 1);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->kind = kind;
	return e;
}

/*
 * Hand an event to user space without waking it, unless the ring is half full: nothing reads
 * the events before the iteration's summary, and the supervisor drains the ring at every pass
 * of its loop (at least every 50 ms; bpfrec.h); a wakeup per event would cost it a poll
 * return, a consume and a trip round its loop for each process start, exit and signal.
 */
static __always_inline void event_submit(struct recorder_event *e)
{
	__u64 wake = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > RINGBUF_SIZE / 2
			     ? BPF_RB_FORCE_WAKEUP
			     : BPF_RB_NO_WAKEUP;

	bpf_ringbuf_submit(e, wake);
}

/* --- Process lifecycle ----------------------------------------------------------------- */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid;
	__u32 pid = child->pid, tgid = child->tgid;
	struct recorder_event *e;
	__s64 zero = 0;

	if (!is_tracked(ptgid))
		return 0;
	/* A new process is tracked before its first thread counts. */
	if (pid == tgid && bpf_map_update_elem(&tracked, &tgid, &zero, BPF_ANY))
		__sync_fetch_and_add(&stats.map_full, 1);
	/* Every clone() passes here, threads included: each new task is one live thread. */
	thread_add(pid, tgid);
	if (pid != tgid)
		return 0;
	e = event_new(RECORDER_EV_FORK);
	if (!e)
		return 0;
	e->pid = tgid;
	e->tid = pid;
	e->ppid = ptgid;
	e->from_tid = parent->pid;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), child->comm);
	/* A process forked by a thread no tracer follows is not followed either: its tracer
	 * learns of it only from this event, so it must know now (a fork from a traced thread
	 * is its tracer's fork stop already). */
	if (!parent->ptrace)
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	else
		event_submit(e);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid, pid = p->pid;
	struct recorder_event *e;

	if (!is_tracked(tgid))
		return 0;
	/* A non-leader thread that execs takes over the leader's tid. */
	if ((__u32)old_pid != pid) {
		thread_del(old_pid);
		thread_add(pid, tgid);
	}
	e = event_new(RECORDER_EV_EXEC);
	if (!e)
		return 0;
	e->pid = tgid;
	e->tid = pid;
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	event_submit(e);
	return 0;
}

static __always_inline void block_end(__u32 tid, long ret);

/* Fires for every exiting thread; p is current. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid, tid = p->pid;
	struct recorder_event *e;

	if (!is_tracked(tgid))
		return 0;
	block_end(tid, -EINTR);
	thread_del(tid);
	/* group_dead: do_exit() decremented signal->live before this tracepoint (newer
	 * kernels pass it as an argument; reading it keeps older ones working). */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	bpf_map_delete_elem(&tracked, &tgid);
	bpf_map_delete_elem(&proc_run, &tgid);
	e = event_new(RECORDER_EV_EXIT);
	if (!e)
		return 0;
	e->pid = tgid;
	e->tid = tid;
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->exit_code = p->exit_code;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	event_submit(e);
	return 0;
}

/* --- Signals ------------------------------------------------------------------------------ */

/* info may also be SEND_SIG_NOINFO (0) or SEND_SIG_PRIV (1), as the tracepoint itself
 * decodes them (include/trace/events/signal.h TP_STORE_SIGINFO). */
static __always_inline int siginfo_code(struct kernel_siginfo *info)
{
	if ((unsigned long)info == 0)
		return SI_USER;
	if ((unsigned long)info == 1)
		return SI_KERNEL;
	return BPF_CORE_READ(info, si_code);
}

static __always_inline bool crash_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
	       sig == SIGABRT || sig == SIGTRAP;
}

/*
 * A crash signal a thread raises against its own process (a fault, abort(), raise()): the
 * thread's user registers now are what a crash stop would show -- the faulting instruction,
 * or the system call that sent it. The first of a process is kept (faulthandler re-raises
 * the signal from its handler: that second one is not the crash).
 */
static __always_inline void crash_record(int sig, struct kernel_siginfo *info, __u32 tgid,
					 __u32 tid)
{
	struct recorder_crash c = {};

	c.ts_ns = bpf_ktime_get_ns();
	c.tid = tid;
	c.sig = sig;
	c.code = siginfo_code(info);
	if ((unsigned long)info > 1 && c.code > 0)
		c.addr = (__u64)BPF_CORE_READ(info, _sifields._sigfault._addr);
	bpf_get_current_comm(c.comm, sizeof(c.comm));
#if defined(__TARGET_ARCH_x86)
	{
		struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		/* user_regs_struct's order (recorder_event.h); cs (17) and ss (20) stay 0 */
		c.regs[0] = BPF_CORE_READ(r, r15);
		c.regs[1] = BPF_CORE_READ(r, r14);
		c.regs[2] = BPF_CORE_READ(r, r13);
		c.regs[3] = BPF_CORE_READ(r, r12);
		c.regs[4] = BPF_CORE_READ(r, bp);
		c.regs[5] = BPF_CORE_READ(r, bx);
		c.regs[6] = BPF_CORE_READ(r, r11);
		c.regs[7] = BPF_CORE_READ(r, r10);
		c.regs[8] = BPF_CORE_READ(r, r9);
		c.regs[9] = BPF_CORE_READ(r, r8);
		c.regs[10] = BPF_CORE_READ(r, ax);
		c.regs[11] = BPF_CORE_READ(r, cx);
		c.regs[12] = BPF_CORE_READ(r, dx);
		c.regs[13] = BPF_CORE_READ(r, si);
		c.regs[14] = BPF_CORE_READ(r, di);
		c.regs[15] = BPF_CORE_READ(r, orig_ax);
		c.regs[16] = BPF_CORE_READ(r, ip);
		c.regs[18] = BPF_CORE_READ(r, flags);
		c.regs[19] = BPF_CORE_READ(r, sp);
		c.nregs = RECORDER_CRASH_REGS;
	}
#endif
	bpf_map_update_elem(&crashes, &tgid, &c, BPF_NOEXIST);
}

SEC("tp_btf/signal_generate")
int BPF_PROG(on_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 from = id >> 32, to = task->tgid;
	struct recorder_event *e;

	if (!is_tracked(to) && !is_tracked(from))
		return 0;
	if (from == to && crash_signal(sig))
		crash_record(sig, info, to, (__u32)id);
	/* A SIGCHLD to a task outside the tree goes to its tracer or subreaper (ftscope): the
	 * notice of every ptrace stop and of every traced thread's exit, ~3 per thread start, a
	 * thousand an iteration of a thread-heavy suite, none of it the tree's doing. A process's
	 * end is its exit event. */
	if (sig == SIGCHLD && !is_tracked(to))
		return 0;
	e = event_new(RECORDER_EV_SIG_GENERATE);
	if (!e)
		return 0;
	e->pid = to;
	e->tid = task->pid;
	/* The running task: the sender for kill/tgkill/sigqueue (code <= 0); for signals the
	 * kernel raises from interrupts (timers) it may be unrelated. */
	e->from_pid = from;
	e->from_tid = (__u32)id;
	e->sig = sig;
	e->code = siginfo_code(info);
	e->result = result;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	event_submit(e);
	return 0;
}

/* current is the receiving thread, about to run the handler or the default action. */
SEC("tp_btf/signal_deliver")
int BPF_PROG(on_signal_deliver, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct recorder_event *e;
	int code;

	if (!is_tracked(tgid))
		return 0;
	e = event_new(RECORDER_EV_SIG_DELIVER);
	if (!e)
		return 0;
	code = siginfo_code(info);
	e->pid = tgid;
	e->tid = (__u32)id;
	e->sig = sig;
	e->code = code;
	if ((unsigned long)info > 1 && (code <= 0 || sig == SIGCHLD))
		e->from_pid = BPF_CORE_READ(info, _sifields._kill._pid);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	event_submit(e);
	return 0;
}

/* --- Blocking calls: futex, wait4, waitid ----------------------------------------------- */

static __always_inline bool futex_op_blocks(__u32 op)
{
	switch (op & FUTEX_CMD_MASK) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
	case FUTEX_WAIT_REQUEUE_PI:
		return true;
	default:
		return false;
	}
}

static __always_inline void block_begin(__u32 tid, __u32 tgid, __u8 kind, __u64 uaddr, __u32 op,
					bool timed)
{
	struct recorder_blocked b = {
		.since_ns = bpf_ktime_get_ns(),
		.uaddr = uaddr,
		.op = op,
		.tgid = tgid,
		.timed = timed,
		.kind = kind,
	};

	if (bpf_map_update_elem(&blocked, &tid, &b, BPF_ANY))
		__sync_fetch_and_add(&stats.map_full, 1);
}

static __always_inline void block_end(__u32 tid, long ret)
{
	struct recorder_blocked *b = bpf_map_lookup_elem(&blocked, &tid);
	struct recorder_wait_key k = {};
	struct recorder_wait_val *w;
	bool slept = ret != -EAGAIN;
	__u64 dur;

	if (!b)
		return;
	if (b->kind == RECORDER_BLOCK_FUTEX) {
		dur = bpf_ktime_get_ns() - b->since_ns;
		k.tgid = b->tgid;
		k.uaddr = b->uaddr;
		__sync_fetch_and_add(&stats.total_waits, 1);
		if (slept)
			__sync_fetch_and_add(&stats.contended_waits, 1);
		w = bpf_map_lookup_elem(&waits, &k);
		if (w) {
			__sync_fetch_and_add(&w->cur, -1);
			if (slept || record_eagain) {
				__sync_fetch_and_add(&w->count, 1);
				__sync_fetch_and_add(&w->total_ns, dur);
				if (dur > w->max_ns)
					w->max_ns = dur;
			}
		}
	}
	bpf_map_delete_elem(&blocked, &tid);
}

/* futex(uaddr, op, val, utime, uaddr2, val3) */
static __always_inline int futex_begin(__u64 uaddr, __u32 op, bool timed)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct recorder_wait_val zero = {}, *w;
	struct recorder_wait_key k = {};
	__s64 n;

	if (!futex_op_blocks(op) || !is_tracked(tgid))
		return 0;
	k.tgid = tgid;
	k.uaddr = uaddr;
	block_begin((__u32)id, tgid, RECORDER_BLOCK_FUTEX, k.uaddr, op, timed);
	w = bpf_map_lookup_elem(&waits, &k);
	if (!w) {
		if (bpf_map_update_elem(&waits, &k, &zero, BPF_NOEXIST) &&
		    bpf_map_lookup_elem(&waits, &k) == NULL) {
			__sync_fetch_and_add(&stats.map_full, 1);
			return 0;
		}
		w = bpf_map_lookup_elem(&waits, &k);
		if (!w)
			return 0;
	}
	n = __sync_fetch_and_add(&w->cur, 1) + 1;
	if (n > 0 && (__u64)n > w->peak)
		w->peak = n;
	return 0;
}

static __always_inline int child_wait_enter(__s32 pid, __u32 options)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;

	if ((options & WNOHANG) || !is_tracked(tgid))
		return 0;
	block_begin((__u32)id, tgid, RECORDER_BLOCK_CHILD, (__u64)(__s64)pid, options, false);
	return 0;
}

static __always_inline int syscall_end(long ret)
{
	block_end((__u32)bpf_get_current_pid_tgid(), ret);
	return 0;
}

/* The syscall tracepoints (attached by src/tracer/bpfrec.c, not by the skeleton). */
SEC("tracepoint/syscalls/sys_enter_futex")
int futex_enter(struct sys_enter_ctx *ctx)
{
	return futex_begin(ctx->args[0], ctx->args[1], ctx->args[3] != 0);
}

SEC("tracepoint/syscalls/sys_exit_futex")
int futex_exit(struct sys_exit_ctx *ctx)
{
	return syscall_end(ctx->ret);
}

/* wait4(pid, status, options, rusage) */
SEC("tracepoint/syscalls/sys_enter_wait4")
int wait4_enter(struct sys_enter_ctx *ctx)
{
	return child_wait_enter((__s32)ctx->args[0], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_wait4")
int wait4_exit(struct sys_exit_ctx *ctx)
{
	return syscall_end(ctx->ret);
}

/* waitid(which, pid, info, options, rusage) */
SEC("tracepoint/syscalls/sys_enter_waitid")
int waitid_enter(struct sys_enter_ctx *ctx)
{
	return child_wait_enter((__s32)ctx->args[1], ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_exit_waitid")
int waitid_exit(struct sys_exit_ctx *ctx)
{
	return syscall_end(ctx->ret);
}

/* Or the raw syscall tracepoints: every syscall of every task passes here. */
SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long nr)
{
	switch (nr) {
	case NR_futex:
		return futex_begin(SYSCALL_ARG1(regs), SYSCALL_ARG2(regs), SYSCALL_ARG4(regs) != 0);
	case NR_wait4:
		return child_wait_enter((__s32)SYSCALL_ARG1(regs), SYSCALL_ARG3(regs));
	case NR_waitid:
		return child_wait_enter((__s32)SYSCALL_ARG2(regs), SYSCALL_ARG4(regs));
	default:
		return 0;
	}
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = SYSCALL_NR(regs);

	if (nr == NR_futex || nr == NR_wait4 || nr == NR_waitid)
		return syscall_end(ret);
	return 0;
}

/* --- On-CPU time and CPU overlap ------------------------------------------------------------
 *
 * Each CPU remembers the tracked thread it switched in (cpu_slot); stats.n_running counts
 * CPUs running one. The 1 -> 2 transition of that counter stores the time, the 2 -> 1
 * transition takes it back (xchg with 0) and adds the interval to overlap_ns. Counter
 * transitions are totally ordered by the atomics; only the store/xchg of the start time
 * can interleave with another CPU's transition, which loses (never invents) at most that
 * few-nanosecond window. A reset (gen bump) orphans slots that were switched in before it.
 */

static __always_inline void running_inc(__u64 now, __u32 tgid)
{
	struct recorder_proc_run zero = {}, *r;

	if (__sync_fetch_and_add(&stats.n_running, 1) == 1)
		stats.overlap_start_ns = now;
	/* The same, per process: concurrency is two threads of one process on CPUs. */
	r = bpf_map_lookup_elem(&proc_run, &tgid);
	if (!r) {
		bpf_map_update_elem(&proc_run, &tgid, &zero, BPF_NOEXIST);
		r = bpf_map_lookup_elem(&proc_run, &tgid);
		if (!r) {
			__sync_fetch_and_add(&stats.map_full, 1);
			return;
		}
	}
	if (__sync_fetch_and_add(&r->n_running, 1) == 1)
		r->overlap_start_ns = now;
}

static __always_inline void running_dec(__u64 now, __u32 tgid)
{
	struct recorder_proc_run *r;
	__u64 start;

	if (__sync_fetch_and_add(&stats.n_running, -1) == 2) {
		start = __sync_lock_test_and_set(&stats.overlap_start_ns, 0);
		if (start && now > start)
			__sync_fetch_and_add(&stats.overlap_ns, now - start);
	}
	r = bpf_map_lookup_elem(&proc_run, &tgid);
	if (!r || __sync_fetch_and_add(&r->n_running, -1) != 2)
		return;
	start = __sync_lock_test_and_set(&r->overlap_start_ns, 0);
	if (start && now > start)
		__sync_fetch_and_add(&stats.proc_overlap_ns, now - start);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct recorder_thread *t;
	struct recorder_cpu *slot;
	__u32 zero = 0, tid;
	bool next_tracked;
	__u64 now, dur;

	slot = bpf_map_lookup_elem(&cpu_slot, &zero);
	if (!slot)
		return 0;
	next_tracked = is_tracked(next->tgid);
	if (!slot->tid && !next_tracked)
		return 0;
	now = bpf_ktime_get_ns();
	if (slot->tid) {
		tid = slot->tid;
		if (slot->gen == stats.gen) {
			dur = now > slot->since_ns ? now - slot->since_ns : 0;
			/* Only the CPU running a thread updates its counter: no atomics needed. */
			t = bpf_map_lookup_elem(&live, &tid);
			if (t)
				t->on_cpu_ns += dur;
			__sync_fetch_and_add(&stats.on_cpu_ns, dur);
			running_dec(now, slot->tgid);
		}
		slot->tid = 0;
	}
	if (next_tracked) {
		slot->tid = next->pid;
		slot->tgid = next->tgid;
		slot->since_ns = now;
		slot->gen = stats.gen;
		running_inc(now, next->tgid);
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
