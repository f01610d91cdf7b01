/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_REGISTRY_H
#define FTSCOPE_REGISTRY_H

/*
 * Package registry in labeille's laruche layout:
 *   DIR/index.yaml        {last_updated, packages: [{name, download_count, extension_type,
 *                          enriched, skip, skip_versions_keys}]}  (download order)
 *   DIR/packages/<name>.yaml   per-package entry (fields below; unknown keys ignored)
 *   DIR/schema.yaml       optional {schema_version: 1}
 * YAML is read with libyaml into a cJSON tree (yaml_to_json), so callers use cJSON accessors.
 */
#include <stdbool.h>
#include <stddef.h>

#include "ftscope/util.h"

struct cJSON;

struct pkg_entry {
	char *name;            /* "package" field, else the file/index name */
	char *repo;            /* URL, file:// URL or local path; NULL if none */
	char *install_command; /* shell; NULL = "pip install -e ." */
	char *test_command;    /* shell; NULL = "python -m pytest" */
	char *import_name;     /* NULL = derived (see pkg_import_name) */
	char *test_framework;  /* informational */
	char *extension_type;  /* informational */
	int timeout;           /* seconds; 0 = unset */
	int clone_depth;       /* -1 = unset (shallow, depth 1); 0 = full; N = depth N */
	bool skip;
	char *skip_reason;
	struct strv skip_versions;        /* keys like "3.13" */
	struct strv skip_version_reasons; /* parallel to skip_versions (may hold "") */
	bool enriched;
	bool uses_xdist;
	long download_count;
	char *local_dir; /* --package-dir: an existing checkout, no clone */
};

struct registry {
	char *dir;
	struct pkg_entry *pkgs; /* index order */
	size_t n;
};

/*
 * Parse YAML text (one document) into a cJSON tree; plain scalars resolve to null/bool/
 * number as YAML 1.1 core would (null, ~, true/false/yes/no, integers, floats), quoted ones
 * stay strings. On error returns -1 and sets *errmsg (malloc'd) to
 * "line L, column C: <libyaml problem>". *out is owned by the caller (cJSON_Delete).
 */
int yaml_to_json(const char *text, size_t len, struct cJSON **out, char **errmsg);

/*
 * Load DIR/index.yaml and, for every index entry, DIR/packages/<name>.yaml (a missing
 * package file gives an entry with only the index fields). Errors (missing index,
 * malformed YAML, wrong types) print "cannot read registry 'path': line L, column C: why"
 * and return -1.
 */
int registry_load(const char *dir, struct registry *reg);
/*
 * Load a single package file (used by registry_load and tests). *e is initialized first
 * (pkg_entry_init); without an index, enriched and skip are the file's own values
 * (absent = false). On error *e is released. fallback_name names the entry when the file
 * has no (or a null) "package" field.
 *
 * In registry_load, a package file overlays its index entry field by field: the file wins,
 * except that skip is set if either says so, enriched only if neither says false, and
 * skip_versions is the union (the file's reasons win). Integers must be whole and
 * non-negative; `timeout: null` is 0, `clone_depth: null` is -1; strings may be null.
 */
int pkg_entry_load(const char *path, const char *fallback_name, struct pkg_entry *e);
/* Zero *e with clone_depth = -1 (the defaults above); pkg_entry_release leaves it so. */
void pkg_entry_init(struct pkg_entry *e);
void registry_release(struct registry *reg);
void pkg_entry_release(struct pkg_entry *e);

/* The documented defaults: e->install_command or "pip install -e .", e->test_command or
 * "python -m pytest". Borrowed pointers (static or e->field). */
const char *pkg_install_command(const struct pkg_entry *e);
const char *pkg_test_command(const struct pkg_entry *e);

/*
 * Selection as `labeille ft run` does it: enriched and not skip (index or package file),
 * in download order (download_count descending; equal counts in index order, so an index
 * that is not sorted by downloads still gives the most downloaded first), filtered by
 * `only` (names; NULL/empty = all), first `top` (0 = all).
 * A name in `only` that is not in the index is an error (returns -1 after printing it).
 * Selected entries are copied (pointers into reg) into *out (malloc'd array, caller frees the
 * array only). Packages dropped by skip / skip_versions[py_minor] / not enriched are pushed
 * as "name: reason" onto `skipped` (may be NULL). `only` naming a skipped package still
 * skips it, with its reason. With `top`, the scan stops once `top` entries are selected,
 * so `skipped` only lists the packages passed over before that point. py_minor (e.g.
 * "3.13", NULL = ignore skip_versions) is compared verbatim with the skip_versions keys.
 */
int registry_select(const struct registry *reg, const struct strv *only, long top,
		    const char *py_minor, struct pkg_entry ***out, size_t *nout,
		    struct strv *skipped);

/* Import name: import_name, else a known override (pyyaml->yaml, pillow->PIL, ...; names
 * compared as PEP 503 normalizes them), else the name with '-' and '.' replaced by '_'.
 * Returned pointer: static, e->field, or one of 4 per-thread buffers (valid until the 4th
 * next call in the same thread): copy it to keep it. */
const char *pkg_import_name(const struct pkg_entry *e);

#endif
