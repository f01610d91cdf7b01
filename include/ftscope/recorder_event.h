/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_RECORDER_EVENT_H
#define FTSCOPE_RECORDER_EVENT_H
/*
 * Records and map layouts shared by bpf/recorder.bpf.c (kernel) and src/tracer/bpfrec.c (user
 * space). Fixed-width __u32/__u64 only, explicit padding, no pointers: both compilers must
 * agree on every offset. Include it after bpf/vmlinux.h (BPF side) or <linux/types.h>
 * (user side); it includes nothing itself.
 *
 * Times are bpf_ktime_get_ns(), i.e. CLOCK_MONOTONIC in nanoseconds.
 */

#define RECORDER_COMM_LEN 16

/* Ring-buffer records (struct recorder_event.kind). */
enum recorder_event_kind {
	RECORDER_EV_FORK = 1,     /* a tracked process forked: pid/tid = child, ppid = parent,
				     from_tid = the forking thread */
	RECORDER_EV_EXEC = 2,     /* a tracked process exec'd: comm is the new one */
	RECORDER_EV_EXIT = 3,     /* the last thread of a tracked process exited */
	RECORDER_EV_SIG_GENERATE = 4, /* a signal was sent from or to a tracked process */
	RECORDER_EV_SIG_DELIVER = 5,  /* a tracked thread is about to handle/act on a signal */
};

struct recorder_event {
	__u64 ts_ns;
	__u32 kind;       /* enum recorder_event_kind */
	__u32 pid;        /* subject process (tgid); for signals the target */
	__u32 tid;        /* subject thread; for signals the target thread */
	__u32 ppid;       /* fork/exec/exit: parent tgid */
	__u32 from_pid;   /* signals: sender tgid (0: kernel or unknown) */
	__u32 from_tid;   /* signal_generate: sender thread; fork: the forking thread */
	__u32 sig;
	__s32 code;       /* signals: si_code (SI_USER 0, SI_KERNEL 0x80, SI_TKILL -6, ...) */
	__s32 result;     /* signal_generate: 0 delivered, 1 ignored, 2 already pending, ... */
	__u32 exit_code;  /* exit: raw task->exit_code, a wait(2) status */
	char comm[RECORDER_COMM_LEN];
};

/* Map `blocked`: tid -> what the thread is blocked in, set on syscall entry and deleted
 * on its exit (or on the thread's exit). */
enum recorder_block_kind {
	RECORDER_BLOCK_FUTEX = 1, /* futex(2) wait or PI lock */
	RECORDER_BLOCK_CHILD = 2, /* wait4(2)/waitid(2) without WNOHANG */
};

struct recorder_blocked {
	__u64 since_ns;
	__u64 uaddr;      /* futex word; for child waits the pid argument */
	__u32 op;         /* futex op; for child waits the options */
	__u32 tgid;
	__u8 timed;       /* a timeout was passed (utime != NULL) */
	__u8 kind;        /* enum recorder_block_kind */
	__u8 pad[6];
};

/* Map `waits`: per futex word aggregation of the blocking waits of tracked threads. */
struct recorder_wait_key {
	__u32 tgid;
	__u32 pad;
	__u64 uaddr;
};

struct recorder_wait_val {
	__u64 count;      /* finished waits */
	__u64 total_ns;   /* their total duration */
	__u64 max_ns;     /* the longest (approximate: not updated atomically) */
	__s64 cur;        /* threads waiting on it right now */
	__u64 peak;       /* most threads seen waiting on it at once (approximate) */
};

/*
 * Map `crashes`: tgid -> the first crash signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT,
 * SIGTRAP) a thread of a tracked process raised against its own process since the last reset
 * -- a fault, abort(), raise(), kill(getpid()) -- with that thread's user registers at that
 * moment: where it faulted, or the system call that sent it. What a crash stop would have
 * shown, for a thread no tracer stopped. On x86-64 regs are the kernel's struct pt_regs,
 * which are the first RECORDER_CRASH_REGS words of <sys/user.h>'s user_regs_struct (r15 ...
 * rip, cs, eflags, rsp, ss); nregs 0 where the recorder does not read them (other arches).
 */
#define RECORDER_CRASH_REGS 21

struct recorder_crash {
	__u64 ts_ns;
	__u64 addr;       /* si_addr of a fault, else 0 */
	__u64 regs[RECORDER_CRASH_REGS];
	__u32 tid;        /* the thread that raised it */
	__u32 sig;
	__s32 code;       /* si_code */
	__u32 nregs;      /* RECORDER_CRASH_REGS, or 0: no registers */
	char comm[RECORDER_COMM_LEN];
};

/* Map `live`: tid -> live tracked thread. */
struct recorder_thread {
	__u64 on_cpu_ns;
	__u32 tgid;
	__u32 pad;
};

/* Per-CPU map `cpu_slot`: which tracked thread this CPU runs, since when. */
struct recorder_cpu {
	__u64 since_ns;
	__u32 tid;        /* 0: none */
	__u32 gen;        /* recorder_stats.gen when it was switched in */
	__u32 tgid;       /* tid's process */
	__u32 pad;
};

/* Map `proc_run`: tgid -> how many of its threads are on a CPU, since when >= 2. */
struct recorder_proc_run {
	__s64 n_running;
	__u64 overlap_start_ns; /* when n_running last went from 1 to 2 (0: not >= 2) */
};

/* The global counters (the BPF object's .bss, mmap'ed by user space). */
struct recorder_stats {
	__s64 live_threads;     /* live tracked threads */
	__u64 peak_threads;     /* most live threads of one tracked process at once */
	__u64 peak_tree_threads; /* most live tracked threads at once, all processes */
	__s64 n_running;        /* tracked threads on a CPU right now */
	__u64 overlap_start_ns; /* when n_running last went from 1 to 2 (0: not >= 2) */
	__u64 overlap_ns;       /* time with >= 2 tracked threads on CPU at once (any processes) */
	__u64 proc_overlap_ns;  /* time with >= 2 threads of one process on CPU at once, summed
				   over processes: concurrency (a shell and its python are not) */
	__u64 on_cpu_ns;        /* total on-CPU time of tracked threads */
	__u64 total_waits;      /* blocking futex calls that returned */
	__u64 contended_waits;  /* ... of which actually slept (not -EAGAIN) */
	__u64 ringbuf_drops;    /* events lost: ring buffer full */
	__u64 map_full;         /* map updates that failed (tracked/live/blocked/waits full) */
	__u32 gen;              /* bumped by user space on reset */
	__u32 pad;
};

#endif
