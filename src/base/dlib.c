/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <dlfcn.h>
#include <stddef.h>

#include "ftscope/dlib.h"
#include "ftscope/util.h"

int dlib_load(const char *soname, const struct dlib_sym *syms, size_t n, char **why)
{
	void *h;

	*why = NULL;
	if (!soname || !*soname) {
		*why = xstrdup("this ftscope was built without the library's soname");
		return -1;
	}
	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		*why = xasprintf("cannot load %s: %s", soname, dlerror());
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		*syms[i].addr = dlsym(h, syms[i].name);
		if (!*syms[i].addr) {
			*why = xasprintf("%s has no symbol %s", soname, syms[i].name);
			for (size_t k = 0; k <= i; k++)
				*syms[k].addr = NULL;
			dlclose(h);
			return -1;
		}
	}
	return 0; /* h stays open for the life of the process */
}
