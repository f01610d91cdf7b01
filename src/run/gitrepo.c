/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Repository checkout for a package: clone, or fetch + hard reset + clean (libgit2).
 *
 * libgit2 1.5 (bookworm) has no shallow clone or fetch (added in 1.7), and its fetch
 * negotiation walks local history, which is cut short in a shallow repository. So every
 * operation that creates or updates a shallow repository runs the git CLI; the rest
 * (full clones, fetches into full repositories, reset, clean, HEAD) uses libgit2.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <git2.h>

#include "dl_sonames.h" /* LIBGIT2_SONAME (Makefile) */
#include "ftscope/dlib.h"
#include "ftscope/error.h"
#include "ftscope/gitrepo.h"
#include "ftscope/util.h"

extern char **environ;

/*
 * bookworm's libgit2 1.5.1 leaks the pcre2 match data (~20 KB with pcre2 10.42) of the
 * config regex matches that every git_remote_lookup/git_remote_create runs (measured with
 * ASan; current libgit2 frees it on every path). SANITIZE=address builds would fail at
 * exit on a leak that is not ours. pcre2 has no frame pointers, so the fast unwinder only
 * sees the module: suppress leaks allocated inside libpcre2 (only libgit2 uses it here);
 * any other leak still shows.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libpcre2-8.so\n";
}

/*
 * libgit2 is opened at first use (ftscope/dlib.h says why); p_git_x has git_x's type.
 */
#define GIT_FUNCS(X) \
	X(git_checkout_options_init) \
	X(git_clone) \
	X(git_clone_options_init) \
	X(git_error_last) \
	X(git_fetch_options_init) \
	X(git_index_free) \
	X(git_index_get_bypath) \
	X(git_libgit2_init) \
	X(git_object_free) \
	X(git_object_lookup) \
	X(git_oid_cpy) \
	X(git_oid_tostr) \
	X(git_reference_name_to_id) \
	X(git_remote_create) \
	X(git_remote_fetch) \
	X(git_remote_free) \
	X(git_remote_lookup) \
	X(git_remote_ls) \
	X(git_remote_set_url) \
	X(git_remote_url) \
	X(git_repository_fetchhead_foreach) \
	X(git_repository_free) \
	X(git_repository_index) \
	X(git_repository_is_shallow) \
	X(git_repository_open_ext) \
	X(git_repository_workdir) \
	X(git_reset) \
	X(git_status_byindex) \
	X(git_status_list_entrycount) \
	X(git_status_list_free) \
	X(git_status_list_new) \
	X(git_status_options_init)

#define GIT_PTR(f) static __typeof__(f) *p_##f;
GIT_FUNCS(GIT_PTR)
#define GIT_SYM(f) { #f, (void **)&p_##f },
static const struct dlib_sym git_syms[] = { GIT_FUNCS(GIT_SYM) };

static pthread_once_t git_once = PTHREAD_ONCE_INIT;
static char *git_load_error;

static void git_init_once(void)
{
	if (dlib_load(LIBGIT2_SONAME, git_syms, sizeof(git_syms) / sizeof(git_syms[0]),
		      &git_load_error) == 0)
		p_git_libgit2_init();
}

/* 0, or -1 when libgit2 cannot be loaded (the reason is in err, if given). */
static int git_setup(struct sbuf *err)
{
	pthread_once(&git_once, git_init_once);
	if (!git_load_error)
		return 0;
	if (err)
		sbuf_addf(err, "%s (libgit2 is needed to fetch repositories)", git_load_error);
	return -1;
}

/* Append s to sb on one line: newlines and tabs become spaces, runs squeezed, trimmed. */
static void add_oneline(struct sbuf *sb, const char *s)
{
	bool space = false, any = false;

	for (; *s; s++) {
		if (*s == '\n' || *s == '\r' || *s == '\t' || *s == ' ') {
			space = any;
			continue;
		}
		if (space)
			sbuf_addc(sb, ' ');
		sbuf_addc(sb, *s);
		space = false;
		any = true;
	}
}

static void add_git_error(struct sbuf *err, const char *what)
{
	const git_error *e = p_git_error_last();

	sbuf_adds(err, what);
	sbuf_adds(err, ": ");
	add_oneline(err, e && e->message ? e->message : "unknown libgit2 error");
}

/*
 * libgit2 1.5 refuses repositories owned by another user (git's safe.directory) with the
 * unhelpful "config value 'safe.directory' was not found": say what is going on.
 */
static void add_owner_hint(struct sbuf *err, const char *dir)
{
	char *dotgit = path_join(dir, ".git");
	struct stat st;

	if ((stat(dotgit, &st) == 0 || stat(dir, &st) == 0) && st.st_uid != geteuid())
		sbuf_addf(err, " (owned by uid %u, not by the current user; libgit2 refuses such "
			  "repositories as git's safe.directory check does)",
			  (unsigned)st.st_uid);
	free(dotgit);
}

/* ---- URLs ---- */

/* git's rule: "host:path" is scp-like ssh when no '/' comes before the first ':'. */
static bool url_is_local_path(const char *url)
{
	const char *colon, *slash;

	if (strstr(url, "://"))
		return false;
	colon = strchr(url, ':');
	if (!colon)
		return true;
	slash = strchr(url, '/');
	return slash && slash < colon;
}

/* Local paths become absolute (a relative origin URL would depend on the cwd later). */
static char *url_normalize(const char *url)
{
	if (url_is_local_path(url))
		return abs_path(url);
	return xstrdup(url);
}

/* `git clone --depth` ignores depth for plain local paths: use file:// there. */
static char *url_for_cli(const char *nurl)
{
	if (url_is_local_path(nurl))
		return xasprintf("file://%s", nurl);
	return xstrdup(nurl);
}

/* ---- the git CLI (shallow operations only) ---- */

static void cli_output_oneline(struct sbuf *err, const char *out)
{
	struct sbuf joined = SBUF_INIT;
	const char *p = out;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, n), *t = trim(line);

		if (*t && !starts_with(t, "Cloning into")) {
			if (joined.len)
				sbuf_adds(&joined, "; ");
			sbuf_adds(&joined, t);
		}
		free(line);
		p += n + (nl ? 1 : 0);
	}
	if (!joined.len) {
		sbuf_adds(err, "no output");
	} else if (joined.len > 400) {
		sbuf_adds(err, "...");
		add_oneline(err, joined.buf + joined.len - 400);
	} else {
		add_oneline(err, joined.buf);
	}
	sbuf_release(&joined);
}

/*
 * Run git with argv (argv[0] = "git"), stdout and stderr captured into *out.
 * Returns the exit status, or -1 if it could not run or died from a signal.
 * The environment is prepared before fork: the child only calls async-signal-safe code.
 * git runs as root, and only in root's own clones (docs/security.md); still, no GIT_*
 * variable of the caller's reaches it, hooks and fsmonitor are off, and it inherits no
 * descriptor but 0-2.
 */
static int run_git(const char *const argv[], struct sbuf *out)
{
	static const char *const pre[] = { "git", "-c", "core.hooksPath=/dev/null", "-c",
					   "core.fsmonitor=false" };
	struct strv env = STRV_INIT, av = STRV_INIT;
	int pfd[2] = { -1, -1 }, status, ret = -1, devnull;
	char buf[4096];
	char **ep;
	pid_t pid;
	ssize_t n;

	for (ep = environ; ep && *ep; ep++)
		if (!starts_with(*ep, "GIT_"))
			strv_push(&env, *ep);
	/* Never prompt for credentials (a missing https repository asks for them). */
	strv_push(&env, "GIT_TERMINAL_PROMPT=0");
	for (size_t i = 0; i < ARRAY_SIZE(pre); i++)
		strv_push(&av, pre[i]);
	for (size_t i = 1; argv[i]; i++)
		strv_push(&av, argv[i]);

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		sbuf_addf(out, "cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid = fork();
	if (pid < 0) {
		sbuf_addf(out, "cannot fork: %s", strerror(errno));
		if (devnull >= 0)
			close(devnull);
		goto out;
	}
	if (pid == 0) {
		static const char msg[] = "cannot run git\n";
		sigset_t none;

		/* The supervisor may block or ignore signals; git must not inherit that. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close_range(3, ~0U, 0);
		execvpe("git", av.v, env.v);
		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(127);
		_exit(127);
	}
	if (devnull >= 0)
		close(devnull);
	close(pfd[1]);
	pfd[1] = -1;
	for (;;) {
		n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sbuf_add(out, buf, (size_t)n);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			sbuf_addf(out, "waitpid: %s", strerror(errno));
			goto out;
		}
	}
	if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		sbuf_addf(out, "git killed by %s", signal_name(WTERMSIG(status)) ?
			  signal_name(WTERMSIG(status)) : "a signal");
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	strv_release(&env);
	strv_release(&av);
	return ret;
}

/* Run git; on failure append "<what> failed: <git's output>" to err and return -1. */
static int run_git_checked(const char *const argv[], const char *what, struct sbuf *err)
{
	struct sbuf out = SBUF_INIT;
	int ret = -1, st;

	st = run_git(argv, &out);
	if (st != 0) {
		sbuf_addf(err, "%s failed", what);
		if (st > 0)
			sbuf_addf(err, " (exit %d)", st);
		sbuf_adds(err, ": ");
		cli_output_oneline(err, out.buf ? out.buf : "");
		goto out;
	}
	ret = 0;
out:
	sbuf_release(&out);
	return ret;
}

static int cli_clone_shallow(const char *url, const char *nurl, const char *dir, int depth,
			     struct sbuf *err)
{
	char *curl = url_for_cli(nurl), *d = xasprintf("%d", depth);
	char *what = xasprintf("git clone --depth %d '%s'", depth, url);
	const char *argv[] = { "git", "-c", "protocol.ext.allow=never", "clone", "--quiet",
			       "--depth", d, "--", curl, dir, NULL };
	int ret;

	ret = run_git_checked(argv, what, err);
	free(what);
	free(d);
	free(curl);
	return ret;
}

/* Fetch the remote's HEAD into a shallow repository: --depth N, or --unshallow for 0. */
static int cli_fetch_shallow(const char *url, const char *dir, int depth, struct sbuf *err)
{
	char *d = xasprintf("--depth=%d", depth);
	char *what = xasprintf("git fetch '%s' into '%s'", url, dir);
	const char *argv[] = { "git", "-c", "protocol.ext.allow=never", "-C", dir, "fetch",
			       "--quiet", "--no-tags",
			       depth > 0 ? d : "--unshallow", "origin", "HEAD", NULL };
	int ret;

	ret = run_git_checked(argv, what, err);
	free(what);
	free(d);
	return ret;
}

/* ---- libgit2 operations ---- */

static int hex_of(const git_oid *oid, char **out)
{
	char hex[GIT_OID_HEXSZ + 1];

	p_git_oid_tostr(hex, sizeof(hex), oid);
	*out = xstrdup(hex);
	return 0;
}

static bool dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool empty = true;

	if (!d)
		return false;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = false;
			break;
		}
	}
	closedir(d);
	return empty;
}

struct fetchhead_pick {
	git_oid oid;
	bool found, merge;
};

static int fetchhead_cb(const char *ref_name, const char *remote_url, const git_oid *oid,
			unsigned int is_merge, void *payload)
{
	struct fetchhead_pick *p = payload;

	if (!p->found || (is_merge && !p->merge)) {
		p_git_oid_cpy(&p->oid, oid);
		p->found = true;
		p->merge = is_merge;
	}
	return 0;
}

/* The first FETCH_HEAD entry marked for merge, else the first entry. */
static int fetch_head_oid(git_repository *repo, git_oid *oid)
{
	struct fetchhead_pick p = { .found = false };

	if (p_git_repository_fetchhead_foreach(repo, fetchhead_cb, &p) < 0 || !p.found)
		return -1;
	p_git_oid_cpy(oid, &p.oid);
	return 0;
}

/* The remote's HEAD as advertised in its last connection (git_remote_ls). */
static int remote_head_oid(git_remote *remote, git_oid *oid)
{
	const git_remote_head **heads;
	size_t n, i;

	if (p_git_remote_ls(&heads, &n, remote) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!strcmp(heads[i]->name, "HEAD")) {
			p_git_oid_cpy(oid, &heads[i]->oid);
			return 0;
		}
	}
	return -1;
}

static bool have_commit(git_repository *repo, const git_oid *oid)
{
	git_object *obj = NULL;
	bool r = p_git_object_lookup(&obj, repo, oid, GIT_OBJECT_COMMIT) == 0;

	p_git_object_free(obj);
	return r;
}

/* True for paths status may hand us that must not leave the work tree. */
static bool unsafe_rel_path(const char *p)
{
	const char *s;

	if (!*p || *p == '/')
		return true;
	for (s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
			return true;
	return false;
}

/*
 * Remove empty directories below workdir/rel, bottom-up (git clean -d also removes untracked
 * empty directories, which status never lists). Keeps .git, nested repositories and
 * gitlink paths (an uninitialized submodule is an empty directory in the index).
 * Returns true if workdir/rel is now empty.
 */
static bool sweep_empty_dirs(git_index *idx, const char *workdir, const char *rel)
{
	char *full = rel[0] ? path_join(workdir, rel) : xstrdup(workdir);
	DIR *d = opendir(full);
	struct dirent *de;
	size_t left = 0;

	if (!d) {
		free(full);
		return false;
	}
	while ((de = readdir(d))) {
		char *crel, *cfull;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!strcmp(de->d_name, ".git")) {
			left++;
			continue;
		}
		crel = rel[0] ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		cfull = path_join(workdir, crel);
		if (lstat(cfull, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (sweep_empty_dirs(idx, workdir, crel) &&
			    !p_git_index_get_bypath(idx, crel, 0) && rmdir(cfull) == 0) {
				free(crel);
				free(cfull);
				continue;
			}
		}
		left++;
		free(crel);
		free(cfull);
	}
	closedir(d);
	free(full);
	return left == 0;
}

/* git clean -fdx: remove untracked and ignored files and directories. */
static int clean_worktree(git_repository *repo, const char *dir, struct sbuf *err)
{
	git_status_options so;
	git_status_list *list = NULL;
	git_index *idx = NULL;
	const char *workdir = p_git_repository_workdir(repo);
	size_t i, n;
	int ret = -1;

	if (!workdir) {
		sbuf_addf(err, "cannot clean '%s': bare repository", dir);
		goto out;
	}
	/*
	 * No RECURSE_*_DIRS: a wholly untracked or ignored directory is one "dir/" entry, removed
	 * at once (a build/ tree), and emptied directories do not stay behind.
	 */
	p_git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.show = GIT_STATUS_SHOW_WORKDIR_ONLY;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_INCLUDE_IGNORED |
		   GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (p_git_status_list_new(&list, repo, &so) < 0) {
		sbuf_addf(err, "git status in '%s'", dir);
		add_git_error(err, "");
		goto out;
	}
	n = p_git_status_list_entrycount(list);
	for (i = 0; i < n; i++) {
		const git_status_entry *se = p_git_status_byindex(list, i);
		const git_diff_delta *dd = se->index_to_workdir;
		const char *p;
		char *rel, *full;
		size_t len;
		int r;

		if (!(se->status & (GIT_STATUS_WT_NEW | GIT_STATUS_IGNORED)) || !dd)
			continue;
		p = dd->new_file.path ? dd->new_file.path : dd->old_file.path;
		if (!p || unsafe_rel_path(p))
			continue;
		/* Strip "dir/": lstat("link/") would follow a symlink to a directory. */
		rel = xstrdup(p);
		len = strlen(rel);
		while (len > 1 && rel[len - 1] == '/')
			rel[--len] = '\0';
		full = path_join(workdir, rel);
		r = rm_rf(full);
		if (r < 0) {
			sbuf_addf(err, "cannot remove '%s': %s", full, strerror(-r));
			free(rel);
			free(full);
			goto out;
		}
		free(rel);
		free(full);
	}
	if (p_git_repository_index(&idx, repo) < 0) {
		add_git_error(err, "cannot read the index");
		goto out;
	}
	sweep_empty_dirs(idx, workdir, "");
	ret = 0;
out:
	p_git_index_free(idx);
	p_git_status_list_free(list);
	return ret;
}

static int reset_hard(git_repository *repo, const git_oid *oid, const char *dir,
		      struct sbuf *err)
{
	git_checkout_options co;
	git_object *target = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	int ret = -1;

	p_git_oid_tostr(hex, sizeof(hex), oid);
	if (p_git_object_lookup(&target, repo, oid, GIT_OBJECT_COMMIT) < 0) {
		sbuf_addf(err, "git reset in '%s' failed: commit %s", dir, hex);
		add_git_error(err, "");
		goto out;
	}
	p_git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	co.checkout_strategy = GIT_CHECKOUT_FORCE;
	if (p_git_reset(repo, target, GIT_RESET_HARD, &co) < 0) {
		char *what = xasprintf("git reset --hard %s in '%s' failed", hex, dir);
		add_git_error(err, what);
		free(what);
		goto out;
	}
	ret = 0;
out:
	p_git_object_free(target);
	return ret;
}

/* Point "origin" at nurl (creating it if needed); *remote is looked up afresh. */
static int origin_for(git_repository *repo, const char *nurl, git_remote **remote,
		      struct sbuf *err)
{
	int ret = -1;

	*remote = NULL;
	if (p_git_remote_lookup(remote, repo, "origin") < 0) {
		if (p_git_remote_create(remote, repo, "origin", nurl) < 0) {
			add_git_error(err, "cannot create remote 'origin'");
			goto out;
		}
	} else if (!p_git_remote_url(*remote) || strcmp(p_git_remote_url(*remote), nurl)) {
		p_git_remote_free(*remote);
		*remote = NULL;
		if (p_git_remote_set_url(repo, "origin", nurl) < 0 ||
		    p_git_remote_lookup(remote, repo, "origin") < 0) {
			add_git_error(err, "cannot set the URL of remote 'origin'");
			goto out;
		}
	}
	ret = 0;
out:
	return ret;
}

static int sync_existing(git_repository *repo, const char *url, const char *nurl,
			 const char *dir, int depth, struct sbuf *err)
{
	git_fetch_options fo;
	git_remote *remote = NULL;
	git_oid oid;
	int ret = -1;

	if (origin_for(repo, nurl, &remote, err) < 0)
		goto out;
	if (p_git_repository_is_shallow(repo) == 1) {
		if (cli_fetch_shallow(url, dir, depth, err) < 0)
			goto out;
		if (fetch_head_oid(repo, &oid) < 0) {
			add_git_error(err, "cannot read FETCH_HEAD");
			goto out;
		}
	} else {
		/* A full repository stays full whatever depth asks: deepening is free here. */
		p_git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
		fo.prune = GIT_FETCH_PRUNE;
		if (p_git_remote_fetch(remote, NULL, &fo, NULL) < 0) {
			char *what = xasprintf("git fetch '%s' into '%s' failed", url, dir);
			add_git_error(err, what);
			free(what);
			goto out;
		}
		/* A detached remote HEAD off every branch is not fetched: use FETCH_HEAD then. */
		if ((remote_head_oid(remote, &oid) < 0 || !have_commit(repo, &oid)) &&
		    fetch_head_oid(repo, &oid) < 0) {
			sbuf_addf(err, "git fetch '%s' into '%s': the remote has no HEAD", url,
				  dir);
			goto out;
		}
	}
	if (reset_hard(repo, &oid, dir, err) < 0 || clean_worktree(repo, dir, err) < 0)
		goto out;
	ret = 0;
out:
	p_git_remote_free(remote);
	return ret;
}

static int head_hex(git_repository *repo, char **out)
{
	git_oid oid;

	if (p_git_reference_name_to_id(&oid, repo, "HEAD") < 0)
		return -1;
	return hex_of(&oid, out);
}

int gitrepo_sync(const char *url, const char *dir, int depth, char **commit, struct sbuf *err)
{
	git_repository *repo = NULL;
	char *nurl = NULL, *parent = NULL, *slash;
	int ret = -1, r;

	*commit = NULL;
	if (git_setup(err) < 0)
		return -1;
	if (!url || !*url) {
		sbuf_addf(err, "no repository URL for '%s'", dir);
		goto out;
	}
	nurl = url_normalize(url);
	if (url_is_local_path(nurl) && !is_dir(nurl)) {
		/* libgit2 would say "unsupported URL protocol" */
		if (path_exists(dir) && !dir_is_empty(dir))
			sbuf_addf(err, "git fetch '%s' into '%s' failed: no such directory", url,
				  dir);
		else
			sbuf_addf(err, "git clone '%s' failed: no such directory", url);
		goto out;
	}
	if (!path_exists(dir) || (is_dir(dir) && dir_is_empty(dir))) {
		parent = xstrdup(dir);
		slash = strrchr(parent, '/');
		if (slash && slash != parent) {
			*slash = '\0';
			r = mkdir_p(parent, 0755);
			if (r < 0) {
				sbuf_addf(err, "cannot create '%s': %s", parent, strerror(-r));
				goto out;
			}
		}
		if (depth > 0) {
			if (cli_clone_shallow(url, nurl, dir, depth, err) < 0)
				goto out;
		} else {
			git_clone_options co;

			p_git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
			if (p_git_clone(&repo, nurl, dir, &co) < 0) {
				char *what = xasprintf("git clone '%s' failed", url);
				add_git_error(err, what);
				if (url_is_local_path(nurl))
					add_owner_hint(err, nurl);
				free(what);
				goto out;
			}
		}
	} else {
		if (p_git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
			char *what = xasprintf("'%s' exists and is not a usable git repository",
					       dir);
			add_git_error(err, what);
			add_owner_hint(err, dir);
			free(what);
			goto out;
		}
		if (sync_existing(repo, url, nurl, dir, depth, err) < 0)
			goto out;
	}
	if (!repo && p_git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		char *what = xasprintf("cannot open '%s' after cloning", dir);
		add_git_error(err, what);
		free(what);
		goto out;
	}
	if (head_hex(repo, commit) < 0) {
		char *what = xasprintf("cannot resolve HEAD in '%s'", dir);
		add_git_error(err, what);
		free(what);
		goto out;
	}
	ret = 0;
out:
	p_git_repository_free(repo);
	free(parent);
	free(nurl);
	return ret;
}

static bool is_hex40(const char *s)
{
	size_t i;

	for (i = 0; i < GIT_OID_HEXSZ; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0' || s[i] == '\n' || s[i] == ' ';
}

/* The git dir of the repository containing dir (".git" dir, or a "gitdir:" file). */
static char *find_git_dir(const char *dir)
{
	char *cur = abs_path(dir), *slash;

	for (;;) {
		char *dotgit = path_join(cur, ".git"), *text = NULL;

		if (is_dir(dotgit)) {
			free(cur);
			return dotgit;
		}
		if (read_file(dotgit, &text, NULL) == 0 && starts_with(text, "gitdir: ")) {
			char *g = trim(text + 8), *res = path_join(cur, g);
			free(text);
			free(dotgit);
			free(cur);
			return res;
		}
		free(text);
		free(dotgit);
		slash = strrchr(cur, '/');
		if (!slash || slash == cur) {
			free(cur);
			return NULL;
		}
		*slash = '\0';
	}
}

static char *ref_hex(const char *gitdir, const char *ref)
{
	char *p, *text = NULL, *hex = NULL, *line, *save = NULL;

	if (unsafe_rel_path(ref))
		return NULL;
	p = path_join(gitdir, ref);
	if (read_file(p, &text, NULL) == 0 && is_hex40(text))
		hex = xstrndup(text, GIT_OID_HEXSZ);
	free(p);
	free(text);
	if (hex)
		return hex;
	/* packed-refs: "<hex> <ref>" lines */
	p = path_join(gitdir, "packed-refs");
	text = NULL;
	if (read_file(p, &text, NULL) == 0) {
		for (line = strtok_r(text, "\n", &save); line && !hex;
		     line = strtok_r(NULL, "\n", &save))
			if (is_hex40(line) && line[GIT_OID_HEXSZ] == ' ' &&
			    !strcmp(line + GIT_OID_HEXSZ + 1, ref))
				hex = xstrndup(line, GIT_OID_HEXSZ);
	}
	free(p);
	free(text);
	return hex;
}

/*
 * Read-only HEAD without libgit2, for repositories libgit2 refuses to open because another
 * user owns them (`sudo ftscope run --package-dir .` on the user's checkout). Reading two
 * files runs nothing from the repository's config, which is what safe.directory guards.
 * Worktree git dirs keep refs in the common dir: try both.
 */
static char *head_by_hand(const char *dir)
{
	char *gitdir = find_git_dir(dir), *p, *text = NULL, *hex = NULL, *common = NULL;

	if (!gitdir)
		return NULL;
	p = path_join(gitdir, "HEAD");
	if (read_file(p, &text, NULL) == 0) {
		if (is_hex40(text)) {
			hex = xstrndup(text, GIT_OID_HEXSZ);
		} else if (starts_with(text, "ref: ")) {
			char *ref = trim(text + 5), *ctext = NULL;
			char *cp = path_join(gitdir, "commondir");

			hex = ref_hex(gitdir, ref);
			if (!hex && read_file(cp, &ctext, NULL) == 0) {
				common = path_join(gitdir, trim(ctext));
				hex = ref_hex(common, ref);
			}
			free(ctext);
			free(cp);
		}
	}
	free(common);
	free(text);
	free(p);
	free(gitdir);
	return hex;
}

char *gitrepo_head(const char *dir)
{
	git_repository *repo = NULL;
	char *hex = NULL;

	if (git_setup(NULL) < 0 || p_git_repository_open_ext(&repo, dir, 0, NULL) < 0)
		return head_by_hand(dir);
	if (head_hex(repo, &hex) < 0)
		hex = NULL;
	p_git_repository_free(repo);
	return hex;
}

/*
 * The first of tags that the remote has, fetched into root's clone (shallow or not) and
 * checked out (hard reset: the next gitrepo_sync brings the clone back to the tip).
 */
int gitrepo_checkout_tag(const char *dir, const char *const *tags, char **matched,
			 char **commit, struct sbuf *err)
{
	char *shallow = path_join(dir, ".git/shallow");
	bool is_shallow = path_exists(shallow);
	int ret = 1;

	*matched = NULL;
	*commit = NULL;
	free(shallow);
	for (size_t i = 0; tags[i] && ret == 1; i++) {
		char *spec = xasprintf("+refs/tags/%s:refs/tags/%s", tags[i], tags[i]);
		char *rev = xasprintf("refs/tags/%s^{commit}", tags[i]);
		const char *fetch[] = { "git", "-c", "protocol.ext.allow=never", "-C", dir, "fetch",
					"--quiet", "--no-tags", "origin", spec,
					is_shallow ? "--depth=1" : NULL, NULL };
		const char *reset[] = { "git", "-C", dir, "reset", "--quiet", "--hard", rev, NULL };
		struct sbuf out = SBUF_INIT;

		if (run_git(fetch, &out) == 0) {
			char *what = xasprintf("git reset --hard %s in '%s'", tags[i], dir);
			if (run_git_checked(reset, what, err) < 0) {
				ret = -1;
			} else {
				*matched = xstrdup(tags[i]);
				*commit = gitrepo_head(dir);
				ret = 0;
			}
			free(what);
		}
		sbuf_release(&out);
		free(spec);
		free(rev);
	}
	return ret;
}
