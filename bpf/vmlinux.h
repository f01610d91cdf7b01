/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_BPF_VMLINUX_H
#define FTSCOPE_BPF_VMLINUX_H
/*
 * A hand-written, minimal "vmlinux.h" for ftscope's BPF programs (see bpf/README.md).
 *
 * Only what the programs in bpf/ use is declared. Kernel-internal structs carry
 * preserve_access_index, so every field access is a CO-RE relocation that libbpf resolves
 * against the running kernel's BTF at load time: the declared layout (order, offsets, the
 * fields left out) does not matter, only the struct and field names and the field types.
 * The UAPI constants below are kernel ABI and never change.
 *
 * To use a new kernel field: add it (name and type as in the kernel) to the struct here.
 */

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
enum { false = 0, true = 1 };
typedef int pid_t;

/* UAPI linux/bpf.h (the values are ABI). */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_RINGBUF = 27,
};
enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};
/* bpf_ringbuf_submit flags and bpf_ringbuf_query's questions (uapi/linux/bpf.h). */
enum {
	BPF_RB_NO_WAKEUP = 1,
	BPF_RB_FORCE_WAKEUP = 2,
};
enum {
	BPF_RB_AVAIL_DATA = 0,
	BPF_RB_RING_SIZE = 1,
	BPF_RB_CONS_POS = 2,
	BPF_RB_PROD_POS = 3,
};

/* UAPI errno, signal and wait values. */
#define EAGAIN 11
#define SIGILL 4
#define SIGTRAP 5
#define SIGABRT 6
#define SIGBUS 7
#define SIGFPE 8
#define SIGSEGV 11
#define SIGCHLD 17
#define WNOHANG 0x00000001
#define SI_USER 0
#define SI_KERNEL 0x80
#define SI_QUEUE (-1)
#define SI_TKILL (-6)

/* Kernel-internal types: relocated by CO-RE, see above. */
#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

typedef struct {
	int counter;
} atomic_t;

struct signal_struct {
	atomic_t live; /* threads not yet past do_exit()'s group_dead test */
};

struct task_struct {
	pid_t pid;  /* thread id */
	pid_t tgid; /* process id */
	int exit_code; /* wait(2) status once in do_exit() */
	char comm[16];
	unsigned int ptrace; /* PT_PTRACED etc.: 0 when no tracer follows it */
	struct task_struct *real_parent;
	struct signal_struct *signal;
};

union __sifields {
	struct {
		int _pid;
		unsigned int _uid;
	} _kill;
	struct {
		void *_addr; /* the faulting address */
	} _sigfault;
};

/* The kernel wraps these three in an anonymous struct (__SIGINFO); CO-RE finds them there. */
struct kernel_siginfo {
	int si_signo;
	int si_errno;
	int si_code;
	union __sifields _sifields;
};

/* A task's user registers (the sys_enter/sys_exit tracepoints' regs, bpf_task_pt_regs).
 * x86-64: cs and ss are left out (unions since FRED), nothing reads them. */
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di;
	unsigned long orig_ax; /* the syscall number */
	unsigned long ip, flags, sp;
};
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs {
	u64 regs[31]; /* in an anonymous struct of a union with user_pt_regs */
	u64 orig_x0;  /* x0 at syscall entry (regs[0] becomes the return value) */
	s32 syscallno;
};
#endif

#pragma clang attribute pop

/* Only passed around as pointers. */
struct linux_binprm;
struct k_sigaction;

#endif
