/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_WORKSPACE_H
#define FTSCOPE_WORKSPACE_H

/*
 * Environments, the target interpreter, venvs and probes: everything between "a package
 * entry" and "a command ready to supervise".
 */
#include <signal.h>
#include <stdbool.h>

#include "ftscope/supervise.h"
#include "ftscope/util.h"

struct cJSON;

/* Environment as a strv of "K=V". */
void env_from_current(struct strv *env);
void env_set(struct strv *env, const char *key, const char *val); /* NULL val unsets */
const char *env_get(const struct strv *env, const char *key);

/*
 * Interrupting a phase: once *flag (set by a signal handler) becomes non-zero, the command
 * run_collect() runs and the child run_in_child() runs are killed with their whole process
 * trees within ~0.1 s. NULL (the default): never.
 */
void workspace_set_interrupt(volatile sig_atomic_t *flag);
bool workspace_interrupted(void);

/*
 * Run fn(arg, out) in a child process of its own process group (signals back to default),
 * so that work done in-process (libgit2) can be stopped like a command: the child's text
 * in its sbuf comes back in out. Returns 0 when fn returned >= 0, -1 when it failed or the
 * child died, -EINTR when the interrupt flag was set (the child's group was killed).
 */
int run_in_child(int (*fn)(void *arg, struct sbuf *out), void *arg, struct sbuf *out);

/*
 * Run argv-less shell `command` under the supervisor with output collected: used for the
 * interpreter profile, venv creation, installs and probes. Output files go to out_dir/<name>
 * .stdout/.stderr when out_dir is set. *stdout_text (malloc'd, may be NULL) gets stdout.
 */
int run_collect(const char *command, const char *cwd, const struct strv *env, double timeout,
		const char *log_path, char **stdout_text, struct iter_outcome *o);

/*
 * Check that `python` exists, runs, and is a free-threaded build; on success *profile is
 * ft_meta.json's python_profile (+ "minor", "purelib"). On failure returns -1 with a
 * sentence for the user in err (missing file, not executable, not free-threaded, broken).
 */
int python_check(const char *python, struct cJSON **profile, struct sbuf *err);
/* The same, for a free-threaded build (free_threaded) or a default (GIL) one: the
 * --baseline-python of PEP 779's comparison. */
int python_check_build(const char *python, bool free_threaded, struct cJSON **profile,
		       struct sbuf *err);
/* The profile's members (NULL when absent): its minor version ("3.14"), version, compiler,
 * and the pytest-run-parallel version it can import. profile_free() releases a profile. */
const char *profile_minor(const struct cJSON *profile);
const char *profile_version(const struct cJSON *profile);
const char *profile_compiler(const struct cJSON *profile);
const char *profile_pytest_run_parallel(const struct cJSON *profile);
void profile_free(struct cJSON *profile);

/*
 * A new venv in dir (an empty directory of the test user's: the package's workspace has
 * one) made by `python` with --system-site-packages (the provisioned pytest stays visible)
 * and without pip's wheel (pip/pip3 in bin/ run the interpreter's own pip module). It is
 * made by the supervised user, so root writes nothing in it. 0 or -1 with err.
 */
int venv_create(const char *python, const char *dir, struct sbuf *err);

/* Environment for commands in a venv: PATH with bin/ first, VIRTUAL_ENV, pip quiet about
 * its own version and never prompting. */
void env_for_venv(struct strv *env, const char *venv_dir);

/*
 * How installs reach packages. Online (the default) pip does what the user's configuration
 * says (PIP_* variables, pip.conf: index, build isolation). Offline: no index, no build
 * isolation (the backends come from the interpreter's site-packages, as scripts/setup.sh
 * provisions them). find_links: PIP_FIND_LINKS (a wheelhouse), in either mode. config_file:
 * PIP_CONFIG_FILE, unless already set: the invoking account's user-level pip.conf when the
 * tests run as another account (pip_config_copy).
 */
struct install_mode {
	bool offline;
	const char *find_links;
	const char *config_file;
};
void env_for_install(struct strv *env, const struct install_mode *m);

/*
 * The user-level pip configuration pip would read for an account with this home (and
 * XDG_CONFIG_HOME): $XDG_CONFIG_HOME/pip/pip.conf or ~/.config/pip/pip.conf, else the legacy
 * ~/.pip/pip.conf; copied (a regular file, not through a symlink, <= 64 KB) to dest, which
 * the test user can read. Returns the path copied (malloc'd), or NULL when there is none.
 */
char *pip_config_copy(const char *home, const char *xdg_config_home, const char *dest);

/*
 * What the import probe imports: import_name when the registry gives one; else the probe
 * finds it in the distribution installed from checkout (top_level.txt, RECORD, its .pth),
 * else in the one called dist; hint (a name derived from the registry's) and then the
 * project's own name are the last resorts. The checkout directory's name is never used.
 */
struct probe_target {
	const char *import_name;
	const char *checkout, *dist, *hint;
};

/*
 * The import probe (src/run/py/probe_ext.py) run by the venv's python WITHOUT PYTHON_GIL,
 * from `cwd`, for `t`; the script is written to script_path. Returns the probe's JSON
 * object (labeille's extension_compat fields, plus import_name, import_name_from,
 * distribution, top_level_modules), or a stub with import_ok false and probe_error set
 * when the probe itself failed. Never NULL.
 */
struct cJSON *extension_probe(const char *venv_dir, const struct probe_target *t,
			      const char *cwd, const struct strv *env, const char *script_path,
			      double timeout);

/* The last line of text that parses as a JSON object (the probe's result), or NULL. Caller
 * owns the node. Exposed for fuzzing. */
struct cJSON *last_json_line(const char *text);

#endif
