/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The privilege boundary's building blocks (docs/security.md): bounded reads of a file
 * someone else controls, removal and atomic writes that follow no symlink, the trust check
 * of root's clones and directories, and the repair of a cut-short results line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftscope/rundir.h"
#include "ftscope/sandbox.h"
#include "ftscope/util.h"
#include "tap.h"

static char *dir;

static char *at(const char *name)
{
	return path_join(dir, name);
}

static void put(const char *name, const char *text)
{
	char *p = at(name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		perror(p);
	close(fd);
	free(p);
}

static char *get(const char *name)
{
	char *p = at(name), *text = NULL;
	if (read_file(p, &text, NULL) < 0)
		text = NULL;
	free(p);
	return text;
}

static void test_read_file_at(void)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	char *text = NULL, *p = at("plain");
	size_t len = 0;
	put("plain", "hello");
	is_int(read_file_at(dfd, "plain", 5, FILE_ANY_OWNER, &text, &len), 0, "a regular file");
	is_str(text, "hello", "its content");
	free(text);
	text = NULL;
	is_int(read_file_at(dfd, "plain", 4, FILE_ANY_OWNER, &text, &len), -EFBIG, "over the cap");
	is_int(read_file_at(dfd, "plain", 5, geteuid(), &text, &len), 0,
	       "owned by the owner asked");
	free(text);
	text = NULL;
	is_int(read_file_at(dfd, "plain", 5, geteuid() + 1, &text, &len), -EPERM,
	       "someone else's file is refused");
	chmod(p, 0666);
	is_int(read_file_at(dfd, "plain", 5, geteuid(), &text, &len), -EPERM,
	       "a file others may write is refused");
	chmod(p, 0644);
	ok(symlinkat("plain", dfd, "link") == 0, "a symlink");
	is_int(read_file_at(dfd, "link", 5, FILE_ANY_OWNER, &text, &len), -ELOOP,
	       "is not followed");
	ok(mkfifoat(dfd, "fifo", 0644) == 0, "a FIFO without a writer");
	is_int(read_file_at(dfd, "fifo", 5, FILE_ANY_OWNER, &text, &len), -EINVAL,
	       "is refused, and opening it does not block");
	is_int(read_file_at(dfd, "missing", 5, FILE_ANY_OWNER, &text, &len), -ENOENT, "-ENOENT");
	ok(open_dir_at(dfd, "link", FILE_ANY_OWNER) == -ENOTDIR, "open_dir_at follows no symlink");
	unlinkat(dfd, "link", 0);
	unlinkat(dfd, "fifo", 0);
	unlinkat(dfd, "plain", 0);
	close(dfd);
	free(p);
}

static void test_write_atomic(void)
{
	char *target = at("target"), *victim = at("victim"), *planted;
	put("victim", "keep me");
	/* The old temporary name: <path>.tmp.<pid>. */
	planted = xasprintf("%s.tmp.%d", target, (int)getpid());
	ok(symlink(victim, planted) == 0, "a symlink planted at the old temporary name");
	is_int(write_file_atomic(target, "new", 3), 0, "write_file_atomic");
	{
		char *t = get("target"), *v = get("victim");
		is_str(t, "new", "the file is written");
		is_str(v, "keep me", "the planted symlink's target is untouched");
		free(t);
		free(v);
	}
	ok(unlink(planted) == 0, "(the planted link is still there, never used)");
	{
		char *tmp = NULL;
		int fd = open_temp_beside(target, 0600, &tmp);
		ok(fd >= 0 && strlen(tmp) == strlen(target) + 5 + 16,
		   "a temporary name with 16 random hex digits");
		close(fd);
		unlink(tmp);
		free(tmp);
	}
	unlink(target);
	unlink(victim);
	free(planted);
	free(target);
	free(victim);
}

static void test_rm_rf(void)
{
	char *outside = at("outside"), *tree = at("tree"), *p;
	mkdir(outside, 0755);
	put("outside/precious", "x");
	mkdir(tree, 0755);
	p = path_join(tree, "link-to-outside");
	ok(symlink(outside, p) == 0, "a tree with a symlink to a directory outside it");
	free(p);
	p = path_join(tree, "sub");
	mkdir(p, 0000); /* root enters anyway; others could not */
	free(p);
	put("tree/file", "y");
	is_int(rm_rf(tree), 0, "rm_rf removes the tree");
	ok(access(tree, F_OK) < 0, "it is gone");
	{
		char *v = get("outside/precious");
		is_str(v, "x", "and what the symlink pointed to is untouched");
		free(v);
	}
	is_int(rm_rf(tree), 0, "a tree that is gone is fine");
	p = at("outside/precious");
	unlink(p);
	free(p);
	rmdir(outside);
	free(outside);
	free(tree);
}

static void test_trust(void)
{
	char *tree = at("roots"), *f = at("roots/f"), *sub = at("roots/sub");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY), fd;
	bool replaced;
	mkdir(tree, 0700);
	mkdir(sub, 0755);
	put("roots/f", "x");
	put("roots/sub/g", "y");
	ok(tree_is_roots(tree), "a tree of ours, writable by us alone, is trusted");
	chmod(f, 0646);
	ok(!tree_is_roots(tree), "one file others may write: not trusted");
	chmod(f, 0644);
	if (geteuid() == 0) {
		char *g = at("roots/sub/g");
		lchown(g, 65534, 65534);
		ok(!tree_is_roots(tree), "one file of someone else's: not trusted");
		free(g);
	}
	rm_rf(tree);
	ok(symlinkat("/tmp", dfd, "roots") == 0, "a symlink where a directory should be");
	ok(!tree_is_roots(tree), "is not trusted");
	fd = ensure_own_dir_at(dfd, "roots", 0755, &replaced);
	ok(fd >= 0 && replaced, "ensure_own_dir_at replaces it");
	close(fd);
	fd = ensure_own_dir_at(dfd, "roots", 0711, &replaced);
	ok(fd >= 0 && !replaced, "and keeps a directory of ours");
	{
		struct stat st;
		ok(fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0711, "with the mode asked");
	}
	close(fd);
	close(dfd);
	rm_rf(tree);
	free(tree);
	free(f);
	free(sub);
}

static void test_repair(void)
{
	char *moved = NULL, *r = at("ft_results.jsonl");
	put("ft_results.jsonl", "{\"package\": \"a\"}\n{\"package\": \"b\", \"cat");
	is_int(run_repair_results(dir, &moved), 1, "a cut-short last line is moved aside");
	{
		char *t = get("ft_results.jsonl"), *frag = moved ? NULL : NULL;
		is_str(t, "{\"package\": \"a\"}\n", "the results end with the last whole line");
		if (moved)
			read_file(moved, &frag, NULL);
		is_str(frag, "{\"package\": \"b\", \"cat", "the fragment is in the file named");
		ok(moved && ends_with(moved, "ft_results.jsonl.fragment-1"), "fragment-1");
		free(t);
		free(frag);
	}
	if (moved)
		unlink(moved);
	free(moved);
	moved = NULL;
	put("ft_results.jsonl", "{\"package\": \"a\"}\n{\"package\": \"b\"}");
	is_int(run_repair_results(dir, &moved), 0, "a whole last object without its newline");
	{
		char *t = get("ft_results.jsonl");
		is_str(t, "{\"package\": \"a\"}\n{\"package\": \"b\"}\n", "gets its newline back");
		free(t);
	}
	is_int(run_repair_results(dir, &moved), 0, "a sound file is left alone");
	unlink(r);
	is_int(run_repair_results(dir, &moved), 0, "no file: nothing to do");
	free(r);
}

int main(void)
{
	char tmpl[] = "/tmp/ftscope-test-sandbox.XXXXXX";
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		return 99;
	}
	dir = tmpl;
	test_read_file_at();
	test_write_atomic();
	test_rm_rf();
	test_trust();
	test_repair();
	rm_rf(dir);
	return tap_done();
}
