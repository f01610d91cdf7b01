/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_DIST_H
#define FTSCOPE_DIST_H

/*
 * Released artifacts, for `ftscope run --install-from sdist` and `--trust-ft-wheels`: what
 * the package index (or a --find-links wheelhouse) publishes for a project, and the install
 * command that installs one of those files instead of the checkout.
 */
#include <stdbool.h>

#include "ftscope/util.h"

struct cJSON;

/* What src/run/py/ft_dist.py found for a project: its latest release. */
struct dist_found {
	char *version;           /* NULL: no release found (error says why) */
	char *sdist;             /* the downloaded sdist (asked for and present), or NULL */
	char *wheel;             /* the downloaded wheel for the target's ABI, or NULL */
	struct strv ft_wheels;   /* the release's free-threaded wheels (any cpXYt), file names */
	char *error;             /* NULL, or why something asked for is missing */
};

/*
 * Run ft_dist.py (written to script_path) with `python` as the supervised user, in cwd,
 * with env (the install environment: pip's configuration reaches it): the latest release of
 * `name` on the index/wheelhouse, its sdist (want_sdist) and its wheel for `abi` (want_wheel;
 * e.g. "cp313t") downloaded into outdir. 0, or -1 with f->error set (never both unset).
 */
int dist_find(const char *python, const char *name, const char *abi, bool want_sdist,
	      bool want_wheel, const char *outdir, const char *cwd, const struct strv *env,
	      const char *script_path, double timeout, struct dist_found *f);
void dist_found_release(struct dist_found *f);

/* "cp313t" for the free-threaded ABI of minor "3.13"; NULL if minor is not "X.Y". */
char *dist_ft_abi(const char *minor);

/*
 * The install command that installs `artifact` (a path) instead of the checkout: every
 * `pip install` / `python -m pip install` of the project itself (`.`, `-e .`, `'.[extras]'`,
 * `./`) in the `&&`-separated command becomes `pip install '<artifact>[extras]'`, the other
 * steps stay (they install dependencies); with no such step, the artifact is installed
 * after the command. Then, with shield set, a top-level module or package of that name in
 * the checkout is renamed _ftscope_shielded_<name>, so the tests, run from the checkout,
 * import the installed artifact (labeille does the same). malloc'd.
 */
char *dist_install_command(const char *command, const char *artifact, const char *shield);

/*
 * The tags an sdist's version may have in its repository, in labeille's order: v{ver},
 * {ver}, {name}-{ver}, release-{ver}, V{ver}. Pushed onto out.
 */
void dist_tag_candidates(const char *name, const char *version, struct strv *out);

#endif
