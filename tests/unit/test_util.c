/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * util.c: shell quoting checked by a real /bin/sh, the files root reads from places others
 * control (symlinks, FIFOs, other owners, growth past the cap), atomic writes, rm_rf beside
 * a symlink out of the tree, and the small parsers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ftscope/text.h"
#include "ftscope/util.h"
#include "tap.h"

static char tmpdir[] = "/tmp/ftscope-test-util-XXXXXX";

static char *in_tmp(const char *name)
{
	return path_join(tmpdir, name);
}

static void put(const char *name, const char *text, mode_t mode)
{
	char *p = in_tmp(name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror("write");
		fchmod(fd, mode);
		close(fd);
	}
	free(p);
}

/* What /bin/sh prints for `printf %s <quoted>`. */
static char *sh_echo(const char *quoted)
{
	int pfd[2];
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	char *cmd = xasprintf("printf %%s %s", quoted);
	pid_t pid;
	if (pipe(pfd) < 0)
		return NULL;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	free(cmd);
	buf[len] = '\0';
	return xstrdup(buf);
}

static void test_shquote(void)
{
	static const char *const words[] = {
		"plain", "two words", "it's", "\"double\"", "$HOME `id` $(id)", "back\\slash",
		"new\nline", "*?[a]", "-n", "~root", "semi;colon|pipe&amp", "",
	};
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		struct sbuf q = SBUF_INIT;
		char *got;
		sbuf_add_shquoted(&q, words[i]);
		got = sh_echo(q.buf ? q.buf : "");
		is_str(got, words[i], "/bin/sh reads back quoted word %zu", i);
		free(got);
		sbuf_release(&q);
	}
}

static void test_read_file_at(void)
{
	char *text = NULL, *p;
	size_t len = 0;
	int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY);

	put("plain", "hello\n", 0644);
	is_int(read_file_at(dfd, "plain", 100, geteuid(), &text, &len), 0, "own 0644 file: read");
	is_str(text, "hello\n", "its bytes");
	is_int(len, 6, "its length");
	free(text);
	text = NULL;

	is_int(read_file_at(dfd, "plain", 5, geteuid(), &text, &len), -EFBIG,
	       "longer than max: -EFBIG");
	is_int(read_file_at(dfd, "plain", 6, geteuid(), &text, &len), 0, "exactly max: read");
	free(text);
	text = NULL;

	put("groupw", "x", 0664);
	is_int(read_file_at(dfd, "groupw", 100, geteuid(), &text, &len), -EPERM,
	       "group-writable: -EPERM");
	is_int(read_file_at(dfd, "groupw", 100, FILE_ANY_OWNER, &text, &len), 0,
	       "group-writable, any owner: read");
	free(text);
	text = NULL;
	is_int(read_file_at(dfd, "plain", 100, geteuid() + 1, &text, &len), -EPERM,
	       "another owner expected: -EPERM");

	p = in_tmp("link");
	ok(symlink("plain", p) == 0, "symlink made");
	is_int(read_file_at(dfd, "link", 100, FILE_ANY_OWNER, &text, &len), -ELOOP,
	       "a symlink is not followed: -ELOOP");
	free(p);

	p = in_tmp("fifo");
	ok(mkfifo(p, 0600) == 0, "FIFO made");
	is_int(read_file_at(dfd, "fifo", 100, FILE_ANY_OWNER, &text, &len), -EINVAL,
	       "a FIFO (no writer) does not block and is refused: -EINVAL");
	free(p);

	p = in_tmp("dir");
	mkdir(p, 0755);
	is_int(read_file_at(dfd, "dir", 100, FILE_ANY_OWNER, &text, &len), -EINVAL,
	       "a directory: -EINVAL");
	free(p);
	is_int(read_file_at(dfd, "missing", 100, FILE_ANY_OWNER, &text, &len), -ENOENT,
	       "missing: -ENOENT");

	{
		/* a NUL in test output is kept as a mark */
		char *t;
		int fd;
		p = in_tmp("nul");
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ok(fd >= 0 && write(fd, "a\0b", 3) == 3, "file with a NUL written");
		close(fd);
		t = read_text_at(dfd, "nul", 100, geteuid());
		is_str(t, "a" TEXT_NUL_MARK "b", "read_text_at marks the NUL");
		free(t);
		free(p);
	}

	p = in_tmp("linkdir");
	ok(symlink("dir", p) == 0, "symlink to a directory made");
	is_int(open_dir_at(dfd, "linkdir", FILE_ANY_OWNER), -ENOTDIR,
	       "open_dir_at does not follow a symlink");
	{
		int fd = open_dir_at(dfd, "dir", geteuid());
		ok(fd >= 0, "open_dir_at of an own 0755 directory");
		if (fd >= 0)
			close(fd);
	}
	free(p);
	close(dfd);
}

static void test_write_append_rm(void)
{
	char *p = in_tmp("atomic"), *text = NULL, *q;
	size_t len = 0;
	int n = 0;
	DIR *d;
	is_int(write_file_atomic(p, "one", 3), 0, "write_file_atomic");
	is_int(write_file_atomic(p, "second", 6), 0, "write_file_atomic replaces");
	is_int(read_file(p, &text, &len), 0, "read back");
	is_str(text, "second", "the new content only");
	free(text);
	text = NULL;
	d = opendir(tmpdir);
	for (struct dirent *e; d && (e = readdir(d));)
		n += strstr(e->d_name, ".tmp.") != NULL;
	if (d)
		closedir(d);
	is_int(n, 0, "no temporary file left beside it");
	free(p);

	p = in_tmp("lines");
	is_int(append_line_fsync(p, "{\"a\":1}"), 0, "append a line");
	is_int(append_line_fsync(p, "{\"b\":2}"), 0, "append another");
	read_file(p, &text, NULL);
	is_str(text, "{\"a\":1}\n{\"b\":2}\n", "both lines, newline-terminated");
	free(text);
	text = NULL;
	free(p);

	/* rm_rf removes a tree without following the symlink in it */
	p = in_tmp("tree/a/b/c");
	is_int(mkdir_p(p, 0755), 0, "mkdir_p of a nested path");
	ok(is_dir(p), "it is a directory");
	free(p);
	put("outside", "keep me", 0644);
	p = in_tmp("tree/a/out");
	q = in_tmp("outside");
	ok(symlink(q, p) == 0, "a symlink out of the tree");
	free(p);
	p = in_tmp("tree/a/b/c/file");
	write_file_atomic(p, "x", 1);
	free(p);
	p = in_tmp("tree");
	is_int(rm_rf(p), 0, "rm_rf of the tree");
	ok(!path_exists(p), "the tree is gone");
	ok(read_file(q, &text, NULL) == 0 && !strcmp(text, "keep me"),
	   "the file the symlink pointed to is left alone");
	free(text);
	is_int(rm_rf(p), 0, "rm_rf of what is already gone: 0");
	free(p);
	free(q);
}

static void test_parsers(void)
{
	long l = -7;
	double d = -7;
	struct strv sv = STRV_INIT;
	char buf[32], *s, *t;

	is_int(parse_int("42", 0, 100, &l), 0, "parse_int 42");
	is_int(l, 42, "parse_int value");
	is_int(parse_int("101", 0, 100, &l), -EINVAL, "parse_int above max");
	is_int(parse_int("-1", 0, 100, &l), -EINVAL, "parse_int below min");
	is_int(parse_int("4x", 0, 100, &l), -EINVAL, "parse_int trailing garbage");
	is_int(parse_int("", 0, 100, &l), -EINVAL, "parse_int empty");
	is_int(parse_int("99999999999999999999", 0, 0x7fffffff, &l), -EINVAL, "parse_int overflow");
	is_int(parse_double("2.5", 0, 10, &d), 0, "parse_double 2.5");
	ok(d == 2.5, "parse_double value");
	is_int(parse_double("nan", 0, 10, &d), -EINVAL, "parse_double nan");
	is_int(parse_double("1e9", 0, 10, &d), -EINVAL, "parse_double above max");

	strv_split(&sv, " a, b,,c ,", ",");
	is_int(sv.n, 3, "strv_split drops empty items");
	is_str(sv.n > 2 ? sv.v[2] : NULL, "c", "and trims");
	ok(strv_contains(&sv, "b") && !strv_contains(&sv, " b"), "strv_contains is exact");
	strv_release(&sv);

	ok(starts_with("python3.13t", "python") && !starts_with("py", "python"), "starts_with");
	ok(ends_with("a.tar.gz", ".gz") && !ends_with("gz", ".gz"), "ends_with");
	s = xstrdup(" \t x y \n");
	is_str(trim(s), "x y", "trim");
	free(s);

	/* 'é' is two bytes: the last 4 bytes of "héllo" start inside it */
	t = tail_bytes("h\xc3\xa9llo", 6, 4);
	is_str(t, "llo", "tail_bytes does not start inside a UTF-8 sequence");
	free(t);
	t = tail_bytes("a\0bc", 4, 3);
	is_str(t, TEXT_NUL_MARK "bc", "tail_bytes marks a NUL");
	free(t);

	s = path_join("a", "b");
	is_str(s, "a/b", "path_join");
	free(s);
	s = path_join("a/", "b");
	is_str(s, "a/b", "path_join with a trailing slash");
	free(s);
	s = path_join("a", "/abs");
	is_str(s, "/abs", "path_join of an absolute path");
	free(s);

	iso_utc(0, buf, sizeof(buf));
	is_str(buf, "1970-01-01T00:00:00Z", "iso_utc(0)");
	iso_utc(1764931872, buf, sizeof(buf));
	is_str(buf, "2025-12-05T10:51:12Z", "iso_utc of a known time");

	for (int sig = 1; sig < 32; sig++) {
		const char *n = signal_name(sig);
		if (n)
			is_int(signal_from_name(n), sig, "%s round-trips", n);
	}
	is_str(signal_name(SIGSEGV), "SIGSEGV", "signal_name(11)");
	is_str(signal_name(0), NULL, "signal_name(0): NULL");
	is_int(signal_from_name("SIGNOPE"), -1, "an unknown name: -1");
	{
		char *names[] = { "b", "c", "a" };
		qsort(names, 3, sizeof(char *), cmp_strp);
		ok(!strcmp(names[0], "a") && !strcmp(names[2], "c"), "cmp_strp sorts strings");
	}
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	chmod(tmpdir, 0755);
	test_shquote();
	test_read_file_at();
	test_write_append_rm();
	test_parsers();
	rm_rf(tmpdir);
	return tap_done();
}
