/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftscope/signature.h"
#include "ftscope/util.h"

/*
 * Ignored frames, as fnmatch patterns on the normalized name. Sources: ClusterFuzz's
 * STACK_FRAME_IGNORE_REGEXES, Socorro's irrelevant list, satyr's normalization, and the
 * CPython plumbing that sits between any two interesting frames.
 */
static const char *const ignored_functions[] = {
	/* libc abort / signal machinery */
	"raise", "abort", "gsignal", "tgkill", "pthread_kill", "__pthread_kill*", "__restore_rt",
	"__libc_message", "__libc_fatal", "__assert_fail*", "__assert_perror_fail", "__chk_fail",
	"__fortify_fail", "__stack_chk_fail", "__libc_start_call_main", "__libc_start_main*",
	"_start", "__GI_*", "__libc_*", "__kernel_vsyscall", "_dl_*",
	/* thread bootstrap */
	"start_thread", "clone", "clone3", "__clone*", "thread_run", "pythread_wrapper",
	/* faulthandler and fatal error reporting */
	"faulthandler_*", "_Py_DumpStack", "_Py_DumpTraceback*", "_Py_DumpExtensionModules",
	"Py_FatalError", "_Py_FatalError*", "fatal_error*", "_PyFaulthandler_*",
	/* the eval loop and call plumbing */
	"_PyEval_EvalFrameDefault", "_PyEval_EvalFrame", "_PyEval_Vector", "PyEval_EvalCode*",
	"_PyObject_Vectorcall*", "PyObject_Vectorcall*", "_PyObject_Call*", "PyObject_Call*",
	"_PyFunction_Vectorcall", "*vectorcall*", "cfunction_call*", "method_vectorcall*",
	"_TAIL_CALL_*", "slot_tp_call", "_PyObject_MakeTpCall", "object_vacall",
	"PyObject_CallOneArg", "PyObject_CallNoArgs", "context_run", "thread_run",
	"run_eval_code_obj", "run_mod", "pyrun_*", "_PyRun_*", "PyRun_*", "Py_RunMain",
	"pymain_*", "Py_BytesMain", "main",
	/* sanitizer runtimes */
	"__tsan_*", "__asan_*", "__ubsan_*", "__sanitizer*", "__interceptor_*",
	NULL,
};

static const char *const ignored_modules[] = { "[vdso]", "linux-vdso.so.1", NULL };

bool frame_is_ignored(const char *fn, const char *module)
{
	if (module)
		for (const char *const *m = ignored_modules; *m; m++)
			if (!strcmp(module, *m))
				return true;
	if (!fn || strlen(fn) < 3)
		return fn != NULL; /* a 1-2 char name is noise; NULL is decided by the caller */
	for (const char *const *p = ignored_functions; *p; p++)
		if (!fnmatch(*p, fn, 0))
			return true;
	return false;
}

/* Strip one trailing compiler suffix: .cold, .cold.N, .part.N, .isra.N, .constprop.N,
 * .llvm.N, .lto_priv.N. Returns true if something was removed. */
static bool strip_suffix(char *s)
{
	static const char *const sfx[] = { ".cold", ".part", ".isra", ".constprop", ".llvm",
					   ".lto_priv", ".localalias", NULL };
	char *dot = strrchr(s, '.');
	char *end;
	if (!dot || dot == s)
		return false;
	/* numeric tail: "foo.isra.0" -> look at the previous component */
	strtoul(dot + 1, &end, 10);
	if (*end == '\0' && end != dot + 1) {
		char *prev;
		*dot = '\0';
		prev = strrchr(s, '.');
		if (prev && prev != s) {
			for (const char *const *x = sfx; *x; x++)
				if (!strcmp(prev, *x)) {
					*prev = '\0';
					return true;
				}
		}
		*dot = '.';
		return false;
	}
	for (const char *const *x = sfx; *x; x++)
		if (!strcmp(dot, *x)) {
			*dot = '\0';
			return true;
		}
	return false;
}

char *normalize_function(const char *name)
{
	struct sbuf sb = SBUF_INIT;
	const char *p = name;
	int depth = 0;
	char *s;
	if (!name)
		return NULL;
	/* "[clone .cold]" and argument lists go; template arguments collapse to <T>. */
	for (; *p; p++) {
		if (*p == '(' && depth == 0)
			break;
		if (*p == '[')
			break;
		if (*p == '<') {
			if (depth++ == 0)
				sbuf_adds(&sb, "<T>");
			continue;
		}
		if (*p == '>' && depth > 0) {
			depth--;
			continue;
		}
		if (depth == 0)
			sbuf_addc(&sb, *p);
	}
	s = sbuf_detach(&sb);
	trim(s);
	{
		char *t = xstrdup(trim(s));
		free(s);
		s = t;
	}
	while (strip_suffix(s))
		;
	if (starts_with(s, "__GI_")) {
		char *t = xstrdup(s + 5);
		free(s);
		s = t;
	}
	/* glibc's CPU-specific string variants (IFUNC): __strlen_evex, __memcpy_avx_unaligned_erms
	 * -> strlen, memcpy; otherwise the same bug signs differently on another CPU. */
	{
		static const char *const bases[] = { "mem", "str", "stp", "wmem", "wcs", "raw", NULL };
		if (starts_with(s, "__"))
			for (const char *const *b = bases; *b; b++)
				if (starts_with(s + 2, *b) && strchr(s + 2, '_')) {
					char *t = xstrndup(s + 2, (size_t)(strchr(s + 2, '_') - (s + 2)));
					free(s);
					s = t;
					break;
				}
	}
	/* Rust: strip the ::h<16 hex> hash. */
	{
		char *h = strstr(s, "::h");
		if (h && strlen(h) == 19)
			*h = '\0';
	}
	return s;
}

char *py_basename(const char *path)
{
	const char *b = strrchr(path, '/');
	return xstrdup(b ? b + 1 : path);
}

void hash_hex(const char *text, char out[17])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

int crash_signature(const char *kind, const struct sig_frame *frames, size_t n,
		    struct crash_sig *out)
{
	struct sbuf text = SBUF_INIT;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const struct sig_frame *f = &frames[i];
		char *name = NULL;
		if (f->is_python) {
			if (!out->py_frame && f->py_file) {
				char *b = py_basename(f->py_file);
				out->py_frame = xasprintf("%s:%s", b, f->py_func ? f->py_func : "?");
				free(b);
			}
			continue;
		}
		if (out->nframes == SIG_FRAMES)
			continue;
		if (f->function) {
			name = normalize_function(f->function);
			if (frame_is_ignored(name, f->module)) {
				free(name);
				continue;
			}
		} else {
			if (!f->module || frame_is_ignored(NULL, f->module))
				continue;
			/* libc without symbols: its frames are the abort machinery, not the bug */
			if (starts_with(f->module, "libc.so") || starts_with(f->module, "libpthread"))
				continue;
			name = xasprintf("%s+0x%llx", f->module, f->module_offset);
			out->unsymbolized = true;
		}
		out->frames[out->nframes++] = name;
	}
	sbuf_adds(&text, kind);
	for (size_t i = 0; i < out->nframes; i++)
		sbuf_addf(&text, " | %s", out->frames[i]);
	if (out->py_frame)
		sbuf_addf(&text, " | py %s", out->py_frame);
	out->text = sbuf_detach(&text);
	hash_hex(out->text, out->id);
	return out->nframes || out->py_frame ? 0 : -1;
}

void crash_sig_release(struct crash_sig *s)
{
	for (size_t i = 0; i < s->nframes; i++)
		free(s->frames[i]);
	free(s->text);
	free(s->py_frame);
	memset(s, 0, sizeof(*s));
}
