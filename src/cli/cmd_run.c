/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include "ftscope/cmd.h"
#include "ftscope/cpus.h"
#include "ftscope/diskspace.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/registry.h"
#include "ftscope/results.h"
#include "ftscope/run.h"
#include "ftscope/run_outcome.h"
#include "ftscope/runmeta.h"
#include "ftscope/rundir.h"
#include "ftscope/sandbox.h"
#include "ftscope/shard.h"
#include "ftscope/show.h"
#include "ftscope/supervise.h"
#include "ftscope/sysinfo.h"
#include "ftscope/text.h"
#include "ftscope/tracer.h"
#include "ftscope/tsan.h"
#include "ftscope/version.h"
#include "ftscope/workspace.h"

/* ---- set-up ---- */

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
	const char *need[] = { o->venvs_dir, o->target_python,
			       o->baseline_python ? o->baseline_python : o->target_python };
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
	const char *what;
	int r = run_dir_protect(rc->run_dir, &what);
	if (r == -EPERM && !*what)
		die("'%s' is not ftscope's own run directory (its owner or mode lets others write "
		    "there): not used", rc->run_dir);
	if (r < 0) {
		errno = -r;
		die_errno(*what ? "cannot make '%s%s'" : "cannot protect '%s%s'", rc->run_dir,
			  what);
	}
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
	runmeta_pip_config(rc->meta, from);
	free(from);
	free(dest);
}

/*
 * --check-stability: a busy machine makes durations and race rates noise, so the run does
 * not start: the 1-minute load must stay below --max-load (default: half the CPUs this
 * process may use). *st gets ft_meta.json's "stability". Returns whether it is stable.
 */
static bool stability_check(const struct run_opts *o, struct run_stability *st)
{
	char *text = NULL;
	st->load_1m = -1;
	st->cpus = cpus_usable();
	if (read_file("/proc/loadavg", &text, NULL) == 0)
		st->load_1m = strtod(text, NULL);
	free(text);
	st->max_load = o->max_load >= 0 ? o->max_load : 0.5 * (double)st->cpus;
	st->ok = st->load_1m >= 0 && st->load_1m < st->max_load;
	if (st->ok)
		info("stability: load %.2f on %ld CPUs, below %.2f: ok", st->load_1m, st->cpus,
		     st->max_load);
	return st->ok;
}

/* What cmd_run's steps share besides the run's context (run.h). */
struct run_setup {
	struct registry reg;
	struct pkg_entry **sel, single;  /* the packages to run; single: --package-dir */
	size_t nsel;
	bool have_single;
	struct strv skipped;             /* "name: reason" of the registry's skipped ones */
	struct run_data prev;            /* --resume: the run as it was */
	struct test_uid check_uid;       /* the set-up checks' test uid (USER_DYNAMIC) */
	char *tsan_runtime;              /* --tsan on an uninstrumented python: to preload */
	struct run_stability stability;  /* --check-stability's record */
	bool have_stability;
	char *uniform;                   /* the one cause behind every failure, if any */
	char who[128];                   /* whom the test code runs as, for the checks */
	struct sbuf err;
	struct shard shard;              /* --shard, resolved; count 0: not sharded */
	char sel_hash[17];               /* the whole selection's (shard.h) */
	struct strv sel_names;           /* the whole selection, for the meta */
};

/* --resume: the run's own options, then whatever this command line adds. */
static void resume_options(struct run_opts *o, struct run_data *prev, int argc, char **argv)
{
	/* The path is made absolute first: everything below (the junit path given to pytest
	 * too) uses it. */
	char *rd = abs_path(o->resume);
	struct strv av = STRV_INIT;
	if (run_load(rd, prev) < 0 || !prev->meta)
		die("cannot resume '%s': not a readable ftscope run directory", rd);
	strv_push(&av, "run");
	runmeta_cli_args(prev->meta, &av);
	run_opts_release(o);
	run_opts_init(o);
	run_opts_parse((int)av.n, av.v, o);
	run_opts_parse(argc, argv, o);
	free(o->resume);
	o->resume = xstrdup(prev->dir);
	strv_release(&av);
	free(rd);
}

/* The repos, venvs and results directories: made (not for --list, which writes nothing),
 * absolute, not shared with others. */
static void setup_dirs(struct run_opts *o)
{
	/* labeille's layout: DIR/repos, DIR/venvs, DIR/results (--work-dir DIR), each unless
	 * given by its own option; without --work-dir, in the current directory */
	const char *wd = o->work_dir ? o->work_dir : ".";
	/* Paths stay valid whatever directory a command runs in. */
	char **paths[] = { &o->repos_dir, &o->venvs_dir, &o->results_dir };
	if (!o->repos_dir)
		o->repos_dir = path_join(wd, "repos");
	if (!o->venvs_dir)
		o->venvs_dir = path_join(wd, "venvs");
	if (!o->results_dir)
		o->results_dir = path_join(wd, "results");
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		char *a;
		if (!o->list && mkdir_p(*paths[i], 0755) < 0)
			die_errno("cannot create '%s'", *paths[i]);
		a = abs_path(*paths[i]);
		free(*paths[i]);
		*paths[i] = a;
	}
	for (size_t i = 0; i < 3; i++)
		check_not_shared(i == 0 ? o->repos_dir : i == 1 ? o->venvs_dir : o->results_dir);
}

/* Whose rights the test code runs with: never root unless asked; by default a test uid of
 * its own per package (sandbox.h), so packages cannot touch each other either. */
static void choose_user(struct run_ctx *rc, struct run_setup *s)
{
	const struct run_opts *o = rc->o;
	if (o->user && geteuid() != 0)
		die("--user needs root (ftscope runs as uid %d)", (int)geteuid());
	if (geteuid() != 0 || (o->user && !strcmp(o->user, "root"))) {
		rc->user_mode = USER_SELF;
		if (geteuid() == 0)
			warning("test code runs as root (--user root)");
	} else if (o->user) {
		struct passwd *pw = getpwnam(o->user);
		struct stat st;
		if (!pw)
			die("--user: no user '%s' on this system", o->user);
		rc->user_mode = USER_FIXED;
		rc->fixed_user.uid = pw->pw_uid;
		rc->fixed_user.gid = pw->pw_gid;
		snprintf(rc->fixed_user.name, sizeof(rc->fixed_user.name), "%s", pw->pw_name);
		if (pw->pw_dir && stat(pw->pw_dir, &st) == 0 && S_ISDIR(st.st_mode) &&
		    st.st_uid == pw->pw_uid)
			snprintf(rc->fixed_user.home, sizeof(rc->fixed_user.home), "%s",
				 pw->pw_dir);
		supervise_set_user(&rc->fixed_user);
		snprintf(s->who, sizeof(s->who), "%s", pw->pw_name);
		if (o->jobs > 1)
			warning("--user %s with --jobs %ld: every package runs as that one "
				"user, so one package's tests can signal and write another's "
				"(without --user, each package gets a test uid of its own)", o->user,
				o->jobs);
		debug("test code runs as %s (uid %d)", pw->pw_name, (int)pw->pw_uid);
	} else {
		/* The checks below run as a test uid too, taken for them only. */
		struct run_as ra;
		uid_t first, last;
		rc->user_mode = USER_DYNAMIC;
		if (test_uid_acquire(&s->check_uid, false, &s->err) < 0)
			die("%s", s->err.buf);
		test_uid_run_as(&s->check_uid, &ra);
		supervise_set_user(&ra);
		test_uids_range(&first, &last);
		snprintf(s->who, sizeof(s->who), "test uids %u-%u", (unsigned)first,
			 (unsigned)last);
	}
	check_user_access(o, s->who);
}

/* The interpreter first: nothing runs with a wrong one. Then --baseline-python's. */
static void check_interpreters(struct run_ctx *rc, struct run_setup *s)
{
	struct run_opts *o = rc->o;
	char *a;
	if (python_check(o->target_python, &rc->profile, &s->err) < 0) {
		if (run_interrupted)
			run_stop_before_start("while the interpreter was being profiled");
		die("%s", s->err.buf);
	}
	if (rc->user_mode == USER_DYNAMIC) {
		/* The workers take test uids of their own. */
		test_uid_release(&s->check_uid);
		supervise_set_user(NULL);
	}
	a = abs_path(o->target_python);
	free(o->target_python);
	o->target_python = a;
	if (o->baseline_python) {
		/* PEP 779's baseline: a default build of the same minor version */
		const char *bm, *tm = profile_minor(rc->profile);
		a = abs_path(o->baseline_python);
		free(o->baseline_python);
		o->baseline_python = a;
		if (python_check_build(a, false, &rc->baseline_profile, &s->err) < 0)
			die("--baseline-python: %s", s->err.buf);
		bm = profile_minor(rc->baseline_profile);
		if (!bm || !tm || strcmp(bm, tm))
			die("--baseline-python '%s' is Python %s, the target is %s: PEP 779 compares "
			    "builds of the same version", a, profile_version(rc->baseline_profile),
			    profile_version(rc->profile));
	}
}

/* --find-links, and ThreadSanitizer: suppressions, and the runtime an uninstrumented python
 * needs. */
static void check_inputs(struct run_ctx *rc, struct run_setup *s)
{
	struct run_opts *o = rc->o;
	if (o->find_links) {
		char *a = abs_path(o->find_links);
		if (!is_dir(a))
			die("--find-links '%s' is not a directory", o->find_links);
		free(o->find_links);
		o->find_links = a;
	}
	if (o->tsan_suppressions) {
		char *a = abs_path(o->tsan_suppressions);
		free(o->tsan_suppressions);
		o->tsan_suppressions = a;
		if (tsan_supp_load(a, &rc->tsan_supp) < 0)
			die("cannot use --tsan-suppressions '%s'", a);
		stderr_evidence_set_tsan_suppressions(&rc->tsan_supp);
	}
	if (o->tsan && tsan_binary_instrumented(o->target_python) == 0) {
		s->tsan_runtime = tsan_runtime_path();
		if (!s->tsan_runtime)
			die("--tsan: '%s' is not built with ThreadSanitizer and no TSAN runtime "
			    "(libtsan.so) was found to preload; install libtsan2 or set "
			    "FTSCOPE_TSAN_RUNTIME", o->target_python);
	}
}

/* Which packages: --package-dir's one, or the registry's selection. */
static void select_packages(struct run_ctx *rc, struct run_setup *s)
{
	struct run_opts *o = rc->o;
	if (o->package_dir) {
		if (!is_dir(o->package_dir))
			die("--package-dir '%s' is not a directory", o->package_dir);
		package_dir_entry(o->package_dir, &s->single);
		s->have_single = true;
		s->sel = xcalloc(1, sizeof(*s->sel));
		s->sel[0] = &s->single;
		s->nsel = 1;
		return;
	}
	if (!o->registry_dir)
		o->registry_dir = run_default_registry();
	if (!is_dir(o->registry_dir))
		die("no packages to run: registry '%s' does not exist (give --registry-dir or "
		    "--package-dir)", o->registry_dir);
	if (registry_load(o->registry_dir, &s->reg) < 0)
		die("cannot use registry '%s'", o->registry_dir);
	if (registry_select(&s->reg, &o->packages, o->top, profile_minor(rc->profile),
			    &s->sel, &s->nsel, &s->skipped) < 0)
		die("cannot select packages from '%s'", o->registry_dir);
	for (size_t i = 0; i < s->skipped.n; i++)
		info("skipping %s", s->skipped.v[i]);
	if (!s->nsel)
		die("no packages selected from registry '%s'", o->registry_dir);
}

/* The whole selection's names and hash, then this shard's part of it (shard.h). */
static void shard_selection(struct run_ctx *rc, struct run_setup *s)
{
	const char **names = xcalloc(s->nsel + 1, sizeof(*names));
	size_t k = 0;
	for (size_t i = 0; i < s->nsel; i++) {
		names[i] = s->sel[i]->name;
		strv_push(&s->sel_names, s->sel[i]->name);
	}
	selection_hash(names, s->nsel, s->sel_hash);
	free(names);
	if (s->prev.dir) {
		const char *h = runmeta_selection_hash(s->prev.meta);
		if (h && strcmp(h, s->sel_hash))
			die("cannot resume '%s': its packages were another selection (hash %s, now "
			    "%s): has the registry changed?", s->prev.dir, h, s->sel_hash);
	}
	if (!rc->o->shard)
		return;
	if (shard_resolve(rc->o->shard, &s->shard, &s->err) < 0)
		die("%s", s->err.buf);
	for (size_t i = 0; i < s->nsel; i++)
		if (shard_owns(&s->shard, i))
			s->sel[k++] = s->sel[i];
	info("shard %ld of %ld (%s): %zu of %zu packages", s->shard.index, s->shard.count,
	     s->shard.source, k, s->nsel);
	s->nsel = k;
}

/* --resume: the run directory again, locked, its meta "running" with a resumed_at more. */
static void reopen_run_dir(struct run_ctx *rc, const struct run_data *prev)
{
	char *moved = NULL, ts[32];
	rc->run_dir = xstrdup(prev->dir);
	protect_run_dir(rc);
	run_lock(rc);
	/* A line cut short (kill -9, power loss) must not swallow the next one. */
	if (run_repair_results(rc->run_dir, &moved) > 0)
		warning("the last line of '%s/ft_results.jsonl' was cut short; moved it "
			"to '%s'", rc->run_dir, moved);
	free(moved);
	iso_utc(now_wall(), ts, sizeof(ts));
	rc->meta = runmeta_resume(prev->meta, ts);
}

/* A new run directory, locked, and its meta. */
static void create_run_dir(struct run_ctx *rc, const struct run_setup *s, int argc,
			   char **argv)
{
	struct strv args = STRV_INIT;
	struct run_meta_init mi = { .skipped = &s->skipped, .packages_total = s->nsel,
				    .sel_hash = s->sel_hash, .selection = &s->sel_names,
				    .shard = &s->shard };
	char ts[32];
	rc->run_dir = new_run_dir(rc->o->results_dir);
	if (!rc->run_dir)
		die("cannot create a run directory in '%s'", rc->o->results_dir);
	protect_run_dir(rc);
	run_lock(rc);
	iso_utc(now_wall(), ts, sizeof(ts));
	for (int i = 1; i < argc; i++) {
		/* the shard as resolved: a resume needs no Slurm environment */
		bool sh = s->shard.count > 0;
		char *a = sh && !strcmp(argv[i - 1], "--shard")
				  ? xasprintf("%ld/%ld", s->shard.index, s->shard.count)
			  : sh && starts_with(argv[i], "--shard=")
				  ? xasprintf("--shard=%ld/%ld", s->shard.index, s->shard.count)
				  : xstrdup(argv[i]);
		strv_push(&args, a);
		free(a);
	}
	mi.run_id = strrchr(rc->run_dir, '/') + 1;
	mi.ts = ts;
	mi.system_profile = system_profile_json(rc->o->results_dir);
	mi.python_profile = rc->profile;
	mi.baseline_profile = rc->baseline_profile;
	mi.config = run_opts_config_json(rc->o, tracer_name(rc->tracer));
	mi.cli_args = &args;
	rc->meta = runmeta_new(&mi);
	strv_release(&args);
}

/* The workspaces' directory, the TSAN preload, the pip config; the meta written. */
static void start_run(struct run_ctx *rc, struct run_setup *s)
{
	pid_t pid = getpid();
	make_work_root(rc);
	runmeta_started(rc->meta, pid, rc->work_root);
	if (s->tsan_runtime) {
		/* The runtime, and a constructor that starts it before main() (tsan.h says why):
		 * where the test uids can read it, in the workspaces' directory. */
		char *dir = path_join(rc->work_root, "tsan");
		char *init = tsan_build_init_lib(s->tsan_runtime, dir), *why = NULL;
		rc->tsan_preload = init ? xasprintf("%s %s", s->tsan_runtime, init)
					: xstrdup(s->tsan_runtime);
		if (tsan_preload_check(rc->tsan_preload, &why) < 0)
			die("--tsan: a shell with LD_PRELOAD='%s' fails (%s)", rc->tsan_preload,
			    why);
		info("tsan: the interpreter is not instrumented; preloading %s", rc->tsan_preload);
		runmeta_tsan_preload(rc->meta, rc->tsan_preload);
		free(init);
		free(dir);
	}
	invoker_pip_config(rc);
	rc->meta_path = path_join(rc->run_dir, "ft_meta.json");
	rc->results_path = path_join(rc->run_dir, "ft_results.jsonl");
	/* a resumed merge that missed shards: what was missing is run now */
	runmeta_ready(rc->meta, tracer_name(rc->tracer), rc->tracer_reason,
		      s->have_stability ? &s->stability : NULL, rc->profile, s->prev.dir != NULL);
	if (run_write_meta(rc) < 0)
		die("cannot start the run");
	if ((errno = -space_reserve(rc->run_dir)))
		warning_errno("cannot reserve %d bytes in '%s': a full disk may cut the run's "
			      "records short", SPACE_RESERVE, rc->run_dir);
	info("run directory: %s", rc->run_dir);
}

/* Skip what a resumed run already finished. */
static void skip_finished(struct run_setup *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->nsel; i++) {
		if (run_pkg_finished(&s->prev, s->sel[i]->name))
			continue;
		s->sel[k++] = s->sel[i];
	}
	info("resuming: %zu of %zu packages left", k, s->nsel);
	s->nsel = k;
}

/* Close the run: counts, status, finished_at in the meta. -1 if it cannot be written. */
static int close_run(struct run_ctx *rc, struct run_setup *s)
{
	struct run_data now = { 0 };
	char ts[32];
	iso_utc(now_wall(), ts, sizeof(ts));
	runmeta_close(rc->meta, space_is_full() ? RUNMETA_DISK_FULL
				: run_interrupted ? RUNMETA_INTERRUPTED
						  : RUNMETA_COMPLETE,
		      ts, now_monotonic() - rc->t0);
	if (run_load(rc->run_dir, &now) == 0) {
		s->uniform = pkgs_uniform_failure(now.pkgs, now.n);
		runmeta_count(rc->meta, &now);
		run_data_release(&now);
	}
	return run_write_meta(rc);
}

/* How the run ended, for people: a full disk, an interruption, or the summary. The exit
 * status. */
static int end_of_run(struct run_ctx *rc, const struct run_setup *s)
{
	if (space_is_full()) {
		error("the disk of '%s' is full: the run stopped (status disk_full); finished "
		      "iterations are saved. Free some space, then continue with:\n"
		      "  ftscope run --resume %s", rc->run_dir, rc->run_dir);
	} else if (run_interrupted) {
		fprintf(stderr, "ftscope: interrupted; finished iterations are saved. Continue with:\n"
				"  ftscope run --resume %s\n", rc->run_dir);
		return FT_EXIT_INTERRUPTED;
	}
	printf("\n");
	fflush(stdout);
	show_run_summary(rc->run_dir);
	if (s->uniform) /* show leads with it; a run ends with it too */
		printf("\n%s\n", s->uniform);
	if (space_is_full())
		return FT_EXIT_FAILURE;
	return run_outcome(stdout, rc->run_dir, rc->o->fail_on); /* 0, or 3 for --fail-on */
}

static void run_release(struct run_ctx *rc, struct run_setup *s)
{
	free(s->sel);
	if (s->have_single)
		pkg_entry_release(&s->single);
	registry_release(&s->reg);
	run_data_release(&s->prev);
	strv_release(&s->skipped);
	strv_release(&s->sel_names);
	free(s->uniform);
	free(s->tsan_runtime);
	sbuf_release(&s->err);
	strv_release(&rc->base_env);
	free(rc->tsan_preload);
	free(rc->pip_config);
	stderr_evidence_set_tsan_suppressions(NULL);
	tsan_supp_release(&rc->tsan_supp);
	runmeta_free(rc->meta);
	profile_free(rc->profile);
	profile_free(rc->baseline_profile);
	if (rc->lock_fd >= 0)
		close(rc->lock_fd);
	free(rc->run_dir);
	free(rc->work_root);
	free(rc->tracer_reason);
	tracer_release(rc->tracer);
	free(rc->meta_path);
	free(rc->results_path);
	run_opts_release(rc->o);
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct run_ctx rc = { .o = &o, .lock_fd = -1 };
	struct run_setup s = { .skipped = STRV_INIT, .check_uid = TEST_UID_INIT,
			       .err = SBUF_INIT, .sel_names = STRV_INIT };
	int ret = FT_EXIT_FAILURE;

	run_opts_init(&o);
	umask(022); /* what root creates is not writable by others, whoever started us */
	if (run_opts_parse(argc, argv, &o)) {
		run_opts_usage();
		run_opts_release(&o);
		return FT_EXIT_OK;
	}
	if (o.resume)
		resume_options(&o, &s.prev, argc, argv);
	run_catch_signals();

	/* The checks, before anything is made: the tracer, the directories, the user, the
	 * interpreters, the inputs, the packages, the machine's load. */
	/* The tracer: the first of ebpf, ptrace, none that can run here (tracer.h). */
	if (tracer_select(o.tracer ? o.tracer : "auto", &rc.tracer, &rc.tracer_reason, &s.err) < 0)
		die("%s", s.err.buf);
	info("tracer: %s (%s)", tracer_name(rc.tracer), rc.tracer_reason);
	if (!o.target_python)
		die_usage("run", "--target-python is required");
	setup_dirs(&o);
	if (!o.list) /* --list runs no test code: no test user, no lock file */
		choose_user(&rc, &s);
	check_interpreters(&rc, &s);
	check_inputs(&rc, &s);
	if (run_interrupted)
		run_stop_before_start("while checking the setup");
	select_packages(&rc, &s);
	shard_selection(&rc, &s);
	if (o.jobs > 1 && cpus_usable() / o.jobs >= 2) {
		info("--jobs %ld on %ld CPUs: each worker runs on %ld or more CPUs of its own, so "
		     "a package's threads can still run at the same time", o.jobs, cpus_usable(),
		     cpus_usable() / o.jobs);
	} else if (o.jobs > 1) {
		long cpus = cpus_usable();
		warning("--jobs %ld on %ld CPUs leaves a package fewer than two cores: its threads "
			"rarely run at the same time, and races it has may pass unseen (use at most "
			"--jobs %ld here)", o.jobs, cpus, cpus / 2 > 1 ? cpus / 2 : 1);
	}
	if (o.list) {
		for (size_t i = 0; i < s.nsel; i++)
			puts(s.sel[i]->name);
		ret = FT_EXIT_OK;
		goto out;
	}
	/* --check-stability: on a busy machine nothing starts (and no run directory is made). */
	s.have_stability = o.check_stability;
	if (o.check_stability && !stability_check(&o, &s.stability)) {
		error("the machine is not stable enough to start: its 1-minute load is %.2f on %ld "
		      "CPUs, the limit is %.2f (%s); wait for it to calm down, or run with "
		      "--no-check-stability",
		      s.stability.load_1m, s.stability.cpus, s.stability.max_load,
		      o.max_load >= 0 ? "--max-load" : "half the CPUs");
		goto out;
	}

	/* The run directory and its metadata. */
	rc.t0 = now_monotonic();
	if (s.prev.dir)
		reopen_run_dir(&rc, &s.prev);
	else
		create_run_dir(&rc, &s, argc, argv);
	start_run(&rc, &s);
	if (s.prev.dir)
		skip_finished(&s);

	/* The pipeline: every package through the worker pool (run_pool.c). */
	signal(SIGPIPE, SIG_IGN);
	base_env(&rc.base_env);
	rc.tty = isatty(2);
	rc.pkg_total = s.nsel;
	if (supervise_init() < 0)
		warning_errno("cannot become a child subreaper; orphaned test processes may escape");
	run_packages(&rc, s.sel, s.nsel);
	if (rm_rf(rc.work_root) < 0)
		warning("cannot remove the workspaces' directory '%s'", rc.work_root);

	/* The summary. */
	if (close_run(&rc, &s) == 0)
		ret = end_of_run(&rc, &s);
out:
	run_release(&rc, &s);
	return ret;
}
