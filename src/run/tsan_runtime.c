/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* ThreadSanitizer's runtime: is a binary instrumented, where is libtsan, the preload and
 * its logs (tsan.h). The reports' parser and suppressions are in tsan.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

#include "ftscope/error.h"
#include "ftscope/tsan.h"
#include "ftscope/util.h"
#include "ftscope/workspace.h"

struct elf_info {
	bool instrumented;
	struct strv needed;
	struct strv runpath;
};

static int elf_inspect(const char *path, struct elf_info *ei)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = -1;
	Elf *elf = NULL;
	Elf_Scn *scn = NULL;
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		if (!gelf_getshdr(scn, &sh) || !(data = elf_getdata(scn, NULL)))
			continue;
		if (sh.sh_type == SHT_DYNAMIC && sh.sh_entsize) {
			for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
				GElf_Dyn d;
				const char *name;
				if (!gelf_getdyn(data, (int)i, &d))
					break;
				if (d.d_tag != DT_NEEDED && d.d_tag != DT_RUNPATH &&
				    d.d_tag != DT_RPATH)
					continue;
				name = elf_strptr(elf, sh.sh_link, d.d_un.d_val);
				if (!name)
					continue;
				if (d.d_tag == DT_NEEDED)
					strv_push(&ei->needed, name);
				else
					strv_split(&ei->runpath, name, ":");
			}
		} else if (sh.sh_type == SHT_DYNSYM && sh.sh_entsize) {
			for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
				GElf_Sym sym;
				const char *name;
				if (!gelf_getsym(data, (int)i, &sym))
					break;
				name = elf_strptr(elf, sh.sh_link, sym.st_name);
				if (name && (!strcmp(name, "__tsan_init") ||
					     !strcmp(name, "__tsan_func_entry")))
					ei->instrumented = true;
			}
		}
	}
	for (size_t i = 0; i < ei->needed.n; i++)
		if (starts_with(ei->needed.v[i], "libtsan.so") ||
		    starts_with(ei->needed.v[i], "libclang_rt.tsan"))
			ei->instrumented = true;
	ret = 0;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

/* Where the dynamic loader would find a NEEDED library of `binary` (a good guess). */
static char *find_library(const char *binary, const struct strv *runpath, const char *lib)
{
	struct strv dirs = STRV_INIT;
	char *dir = xstrdup(binary), *slash = strrchr(dir, '/'), *found = NULL;
	const char *llp = getenv("LD_LIBRARY_PATH");
	if (slash)
		*slash = '\0';
	if (llp)
		strv_split(&dirs, llp, ":");
	for (size_t i = 0; i < runpath->n; i++) {
		const char *r = runpath->v[i];
		if (starts_with(r, "$ORIGIN"))
			strv_push_owned(&dirs, xasprintf("%s%s", dir, r + 7));
		else if (starts_with(r, "${ORIGIN}"))
			strv_push_owned(&dirs, xasprintf("%s%s", dir, r + 9));
		else
			strv_push(&dirs, r);
	}
	strv_push_owned(&dirs, xasprintf("%s/../lib", dir));
	strv_push(&dirs, "/usr/local/lib");
	strv_push(&dirs, "/usr/lib/x86_64-linux-gnu");
	strv_push(&dirs, "/lib/x86_64-linux-gnu");
	strv_push(&dirs, "/usr/lib64");
	strv_push(&dirs, "/usr/lib");
	for (size_t i = 0; i < dirs.n && !found; i++) {
		char *p = path_join(dirs.v[i], lib);
		if (access(p, R_OK) == 0)
			found = p;
		else
			free(p);
	}
	strv_release(&dirs);
	free(dir);
	return found;
}

int tsan_binary_instrumented(const char *python)
{
	struct elf_info ei = { 0 };
	char *real = realpath(python, NULL);
	int ret = -1;
	if (!real || elf_inspect(real, &ei) < 0) {
		warning("cannot read '%s' as an ELF file to tell whether it is TSAN-instrumented",
			python);
		goto out;
	}
	ret = ei.instrumented;
	for (size_t i = 0; i < ei.needed.n && !ret; i++) {
		struct elf_info li = { 0 };
		char *lib;
		if (!starts_with(ei.needed.v[i], "libpython"))
			continue;
		lib = find_library(real, &ei.runpath, ei.needed.v[i]);
		if (lib && elf_inspect(lib, &li) == 0)
			ret = li.instrumented;
		strv_release(&li.needed);
		strv_release(&li.runpath);
		free(lib);
	}
out:
	strv_release(&ei.needed);
	strv_release(&ei.runpath);
	free(real);
	return ret;
}

/* KEY=" flags" appended to what env already says. */
static void env_append(struct strv *env, const char *key, const char *flags)
{
	const char *v = env_get(env, key);
	char *nv = v && *v ? xasprintf("%s %s", v, flags) : xstrdup(flags);
	env_set(env, key, nv);
	free(nv);
}

void tsan_build_env(struct strv *env)
{
	env_append(env, "CFLAGS", "-fsanitize=thread -g");
	env_append(env, "CXXFLAGS", "-fsanitize=thread -g");
	env_append(env, "LDFLAGS", "-fsanitize=thread");
}

/* `cc -print-file-name=libtsan.so`: an absolute path when the compiler has the runtime. */
static char *compiler_runtime(const char *cc)
{
	char *cmd = xasprintf("%s -print-file-name=libtsan.so 2>/dev/null", cc), buf[PATH_MAX];
	char *found = NULL;
	FILE *f = popen(cmd, "r");
	free(cmd);
	if (!f)
		return NULL;
	if (fgets(buf, sizeof(buf), f)) {
		char *t = trim(buf);
		if (t[0] == '/')
			found = realpath(t, NULL);
	}
	pclose(f);
	return found;
}

char *tsan_runtime_path(void)
{
	static const char *const dirs[] = { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
					    "/usr/lib64", "/usr/lib", "/usr/local/lib", NULL };
	static const char *const names[] = { "libtsan.so.2", "libtsan.so.0", "libtsan.so", NULL };
	const char *env = getenv("FTSCOPE_TSAN_RUNTIME");
	char *p;
	if (env && *env)
		return access(env, R_OK) == 0 ? xstrdup(env) : NULL;
	if ((p = compiler_runtime("cc")) || (p = compiler_runtime("gcc")))
		return p;
	for (const char *const *d = dirs; *d; d++)
		for (const char *const *n = names; *n; n++) {
			p = path_join(*d, *n);
			if (access(p, R_OK) == 0)
				return p;
			free(p);
		}
	return NULL;
}

/* Run argv (PATH search) with env, stdout and stderr into the file `log`; its wait status. */
static int spawn_wait(char *const argv[], char *const envp[], const char *log)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st = -1, r;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

char *tsan_build_init_lib(const char *runtime, const char *dir)
{
	static const char src[] =
		"/* ftscope: start ThreadSanitizer before main() (see ftscope's src/run/tsan_runtime.c) */\n"
		"extern void __tsan_init(void);\n"
		"__attribute__((constructor)) static void ftscope_tsan_init(void)\n"
		"{\n\t__tsan_init();\n}\n";
	extern char **environ;
	char *c = path_join(dir, "ftscope_tsan_init.c");
	char *so = path_join(dir, "ftscope_tsan_init.so");
	char *log = path_join(dir, "ftscope_tsan_init.log");
	char *argv[] = { "cc", "-shared", "-fPIC", "-O2", "-o", so, c, (char *)runtime, NULL };
	int st;
	if (mkdir_p(dir, 0755) < 0 || write_file_atomic(c, src, strlen(src)) < 0) {
		warning_errno("cannot write '%s'", c);
		goto fail;
	}
	st = spawn_wait(argv, environ, log);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		warning("cannot build '%s' with cc (see '%s')", so, log);
		goto fail;
	}
	chmod(so, 0755);
	free(c);
	free(log);
	return so;
fail:
	free(c);
	free(so);
	free(log);
	return NULL;
}

int tsan_preload_check(const char *preload, char **why)
{
	char tmpl[] = "/tmp/ftscope-tsan-check.XXXXXX", *out = NULL;
	char *pre = xasprintf("LD_PRELOAD=%s", preload);
	char *argv[] = { "/bin/sh", "-c", ":", NULL };
	char *envp[] = { pre, "TSAN_OPTIONS=exitcode=0", "PATH=/usr/bin:/bin", NULL };
	int fd = mkstemp(tmpl), st, ret = -1;
	*why = NULL;
	if (fd < 0) {
		*why = xasprintf("cannot create a temporary file: %s", strerror(errno));
		goto out;
	}
	close(fd);
	st = spawn_wait(argv, envp, tmpl);
	if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		ret = 0;
	} else {
		read_file(tmpl, &out, NULL);
		if (st < 0)
			*why = xstrdup("cannot run /bin/sh");
		else if (WIFSIGNALED(st))
			*why = xasprintf("/bin/sh died of %s%s%s", signal_name(WTERMSIG(st))
					 ? signal_name(WTERMSIG(st)) : "a signal",
					 out && *out ? ": " : "", out ? trim(out) : "");
		else
			*why = xasprintf("/bin/sh exited %d%s%s", WEXITSTATUS(st),
					 out && *out ? ": " : "", out ? trim(out) : "");
	}
	unlink(tmpl);
out:
	free(out);
	free(pre);
	return ret;
}

int tsan_read_logs(int dirfd, const char *prefix, uid_t owner, size_t max, struct sbuf *out)
{
	struct strv names = STRV_INIT;
	struct dirent *de;
	size_t plen = strlen(prefix), start = out->len;
	int n = 0, dup_fd = dup(dirfd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return 0;
	}
	rewinddir(d); /* the duplicate shares dirfd's position */
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, plen) && de->d_name[plen] == '.')
			strv_push(&names, de->d_name);
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_strp);
	for (size_t i = 0; i < names.n && out->len - start < max; i++) {
		char *text = NULL;
		size_t len = 0;
		size_t left = max - (out->len - start);
		if (read_file_at(dirfd, names.v[i], left, owner, &text, &len) == 0) {
			if (out->len && out->buf[out->len - 1] != '\n')
				sbuf_addc(out, '\n');
			sbuf_add(out, text, len);
			n++;
		}
		free(text);
	}
	strv_release(&names);
	return n;
}
