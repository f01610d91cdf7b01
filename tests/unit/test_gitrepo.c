/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * gitrepo_sync / gitrepo_head (src/run/gitrepo.c) against real repositories made with the git
 * CLI in a temp dir: clone by path, file:// and relative path; fetch + hard reset + clean
 * (untracked, ignored, empty dirs, nested repos, symlinks); a changed default branch; a
 * changed URL; shallow clones and fetches (git CLI); failures with one-line messages.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftscope/gitrepo.h"
#include "ftscope/util.h"
#include "tap.h"

static char tmp_root[] = "/tmp/ftscope-test-gitrepo.XXXXXX";

#define GIT "git -c user.name=x -c user.email=y -c init.defaultBranch=main " \
	    "-c advice.detachedHead=false "

/* Run a shell command built from fmt; exit 99 (framework error) if it fails. */
static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int st;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		exit(99);
	va_end(ap);
	st = system(cmd);
	if (st != 0) {
		printf("# command failed (%d): %s\n", st, cmd);
		printf("Bail out! test setup failed\n");
		exit(99);
	}
	free(cmd);
}

/* First line of a command's stdout, malloc'd ("" on failure). */
static char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sh_out(const char *fmt, ...)
{
	struct sbuf sb = SBUF_INIT;
	char buf[4096], *cmd, *nl;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		exit(99);
	va_end(ap);
	f = popen(cmd, "r");
	free(cmd);
	if (!f)
		return xstrdup("");
	while (fgets(buf, sizeof(buf), f))
		sbuf_adds(&sb, buf);
	pclose(f);
	if (sb.buf && (nl = strchr(sb.buf, '\n')))
		*nl = '\0';
	return sbuf_detach(&sb);
}

static char *tpath(const char *rel)
{
	return path_join(tmp_root, rel);
}

static void write_text(const char *dir, const char *rel, const char *text)
{
	char *p = path_join(dir, rel), *slash = strrchr(p, '/');

	*slash = '\0';
	mkdir_p(p, 0755);
	*slash = '/';
	if (write_file_atomic(p, text, strlen(text)) < 0) {
		perror(p);
		exit(99);
	}
	free(p);
}

static bool exists_in(const char *dir, const char *rel)
{
	char *p = path_join(dir, rel);
	struct stat st;
	bool r = lstat(p, &st) == 0;

	free(p);
	return r;
}

static char *file_text(const char *dir, const char *rel)
{
	char *p = path_join(dir, rel), *t = NULL;

	if (read_file(p, &t, NULL) < 0)
		t = xstrdup("(unreadable)");
	free(p);
	return t;
}

static void commit_file(const char *up, const char *rel, const char *text, const char *msg)
{
	write_text(up, rel, text);
	sh(GIT "-C '%s' add -A && " GIT "-C '%s' commit -q -m '%s'", up, up, msg);
}

static char *head_of(const char *repo)
{
	return sh_out("git -C '%s' rev-parse HEAD", repo);
}

/* One sync, checked: returns the commit (malloc'd) or NULL. */
static char *sync_ok(const char *url, const char *dir, int depth, const char *name)
{
	struct sbuf err = SBUF_INIT;
	char *commit = NULL;
	int r = gitrepo_sync(url, dir, depth, &commit, &err);

	if (!ok(r == 0 && commit && strlen(commit) == 40, "%s: gitrepo_sync succeeds", name))
		printf("#   r=%d err=%s\n", r, err.buf ? err.buf : "");
	sbuf_release(&err);
	if (r != 0) {
		free(commit);
		return NULL;
	}
	return commit;
}

static void check_clean_status(const char *dir, const char *name)
{
	char *st = sh_out("git -C '%s' status --porcelain --ignored | head -1", dir);

	is_str(st, "", "%s: git status --ignored is empty", name);
	free(st);
}

static char *up;

static void setup_upstream(void)
{
	up = tpath("up");
	sh(GIT "init -q '%s'", up);
	write_text(up, ".gitignore", "*.o\nbuild/\n");
	commit_file(up, "a.txt", "one\n", "first");
	commit_file(up, "src/mod.py", "x = 1\n", "second");
}

static void test_clone_kinds(void)
{
	char *want = head_of(up), *c1 = tpath("c1"), *c2 = tpath("c2"), *c3 = tpath("c3");
	char *file_url = xasprintf("file://%s", up), *commit, *h, *origin;

	/* plain path */
	commit = sync_ok(up, c1, 0, "clone by path");
	is_str(commit, want, "clone by path: commit is upstream HEAD");
	h = head_of(c1);
	is_str(h, want, "clone by path: git rev-parse HEAD agrees");
	free(h);
	ok(exists_in(c1, "src/mod.py"), "clone by path: files checked out");
	h = gitrepo_head(c1);
	is_str(h, want, "gitrepo_head of the clone");
	free(h);
	free(commit);

	/* file:// URL, into an existing empty directory */
	mkdir_p(c2, 0755);
	commit = sync_ok(file_url, c2, 0, "clone by file:// into an empty dir");
	is_str(commit, want, "clone by file://: commit");
	free(commit);

	/* relative path: origin must be stored absolute */
	if (chdir(tmp_root) == 0) {
		commit = sync_ok("up", "c3", 0, "clone by relative path");
		is_str(commit, want, "clone by relative path: commit");
		free(commit);
		if (chdir("/") != 0)
			exit(99);
	}
	origin = sh_out("git -C '%s' remote get-url origin", c3);
	is_str(origin, up, "relative path URL stored as an absolute origin");
	free(origin);

	/* nested target directory is created */
	{
		char *deep = tpath("deep/er/c");
		commit = sync_ok(up, deep, 0, "clone into missing parent dirs");
		is_str(commit, want, "clone into missing parent dirs: commit");
		free(commit);
		free(deep);
	}

	/* gitrepo_head searches upward; NULL outside a repository */
	{
		char *sub = path_join(c1, "src");
		h = gitrepo_head(sub);
		is_str(h, want, "gitrepo_head from a subdirectory");
		free(h);
		free(sub);
		h = gitrepo_head("/");
		is_str(h, NULL, "gitrepo_head outside a repository is NULL");
		free(h);
	}
	free(file_url);
	free(c1);
	free(c2);
	free(c3);
	free(want);
}

static void test_resync(void)
{
	char *c1 = tpath("c1"), *outside = tpath("outside"), *commit, *want, *t;

	/* unchanged upstream: same commit */
	want = head_of(up);
	commit = sync_ok(up, c1, 0, "resync unchanged");
	is_str(commit, want, "resync unchanged: same commit");
	free(commit);
	free(want);

	/* upstream moves on; the clone gets dirty in every way git clean -fdx handles */
	commit_file(up, "a.txt", "two\n", "third");
	commit_file(up, "b.txt", "new\n", "fourth");
	want = head_of(up);
	write_text(c1, "a.txt", "local edit\n");
	write_text(c1, "src/mod.py", "x = 2\n");
	write_text(c1, "untracked.txt", "u\n");
	write_text(c1, "newdir/x/y.txt", "u\n");
	write_text(c1, "foo.o", "ignored\n");
	write_text(c1, "src/bar.o", "ignored in a tracked dir\n");
	write_text(c1, "build/lib/z.so", "ignored dir\n");
	sh("mkdir -p '%s/emptydir/sub' '%s/src/emptysub'", c1, c1);
	sh(GIT "init -q '%s/nested' && touch '%s/nested/f'", c1, c1);
	write_text(outside, "keep.txt", "must survive\n");
	sh("ln -s '%s' '%s/link-to-outside'", outside, c1);
	sh("git -C '%s' add untracked.txt", c1); /* staged, not committed */

	commit = sync_ok(up, c1, 0, "resync after upstream commits");
	is_str(commit, want, "resync: commit is the new upstream HEAD");
	t = head_of(c1);
	is_str(t, want, "resync: git rev-parse HEAD agrees");
	free(t);
	t = file_text(c1, "a.txt");
	is_str(t, "two\n", "resync: local edit replaced by upstream content");
	free(t);
	t = file_text(c1, "src/mod.py");
	is_str(t, "x = 1\n", "resync: modified tracked file reset");
	free(t);
	ok(exists_in(c1, "b.txt"), "resync: new upstream file present");
	ok(!exists_in(c1, "untracked.txt"), "resync: untracked (staged) file removed");
	ok(!exists_in(c1, "newdir"), "resync: untracked directory removed");
	ok(!exists_in(c1, "foo.o"), "resync: ignored file removed");
	ok(!exists_in(c1, "src/bar.o"), "resync: ignored file in a tracked dir removed");
	ok(!exists_in(c1, "build"), "resync: ignored directory removed");
	ok(!exists_in(c1, "emptydir"), "resync: empty untracked directories removed");
	ok(!exists_in(c1, "src/emptysub"), "resync: empty dir inside a tracked dir removed");
	ok(exists_in(c1, "src"), "resync: tracked directory kept");
	ok(!exists_in(c1, "nested"), "resync: untracked nested repository removed");
	ok(!exists_in(c1, "link-to-outside"), "resync: untracked symlink removed");
	ok(exists_in(outside, "keep.txt"), "resync: symlink target not followed");
	ok(exists_in(c1, ".git/HEAD"), "resync: .git kept");
	check_clean_status(c1, "resync");
	free(commit);
	free(want);

	/* upstream changes its default branch: follow the remote HEAD */
	sh(GIT "-C '%s' checkout -q -b dev", up);
	commit_file(up, "dev.txt", "dev\n", "on dev");
	want = head_of(up);
	commit = sync_ok(up, c1, 0, "resync after a default-branch change");
	is_str(commit, want, "resync follows the remote HEAD to another branch");
	ok(exists_in(c1, "dev.txt"), "default-branch change: dev file present");
	free(commit);
	free(want);
	sh(GIT "-C '%s' checkout -q main", up);
	want = head_of(up);
	commit = sync_ok(up, c1, 0, "resync back to main");
	is_str(commit, want, "resync back to main: commit");
	ok(!exists_in(c1, "dev.txt"), "back to main: dev-only file gone");
	free(commit);
	free(want);
	free(outside);
	free(c1);
}

static void test_url_change(void)
{
	char *c2 = tpath("c2"), *other = tpath("other"), *commit, *want, *origin;

	/* a different upstream with its own history: origin is repointed */
	sh(GIT "init -q '%s'", other);
	commit_file(other, "other.txt", "o\n", "other root");
	want = head_of(other);
	commit = sync_ok(other, c2, 0, "sync with a changed URL");
	is_str(commit, want, "changed URL: commit of the new upstream");
	origin = sh_out("git -C '%s' remote get-url origin", c2);
	is_str(origin, other, "changed URL: origin updated");
	ok(exists_in(c2, "other.txt") && !exists_in(c2, "a.txt"),
	   "changed URL: work tree is the new upstream's");
	free(origin);
	free(commit);
	free(want);

	/* a repository without an origin remote gets one */
	sh("git -C '%s' remote remove origin", c2);
	want = head_of(up);
	commit = sync_ok(up, c2, 0, "sync a repository without origin");
	is_str(commit, want, "no origin: created and synced");
	free(commit);
	free(want);
	free(other);
	free(c2);
}

static void test_shallow(void)
{
	char *file_url = xasprintf("file://%s", up), *c4 = tpath("c4"), *c5 = tpath("c5");
	char *commit, *want, *n, *full;

	want = head_of(up);
	full = sh_out("git -C '%s' rev-list --count HEAD", up);
	commit = sync_ok(file_url, c4, 1, "shallow clone via file://");
	is_str(commit, want, "shallow clone: commit");
	n = sh_out("git -C '%s' rev-list --count HEAD", c4);
	is_str(n, "1", "shallow clone depth 1: one commit");
	free(n);
	ok(exists_in(c4, ".git/shallow"), "shallow clone: .git/shallow exists");
	free(commit);

	commit = sync_ok(up, c5, 2, "shallow clone of a plain path (made file://)");
	n = sh_out("git -C '%s' rev-list --count HEAD", c5);
	is_str(n, "2", "plain path depth 2: two commits");
	free(n);
	free(commit);

	/* fetch into the shallow clone (git CLI): new commit, still shallow, cleaned */
	commit_file(up, "c.txt", "c\n", "fifth");
	free(want);
	want = head_of(up);
	write_text(c4, "junk.o", "x\n");
	write_text(c4, "junkdir/f", "x\n");
	write_text(c4, "a.txt", "dirty\n");
	commit = sync_ok(file_url, c4, 1, "resync a shallow clone");
	is_str(commit, want, "shallow resync: new commit");
	n = sh_out("git -C '%s' rev-list --count HEAD", c4);
	is_str(n, "1", "shallow resync: still depth 1");
	free(n);
	ok(!exists_in(c4, "junk.o") && !exists_in(c4, "junkdir"), "shallow resync: cleaned");
	check_clean_status(c4, "shallow resync");
	free(commit);

	/* depth 0 on a shallow clone: unshallow */
	commit = sync_ok(file_url, c4, 0, "unshallow");
	is_str(commit, want, "unshallow: commit");
	free(full);
	full = sh_out("git -C '%s' rev-list --count HEAD", up);
	n = sh_out("git -C '%s' rev-list --count HEAD", c4);
	is_str(n, full, "unshallow: full history");
	ok(!exists_in(c4, ".git/shallow"), "unshallow: no .git/shallow");
	free(n);
	free(commit);

	free(full);
	free(want);
	free(file_url);
	free(c4);
	free(c5);
}

static void test_failures(void)
{
	static const struct {
		const char *url;
		const char *dir; /* relative to tmp_root */
		int depth;
		const char *want; /* in err */
	} cases[] = {
		{ "/nonexistent/repo", "f1", 0, "git clone '/nonexistent/repo' failed: " },
		{ "file:///nonexistent/repo", "f2", 0,
		  "git clone 'file:///nonexistent/repo' failed: " },
		{ "/nonexistent/repo", "f3", 1, "git clone '/nonexistent/repo' failed: no such "
						"directory" },
		{ "file:///nonexistent/repo", "f5", 1, "git clone --depth 1 "
						       "'file:///nonexistent/repo' failed (exit "
						       "128): fatal: " },
		{ "https://127.0.0.1:9/none.git", "f6", 0,
		  "git clone 'https://127.0.0.1:9/none.git' failed: " },
		{ "https://127.0.0.1:9/none.git", "f7", 1,
		  "git clone --depth 1 'https://127.0.0.1:9/none.git' failed (exit 128): fatal: " },
		{ "", "f4", 0, "no repository URL for " },
		{ "file:///nonexistent/repo", "notrepo", 0,
		  "notrepo' exists and is not a usable git repository: " },
		{ "/nonexistent/repo", "c1", 0, "git fetch '/nonexistent/repo' into " },
		{ "file:///nonexistent/repo", "c1", 0,
		  "git fetch 'file:///nonexistent/repo' into " },
		/* c5 is still shallow: the git CLI fetches */
		{ "file:///nonexistent/repo", "c5", 1,
		  "git fetch 'file:///nonexistent/repo' into " },
	};
	char *notrepo = tpath("notrepo");

	write_text(notrepo, "file.txt", "not a repository\n");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct sbuf err = SBUF_INIT;
		char *dir = tpath(cases[i].dir), *commit = (char *)1;
		int r = gitrepo_sync(cases[i].url, dir, cases[i].depth, &commit, &err);

		is_int(r, -1, "failure %zu: returns -1", i);
		is_str(commit, NULL, "failure %zu: no commit", i);
		if (!ok(err.buf && strstr(err.buf, cases[i].want) && !strchr(err.buf, '\n'),
			"failure %zu: one-line message with '%s'", i, cases[i].want))
			printf("#   err=%s\n", err.buf ? err.buf : "(empty)");
		else
			printf("#   %s\n", err.buf);
		if (cases[i].depth == 0 && !strcmp(cases[i].dir, "f1"))
			ok(!exists_in(tmp_root, "f1"), "failed clone leaves no directory");
		sbuf_release(&err);
		free(dir);
	}
	{
		char *c1 = tpath("c1"), *want = head_of(up), *commit;
		/* after a failed fetch, origin points at the bad URL; a good sync repairs it */
		commit = sync_ok(up, c1, 0, "sync after a failed fetch");
		is_str(commit, want, "recovered after a failed fetch");
		free(commit);
		free(want);
		free(c1);
	}
	free(notrepo);
}

/*
 * Repositories owned by another user: libgit2 1.5 refuses them (safe.directory). Sync must
 * fail with a message saying so; gitrepo_head still reads HEAD (read-only, by hand), with
 * loose and packed refs, and from a linked worktree. Needs root (chown).
 */
static void test_foreign_owner(void)
{
	char *own = tpath("foreign"), *wt = tpath("foreign-wt"), *clone = tpath("fclone");
	char *want, *h, *commit = NULL;
	struct sbuf err = SBUF_INIT;
	int r;

	if (geteuid() != 0) {
		ok(1, "# SKIP foreign-owner tests need root");
		free(own);
		free(wt);
		free(clone);
		return;
	}
	sh(GIT "init -q '%s'", own);
	commit_file(own, "f.txt", "f\n", "foreign");
	want = head_of(own);
	sh(GIT "-C '%s' worktree add -q '%s' 2>/dev/null", own, wt);
	sh("chown -R 65534:65534 '%s' '%s'", own, wt);

	h = gitrepo_head(own);
	is_str(h, want, "gitrepo_head of a foreign-owned repo (loose ref)");
	free(h);
	{
		char *sub = path_join(own, "sub");
		mkdir_p(sub, 0755);
		h = gitrepo_head(sub);
		is_str(h, want, "gitrepo_head from a subdirectory of a foreign-owned repo");
		free(h);
		free(sub);
	}
	h = gitrepo_head(wt);
	is_str(h, want, "gitrepo_head of a foreign-owned linked worktree");
	free(h);
	sh("git -c safe.directory='*' -C '%s' pack-refs --all", own);
	h = gitrepo_head(own);
	is_str(h, want, "gitrepo_head of a foreign-owned repo (packed ref)");
	free(h);

	r = gitrepo_sync(own, own, 0, &commit, &err);
	is_int(r, -1, "sync of a foreign-owned repo is refused");
	ok(err.buf && strstr(err.buf, "owned by uid 65534"), "refusal names the owner: %s",
	   err.buf ? err.buf : "");
	sbuf_reset(&err);
	r = gitrepo_sync(own, clone, 0, &commit, &err);
	is_int(r, -1, "clone from a foreign-owned local repo is refused");
	ok(err.buf && strstr(err.buf, "owned by uid 65534"), "clone refusal names the owner: %s",
	   err.buf ? err.buf : "");
	sbuf_release(&err);
	free(want);
	free(own);
	free(wt);
	free(clone);
}

int main(void)
{
	char *v;

	if (!mkdtemp(tmp_root)) {
		perror("mkdtemp");
		return 99;
	}
	v = sh_out("git --version 2>/dev/null");
	if (!starts_with(v, "git version")) {
		printf("1..0 # SKIP git CLI not available\n");
		free(v);
		return 0;
	}
	free(v);
	setup_upstream();
	test_clone_kinds();
	test_resync();
	test_url_change();
	test_shallow();
	test_failures();
	test_foreign_owner();
	free(up);
	rm_rf(tmp_root);
	return tap_done();
}
