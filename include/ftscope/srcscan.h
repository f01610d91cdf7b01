/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#ifndef FTSCOPE_SRCSCAN_H
#define FTSCOPE_SRCSCAN_H

/*
 * Free-threading declarations in a package's source tree, for `ftscope run` (stored as
 * extension_compat.source_scan) and `ftscope compat`. labeille only saw a Py_mod_gil slot
 * written on one line in C files; this finds:
 *
 *   Py_mod_gil                 {Py_mod_gil, Py_MOD_GIL_NOT_USED} slots in C/C++/Cython, on
 *                              one line or several, comments and strings skipped
 *   PyUnstable_Module_SetGIL   PyUnstable_Module_SetGIL(m, Py_MOD_GIL_NOT_USED) (single-phase init)
 *   cython_directive           "# cython: freethreading_compatible = True" (.pyx .pxd .pxi .py)
 *   cython_build_directive     freethreading_compatible in setup.py, setup.cfg, pyproject.toml,
 *                              meson.build or CMakeLists.txt (compiler_directives={...},
 *                              -X freethreading_compatible=True)
 *   pybind11                   PYBIND11_MODULE(m, m, py::mod_gil_not_used())
 *   pyo3                       #[pymodule(gil_used = false)], module.gil_used(false)
 *   nanobind                   nanobind_add_module(... FREE_THREADED ...) in CMakeLists.txt
 *
 * Each declaration says whether the GIL is *not* used (Py_MOD_GIL_NOT_USED, True, false...)
 * or explicitly used. The walk skips .git and other dot-directories, build, dist, venv,
 * node_modules, target, __pycache__, site-packages and *.egg-info, never follows symlinks,
 * reads at most SRCSCAN_MAX_FILES files and none over SRCSCAN_MAX_BYTES, and looks at
 * no more than SRCSCAN_MAX_ENTRIES directory entries.
 */
#include <stdbool.h>
#include <stddef.h>

struct cJSON;

#define SRCSCAN_MAX_FILES 5000
#define SRCSCAN_MAX_BYTES (1024 * 1024)
/* a tree of millions of other files is not walked to its end either */
#define SRCSCAN_MAX_ENTRIES 500000

enum srcscan_kind {
	SRCSCAN_MOD_GIL,
	SRCSCAN_SET_GIL,
	SRCSCAN_CYTHON,
	SRCSCAN_CYTHON_BUILD,
	SRCSCAN_PYBIND11,
	SRCSCAN_PYO3,
	SRCSCAN_NANOBIND,
};

struct srcscan_decl {
	char *file;          /* relative to the scanned root */
	int line;            /* 1-based line of the declaration's start */
	char *line_text;     /* the declaration's text, blanks collapsed, <= 200 bytes */
	enum srcscan_kind kind;
	bool not_used;       /* declares that the GIL is not needed */
};

struct srcscan {
	size_t files_scanned;
	size_t files_with_decl;
	size_t files_too_large;  /* skipped: over SRCSCAN_MAX_BYTES */
	bool truncated;          /* stopped at SRCSCAN_MAX_FILES (or SRCSCAN_MAX_ENTRIES) */
	size_t entries;          /* directory entries looked at */
	struct srcscan_decl *decls;  /* sorted by file, then line */
	size_t n, cap;
};
#define SRCSCAN_INIT { 0, 0, 0, false, 0, NULL, 0, 0 }

/* "Py_mod_gil", "PyUnstable_Module_SetGIL", "cython_directive", ...: static string. */
const char *srcscan_kind_name(enum srcscan_kind k);

/* Whether a file of this name (basename or relative path) is scanned. */
bool srcscan_wants(const char *name);

/*
 * Scan one file's text; relpath (its path under the root) decides the file type and is
 * stored in the declarations. Counts the file in files_scanned.
 */
void srcscan_buffer(struct srcscan *s, const char *relpath, const char *text, size_t len);

/* Walk root and scan every wanted file. 0, or -errno if root cannot be read at all. */
int srcscan_tree(const char *root, struct srcscan *s);

/* {files_scanned, files_with_mod_gil, declarations[{file, line_number, line_text, kind,
 * is_not_used}], (truncated, files_too_large when non-zero)}: caller owns the node. */
struct cJSON *srcscan_json(const struct srcscan *s);
void srcscan_release(struct srcscan *s);

/*
 * For `ftscope run`: scan root and store the result as pkg.extension_compat.source_scan,
 * creating extension_compat if absent. 0, or -errno (warned; pkg is left as it was).
 */
int srcscan_attach(struct cJSON *pkg, const char *root);
/*
 * Move pkg.extension_compat.source_scan (if any) into new_ext, before new_ext replaces
 * pkg's extension_compat (the import probe's result does).
 */
void srcscan_carry(struct cJSON *pkg, struct cJSON *new_ext);

#endif
