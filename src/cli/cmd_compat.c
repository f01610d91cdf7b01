/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/cmd.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/json.h"
#include "ftscope/runstore.h"
#include "ftscope/util.h"

static const char *const compat_usage[] = {
	"usage: ftscope compat RUN_DIR [--extensions-only] [--package P] [--json]",
	"",
	"Extension-module compatibility per package: its extension modules, which of them",
	"re-enabled the GIL (the import probe, run without PYTHON_GIL, and the runtime warning",
	"in the tests' stderr), the free-threading declarations found in its source",
	"(Py_mod_gil slots, PyUnstable_Module_SetGIL, Cython freethreading_compatible,",
	"pybind11 mod_gil_not_used, PyO3 gil_used, nanobind FREE_THREADED) and a verdict.",
	"",
	"  RUN_DIR            a run directory (complete, interrupted or still running), or a",
	"                     results directory, whose newest run is read",
	"  --extensions-only  skip pure-Python packages",
	"  --package P        only this package",
	"  --json             the same as a JSON array",
	"  -h, --help         show this help",
	NULL,
};

struct compat_opts {
	const char *dir;
	const char *package;
	bool extensions_only, json;
};

enum verdict_kind {
	V_READY,
	V_GIL_FALLBACK,
	V_PURE_PYTHON,
	V_UNDECLARED,
	V_DECLARES_USED,
	V_IMPORT_FAILURE,
	V_NOT_PROBED,
	V_NR
};

static const char *const verdict_names[V_NR] = {
	"ready", "gil_fallback", "pure_python", "undeclared", "declares_used", "import_failure",
	"not_probed",
};

static const char *const verdict_labels[V_NR] = {
	"free-threading ready", "GIL fallback", "pure Python", "no declaration",
	"declares the GIL used", "import failure", "not probed",
};

/* What one package's data says. */
struct compat_info {
	const struct rs_pkg *pkg;
	const struct rs_ext *ext;   /* the package's extension_compat (present) */
	bool probed;                /* the import probe ran (is_pure_python is known) */
	bool pure;
	struct strv fallback;       /* modules that re-enabled the GIL */
	struct strv probe_fallback; /* ... seen by the import probe */
	size_t nexts, ext_import_errors;
	size_t not_used, used;      /* declarations */
	struct strv decl_kinds;     /* kinds of the NOT_USED declarations */
	const struct rs_decl *first_not_used, *first_used;
	enum verdict_kind kind;
	char *verdict;
};

static void print_usage(FILE *f)
{
	for (size_t i = 0; compat_usage[i]; i++)
		fprintf(f, "%s\n", compat_usage[i]);
}

static char *decl_where(const struct rs_decl *d)
{
	return xasprintf("%s:%d", d->file ? d->file : "?", d->line_number);
}

static char *join(const struct strv *sv, const char *sep)
{
	struct sbuf sb = SBUF_INIT;
	for (size_t i = 0; i < sv->n; i++)
		sbuf_addf(&sb, "%s%s", i ? sep : "", sv->v[i]);
	return sbuf_detach(&sb);
}

static bool import_failed(const struct compat_info *ci)
{
	return !ci->pkg->import_ok || !ci->ext->import_ok;
}

static enum verdict_kind decide_kind(const struct compat_info *ci)
{
	if (import_failed(ci))
		return V_IMPORT_FAILURE;
	if (ci->fallback.n)
		return V_GIL_FALLBACK;
	if (!ci->probed)
		return V_NOT_PROBED;
	if (ci->pure)
		return V_PURE_PYTHON;
	if (ci->used)
		return V_DECLARES_USED;
	return ci->not_used ? V_READY : V_UNDECLARED;
}

static char *fallback_text(const struct compat_info *ci)
{
	char *mods = join(&ci->fallback, ", "), *where = NULL, *v;
	bool many = ci->fallback.n > 1;

	if (ci->used && !ci->not_used) {
		where = decl_where(ci->first_used);
		v = xasprintf("GIL fallback: %s re-enabled the GIL; the source declares "
			      "Py_MOD_GIL_USED (%s)",
			      mods, where);
	} else if (ci->not_used) {
		where = decl_where(ci->first_not_used);
		v = xasprintf("GIL fallback: %s re-enabled the GIL although the source declares "
			      "free-threading support (%s): a module without the declaration",
			      mods, where);
	} else {
		v = xasprintf("GIL fallback: module%s %s %s no Py_mod_gil slot "
			      "(no free-threading declaration in the source)",
			      many ? "s" : "", mods, many ? "have" : "has");
	}
	free(where);
	free(mods);
	return v;
}

static char *ready_text(const struct compat_info *ci)
{
	const char *cat = ci->pkg->category_text;
	bool slots_only = true;
	char *kinds, *v, *full;

	for (size_t i = 0; i < ci->decl_kinds.n; i++)
		if (strcmp(ci->decl_kinds.v[i], "Py_mod_gil") &&
		    strcmp(ci->decl_kinds.v[i], "PyUnstable_Module_SetGIL"))
			slots_only = false;
	if (slots_only) {
		v = xstrdup("free-threading ready: extensions declare Py_MOD_GIL_NOT_USED and "
			    "none re-enabled the GIL");
	} else {
		kinds = join(&ci->decl_kinds, ", ");
		v = xasprintf("free-threading ready: the source declares free-threading support "
			      "(%s) and no extension re-enabled the GIL",
			      kinds);
		free(kinds);
	}
	/* the declaration is a promise; say when the tests do not keep it yet */
	if (!cat || (strcmp(cat, "crash") && strcmp(cat, "deadlock") &&
		     strcmp(cat, "intermittent") && strcmp(cat, "incompatible")))
		return v;
	full = xasprintf("%s; but its tests are not there yet without the GIL (%s)", v, cat);
	free(v);
	return full;
}

static void decide(struct compat_info *ci)
{
	const char *err = ci->pkg->import_error;
	char *where = NULL;

	ci->kind = decide_kind(ci);
	switch (ci->kind) {
	case V_IMPORT_FAILURE:
		if (!err)
			err = ci->ext->import_error;
		ci->verdict = xasprintf("import failure: %s",
					err ? err : "the package does not import");
		break;
	case V_GIL_FALLBACK:
		ci->verdict = fallback_text(ci);
		break;
	case V_NOT_PROBED:
		if (ci->not_used)
			ci->verdict = xasprintf("not probed (run with --detect-extensions); the "
						"source declares free-threading support in %zu "
						"place%s",
						ci->not_used, ci->not_used == 1 ? "" : "s");
		else
			ci->verdict = xstrdup("not probed (run with --detect-extensions)");
		break;
	case V_PURE_PYTHON:
		if (ci->not_used || ci->used)
			ci->verdict = xstrdup("pure Python: no extension module was imported (the "
					      "source's declarations belong to modules that were "
					      "not built)");
		else
			ci->verdict = xstrdup("pure Python: no extension module, "
					      "nothing to declare");
		break;
	case V_DECLARES_USED:
		where = decl_where(ci->first_used);
		ci->verdict = xasprintf("the source declares Py_MOD_GIL_USED (%s), yet no module "
					"re-enabled the GIL (not imported by the probe?)",
					where);
		break;
	case V_READY:
		ci->verdict = ready_text(ci);
		break;
	case V_UNDECLARED:
	case V_NR:
		ci->verdict = xstrdup("no extension re-enabled the GIL, but no free-threading "
				      "declaration was found in the source (generated or vendored "
				      "code, or a build-time flag?)");
		break;
	}
	free(where);
}

static void info_build(const struct rs_pkg *pkg, struct compat_info *ci)
{
	const struct strv *mods = &pkg->gil_fallback_modules;

	memset(ci, 0, sizeof(*ci));
	ci->pkg = pkg;
	ci->ext = &pkg->ext;
	ci->probed = ci->ext->is_pure_python >= 0;
	ci->pure = ci->ext->is_pure_python == 1;
	for (size_t i = 0; i < ci->ext->nmodules; i++) {
		const struct rs_module *e = &ci->ext->modules[i];
		if (!e->is_extension)
			continue;
		ci->nexts++;
		if (!e->import_ok)
			ci->ext_import_errors++;
		if (e->module_name && e->triggered_gil_fallback) {
			strv_push(&ci->probe_fallback, e->module_name);
			if (!strv_contains(&ci->fallback, e->module_name))
				strv_push(&ci->fallback, e->module_name);
		}
	}
	for (size_t i = 0; i < mods->n; i++)
		if (!strv_contains(&ci->fallback, mods->v[i]))
			strv_push(&ci->fallback, mods->v[i]);
	if (!ci->fallback.n && ci->ext->gil_fallback_active)
		strv_push(&ci->fallback, "(an unnamed module)");
	for (size_t i = 0; ci->ext->scanned && i < ci->ext->ndecls; i++) {
		const struct rs_decl *d = &ci->ext->decls[i];
		if (d->is_not_used) {
			ci->not_used++;
			if (!ci->first_not_used)
				ci->first_not_used = d;
			if (d->kind && !strv_contains(&ci->decl_kinds, d->kind))
				strv_push(&ci->decl_kinds, d->kind);
		} else {
			ci->used++;
			if (!ci->first_used)
				ci->first_used = d;
		}
	}
	decide(ci);
}

static void info_release(struct compat_info *ci)
{
	strv_release(&ci->fallback);
	strv_release(&ci->probe_fallback);
	strv_release(&ci->decl_kinds);
	free(ci->verdict);
}

/* ---- text ---- */

static void print_info(const struct compat_info *ci)
{
	const struct rs_ext *ext = ci->ext;
	const char *cat = ci->pkg->category_text;
	long files = ext->scanned ? ext->files_scanned : 0;
	int ndecl = ext->scanned ? (int)ext->ndecls : 0;

	printf("%s", ci->pkg->name);
	if (cat)
		printf("  (%s)", cat);
	printf("\n");
	if (ci->kind == V_IMPORT_FAILURE && !ci->nexts) {
		printf("  Extension modules: unknown (the package does not import)\n");
	} else if (!ci->probed) {
		printf("  Extension modules: not probed\n");
	} else if (ci->pure) {
		printf("  Pure Python (no extension module)\n");
	} else {
		printf("  Extension modules: %zu\n", ci->nexts);
		for (size_t i = 0; i < ext->nmodules; i++) {
			const struct rs_module *e = &ext->modules[i];
			const char *name = e->module_name;
			if (!e->is_extension)
				continue;
			printf("    %-32s ", name ? name : "?");
			if (!e->import_ok)
				printf("import failed: %s\n", e->import_error ? e->import_error : "?");
			else if (e->triggered_gil_fallback)
				printf("re-enables the GIL\n");
			else
				printf("ok, the GIL stays disabled\n");
		}
	}
	if (ext->probe_error)
		printf("  Probe error: %s\n", ext->probe_error);
	if (ci->fallback.n) {
		printf("  GIL re-enabled by: ");
		for (size_t i = 0; i < ci->fallback.n; i++)
			printf("%s%s (%s)", i ? ", " : "", ci->fallback.v[i],
			       strv_contains(&ci->probe_fallback, ci->fallback.v[i])
				       ? "import probe"
				       : "warning in the tests' stderr");
		printf("\n");
	} else if (ci->probed && !ci->pure) {
		printf("  GIL fallback: not triggered\n");
	}
	if (!ext->scanned) {
		printf("  Source scan: none (not recorded by this run)\n");
	} else {
		printf("  Source scan: %ld file%s, ", files, files == 1 ? "" : "s");
		if (!ndecl)
			printf("no free-threading declaration");
		else
			printf("%d declaration%s in %ld file%s", ndecl, ndecl == 1 ? "" : "s",
			       ext->files_with_mod_gil, ext->files_with_mod_gil == 1 ? "" : "s");
		if (ext->truncated)
			printf(" (stopped at the file limit)");
		printf("\n");
		for (size_t i = 0; i < ext->ndecls; i++) {
			const struct rs_decl *d = &ext->decls[i];
			char *where = decl_where(d);
			const char *kind = d->kind, *text = d->line_text;
			printf("    %-34s %-24s %-8s %s\n", where, kind ? kind : "?",
			       d->is_not_used ? "NOT_USED" : "USED",
			       text ? text : "");
			free(where);
		}
	}
	printf("  Verdict: %s\n", ci->verdict);
}

/* ---- JSON ---- */

static cJSON *dup_or_null(const cJSON *v)
{
	return v ? cJSON_Duplicate(v, true) : cJSON_CreateNull();
}

static cJSON *info_json(const struct compat_info *ci)
{
	cJSON *o = cJSON_CreateObject(), *fb = cJSON_CreateArray();

	json_set_str(o, "package", ci->pkg->name);
	json_set_str(o, "category", ci->pkg->category_text);
	cJSON_AddBoolToObject(o, "import_ok", ci->pkg->import_ok);
	if (ci->probed)
		cJSON_AddBoolToObject(o, "is_pure_python", ci->pure);
	else
		cJSON_AddNullToObject(o, "is_pure_python");
	cJSON_AddItemToObject(o, "extensions", dup_or_null(ci->ext->raw_extensions));
	for (size_t i = 0; i < ci->fallback.n; i++)
		cJSON_AddItemToArray(fb, cJSON_CreateString(ci->fallback.v[i]));
	cJSON_AddItemToObject(o, "gil_fallback_modules", fb);
	cJSON_AddItemToObject(o, "source_scan", dup_or_null(ci->ext->raw_scan));
	cJSON_AddNumberToObject(o, "declarations_not_used", (double)ci->not_used);
	cJSON_AddNumberToObject(o, "declarations_used", (double)ci->used);
	cJSON_AddStringToObject(o, "verdict_kind", verdict_names[ci->kind]);
	cJSON_AddStringToObject(o, "verdict", ci->verdict);
	return o;
}

/* ---- command ---- */

static int pkg_name_cmp(const void *pa, const void *pb)
{
	const struct rs_pkg *a = *(const struct rs_pkg *const *)pa;
	const struct rs_pkg *b = *(const struct rs_pkg *const *)pb;
	return strcmp(a->name, b->name);
}

static void parse_compat_options(int argc, char **argv, struct compat_opts *o)
{
	enum { OPT_EXT_ONLY = 0x100, OPT_PACKAGE, OPT_JSON };
	static const struct option longopts[] = {
		{ "extensions-only", no_argument, NULL, OPT_EXT_ONLY },
		{ "package", required_argument, NULL, OPT_PACKAGE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_usage(stdout);
			exit(FT_EXIT_OK);
		case OPT_EXT_ONLY:
			o->extensions_only = true;
			break;
		case OPT_PACKAGE:
			o->package = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		default:
			die_bad_option("compat", c, argv);
		}
	}
	o->dir = the_run_dir("compat", argc, argv);
}

int cmd_compat(int argc, char **argv)
{
	struct compat_opts o = { 0 };
	struct run_view v;
	const struct rs_pkg **pkgs = NULL;
	size_t counts[V_NR] = { 0 }, shown = 0, no_data = 0;
	cJSON *out = NULL;
	int ret = FT_EXIT_FAILURE;

	parse_compat_options(argc, argv, &o);
	if (runstore_load(o.dir, &v) < 0)
		return FT_EXIT_FAILURE;
	if (o.package && !run_view_pkg(&v, o.package)) {
		error("no package '%s' in '%s'", o.package, v.rd.dir);
		goto out;
	}
	pkgs = xcalloc(v.n ? v.n : 1, sizeof(*pkgs));
	for (size_t i = 0; i < v.n; i++)
		pkgs[i] = &v.pkgs[i];
	if (v.n > 1)
		qsort(pkgs, v.n, sizeof(*pkgs), pkg_name_cmp); /* labeille sorts by name */
	if (o.json)
		out = cJSON_CreateArray();

	for (size_t i = 0; i < v.n; i++) {
		struct compat_info ci;
		if (o.package && strcmp(pkgs[i]->name, o.package))
			continue;
		if (!pkgs[i]->ext.present) {
			no_data++; /* install failed, or a run without probe and scan */
			continue;
		}
		info_build(pkgs[i], &ci);
		if (o.extensions_only && ci.probed && ci.pure) {
			info_release(&ci);
			continue;
		}
		counts[ci.kind]++;
		if (o.json) {
			cJSON_AddItemToArray(out, info_json(&ci));
		} else {
			if (shown)
				printf("\n");
			print_info(&ci);
		}
		shown++;
		info_release(&ci);
	}
	if (o.json) {
		char *t = json_print(out, true);
		puts(t);
		free(t);
	} else if (!shown) {
		printf("No package with extension data in %s%s.\n", v.rd.dir,
		       o.extensions_only ? " (pure-Python packages skipped)" : "");
	} else {
		bool first = true;
		printf("\nSummary: %zu package%s: ", shown, shown == 1 ? "" : "s");
		for (int k = 0; k < V_NR; k++) {
			if (!counts[k])
				continue;
			printf("%s%zu %s", first ? "" : ", ", counts[k], verdict_labels[k]);
			first = false;
		}
		printf("\n");
	}
	if (!o.json && no_data)
		printf("(%zu package%s without extension data: install failed, or not probed)\n",
		       no_data, no_data == 1 ? "" : "s");
	ret = FT_EXIT_OK;
out:
	cJSON_Delete(out);
	free(pkgs);
	run_view_release(&v);
	return ret;
}
