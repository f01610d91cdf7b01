/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/error.h"
#include "ftscope/json.h"
#include "ftscope/text.h"
#include "ftscope/workspace.h"

#include "py_probe_ext.h"
#include "py_profile.h"

extern char **environ;

void env_from_current(struct strv *env)
{
	for (char **e = environ; *e; e++)
		strv_push(env, *e);
}

void env_set(struct strv *env, const char *key, const char *val)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < env->n; i++) {
		if (strncmp(env->v[i], key, kl) || env->v[i][kl] != '=')
			continue;
		free(env->v[i]);
		if (val) {
			env->v[i] = xasprintf("%s=%s", key, val);
		} else {
			memmove(&env->v[i], &env->v[i + 1], (env->n - i) * sizeof(char *));
			env->n--;
		}
		return;
	}
	if (val)
		strv_push_owned(env, xasprintf("%s=%s", key, val));
}

const char *env_get(const struct strv *env, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < env->n; i++)
		if (!strncmp(env->v[i], key, kl) && env->v[i][kl] == '=')
			return env->v[i] + kl + 1;
	return NULL;
}

/* ---- interrupting a phase ---- */

static volatile sig_atomic_t *stop_flag;

void workspace_set_interrupt(volatile sig_atomic_t *flag)
{
	stop_flag = flag;
}

bool workspace_interrupted(void)
{
	return stop_flag && *stop_flag;
}

int run_in_child(int (*fn)(void *arg, struct sbuf *out), void *arg, struct sbuf *out)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	int p[2], st, ret;
	pid_t pid;
	char buf[4096];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(p[0]);
		close(p[1]);
		return ret;
	}
	if (pid == 0) {
		struct sbuf sb = SBUF_INIT;
		size_t off = 0;
		int r;
		setpgid(0, 0); /* killed as a group, with whatever it starts (git, ssh) */
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGTERM, &dfl, NULL);
		sigaction(SIGHUP, &dfl, NULL);
		close(p[0]);
		r = fn(arg, &sb);
		while (off < sb.len) {
			ssize_t n = write(p[1], sb.buf + off, sb.len - off);
			if (n <= 0 && errno != EINTR)
				break;
			off += n > 0 ? (size_t)n : 0;
		}
		_exit(r < 0 ? 1 : 0);
	}
	setpgid(pid, pid);
	close(p[1]);
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		ssize_t n;
		if (workspace_interrupted()) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pf, 1, 100) <= 0)
			continue;
		n = read(p[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sbuf_add(out, buf, (size_t)n);
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	kill(-pid, SIGKILL); /* anything of its group still there */
	if (workspace_interrupted())
		return -EINTR;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int run_collect(const char *command, const char *cwd, const struct strv *env, double timeout,
		const char *log_path, char **stdout_text, struct iter_outcome *o)
{
	struct sbuf out = SBUF_INIT;
	struct iter_spec spec = {
		.command = command,
		.cwd = cwd,
		.envp = env->v,
		.stdout_path = NULL,
		.stderr_path = log_path,
		.timeout = timeout,
		.max_output = 8 << 20,
		.collect_stdout = &out,
		.interrupted = stop_flag,
	};
	int ret = supervise_run(&spec, o);
	if (stdout_text)
		*stdout_text = sbuf_detach(&out);
	else
		sbuf_release(&out);
	return ret;
}

cJSON *last_json_line(const char *text)
{
	const char *end, *start;
	if (!text)
		return NULL;
	end = text + strlen(text);
	while (end > text) {
		cJSON *j;
		while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
			end--;
		for (start = end; start > text && start[-1] != '\n'; start--)
			;
		if (start < end && *start == '{') {
			j = cJSON_ParseWithLength(start, (size_t)(end - start));
			if (cJSON_IsObject(j))
				return j;
			cJSON_Delete(j);
		}
		end = start;
	}
	return NULL;
}

static void base_probe_env(struct strv *env)
{
	env_from_current(env);
	env_set(env, "PYTHON_GIL", NULL);
	env_set(env, "PYTHONHOME", NULL);
	env_set(env, "PYTHONPATH", NULL);
	env_set(env, "PYTHONSTARTUP", NULL);
	env_set(env, "PYTHONDONTWRITEBYTECODE", "1");
}

/*
 * Why a command that had to succeed did not, for a message: "(exit status 3): <the first
 * line of stderr>", "(killed by SIGSEGV, nothing on stderr)", "(timed out after 60 s): ...",
 * "(cannot start: ...)". The line is escaped for the terminal.
 */
static void add_failure(struct sbuf *err, const struct iter_outcome *o, double timeout)
{
	const char *t = o->stderr_tail ? o->stderr_tail : "", *e;
	char *line, *safe;

	sbuf_addc(err, '(');
	if (!o->started)
		sbuf_addf(err, "cannot start: %s", o->spawn_error ? o->spawn_error : "?");
	else if (o->killed_by)
		sbuf_addf(err, "timed out after %.0f s", timeout);
	else if (o->term_signal)
		sbuf_addf(err, "killed by %s",
			  signal_name(o->term_signal) ? signal_name(o->term_signal) : "a signal");
	else if (o->exited && o->exit_code > 128 && signal_name(o->exit_code - 128))
		sbuf_addf(err, "killed by %s, exit status %d", signal_name(o->exit_code - 128),
			  o->exit_code); /* as the shell reported it */
	else if (o->exited)
		sbuf_addf(err, "exit status %d", o->exit_code);
	else
		sbuf_adds(err, "ended for no reason it gave");
	t += strspn(t, " \t\r\n");
	if (!*t) {
		sbuf_adds(err, o->started ? ", nothing on stderr)" : ")");
		return;
	}
	e = t + strcspn(t, "\r\n");
	line = xstrndup(t, (size_t)(e - t) > 300 ? 300 : (size_t)(e - t));
	safe = term_str(line);
	sbuf_addf(err, "): %s", safe);
	free(safe);
	free(line);
}

int python_check(const char *python, cJSON **profile, struct sbuf *err)
{
	return python_check_build(python, true, profile, err);
}

int python_check_build(const char *python, bool free_threaded, cJSON **profile,
		       struct sbuf *err)
{
	struct strv env = STRV_INIT;
	struct sbuf cmd = SBUF_INIT;
	struct iter_outcome o;
	struct stat st;
	char *out = NULL;
	cJSON *j = NULL;
	int ret = -1;
	const char *what = free_threaded ? "target" : "baseline";
	*profile = NULL;
	if (stat(python, &st) < 0) {
		sbuf_addf(err, "%s Python '%s' does not exist", what, python);
		return -1;
	}
	if (S_ISDIR(st.st_mode) || access(python, X_OK) < 0) {
		sbuf_addf(err, "%s Python '%s' is not an executable file", what, python);
		return -1;
	}
	base_probe_env(&env);
	sbuf_add_shquoted(&cmd, python);
	sbuf_adds(&cmd, " -I -c ");
	sbuf_add_shquoted(&cmd, py_profile);
	if (run_collect(cmd.buf, NULL, &env, 60, NULL, &out, &o) < 0 || !o.exited ||
	    o.exit_code != 0) {
		sbuf_addf(err, "%s Python '%s' does not run ", what, python);
		add_failure(err, &o, 60);
		goto out;
	}
	j = last_json_line(out);
	if (!j) {
		sbuf_addf(err, "%s Python '%s' did not describe itself (is it CPython 3.13+?)",
			  what, python);
		goto out;
	}
	if (!free_threaded && json_bool(j, "gil_disabled", false)) {
		sbuf_addf(err, "baseline Python '%s' (%s) is a free-threaded build: the baseline is "
			  "the default (GIL) build of the same version", python,
			  json_str(j, "version") ? json_str(j, "version") : "?");
		goto out;
	}
	if (free_threaded && !json_bool(j, "gil_disabled", false)) {
		sbuf_addf(err,
			  "target Python '%s' (%s %s) is not a free-threaded build: it was not "
			  "configured with --disable-gil, and PYTHON_GIL=0 is a fatal error there "
			  "(\"config_read_gil: Disabling the GIL is not supported by this build\")",
			  python, json_str(j, "implementation") ? json_str(j, "implementation") : "?",
			  json_str(j, "version") ? json_str(j, "version") : "?");
		goto out;
	}
	*profile = j;
	j = NULL;
	ret = 0;
out:
	cJSON_Delete(j);
	free(out);
	iter_outcome_release(&o);
	sbuf_release(&cmd);
	strv_release(&env);
	return ret;
}

const char *profile_minor(const cJSON *profile)
{
	return json_str(profile, "minor");
}

const char *profile_version(const cJSON *profile)
{
	return json_str(profile, "version");
}

const char *profile_compiler(const cJSON *profile)
{
	return json_str(profile, "compiler");
}

const char *profile_pytest_run_parallel(const cJSON *profile)
{
	return json_str(profile, "pytest_run_parallel");
}

void profile_free(cJSON *profile)
{
	cJSON_Delete(profile);
}

int venv_create(const char *python, const char *dir, struct sbuf *err)
{
	static const char wrapper[] = "#!/bin/sh\n"
				      "# ftscope: the venv's pip is the interpreter's pip module\n"
				      "exec \"$(dirname \"$0\")/python\" -m pip \"$@\"\n";
	struct strv env = STRV_INIT;
	struct sbuf cmd = SBUF_INIT;
	struct iter_outcome o = { 0 };
	int ret = -1;
	/* One supervised command, run as the test user: the venv and its pip wrappers are
	 * theirs, and root writes nothing below dir. */
	base_probe_env(&env);
	sbuf_add_shquoted(&cmd, python);
	sbuf_adds(&cmd, " -m venv --without-pip --system-site-packages ");
	sbuf_add_shquoted(&cmd, dir);
	sbuf_adds(&cmd, " || exit 1\ncd ");
	sbuf_add_shquoted(&cmd, dir);
	sbuf_adds(&cmd, "/bin || exit 1\nfor n in pip pip3; do printf '%s' ");
	sbuf_add_shquoted(&cmd, wrapper);
	sbuf_adds(&cmd, " >\"$n\" && chmod 755 \"$n\" || exit 1; done\n");
	if (run_collect(cmd.buf, NULL, &env, 300, NULL, NULL, &o) < 0 || !o.exited ||
	    o.exit_code) {
		sbuf_addf(err, "creating the venv '%s' failed ", dir);
		add_failure(err, &o, 300);
		goto out;
	}
	ret = 0;
out:
	iter_outcome_release(&o);
	sbuf_release(&cmd);
	strv_release(&env);
	return ret;
}

void env_for_venv(struct strv *env, const char *venv_dir)
{
	const char *path = env_get(env, "PATH");
	char *p = xasprintf("%s/bin:%s", venv_dir, path ? path : "/usr/local/bin:/usr/bin:/bin");
	env_set(env, "PATH", p);
	free(p);
	env_set(env, "VIRTUAL_ENV", venv_dir);
	env_set(env, "PYTHONHOME", NULL);
	env_set(env, "PYTHONPATH", NULL);
	env_set(env, "PIP_DISABLE_PIP_VERSION_CHECK", "1");
	env_set(env, "PIP_NO_INPUT", "1");
}

void env_for_install(struct strv *env, const struct install_mode *m)
{
	/* Offline: no index (there may be none), no isolated build environment (it would need
	 * the index for the backend); pip reads PIP_NO_BUILD_ISOLATION inverted: 0 = off. */
	if (m->offline) {
		env_set(env, "PIP_NO_INDEX", "1");
		env_set(env, "PIP_NO_BUILD_ISOLATION", "0");
	}
	if (m->find_links)
		env_set(env, "PIP_FIND_LINKS", m->find_links);
	if (m->config_file && !env_get(env, "PIP_CONFIG_FILE"))
		env_set(env, "PIP_CONFIG_FILE", m->config_file);
}

/* A small regular file, not through a symlink: 0 or -errno. */
static int read_small_file(const char *path, size_t max, char **out)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), ret = 0;
	struct stat st;
	ssize_t n;
	*out = NULL;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		return -EINVAL;
	}
	*out = xmalloc((size_t)st.st_size + 1);
	n = read(fd, *out, (size_t)st.st_size);
	if (n < 0)
		ret = -errno;
	else
		(*out)[n] = '\0';
	close(fd);
	if (ret < 0) {
		free(*out);
		*out = NULL;
	}
	return ret;
}

char *pip_config_copy(const char *home, const char *xdg_config_home, const char *dest)
{
	char *cands[3] = { NULL, NULL, NULL }, *text = NULL, *found = NULL;
	size_t n = 0;
	if (xdg_config_home && *xdg_config_home)
		cands[n++] = path_join(xdg_config_home, "pip/pip.conf");
	else if (home && *home)
		cands[n++] = path_join(home, ".config/pip/pip.conf");
	if (home && *home)
		cands[n++] = path_join(home, ".pip/pip.conf");
	for (size_t i = 0; i < n && !found; i++) {
		if (read_small_file(cands[i], 64 << 10, &text) < 0)
			continue;
		if (write_file_atomic(dest, text, strlen(text)) == 0 && chmod(dest, 0644) == 0)
			found = xstrdup(cands[i]);
		else
			warning_errno("cannot copy the pip configuration '%s' to '%s'", cands[i],
				      dest);
		free(text);
		text = NULL;
	}
	for (size_t i = 0; i < n; i++)
		free(cands[i]);
	return found;
}

cJSON *extension_probe(const char *venv_dir, const struct probe_target *t, const char *cwd,
		       const struct strv *env_in, const char *script_path, double timeout)
{
	struct strv env = STRV_INIT;
	struct sbuf cmd = SBUF_INIT;
	struct iter_outcome o = { 0 };
	char *out = NULL, *vpy = path_join(venv_dir, "bin/python");
	cJSON *j = NULL;
	for (size_t i = 0; i < env_in->n; i++)
		strv_push(&env, env_in->v[i]);
	env_set(&env, "PYTHON_GIL", NULL); /* see probe_ext.py */
	if (write_file_atomic(script_path, py_probe_ext, strlen(py_probe_ext)) == 0) {
		const char *const flags[] = { "--checkout", "--dist", "--hint" };
		const char *const vals[] = { t->checkout, t->dist, t->hint };
		sbuf_add_shquoted(&cmd, vpy);
		sbuf_addc(&cmd, ' ');
		sbuf_add_shquoted(&cmd, script_path);
		if (t->import_name) {
			sbuf_addc(&cmd, ' ');
			sbuf_add_shquoted(&cmd, t->import_name);
		}
		for (size_t i = 0; !t->import_name && i < ARRAY_SIZE(flags); i++) {
			if (!vals[i])
				continue;
			sbuf_addf(&cmd, " %s ", flags[i]);
			sbuf_add_shquoted(&cmd, vals[i]);
		}
		if (run_collect(cmd.buf, cwd, &env, timeout, NULL, &out, &o) == 0)
			j = last_json_line(out);
	}
	if (!j) {
		j = cJSON_CreateObject();
		json_set_str(j, "package", t->import_name ? t->import_name : t->hint);
		cJSON_AddBoolToObject(j, "is_pure_python", true);
		cJSON_AddItemToObject(j, "extensions", cJSON_CreateArray());
		cJSON_AddBoolToObject(j, "gil_fallback_active", false);
		cJSON_AddBoolToObject(j, "all_extensions_compatible", true);
		cJSON_AddBoolToObject(j, "import_ok", false);
		json_set_str(j, "import_error", o.stderr_tail && *o.stderr_tail ? o.stderr_tail : NULL);
		cJSON_AddStringToObject(j, "probe_error",
					o.killed_by ? "the import probe timed out"
					: o.term_signal ? "the import probe crashed"
							: "the import probe gave no result");
		if (o.term_signal)
			cJSON_AddStringToObject(j, "probe_signal", signal_name(o.term_signal)
								   ? signal_name(o.term_signal) : "?");
	}
	iter_outcome_release(&o);
	sbuf_release(&cmd);
	strv_release(&env);
	free(out);
	free(vpy);
	return j;
}
