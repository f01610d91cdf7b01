/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/bpfrec.h"
#include "ftscope/cmd.h"
#include "ftscope/diskspace.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/gitrepo.h"
#include "ftscope/ptracer.h"
#include "ftscope/registry.h"
#include "ftscope/results.h"
#include "ftscope/rundir.h"
#include "ftscope/sandbox.h"
#include "ftscope/srcscan.h"
#include "ftscope/supervise.h"
#include "ftscope/sysinfo.h"
#include "ftscope/testreport.h"
#include "ftscope/text.h"
#include "ftscope/tsan.h"
#include "ftscope/version.h"
#include "ftscope/workspace.h"

static const char *const run_usage[] = {
	"usage: ftscope run --target-python PATH (--registry-dir DIR | --package-dir PATH) [options]",
	"       ftscope run --resume RUN_DIR [options]",
	"",
	"Run each package's test suite --iterations times under the free-threaded interpreter",
	"with PYTHON_GIL=0, watch every process of it, and classify the package.",
	"",
	"Packages:",
	"  --registry-dir DIR         labeille/laruche registry (index.yaml + packages/*.yaml);",
	"                             default $FTSCOPE_REGISTRY_DIR, $LABEILLE_REGISTRY_DIR,",
	"                             ~/.local/share/labeille/registry",
	"  --packages A,B             only these registry packages",
	"  --top N                    the first N selected packages (index order)",
	"  --package-dir PATH         one local checkout instead of a registry",
	"  --repos-dir DIR            root's clones, never given to test code (default: repos)",
	"  --venvs-dir DIR            per-run workspaces: each package's staged sources, venv,",
	"                             HOME and TMPDIR, removed when it is done (default: venvs)",
	"  --results-dir DIR          where ft_YYYYMMDD_HHMMSS/ is made (default: results)",
	"Iterations:",
	"  --target-python PATH       a free-threaded CPython (configure --disable-gil)",
	"  --iterations N             runs per package (default 10)",
	"  --timeout S                per iteration; default: the registry's timeout, else 600",
	"  --deadlock-window S        all threads blocked in untimed lock waits with no CPU for",
	"                             S seconds is a deadlock (default 2)",
	"  --stall-threshold S        no output and no CPU for S seconds is a stall (default 60)",
	"  --stop-on-first-pass       stop a package's iterations at its first pass",
	"  --compare-with-gil         also run every package with PYTHON_GIL=1",
	"  --detect-extensions        probe extension modules for GIL fallback (default)",
	"  --no-detect-extensions     skip the import probe",
	"  --tsan                     collect ThreadSanitizer reports (a TSAN interpreter, or",
	"                             TSAN-built extensions: the runtime is then preloaded)",
	"  --tsan-suppressions FILE   TSAN suppressions (race:, race_top:, ...); implies --tsan",
	"  --check-stability          report the machine's load before starting",
	"  --extra-deps A,B           pip install these into every venv (offline: paths/wheels)",
	"  --offline                  installs use no package index and no build isolation (the",
	"                             build backends setup provisions are used); default: pip",
	"                             does what your pip configuration and PIP_* variables say",
	"  --find-links DIR           also install from this directory of wheels (a wheelhouse)",
	"  --test-command-suffix STR  appended to every test command",
	"  --test-command-override STR  replaces every test command",
	"  --env KEY=VALUE            extra environment for installs and tests (repeatable)",
	"  --max-output BYTES         captured bytes kept per stream and iteration (default 16M)",
	"  --max-pids N               tasks (processes + threads) one iteration may have at once",
	"                             (pids cgroup; default 4096; 0: no limit)",
	"  --tracer auto|ebpf|ptrace|none  how processes are watched: ptrace follows every",
	"                             process and thread (crash stops, every exit, snapshots);",
	"                             ebpf adds the eBPF recorder (signals, lock waits, thread",
	"                             states in real time; drives the deadlock window); none reads",
	"                             /proc only; auto (default): ebpf, else ptrace, else none",
	"  --jobs N                   packages in parallel (default 1)",
	"  --user NAME                run installs and tests as NAME (default, as root: a test",
	"                             uid of its own per package, 65100-65355; --user root",
	"                             runs them as root)",
	"  --resume RUN_DIR           continue an interrupted run (its options are reused)",
	"  -v, --verbose              more detail",
	NULL,
};

enum {
	OPT_TARGET = 0x100, OPT_ITERATIONS, OPT_TIMEOUT, OPT_STALL, OPT_WINDOW, OPT_PACKAGES,
	OPT_TOP, OPT_COMPARE, OPT_STOP_FIRST, OPT_DETECT, OPT_NO_DETECT, OPT_TSAN, OPT_STABILITY,
	OPT_EXTRA_DEPS, OPT_SUFFIX, OPT_OVERRIDE, OPT_ENV, OPT_REGISTRY, OPT_REPOS, OPT_VENVS,
	OPT_RESULTS, OPT_PACKAGE_DIR, OPT_TRACER, OPT_JOBS, OPT_RESUME, OPT_MAX_OUTPUT, OPT_MAX_PIDS,
	OPT_USER, OPT_TSAN_SUPP, OPT_OFFLINE, OPT_FIND_LINKS, OPT_HELP,
};

struct run_opts {
	char *target_python;
	long iterations;
	double timeout; /* < 0: unset */
	double stall_threshold, deadlock_window;
	struct strv packages;
	long top;
	bool compare_with_gil, stop_on_first_pass, detect_extensions, tsan, check_stability;
	struct strv extra_deps;
	char *suffix, *override;
	struct strv env;
	char *registry_dir, *repos_dir, *venvs_dir, *results_dir, *package_dir;
	char *tracer;
	long jobs;
	char *resume;
	long max_output;
	long max_pids;
	char *user;
	char *tsan_suppressions;
	bool offline;
	char *find_links;
};

static void run_opts_init(struct run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->iterations = 10;
	o->timeout = -1;
	o->stall_threshold = 60;
	o->deadlock_window = 2;
	o->detect_extensions = true;
	o->jobs = 1;
	o->max_output = 16L << 20;
	o->max_pids = 4096;
}

static void run_opts_release(struct run_opts *o)
{
	free(o->target_python);
	strv_release(&o->packages);
	strv_release(&o->extra_deps);
	free(o->suffix);
	free(o->override);
	strv_release(&o->env);
	free(o->registry_dir);
	free(o->repos_dir);
	free(o->venvs_dir);
	free(o->results_dir);
	free(o->package_dir);
	free(o->tracer);
	free(o->resume);
	free(o->user);
	free(o->tsan_suppressions);
	free(o->find_links);
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

static const struct option run_longopts[] = {
	{ "target-python", required_argument, NULL, OPT_TARGET },
	{ "iterations", required_argument, NULL, OPT_ITERATIONS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "stall-threshold", required_argument, NULL, OPT_STALL },
	{ "deadlock-window", required_argument, NULL, OPT_WINDOW },
	{ "packages", required_argument, NULL, OPT_PACKAGES },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "compare-with-gil", no_argument, NULL, OPT_COMPARE },
	{ "stop-on-first-pass", no_argument, NULL, OPT_STOP_FIRST },
	{ "detect-extensions", no_argument, NULL, OPT_DETECT },
	{ "no-detect-extensions", no_argument, NULL, OPT_NO_DETECT },
	{ "tsan", no_argument, NULL, OPT_TSAN },
	{ "tsan-suppressions", required_argument, NULL, OPT_TSAN_SUPP },
	{ "check-stability", no_argument, NULL, OPT_STABILITY },
	{ "extra-deps", required_argument, NULL, OPT_EXTRA_DEPS },
	{ "test-command-suffix", required_argument, NULL, OPT_SUFFIX },
	{ "test-command-override", required_argument, NULL, OPT_OVERRIDE },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "registry-dir", required_argument, NULL, OPT_REGISTRY },
	{ "repos-dir", required_argument, NULL, OPT_REPOS },
	{ "venvs-dir", required_argument, NULL, OPT_VENVS },
	{ "results-dir", required_argument, NULL, OPT_RESULTS },
	{ "package-dir", required_argument, NULL, OPT_PACKAGE_DIR },
	{ "tracer", required_argument, NULL, OPT_TRACER },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "resume", required_argument, NULL, OPT_RESUME },
	{ "max-output", required_argument, NULL, OPT_MAX_OUTPUT },
	{ "max-pids", required_argument, NULL, OPT_MAX_PIDS },
	{ "user", required_argument, NULL, OPT_USER },
	{ "offline", no_argument, NULL, OPT_OFFLINE },
	{ "find-links", required_argument, NULL, OPT_FIND_LINKS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static long parse_size(const char *s)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || v <= 0 || end == s)
		return -1;
	if (!strcmp(end, "K") || !strcmp(end, "k"))
		v <<= 10;
	else if (!strcmp(end, "M") || !strcmp(end, "m"))
		v <<= 20;
	else if (!strcmp(end, "G") || !strcmp(end, "g"))
		v <<= 30;
	else if (*end)
		return -1;
	return v;
}

/* Parse argv into o (may be called twice: stored args of a resumed run, then the new ones).
 * Returns 1 if --help was asked. Usage errors die. */
static int run_parse(int argc, char **argv, struct run_opts *o)
{
	int c;
	long l;
	double d;
	optind = 0; /* reset getopt for a second pass */
	while ((c = getopt_long(argc, argv, "+v", run_longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TARGET:
			set_str(&o->target_python, optarg);
			break;
		case OPT_ITERATIONS:
			if (parse_int(optarg, 1, 100000, &l) < 0)
				die_usage("run", "--iterations wants a whole number >= 1, not '%s'", optarg);
			o->iterations = l;
			break;
		case OPT_TIMEOUT:
		case OPT_STALL:
		case OPT_WINDOW:
			if (parse_double(optarg, 0, 1e7, &d) < 0 || (c == OPT_TIMEOUT && d <= 0))
				die_usage("run", "--%s wants seconds, not '%s'",
					  c == OPT_TIMEOUT ? "timeout" : c == OPT_STALL ? "stall-threshold"
											: "deadlock-window",
					  optarg);
			if (c == OPT_TIMEOUT)
				o->timeout = d;
			else if (c == OPT_STALL)
				o->stall_threshold = d;
			else
				o->deadlock_window = d;
			break;
		case OPT_PACKAGES:
			strv_split(&o->packages, optarg, ",");
			break;
		case OPT_TOP:
			if (parse_int(optarg, 1, 1000000, &l) < 0)
				die_usage("run", "--top wants a whole number >= 1, not '%s'", optarg);
			o->top = l;
			break;
		case OPT_COMPARE:
			o->compare_with_gil = true;
			break;
		case OPT_STOP_FIRST:
			o->stop_on_first_pass = true;
			break;
		case OPT_DETECT:
			o->detect_extensions = true;
			break;
		case OPT_NO_DETECT:
			o->detect_extensions = false;
			break;
		case OPT_TSAN:
			o->tsan = true;
			break;
		case OPT_TSAN_SUPP:
			set_str(&o->tsan_suppressions, optarg);
			o->tsan = true;
			break;
		case OPT_STABILITY:
			o->check_stability = true;
			break;
		case OPT_EXTRA_DEPS:
			strv_split(&o->extra_deps, optarg, ",");
			break;
		case OPT_SUFFIX:
			set_str(&o->suffix, optarg);
			break;
		case OPT_OVERRIDE:
			set_str(&o->override, optarg);
			break;
		case OPT_ENV:
			if (!strchr(optarg, '=') || optarg[0] == '=')
				die_usage("run", "--env wants KEY=VALUE, not '%s'", optarg);
			strv_push(&o->env, optarg);
			break;
		case OPT_REGISTRY:
			set_str(&o->registry_dir, optarg);
			break;
		case OPT_REPOS:
			set_str(&o->repos_dir, optarg);
			break;
		case OPT_VENVS:
			set_str(&o->venvs_dir, optarg);
			break;
		case OPT_RESULTS:
			set_str(&o->results_dir, optarg);
			break;
		case OPT_PACKAGE_DIR:
			set_str(&o->package_dir, optarg);
			break;
		case OPT_TRACER:
			if (strcmp(optarg, "auto") && strcmp(optarg, "none") && strcmp(optarg, "ptrace") &&
			    strcmp(optarg, "ebpf"))
				die_usage("run", "--tracer wants auto, none, ptrace or ebpf, not '%s'", optarg);
			set_str(&o->tracer, optarg);
			break;
		case OPT_JOBS:
			if (parse_int(optarg, 1, 64, &l) < 0)
				die_usage("run", "--jobs wants a number from 1 to 64, not '%s'", optarg);
			o->jobs = l;
			break;
		case OPT_RESUME:
			set_str(&o->resume, optarg);
			break;
		case OPT_MAX_OUTPUT:
			if ((o->max_output = parse_size(optarg)) < 4096)
				die_usage("run", "--max-output wants a size >= 4096 (e.g. 16M), not '%s'",
					  optarg);
			break;
		case OPT_MAX_PIDS:
			if (parse_int(optarg, 0, 4194304, &l) < 0 || (l > 0 && l < 16))
				die_usage("run", "--max-pids wants 0 (no limit) or a number >= 16, not '%s'",
					  optarg);
			o->max_pids = l;
			break;
		case OPT_USER:
			set_str(&o->user, optarg);
			break;
		case OPT_OFFLINE:
			o->offline = true;
			break;
		case OPT_FIND_LINKS:
			set_str(&o->find_links, optarg);
			break;
		case 'v':
			ft_verbose++;
			break;
		case OPT_HELP:
			return 1;
		default:
			die_usage("run", "unknown option");
		}
	}
	if (optind < argc)
		die_usage("run", "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* ---- run state ---- */

static volatile sig_atomic_t interrupted;

/* Stop? Ctrl-C, or a full disk, which ends the run as an interruption does (diskspace.h). */
static bool stop_requested(void)
{
	if (!interrupted && space_is_full())
		interrupted = 1;
	return interrupted;
}
static bool task_limit_warned;
/* Workers to pass a signal on to: a Ctrl-C reaches the whole process group, but a
 * `kill PID` or a service manager's SIGTERM reaches only this process. */
#define MAX_WORKERS 64
static volatile pid_t worker_pids[MAX_WORKERS];

/* Interrupted before the run directory exists: nothing to resume, nothing recorded. */
static _Noreturn void stop_before_start(const char *when)
{
	fprintf(stderr, "ftscope: interrupted %s, before the run started: nothing was "
			"recorded\n", when);
	exit(FT_EXIT_INTERRUPTED);
}

static void on_signal(int sig)
{
	interrupted = 1;
	for (int i = 0; i < MAX_WORKERS; i++)
		if (worker_pids[i] > 0)
			kill(worker_pids[i], sig);
}

/* Whose rights the test code runs with. */
enum user_mode {
	USER_SELF,    /* ftscope is not root, or --user root: no switch */
	USER_FIXED,   /* --user NAME: every package as NAME */
	USER_DYNAMIC, /* root's default: a test uid of its own per worker (sandbox.h) */
};

struct run_ctx {
	struct run_opts *o;
	char *run_dir;
	char *work_root;           /* <venvs-dir>/<run id>: the packages' workspaces */
	enum user_mode user_mode;
	struct run_as fixed_user;  /* USER_FIXED */
	int lock_fd;               /* flock on ft_run.lock while the run goes */
	char *results_path, *meta_path;
	cJSON *meta;
	cJSON *profile;
	struct strv base_env; /* host env, cleaned */
	size_t pkg_index, pkg_total;
	double t0;
	bool tty;
	enum tracer_kind tracer;
	char *tracer_reason;
	char *tsan_preload;        /* TSAN runtime to LD_PRELOAD (--tsan, uninstrumented python) */
	char *pip_config;          /* the invoker's pip.conf, copied for the test user, or NULL */
	struct tsan_supp tsan_supp; /* --tsan-suppressions, parsed */
};

struct progress {
	struct run_ctx *rc;
	const char *pkg;
	const char *phase;
	int iter, iters;
	int counts[5];
};

static void progress_draw(void *arg, double elapsed)
{
	struct progress *p = arg;
	struct run_ctx *rc = p->rc;
	double total = now_monotonic() - rc->t0;
	char *name;
	if (!rc->tty)
		return;
	(void)elapsed;
	name = term_str(p->pkg);
	fprintf(stderr,
		"\r\033[K[%zu/%zu] %-22.22s %s %d/%d  pass %d fail %d crash %d timeout %d "
		"deadlock %d  %d:%02d:%02d",
		rc->pkg_index, rc->pkg_total, name, p->phase, p->iter, p->iters, p->counts[0],
		p->counts[1], p->counts[2], p->counts[3], p->counts[4], (int)total / 3600,
		(int)total / 60 % 60, (int)total % 60);
	fflush(stderr);
	free(name);
}

static void progress_clear(struct run_ctx *rc)
{
	if (rc->tty) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
}

static int write_meta(struct run_ctx *rc)
{
	char *text = json_print(rc->meta, true);
	int ret = write_file_atomic(rc->meta_path, text, strlen(text));
	free(text);
	if (ret < 0) {
		errno = -ret;
		return error_errno("cannot write '%s'", rc->meta_path);
	}
	return 0;
}

static char *pkg_dirname(const char *name)
{
	char *s = xstrdup(name);
	for (char *p = s; *p; p++)
		if (*p == '/' || *p == ' ' || (p == s && *p == '.'))
			*p = '_';
	return s;
}

static double effective_timeout(const struct run_opts *o, const struct pkg_entry *e)
{
	if (o->timeout > 0)
		return o->timeout;
	if (e->timeout > 0)
		return e->timeout;
	return 600;
}

/* A short --timeout is about the tests; an install (a C build) gets at least 600 s. */
static double install_timeout(const struct run_opts *o, const struct pkg_entry *e)
{
	double t = effective_timeout(o, e);
	return t > 600 ? t : 600;
}

static char *test_command(const struct run_opts *o, const struct pkg_entry *e)
{
	const char *base = o->override ? o->override
		       : e->test_command ? e->test_command
					 : "python -m pytest";
	if (o->suffix && *o->suffix)
		return xasprintf("%s %s", base, o->suffix);
	return xstrdup(base);
}

static void env_apply_user(struct strv *env, const struct run_opts *o)
{
	for (size_t i = 0; i < o->env.n; i++) {
		char *k = xstrdup(o->env.v[i]), *eq = strchr(k, '=');
		*eq = '\0';
		env_set(env, k, eq + 1);
		free(k);
	}
}

/*
 * The test user's identity in the environment: HOME and TMPDIR in the package's workspace
 * (a --user NAME keeps a home of its own), nothing that points into the caller's session.
 */
static void env_for_user(struct strv *env, const struct workspace *ws)
{
	const struct run_as *ra = supervise_user();
	env_set(env, "HOME", ra && ra->home[0] ? ra->home : ws->home);
	env_set(env, "TMPDIR", ws->tmp);
	env_set(env, "XDG_RUNTIME_DIR", NULL);
	env_set(env, "XDG_CONFIG_HOME", NULL);
	env_set(env, "XDG_CACHE_HOME", NULL);
	env_set(env, "XDG_DATA_HOME", NULL);
	if (!ra)
		return;
	env_set(env, "USER", ra->name);
	env_set(env, "LOGNAME", ra->name);
}

/*
 * ThreadSanitizer's environment (--tsan). exitcode=0: reports never fail an iteration (the
 * category says tsan_warnings); log_path: each process writes DIR/tsan.<pid>, because pytest's
 * fd capture would swallow the reports of passing tests. With a preloaded runtime (the
 * interpreter is not instrumented, its extensions are): ignore_noninstrumented_modules=1, or
 * the interpreter's own malloc/free, whose synchronization TSAN cannot see, read as races.
 */
static void tsan_env(const struct run_ctx *rc, const char *log_dir, struct strv *env)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_adds(&sb, "halt_on_error=0 exitcode=0 second_deadlock_stack=1");
	if (rc->tsan_preload) {
		const char *pre = env_get(env, "LD_PRELOAD");
		char *v = pre && *pre ? xasprintf("%s %s", rc->tsan_preload, pre)
				      : xstrdup(rc->tsan_preload);
		sbuf_adds(&sb, " ignore_noninstrumented_modules=1");
		env_set(env, "LD_PRELOAD", v);
		free(v);
	}
	if (rc->o->tsan_suppressions)
		sbuf_addf(&sb, " suppressions='%s'", rc->o->tsan_suppressions);
	if (log_dir)
		sbuf_addf(&sb, " log_path='%s/tsan'", log_dir);
	env_set(env, "TSAN_OPTIONS", sb.buf);
	sbuf_release(&sb);
}

/* Environment of one test iteration; out_dir is the test's own output directory. */
static void iteration_env(struct run_ctx *rc, const struct workspace *ws, const char *gil,
			  const char *out_dir, struct strv *env)
{
	const char *addopts;
	char *ao, *junit = path_join(out_dir, "junit.xml");
	for (size_t i = 0; i < rc->base_env.n; i++)
		strv_push(env, rc->base_env.v[i]);
	env_for_venv(env, ws->venv);
	env_for_user(env, ws);
	env_set(env, "PYTHON_GIL", gil);
	env_set(env, "PYTHONFAULTHANDLER", "1");
	env_set(env, "PYTHONDONTWRITEBYTECODE", "1");
	env_set(env, "PYTHONUNBUFFERED", "1");
	env_set(env, "PY_COLORS", "0");
	if (rc->o->tsan)
		tsan_env(rc, out_dir, env);
	env_apply_user(env, rc->o);
	/* pytest, however the command starts it: JUnit report, no cache in the checkout, and
	 * -v so the last output line names the running test. */
	addopts = env_get(env, "PYTEST_ADDOPTS");
	ao = xasprintf("%s%s-v -p no:cacheprovider -o junit_family=xunit1 --junitxml=%s",
		       addopts ? addopts : "", addopts && *addopts ? " " : "", junit);
	env_set(env, "PYTEST_ADDOPTS", ao);
	free(ao);
	free(junit);
}

/* What root reads back of the test's own files, at most. */
#define ITERATION_MAX_BYTES (256u << 20)
#define TSAN_LOGS_MAX (64u << 20)

/*
 * A finished iteration's record from an earlier attempt (--resume), believed only if root
 * wrote it and nobody else could have: artifacts/<pkg>/<rel>/ and its iteration.json root's
 * and not writable by others, opened without following a symlink. NULL: rerun it.
 */
static cJSON *load_iteration(int pkg_fd, const char *rel, bool *refused)
{
	char *text = NULL;
	size_t len = 0;
	cJSON *j = NULL;
	int fd = open_dir_at(pkg_fd, rel, geteuid()), r = fd;
	if (fd >= 0) {
		r = read_file_at(fd, "iteration.json", ITERATION_MAX_BYTES, geteuid(), &text, &len);
		close(fd);
	}
	if (r == 0)
		j = iteration_parse(text, len);
	*refused = r < 0 && r != -ENOENT;
	free(text);
	return j;
}

/* Write root's copy of bytes the test produced into the iteration's artifacts. */
static void save_artifact(const char *dir, const char *name, const char *data, size_t len)
{
	char *p;
	if (!data || !len)
		return;
	p = path_join(dir, name);
	if (write_file_atomic(p, data, len) < 0)
		warning("cannot write '%s'", p);
	free(p);
}

/*
 * Run iterations [first..n] of one mode ("0" free-threaded, "1" GIL) and append them to arr.
 * The test writes only into its own out/<n>/ in the workspace; root writes the captures and
 * records into artifacts/<pkg>/<n>/, which only root can write (docs/security.md).
 * Returns false if interrupted.
 */
static bool run_iterations(struct run_ctx *rc, const struct pkg_entry *e, const char *pkgdir,
			   struct workspace *ws, const char *gil, cJSON *arr, struct progress *pg)
{
	const struct run_opts *o = rc->o;
	char *cmd = test_command(o, e);
	bool ok = true;
	int have = cJSON_GetArraySize(arr);
	for (int i = have + 1; i <= o->iterations; i++) {
		char *name = xasprintf("%s%d", gil[0] == '1' ? "gil-" : "", i);
		char *rel = xasprintf("artifacts/%s/%s", pkgdir, name);
		char *dir = path_join(rc->run_dir, rel), *out_dir = NULL;
		char *outp = path_join(dir, "stdout"), *errp = path_join(dir, "stderr");
		char *itp = path_join(dir, "iteration.json");
		char *stderr_text = NULL, *json, *junit = NULL;
		size_t junit_len = 0;
		struct strv env = STRV_INIT;
		struct sbuf err = SBUF_INIT, logs = SBUF_INIT;
		struct iter_outcome out;
		struct test_report tr = { 0 };
		struct iter_spec spec = {
			.command = cmd,
			.cwd = ws->src,
			.stdout_path = outp,
			.stderr_path = errp,
			.timeout = effective_timeout(o, e),
			.stall_threshold = o->stall_threshold,
			.deadlock_window = o->deadlock_window,
			.max_output = (size_t)o->max_output,
			.interrupted = &interrupted,
			.max_tasks = o->max_pids,
			.tracer = rc->tracer,
			.tick = progress_draw,
			.tick_arg = pg,
		};
		cJSON *it;
		int ofd;
		rm_rf(dir);
		if (mkdir(dir, 0755) < 0 || !(out_dir = workspace_iter_dir(ws, name, &err))) {
			warning("%s: cannot prepare iteration %d: %s", e->name, i,
				err.len ? err.buf : strerror(errno));
			sbuf_release(&err);
			free(name);
			free(rel);
			free(dir);
			free(outp);
			free(errp);
			free(itp);
			break;
		}
		iteration_env(rc, ws, gil, out_dir, &env);
		spec.envp = env.v;
		pg->iter = i;
		supervise_run(&spec, &out);
		if (out.killed_by == KILLED_INTERRUPT || interrupted) {
			ok = false; /* an unfinished iteration is not recorded */
		} else {
			/* root's own capture, bounded by --max-output plus the kept tail */
			stderr_text = read_text_at(AT_FDCWD, errp,
						   (size_t)o->max_output + (1u << 20), geteuid());
			ofd = workspace_iter_open(ws, name);
			if (o->tsan && ofd >= 0 &&
			    tsan_read_logs(ofd, "tsan", ws->uid, TSAN_LOGS_MAX, &logs) > 0) {
				/* TSAN's log_path files join stderr as the iteration's evidence. */
				struct sbuf ev = SBUF_INIT;
				char *lt = text_from_bytes(logs.buf, logs.len);
				if (stderr_text)
					sbuf_adds(&ev, stderr_text);
				if (ev.len && ev.buf[ev.len - 1] != '\n')
					sbuf_addc(&ev, '\n');
				sbuf_adds(&ev, lt);
				free(lt);
				free(stderr_text);
				stderr_text = sbuf_detach(&ev);
				save_artifact(dir, "tsan.log", logs.buf, logs.len);
			}
			if ((ofd < 0 || junit_parse_at(ofd, "junit.xml", ws->uid, &tr, &junit,
						       &junit_len) < 0) &&
			    !unittest_parse(stderr_text, &tr))
				pytest_summary_parse(out.stdout_tail, &tr);
			save_artifact(dir, "junit.xml", junit, junit_len);
			if (ofd >= 0)
				close(ofd);
			it = iteration_json(i, gil, &out, &tr, stderr_text, rel);
			if (out.forensics) {
				char *fp = path_join(dir, "forensics.json");
				char *ft = json_print(out.forensics, true);
				if (write_file_atomic(fp, ft, strlen(ft)) < 0)
					warning("cannot write '%s'", fp);
				else
					cJSON_AddStringToObject(it, "forensics", "forensics.json");
				free(fp);
				free(ft);
			}
			json = json_print(it, true);
			if (write_file_atomic(itp, json, strlen(json)) < 0)
				warning("cannot write '%s'", itp);
			free(json);
			pg->counts[iter_status_from_name(json_str(it, "status"))]++;
			debug("%s iteration %d (PYTHON_GIL=%s): %s in %.1fs", e->name, i, gil,
			      json_str(it, "status"), out.duration_s);
			cJSON_AddItemToArray(arr, it);
			if (stop_requested())
				ok = false; /* recorded; the next one is not started */
			if (!out.started)
				warning("%s: %s", e->name, out.spawn_error);
			if (out.task_limit_off && !task_limit_warned) {
				warning("no per-iteration task limit: %s", out.task_limit_off);
				task_limit_warned = true;
			}
		}
		rm_rf(out_dir);
		free(stderr_text);
		test_report_release(&tr);
		iter_outcome_release(&out);
		strv_release(&env);
		sbuf_release(&err);
		sbuf_release(&logs);
		free(junit);
		free(name);
		free(rel);
		free(dir);
		free(out_dir);
		free(outp);
		free(errp);
		free(itp);
		if (!ok)
			break;
		if (o->stop_on_first_pass && !strcmp(json_str(cJSON_GetArrayItem(arr, i - 1), "status"),
						     "pass"))
			break;
	}
	free(cmd);
	return ok;
}

/* Iterations already on disk from an interrupted attempt (--resume). */
static void recover_iterations(const char *art, const char *pkg, const char *prefix, long max,
			       cJSON *arr)
{
	int pfd = open_dir_at(AT_FDCWD, art, geteuid());
	if (pfd < 0)
		return;
	for (long i = 1; i <= max; i++) {
		char *rel = xasprintf("%s%ld", prefix, i);
		bool refused;
		cJSON *j = load_iteration(pfd, rel, &refused);
		if (refused)
			warning("%s: the record of iteration %s is not root's alone (others could "
				"write it): it is run again", pkg, rel);
		free(rel);
		if (!j)
			break;
		cJSON_AddItemToArray(arr, j);
	}
	close(pfd);
}

/* Install step: output to install.log; returns 0 or -1 with the last 500 chars in *why. */
static int run_install(struct run_ctx *rc, const char *command, const char *cwd,
		       const struct strv *env, double timeout, const char *log, char **why)
{
	struct iter_outcome o;
	char *out = NULL, *cmd = xasprintf("exec 2>&1\n%s", command);
	int ret = -1;
	run_collect(cmd, cwd, env, timeout, NULL, &out, &o);
	if (out)
		write_file_atomic(log, out, strlen(out));
	if (o.started && o.exited && o.exit_code == 0 && !o.killed_by) {
		ret = 0;
	} else {
		struct sbuf sb = SBUF_INIT;
		char *tail = out ? tail_bytes(out, strlen(out), 500) : xstrdup("");
		if (o.killed_by == KILLED_INTERRUPT)
			sbuf_adds(&sb, "interrupted; "); /* not recorded: the package is redone */
		else if (o.killed_by)
			sbuf_addf(&sb, "install command timed out after %.0f s; ", timeout);
		else if (o.term_signal)
			sbuf_addf(&sb, "install command killed by %s; ", signal_name(o.term_signal));
		else if (!o.started)
			sbuf_addf(&sb, "%s; ", o.spawn_error);
		sbuf_adds(&sb, trim(tail));
		*why = sbuf_detach(&sb);
		free(tail);
	}
	(void)rc;
	free(cmd);
	free(out);
	iter_outcome_release(&o);
	return ret;
}

/* gitrepo_sync() in a child (run_in_child): the commit, or the error, comes back as text. */
struct sync_job {
	const char *url, *dir;
	int depth;
};

static int sync_job_run(void *arg, struct sbuf *out)
{
	const struct sync_job *j = arg;
	char *commit = NULL;
	int r = gitrepo_sync(j->url, j->dir, j->depth, &commit, out);
	if (r == 0)
		sbuf_adds(out, commit);
	free(commit);
	return r;
}

/*
 * The package's sources as root keeps them: a clone in --repos-dir that root alone has ever
 * written (git runs nowhere else as root), or the --package-dir checkout. *origin is it.
 */
static int package_source(struct run_ctx *rc, const struct pkg_entry *e, const char *pkgdir,
			  char **origin, char **commit, struct sbuf *err)
{
	int depth = e->clone_depth < 0 ? 1 : e->clone_depth;
	char *repo_dir;
	if (e->local_dir) {
		*origin = xstrdup(e->local_dir);
		*commit = gitrepo_head(e->local_dir);
		return 0;
	}
	if (!e->repo) {
		sbuf_adds(err, "no repository URL in the registry entry");
		return -1;
	}
	repo_dir = path_join(rc->o->repos_dir, pkgdir);
	if (geteuid() == 0 && faccessat(AT_FDCWD, repo_dir, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !tree_is_roots(repo_dir)) {
		/* An older ftscope gave its clones to test code: never run git on one again. */
		info("%s: '%s' is not root's alone (test code or another user wrote there); "
		     "cloning it afresh", e->name, repo_dir);
		rm_rf(repo_dir);
	}
	{
		/* in a child (run_in_child): Ctrl-C stops a fetch at once */
		struct sync_job job = { e->repo, repo_dir, depth };
		int r = run_in_child(sync_job_run, &job, err);
		if (r < 0) {
			if (r == -EINTR)
				rm_rf(repo_dir); /* nothing half-fetched is kept */
			else if (!err->len)
				sbuf_addf(err, "fetching '%s' failed: the process doing it died",
					  e->repo);
			free(repo_dir);
			return -1;
		}
		*commit = sbuf_detach(err);
	}
	if (geteuid() == 0)
		chmod(repo_dir, 0700); /* test code never even reads it */
	*origin = repo_dir;
	return 0;
}

/* Everything for one package; returns its result object (never NULL). */
static cJSON *process_package(struct run_ctx *rc, const struct pkg_entry *e, const cJSON *prev)
{
	const struct run_opts *o = rc->o;
	const struct run_as *ra = supervise_user();
	char *pkgdir = pkg_dirname(e->name);
	char *art = xasprintf("%s/artifacts/%s", rc->run_dir, pkgdir);
	char *origin = NULL, *commit = NULL, *why = NULL;
	char ts[32];
	double t0 = now_monotonic(), ti;
	struct progress pg = { .rc = rc, .pkg = e->name, .phase = "setup", .iters = (int)o->iterations };
	struct strv env = STRV_INIT;
	struct sbuf err = SBUF_INIT;
	struct workspace ws = { 0 };
	cJSON *pkg = cJSON_CreateObject(), *iters = cJSON_CreateArray(), *giters = NULL;
	char *tc = test_command(o, e);

	(void)prev;
	iso_utc(now_wall(), ts, sizeof(ts));
	cJSON_AddStringToObject(pkg, "package", e->name);
	json_set_str(pkg, "repo", e->local_dir ? e->local_dir : e->repo);
	json_set_str(pkg, "install_command", e->install_command ? e->install_command : "pip install -e .");
	json_set_str(pkg, "test_command", tc);
	cJSON_AddNumberToObject(pkg, "timeout_s", effective_timeout(o, e));
	cJSON_AddStringToObject(pkg, "started_at", ts);
	cJSON_AddStringToObject(pkg, "install_from", "source");
	cJSON_AddNullToObject(pkg, "sdist_version");
	cJSON_AddNullToObject(pkg, "sdist_tag_matched");
	cJSON_AddFalseToObject(pkg, "ft_wheel_found");
	cJSON_AddNullToObject(pkg, "ft_wheel_version");
	cJSON_AddNullToObject(pkg, "commit");
	cJSON_AddFalseToObject(pkg, "install_ok");
	cJSON_AddNullToObject(pkg, "install_error");
	cJSON_AddNumberToObject(pkg, "install_duration_s", 0);
	cJSON_AddTrueToObject(pkg, "import_ok");
	cJSON_AddNullToObject(pkg, "import_error");
	cJSON_AddFalseToObject(pkg, "interrupted");
	json_set_str(pkg, "test_user", ra ? ra->name : geteuid() == 0 ? "root" : getenv("USER"));
	cJSON_AddItemToObject(pkg, "iterations", iters);
	progress_draw(&pg, 0);

	/* 1. The source tree, and a copy of it for the test user: installs, builds and tests
	 * happen in the copy, so nothing of theirs reaches root's clone or the user's tree. */
	if (package_source(rc, e, pkgdir, &origin, &commit, &err) < 0) {
		why = sbuf_detach(&err);
		goto done;
	}
	json_set_str(pkg, "commit", commit);
	if (workspace_create(&ws, rc->work_root, pkgdir, ra, &err) < 0 ||
	    workspace_stage(&ws, origin, &err) < 0) {
		why = sbuf_detach(&err);
		goto done;
	}
	if (ra && ra->dynamic) {
		int r = sandbox_name_user(&ws, ra);
		if (r < 0)
			debug("the test uid gets no passwd entry: %s", strerror(-r));
	}
	if (e->local_dir)
		info("%s: staged a copy of '%s' in '%s' for the test user: installs and builds "
		     "happen there, your checkout is left as it is", e->name, origin, ws.src);

	/* 2. venv and install. */
	ti = now_monotonic();
	if (venv_create(o->target_python, ws.venv, &err) < 0) {
		why = sbuf_detach(&err);
		goto done;
	}
	for (size_t i = 0; i < rc->base_env.n; i++)
		strv_push(&env, rc->base_env.v[i]);
	env_for_venv(&env, ws.venv);
	env_for_user(&env, &ws);
	env_for_install(&env, &(struct install_mode){ o->offline, o->find_links, rc->pip_config });
	env_set(&env, "PYTHON_GIL", NULL);
	env_apply_user(&env, o);
	{
		char *log = path_join(art, "install.log");
		int r = run_install(rc, e->install_command ? e->install_command : "pip install -e .",
				    ws.src, &env, install_timeout(o, e), log, &why);
		free(log);
		if (r < 0)
			goto done;
	}
	if (o->extra_deps.n) {
		struct sbuf cmd = SBUF_INIT;
		char *log = path_join(art, "extra-deps.log"), *w = NULL;
		sbuf_adds(&cmd, "pip install");
		for (size_t i = 0; i < o->extra_deps.n; i++) {
			sbuf_addc(&cmd, ' ');
			sbuf_add_shquoted(&cmd, o->extra_deps.v[i]);
		}
		if (run_install(rc, cmd.buf, ws.src, &env, install_timeout(o, e), log, &w) < 0 &&
		    !interrupted) {
			warning("%s: installing --extra-deps failed: %s", e->name, w);
			json_set_str(pkg, "extra_deps_error", w);
		}
		free(w);
		free(log);
		sbuf_release(&cmd);
	}
	json_set_bool(pkg, "install_ok", true);
	json_set_num(pkg, "install_duration_s", round_to(now_monotonic() - ti, 2));
	/* extension_compat.source_scan: Py_mod_gil & co., of the sources as root has them */
	srcscan_attach(pkg, origin);
	if (interrupted)
		goto done;

	/* 3. Import probe, without PYTHON_GIL (see src/py/probe_ext.py). The script is root's,
	 * in the workspace's root-owned top; the probe runs from TMPDIR. */
	if (o->tsan)
		tsan_env(rc, NULL, &env); /* TSAN-built extensions import only with the runtime */
	if (o->detect_extensions) {
		char *script = path_join(ws.dir, "probe_ext.py");
		char *pj = path_join(art, "probe.json"), *t;
		cJSON *probe;
		struct probe_target pt = {
			.import_name = e->import_name && *e->import_name ? e->import_name : NULL,
			.checkout = ws.src,
			.dist = e->local_dir ? NULL : e->name, /* a directory's name is no name */
			.hint = e->local_dir ? NULL : pkg_import_name(e),
		};
		pg.phase = "probe";
		progress_draw(&pg, 0);
		probe = extension_probe(ws.venv, &pt, ws.tmp, &env, script, 120);
		if (interrupted) { /* a probe cut short says nothing about the import */
			cJSON_Delete(probe);
			free(script);
			free(pj);
			goto done;
		}
		t = json_print(probe, true);
		write_file_atomic(pj, t, strlen(t));
		free(t);
		json_set_bool(pkg, "import_ok", json_bool(probe, "import_ok", false));
		json_set_str(pkg, "import_error", json_str(probe, "import_error"));
		json_set_str(pkg, "import_name", json_str(probe, "import_name"));
		srcscan_carry(pkg, probe); /* keep the source scan */
		json_set(pkg, "extension_compat", probe);
		free(script);
		free(pj);
		if (!json_bool(pkg, "import_ok", false))
			goto done;
	}

	/* 4. Iterations: free-threaded, then (optionally) with the GIL. */
	recover_iterations(art, e->name, "", o->iterations, iters);
	pg.phase = "iter";
	for (int i = 0; i < cJSON_GetArraySize(iters); i++)
		pg.counts[iter_status_from_name(json_str(cJSON_GetArrayItem(iters, i), "status"))]++;
	if (!run_iterations(rc, e, pkgdir, &ws, "0", iters, &pg))
		goto done;
	if (o->compare_with_gil) {
		giters = cJSON_CreateArray();
		cJSON_AddItemToObject(pkg, "gil_enabled_iterations", giters);
		recover_iterations(art, e->name, "gil-", o->iterations, giters);
		pg.phase = "gil";
		memset(pg.counts, 0, sizeof(pg.counts));
		run_iterations(rc, e, pkgdir, &ws, "1", giters, &pg);
	}
done:
	/* An interrupted phase is no result: the package is redone by --resume. */
	if (why && !interrupted) {
		json_set_str(pkg, "install_error", why);
		json_set_bool(pkg, "install_ok", false);
	}
	json_set_bool(pkg, "interrupted", interrupted != 0);
	json_set_num(pkg, "duration_s", round_to(now_monotonic() - t0, 2));
	pkg_aggregate(pkg);
	progress_clear(rc);
	workspace_remove(&ws);
	strv_release(&env);
	sbuf_release(&err);
	free(why);
	free(tc);
	free(commit);
	free(origin);
	free(art);
	free(pkgdir);
	return pkg;
}

/* ---- workers: one forked process per package, so --jobs and Ctrl-C work the same way ---- */

struct worker {
	pid_t pid;
	size_t idx;
};

/*
 * artifacts/<pkg>/ as root's own directory, before its worker starts: one that is not (a
 * run of an older ftscope gave it to test code) is replaced, so nothing in it is believed;
 * a stale package.json goes, so only the new worker's can be read.
 */
static int prepare_pkg_artifacts(struct run_ctx *rc, const struct pkg_entry *e)
{
	char *art = path_join(rc->run_dir, "artifacts"), *d = pkg_dirname(e->name);
	bool replaced = false;
	int afd = open_dir_at(AT_FDCWD, art, geteuid()), pfd = -1;
	if (afd >= 0)
		pfd = ensure_own_dir_at(afd, d, 0755, &replaced);
	if (replaced)
		warning("%s: '%s/%s' was not root's alone; its records are not used", e->name, art,
			d);
	if (pfd >= 0) {
		unlinkat(pfd, "package.json", 0);
		close(pfd);
	}
	if (afd >= 0)
		close(afd);
	free(art);
	free(d);
	return pfd < 0 ? -1 : 0;
}

static char *pkg_result_path(struct run_ctx *rc, const char *name)
{
	char *d = pkg_dirname(name), *p = xasprintf("%s/artifacts/%s/package.json", rc->run_dir, d);
	free(d);
	return p;
}

/* tu: the package's test uid (USER_DYNAMIC): its guardian sweeps it when we end, however
 * we end (sandbox.h). */
static _Noreturn void worker_main(struct run_ctx *rc, const struct pkg_entry *e,
				  struct test_uid *tu)
{
	cJSON *pkg;
	char *text, *path;
	int r;
	supervise_init();
	if (rc->user_mode == USER_DYNAMIC) {
		struct run_as ra;
		test_uid_run_as(tu, &ra);
		supervise_set_user(&ra);
		close(tu->lock_fd); /* the guardian holds it */
		tu->lock_fd = -1;
	}
	pkg = process_package(rc, e, NULL);
	text = json_print(pkg, false);
	path = pkg_result_path(rc, e->name);
	r = write_file_atomic(path, text, strlen(text));
	test_uid_release(tu);
	fflush(stderr);
	_exit(r < 0 ? 3 : interrupted ? 4 : 0);
}

static const char *count_str(const cJSON *pkg)
{
	static char buf[64];
	snprintf(buf, sizeof(buf), "%d/%d passed", json_int(pkg, "pass_count", 0),
		 json_int(pkg, "iterations_completed", 0));
	return buf;
}

/* Collect a finished worker: append its package line. */
static void collect_worker(struct run_ctx *rc, const struct pkg_entry *e, int status)
{
	char *path = pkg_result_path(rc, e->name), *text = NULL, *line;
	size_t len = 0;
	cJSON *pkg = NULL;
	/* root's, written by the worker that just ended (prepare_pkg_artifacts removed any
	 * other) */
	if (read_file_at(AT_FDCWD, path, 1u << 30, geteuid(), &text, &len) == 0)
		pkg = json_parse(text, len);
	if (!cJSON_IsObject(pkg)) {
		/* The worker died without a result: say so in the results, keep the run going. */
		cJSON_Delete(pkg);
		pkg = cJSON_CreateObject();
		cJSON_AddStringToObject(pkg, "package", e->name);
		cJSON_AddFalseToObject(pkg, "install_ok");
		json_set_str(pkg, "install_error",
			     WIFSIGNALED(status) ? "ftscope worker died by a signal"
						 : "ftscope worker exited without a result");
		cJSON_AddItemToObject(pkg, "iterations", cJSON_CreateArray());
		cJSON_AddBoolToObject(pkg, "interrupted", interrupted != 0);
		pkg_aggregate(pkg);
		warning("%s: worker ended abnormally (status 0x%x)", e->name, status);
	}
	line = json_print(pkg, false);
	if (append_line_fsync(rc->results_path, line) < 0)
		error_errno("cannot append to '%s'", rc->results_path);
	if (!json_bool(pkg, "interrupted", false)) {
		cJSON *n = cJSON_GetObjectItemCaseSensitive(rc->meta, "packages_completed");
		cJSON_SetNumberValue(n, n->valuedouble + 1);
	}
	{
		cJSON *n = cJSON_GetObjectItemCaseSensitive(rc->meta, "total_iterations");
		cJSON_SetNumberValue(n, n->valuedouble + json_num(pkg, "iterations_completed", 0) +
						cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
							pkg, "gil_enabled_iterations")));
	}
	write_meta(rc);
	{
		char *name = term_str(e->name);
		printf("%-24s %-24s %s%s\n", name, json_str(pkg, "category"), count_str(pkg),
		       json_bool(pkg, "interrupted", false) ? " (interrupted)" : "");
		free(name);
	}
	fflush(stdout);
	free(line);
	free(text);
	free(path);
	cJSON_Delete(pkg);
}

static void run_packages(struct run_ctx *rc, struct pkg_entry **pkgs, size_t n)
{
	struct worker *w = xcalloc((size_t)rc->o->jobs, sizeof(*w));
	size_t next = 0, running = 0;
	pid_t main_pid = getpid();
	if (rc->o->jobs > 1)
		rc->tty = false; /* several workers cannot share one progress line */
	while (next < n || running) {
		int st;
		pid_t pid;
		while (!stop_requested() && next < n && running < (size_t)rc->o->jobs) {
			struct test_uid tu = TEST_UID_INIT;
			size_t slot = 0;
			while (w[slot].pid)
				slot++;
			rc->pkg_index = next + 1;
			fflush(stdout);
			fflush(stderr);
			if (prepare_pkg_artifacts(rc, pkgs[next]) < 0) {
				error_errno("cannot prepare the artifacts of %s", pkgs[next]->name);
				interrupted = 1;
				break;
			}
			if (rc->user_mode == USER_DYNAMIC) {
				/* The package's own test uid, and its guardian as our child. */
				struct sbuf err = SBUF_INIT;
				int ok = test_uid_acquire(&tu, true, &err);
				if (ok < 0)
					error("%s", err.buf);
				sbuf_release(&err);
				if (ok < 0) {
					interrupted = 1;
					break;
				}
			}
			pid = fork();
			if (pid < 0) {
				error_errno("fork");
				test_uid_release(&tu);
				interrupted = 1;
				break;
			}
			if (pid == 0) {
				/* A worker dies with ftscope, even of SIGKILL (its guardian then
				 * sweeps its test uid); one whose parent is already gone stops. */
				prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
				if (getppid() != main_pid)
					_exit(6);
				for (int k = 0; k < MAX_WORKERS; k++)
					worker_pids[k] = 0;
				worker_main(rc, pkgs[next], &tu);
			}
			test_uid_hand_over(&tu);
			w[slot].pid = pid;
			worker_pids[slot] = pid;
			w[slot].idx = next++;
			running++;
		}
		if (!running)
			break;
		pid = waitpid(-1, &st, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (long k = 0; k < rc->o->jobs; k++) {
			if (w[k].pid != pid)
				continue;
			worker_pids[k] = 0;
			collect_worker(rc, pkgs[w[k].idx], st);
			w[k].pid = 0;
			running--;
		}
	}
	free(w);
}

/* ---- set-up ---- */

static char *default_registry(void)
{
	const char *e = getenv("FTSCOPE_REGISTRY_DIR"), *home = getenv("HOME");
	if (e && *e)
		return xstrdup(e);
	e = getenv("LABEILLE_REGISTRY_DIR");
	if (e && *e)
		return xstrdup(e);
	return xasprintf("%s/.local/share/labeille/registry", home ? home : "");
}

static char *new_run_dir(const char *results_dir)
{
	char name[64];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(name, sizeof(name), "ft_%Y%m%d_%H%M%S", &tm);
	for (int k = 1; k < 1000; k++) {
		char *d = k == 1 ? path_join(results_dir, name) : xasprintf("%s/%s_%d", results_dir, name, k);
		if (mkdir(d, 0755) == 0)
			return d;
		if (errno != EEXIST) {
			error_errno("cannot create '%s'", d);
			free(d);
			return NULL;
		}
		free(d);
	}
	return NULL;
}

static cJSON *config_json(const struct run_opts *o, enum tracer_kind tracer)
{
	cJSON *c = cJSON_CreateObject(), *env = cJSON_CreateObject();
	struct sbuf deps = SBUF_INIT;
	cJSON_AddStringToObject(c, "target_python", o->target_python);
	cJSON_AddNumberToObject(c, "iterations", (double)o->iterations);
	if (o->timeout > 0)
		cJSON_AddNumberToObject(c, "timeout", o->timeout);
	else
		cJSON_AddNullToObject(c, "timeout");
	cJSON_AddNumberToObject(c, "stall_threshold", o->stall_threshold);
	cJSON_AddNumberToObject(c, "deadlock_window", o->deadlock_window);
	cJSON_AddBoolToObject(c, "compare_with_gil", o->compare_with_gil);
	cJSON_AddBoolToObject(c, "tsan_build", o->tsan);
	json_set_str(c, "tsan_suppressions", o->tsan_suppressions);
	cJSON_AddNullToObject(c, "tsan_preload"); /* set once the run dir exists */
	cJSON_AddBoolToObject(c, "stop_on_first_pass", o->stop_on_first_pass);
	cJSON_AddBoolToObject(c, "detect_extensions", o->detect_extensions);
	for (size_t i = 0; i < o->extra_deps.n; i++)
		sbuf_addf(&deps, "%s%s", i ? "," : "", o->extra_deps.v[i]);
	json_set_str(c, "extra_deps", deps.len ? deps.buf : NULL);
	json_set_str(c, "test_command_suffix", o->suffix);
	json_set_str(c, "test_command_override", o->override);
	cJSON_AddStringToObject(c, "install_from", "source");
	cJSON_AddStringToObject(c, "install_mode", o->offline ? "offline" : "online");
	json_set_str(c, "find_links", o->find_links);
	cJSON_AddFalseToObject(c, "trust_ft_wheels");
	cJSON_AddFalseToObject(c, "trust_ft_wheels_any_version");
	for (size_t i = 0; i < o->env.n; i++) {
		char *k = xstrdup(o->env.v[i]), *eq = strchr(k, '=');
		*eq = '\0';
		cJSON_AddStringToObject(env, k, eq + 1);
		free(k);
	}
	cJSON_AddItemToObject(c, "env", env);
	cJSON_AddStringToObject(c, "tracer", tracer_name(tracer));
	cJSON_AddStringToObject(c, "monitor", "procfs");
	cJSON_AddNumberToObject(c, "jobs", (double)o->jobs);
	json_set_str(c, "registry_dir", o->package_dir ? NULL : o->registry_dir);
	json_set_str(c, "package_dir", o->package_dir);
	json_set_str(c, "repos_dir", o->repos_dir);
	json_set_str(c, "venvs_dir", o->venvs_dir);
	cJSON_AddNumberToObject(c, "max_output", (double)o->max_output);
	cJSON_AddNumberToObject(c, "max_pids", (double)o->max_pids);
	if (geteuid() == 0 && !o->user) {
		uid_t first, last;
		char *r;
		test_uids_range(&first, &last);
		r = xasprintf("test uids %u-%u", (unsigned)first, (unsigned)last);
		json_set_str(c, "run_as_user", r);
		free(r);
	} else {
		json_set_str(c, "run_as_user", o->user ? o->user : geteuid() == 0 ? "root"
								    : getenv("USER"));
	}
	sbuf_release(&deps);
	return c;
}

/* Host environment minus what would change which Python or which GIL mode runs. */
static void base_env(struct strv *env)
{
	env_from_current(env);
	env_set(env, "PYTHONHOME", NULL);
	env_set(env, "PYTHONPATH", NULL);
	env_set(env, "PYTHON_GIL", NULL);
	env_set(env, "VIRTUAL_ENV", NULL);
	env_set(env, "PYTHONSTARTUP", NULL);
}

/*
 * Can the test user reach path with access mode (R_OK/W_OK/X_OK)? Asked as that user in a
 * child, so every parent directory's permissions count.
 */
static bool user_can(const struct run_as *ra, const char *path, int mode)
{
	int st;
	pid_t pid = fork();
	if (pid == 0)
		_exit(supervise_become(ra) < 0 ? 2 : access(path, mode) == 0 ? 0 : 1);
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return true; /* cannot tell: let the commands say it */
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* What the test user must reach: the workspaces' directory and the interpreter. The
 * clones and the results are root's alone and need not be reachable. */
static void check_user_access(const struct run_opts *o, const char *who)
{
	const struct run_as *ra = supervise_user();
	const char *need[] = { o->venvs_dir, o->target_python };
	if (!ra)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(need); i++)
		if (!user_can(ra, need[i], X_OK))
			die("the test user (%s) cannot reach '%s' (a parent directory is not "
			    "searchable for it); make it reachable, or choose the user with --user "
			    "NAME (--user root runs tests as root)", who, need[i]);
	if (o->find_links && !user_can(ra, o->find_links, R_OK | X_OK))
		die("the test user (%s) cannot read '%s' (--find-links)", who, o->find_links);
	if (o->tsan_suppressions && !user_can(ra, o->tsan_suppressions, R_OK))
		die("the test user (%s) cannot read '%s' (TSAN would abort every process)", who,
		    o->tsan_suppressions);
}

/* A directory every user may write (without the sticky bit) lets test code swap what root
 * works on: refused. */
static void check_not_shared(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0 && (st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
		die("'%s' is writable by every user: test code could swap what ftscope works on; "
		    "use a directory only root can write", dir);
}

/* The run directory and artifacts/ are root's (docs/security.md); as root through sudo,
 * readable by the sudo user's group. A resumed run that is not root's alone is refused. */
static void protect_run_dir(struct run_ctx *rc)
{
	const char *sg = getenv("SUDO_GID");
	long g = 0;
	int fd = open_dir_at(AT_FDCWD, rc->run_dir, geteuid()), afd;
	if (fd < 0)
		die("'%s' is not ftscope's own run directory (its owner or mode lets others write "
		    "there): not used", rc->run_dir);
	if (!sg || parse_int(sg, 1, 0x7fffffff, &g) < 0)
		g = 0;
	if (geteuid() == 0 && (fchown(fd, 0, (gid_t)g) < 0 || fchmod(fd, 0750) < 0))
		die_errno("cannot protect '%s'", rc->run_dir);
	afd = ensure_own_dir_at(fd, "artifacts", geteuid() == 0 ? 0750 : 0755, NULL);
	if (afd < 0 || (geteuid() == 0 && fchown(afd, 0, (gid_t)g) < 0)) {
		errno = afd < 0 ? -afd : errno;
		die_errno("cannot make '%s/artifacts'", rc->run_dir);
	}
	close(afd);
	close(fd);
}

/* One ftscope at a time per run: the lock is held as long as the supervisor (or one of
 * its workers) lives, so a reader can tell a run whose ftscope died (rundir.h). */
static void run_lock(struct run_ctx *rc)
{
	char *p = path_join(rc->run_dir, RUN_LOCK_FILE);
	int fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		die_errno("cannot create '%s'", p);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		die("'%s' is being run by another ftscope right now ('%s' is locked)", rc->run_dir,
		    p);
	rc->lock_fd = fd;
	free(p);
}

/* <venvs-dir>/<run id>-<hash of the run's path>/: the packages' workspaces (sandbox.h),
 * root's, 0711; whatever an earlier attempt of the run left there goes first. */
static void make_work_root(struct run_ctx *rc)
{
	unsigned h = 2166136261u;
	int fd;
	for (const char *p = rc->run_dir; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	rc->work_root = xasprintf("%s/%s-%08x", rc->o->venvs_dir, strrchr(rc->run_dir, '/') + 1, h);
	rm_rf(rc->work_root);
	if (mkdir(rc->work_root, 0711) < 0 ||
	    (fd = open_dir_at(AT_FDCWD, rc->work_root, geteuid())) < 0)
		die_errno("cannot create the workspaces' directory '%s'", rc->work_root);
	fchmod(fd, 0711);
	close(fd);
}

/* Package from --package-dir: name from pyproject/setup.cfg, else the directory's name. */
static void package_dir_entry(const char *dir, struct pkg_entry *e)
{
	char *text = NULL, *py = path_join(dir, "pyproject.toml"), *name = NULL;
	memset(e, 0, sizeof(*e));
	if (read_file(py, &text, NULL) == 0) {
		char *p = strstr(text, "\nname");
		if (!p && starts_with(text, "name"))
			p = text;
		if (p) {
			char *q = strchr(p, '"'), *r = q ? strchr(q + 1, '"') : NULL;
			char *nl = strchr(p + 1, '\n');
			if (q && r && (!nl || q < nl))
				name = xstrndup(q + 1, (size_t)(r - q - 1));
		}
	}
	if (!name) {
		char *a = abs_path(dir), *b = strrchr(a, '/');
		name = xstrdup(b && b[1] ? b + 1 : a);
		free(a);
	}
	e->name = name;
	e->local_dir = abs_path(dir);
	e->clone_depth = -1;
	e->enriched = true;
	free(text);
	free(py);
}

/*
 * Installs follow the pip configuration of whoever runs ftscope (under sudo: the sudo
 * user's). The tests run as another account (a test uid, or --user), which cannot read the
 * invoker's user-level pip.conf: a copy of it beside the workspaces (root's, readable by
 * all) becomes PIP_CONFIG_FILE for installs. The run directory is root's alone.
 */
static void invoker_pip_config(struct run_ctx *rc)
{
	const char *su = getenv("SUDO_USER"), *home = getenv("HOME");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	struct passwd *pw = NULL;
	uid_t invoker = geteuid();
	char *dest, *from;
	if (su && *su && (pw = getpwnam(su))) {
		invoker = pw->pw_uid;
		home = pw->pw_dir;
		xdg = NULL; /* sudo's environment is root's */
	}
	if (rc->user_mode == USER_SELF ||
	    (rc->user_mode == USER_FIXED && rc->fixed_user.uid == invoker))
		return;
	dest = path_join(rc->work_root, "pip.conf");
	from = pip_config_copy(home, xdg, dest);
	if (from) {
		info("installs use your pip configuration %s (as PIP_CONFIG_FILE: the test "
		     "user %s cannot read it)", from,
		     rc->user_mode == USER_FIXED ? rc->fixed_user.name : "of each package");
		rc->pip_config = dest;
		dest = NULL;
	}
	json_set_str(cJSON_GetObjectItemCaseSensitive(rc->meta, "config"), "pip_config", from);
	free(from);
	free(dest);
}

static void print_stability(struct run_ctx *rc)
{
	char *text = NULL;
	double load = -1;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	cJSON *s = cJSON_CreateObject();
	bool ok;
	if (read_file("/proc/loadavg", &text, NULL) == 0)
		load = strtod(text, NULL);
	free(text);
	ok = load >= 0 && load < 0.5 * (double)cpus;
	cJSON_AddNumberToObject(s, "load_1m", load);
	cJSON_AddNumberToObject(s, "cpus", (double)cpus);
	cJSON_AddBoolToObject(s, "ok", ok);
	cJSON_AddStringToObject(s, "note", ok ? "load below half the CPUs"
					      : "machine busy: timings and race rates are noisy");
	json_set(rc->meta, "stability", s);
	if (ok)
		info("stability: load %.2f on %ld CPUs: ok", load, cpus);
	else
		warning("stability: load %.2f on %ld CPUs: the machine is busy; durations and race "
			"rates will be noisy", load, cpus);
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct run_ctx rc = { .o = &o };
	struct registry reg = { 0 };
	struct pkg_entry **sel = NULL, single;
	struct strv skipped = STRV_INIT;
	struct sbuf err = SBUF_INIT;
	struct run_data prev = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	size_t nsel = 0;
	int ret = FT_EXIT_FAILURE;
	bool have_single = false;
	char ts[32], *tsan_runtime = NULL, *uniform = NULL, who[128] = "";
	struct test_uid check_uid = TEST_UID_INIT;

	run_opts_init(&o);
	memset(&single, 0, sizeof(single));
	rc.lock_fd = -1;
	umask(022); /* what root creates is not writable by others, whoever started us */
	if (run_parse(argc, argv, &o)) {
		for (const char *const *l = run_usage; *l; l++)
			puts(*l);
		run_opts_release(&o);
		return FT_EXIT_OK;
	}
	if (o.resume) {
		/* The run's own options, then whatever this command line adds. The path is made
		 * absolute first: everything below (the junit path given to pytest too) uses it. */
		char *rd = abs_path(o.resume);
		const cJSON *args, *a;
		struct strv av = STRV_INIT;
		if (run_load(rd, &prev) < 0 || !prev.meta)
			die("cannot resume '%s': not a readable ftscope run directory", rd);
		args = cJSON_GetObjectItemCaseSensitive(prev.meta, "cli_args");
		strv_push(&av, "run");
		cJSON_ArrayForEach(a, args)
			if (cJSON_IsString(a))
				strv_push(&av, a->valuestring);
		run_opts_release(&o);
		run_opts_init(&o);
		run_parse((int)av.n, av.v, &o);
		run_parse(argc, argv, &o);
		set_str(&o.resume, prev.dir);
		strv_release(&av);
		free(rd);
	}
	/* Ctrl-C or SIGTERM from here on stops whatever runs (workspace.h) within ~0.1 s. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	workspace_set_interrupt(&interrupted);

	/* The tracer: ebpf (the recorder + ptrace) where BPF loads, else ptrace, else none. */
	{
		const char *want = o.tracer ? o.tracer : "auto", *why = NULL;
		bool can_ptrace = ptrace_permitted(&why);
		struct sbuf bwhy = SBUF_INIT;
		struct bpfrec *probe = NULL;
		bool can_bpf = false;
		if (!strcmp(want, "auto") || !strcmp(want, "ebpf")) {
			can_bpf = can_ptrace && bpfrec_open(&probe, &bwhy) == 0;
			bpfrec_close(probe);
		}
		if (!strcmp(want, "ebpf") && !can_bpf)
			die("--tracer ebpf: %s", can_ptrace ? bwhy.buf : why);
		if (!strcmp(want, "ptrace") && !can_ptrace)
			die("--tracer ptrace: %s", why);
		if (!strcmp(want, "none")) {
			rc.tracer = TRACER_NONE;
			rc.tracer_reason = xstrdup("asked for (--tracer none)");
		} else if (can_bpf) {
			rc.tracer = TRACER_EBPF;
			rc.tracer_reason = xstrdup(!strcmp(want, "auto")
							  ? "auto: the eBPF recorder loads and ptrace is permitted"
							  : "asked for (--tracer ebpf)");
		} else if (can_ptrace) {
			rc.tracer = TRACER_PTRACE;
			rc.tracer_reason = !strcmp(want, "auto")
						   ? xasprintf("auto: %s", bwhy.buf ? bwhy.buf
										: "?")
						   : xstrdup("asked for (--tracer ptrace)");
		} else {
			rc.tracer = TRACER_NONE;
			rc.tracer_reason = xasprintf("auto: %s; only the /proc monitor runs", why);
		}
		info("tracer: %s (%s)", tracer_name(rc.tracer), rc.tracer_reason);
		sbuf_release(&bwhy);
	}
	if (!o.target_python)
		die_usage("run", "--target-python is required");
	if (!o.repos_dir)
		o.repos_dir = xstrdup("repos");
	if (!o.venvs_dir)
		o.venvs_dir = xstrdup("venvs");
	if (!o.results_dir)
		o.results_dir = xstrdup("results");
	{
		/* Paths stay valid whatever directory a command runs in. */
		char **paths[] = { &o.repos_dir, &o.venvs_dir, &o.results_dir };
		for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
			char *a;
			if (mkdir_p(*paths[i], 0755) < 0)
				die_errno("cannot create '%s'", *paths[i]);
			a = abs_path(*paths[i]);
			free(*paths[i]);
			*paths[i] = a;
		}
	}

	for (size_t i = 0; i < 3; i++)
		check_not_shared(i == 0 ? o.repos_dir : i == 1 ? o.venvs_dir : o.results_dir);

	/* Whose rights the test code runs with: never root unless asked; by default a test
	 * uid of its own per package (sandbox.h), so packages cannot touch each other either. */
	if (o.user && geteuid() != 0)
		die("--user needs root (ftscope runs as uid %d)", (int)geteuid());
	if (geteuid() != 0 || (o.user && !strcmp(o.user, "root"))) {
		rc.user_mode = USER_SELF;
		if (geteuid() == 0)
			warning("test code runs as root (--user root)");
	} else if (o.user) {
		struct passwd *pw = getpwnam(o.user);
		struct stat st;
		if (!pw)
			die("--user: no user '%s' on this system", o.user);
		rc.user_mode = USER_FIXED;
		rc.fixed_user.uid = pw->pw_uid;
		rc.fixed_user.gid = pw->pw_gid;
		snprintf(rc.fixed_user.name, sizeof(rc.fixed_user.name), "%s", pw->pw_name);
		if (pw->pw_dir && stat(pw->pw_dir, &st) == 0 && S_ISDIR(st.st_mode) &&
		    st.st_uid == pw->pw_uid)
			snprintf(rc.fixed_user.home, sizeof(rc.fixed_user.home), "%s", pw->pw_dir);
		supervise_set_user(&rc.fixed_user);
		snprintf(who, sizeof(who), "%s", pw->pw_name);
		if (o.jobs > 1)
			warning("--user %s with --jobs %ld: every package runs as that one "
				"user, so one package's tests can signal and write another's "
				"(without --user, each package gets a test uid of its own)", o.user,
				o.jobs);
		debug("test code runs as %s (uid %d)", pw->pw_name, (int)pw->pw_uid);
	} else {
		/* The checks below run as a test uid too, taken for them only. */
		struct run_as ra;
		uid_t first, last;
		rc.user_mode = USER_DYNAMIC;
		if (test_uid_acquire(&check_uid, false, &err) < 0)
			die("%s", err.buf);
		test_uid_run_as(&check_uid, &ra);
		supervise_set_user(&ra);
		test_uids_range(&first, &last);
		snprintf(who, sizeof(who), "test uids %u-%u", (unsigned)first, (unsigned)last);
	}
	check_user_access(&o, who);

	/* The interpreter first: nothing runs with a wrong one. */
	if (python_check(o.target_python, &rc.profile, &err) < 0) {
		if (interrupted)
			stop_before_start("while the interpreter was being profiled");
		die("%s", err.buf);
	}
	if (rc.user_mode == USER_DYNAMIC) {
		/* The workers take test uids of their own. */
		test_uid_release(&check_uid);
		supervise_set_user(NULL);
	}
	{
		char *a = abs_path(o.target_python);
		free(o.target_python);
		o.target_python = a;
	}

	if (o.find_links) {
		char *a = abs_path(o.find_links);
		if (!is_dir(a))
			die("--find-links '%s' is not a directory", o.find_links);
		free(o.find_links);
		o.find_links = a;
	}

	/* ThreadSanitizer: suppressions, and the runtime an uninstrumented python needs. */
	if (o.tsan_suppressions) {
		char *a = abs_path(o.tsan_suppressions);
		free(o.tsan_suppressions);
		o.tsan_suppressions = a;
		if (tsan_supp_load(a, &rc.tsan_supp) < 0)
			die("cannot use --tsan-suppressions '%s'", a);
		stderr_evidence_set_tsan_suppressions(&rc.tsan_supp);
	}
	if (o.tsan && tsan_binary_instrumented(o.target_python) == 0) {
		tsan_runtime = tsan_runtime_path();
		if (!tsan_runtime)
			die("--tsan: '%s' is not built with ThreadSanitizer and no TSAN runtime "
			    "(libtsan.so) was found to preload; install libtsan2 or set "
			    "FTSCOPE_TSAN_RUNTIME", o.target_python);
	}

	if (interrupted)
		stop_before_start("while checking the setup");

	/* Which packages. */
	if (o.package_dir) {
		if (!is_dir(o.package_dir))
			die("--package-dir '%s' is not a directory", o.package_dir);
		package_dir_entry(o.package_dir, &single);
		have_single = true;
		sel = xcalloc(1, sizeof(*sel));
		sel[0] = &single;
		nsel = 1;
	} else {
		if (!o.registry_dir)
			o.registry_dir = default_registry();
		if (!is_dir(o.registry_dir))
			die("no packages to run: registry '%s' does not exist (give --registry-dir or "
			    "--package-dir)", o.registry_dir);
		if (registry_load(o.registry_dir, &reg) < 0)
			die("cannot use registry '%s'", o.registry_dir);
		if (registry_select(&reg, &o.packages, o.top, json_str(rc.profile, "minor"), &sel,
				    &nsel, &skipped) < 0)
			die("cannot select packages from '%s'", o.registry_dir);
		for (size_t i = 0; i < skipped.n; i++)
			info("skipping %s", skipped.v[i]);
		if (!nsel)
			die("no packages selected from registry '%s'", o.registry_dir);
	}

	/* The run directory and its metadata. */
	rc.t0 = now_monotonic();
	if (prev.dir) {
		char *moved = NULL;
		rc.run_dir = xstrdup(prev.dir);
		protect_run_dir(&rc);
		run_lock(&rc);
		/* A line cut short (kill -9, power loss) must not swallow the next one. */
		if (run_repair_results(rc.run_dir, &moved) > 0)
			warning("the last line of '%s/ft_results.jsonl' was cut short; moved it "
				"to '%s'", rc.run_dir, moved);
		free(moved);
		rc.meta = cJSON_Duplicate(prev.meta, true);
		json_set_str(rc.meta, "status", "running");
		{
			cJSON *r = cJSON_GetObjectItemCaseSensitive(rc.meta, "resumed_at");
			iso_utc(now_wall(), ts, sizeof(ts));
			if (!cJSON_IsArray(r)) {
				r = cJSON_CreateArray();
				json_set(rc.meta, "resumed_at", r);
			}
			cJSON_AddItemToArray(r, cJSON_CreateString(ts));
		}
	} else {
		cJSON *args = cJSON_CreateArray(), *sk = cJSON_CreateArray();
		const char *base;
		rc.run_dir = new_run_dir(o.results_dir);
		if (!rc.run_dir)
			die("cannot create a run directory in '%s'", o.results_dir);
		protect_run_dir(&rc);
		run_lock(&rc);
		base = strrchr(rc.run_dir, '/') + 1;
		rc.meta = cJSON_CreateObject();
		iso_utc(now_wall(), ts, sizeof(ts));
		cJSON_AddStringToObject(rc.meta, "run_id", base);
		cJSON_AddStringToObject(rc.meta, "timestamp", ts);
		cJSON_AddStringToObject(rc.meta, "ftscope_version", FTSCOPE_VERSION);
		cJSON_AddStringToObject(rc.meta, "status", "running");
		cJSON_AddStringToObject(rc.meta, "started_at", ts);
		cJSON_AddNullToObject(rc.meta, "finished_at");
		cJSON_AddItemToObject(rc.meta, "system_profile", system_profile_json(o.results_dir));
		cJSON_AddItemToObject(rc.meta, "python_profile", cJSON_Duplicate(rc.profile, true));
		cJSON_AddItemToObject(rc.meta, "config", config_json(&o, rc.tracer));
		for (int i = 1; i < argc; i++)
			cJSON_AddItemToArray(args, cJSON_CreateString(argv[i]));
		cJSON_AddItemToObject(rc.meta, "cli_args", args);
		for (size_t i = 0; i < skipped.n; i++) {
			cJSON *s = cJSON_CreateObject();
			char *colon = strstr(skipped.v[i], ": ");
			char *name = colon ? xstrndup(skipped.v[i], (size_t)(colon - skipped.v[i]))
					   : xstrdup(skipped.v[i]);
			cJSON_AddStringToObject(s, "package", name);
			cJSON_AddStringToObject(s, "reason", colon ? colon + 2 : "");
			cJSON_AddItemToArray(sk, s);
			free(name);
		}
		cJSON_AddItemToObject(rc.meta, "packages_skipped", sk);
		cJSON_AddNumberToObject(rc.meta, "packages_total", (double)nsel);
		cJSON_AddNumberToObject(rc.meta, "packages_completed", 0);
		cJSON_AddNumberToObject(rc.meta, "total_iterations", 0);
		cJSON_AddNumberToObject(rc.meta, "total_duration_s", 0);
	}
	json_set_num(rc.meta, "supervisor_pid", (double)getpid());
	make_work_root(&rc);
	json_set_str(rc.meta, "work_dir", rc.work_root);
	if (tsan_runtime) {
		/* The runtime, and a constructor that starts it before main() (tsan.h says why):
		 * where the test uids can read it, in the workspaces' directory. */
		char *dir = path_join(rc.work_root, "tsan");
		char *init = tsan_build_init_lib(tsan_runtime, dir), *why = NULL;
		rc.tsan_preload = init ? xasprintf("%s %s", tsan_runtime, init)
				       : xstrdup(tsan_runtime);
		if (tsan_preload_check(rc.tsan_preload, &why) < 0)
			die("--tsan: a shell with LD_PRELOAD='%s' fails (%s)", rc.tsan_preload,
			    why);
		info("tsan: the interpreter is not instrumented; preloading %s", rc.tsan_preload);
		json_set_str(cJSON_GetObjectItemCaseSensitive(rc.meta, "config"), "tsan_preload",
			     rc.tsan_preload);
		free(init);
		free(dir);
	}
	invoker_pip_config(&rc);
	rc.meta_path = path_join(rc.run_dir, "ft_meta.json");
	rc.results_path = path_join(rc.run_dir, "ft_results.jsonl");
	json_set_str(cJSON_GetObjectItemCaseSensitive(rc.meta, "config"), "tracer",
		     tracer_name(rc.tracer));
	json_set_str(cJSON_GetObjectItemCaseSensitive(rc.meta, "config"), "tracer_reason",
		     rc.tracer_reason);
	if (o.check_stability)
		print_stability(&rc);
	if (write_meta(&rc) < 0)
		die("cannot start the run");
	if ((errno = -space_reserve(rc.run_dir)))
		warning_errno("cannot reserve %d bytes in '%s': a full disk may cut the run's "
			      "records short", SPACE_RESERVE, rc.run_dir);
	info("run directory: %s", rc.run_dir);

	/* Skip what a resumed run already finished. */
	if (prev.dir) {
		size_t k = 0;
		for (size_t i = 0; i < nsel; i++) {
			const cJSON *p = run_find_pkg(&prev, sel[i]->name);
			if (p && !json_bool(p, "interrupted", false))
				continue;
			sel[k++] = sel[i];
		}
		info("resuming: %zu of %zu packages left", k, nsel);
		nsel = k;
	}

	signal(SIGPIPE, SIG_IGN);
	base_env(&rc.base_env);
	rc.tty = isatty(2);
	rc.pkg_total = nsel;
	if (supervise_init() < 0)
		warning_errno("cannot become a child subreaper; orphaned test processes may escape");

	run_packages(&rc, sel, nsel);
	if (rm_rf(rc.work_root) < 0)
		warning("cannot remove the workspaces' directory '%s'", rc.work_root);

	/* Close the run: counts, status, the summary. */
	{
		struct run_data now = { 0 };
		double prev_dur = json_num(rc.meta, "total_duration_s", 0);
		iso_utc(now_wall(), ts, sizeof(ts));
		json_set_str(rc.meta, "status", space_is_full() ? "disk_full"
						: interrupted	 ? "interrupted"
								 : "complete");
		json_set_str(rc.meta, "finished_at", ts);
		json_set_num(rc.meta, "total_duration_s",
			     round_to(prev_dur + now_monotonic() - rc.t0, 2));
		if (run_load(rc.run_dir, &now) == 0) {
			size_t done = 0;
			uniform = pkgs_uniform_failure(now.pkgs, now.n);
			double iters = 0;
			for (size_t i = 0; i < now.n; i++) {
				if (!json_bool(now.pkgs[i], "interrupted", false))
					done++;
				iters += json_num(now.pkgs[i], "iterations_completed", 0) +
					 cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
						 now.pkgs[i], "gil_enabled_iterations"));
			}
			json_set_num(rc.meta, "packages_completed", (double)done);
			json_set_num(rc.meta, "total_iterations", iters);
			run_data_release(&now);
		}
		if (write_meta(&rc) < 0)
			goto out;
	}
	if (space_is_full()) {
		error("the disk of '%s' is full: the run stopped (status disk_full); finished "
		      "iterations are saved. Free some space, then continue with:\n"
		      "  ftscope run --resume %s", rc.run_dir, rc.run_dir);
		ret = FT_EXIT_FAILURE;
	} else if (interrupted) {
		fprintf(stderr, "ftscope: interrupted; finished iterations are saved. Continue with:\n"
				"  ftscope run --resume %s\n", rc.run_dir);
		ret = FT_EXIT_INTERRUPTED;
		goto out;
	}
	{
		char *show_argv[] = { "show", rc.run_dir, NULL };
		printf("\n");
		fflush(stdout);
		optind = 0; /* cmd_show parses its own options */
		cmd_show(2, show_argv);
		if (uniform) /* show leads with it; a run ends with it too */
			printf("\n%s\n", uniform);
	}
	if (!space_is_full())
		ret = FT_EXIT_OK;
out:
	free(sel);
	if (have_single)
		pkg_entry_release(&single);
	registry_release(&reg);
	run_data_release(&prev);
	strv_release(&skipped);
	strv_release(&rc.base_env);
	free(rc.tsan_preload);
	free(rc.pip_config);
	free(uniform);
	free(tsan_runtime);
	stderr_evidence_set_tsan_suppressions(NULL);
	tsan_supp_release(&rc.tsan_supp);
	sbuf_release(&err);
	cJSON_Delete(rc.meta);
	cJSON_Delete(rc.profile);
	if (rc.lock_fd >= 0)
		close(rc.lock_fd);
	free(rc.run_dir);
	free(rc.work_root);
	free(rc.tracer_reason);
	free(rc.meta_path);
	free(rc.results_path);
	run_opts_release(&o);
	return ret;
}
