/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* One package of a run, in its worker: source, workspace, install, probe, iterations (run.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/dist.h"
#include "ftscope/error.h"
#include "ftscope/gitrepo.h"
#include "ftscope/results.h"
#include "ftscope/run.h"
#include "ftscope/sandbox.h"
#include "ftscope/srcscan.h"
#include "ftscope/stress.h"
#include "ftscope/testreport.h"
#include "ftscope/text.h"
#include "ftscope/tsan.h"
#include "ftscope/workspace.h"

static bool task_limit_warned;

char *run_pkg_dirname(const char *name)
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
 * history_size=7: TSAN keeps each thread's last 4M accesses (default 128K) to restore the
 * stack of a race's earlier access; a thread that writes in a loop without synchronizing
 * outruns the default before the other side reads, and the report says "[failed to restore
 * the stack]" (t0510's writer did, under load: a signature "data race | ?? | reader"). The
 * price measured: 64 threads of 20M writes each, max RSS 73 -> 117 MB.
 */
static void tsan_env(const struct run_ctx *rc, const char *log_dir, struct strv *env)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_adds(&sb, "halt_on_error=0 exitcode=0 second_deadlock_stack=1 history_size=7");
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
	struct sbuf ao = SBUF_INIT;
	char *junit = path_join(out_dir, "junit.xml");
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
	/* the path shell-quoted: pytest splits PYTEST_ADDOPTS with shlex, and a checkout may
	 * be named anything (a space, a quote) */
	sbuf_addf(&ao, "%s%s-v -p no:cacheprovider -o junit_family=xunit1 --junitxml=",
		  addopts ? addopts : "", addopts && *addopts ? " " : "");
	sbuf_add_shquoted(&ao, junit);
	env_set(env, "PYTEST_ADDOPTS", ao.buf);
	sbuf_release(&ao);
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
			   struct workspace *ws, const char *gil, const char *prefix, cJSON *arr,
			   struct run_progress *pg)
{
	const struct run_opts *o = rc->o;
	const bool stress = !strcmp(prefix, "stress-");
	char *cmd = test_command(o, e);
	bool ok = true;
	int have = cJSON_GetArraySize(arr);
	for (int i = have + 1; i <= o->iterations; i++) {
		char *name = xasprintf("%s%d", prefix, i);
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
			.interrupted = &run_interrupted,
			.max_tasks = o->max_pids,
			.tracer = rc->tracer,
			.seize_threads = o->seize_threads,
			.tick = run_progress_draw,
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
		if (stress)
			stress_env(&env, o->parallel_threads, o->parallel_iterations);
		spec.envp = env.v;
		pg->iter = i;
		supervise_run(&spec, &out);
		if (out.killed_by == KILLED_INTERRUPT || run_interrupted) {
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
			if (stress) { /* PARALLEL FAILED and [thread-unsafe] from pytest's -v lines */
				char *so = read_text_at(AT_FDCWD, outp,
							(size_t)o->max_output + (1u << 20), geteuid());
				stress_parse_output(so, it);
				free(so);
			}
			if (command_runs_pytest(cmd))
				iteration_require_session(it, &tr);
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
			if (run_stop_requested())
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

/*
 * Stress iterations (--parallel-threads; stress.h), after the plain ones, into the package's
 * "stress" block; none, with the reason, for a suite pytest does not run or without the
 * plugin. Returns false if interrupted.
 */
static bool run_stress(struct run_ctx *rc, const struct pkg_entry *e, const char *pkgdir,
		       struct workspace *ws, const char *tc, const char *art, cJSON *pkg,
		       struct run_progress *pg)
{
	const char *plugin = profile_pytest_run_parallel(rc->profile);
	const char *skip = stress_skip_reason(tc);
	cJSON *sb;
	if (!skip && !plugin)
		skip = "pytest-run-parallel is not installed in the target Python (scripts/setup.sh "
		       "installs Debian's)";
	sb = stress_block(rc->o->parallel_threads, rc->o->parallel_iterations, plugin, skip);
	cJSON_AddItemToObject(pkg, "stress", sb);
	if (skip) {
		info("%s: no stress iterations: %s", e->name, skip);
		return true;
	}
	recover_iterations(art, e->name, "stress-", rc->o->iterations,
			   cJSON_GetObjectItemCaseSensitive(sb, "iterations"));
	pg->phase = "stress";
	memset(pg->counts, 0, sizeof(pg->counts));
	return run_iterations(rc, e, pkgdir, ws, "0", "stress-",
			      cJSON_GetObjectItemCaseSensitive(sb, "iterations"), pg);
}

/* Environment of installs (and of the release lookup): the test user's, in the venv, pip
 * configured as --offline/--find-links and the invoker's pip.conf say. */
static void install_env(struct run_ctx *rc, const struct workspace *ws, struct strv *env)
{
	const struct run_opts *o = rc->o;
	for (size_t i = 0; i < rc->base_env.n; i++)
		strv_push(env, rc->base_env.v[i]);
	env_for_venv(env, ws->venv);
	env_for_user(env, ws);
	env_for_install(env, &(struct install_mode){ o->offline, o->find_links, rc->pip_config });
	if (o->tsan)
		tsan_build_env(env); /* the package's extensions instrumented */
	env_set(env, "PYTHON_GIL", NULL);
	env_apply_user(env, o);
}

/* The checkout's copy of the package that an installed artifact must win over: the top
 * level of its import name (a --package-dir has no registry name to go by). */
static const char *pkg_shield_name(const struct pkg_entry *e)
{
	static char buf[256];
	const char *n = e->import_name && *e->import_name ? e->import_name : pkg_import_name(e);
	size_t len = strcspn(n, ".");
	if (e->local_dir && !e->import_name)
		return NULL;
	if (len >= sizeof(buf) || strpbrk(n, "/ \t\n"))
		return NULL;
	memcpy(buf, n, len);
	buf[len] = '\0';
	return buf;
}

/* gitrepo_checkout_tag() in a child (run_in_child): "<tag>\n<commit>" comes back. */
struct tag_job {
	const char *dir;
	const char *const *tags;
};

static int tag_job_run(void *arg, struct sbuf *out)
{
	const struct tag_job *j = arg;
	char *tag = NULL, *commit = NULL;
	int r = gitrepo_checkout_tag(j->dir, j->tags, &tag, &commit, out);
	if (r == 0)
		sbuf_addf(out, "%s\n%s", tag, commit ? commit : "");
	free(tag);
	free(commit);
	return r < 0 ? -1 : 0;
}

/*
 * --install-from sdist and --trust-ft-wheels: what to install instead of the checkout
 * (*artifact, a file in the workspace), decided before the sources are staged, because an
 * sdist's tag is checked out in root's clone (*commit becomes the tag's). Records
 * install_from, sdist_version, sdist_tag(_matched), ft_wheel_found, ft_wheel_version,
 * ft_wheels. Returns 0 (go on; *artifact NULL: the checkout), 1 (trusted by a wheel for
 * another Python version: nothing to install or run, as labeille does), -1 with *why.
 */
static int plan_install(struct run_ctx *rc, const struct pkg_entry *e, struct workspace *ws,
			const struct strv *env, const char *origin, cJSON *pkg, char **artifact,
			char **commit, char **why)
{
	const struct run_opts *o = rc->o;
	char *abi = dist_ft_abi(profile_minor(rc->profile));
	char *script = path_join(ws->dir, "ft_dist.py"), *outdir = path_join(ws->tmp, "dist");
	struct dist_found f = { 0 };
	struct strv tags = STRV_INIT;
	struct sbuf out = SBUF_INIT;
	int ret = -1;

	*artifact = NULL;
	if (!abi) {
		*why = xstrdup("cannot tell the target's Python version (for its wheel tag)");
		goto out;
	}
	if (dist_find(o->target_python, e->name, abi, o->install_sdist, o->trust_ft_wheels, outdir,
		      ws->tmp, env, script, install_timeout(o, e), &f) < 0) {
		/* no release: an sdist install fails; a wheel check alone found no wheel */
		if (o->install_sdist) {
			*why = xstrdup(f.error);
			goto out;
		}
		info("%s: %s; installing the checkout", e->name, f.error);
	}
	if (o->trust_ft_wheels) {
		bool trusted = f.wheel || (o->trust_any_version && f.ft_wheels.n);
		json_set_bool(pkg, "ft_wheel_found", trusted);
		if (f.ft_wheels.n) {
			cJSON *a = cJSON_CreateArray();
			for (size_t i = 0; i < f.ft_wheels.n; i++)
				cJSON_AddItemToArray(a, cJSON_CreateString(f.ft_wheels.v[i]));
			json_set(pkg, "ft_wheels", a);
		}
		if (trusted)
			json_set_str(pkg, "ft_wheel_version", f.version);
		if (f.wheel) {
			info("%s: installing its free-threaded wheel %s", e->name,
			     strrchr(f.wheel, '/') + 1);
			json_set_str(pkg, "install_from", "wheel");
			*artifact = xstrdup(f.wheel);
			ret = 0;
			goto out;
		}
		if (trusted) {
			info("%s: trusted: %s %s publishes a free-threaded wheel for another Python "
			     "(%s); not installed, not run", e->name, e->name, f.version,
			     f.ft_wheels.v[0]);
			json_set_str(pkg, "install_from", "skipped");
			json_set_bool(pkg, "install_ok", true);
			ret = 1;
			goto out;
		}
	}
	if (o->install_sdist) {
		if (!f.sdist) {
			*why = xstrdup(f.error ? f.error : "no sdist found");
			goto out;
		}
		json_set_str(pkg, "install_from", "sdist");
		json_set_str(pkg, "sdist_version", f.version);
		*artifact = xstrdup(f.sdist);
		if (!e->local_dir) {
			struct tag_job job = { origin, NULL };
			dist_tag_candidates(e->name, f.version, &tags);
			strv_push(&tags, NULL);
			tags.n--;
			job.tags = (const char *const *)tags.v;
			if (run_in_child(tag_job_run, &job, &out) < 0) {
				*why = xasprintf("checking out the tag of %s %s: %s", e->name, f.version,
						 out.len ? out.buf : "failed");
				goto out;
			}
			json_set_bool(pkg, "sdist_tag_matched", out.len > 0);
			if (out.len) {
				char *nl = strchr(out.buf, '\n');
				*nl = '\0';
				json_set_str(pkg, "sdist_tag", out.buf);
				free(*commit);
				*commit = xstrdup(nl + 1);
			} else {
				info("%s: no tag of %s %s in its repository (tried %s, ...): its tests "
				     "are the repository's head's", e->name, e->name, f.version,
				     tags.v[0]);
			}
		}
	}
	ret = 0;
out:
	strv_release(&tags);
	sbuf_release(&out);
	dist_found_release(&f);
	free(abi);
	free(script);
	free(outdir);
	return ret;
}

/*
 * --baseline-python: the same suite under the default (GIL) build of the same CPython, in a
 * venv of its own (the package installed there the same way), --iterations times, into
 * baseline_iterations: PEP 779's comparison is free-threaded build vs default build
 * (pkg_aggregate makes pep779_baseline of it). A failing install is recorded as
 * baseline_error and leaves the free-threaded verdict alone.
 */
static void run_baseline(struct run_ctx *rc, const struct pkg_entry *e, const char *pkgdir,
			 struct workspace *ws, const char *art, cJSON *pkg, struct run_progress *pg)
{
	const struct run_opts *o = rc->o;
	struct workspace bws = *ws;
	struct strv env = STRV_INIT;
	struct sbuf err = SBUF_INIT;
	char *venv = path_join(ws->tmp, "baseline-venv"), *why = NULL;
	char *log = path_join(art, "install-baseline.log");
	const char *cmd = json_str(pkg, "install_command");
	cJSON *arr = cJSON_CreateArray();

	cJSON_AddItemToObject(pkg, "baseline_iterations", arr);
	bws.venv = venv;
	pg->phase = "base";
	memset(pg->counts, 0, sizeof(pg->counts));
	run_progress_draw(pg, 0);
	if (venv_create(o->baseline_python, venv, &err) < 0) {
		why = sbuf_detach(&err);
		goto out;
	}
	install_env(rc, &bws, &env);
	if (run_install(rc, cmd ? cmd : "pip install -e .", ws->src, &env, install_timeout(o, e),
			log, &why) < 0)
		goto out;
	recover_iterations(art, e->name, "base-", o->iterations, arr);
	run_iterations(rc, e, pkgdir, &bws, "1", "base-", arr, pg);
out:
	if (why && !run_interrupted) {
		warning("%s: the baseline build could not be set up: %s", e->name, why);
		json_set_str(pkg, "baseline_error", why);
	}
	strv_release(&env);
	sbuf_release(&err);
	free(why);
	free(log);
	free(venv);
}

cJSON *run_process_package(struct run_ctx *rc, const struct pkg_entry *e, const cJSON *prev)
{
	const struct run_opts *o = rc->o;
	const struct run_as *ra = supervise_user();
	char *pkgdir = run_pkg_dirname(e->name);
	char *art = xasprintf("%s/artifacts/%s", rc->run_dir, pkgdir);
	char *origin = NULL, *commit = NULL, *why = NULL, *artifact = NULL;
	char ts[32];
	double t0 = now_monotonic(), ti;
	struct run_progress pg = { .rc = rc, .pkg = e->name, .phase = "setup", .iters = (int)o->iterations };
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
	run_progress_draw(&pg, 0);

	/* 1. The source tree, and a copy of it for the test user: installs, builds and tests
	 * happen in the copy, so nothing of theirs reaches root's clone or the user's tree. */
	if (package_source(rc, e, pkgdir, &origin, &commit, &err) < 0) {
		why = sbuf_detach(&err);
		goto done;
	}
	if (workspace_create(&ws, rc->work_root, pkgdir, ra, &err) < 0) {
		why = sbuf_detach(&err);
		goto done;
	}
	install_env(rc, &ws, &env);
	if (o->install_sdist || o->trust_ft_wheels) {
		/* what to install instead of the checkout; 1: trusted, nothing to run */
		json_set_str(pkg, "commit", commit);
		if (plan_install(rc, e, &ws, &env, origin, pkg, &artifact, &commit, &why))
			goto done;
	}
	json_set_str(pkg, "commit", commit);
	if (workspace_stage(&ws, origin,
			    (const char *const[]){ rc->o->results_dir, rc->o->repos_dir, NULL },
			    &err) < 0) {
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
	{
		char *log = path_join(art, "install.log");
		const char *ic = e->install_command ? e->install_command : "pip install -e .";
		char *cmd = artifact ? dist_install_command(ic, artifact, pkg_shield_name(e))
				     : xstrdup(ic);
		int r;
		json_set_str(pkg, "install_command", cmd);
		r = run_install(rc, cmd, ws.src, &env, install_timeout(o, e), log, &why);
		free(cmd);
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
		    !run_interrupted) {
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
	if (run_interrupted)
		goto done;

	/* 3. Import probe, without PYTHON_GIL (see src/run/py/probe_ext.py). The script is root's,
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
		run_progress_draw(&pg, 0);
		probe = extension_probe(ws.venv, &pt, ws.tmp, &env, script, 120);
		if (run_interrupted) { /* a probe cut short says nothing about the import */
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
	if (!run_iterations(rc, e, pkgdir, &ws, "0", "", iters, &pg))
		goto done;
	if (o->parallel_threads && !run_stress(rc, e, pkgdir, &ws, tc, art, pkg, &pg))
		goto done;
	if (o->compare_with_gil) {
		giters = cJSON_CreateArray();
		cJSON_AddItemToObject(pkg, "gil_enabled_iterations", giters);
		recover_iterations(art, e->name, "gil-", o->iterations, giters);
		pg.phase = "gil";
		memset(pg.counts, 0, sizeof(pg.counts));
		if (!run_iterations(rc, e, pkgdir, &ws, "1", "gil-", giters, &pg))
			goto done;
	}
	if (o->baseline_python)
		run_baseline(rc, e, pkgdir, &ws, art, pkg, &pg);
done:
	/* An interrupted phase is no result: the package is redone by --resume. */
	if (why && !run_interrupted) {
		json_set_str(pkg, "install_error", why);
		json_set_bool(pkg, "install_ok", false);
	}
	json_set_bool(pkg, "interrupted", run_interrupted != 0);
	json_set_num(pkg, "duration_s", round_to(now_monotonic() - t0, 2));
	pkg_aggregate(pkg);
	run_progress_clear(rc);
	workspace_remove(&ws);
	strv_release(&env);
	sbuf_release(&err);
	free(why);
	free(tc);
	free(commit);
	free(artifact);
	free(origin);
	free(art);
	free(pkgdir);
	return pkg;
}
