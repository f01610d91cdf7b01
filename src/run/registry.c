/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * laruche registry: index.yaml + packages/<name>.yaml, read through yaml_to_json().
 * Field access is strict about types (a wrong type names the file and the field) and
 * ignores unknown keys, as labeille's dataclass loader does.
 *
 * ftscope often reads a registry as root that someone else wrote: a file is opened without
 * following a symlink (O_NOFOLLOW) or blocking (O_NONBLOCK: a FIFO), must be a regular file
 * of at most REGISTRY_FILE_MAX bytes, and each string field at most REGISTRY_FIELD_MAX
 * bytes. Errors quote a file's values only when anyone may read the file (a hard link to a
 * root-only file must not be printed), and names with control or bidi characters are
 * refused, their text escaped in the message.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/error.h"
#include "ftscope/registry.h"
#include "ftscope/text.h"
#include "ftscope/util.h"

#include <sys/stat.h>
#include <unistd.h>

#define SUPPORTED_SCHEMA_VERSION 1
#define REGISTRY_FILE_MAX (128L << 20) /* an index of every PyPI project fits */
#define REGISTRY_FIELD_MAX (64 << 10)  /* a command, a URL, a reason */

void pkg_entry_init(struct pkg_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->clone_depth = -1;
}

void pkg_entry_release(struct pkg_entry *e)
{
	if (!e)
		return;
	free(e->name);
	free(e->repo);
	free(e->install_command);
	free(e->test_command);
	free(e->import_name);
	free(e->test_framework);
	free(e->extension_type);
	free(e->skip_reason);
	strv_release(&e->skip_versions);
	strv_release(&e->skip_version_reasons);
	free(e->local_dir);
	pkg_entry_init(e);
}

void registry_release(struct registry *reg)
{
	size_t i;

	if (!reg)
		return;
	for (i = 0; i < reg->n; i++)
		pkg_entry_release(&reg->pkgs[i]);
	free(reg->pkgs);
	free(reg->dir);
	reg->pkgs = NULL;
	reg->dir = NULL;
	reg->n = 0;
}

const char *pkg_install_command(const struct pkg_entry *e)
{
	return e->install_command && *e->install_command ? e->install_command : "pip install -e .";
}

const char *pkg_test_command(const struct pkg_entry *e)
{
	return e->test_command && *e->test_command ? e->test_command : "python -m pytest";
}

/* ---- reading YAML files ---- */

/*
 * Read and parse path. Missing file: returns -ENOENT without printing when
 * missing_ok, so callers can tolerate it. Other errors print and return -1.
 */
/*
 * A registry file into *text: a regular file, not through a symlink, without blocking, of
 * at most REGISTRY_FILE_MAX bytes. *quote: anyone may read it, so messages may quote it.
 * 0, -ENOENT (silent), or -1 (printed).
 */
static int read_registry_file(const char *path, char **text, size_t *len, bool *quote)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	struct sbuf sb = SBUF_INIT;
	struct stat st;
	char buf[65536];
	ssize_t n;

	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		if (errno == ELOOP)
			return error("cannot read registry '%s': it is a symbolic link "
				     "(not followed)", path);
		return error_errno("cannot read registry '%s'", path);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error("cannot read registry '%s': not a regular file", path);
	}
	if (st.st_size > REGISTRY_FILE_MAX) {
		close(fd);
		return error("cannot read registry '%s': %lld bytes, more than the %ld a registry "
			     "file may have", path, (long long)st.st_size, REGISTRY_FILE_MAX);
	}
	*quote = (st.st_mode & S_IROTH) != 0;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || sb.len + (size_t)n > (size_t)REGISTRY_FILE_MAX) { /* grew meanwhile */
			int e = n < 0 ? errno : EFBIG;
			close(fd);
			sbuf_release(&sb);
			errno = e;
			return error_errno("cannot read registry '%s'", path);
		}
		sbuf_add(&sb, buf, (size_t)n);
	}
	close(fd);
	sbuf_add(&sb, "", 0);
	*len = sb.len;
	*text = sbuf_detach(&sb);
	return 0;
}

static int load_yaml_file(const char *path, bool missing_ok, cJSON **out, bool *quote)
{
	char *text = NULL, *why = NULL;
	size_t len = 0;
	int ret = -1, r;

	*out = NULL;
	*quote = false;
	r = read_registry_file(path, &text, &len, quote);
	if (r < 0) {
		if (r == -ENOENT && missing_ok) {
			ret = -ENOENT;
			goto out;
		}
		if (r == -ENOENT)
			error("cannot read registry '%s': %s", path, strerror(ENOENT));
		goto out;
	}
	if (yaml_to_json(text, len, out, &why) < 0) {
		/* "line L, column C: what", and what may quote the file */
		char *colon = strstr(why, ": "), *safe;
		if (!*quote && colon)
			*colon = '\0';
		if (*quote || !colon)
			safe = term_str(why);
		else
			safe = xasprintf("%s: invalid YAML (not quoted: the file is not readable "
					 "by everyone)", why);
		error("cannot read registry '%s': %s", path, safe);
		free(safe);
		goto out;
	}
	ret = 0;
out:
	free(why);
	free(text);
	return ret;
}

/* ---- typed field access ---- */

struct fctx {
	const char *path;   /* file, for messages */
	const char *prefix; /* "packages[3]." or "" */
	bool quote;         /* the file is world-readable: messages may quote its values */
	const char *pkg;    /* the package, when known */
};

/* A value of the file for a message: escaped, and only when the file may be quoted. */
static char *quoted(const struct fctx *c, const char *s, size_t max)
{
	char *cut, *q;
	if (!c->quote)
		return xasprintf("(%zu bytes, not quoted: the file is not readable by everyone)",
				 strlen(s));
	cut = xstrndup(s, max);
	q = term_str(cut);
	free(cut);
	cut = xasprintf("'%s%s'", q, strlen(s) > max ? "..." : "");
	free(q);
	return cut;
}

/* "string 'abc'", "a list", ... for type errors. */
static char *describe(const struct fctx *c, const cJSON *it)
{
	if (cJSON_IsString(it)) {
		char *q = quoted(c, it->valuestring, 40), *r = xasprintf("string %s", q);
		free(q);
		return r;
	}
	if (cJSON_IsNumber(it))
		return xasprintf("number %.17g", it->valuedouble);
	if (cJSON_IsBool(it))
		return xstrdup(cJSON_IsTrue(it) ? "true" : "false");
	if (cJSON_IsNull(it))
		return xstrdup("null");
	if (cJSON_IsArray(it))
		return xstrdup("a list");
	if (cJSON_IsObject(it))
		return xstrdup("a mapping");
	return xstrdup("an unknown value");
}

static int type_error(const struct fctx *c, const char *field, const char *want, const cJSON *it)
{
	char *got = describe(c, it);
	error("cannot read registry '%s': field '%s%s': expected %s, got %s", c->path, c->prefix,
	      field, want, got);
	free(got);
	return -1;
}

static int too_big(const struct fctx *c, const char *field, size_t len)
{
	char *pkg = c->pkg ? term_str(c->pkg) : NULL;
	error("cannot read registry '%s': %s%s%sfield '%s%s' is %zu bytes, more than the %d a "
	      "field may have", c->path, pkg ? "package '" : "", pkg ? pkg : "", pkg ? "': " : "",
	      c->prefix, field, len, REGISTRY_FIELD_MAX);
	free(pkg);
	return -1;
}

/* Optional string: missing keeps *dst, null or "" clears it. */
static int get_str(const struct fctx *c, const cJSON *obj, const char *key, char **dst)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!it)
		return 0;
	if (cJSON_IsNull(it) || (cJSON_IsString(it) && !*it->valuestring)) {
		free(*dst);
		*dst = NULL;
		return 0;
	}
	if (!cJSON_IsString(it))
		return type_error(c, key, "a string", it);
	if (strlen(it->valuestring) > REGISTRY_FIELD_MAX)
		return too_big(c, key, strlen(it->valuestring));
	free(*dst);
	*dst = xstrdup(it->valuestring);
	return 0;
}

/* Optional non-negative integer; null stores null_value. *present says whether the key was set. */
static int get_int(const struct fctx *c, const cJSON *obj, const char *key, long max,
		   long null_value, long *dst, bool *present)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	double d;

	if (present)
		*present = it != NULL;
	if (!it)
		return 0;
	if (cJSON_IsNull(it)) {
		*dst = null_value;
		return 0;
	}
	if (!cJSON_IsNumber(it))
		return type_error(c, key, "an integer", it);
	d = it->valuedouble;
	if (!isfinite(d) || d != floor(d))
		return type_error(c, key, "an integer", it);
	if (d < 0 || d > (double)max)
		return type_error(c, key, "a non-negative integer", it);
	*dst = (long)d;
	return 0;
}

static int get_bool(const struct fctx *c, const cJSON *obj, const char *key, bool *dst,
		    bool *present)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (present)
		*present = it != NULL;
	if (!it)
		return 0;
	if (cJSON_IsNull(it)) {
		*dst = false;
		return 0;
	}
	if (!cJSON_IsBool(it))
		return type_error(c, key, "true or false", it);
	*dst = cJSON_IsTrue(it);
	return 0;
}

/* Version keys may come as numbers when a list was written unquoted ([3.13]). */
static char *version_text(const cJSON *it)
{
	if (cJSON_IsString(it))
		return xstrdup(it->valuestring);
	return xasprintf("%.15g", it->valuedouble);
}

static void skip_version_set(struct pkg_entry *e, const char *ver, const char *reason)
{
	size_t i;

	for (i = 0; i < e->skip_versions.n; i++) {
		if (strcmp(e->skip_versions.v[i], ver))
			continue;
		if (reason && *reason) {
			free(e->skip_version_reasons.v[i]);
			e->skip_version_reasons.v[i] = xstrdup(reason);
		}
		return;
	}
	strv_push(&e->skip_versions, ver);
	strv_push(&e->skip_version_reasons, reason ? reason : "");
}

/*
 * skip_versions: null, {"3.15": reason-or-null}, or a list of versions. skip_versions_keys
 * (the index's copy) is a list. Versions are added to those already known.
 */
static int get_skip_versions(const struct fctx *c, const cJSON *obj, const char *key,
			     struct pkg_entry *e)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key), *v;

	if (!it || cJSON_IsNull(it))
		return 0;
	if (cJSON_IsObject(it)) {
		cJSON_ArrayForEach(v, it) {
			if (strlen(v->string) > 64 || term_needs_escape(v->string))
				return error("cannot read registry '%s': field '%s%s' has a "
					     "key that is no version", c->path, c->prefix, key);
			if (cJSON_IsString(v) && strlen(v->valuestring) > REGISTRY_FIELD_MAX)
				return too_big(c, key, strlen(v->valuestring));
			if (cJSON_IsNull(v)) {
				skip_version_set(e, v->string, "");
			} else if (cJSON_IsString(v)) {
				skip_version_set(e, v->string, v->valuestring);
			} else {
				char *f = xasprintf("%s.%s", key, v->string);
				int r = type_error(c, f, "a string (the reason)", v);
				free(f);
				return r;
			}
		}
		return 0;
	}
	if (cJSON_IsArray(it)) {
		int i = 0;
		cJSON_ArrayForEach(v, it) {
			char *ver;
			if ((!cJSON_IsString(v) && !cJSON_IsNumber(v)) ||
			    (cJSON_IsString(v) && strlen(v->valuestring) > 64)) {
				char *f = xasprintf("%s[%d]", key, i);
				int r = type_error(c, f, "a version string", v);
				free(f);
				return r;
			}
			ver = version_text(v);
			skip_version_set(e, ver, "");
			free(ver);
			i++;
		}
		return 0;
	}
	return type_error(c, key, "a mapping of version: reason", it);
}

struct presence {
	bool skip, enriched;
};

/* Overlay the fields present in obj onto e. */
static int apply_fields(const struct fctx *cin, const cJSON *obj, const char *name_key,
			struct pkg_entry *e, struct presence *pr)
{
	long timeout = e->timeout, depth = e->clone_depth, dl = e->download_count;
	struct fctx cc = *cin, *c = &cc;
	char *name = NULL;

	/* A null or empty name keeps the one we have (index or file name). */
	if (get_str(c, obj, name_key, &name) < 0)
		return -1;
	if (name) {
		free(e->name);
		e->name = name;
	}
	cc.pkg = e->name;
	if (get_str(c, obj, "repo", &e->repo) < 0 ||
	    get_str(c, obj, "install_command", &e->install_command) < 0 ||
	    get_str(c, obj, "test_command", &e->test_command) < 0 ||
	    get_str(c, obj, "import_name", &e->import_name) < 0 ||
	    get_str(c, obj, "test_framework", &e->test_framework) < 0 ||
	    get_str(c, obj, "extension_type", &e->extension_type) < 0 ||
	    get_str(c, obj, "skip_reason", &e->skip_reason) < 0)
		return -1;
	if (get_int(c, obj, "timeout", INT_MAX, 0, &timeout, NULL) < 0 ||
	    get_int(c, obj, "clone_depth", INT_MAX, -1, &depth, NULL) < 0 ||
	    get_int(c, obj, "download_count", LONG_MAX, 0, &dl, NULL) < 0)
		return -1;
	e->timeout = (int)timeout;
	e->clone_depth = (int)depth;
	e->download_count = dl;
	if (get_bool(c, obj, "skip", &e->skip, &pr->skip) < 0 ||
	    get_bool(c, obj, "enriched", &e->enriched, &pr->enriched) < 0 ||
	    get_bool(c, obj, "uses_xdist", &e->uses_xdist, NULL) < 0)
		return -1;
	if (get_skip_versions(c, obj, "skip_versions", e) < 0 ||
	    get_skip_versions(c, obj, "skip_versions_keys", e) < 0)
		return -1;
	return 0;
}

/*
 * Names become file names and are printed: no separators, no leading dot, valid UTF-8 and
 * no control, bidi or zero-width characters (term_unsafe: U+202E could make one name look
 * like another).
 */
static bool valid_pkg_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > 200 || term_needs_escape(s))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == '\\')
			return false;
	return true;
}

static int invalid_name(const struct fctx *c, const char *field, const char *name)
{
	char *q = quoted(c, name, 200);
	error("cannot read registry '%s': field '%s%s': invalid package name %s (a name may not "
	      "hold '/', '\\', a leading '.', control or bidi characters or invalid UTF-8)",
	      c->path, c->prefix, field, q);
	free(q);
	return -1;
}

/*
 * Overlay a package file on e; *missing is set when the file does not exist. With
 * from_index, e holds the index entry and either source can veto selection.
 */
static int overlay_pkg_file(const char *path, struct pkg_entry *e, bool from_index,
			    bool *missing)
{
	struct fctx c = { path, "", false, e->name };
	struct presence pr = { false, false };
	bool idx_skip = e->skip, idx_enriched = e->enriched;
	cJSON *root = NULL;
	int ret = -1, r;

	*missing = false;
	r = load_yaml_file(path, true, &root, &c.quote);
	if (r == -ENOENT) {
		*missing = true;
		ret = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	if (!cJSON_IsObject(root)) {
		char *got = describe(&c, root);
		error("cannot read registry '%s': expected a mapping at the top, got %s", path,
		      got);
		free(got);
		goto out;
	}
	if (apply_fields(&c, root, "package", e, &pr) < 0)
		goto out;
	/* The name ends up in paths (repos/<name>, venvs/<name>-ft). */
	if (e->name && !valid_pkg_name(e->name)) {
		invalid_name(&c, "package", e->name);
		goto out;
	}
	/* Either source can veto: skip if either says so; enriched only if neither says no. */
	if (from_index) {
		e->skip = e->skip || idx_skip;
		e->enriched = pr.enriched ? e->enriched && idx_enriched : idx_enriched;
	}
	ret = 0;
out:
	cJSON_Delete(root);
	return ret;
}

int pkg_entry_load(const char *path, const char *fallback_name, struct pkg_entry *e)
{
	bool missing;
	int ret = -1;

	pkg_entry_init(e);
	e->name = xstrdup(fallback_name);
	if (overlay_pkg_file(path, e, false, &missing) < 0)
		goto out;
	if (missing) {
		error("cannot read registry '%s': %s", path, strerror(ENOENT));
		goto out;
	}
	if (!e->name) {
		error("cannot read registry '%s': no 'package' field and no name", path);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		pkg_entry_release(e);
	return ret;
}

/* ---- the registry ---- */

static int check_schema(const char *dir)
{
	char *path = path_join(dir, "schema.yaml");
	cJSON *root = NULL;
	const cJSON *v;
	bool quote;
	int ret = -1, r;

	r = load_yaml_file(path, true, &root, &quote);
	if (r == -ENOENT) {
		ret = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	v = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "schema_version") : NULL;
	if (v && !cJSON_IsNull(v)) {
		if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)) {
			struct fctx c = { path, "", quote, NULL };
			type_error(&c, "schema_version", "an integer", v);
			goto out;
		}
		if (v->valuedouble > SUPPORTED_SCHEMA_VERSION) {
			error("cannot read registry '%s': schema_version %.0f is newer than the "
			      "supported %d",
			      path, v->valuedouble, SUPPORTED_SCHEMA_VERSION);
			goto out;
		}
	}
	ret = 0;
out:
	cJSON_Delete(root);
	free(path);
	return ret;
}

static int load_index_entry(const char *dir, const struct fctx *index, const cJSON *item, int i,
			    struct pkg_entry *e)
{
	const char *index_path = index->path;
	char *prefix = xasprintf("packages[%d].", i), *pkg_path = NULL, *file = NULL;
	struct fctx c = { index_path, prefix, index->quote, NULL };
	struct presence pr = { false, false };
	bool missing;
	int ret = -1;

	pkg_entry_init(e);
	if (cJSON_IsString(item)) {
		if (strlen(item->valuestring) > REGISTRY_FIELD_MAX) {
			error("cannot read registry '%s': field 'packages[%d]' is %zu bytes, more "
			      "than the %d a field may have", index_path, i,
			      strlen(item->valuestring), REGISTRY_FIELD_MAX);
			goto out;
		}
		e->name = xstrdup(item->valuestring);
	} else if (cJSON_IsObject(item)) {
		if (apply_fields(&c, item, "name", e, &pr) < 0)
			goto out;
	} else {
		char *f = xasprintf("packages[%d]", i);
		c.prefix = "";
		type_error(&c, f, "a mapping", item);
		free(f);
		goto out;
	}
	if (!e->name) {
		error("cannot read registry '%s': field '%sname' is missing", index_path, prefix);
		goto out;
	}
	if (!valid_pkg_name(e->name)) {
		invalid_name(&c, "name", e->name);
		goto out;
	}
	file = xasprintf("packages/%s.yaml", e->name);
	pkg_path = path_join(dir, file);
	if (overlay_pkg_file(pkg_path, e, true, &missing) < 0)
		goto out;
	if (missing)
		debug("registry: no package file '%s', using the index entry only", pkg_path);
	ret = 0;
out:
	if (ret < 0)
		pkg_entry_release(e);
	free(file);
	free(pkg_path);
	free(prefix);
	return ret;
}

int registry_load(const char *dir, struct registry *reg)
{
	char *index_path = path_join(dir, "index.yaml");
	cJSON *root = NULL;
	const cJSON *pkgs, *item;
	struct fctx c = { index_path, "", false, NULL };
	int ret = -1, i = 0, n;

	memset(reg, 0, sizeof(*reg));
	reg->dir = xstrdup(dir);
	if (check_schema(dir) < 0)
		goto out;
	if (load_yaml_file(index_path, false, &root, &c.quote) < 0)
		goto out;
	if (!cJSON_IsObject(root)) {
		char *got = describe(&c, root);
		error("cannot read registry '%s': expected a mapping at the top, got %s",
		      index_path, got);
		free(got);
		goto out;
	}
	pkgs = cJSON_GetObjectItemCaseSensitive(root, "packages");
	if (pkgs && !cJSON_IsNull(pkgs) && !cJSON_IsArray(pkgs)) {
		type_error(&c, "packages", "a list", pkgs);
		goto out;
	}
	n = pkgs ? cJSON_GetArraySize(pkgs) : 0;
	reg->pkgs = xcalloc((size_t)n + 1, sizeof(*reg->pkgs));
	cJSON_ArrayForEach(item, pkgs) {
		if (load_index_entry(dir, &c, item, i, &reg->pkgs[reg->n]) < 0)
			goto out;
		reg->n++;
		i++;
	}
	ret = 0;
out:
	if (ret < 0)
		registry_release(reg);
	cJSON_Delete(root);
	free(index_path);
	return ret;
}

static const char *skip_version_reason(const struct pkg_entry *e, const char *py_minor)
{
	size_t i;

	if (!py_minor || !*py_minor)
		return NULL;
	for (i = 0; i < e->skip_versions.n; i++)
		if (!strcmp(e->skip_versions.v[i], py_minor))
			return e->skip_version_reasons.v[i] ? e->skip_version_reasons.v[i] : "";
	return NULL;
}

static const struct pkg_entry *registry_find(const struct registry *reg, const char *name)
{
	size_t i;

	for (i = 0; i < reg->n; i++)
		if (!strcmp(reg->pkgs[i].name, name))
			return &reg->pkgs[i];
	return NULL;
}

/* Most downloaded first; equal counts keep their index order (the sort is made stable by
 * comparing the entries' places in reg->pkgs). */
static int by_downloads(const void *a, const void *b)
{
	const struct pkg_entry *x = *(struct pkg_entry *const *)a, *y = *(struct pkg_entry *const *)b;
	if (x->download_count != y->download_count)
		return x->download_count > y->download_count ? -1 : 1;
	return x < y ? -1 : x > y;
}

static struct pkg_entry **download_order(const struct registry *reg)
{
	struct pkg_entry **v = xcalloc(reg->n + 1, sizeof(*v));
	for (size_t i = 0; i < reg->n; i++)
		v[i] = &reg->pkgs[i];
	qsort(v, reg->n, sizeof(*v), by_downloads);
	return v;
}

int registry_select(const struct registry *reg, const struct strv *only, long top,
		    const char *py_minor, struct pkg_entry ***out, size_t *nout,
		    struct strv *skipped)
{
	bool filter = only && only->n > 0;
	struct pkg_entry **sel = NULL, **order = NULL;
	size_t i, n = 0;
	int ret = -1;

	*out = NULL;
	*nout = 0;
	if (filter) {
		for (i = 0; i < only->n; i++) {
			if (!registry_find(reg, only->v[i])) {
				error("package '%s' is not in the registry '%s'", only->v[i],
				      reg->dir ? reg->dir : "");
				goto out;
			}
		}
	}
	sel = xcalloc(reg->n + 1, sizeof(*sel));
	order = download_order(reg);
	for (i = 0; i < reg->n; i++) {
		struct pkg_entry *e = order[i];
		const char *why;

		if (top > 0 && (long)n >= top)
			break;
		if (filter && !strv_contains(only, e->name))
			continue;
		if (e->skip) {
			if (skipped)
				strv_push_owned(skipped,
						e->skip_reason ?
						xasprintf("%s: skipped in registry: %s", e->name,
							  e->skip_reason) :
						xasprintf("%s: skipped in registry", e->name));
			continue;
		}
		why = skip_version_reason(e, py_minor);
		if (why) {
			if (skipped)
				strv_push_owned(skipped,
						*why ? xasprintf("%s: skipped for Python %s: %s",
								 e->name, py_minor, why) :
						       xasprintf("%s: skipped for Python %s",
								 e->name, py_minor));
			continue;
		}
		if (!e->enriched) {
			if (skipped)
				strv_push_owned(skipped, xasprintf("%s: not enriched", e->name));
			continue;
		}
		sel[n++] = e;
	}
	*out = sel;
	*nout = n;
	sel = NULL;
	ret = 0;
out:
	free(order);
	free(sel);
	return ret;
}

/* ---- import names ---- */

static const struct {
	const char *dist, *module;
} import_overrides[] = {
	{ "pillow", "PIL" },
	{ "pyyaml", "yaml" },
	{ "beautifulsoup4", "bs4" },
	{ "scikit-learn", "sklearn" },
	{ "python-dateutil", "dateutil" },
	{ "attrs", "attr" },
	{ "protobuf", "google.protobuf" },
	{ "pyjwt", "jwt" },
	{ "msgpack-python", "msgpack" },
	{ "opencv-python", "cv2" },
	{ "typing-extensions", "typing_extensions" },
	{ "setuptools-scm", "setuptools_scm" },
	{ "importlib-metadata", "importlib_metadata" },
};

/* PEP 503 comparison: case-insensitive, runs of '-', '_', '.' equal one '-'. */
static bool pep503_eq(const char *a, const char *b)
{
	for (;;) {
		bool sa = *a == '-' || *a == '_' || *a == '.';
		bool sb = *b == '-' || *b == '_' || *b == '.';
		if (sa || sb) {
			if (!(sa && sb))
				return false;
			while (*a == '-' || *a == '_' || *a == '.')
				a++;
			while (*b == '-' || *b == '_' || *b == '.')
				b++;
			continue;
		}
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
		if (!*a)
			return true;
		a++;
		b++;
	}
}

const char *pkg_import_name(const struct pkg_entry *e)
{
	/* A few per-thread buffers so two results can be used in one printf. */
	static __thread char *bufs[4];
	static __thread size_t caps[4];
	static __thread unsigned slot;
	const char *name = e->name ? e->name : "";
	size_t i, len;
	char *b;

	if (e->import_name && *e->import_name)
		return e->import_name;
	for (i = 0; i < ARRAY_SIZE(import_overrides); i++)
		if (pep503_eq(name, import_overrides[i].dist))
			return import_overrides[i].module;
	if (!strpbrk(name, "-."))
		return name;
	slot = (slot + 1) % ARRAY_SIZE(bufs);
	len = strlen(name);
	if (caps[slot] < len + 1) {
		caps[slot] = len + 1;
		bufs[slot] = xrealloc(bufs[slot], caps[slot]);
	}
	b = bufs[slot];
	for (i = 0; i <= len; i++)
		b[i] = name[i] == '-' || name[i] == '.' ? '_' : name[i];
	return b;
}
