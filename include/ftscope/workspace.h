/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_WORKSPACE_H
#define FTSCOPE_WORKSPACE_H

/*
 * Environments, the target interpreter, venvs and probes: everything between "a package
 * entry" and "a command ready to supervise".
 */
#include <stdbool.h>

#include "ftscope/supervise.h"
#include "ftscope/util.h"

struct cJSON;

/* Environment as a strv of "K=V". */
void env_from_current(struct strv *env);
void env_set(struct strv *env, const char *key, const char *val); /* NULL val unsets */
const char *env_get(const struct strv *env, const char *key);

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

/*
 * A new venv in dir (an empty directory of the test user's: the package's workspace has
 * one) made by `python` with --system-site-packages (the provisioned pytest stays visible)
 * and without pip's wheel (pip/pip3 in bin/ run the interpreter's own pip module). It is
 * made by the supervised user, so root writes nothing in it. 0 or -1 with err.
 */
int venv_create(const char *python, const char *dir, struct sbuf *err);

/* Environment for commands in a venv: PATH with bin/ first, VIRTUAL_ENV, offline pip. */
void env_for_venv(struct strv *env, const char *venv_dir);

/*
 * The import probe (src/py/probe_ext.py) run by the venv's python WITHOUT PYTHON_GIL,
 * from `cwd`, for `import_name`; the script is written to script_path. Returns the
 * probe's JSON object (labeille's extension_compat fields), or a stub with import_ok false
 * and probe_error set when the probe itself failed. Never NULL.
 */
struct cJSON *extension_probe(const char *venv_dir, const char *import_name, const char *cwd,
			      const struct strv *env, const char *script_path, double timeout);

/* The last line of text that parses as a JSON object (the probe's result), or NULL. Caller
 * owns the node. Exposed for fuzzing. */
struct cJSON *last_json_line(const char *text);

#endif
