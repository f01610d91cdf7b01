/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/category.h"
#include "ftscope/cmd.h"
#include "ftscope/error.h"
#include "ftscope/exit.h"
#include "ftscope/json.h"
#include "ftscope/runstore.h"
#include "ftscope/stats.h"
#include "ftscope/stress.h"
#include "ftscope/util.h"

static const char *const flaky_usage[] = {
	"usage: ftscope flaky RUN_DIR [--package P] [--limit N] [--json]",
	"",
	"Flakiness profile of packages that fail some of the time: pass rate with its 95%",
	"confidence interval (Wilson), the failure pattern, failure modes, the longest pass and",
	"fail streaks, and every test that failed in some iterations and passed in others, with",
	"its failure rate, interval and how many iterations catch it with 95% confidence.",
	"",
	"  RUN_DIR        a run directory (complete, interrupted or still running), or a",
	"                 results directory, whose newest run is read",
	"  --package P    only this package (any category); by default every intermittent",
	"                 or crash package that passed at least once (as labeille does)",
	"  --limit N      at most N tests per list (default 15; 0: all)",
	"  --json         the profiles as a JSON array",
	"  -h, --help     show this help",
	"",
	"Patterns (labeille's): consistent_crash (crashes, one signature, no plain failures),",
	"varied_crash (several signatures), consistent_test (the same failing-test set in every",
	"failed iteration, at least two), random_test (the sets differ), unknown.",
	"Per-test counts use PASSED/FAILED/ERROR/XFAIL/XPASS outcomes (SKIPPED is not a run);",
	"FAILED and ERROR are failures.",
	NULL,
};

struct flaky_opts {
	const char *dir;
	const char *package;
	size_t limit;
	bool json;
	bool utf8;
};

/* One (test, outcome) pair of one iteration, for sorting by test. */
struct obs {
	const char *id;
	bool fail;
};

struct test_stat {
	const char *id;
	long fails, seen;
};

struct profile {
	const struct rs_pkg *pkg;
	const char *name;
	long n, pass;
	long modes[5]; /* fail crash timeout deadlock other */
	size_t max_pass, max_fail;
	struct sbuf seq;
	enum flaky_pattern pattern;
	struct test_stat *tests; /* flaky first (by rate, desc), then always-failing */
	size_t nflaky, nalways;
	bool have_tests;
};

static const char *const mode_names[] = { "fail", "crash", "timeout", "deadlock", "other" };

static void print_usage(FILE *f)
{
	for (size_t i = 0; flaky_usage[i]; i++)
		fprintf(f, "%s\n", flaky_usage[i]);
}

static bool is_fail_outcome(const char *s)
{
	return !strcmp(s, "FAILED") || !strcmp(s, "ERROR");
}

static bool is_run_outcome(const char *s)
{
	return is_fail_outcome(s) || !strcmp(s, "PASSED") || !strcmp(s, "XFAIL") ||
	       !strcmp(s, "XPASS");
}

static int obs_cmp(const void *pa, const void *pb)
{
	const struct obs *a = pa, *b = pb;
	return strcmp(a->id, b->id);
}

static int iter_cmp(const void *pa, const void *pb)
{
	const struct rs_iter *a = *(const struct rs_iter *const *)pa;
	const struct rs_iter *b = *(const struct rs_iter *const *)pb;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* flaky tests by failure rate (highest first), then id; always-failing ones after */
static int test_cmp(const void *pa, const void *pb)
{
	const struct test_stat *a = pa, *b = pb;
	bool fa = a->fails < a->seen, fb = b->fails < b->seen;
	double ra = (double)a->fails / (double)a->seen, rb = (double)b->fails / (double)b->seen;
	if (fa != fb)
		return fa ? -1 : 1;
	if (ra != rb)
		return ra > rb ? -1 : 1;
	return strcmp(a->id, b->id);
}

static int str_ptr_cmp(const void *pa, const void *pb)
{
	return strcmp(*(char *const *)pa, *(char *const *)pb);
}

/* The failing tests of one iteration as one key: sorted ids joined by '\n' ("" if none). */
static char *fail_set_key(const struct rs_iter *it)
{
	struct strv ids = STRV_INIT;
	struct sbuf sb = SBUF_INIT;

	for (size_t k = 0; k < it->ntests; k++)
		if (it->tests[k].outcome && is_fail_outcome(it->tests[k].outcome))
			strv_push(&ids, it->tests[k].id);
	if (ids.n > 1)
		qsort(ids.v, ids.n, sizeof(*ids.v), str_ptr_cmp);
	for (size_t i = 0; i < ids.n; i++)
		sbuf_addf(&sb, "%s%s", i ? "\n" : "", ids.v[i]);
	strv_release(&ids);
	return sbuf_detach(&sb);
}

static char status_char(const char *s)
{
	if (!s)
		return '?';
	if (!strcmp(s, "pass"))
		return '.';
	if (!strcmp(s, "fail"))
		return 'F';
	if (!strcmp(s, "crash"))
		return 'C';
	if (!strcmp(s, "deadlock"))
		return 'D';
	if (!strcmp(s, "timeout"))
		return 'T';
	return '?';
}

static int mode_index(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (s && !strcmp(s, mode_names[i]))
			return i;
	return 4;
}

static void profile_build(const struct rs_pkg *pkg, struct profile *p)
{
	size_t niter = pkg->nit, nobs = 0, capobs = 0, nt = 0;
	const struct rs_iter **sorted = xcalloc(niter ? niter : 1, sizeof(*sorted));
	bool *pass = xcalloc(niter ? niter : 1, sizeof(*pass));
	struct strv sets = STRV_INIT, sigs = STRV_INIT;
	struct obs *obs = NULL;
	long crashes = 0, fails = 0;
	size_t k = 0;

	memset(p, 0, sizeof(*p));
	p->pkg = pkg;
	p->name = pkg->name;
	for (k = 0; k < niter; k++)
		sorted[k] = &pkg->it[k];
	if (niter > 1)
		qsort(sorted, niter, sizeof(*sorted), iter_cmp);

	for (size_t i = 0; i < niter; i++) {
		const struct rs_iter *it = sorted[i];
		const char *status = it->status_text;
		bool ok = status && !strcmp(status, "pass");

		p->n++;
		pass[i] = ok;
		sbuf_addc(&p->seq, status_char(status));
		if (ok) {
			p->pass++;
		} else {
			p->modes[mode_index(status)]++;
			if (status && !strcmp(status, "crash")) {
				const char *sig = it->crash_signature_id;
				crashes++;
				if (!sig)
					sig = it->crash_signature;
				if (!sig)
					sig = it->crash_signal;
				if (sig && !strv_contains(&sigs, sig))
					strv_push(&sigs, sig);
			} else if (status && !strcmp(status, "fail")) {
				fails++;
			}
			if (it->has_test_results) {
				char *key = fail_set_key(it);
				if (*key)
					strv_push_owned(&sets, key);
				else
					free(key);
			}
		}
		for (size_t j = 0; j < it->ntests; j++) {
			const struct rs_test *t = &it->tests[j];
			if (!t->outcome || !is_run_outcome(t->outcome))
				continue;
			if (nobs == capobs) {
				capobs = capobs ? 2 * capobs : 256;
				obs = xrealloc(obs, capobs * sizeof(*obs));
			}
			obs[nobs].id = t->id;
			obs[nobs++].fail = is_fail_outcome(t->outcome);
			p->have_tests = true;
		}
	}
	longest_streaks(pass, niter, &p->max_pass, &p->max_fail);

	/* per test: sort the observations by id and count runs of equal ids */
	if (nobs > 1)
		qsort(obs, nobs, sizeof(*obs), obs_cmp);
	p->tests = xcalloc(nobs ? nobs : 1, sizeof(*p->tests));
	for (size_t i = 0; i < nobs;) {
		struct test_stat ts = { .id = obs[i].id };
		size_t j = i;
		for (; j < nobs && !strcmp(obs[j].id, obs[i].id); j++) {
			ts.seen++;
			ts.fails += obs[j].fail;
		}
		if (ts.fails > 0)
			p->tests[nt++] = ts;
		i = j;
	}
	if (nt > 1)
		qsort(p->tests, nt, sizeof(*p->tests), test_cmp);
	for (size_t i = 0; i < nt; i++) {
		if (p->tests[i].fails < p->tests[i].seen)
			p->nflaky++;
		else
			p->nalways++;
	}
	p->pattern = flaky_classify(crashes, fails, sigs.n, p->nflaky > 0,
				    (const char *const *)sets.v, sets.n);
	strv_release(&sets);
	strv_release(&sigs);
	free(obs);
	free(pass);
	free(sorted);
}

static void profile_release(struct profile *p)
{
	free(p->tests);
	sbuf_release(&p->seq);
}

/* ---- text ---- */

static void print_rule(size_t width, bool utf8)
{
	for (size_t i = 0; i < width; i++)
		fputs(utf8 ? "\u2500" : "-", stdout);
	putchar('\n');
}

static void print_catch(long n)
{
	if (n > 0)
		printf("%ld iteration%s", n, n == 1 ? "" : "s");
	else
		printf("never");
}

/* id shortened to at most w columns, keeping the end ("...test_b[param]") */
static void print_id(const char *id, int w)
{
	int len = (int)strlen(id);
	if (len <= w)
		printf("%-*s", w, id);
	else
		printf("...%s", id + len - (w - 3));
}

static void print_tests(const struct test_stat *t, size_t n, size_t limit)
{
	size_t shown = limit && limit < n ? limit : n;
	int w = 20;

	for (size_t i = 0; i < shown; i++)
		if ((int)strlen(t[i].id) > w)
			w = (int)strlen(t[i].id);
	if (w > 64)
		w = 64;
	printf("  %-*s  %9s  %6s  %-15s  %s\n", w, "Test", "Fails", "Rate", "95% CI",
	       "Catch in (95%)");
	for (size_t i = 0; i < shown; i++) {
		double lo, hi, rate = (double)t[i].fails / (double)t[i].seen;
		char frac[32], ci[32];
		wilson_interval(t[i].fails, t[i].seen, STATS_Z95, &lo, &hi);
		snprintf(frac, sizeof(frac), "%ld/%ld", t[i].fails, t[i].seen);
		snprintf(ci, sizeof(ci), "%.1f-%.1f%%", 100 * lo, 100 * hi);
		printf("  ");
		print_id(t[i].id, w);
		printf("  %9s  %5.1f%%  %-15s  ", frac, 100 * rate, ci);
		print_catch(iterations_to_catch(rate, 0.95));
		putchar('\n');
	}
	if (shown < n)
		printf("  ... and %zu more (--limit 0 shows all)\n", n - shown);
}

static void print_profile(const struct profile *p, const struct flaky_opts *o)
{
	double lo, hi, frate;
	char title[512];
	int tl = snprintf(title, sizeof(title), "Flakiness Profile: %s", p->name);
	bool any_mode = false;

	printf("%s\n", title);
	print_rule(tl > 0 ? (size_t)tl : 20, o->utf8);
	if (p->n == 0) {
		printf("No completed iteration.\n");
		return;
	}
	wilson_interval(p->pass, p->n, STATS_Z95, &lo, &hi);
	printf("Pass rate:          %ld/%ld (%.1f%%; 95%% CI %.1f%%-%.1f%%)\n", p->pass, p->n,
	       100.0 * (double)p->pass / (double)p->n, 100 * lo, 100 * hi);
	printf("Pattern:            %s\n                    (%s)\n", flaky_pattern_name(p->pattern),
	       flaky_pattern_hint(p->pattern));
	printf("Failure modes:      ");
	for (int i = 0; i < 5; i++) {
		if (!p->modes[i])
			continue;
		printf("%s%s: %ld", any_mode ? ", " : "", mode_names[i], p->modes[i]);
		any_mode = true;
	}
	printf("%s\n", any_mode ? "" : "none");
	printf("Consecutive passes: %zu (longest)\n", p->max_pass);
	printf("Consecutive fails:  %zu (longest)\n", p->max_fail);
	printf("Iterations:         ");
	for (size_t i = 0; i < p->seq.len; i++) {
		if (i && i % 50 == 0)
			printf("\n                    ");
		putchar(p->seq.buf[i]);
	}
	printf("  (. pass, F fail, C crash, D deadlock, T timeout)\n");
	{
		char *st = stress_summary(p->pkg->raw); /* run --parallel-threads */
		if (st)
			printf("Stress:             %s%s\n", st,
			       p->pkg->stress_only ? " (passes plain)" : "");
		free(st);
	}
	frate = (double)(p->n - p->pass) / (double)p->n;
	if (frate > 0 && frate < 1) {
		double flo, fhi;
		wilson_interval(p->n - p->pass, p->n, STATS_Z95, &flo, &fhi);
		printf("To see a failure:   ");
		print_catch(iterations_to_catch(frate, 0.95));
		printf(" at the observed rate (%.1f%%), with 95%% confidence;\n", 100 * frate);
		printf("                    ");
		print_catch(iterations_to_catch(flo, 0.95));
		printf(" if the rate is as low as its 95%% lower bound (%.1f%%)\n", 100 * flo);
	}

	if (!p->have_tests) {
		printf("\nNo per-test results (no junit.xml from pytest in any iteration).\n");
		return;
	}
	if (p->nflaky) {
		printf("\nFlaky tests (failed in some iterations, passed in others): %zu\n",
		       p->nflaky);
		print_tests(p->tests, p->nflaky, o->limit);
	} else {
		printf("\nNo flaky test: no test both failed and passed.\n");
	}
	if (p->nalways) {
		printf("\nAlways failing (failed every time they ran): %zu\n", p->nalways);
		print_tests(p->tests + p->nflaky, p->nalways, o->limit);
	}
}

/* ---- JSON ---- */

static cJSON *ci_json(long k, long n)
{
	double lo, hi;
	cJSON *a = cJSON_CreateArray();
	wilson_interval(k, n, STATS_Z95, &lo, &hi);
	cJSON_AddItemToArray(a, cJSON_CreateNumber(round_to(lo, 4)));
	cJSON_AddItemToArray(a, cJSON_CreateNumber(round_to(hi, 4)));
	return a;
}

static cJSON *tests_json(const struct test_stat *t, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		double rate = (double)t[i].fails / (double)t[i].seen;
		cJSON_AddStringToObject(o, "test_id", t[i].id);
		cJSON_AddNumberToObject(o, "fail_count", (double)t[i].fails);
		cJSON_AddNumberToObject(o, "total_seen", (double)t[i].seen);
		cJSON_AddNumberToObject(o, "fail_rate", round_to(rate, 4));
		cJSON_AddItemToObject(o, "fail_rate_ci95", ci_json(t[i].fails, t[i].seen));
		cJSON_AddNumberToObject(o, "iterations_to_catch",
					(double)iterations_to_catch(rate, 0.95));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *profile_json(const struct profile *p)
{
	cJSON *o = cJSON_CreateObject(), *modes = cJSON_CreateObject();
	double frate = p->n ? (double)(p->n - p->pass) / (double)p->n : 0, flo, fhi;

	cJSON_AddStringToObject(o, "package", p->name);
	json_set_str(o, "category", p->pkg->category_text);
	cJSON_AddNumberToObject(o, "total_iterations", (double)p->n);
	cJSON_AddNumberToObject(o, "pass_count", (double)p->pass);
	cJSON_AddNumberToObject(o, "pass_rate",
				p->n ? round_to((double)p->pass / (double)p->n, 4) : 0);
	cJSON_AddItemToObject(o, "pass_rate_ci95", ci_json(p->pass, p->n));
	cJSON_AddNumberToObject(o, "failure_rate", round_to(frate, 4));
	wilson_interval(p->n - p->pass, p->n, STATS_Z95, &flo, &fhi);
	cJSON_AddNumberToObject(o, "iterations_to_catch", (double)iterations_to_catch(frate, 0.95));
	cJSON_AddNumberToObject(o, "iterations_to_catch_at_ci_low",
				(double)iterations_to_catch(flo, 0.95));
	cJSON_AddStringToObject(o, "pattern", flaky_pattern_name(p->pattern));
	for (int i = 0; i < 5; i++)
		if (p->modes[i])
			cJSON_AddNumberToObject(modes, mode_names[i], (double)p->modes[i]);
	cJSON_AddItemToObject(o, "failure_modes", modes);
	cJSON_AddNumberToObject(o, "max_consecutive_passes", (double)p->max_pass);
	cJSON_AddNumberToObject(o, "max_consecutive_failures", (double)p->max_fail);
	cJSON_AddStringToObject(o, "sequence", p->seq.buf ? p->seq.buf : "");
	cJSON_AddBoolToObject(o, "have_test_results", p->have_tests);
	cJSON_AddItemToObject(o, "flaky_tests", tests_json(p->tests, p->nflaky));
	cJSON_AddItemToObject(o, "always_failing_tests",
			      tests_json(p->tests + p->nflaky, p->nalways));
	return o;
}

/* ---- command ---- */

static bool default_target(const struct rs_pkg *pkg)
{
	return (pkg->cat == CAT_INTERMITTENT || pkg->cat == CAT_CRASH) && pkg->passes > 0;
}

static void parse_flaky_options(int argc, char **argv, struct flaky_opts *o)
{
	enum { OPT_PACKAGE = 0x100, OPT_LIMIT, OPT_JSON };
	static const struct option longopts[] = {
		{ "package", required_argument, NULL, OPT_PACKAGE },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long limit;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_usage(stdout);
			exit(FT_EXIT_OK);
		case OPT_PACKAGE:
			o->package = optarg;
			break;
		case OPT_LIMIT:
			if (parse_int(optarg, 0, 1000000000L, &limit) < 0)
				die_usage("flaky", "--limit needs a number >= 0, not '%s'", optarg);
			o->limit = (size_t)limit;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		default:
			die_bad_option("flaky", c, argv);
		}
	}
	o->dir = the_run_dir("flaky", argc, argv);
}

int cmd_flaky(int argc, char **argv)
{
	struct flaky_opts o = { .limit = 15 };
	struct run_view v;
	cJSON *out = NULL;
	size_t shown = 0;
	int ret = FT_EXIT_FAILURE;

	parse_flaky_options(argc, argv, &o);
	o.utf8 = category_utf8_ok(STDOUT_FILENO);
	if (runstore_load(o.dir, &v) < 0)
		return FT_EXIT_FAILURE;
	if (o.package && !run_view_pkg(&v, o.package)) {
		error("no package '%s' in '%s'", o.package, v.rd.dir);
		goto out;
	}
	if (o.json)
		out = cJSON_CreateArray();
	for (size_t i = 0; i < v.n; i++) {
		const struct rs_pkg *pkg = &v.pkgs[i];
		struct profile p;

		if (o.package ? strcmp(pkg->name, o.package) != 0 : !default_target(pkg))
			continue;
		profile_build(pkg, &p);
		if (o.json) {
			cJSON_AddItemToArray(out, profile_json(&p));
		} else {
			if (shown)
				putchar('\n');
			print_profile(&p, &o);
		}
		shown++;
		profile_release(&p);
	}
	if (o.json) {
		char *t = json_print(out, true);
		puts(t);
		free(t);
	} else if (!shown) {
		printf("No intermittent packages found (intermittent or crash packages that passed "
		       "at least once); --package P profiles any package.\n");
	}
	ret = FT_EXIT_OK;
out:
	cJSON_Delete(out);
	run_view_release(&v);
	return ret;
}
