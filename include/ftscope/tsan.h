/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_TSAN_H
#define FTSCOPE_TSAN_H

/*
 * ThreadSanitizer reports (reference/lowlevel.md §5), parsed whole from text: a process's
 * stderr or the `log_path=DIR/tsan` files (tsan.<pid>) TSAN writes, as printed by
 * compiler-rt's tsan_report.cpp (gcc's libtsan and clang's runtime print the same):
 *
 *   ==================
 *   WARNING: ThreadSanitizer: data race (pid=7170)
 *     Read of size 8 at 0x7fd2f7b05188 by thread T1 (mutexes: write M0):
 *       #0 ftfix_tsan_bump_impl ftfix_tsan/_counter.c:18 (_counter.so+0x11fa)
 *
 *     Previous write of size 8 at 0x7fd2f7b05188 by thread T4:
 *       #0 ...
 *
 *     Location is global 'counter' of size 8 at 0x7fd2f7b05188 (_counter.so+0x4188)
 *
 *     Thread T1 (tid=7709, running) created by main thread at:
 *       #0 ...
 *
 *   SUMMARY: ThreadSanitizer: data race ftfix_tsan/_counter.c:18 in ftfix_tsan_bump_impl
 *   ==================
 *
 * Every report has a signature: the kind plus the normalized top non-runtime frame of each
 * of its two main stacks (the accesses of a race; the "acquired here" stacks of a lock-order
 * inversion; the headerless stacks of mutex and signal reports; the creation stack of a
 * leaked thread), sorted, since either side may print first. TSAN runtime and interceptor
 * frames, addresses, M<n>/T<n> ids and pids never enter it, so the same race has the same
 * id in every iteration, process and run.
 *
 * Ownership: everything a parse returns belongs to the struct tsan_reports it was added to;
 * tsan_reports_release() frees it all. Parsing never fails: whatever does not fit the
 * grammar is skipped, and a report cut short (no SUMMARY line) is kept with `truncated`.
 */
#include <stdbool.h>
#include <stddef.h>

#include "ftscope/util.h"

struct tsan_frame {
	char *function;            /* as printed; NULL when TSAN printed <null> */
	char *file;                /* NULL for <null> and ??  */
	int line, column;          /* 0 when unknown */
	char *module;              /* basename; NULL when unknown */
	unsigned long long offset; /* offset in module */
	bool runtime;              /* a TSAN runtime or interceptor frame (never signs) */
};

enum tsan_stack_kind {
	TSAN_STACK_ACCESS,        /* "Write of size 8 at ... by thread T1:", "Previous read ..." */
	TSAN_STACK_PRIMARY,       /* no header (mutex/signal reports), "and:", "Signal N handler" */
	TSAN_STACK_ACQUIRED,      /* "Mutex M1 acquired here while holding mutex M0 in ...:" */
	TSAN_STACK_PREV_ACQUIRED, /* "Mutex M0 previously acquired by the same thread here:" */
	TSAN_STACK_LOCATION,      /* "Location is heap block ... allocated by ...:", fd */
	TSAN_STACK_MUTEX,         /* "Mutex M0 (0x...) created at:" */
	TSAN_STACK_THREAD,        /* "Thread T1 (tid=..., running) created by main thread at:" */
	TSAN_STACK_OTHER,         /* "As if synchronized via sleep:", anything else */
};

struct tsan_stack {
	enum tsan_stack_kind kind;
	char *header;      /* the section line without indentation and ':'; NULL if none */
	/* TSAN_STACK_ACCESS only: */
	char *op;          /* "write", "read", "atomic write", "atomic read" (lower case) */
	int size;          /* bytes accessed */
	char *thread;      /* "main thread", "thread T4" */
	char *mutexes;     /* "write M0, read M1", or NULL */
	bool previous;     /* the "Previous ..." access */
	struct tsan_frame *frames; /* innermost first */
	size_t nframes;
	bool unrestored;   /* "[failed to restore the stack]" */
};

struct tsan_report {
	char *kind;        /* "data race", "thread leak",
			      "lock-order-inversion (potential deadlock)" */
	long pid;          /* -1 if not printed */
	struct tsan_stack *stacks;
	size_t nstacks;
	char *location;    /* the first "Location is ..." without "Location is " and addresses,
			      or NULL */
	char *summary;     /* the SUMMARY text after "ThreadSanitizer: ", or NULL */
	char *summary_location; /* "file.c:18[:5]" or "module+0x12", or NULL */
	char *summary_function; /* or NULL */
	char *signature;   /* "data race | ftfix_tsan_bump_impl | ftfix_tsan_bump_impl" */
	char id[17];       /* hash of signature, 16 hex digits */
	bool truncated;    /* no SUMMARY line: the report was cut short */
	bool fatal;        /* "ERROR: ThreadSanitizer: SEGV on unknown address" (or FATAL:): the
			      runtime caught a deadly signal or error and ended the process, with
			      TSAN_OPTIONS' exitcode (ftscope's 0). kind is "SEGV", "BUS", ... */
	bool suppressed;   /* set by tsan_supp_apply() */
	char *suppressed_by; /* the matching rule "race:foo", or NULL */
};

struct tsan_reports {
	struct tsan_report *v;
	size_t n, cap;
	size_t more;       /* reports seen past TSAN_REPORTS_KEEP: counted, not kept */
};
#define TSAN_REPORTS_INIT { NULL, 0, 0, 0 }
/* At most this many reports are kept per struct tsan_reports (a 16 MB stderr of tiny fake
 * reports must not take gigabytes). */
#define TSAN_REPORTS_KEEP 10000

/* Append every report found in text[0..len) to out; returns how many were added. */
size_t tsan_parse(const char *text, size_t len, struct tsan_reports *out);
void tsan_reports_release(struct tsan_reports *r);
/* The signal a fatal report stands for (SEGV -> SIGSEGV, ...; other fatal errors SIGABRT);
 * 0 for a warning. */
int tsan_fatal_signal(const struct tsan_report *r);
/* The first fatal report of r, or NULL. */
const struct tsan_report *tsan_first_fatal(const struct tsan_reports *r);

/*
 * The stacks that make the signature (see above): up to `max` of them into out, in report
 * order; returns how many.
 */
size_t tsan_key_stacks(const struct tsan_report *r, const struct tsan_stack **out, size_t max);
/* The first n normalized non-runtime frames of s as "func (file:line)" or
 * "func (module+0xoff)"; returns how many were stored (each malloc'd). */
size_t tsan_top_frames(const struct tsan_stack *s, char **out, size_t n);
/* Whether a frame belongs to the TSAN runtime (interceptors, __tsan_*, libtsan). */
bool tsan_frame_is_runtime(const char *function, const char *file, const char *module);

/*
 * Suppressions (google/sanitizers wiki "ThreadSanitizerSuppressions"): one `type:pattern`
 * per line, '#' comments. Types race, race_top, thread, mutex, signal, deadlock,
 * called_from_lib. Patterns match a frame's function, file or module; '*' is a wildcard,
 * a pattern matches anywhere unless anchored with a leading '^' or trailing '$'.
 *   race:      any frame of any stack of a race report (accesses, threads) or a global's name
 *   race_top:  the top frame of each of those stacks
 *   thread, mutex, signal, deadlock: like race, for those report kinds
 *   called_from_lib: (TSAN ignores interceptors called from that library) a report whose
 *              access starts in an interceptor called from a matching module
 */
enum tsan_supp_type {
	TSAN_SUPP_RACE, TSAN_SUPP_RACE_TOP, TSAN_SUPP_THREAD, TSAN_SUPP_MUTEX, TSAN_SUPP_SIGNAL,
	TSAN_SUPP_DEADLOCK, TSAN_SUPP_CALLED_FROM_LIB,
};

struct tsan_supp_rule {
	enum tsan_supp_type type;
	char *pattern;
	char *text;        /* "race:foo" as written */
};

struct tsan_supp {
	struct tsan_supp_rule *rules;
	size_t n, cap;
};
#define TSAN_SUPP_INIT { NULL, 0, 0 }

/* Parse suppressions text. 0, or -1 after error() naming `name` and the bad line. */
int tsan_supp_parse(const char *text, const char *name, struct tsan_supp *s);
/* Read and parse a file: 0, or -1 after error(). */
int tsan_supp_load(const char *path, struct tsan_supp *s);
void tsan_supp_release(struct tsan_supp *s);
/* The first rule suppressing r, or NULL. */
const struct tsan_supp_rule *tsan_supp_match(const struct tsan_supp *s,
					     const struct tsan_report *r);
/* Mark every report a rule matches (suppressed, suppressed_by). s may be NULL. */
void tsan_supp_apply(const struct tsan_supp *s, struct tsan_reports *r);
/* TSAN's pattern semantics: '*' wildcard, implicit '*' at both ends unless ^ / $. */
bool tsan_pattern_match(const char *pattern, const char *str);

/*
 * The install's environment in --tsan mode: the package's C/C++ extensions (and whatever
 * pip builds from source for it) are compiled and linked with -fsanitize=thread -g
 * (CFLAGS, CXXFLAGS, LDFLAGS, appended to any the environment has), so TSAN sees their
 * memory accesses; the runtime they need is the one ftscope preloads.
 */
void tsan_build_env(struct strv *env);

/*
 * Running an uninstrumented interpreter with instrumented extensions.
 *
 * tsan_binary_instrumented: 1 if the interpreter (or a libpython it needs) carries the TSAN
 * runtime or its instrumentation (DT_NEEDED libtsan / libclang_rt.tsan, or a __tsan_init /
 * __tsan_func_entry symbol), 0 if not, -1 (with a warning) if it cannot be read.
 */
int tsan_binary_instrumented(const char *python);
/*
 * The TSAN runtime shared library to LD_PRELOAD (extensions built by gcc -fsanitize=thread
 * need libtsan.so.N loaded before anything else: dlopen'ing it fails with "cannot allocate
 * memory in static TLS block"): $FTSCOPE_TSAN_RUNTIME, else what `cc -print-file-name=
 * libtsan.so` resolves to, else the first libtsan.so.N found in the usual library
 * directories. malloc'd, or NULL if there is none.
 */
char *tsan_runtime_path(void);
/*
 * Build (with `cc`) dir/ftscope_tsan_init.so, a library whose constructor calls __tsan_init(),
 * to preload after the runtime. Preloaded alone, the runtime initializes at its first
 * interceptor call, and a program whose main() calls setjmp() before anything else (dash and
 * bash, so /bin/sh and every shell a test starts) jumps through the still-NULL real _setjmp:
 * SIGSEGV. Returns the library's path (malloc'd), or NULL after a warning.
 */
char *tsan_build_init_lib(const char *runtime, const char *dir);
/*
 * Run `/bin/sh -c :` with LD_PRELOAD=preload: 0 if it works, else -1 with its stderr (or why
 * it could not run) in *why (malloc'd).
 */
int tsan_preload_check(const char *preload, char **why);
/* Append the contents of dirfd/<prefix>.* (TSAN's log_path files, one per process, in name
 * order) to out, each read with read_file_at (regular files of `owner`, no symlink), at most
 * max bytes in all; returns how many files were read. */
int tsan_read_logs(int dirfd, const char *prefix, uid_t owner, size_t max, struct sbuf *out);

#endif
