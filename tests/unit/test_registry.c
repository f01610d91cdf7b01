/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * YAML -> JSON (src/run/yaml_json.c) and the laruche registry (src/run/registry.c): scalar
 * resolution, YAML errors with positions, a small registry in laruche's real shape
 * (quirks included), selection, type errors naming the file and field, import names.
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/registry.h"
#include "ftscope/util.h"
#include "tap.h"

static char tmp_root[] = "/tmp/ftscope-test-registry.XXXXXX";

static void put(const char *dir, const char *rel, const char *text)
{
	char *p = path_join(dir, rel), *slash = strrchr(p, '/');

	*slash = '\0';
	if (mkdir_p(p, 0755) < 0) {
		perror(p);
		exit(99);
	}
	*slash = '/';
	if (write_file_atomic(p, text, strlen(text)) < 0) {
		perror(p);
		exit(99);
	}
	free(p);
}

static char *new_dir(const char *name)
{
	char *p = path_join(tmp_root, name);

	if (mkdir_p(p, 0755) < 0) {
		perror(p);
		exit(99);
	}
	return p;
}

/* stderr capture: error() messages are part of the contract (file and field named). */
static int cap_saved = -1;
static char *cap_path;

static void cap_start(void)
{
	int fd;

	fflush(stderr);
	cap_path = path_join(tmp_root, "stderr.txt");
	fd = open(cap_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(cap_path);
		exit(99);
	}
	cap_saved = dup(2);
	dup2(fd, 2);
	close(fd);
}

static char *cap_end(void)
{
	char *text = NULL;

	fflush(stderr);
	dup2(cap_saved, 2);
	close(cap_saved);
	if (read_file(cap_path, &text, NULL) < 0)
		text = xstrdup("");
	free(cap_path);
	return text;
}

/* A test name on one TAP line: newlines and tabs shown as \n and \t. */
static const char *esc(const char *s)
{
	static char buf[256];
	size_t n = 0;

	for (; *s && n + 3 < sizeof(buf); s++) {
		if (*s == '\n' || *s == '\t') {
			buf[n++] = '\\';
			buf[n++] = *s == '\n' ? 'n' : 't';
		} else {
			buf[n++] = *s;
		}
	}
	buf[n] = '\0';
	return buf;
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

/* ---- yaml_to_json ---- */

enum kind { K_NULL, K_TRUE, K_FALSE, K_NUM, K_STR };

static void test_scalars(void)
{
	static const struct {
		const char *yaml; /* the value after "v: " */
		enum kind kind;
		double num;
		const char *str;
	} cases[] = {
		{ "", K_NULL, 0, NULL },
		{ "~", K_NULL, 0, NULL },
		{ "null", K_NULL, 0, NULL },
		{ "Null", K_NULL, 0, NULL },
		{ "NULL", K_NULL, 0, NULL },
		{ "true", K_TRUE, 0, NULL },
		{ "True", K_TRUE, 0, NULL },
		{ "yes", K_TRUE, 0, NULL },
		{ "on", K_TRUE, 0, NULL },
		{ "ON", K_TRUE, 0, NULL },
		{ "false", K_FALSE, 0, NULL },
		{ "FALSE", K_FALSE, 0, NULL },
		{ "no", K_FALSE, 0, NULL },
		{ "off", K_FALSE, 0, NULL },
		{ "0", K_NUM, 0, NULL },
		{ "42", K_NUM, 42, NULL },
		{ "-17", K_NUM, -17, NULL },
		{ "+5", K_NUM, 5, NULL },
		{ "1_000", K_NUM, 1000, NULL },
		{ "0x1F", K_NUM, 31, NULL },
		{ "0o17", K_NUM, 15, NULL },
		{ "017", K_NUM, 15, NULL },
		{ "0b101", K_NUM, 5, NULL },
		{ "1611866263", K_NUM, 1611866263.0, NULL },
		{ "3.13", K_NUM, 3.13, NULL },
		{ "-0.5", K_NUM, -0.5, NULL },
		{ ".5", K_NUM, 0.5, NULL },
		{ "5.", K_NUM, 5, NULL },
		{ "1.5e3", K_NUM, 1500, NULL },
		{ "1e3", K_NUM, 1000, NULL },
		{ "2.5E-1", K_NUM, 0.25, NULL },
		{ "1_000.25", K_NUM, 1000.25, NULL },
		{ "'42'", K_STR, 0, "42" },
		{ "\"true\"", K_STR, 0, "true" },
		{ "'null'", K_STR, 0, "null" },
		{ "''", K_STR, 0, "" },
		{ "\"3.13\"", K_STR, 0, "3.13" },
		{ "!!str 12", K_STR, 0, "12" },
		{ "! 12", K_STR, 0, "12" },
		{ "!!int \"7\"", K_NUM, 7, NULL },
		{ "!!float 2", K_NUM, 2, NULL },
		{ "!!bool 'yes'", K_TRUE, 0, NULL },
		{ "3.13.1", K_STR, 0, "3.13.1" },
		{ "08", K_STR, 0, "08" },
		{ "0x", K_STR, 0, "0x" },
		{ "1.2e", K_STR, 0, "1.2e" },
		{ "abc", K_STR, 0, "abc" },
		{ "yes please", K_STR, 0, "yes please" },
		{ "y", K_STR, 0, "y" },
		{ "2026-02-22T14:30:00", K_STR, 0, "2026-02-22T14:30:00" },
		{ "pip install -e .", K_STR, 0, "pip install -e ." },
		{ "\"tab\\tand \\u00e9\"", K_STR, 0, "tab\tand \xc3\xa9" },
		{ "|\n  line1\n  line2\n", K_STR, 0, "line1\nline2\n" },
		{ ">-\n  folded\n  text\n", K_STR, 0, "folded text" },
		{ "a\n  continued", K_STR, 0, "a continued" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *text = xasprintf("v: %s\n", cases[i].yaml), *err = NULL;
		cJSON *root = NULL, *v;
		int r = yaml_to_json(text, strlen(text), &root, &err);
		bool good;

		v = root ? cJSON_GetObjectItemCaseSensitive(root, "v") : NULL;
		switch (cases[i].kind) {
		case K_NULL:
			good = cJSON_IsNull(v);
			break;
		case K_TRUE:
			good = cJSON_IsTrue(v);
			break;
		case K_FALSE:
			good = cJSON_IsFalse(v);
			break;
		case K_NUM:
			good = cJSON_IsNumber(v) && fabs(v->valuedouble - cases[i].num) < 1e-9;
			break;
		default:
			good = cJSON_IsString(v) && !strcmp(v->valuestring, cases[i].str);
			break;
		}
		if (!ok(r == 0 && good, "scalar %zu: v: %s", i, esc(cases[i].yaml))) {
			char *dump = root ? cJSON_PrintUnformatted(root) : NULL;
			printf("#   r=%d got %s err=%s\n", r, dump ? dump : "(none)",
			       err ? err : "");
			free(dump);
		}
		cJSON_Delete(root);
		free(err);
		free(text);
	}
}

static void test_special_floats(void)
{
	static const struct {
		const char *yaml;
		int sign; /* +1 inf, -1 -inf, 0 nan */
	} cases[] = {
		{ "v: .inf", 1 }, { "v: +.INF", 1 }, { "v: -.Inf", -1 }, { "v: .nan", 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cJSON *root = NULL, *v;
		char *err = NULL;
		double d;

		yaml_to_json(cases[i].yaml, strlen(cases[i].yaml), &root, &err);
		v = cJSON_GetObjectItemCaseSensitive(root, "v");
		d = cJSON_IsNumber(v) ? v->valuedouble : 0;
		ok(cJSON_IsNumber(v) &&
			   (cases[i].sign ? isinf(d) && (d > 0) == (cases[i].sign > 0) : isnan(d)),
		   "special float %s", cases[i].yaml);
		cJSON_Delete(root);
		free(err);
	}
}

/* Whole documents: compared as compact JSON. */
static void test_documents(void)
{
	static const struct {
		const char *yaml, *json;
	} cases[] = {
		{ "", "null" },
		{ "# only a comment\n", "null" },
		{ "---\na: 1\n...\n", "{\"a\":1}" },
		{ "[1, two, 'three', ~]", "[1,\"two\",\"three\",null]" },
		{ "- a\n- - b\n  - c\n- {k: v}\n", "[\"a\",[\"b\",\"c\"],{\"k\":\"v\"}]" },
		/* duplicate keys: last one wins, position of the first kept */
		{ "a: 1\nb: 2\na: 3\n", "{\"a\":3,\"b\":2}" },
		/* keys keep their text: 3.10 must not become 3.1 */
		{ "3.10: x\n3.13: ~\ntrue: 1\n", "{\"3.10\":\"x\",\"3.13\":null,\"true\":1}" },
		{ "base: &b {x: 1, y: [1, 2]}\ncopy: *b\n",
		  "{\"base\":{\"x\":1,\"y\":[1,2]},\"copy\":{\"x\":1,\"y\":[1,2]}}" },
		{ "s: &s hello\nt: *s\n", "{\"s\":\"hello\",\"t\":\"hello\"}" },
		/* an anchored value replaced by a duplicate key still resolves */
		{ "a: &x 1\na: 2\nb: *x\n", "{\"a\":2,\"b\":1}" },
		/* merge keys: explicit keys win, earlier merged mappings win */
		{ "d: &d {x: 1, y: 2}\ne: &e {y: 9, z: 3}\nm:\n  <<: [*d, *e]\n  x: 0\n",
		  "{\"d\":{\"x\":1,\"y\":2},\"e\":{\"y\":9,\"z\":3},"
		  "\"m\":{\"x\":0,\"y\":2,\"z\":3}}" },
		{ "d: &d {x: 1}\nm: {x: 5, <<: *d}\n", "{\"d\":{\"x\":1},\"m\":{\"x\":5}}" },
		{ "k: &k key\n*k : v\n", "{\"k\":\"key\",\"key\":\"v\"}" },
		{ "skip_versions:\n  '3.15': C extension source files not generated (Cython build\n"
		  "    step fails).\n",
		  "{\"skip_versions\":{\"3.15\":\"C extension source files not generated (Cython "
		  "build step fails).\"}}" },
		{ "\xef\xbb\xbf" "a: b\n", "{\"a\":\"b\"}" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cJSON *root = NULL;
		char *err = NULL, *got = NULL;
		int r = yaml_to_json(cases[i].yaml, strlen(cases[i].yaml), &root, &err);

		if (r == 0)
			got = cJSON_PrintUnformatted(root);
		is_str(r == 0 ? got : err, cases[i].json, "document %zu", i);
		free(got);
		cJSON_Delete(root);
		free(err);
	}
}

static void test_yaml_errors(void)
{
	static const struct {
		const char *yaml, *want; /* want: prefix of the message */
	} cases[] = {
		{ "a: 1\n  b: 2\n", "line 2, column 4: mapping values are not allowed" },
		{ "a: [1, 2\nb: 3\n", "line 2, column 2: did not find expected ',' or ']'" },
		{ "a: 1\nb: \"unterminated\n", "line 3, column 1: found unexpected end of stream" },
		{ "a: b\n- c\n", "line 2, column 1: did not find expected key (while parsing a "
				  "block mapping at line 1, column 1)" },
		{ "- a\nb: 1\n", "line 2, column 1: did not find expected '-' indicator" },
		{ "key: value\n\tbad: tab\n", "line 2, column 1: found a tab character" },
		{ "a: 1\nb: *nope\n", "line 2, column 4: undefined alias '*nope'" },
		{ "a: &x [1, *x]\n", "line 1, column 11: undefined alias '*x'" },
		{ "a: !!python/tuple [1, 2]\n", "line 1, column 4: unsupported tag" },
		{ "a: !!int abc\n", "line 1, column 4: cannot resolve 'abc' as !!int" },
		{ "a: 1\n---\nb: 2\n", "line 2, column 1: expected a single document" },
		{ "? [1, 2]\n: v\n", "line 1, column 3: complex mapping keys are not supported" },
		{ "ok: 1\nbad: \"\xff\"\n", "line 2, column 7: invalid" },
		{ "m:\n  <<: 5\n", "line 2, column 7: merge key '<<' needs a mapping" },
		{ "a: \"nul\\0byte\"\n", "line 1, column 4: scalar contains a NUL character" },
		{ "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		  "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
		  "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
		  "line 6, column " },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cJSON *root = (cJSON *)1;
		char *err = NULL;
		int r = yaml_to_json(cases[i].yaml, strlen(cases[i].yaml), &root, &err);

		if (!ok(r == -1 && root == NULL && err && starts_with(err, cases[i].want),
			"yaml error %zu: %s", i, cases[i].want))
			printf("#   r=%d err=%s\n", r, err ? err : "(null)");
		free(err);
	}
}

static void test_deep_nesting(void)
{
	struct sbuf sb = SBUF_INIT;
	cJSON *root = NULL;
	char *err = NULL;
	int r, i;

	for (i = 0; i < 100000; i++)
		sbuf_addc(&sb, '[');
	r = yaml_to_json(sb.buf, sb.len, &root, &err);
	ok(r == -1 && has(err, "nesting deeper than"), "deep nesting rejected: %s",
	   err ? err : "");
	free(err);
	sbuf_reset(&sb);
	for (i = 0; i < 100; i++)
		sbuf_addc(&sb, '[');
	for (i = 0; i < 100; i++)
		sbuf_addc(&sb, ']');
	err = NULL;
	r = yaml_to_json(sb.buf, sb.len, &root, &err);
	ok(r == 0 && cJSON_IsArray(root), "100 levels accepted");
	cJSON_Delete(root);
	free(err);
	sbuf_release(&sb);
}

/* ---- the registry ---- */

static const char index_yaml[] =
	"last_updated: \"2026-02-22T14:30:00\"\n"
	"packages:\n"
	"  - name: alpha\n"
	"    download_count: 1611866263\n"
	"    extension_type: c_extension\n"
	"    enriched: true\n"
	"    skip: false\n"
	"    skip_versions_keys: []\n"
	"  - name: beta\n"
	"    download_count: 5000\n"
	"    extension_type: rust\n"
	"    enriched: true\n"
	"    skip: false\n"
	"    skip_versions_keys:\n"
	"    - '3.13'\n"
	"  - name: gamma\n"
	"    download_count: 400\n"
	"    extension_type: unknown\n"
	"    enriched: false\n"
	"    skip: false\n"
	"  - name: delta\n"
	"    download_count: 300\n"
	"    enriched: true\n"
	"    skip: true\n"
	"  - name: epsilon\n"
	"    download_count: null\n"
	"    extension_type: pure\n"
	"    enriched: true\n"
	"    skip: false\n";

/* laruche:packages/aiohttp.yaml's shape, plus keys ftscope does not know. */
static const char alpha_yaml[] =
	"package: alpha\n"
	"repo: https://github.com/example/alpha\n"
	"pypi_url: https://pypi.org/project/alpha/\n"
	"extension_type: c_extension\n"
	"python_versions: []\n"
	"install_method: pip\n"
	"install_command: git submodule update --init && pip install cython && pip install\n"
	"  -e . && pip install pytest\n"
	"test_command: python -m pytest tests/ -p no:xdist -o \"addopts=\" -k 'not slow\n"
	"  and not network'\n"
	"test_framework: pytest\n"
	"uses_xdist: true\n"
	"timeout: 1800\n"
	"skip: false\n"
	"skip_reason: null\n"
	"skip_versions: null\n"
	"notes: Async HTTP. 30min timeout.\n"
	"enriched: true\n"
	"clone_depth: null\n"
	"import_name: null\n"
	"future_field: {nested: [1, 2]}\n";

static const char beta_yaml[] =
	"package: beta\n"
	"repo: /srv/mirror/beta\n"
	"extension_type: rust\n"
	"install_command: ''\n"
	"test_command: python -m pytest\n"
	"test_framework: unittest\n"
	"timeout: null\n"
	"skip: false\n"
	"skip_versions:\n"
	"  '3.13': broken\n"
	"  3.15: ~\n"
	"enriched: true\n"
	"clone_depth: 50\n"
	"import_name: beta_mod\n";

static const char gamma_yaml[] =
	"package: gamma\n"
	"repo: null\n"
	"enriched: false\n";

static const char delta_yaml[] =
	"package: delta\n"
	"repo: https://github.com/example/delta\n"
	"skip: true\n"
	"skip_reason: needs a GPU\n"
	"enriched: true\n";

static char *make_registry(const char *name)
{
	char *dir = new_dir(name);

	put(dir, "index.yaml", index_yaml);
	put(dir, "schema.yaml", "schema_version: 1\nmin_labeille_version: 0.1.0\n");
	put(dir, "packages/alpha.yaml", alpha_yaml);
	put(dir, "packages/beta.yaml", beta_yaml);
	put(dir, "packages/gamma.yaml", gamma_yaml);
	put(dir, "packages/delta.yaml", delta_yaml);
	/* no packages/epsilon.yaml: tolerated, index fields only */
	return dir;
}

static void test_registry_load(void)
{
	struct registry reg;
	char *dir = make_registry("reg1");
	const struct pkg_entry *a, *b, *g, *d, *e;

	if (!ok(registry_load(dir, &reg) == 0, "registry_load of a laruche-style registry")) {
		free(dir);
		return;
	}
	is_int(reg.n, 5, "five index entries");
	a = &reg.pkgs[0];
	b = &reg.pkgs[1];
	g = &reg.pkgs[2];
	d = &reg.pkgs[3];
	e = &reg.pkgs[4];
	is_str(a->name, "alpha", "index order 0");
	is_str(e->name, "epsilon", "index order 4");
	is_str(a->repo, "https://github.com/example/alpha", "alpha repo");
	is_str(a->install_command,
	       "git submodule update --init && pip install cython && pip install -e . && pip "
	       "install pytest",
	       "alpha install_command (folded plain scalar)");
	is_str(a->test_command,
	       "python -m pytest tests/ -p no:xdist -o \"addopts=\" -k 'not slow and not network'",
	       "alpha test_command");
	is_str(a->extension_type, "c_extension", "off-schema extension_type kept");
	is_str(a->test_framework, "pytest", "alpha test_framework");
	is_int(a->timeout, 1800, "alpha timeout");
	is_int(a->clone_depth, -1, "clone_depth: null is -1");
	is_int(a->skip_versions.n, 0, "skip_versions: null is empty");
	ok(a->uses_xdist, "alpha uses_xdist");
	ok(a->enriched && !a->skip, "alpha enriched, not skip");
	is_int(a->download_count, 1611866263L, "download_count above INT_MAX");
	is_str(a->import_name, NULL, "import_name: null");

	is_str(b->repo, "/srv/mirror/beta", "beta repo is a path");
	is_str(b->install_command, NULL, "empty install_command is unset");
	is_str(pkg_install_command(b), "pip install -e .", "default install command");
	is_str(pkg_test_command(g), "python -m pytest", "default test command");
	is_int(b->timeout, 0, "timeout: null is 0");
	is_int(b->clone_depth, 50, "clone_depth 50");
	is_str(b->extension_type, "rust", "extension_type rust");
	is_int(b->skip_versions.n, 2, "beta skip_versions: index key and file keys merged");
	is_str(b->skip_versions.v[0], "3.13", "skip_versions key 0");
	is_str(b->skip_version_reasons.v[0], "broken", "the file's reason replaces the index's");
	is_str(b->skip_versions.v[1], "3.15", "unquoted 3.15 key kept as text");
	is_str(b->skip_version_reasons.v[1], "", "null reason is empty");
	is_int(b->download_count, 5000, "beta download_count from the index");

	ok(!g->enriched, "gamma not enriched");
	is_str(g->repo, NULL, "gamma repo: null");
	ok(d->skip, "delta skip");
	is_str(d->skip_reason, "needs a GPU", "delta skip_reason");
	ok(e->enriched && !e->skip, "epsilon (no package file) keeps the index fields");
	is_str(e->extension_type, "pure", "epsilon extension_type from the index");
	is_str(e->repo, NULL, "epsilon has no repo");
	is_int(e->clone_depth, -1, "epsilon clone_depth default");
	is_int(e->download_count, 0, "download_count: null is 0");
	registry_release(&reg);
	is_int(reg.n, 0, "registry_release empties");
	free(dir);
}

static char *join_names(struct pkg_entry **sel, size_t n)
{
	struct sbuf sb = SBUF_INIT;

	for (size_t i = 0; i < n; i++) {
		if (i)
			sbuf_addc(&sb, ',');
		sbuf_adds(&sb, sel[i]->name);
	}
	return sbuf_detach(&sb);
}

static char *join_strv(const struct strv *sv)
{
	struct sbuf sb = SBUF_INIT;

	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			sbuf_adds(&sb, " | ");
		sbuf_adds(&sb, sv->v[i]);
	}
	return sbuf_detach(&sb);
}

static void test_registry_select(void)
{
	static const struct {
		const char *only; /* comma list or NULL */
		long top;
		const char *py;
		int ret;
		const char *selected, *skipped;
	} cases[] = {
		{ NULL, 0, NULL, 0, "alpha,beta,epsilon",
		  "gamma: not enriched | delta: skipped in registry: needs a GPU" },
		{ NULL, 0, "3.13", 0, "alpha,epsilon",
		  "beta: skipped for Python 3.13: broken | gamma: not enriched | "
		  "delta: skipped in registry: needs a GPU" },
		{ NULL, 0, "3.15", 0, "alpha,epsilon",
		  "beta: skipped for Python 3.15 | gamma: not enriched | "
		  "delta: skipped in registry: needs a GPU" },
		{ NULL, 0, "3.14", 0, "alpha,beta,epsilon",
		  "gamma: not enriched | delta: skipped in registry: needs a GPU" },
		{ NULL, 1, "3.13", 0, "alpha", "" },
		{ NULL, 2, "3.13", 0, "alpha,epsilon",
		  "beta: skipped for Python 3.13: broken | gamma: not enriched | "
		  "delta: skipped in registry: needs a GPU" },
		{ NULL, 100, NULL, 0, "alpha,beta,epsilon",
		  "gamma: not enriched | delta: skipped in registry: needs a GPU" },
		{ "epsilon,beta", 0, "3.12", 0, "beta,epsilon", "" },
		{ "beta,delta", 0, "3.13", 0, "",
		  "beta: skipped for Python 3.13: broken | "
		  "delta: skipped in registry: needs a GPU" },
		{ "gamma", 0, NULL, 0, "", "gamma: not enriched" },
		{ "alpha,beta,epsilon", 1, NULL, 0, "alpha", "" },
		{ "alpha,nope", 0, NULL, -1, "", "" },
	};
	struct registry reg;
	char *dir = make_registry("reg2");

	if (registry_load(dir, &reg) < 0) {
		ok(0, "registry_load for select");
		free(dir);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strv only = STRV_INIT, skipped = STRV_INIT;
		struct pkg_entry **sel = (struct pkg_entry **)1;
		size_t n = 99;
		char *got_sel, *got_skip, *msg = NULL;
		int r;

		if (cases[i].only)
			strv_split(&only, cases[i].only, ",");
		if (cases[i].ret < 0)
			cap_start();
		r = registry_select(&reg, &only, cases[i].top, cases[i].py, &sel, &n, &skipped);
		if (cases[i].ret < 0)
			msg = cap_end();
		is_int(r, cases[i].ret, "select %zu: return", i);
		got_sel = r == 0 ? join_names(sel, n) : xstrdup("");
		got_skip = join_strv(&skipped);
		is_str(got_sel, cases[i].selected, "select %zu: selected", i);
		is_str(got_skip, cases[i].skipped, "select %zu: skipped", i);
		if (cases[i].ret < 0)
			ok(has(msg, "'nope'") && has(msg, "not in the registry"),
			   "select %zu: unknown name reported: %s", i, esc(msg ? msg : ""));
		free(msg);
		free(got_sel);
		free(got_skip);
		if (r == 0)
			free(sel);
		strv_release(&only);
		strv_release(&skipped);
	}
	/* skipped may be NULL */
	{
		struct pkg_entry **sel = NULL;
		size_t n = 0;
		ok(registry_select(&reg, NULL, 0, "3.13", &sel, &n, NULL) == 0 && n == 2,
		   "select with only=NULL, skipped=NULL");
		free(sel);
	}
	registry_release(&reg);
	free(dir);
}

/* An index not in download order: the selection (and --top) goes by download_count,
 * descending, equal counts in index order. */
static void test_select_download_order(void)
{
	static const struct {
		const char *name;
		long dl;
	} idx[] = { { "few", 1 }, { "tie-a", 50 }, { "many", 1000 }, { "tie-b", 50 }, { "none", 0 } };
	struct pkg_entry pkgs[ARRAY_SIZE(idx)];
	struct registry reg = { .pkgs = pkgs, .n = ARRAY_SIZE(idx) };
	static const struct {
		long top;
		const char *want;
	} cases[] = { { 0, "many,tie-a,tie-b,few,none" }, { 1, "many" }, { 3, "many,tie-a,tie-b" } };
	for (size_t i = 0; i < ARRAY_SIZE(idx); i++) {
		pkg_entry_init(&pkgs[i]);
		pkgs[i].name = (char *)idx[i].name;
		pkgs[i].download_count = idx[i].dl;
		pkgs[i].enriched = true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct pkg_entry **sel = NULL;
		size_t n = 0;
		char *got;
		ok(registry_select(&reg, NULL, cases[i].top, NULL, &sel, &n, NULL) == 0,
		   "download order %zu: selected", i);
		got = join_names(sel, n);
		is_str(got, cases[i].want, "download order: --top %ld", cases[i].top);
		free(got);
		free(sel);
	}
}

/* Wrong types in a package file: -1, and the message names the file and the field. */
static void test_type_errors(void)
{
	static const struct {
		const char *body, *field;
	} cases[] = {
		{ "timeout: abc\n", "field 'timeout': expected an integer, got string 'abc'" },
		{ "timeout: -5\n", "field 'timeout': expected a non-negative integer" },
		{ "timeout: 1.5\n", "field 'timeout': expected an integer, got number 1.5" },
		{ "timeout: [600]\n", "field 'timeout': expected an integer, got a list" },
		{ "clone_depth: 'full'\n", "field 'clone_depth': expected an integer" },
		{ "skip: maybe\n", "field 'skip': expected true or false, got string 'maybe'" },
		{ "enriched: 'true'\n", "field 'enriched': expected true or false" },
		{ "uses_xdist: 1\n", "field 'uses_xdist': expected true or false, got number 1" },
		{ "repo: 42\n", "field 'repo': expected a string, got number 42" },
		{ "test_command: [python, -m, pytest]\n",
		  "field 'test_command': expected a string" },
		{ "install_command: {a: b}\n", "field 'install_command': expected a string, got a "
					      "mapping" },
		{ "package: 7\n", "field 'package': expected a string" },
		{ "skip_versions: 3.13\n", "field 'skip_versions': expected a mapping" },
		{ "skip_versions: {'3.13': [1]}\n",
		  "field 'skip_versions.3.13': expected a string" },
		{ "skip_versions: [3.13, {a: 1}]\n",
		  "field 'skip_versions[1]': expected a version" },
		{ "package: ../../etc\n", "field 'package': invalid package name '../../etc'" },
	};
	char *dir = new_dir("types");

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *file = xasprintf("packages/p%zu.yaml", i), *path = path_join(dir, file);
		char *text = xasprintf("package: p\nrepo: x\n%s", cases[i].body), *msg;
		struct pkg_entry e;
		int r;

		put(dir, file, text);
		cap_start();
		r = pkg_entry_load(path, "p", &e);
		msg = cap_end();
		is_int(r, -1, "type error %zu rejected", i);
		if (!ok(has(msg, path) && has(msg, cases[i].field), "type error %zu: %s", i,
			cases[i].field))
			printf("#   message: %s", msg);
		is_str(e.name, NULL, "type error %zu: entry released", i);
		free(msg);
		free(text);
		free(path);
		free(file);
	}
	free(dir);
}

/* Registry-level failures: index type errors, schema, missing or malformed files. */
static void test_registry_errors(void)
{
	static const struct {
		const char *index, *pkg_file, *pkg_text, *schema, *want_file, *want;
	} cases[] = {
		{ "packages: foo\n", NULL, NULL, NULL, "index.yaml",
		  "field 'packages': expected a list, got string 'foo'" },
		{ "packages:\n  a: 1\n", NULL, NULL, NULL, "index.yaml",
		  "field 'packages': expected a list, got a mapping" },
		{ "packages:\n- name: 7\n", NULL, NULL, NULL, "index.yaml",
		  "field 'packages[0].name': expected a string, got number 7" },
		{ "packages:\n- name: ok\n- [x]\n", NULL, NULL, NULL, "index.yaml",
		  "field 'packages[1]': expected a mapping, got a list" },
		{ "packages:\n- enriched: true\n", NULL, NULL, NULL, "index.yaml",
		  "field 'packages[0].name' is missing" },
		{ "packages:\n- name: ../../etc/passwd\n", NULL, NULL, NULL, "index.yaml",
		  "invalid package name" },
		{ "packages:\n- name: a\n  download_count: lots\n", NULL, NULL, NULL, "index.yaml",
		  "field 'packages[0].download_count': expected an integer" },
		{ "packages:\n- name: a\n  skip_versions_keys: '3.13'\n", NULL, NULL, NULL,
		  "index.yaml", "field 'packages[0].skip_versions_keys'" },
		{ "- just\n- a list\n", NULL, NULL, NULL, "index.yaml",
		  "expected a mapping at the top, got a list" },
		{ "packages: [\n", NULL, NULL, NULL, "index.yaml", "line 2, column 1: " },
		{ "packages:\n- name: a\n", "packages/a.yaml", "package: a\ntimeout: abc\n", NULL,
		  "packages/a.yaml", "field 'timeout'" },
		{ "packages:\n- name: a\n", "packages/a.yaml", "package: a\n  bad: indent\n", NULL,
		  "packages/a.yaml", "line 2, column 6: mapping values are not allowed" },
		{ "packages:\n- name: a\n", "packages/a.yaml", "just a string\n", NULL,
		  "packages/a.yaml", "expected a mapping at the top, got string" },
		{ "packages: []\n", NULL, NULL, "schema_version: 2\n", "schema.yaml",
		  "schema_version 2 is newer than the supported 1" },
		{ "packages: []\n", NULL, NULL, "schema_version: two\n", "schema.yaml",
		  "field 'schema_version': expected an integer" },
		{ NULL, NULL, NULL, NULL, "index.yaml", "No such file or directory" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *name = xasprintf("err%zu", i), *dir = new_dir(name), *want_path, *msg;
		struct registry reg;
		int r;

		if (cases[i].index)
			put(dir, "index.yaml", cases[i].index);
		if (cases[i].pkg_file)
			put(dir, cases[i].pkg_file, cases[i].pkg_text);
		if (cases[i].schema)
			put(dir, "schema.yaml", cases[i].schema);
		want_path = xasprintf("'%s/%s'", dir, cases[i].want_file);
		cap_start();
		r = registry_load(dir, &reg);
		msg = cap_end();
		is_int(r, -1, "registry error %zu rejected", i);
		if (!ok(has(msg, "cannot read registry ") && has(msg, want_path) &&
				has(msg, cases[i].want),
			"registry error %zu: %s", i, cases[i].want))
			printf("#   message: %s", msg);
		ok(reg.n == 0 && reg.pkgs == NULL, "registry error %zu: nothing left allocated", i);
		free(msg);
		free(want_path);
		free(dir);
		free(name);
	}
}

/* Edge cases that must load: empty package list, null packages, bare-string entries. */
static void test_registry_tolerated(void)
{
	static const struct {
		const char *index;
		size_t n;
	} cases[] = {
		{ "packages: []\n", 0 },
		{ "packages: null\n", 0 },
		{ "last_updated: x\n", 0 },
		{ "packages:\n- solo\n- name: duo\n  extra: [1]\n", 2 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *name = xasprintf("tol%zu", i), *dir = new_dir(name);
		struct registry reg;
		int r;

		put(dir, "index.yaml", cases[i].index);
		r = registry_load(dir, &reg);
		is_int(r, 0, "tolerated %zu loads", i);
		if (r == 0) {
			is_int(reg.n, cases[i].n, "tolerated %zu: entries", i);
			registry_release(&reg);
		}
		free(dir);
		free(name);
	}
}

static void test_pkg_entry_load(void)
{
	char *dir = new_dir("single"), *path, *msg;
	struct pkg_entry e;
	int r;

	put(dir, "alpha.yaml", alpha_yaml);
	path = path_join(dir, "alpha.yaml");
	is_int(pkg_entry_load(path, "fallback", &e), 0, "pkg_entry_load alpha");
	is_str(e.name, "alpha", "package field names the entry");
	is_int(e.timeout, 1800, "pkg_entry_load timeout");
	ok(e.enriched, "pkg_entry_load enriched from the file");
	pkg_entry_release(&e);
	is_int(e.clone_depth, -1, "pkg_entry_release leaves the defaults");
	free(path);

	put(dir, "nameless.yaml", "package: null\nrepo: file:///srv/x\n");
	path = path_join(dir, "nameless.yaml");
	is_int(pkg_entry_load(path, "fallback", &e), 0, "pkg_entry_load with package: null");
	is_str(e.name, "fallback", "fallback name used");
	is_str(e.repo, "file:///srv/x", "repo file:// URL");
	ok(!e.enriched && !e.skip, "absent enriched/skip are false");
	pkg_entry_release(&e);
	free(path);

	path = path_join(dir, "missing.yaml");
	cap_start();
	r = pkg_entry_load(path, "m", &e);
	msg = cap_end();
	is_int(r, -1, "pkg_entry_load of a missing file fails");
	ok(has(msg, path) && has(msg, "No such file"), "missing file message: %s", esc(msg));
	free(msg);
	free(path);
	free(dir);
}

static void test_import_names(void)
{
	static const struct {
		const char *name, *import_name, *want;
	} cases[] = {
		{ "pillow", NULL, "PIL" },
		{ "Pillow", NULL, "PIL" },
		{ "pyyaml", NULL, "yaml" },
		{ "PyYAML", NULL, "yaml" },
		{ "beautifulsoup4", NULL, "bs4" },
		{ "scikit-learn", NULL, "sklearn" },
		{ "scikit_learn", NULL, "sklearn" },
		{ "python-dateutil", NULL, "dateutil" },
		{ "attrs", NULL, "attr" },
		{ "protobuf", NULL, "google.protobuf" },
		{ "pyjwt", NULL, "jwt" },
		{ "PyJWT", NULL, "jwt" },
		{ "msgpack-python", NULL, "msgpack" },
		{ "opencv-python", NULL, "cv2" },
		{ "typing-extensions", NULL, "typing_extensions" },
		{ "typing_extensions", NULL, "typing_extensions" },
		{ "setuptools-scm", NULL, "setuptools_scm" },
		{ "importlib-metadata", NULL, "importlib_metadata" },
		{ "requests", NULL, "requests" },
		{ "charset-normalizer", NULL, "charset_normalizer" },
		{ "zope.interface", NULL, "zope_interface" },
		{ "Flask-Login", NULL, "Flask_Login" },
		{ "attrs-extra", NULL, "attrs_extra" },
		{ "pillow", "PIL.Image", "PIL.Image" },
		{ "foo-bar", "foobar", "foobar" },
		{ "foo-bar", "", "foo_bar" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct pkg_entry e;

		pkg_entry_init(&e);
		e.name = (char *)cases[i].name;
		e.import_name = (char *)cases[i].import_name;
		is_str(pkg_import_name(&e), cases[i].want, "import name of %s", cases[i].name);
	}
	/* Two derived names in one expression stay distinct. */
	{
		struct pkg_entry x, y;
		const char *a, *b;

		pkg_entry_init(&x);
		pkg_entry_init(&y);
		x.name = (char *)"a-b";
		y.name = (char *)"c-d";
		a = pkg_import_name(&x);
		b = pkg_import_name(&y);
		ok(!strcmp(a, "a_b") && !strcmp(b, "c_d"), "two derived names coexist");
	}
}

int main(void)
{
	if (!mkdtemp(tmp_root)) {
		perror("mkdtemp");
		return 99;
	}
	test_scalars();
	test_special_floats();
	test_documents();
	test_yaml_errors();
	test_deep_nesting();
	test_registry_load();
	test_registry_select();
	test_select_download_order();
	test_type_errors();
	test_registry_errors();
	test_registry_tolerated();
	test_pkg_entry_load();
	test_import_names();
	rm_rf(tmp_root);
	return tap_done();
}
