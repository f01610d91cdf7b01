/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_RUNSTORE_H
#define FTSCOPE_RUNSTORE_H

/*
 * The run store: the one owner of a run directory on disk (docs/results.md).
 *
 *   writing    runstore_write_meta() (ft_meta.json, atomically),
 *              runstore_append_pkg() (one line of ft_results.jsonl, fsync'd)
 *   loading    runstore_load(): the run read once (rundir.c finds the run, its meta and
 *              the last line per package) and turned into a *typed view*: the run's meta,
 *              its packages, their iterations (status as an enum, crash signature taken
 *              apart once, hangs with their waits and cycles, crashes), TSAN races and
 *              flaky tests
 *   merging    runstore_merge_dirs(): shards written as one run directory (ftscope merge),
 *              which every reader then loads like any run
 *
 * Commands and report formats read the view, never JSON keys. The view's strings are
 * borrowed from the loaded JSON: they live as long as the view. The `raw` members are
 * there for what is a JSON document by nature (`export --format json` copies the package
 * objects, `compat` and the reports' extension table walk extension_compat) and for the
 * iteration's forensics.json, which the forensics layer reads.
 */
#include <stdbool.h>
#include <stddef.h>

#include "ftscope/category.h"
#include "ftscope/cluster.h"
#include "ftscope/rundir.h"
#include "ftscope/util.h"
#include "ftscope/verdict.h"

struct cJSON;

/* ---- the view ---- */

/* A crash a tracer saw in an iteration (a runner's or a child's). */
struct rs_crash {
	long pid;
	const char *comm, *signal, *signature, *signature_id;
	bool runner;                   /* the test runner itself, not a child it survived */
	bool runner_known;             /* "runner" is a boolean */
};

/* A thread of a hung iteration waiting on something (hang.waits[]). */
struct rs_wait {
	long pid, tid, owner;          /* owner: the holder's tid, 0 unknown */
	const char *comm, *lock, *native, *python;
};

/* A wait-for cycle (hang.cycles[]). */
struct rs_cycle {
	long *tids;
	size_t ntids;
	bool certain;
};

/* A thread as the /proc monitor saw it in a hang (hang.threads[]). */
struct rs_proc_thread {
	int pid, tid;
	const char *comm, *state, *syscall, *futex_op; /* may be NULL */
	bool blocked;
};

struct rs_hang {
	bool present;                  /* the iteration has a "hang" object */
	struct rs_proc_thread *threads;
	size_t nthreads;
	const char *python_stacks;     /* faulthandler's dump, or NULL */
	const char *reason;            /* "lock_wait", "stall", "timeout"; may be NULL */
	double detected_after_s;
	struct rs_wait *waits;
	size_t nwaits;
	struct rs_cycle *cycles;
	size_t ncycles;
};

/* One test's outcome in an iteration ("PASSED", "FAILED", ...). */
struct rs_test {
	const char *id, *outcome;
};

struct rs_iter {
	int status;                    /* enum iter_status; -1: missing or unknown */
	const char *status_text;       /* "status" as written; NULL when not a string */
	bool gil;                      /* a PYTHON_GIL=1 iteration (gil_enabled_iterations) */
	bool stress;                   /* a stress iteration (stress.iterations) */
	const char *gil_text;          /* "gil" as written ("0", "1"), or NULL */
	long index;
	double duration_s;
	const char *crash_signal, *crash_signature, *crash_signature_id;
	struct sig_parts sig;          /* crash_signature taken apart (cluster.h's one rule) */
	struct rs_crash *crashes;
	size_t ncrashes;
	struct rs_hang hang;
	const char *last_output_line;  /* may be NULL */
	bool has_test_results;         /* test_results is an object */
	struct rs_test *tests;         /* test_results, in file order (outcome NULL: not a
					  string) */
	size_t ntests;
	const struct cJSON *raw;       /* the iteration object (forensics: rundir.h) */
};

/* A TSAN race of a package (tsan_races[]). */
struct rs_race {
	const char *signature_id, *kind, *signature, *summary;
	long count;                    /* reports */
	bool iterations_is_count;      /* "iterations" was a number: iterations_count */
	long iterations_count;
	struct strv iterations;        /* else its items as text ("1", "gil-2"); may be empty */
	bool has_iterations;           /* "iterations" was a number or an array */
	bool suppressed;
};

/* A test that both failed and passed (flaky_tests), in file order. */
struct rs_flaky {
	const char *test;
	long fails;
};

/* A free-threading declaration found in the package's source (source_scan). */
struct rs_decl {
	const char *file, *kind, *line_text; /* may be NULL */
	int line_number;
	bool is_not_used;
};

/* An extension module the import probe saw (extension_compat.extensions[]). */
struct rs_module {
	const char *module_name, *import_error; /* may be NULL */
	bool is_extension, import_ok, triggered_gil_fallback; /* defaults: true, true, false */
};

/* extension_compat (the import probe and the source scan). */
struct rs_ext {
	bool present;                  /* extension_compat is an object */
	struct rs_module *modules;     /* extensions[] */
	size_t nmodules;
	size_t nextensions;            /* extensions[] whose is_extension is not false */
	bool import_ok;                /* true when absent */
	const char *import_error, *probe_error; /* may be NULL */
	int is_pure_python;            /* 1, 0, -1: not a boolean (not probed) */
	bool gil_fallback_active;
	const char *gil_fallback_module; /* the first extension that triggered it, or NULL */
	bool scanned;                  /* source_scan is an object */
	long files_scanned, files_with_mod_gil;
	bool truncated;
	struct rs_decl *decls;         /* source_scan.declarations */
	size_t ndecls;
	const struct cJSON *raw_extensions, *raw_scan; /* for JSON output; may be NULL */
};

/* PEP 779's ratios of a package (docs/results.md); absent numbers are 0, verdicts -1. */
struct rs_pep779 {
	double time_ratio, rss_ratio, ft_median_s, gil_median_s, ft_median_rss_kb,
		gil_median_rss_kb;
	int time_ok, rss_ok;           /* 1 yes, 0 no, -1 not a boolean (n/a) */
};

struct rs_pkg {
	const char *name;
	enum ft_category cat;
	const char *category_text;     /* "category" as written, or NULL */
	long iters, passes, fails, crashes, deadlocks, timeouts, tsan_iters;
	double pass_rate;              /* pass_rate, else passes/iters, else 0 */
	double mean_duration_s;        /* 0 when absent */
	bool has_gil_pass_rate;        /* gil_enabled_pass_rate is a number: */
	double gil_pass_rate;
	const char *commit;            /* may be NULL */
	const char *gil_comparison;    /* NULL without --compare-with-gil */
	bool has_gil_iters;            /* gil_enabled_iterations is an array */
	struct rs_iter *it;            /* iterations */
	size_t nit;
	struct rs_iter *git;           /* gil_enabled_iterations */
	size_t ngit;
	struct rs_iter *sit;           /* stress.iterations (run --parallel-threads) */
	size_t nsit;
	struct strv failure_signatures, tsan_warning_types, gil_fallback_modules;
	size_t nfailure_signatures_any; /* failure_signatures' size, whatever its items */
	struct rs_race *races;
	size_t nraces;
	struct rs_flaky *flaky;
	size_t nflaky;
	size_t nflaky_any;             /* flaky_tests' size, whatever its type */
	bool interrupted;
	bool stress_only;              /* every plain iteration passed, some stress one did not */
	bool install_ok, import_ok;    /* true when absent */
	const char *import_error;      /* may be NULL */
	const char *started_at;        /* may be NULL */
	long stalls;                   /* hang_count.stall */
	int concurrency_exercised;     /* 1, 0, -1: absent or not a boolean */
	struct rs_ext ext;
	bool is_ext;                   /* the probe found C extensions (is_pure_python false) */
	bool has_pep779;               /* pep779 below is measured (only with GIL iterations:
					  the stored object, or computed for runs recorded
					  before it existed) */
	struct rs_pep779 pep779;
	bool has_pep779_baseline;      /* --baseline-python: the free-threaded build against the
					  default build (pep779_baseline), PEP 779's own compare */
	struct rs_pep779 pep779_baseline;
	const struct cJSON *ext_compat; /* extension_compat, or NULL */
	const char *run_dir;           /* the run it comes from (artifacts are relative) */
	const struct cJSON *raw;       /* the package object */
};

enum rs_status { RS_COMPLETE, RS_INTERRUPTED, RS_RUNNING, RS_UNKNOWN };

struct rs_meta {
	bool present;                  /* ft_meta.json was read */
	const char *run_id;            /* meta's (not empty), else the directory's name (its
					  trailing slashes trimmed from rd.dir) */
	enum rs_status status;         /* no meta: RS_UNKNOWN; no "status": RS_COMPLETE */
	const char *status_text;       /* "status" as written, or NULL */
	long packages_total;           /* 0 unknown */
	bool compare_with_gil;         /* config.compare_with_gil */
	const char *started_at, *timestamp, *finished_at; /* NULL when absent */
	double total_duration_s;       /* 0 unknown */
	struct {
		bool present;          /* python_profile is an object */
		const char *version, *implementation, *compiler, *path;
		bool gil_disabled, debug_build, jit_enabled;
	} python;
	struct {
		bool present;          /* system_profile exists */
		bool is_object;
		const char *cpu_model, *os_distro;
		double cpu_cores_logical, ram_total_gb;
	} system;                      /* a merged run's: what all its hosts had alike */
	struct {
		size_t nshards;        /* merged_from[]'s items; 0: not a merged run */
		const struct cJSON *from; /* merged_from[] (each shard's host, profile, times) */
		double shards_duration_sum_s; /* the shards' own durations added; 0 unknown */
	} merged;
	struct {
		double iterations, deadlock_window, timeout; /* 0 unknown */
		bool has_iterations;   /* config.iterations is a number */
		bool stop_on_first_pass, tsan_build;
		const char *tracer, *install_from;
	} config;
	struct rs_skipped {
		const char *name;      /* NULL: not named */
		const char *reason;    /* may be NULL */
	} *skipped;                    /* packages_skipped[], when it is an array */
	size_t nskipped;               /* its items (0 when not an array) */
	size_t nskipped_any;           /* the member's size whatever its type */
	const struct cJSON *raw;       /* ft_meta.json, or NULL */
};

/*
 * A merged run (ftscope merge), for people. rs_merged_text(): "3 shards on hosts a, b", or
 * NULL for a run that is no merge. rs_merged_systems(): when the shards' hosts differ in
 * CPU, CPU count, memory or OS, each kind with its hosts ("Xeon 8380, 64 CPUs, 256 GB RAM,
 * Debian 12 on a, b; EPYC 7763, 128 CPUs, 512 GB RAM, Debian 12 on c"), else NULL.
 * Both malloc'd.
 */
char *rs_merged_text(const struct rs_meta *m);
char *rs_merged_systems(const struct rs_meta *m);

struct run_view {
	struct run_data rd;            /* what was read (rundir.h); owned */
	struct rs_meta meta;
	struct rs_pkg *pkgs;           /* in run order */
	size_t n;
};

/* Load dir (run_load's rules) into v. 0, or -1 after printing why. */
int runstore_load(const char *dir, struct run_view *v);
void run_view_release(struct run_view *v);
/* The package named `name`, or NULL. */
const struct rs_pkg *run_view_pkg(const struct run_view *v, const char *name);

/*
 * Shards joined on disk (ftscope merge; src/results/runstore_merge.c): the runs in dirs (run
 * directories, or results directories: their newest run) written as the new run directory
 * out_dir. They must share the selection and the result options (shard.h) and no package;
 * packages of the selection none of them finished make the status "partial" (their names
 * in res->missing, which the caller releases). 0, or -1 after printing why (out_dir is then
 * not left behind).
 */
struct runstore_merged {
	size_t inputs, packages, finished;
	size_t linked, copied, skipped; /* artifact files */
	struct strv missing;
};
int runstore_merge_dirs(const char *out_dir, char *const *dirs, size_t ndirs,
			struct runstore_merged *res);

/*
 * The Python stacks of a hung iteration's threads, from its forensics.json (the hang's
 * snapshot: the last one whose reason is not "crash"). runstore_hang_stacks() reads it
 * (present false when there is none); runstore_hang_stacks_python() appends the thread's
 * Python frames, innermost first, at most max, as "file.py:24 func" (the file's basename).
 */
struct rs_hang_stacks {
	bool present;
	size_t max;
	struct cJSON *forensics;       /* owned */
	const struct cJSON *snap;
};
void runstore_hang_stacks(const struct rs_pkg *p, const struct rs_iter *it, size_t max,
			  struct rs_hang_stacks *st);
void runstore_hang_stacks_python(const struct rs_hang_stacks *st, long tid, struct strv *out);
void runstore_hang_stacks_release(struct rs_hang_stacks *st);

/*
 * A crash's snapshot in an iteration's forensics.json (iter: the iteration object, e.g.
 * rs_iter.raw): the crash snapshot with that signature id, else the one of that pid, else
 * (a runner's crash, child false) any crash snapshot; its crashing process and thread.
 * runstore_crash_snapshot() returns 0, or -1 when the iteration names no forensics.json,
 * it cannot be read, or no crash snapshot matches. runstore_crash_snapshot_reduced(): a
 * snapshot holding only that process (pid, exe, cmdline, python) and thread, for
 * snapshot_print_json() and JSON output; caller owns it.
 */
struct rs_crash_snapshot {
	char *path;                    /* the forensics.json read */
	struct cJSON *forensics;       /* owned */
	const struct cJSON *proc, *thread;
};
bool runstore_iter_has_forensics(const struct cJSON *iter);
int runstore_crash_snapshot(const char *run_dir, const struct cJSON *iter, const char *sig_id,
			    long pid, bool child, struct rs_crash_snapshot *out);
struct cJSON *runstore_crash_snapshot_reduced(const struct rs_crash_snapshot *s);
void rs_crash_snapshot_release(struct rs_crash_snapshot *s);

/* One package object as a view (a worker's result before it is appended, tests). Release
 * with rs_pkg_release. The object must outlive p. */
void rs_pkg_from_json(struct rs_pkg *p, const struct cJSON *o, const char *run_dir);
void rs_pkg_release(struct rs_pkg *p);

/* Iteration helpers. */
bool rs_iter_is(const struct rs_iter *it, enum iter_status s);
/* The test outcome counts as a failure: FAILED or ERROR. */
bool rs_test_failed(const struct rs_test *t);

/* ---- writing ---- */

/* ft_meta.json of run_dir, atomically (json_print formatted). 0 or -1 after an error. */
int runstore_write_meta(const char *run_dir, struct cJSON *meta);
/* One package object as one line of run_dir/ft_results.jsonl (appended, fsync'd). */
int runstore_append_pkg(const char *run_dir, struct cJSON *pkg);

#endif
