/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* Source scan for free-threading declarations: each kind, multi-line slots, comments, trees. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/srcscan.h"
#include "ftscope/util.h"
#include "tap.h"

struct row {
	const char *file, *text;
	int ndecl;	  /* declarations expected */
	const char *kind; /* of the first one */
	int line;
	int not_used;
	const char *line_text; /* NULL: not checked */
};

static const struct row rows[] = {
	/* Py_mod_gil slots */
	{ "m.c",
	  "static PyModuleDef_Slot s[] = {\n    {Py_mod_gil, Py_MOD_GIL_NOT_USED},\n    {0, "
	  "NULL}\n};\n",
	  1, "Py_mod_gil", 2, 1, "{Py_mod_gil, Py_MOD_GIL_NOT_USED}," },
	{ "m.c",
	  "static PyModuleDef_Slot s[] = {\n    {Py_mod_gil,\n     Py_MOD_GIL_NOT_USED},\n};\n", 1,
	  "Py_mod_gil", 2, 1, "{Py_mod_gil, Py_MOD_GIL_NOT_USED}," },
	{ "m.c", "{\n  Py_mod_gil\n  ,\n  /* free-threaded */\n  Py_MOD_GIL_NOT_USED\n}\n", 1,
	  "Py_mod_gil", 2, 1, NULL },
	{ "m.cpp", "{Py_mod_gil, Py_MOD_GIL_USED},\n", 1, "Py_mod_gil", 1, 0, NULL },
	{ "m.c", "{.slot = Py_mod_gil, .value = Py_MOD_GIL_NOT_USED},\n", 1, "Py_mod_gil", 1, 1,
	  NULL },
	{ "m.c", "#ifdef Py_mod_gil\n    {Py_mod_gil, Py_MOD_GIL_NOT_USED},\n#endif\n", 1,
	  "Py_mod_gil", 2, 1, NULL },
	{ "m.h", "{Py_mod_gil, (void *)Py_MOD_GIL_NOT_USED},\n", 1, "Py_mod_gil", 1, 1, NULL },
	/* comments and strings do not count */
	{ "m.c", "/* {Py_mod_gil, Py_MOD_GIL_NOT_USED} */\n", 0, NULL, 0, 0, NULL },
	{ "m.c", "// {Py_mod_gil, Py_MOD_GIL_NOT_USED},\n", 0, NULL, 0, 0, NULL },
	{ "m.c", "const char *doc = \"{Py_mod_gil, Py_MOD_GIL_NOT_USED}\";\n", 0, NULL, 0, 0,
	  NULL },
	{ "m.c",
	  "/* does NOT declare Py_mod_gil (single-phase\n * init). */\nstatic struct PyModuleDef d "
	  "= {\n"
	  "\t.m_doc = \"A module with no Py_mod_gil slot.\",\n};\n",
	  0, NULL, 0, 0, NULL },
	{ "m.c", "char q = '\"'; {Py_mod_gil, Py_MOD_GIL_NOT_USED},\n", 1, "Py_mod_gil", 1, 1,
	  NULL },
	/* a slot whose value is some other macro is not a declaration we can read */
	{ "m.c", "{Py_mod_gil, MY_GIL_FLAG},\n", 0, NULL, 0, 0, NULL },
	/* PyUnstable_Module_SetGIL */
	{ "m.c",
	  "#ifdef Py_GIL_DISABLED\n    PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);\n#endif\n",
	  1, "PyUnstable_Module_SetGIL", 2, 1,
	  "PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED);" },
	{ "m.c", "PyUnstable_Module_SetGIL(\n    module,\n    Py_MOD_GIL_USED);\n", 1,
	  "PyUnstable_Module_SetGIL", 1, 0, NULL },
	{ "compat.h",
	  "static inline int PyUnstable_Module_SetGIL(PyObject *m, void *gil) { return 0; }\n", 0,
	  NULL, 0, 0, NULL },
	/* Cython */
	{ "m.pyx", "# cython: language_level=3, freethreading_compatible=True\ncdef int x = 1\n", 1,
	  "cython_directive", 1, 1, NULL },
	{ "m.pyx", "#cython: freethreading_compatible = False\n", 1, "cython_directive", 1, 0,
	  NULL },
	{ "m.pxd", "# distutils: language = c++\n# cython: freethreading_compatible=True\n", 1,
	  "cython_directive", 2, 1, NULL },
	{ "m.pyx", "# a note on freethreading_compatible=True\n", 0, NULL, 0, 0, NULL },
	{ "pkg/pure.py", "# cython: freethreading_compatible=True\nimport cython\n", 1,
	  "cython_directive", 1, 1, NULL },
	{ "setup.py",
	  "ext = cythonize(exts,\n    compiler_directives={\"language_level\": 3,\n"
	  "                         \"freethreading_compatible\": True})\n",
	  1, "cython_build_directive", 3, 1, NULL },
	{ "setup.py", "# compiler_directives={'freethreading_compatible': True}\n", 0, NULL, 0, 0,
	  NULL },
	{ "meson.build", "cython_args = ['-X', 'freethreading_compatible=true']\n", 1,
	  "cython_build_directive", 1, 1, NULL },
	{ "pyproject.toml", "[tool.cython]\nfreethreading_compatible = true\n", 1,
	  "cython_build_directive", 2, 1, NULL },
	{ "setup.py", "from Cython.Build import cythonize\n", 0, NULL, 0, 0, NULL },
	/* pybind11 */
	{ "ext.cpp",
	  "PYBIND11_MODULE(_core, m, py::mod_gil_not_used()) {\n    m.def(\"f\", &f);\n}\n", 1,
	  "pybind11", 1, 1, NULL },
	{ "ext.cc", "PYBIND11_MODULE(_core, m,\n                py::mod_gil_not_used(false)) {}\n",
	  1, "pybind11", 2, 0, NULL },
	{ "pybind11/attr.h",
	  "class mod_gil_not_used {\npublic:\n    explicit mod_gil_not_used(bool flag = true) : "
	  "flag_(flag) {}\n};\n",
	  0, NULL, 0, 0, NULL },
	/* PyO3 */
	{ "src/lib.rs",
	  "use pyo3::prelude::*;\n\n#[pymodule(gil_used = false)]\nfn _core(m: &Bound<'_, "
	  "PyModule>) -> PyResult<()> {\n    Ok(())\n}\n",
	  1, "pyo3", 3, 1, "#[pymodule(gil_used = false)]" },
	{ "src/lib.rs", "#[pymodule(name = \"x\", gil_used = true)]\nfn x() {}\n", 1, "pyo3", 1, 0,
	  NULL },
	{ "src/lib.rs", "#[pymodule]\n#[pyo3(gil_used = false)]\nfn x() {}\n", 1, "pyo3", 2, 1,
	  NULL },
	{ "src/lib.rs", "fn init(m: &Bound<'_, PyModule>) {\n    m.gil_used(false)?;\n}\n", 1,
	  "pyo3", 2, 1, NULL },
	{ "src/lib.rs", "// #[pymodule(gil_used = false)]\nlet gil_used = false;\n", 0, NULL, 0, 0,
	  NULL },
	/* nanobind */
	{ "CMakeLists.txt", "nanobind_add_module(\n  _core\n  FREE_THREADED\n  src/core.cpp)\n", 1,
	  "nanobind", 1, 1, NULL },
	{ "CMakeLists.txt", "nanobind_add_module(_core src/core.cpp)  # FREE_THREADED later\n", 0,
	  NULL, 0, 0, NULL },
	/* several in one file */
	{ "m.c", "{Py_mod_gil, Py_MOD_GIL_NOT_USED},\n{Py_mod_gil, Py_MOD_GIL_USED},\n", 2,
	  "Py_mod_gil", 1, 1, NULL },
	/* not scanned kinds of files */
	{ "README.md", "{Py_mod_gil, Py_MOD_GIL_NOT_USED}\n", 0, NULL, 0, 0, NULL },
};

static void test_buffers(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct srcscan s = SRCSCAN_INIT;
		srcscan_buffer(&s, r->file, r->text, strlen(r->text));
		is_int(s.n, r->ndecl, "#%zu %s: %d declaration(s)", i, r->file, r->ndecl);
		if (r->ndecl && s.n) {
			is_str(srcscan_kind_name(s.decls[0].kind), r->kind, "#%zu: kind %s", i,
			       r->kind);
			is_int(s.decls[0].line, r->line, "#%zu: line %d", i, r->line);
			is_int(s.decls[0].not_used, r->not_used, "#%zu: %s", i,
			       r->not_used ? "NOT_USED" : "USED");
			if (r->line_text)
				is_str(s.decls[0].line_text, r->line_text, "#%zu: line text", i);
			is_str(s.decls[0].file, r->file, "#%zu: file", i);
		}
		is_int(s.files_with_decl, r->ndecl ? 1 : 0, "#%zu: files_with_decl", i);
		srcscan_release(&s);
	}
	ok(srcscan_wants("a/b/x.pyx") && srcscan_wants("setup.py") && srcscan_wants("lib.rs") &&
		   !srcscan_wants("x.so") && !srcscan_wants("README.md"),
	   "file types");
}

static void put(const char *root, const char *rel, const char *text)
{
	char *p = path_join(root, rel), *d = xstrdup(p);
	*strrchr(d, '/') = '\0';
	mkdir_p(d, 0755);
	write_file_atomic(p, text, strlen(text));
	free(d);
	free(p);
}

static void test_tree(void)
{
	char tmpl[] = "/tmp/ftscope-srcscan.XXXXXX";
	char *root = mkdtemp(tmpl), *big, *link;
	struct srcscan s = SRCSCAN_INIT;
	const char *slot = "{Py_mod_gil,\n Py_MOD_GIL_NOT_USED},\n";
	cJSON *j, *d;

	if (!root) {
		ok(0, "mkdtemp");
		return;
	}
	put(root, "src/pkg/_a.c", slot);
	put(root, "src/pkg/_b.pyx", "# cython: freethreading_compatible=True\n");
	put(root, "src/pkg/_c.c", "static int nothing;\n");
	put(root, "rust/src/lib.rs", "#[pymodule(gil_used = false)]\nfn m() {}\n");
	put(root, "setup.py", "setup()\n");
	/* never scanned */
	put(root, ".git/x.c", slot);
	put(root, "build/lib/_a.c", slot);
	put(root, "dist/x.c", slot);
	put(root, "venv/lib/x.c", slot);
	put(root, ".tox/py/x.c", slot);
	put(root, "node_modules/x/x.c", slot);
	put(root, "pkg.egg-info/x.c", slot);
	put(root, "target/debug/x.rs", "#[pymodule(gil_used = false)]\n");
	/* too big */
	big = xmalloc(SRCSCAN_MAX_BYTES + 10);
	memset(big, ' ', SRCSCAN_MAX_BYTES + 9);
	memcpy(big, slot, strlen(slot));
	big[SRCSCAN_MAX_BYTES + 9] = '\0';
	put(root, "src/huge.c", big);
	free(big);
	/* a symlink to a scanned file is not followed */
	link = path_join(root, "src/link.c");
	ok(symlink("pkg/_a.c", link) == 0, "symlink made");
	free(link);

	is_int(srcscan_tree(root, &s), 0, "scan succeeds");
	is_int(s.files_scanned, 5, "5 files scanned (skipped dirs, big file and symlink left out)");
	is_int(s.files_too_large, 1, "one file too large");
	is_int(s.n, 3, "three declarations");
	is_int(s.files_with_decl, 3, "in three files");
	ok(!s.truncated, "not truncated");
	if (s.n == 3) {
		is_str(s.decls[0].file, "rust/src/lib.rs", "sorted by file: rust/src/lib.rs");
		is_str(s.decls[1].file, "src/pkg/_a.c", "src/pkg/_a.c (relative path)");
		is_int(s.decls[1].line, 1, "multi-line slot at its first line");
		is_str(s.decls[1].line_text, "{Py_mod_gil, Py_MOD_GIL_NOT_USED},",
		       "joined slot text");
		is_str(s.decls[2].file, "src/pkg/_b.pyx", "src/pkg/_b.pyx");
	}
	j = srcscan_json(&s);
	is_int(cJSON_GetArraySize(cJSON_GetObjectItem(j, "declarations")), 3, "json: declarations");
	is_int(cJSON_GetObjectItem(j, "files_with_mod_gil")->valueint, 3,
	       "json: files_with_mod_gil");
	d = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "declarations"), 1);
	is_int(cJSON_GetObjectItem(d, "line_number")->valueint, 1, "json: line_number");
	ok(cJSON_IsTrue(cJSON_GetObjectItem(d, "is_not_used")), "json: is_not_used");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(d, "kind")), "Py_mod_gil", "json: kind");
	cJSON_Delete(j);
	srcscan_release(&s);

	/* srcscan_attach / srcscan_carry, as `ftscope run` uses them */
	{
		cJSON *pkg = cJSON_CreateObject(), *probe = cJSON_CreateObject(), *ext;
		int saved, null, ret;
		is_int(srcscan_attach(pkg, root), 0, "attach");
		ext = cJSON_GetObjectItem(pkg, "extension_compat");
		ok(cJSON_IsObject(cJSON_GetObjectItem(ext, "source_scan")),
		   "extension_compat created");
		cJSON_AddBoolToObject(probe, "is_pure_python", false);
		srcscan_carry(pkg, probe);
		ok(cJSON_IsObject(cJSON_GetObjectItem(probe, "source_scan")),
		   "carried into the probe's");
		cJSON_Delete(probe);
		cJSON_Delete(pkg);
		pkg = cJSON_CreateObject();
		/* it warns; keep the TAP stream's stderr clean */
		fflush(stderr);
		saved = dup(STDERR_FILENO);
		null = open("/dev/null", O_WRONLY);
		dup2(null, STDERR_FILENO);
		ret = srcscan_attach(pkg, "/nonexistent/ftscope");
		fflush(stderr);
		dup2(saved, STDERR_FILENO);
		close(saved);
		close(null);
		ok(ret < 0 && !cJSON_GetObjectItem(pkg, "extension_compat"),
		   "an unreadable root leaves the package alone");
		cJSON_Delete(pkg);
	}
	rm_rf(root);
}

static void test_limit(void)
{
	char tmpl[] = "/tmp/ftscope-srcscan.XXXXXX";
	char *root = mkdtemp(tmpl);
	struct srcscan s = SRCSCAN_INIT;

	if (!root) {
		ok(0, "mkdtemp");
		return;
	}
	for (int i = 0; i < SRCSCAN_MAX_FILES + 3; i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "d%02d/f%05d.h", i / 1000, i);
		put(root, rel, "");
	}
	srcscan_tree(root, &s);
	is_int(s.files_scanned, SRCSCAN_MAX_FILES, "stops at %d files", SRCSCAN_MAX_FILES);
	ok(s.truncated, "and says so");
	srcscan_release(&s);
	rm_rf(root);
}

int main(void)
{
	test_buffers();
	test_tree();
	test_limit();
	return tap_done();
}
