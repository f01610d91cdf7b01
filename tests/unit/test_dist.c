/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* dist.c: the install command of --install-from sdist / --trust-ft-wheels, tag names. */
#include <stdlib.h>
#include <string.h>

#include "ftscope/dist.h"
#include "tap.h"

static void test_install_command(void)
{
	static const struct {
		const char *cmd, *want;
	} cases[] = {
		{ "pip install -e .", "pip install '/d/p-1.0.tar.gz'" },
		{ "pip install .", "pip install '/d/p-1.0.tar.gz'" },
		{ "pip install -e '.[test]'", "pip install '/d/p-1.0.tar.gz[test]'" },
		{ "python -m pip install --no-build-isolation ./ pytest",
		  "python -m pip install --no-build-isolation '/d/p-1.0.tar.gz' pytest" },
		{ "git submodule update --init && pip install cython && pip install -e \".[x,y]\"",
		  "git submodule update --init && pip install cython && pip install "
		  "'/d/p-1.0.tar.gz[x,y]'" },
		/* no install of the project itself: the artifact after the command */
		{ "pip install -r requirements.txt", "pip install -r requirements.txt && pip "
						     "install '/d/p-1.0.tar.gz'" },
		{ "make", "make && pip install '/d/p-1.0.tar.gz'" },
		/* "." as an argument of something else is not the project */
		{ "cp . x && pip install -e .", "cp . x && pip install '/d/p-1.0.tar.gz'" },
		{ "pip install ./other", "pip install ./other && pip install '/d/p-1.0.tar.gz'" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = dist_install_command(cases[i].cmd, "/d/p-1.0.tar.gz", NULL);
		is_str(got, cases[i].want, "install command: %s", cases[i].cmd);
		free(got);
	}
	{
		char *got = dist_install_command("pip install -e .", "/d/w.whl", "pkg");
		is_str(got, "pip install '/d/w.whl' && { for m in 'pkg' 'pkg.py'; do if [ -e "
			    "\"$m\" ]; then mv -- \"$m\" \"_ftscope_shielded_$m\" || exit 1; fi; "
			    "done; }",
		       "shielded: the checkout's own package is renamed");
		free(got);
	}
}

static void test_tags_abi(void)
{
	struct strv t = STRV_INIT;
	char *abi = dist_ft_abi("3.13");
	dist_tag_candidates("attrs", "25.1.0", &t);
	ok(t.n == 5 && !strcmp(t.v[0], "v25.1.0") && !strcmp(t.v[1], "25.1.0") &&
		   !strcmp(t.v[2], "attrs-25.1.0") && !strcmp(t.v[3], "release-25.1.0") &&
		   !strcmp(t.v[4], "V25.1.0"),
	   "tag candidates in labeille's order");
	is_str(abi, "cp313t", "free-threaded ABI tag of 3.13");
	ok(dist_ft_abi("3") == NULL && dist_ft_abi("3.13.1") == NULL, "no ABI for a bad minor");
	free(abi);
	strv_release(&t);
}

int main(void)
{
	test_install_command();
	test_tags_abi();
	return tap_done();
}
