/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/error.h"
#include "ftscope/json.h"
#include "ftscope/run_options.h"
#include "ftscope/run_outcome.h"
#include "ftscope/sandbox.h"
#include "ftscope/shard.h"
#include "ftscope/tracer.h"

static const char *const run_usage[] = {
	"usage: ftscope run --target-python PATH (--registry-dir DIR | --package-dir PATH) [options]",
	"       ftscope run --resume RUN_DIR [options]",
	"",
	"Run each package's test suite --iterations times under the free-threaded interpreter",
	"with PYTHON_GIL=0, watch every process of it, and classify the package.",
	"",
	"Packages:",
	"  --registry-dir DIR         labeille/laruche registry (index.yaml + packages/*.yaml);",
	"                             default $FTSCOPE_REGISTRY_DIR, $LABEILLE_REGISTRY_DIR,",
	"                             ~/.local/share/labeille/registry",
	"  --packages A,B             only these registry packages",
	"  --top N                    the N most downloaded selected packages (download_count;",
	"                             equal counts in index order)",
	"  --shard K/N                run only the K-th of N shards of the selection (after",
	"                             --packages, --top and skips, dealt round-robin in order:",
	"                             each shard gets floor or ceil of P/N packages); join the",
	"                             shards' runs with ftscope merge",
	"  --shard slurm              K and N of this Slurm array task (SLURM_ARRAY_TASK_ID,",
	"                             _MIN, _COUNT; sbatch --array=1-N)",
	"  --shard k8s[/N]            K of this Kubernetes Indexed Job pod (JOB_COMPLETION_INDEX),",
	"                             N from k8s/N, else $FTSCOPE_SHARD_COUNT (the completions)",
	"  --list                     print the packages this run (or shard) would run, one a",
	"                             line, and exit without running anything",
	"  --package-dir PATH         one local checkout instead of a registry",
	"  --work-dir DIR             repos/, venvs/ and results/ under DIR (default: the",
	"                             current directory); the three options below override it",
	"  --repos-dir DIR            root's clones, never given to test code (default: repos)",
	"  --venvs-dir DIR            per-run workspaces: each package's staged sources, venv,",
	"                             HOME and TMPDIR, removed when it is done (default: venvs)",
	"  --results-dir DIR          where ft_YYYYMMDD_HHMMSS/ is made (default: results)",
	"Iterations:",
	"  --target-python PATH       a free-threaded CPython (configure --disable-gil)",
	"  -n, --iterations N         runs per package (default 10)",
	"  --baseline-python PATH     the default (GIL) build of the same CPython: every suite",
	"                             also runs --iterations times under it, and pep779_baseline",
	"                             gives PEP 779's ratios (free-threaded build vs default",
	"                             build); scripts/setup.sh --with-baseline builds one",
	"  --timeout S                per iteration; default: the registry's timeout, else 600",
	"  --deadlock-window S        all threads blocked in untimed lock waits with no CPU for",
	"                             S seconds is a deadlock (default 2)",
	"  --stall-threshold S        no output and no CPU for S seconds is a stall (default 60)",
	"  --stop-on-first-pass       stop a package's iterations at its first pass",
	"  --compare-with-gil         also run every package with PYTHON_GIL=1",
	"  --detect-extensions        probe extension modules for GIL fallback (default)",
	"  --no-detect-extensions     skip the import probe",
	"  --tsan                     collect ThreadSanitizer reports (a TSAN interpreter, or",
	"                             TSAN-built extensions: the runtime is then preloaded)",
	"  --tsan-suppressions FILE   TSAN suppressions (race:, race_top:, ...); implies --tsan",
	"  --parallel-threads N       also run each pytest suite --iterations more times with",
	"                             pytest-run-parallel running every test in N threads at",
	"                             once (stress iterations, kept apart: results' `stress`)",
	"  --parallel-iterations M    each of those threads runs each test M times (default 1)",
	"  --check-stability          do not start on a busy machine: abort, with the load and the",
	"                             limit, when the 1-minute load is not below --max-load",
	"  --no-check-stability       start whatever the load (the default, as labeille's)",
	"  --max-load L               the limit of --check-stability (default: half the CPUs)",
	"  --extra-deps A,B           pip install these into every venv (offline: paths/wheels)",
	"  --offline                  installs use no package index and no build isolation (the",
	"                             build backends setup provisions are used); default: pip",
	"                             does what your pip configuration and PIP_* variables say",
	"  --find-links DIR           also install from this directory of wheels (a wheelhouse)",
	"  --install-from source|sdist  what is installed: the repository's checkout (default),",
	"                             or the latest sdist on the index (or in --find-links),",
	"                             with the tests of the repository's tag for its version",
	"                             (v1.2, 1.2, NAME-1.2, release-1.2, V1.2) when it has one",
	"  --trust-ft-wheels          a package whose latest release has a free-threaded wheel",
	"                             for the target (cp313t) gets that wheel installed and",
	"                             tested; all passing is compatible_by_wheel",
	"  --trust-ft-wheels-any-version  also trust, without running anything, a release whose",
	"                             free-threaded wheels are for another Python version",
	"  --test-command-suffix STR  appended to every test command",
	"  --test-command-override STR  replaces every test command",
	"  --env KEY=VALUE            extra environment for installs and tests (repeatable)",
	"  --max-output BYTES         captured bytes kept per stream and iteration (default 16M)",
	"  --max-pids N               tasks (processes + threads) one iteration may have at once",
	"                             (pids cgroup; default 4096; 0: no limit)",
	"  --tracer auto|ebpf|ptrace|none  how processes are watched: ptrace follows every",
	"                             process and thread (crash stops, every exit, snapshots);",
	"                             ebpf adds the eBPF recorder (signals, lock waits, thread",
	"                             states in real time; drives the deadlock window; reads a",
	"                             crashing thread's registers, so threads are traced only",
	"                             when a snapshot stops them); none reads /proc only;",
	"                             auto (default): ebpf, else ptrace, else none",
"  --seize-threads            ptrace: follow new threads without stopping them, seized as",
"                             the kernel's process events name them, instead of two stops",
"                             each at its start. Cheaper on thread-heavy suites, but a",
"                             crash in a thread's first ~0.1 ms (one a barrier lets go as",
"                             it starts) has no native signature. Needs the initial",
"                             namespaces; elsewhere threads are stopped as by default.",
"                             (ebpf needs neither: it traces threads on demand)",
	"  --jobs N                   packages in parallel (default 1); warns when that leaves a",
	"                             package fewer than two CPUs (races need threads that run",
	"                             at the same time)",
	"  --user NAME                run installs and tests as NAME (default, as root: a test",
	"                             uid of its own per package, 65100-65355; --user root",
	"                             runs them as root)",
	"  --resume RUN_DIR           continue an interrupted run (its options are reused)",
	"  --fail-on CATEGORIES       exit 3 when a package lands in one of these (for CI), e.g.",
	"                             deadlock,crash,intermittent; all-failing: every category",
	"                             that is not usable",
	"  -v, --verbose              more detail",
	"",
	"After the summary, a run with deadlocks or crashes names the command that explains them",
	"(ftscope deadlocks RUN_DIR, ftscope crashes RUN_DIR).",
	NULL,
};

void run_opts_usage(void)
{
	for (const char *const *l = run_usage; *l; l++)
		puts(*l);
}

enum {
	OPT_TARGET = 0x100, OPT_ITERATIONS, OPT_TIMEOUT, OPT_STALL, OPT_WINDOW, OPT_PACKAGES,
	OPT_TOP, OPT_COMPARE, OPT_STOP_FIRST, OPT_DETECT, OPT_NO_DETECT, OPT_TSAN, OPT_STABILITY,
	OPT_EXTRA_DEPS, OPT_SUFFIX, OPT_OVERRIDE, OPT_ENV, OPT_REGISTRY, OPT_REPOS, OPT_VENVS,
	OPT_RESULTS, OPT_PACKAGE_DIR, OPT_TRACER, OPT_JOBS, OPT_RESUME, OPT_MAX_OUTPUT, OPT_MAX_PIDS,
	OPT_USER, OPT_TSAN_SUPP, OPT_OFFLINE, OPT_FIND_LINKS, OPT_HELP, OPT_FAIL_ON,
	OPT_PAR_THREADS, OPT_PAR_ITERS, OPT_WORK_DIR, OPT_NO_STABILITY, OPT_INSTALL_FROM,
	OPT_TRUST_WHEELS, OPT_TRUST_ANY, OPT_MAX_LOAD, OPT_BASELINE, OPT_SHARD, OPT_LIST,
	OPT_SEIZE_THREADS,
};

void run_opts_init(struct run_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->iterations = 10;
	o->parallel_iterations = 1;
	o->timeout = -1;
	o->stall_threshold = 60;
	o->deadlock_window = 2;
	o->detect_extensions = true;
	o->jobs = 1;
	o->max_output = 16L << 20;
	o->max_pids = 4096;
	o->max_load = -1;
}

void run_opts_release(struct run_opts *o)
{
	free(o->target_python);
	free(o->baseline_python);
	free(o->work_dir);
	strv_release(&o->packages);
	strv_release(&o->extra_deps);
	free(o->suffix);
	free(o->override);
	strv_release(&o->env);
	free(o->registry_dir);
	free(o->repos_dir);
	free(o->venvs_dir);
	free(o->results_dir);
	free(o->package_dir);
	free(o->tracer);
	free(o->resume);
	free(o->user);
	free(o->tsan_suppressions);
	free(o->find_links);
	free(o->shard);
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

static const struct option run_longopts[] = {
	{ "target-python", required_argument, NULL, OPT_TARGET },
	{ "iterations", required_argument, NULL, OPT_ITERATIONS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "stall-threshold", required_argument, NULL, OPT_STALL },
	{ "deadlock-window", required_argument, NULL, OPT_WINDOW },
	{ "packages", required_argument, NULL, OPT_PACKAGES },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "compare-with-gil", no_argument, NULL, OPT_COMPARE },
	{ "stop-on-first-pass", no_argument, NULL, OPT_STOP_FIRST },
	{ "detect-extensions", no_argument, NULL, OPT_DETECT },
	{ "no-detect-extensions", no_argument, NULL, OPT_NO_DETECT },
	{ "tsan", no_argument, NULL, OPT_TSAN },
	{ "tsan-suppressions", required_argument, NULL, OPT_TSAN_SUPP },
	{ "check-stability", no_argument, NULL, OPT_STABILITY },
	{ "parallel-threads", required_argument, NULL, OPT_PAR_THREADS },
	{ "parallel-iterations", required_argument, NULL, OPT_PAR_ITERS },
	{ "extra-deps", required_argument, NULL, OPT_EXTRA_DEPS },
	{ "test-command-suffix", required_argument, NULL, OPT_SUFFIX },
	{ "test-command-override", required_argument, NULL, OPT_OVERRIDE },
	{ "env", required_argument, NULL, OPT_ENV },
	{ "registry-dir", required_argument, NULL, OPT_REGISTRY },
	{ "repos-dir", required_argument, NULL, OPT_REPOS },
	{ "venvs-dir", required_argument, NULL, OPT_VENVS },
	{ "results-dir", required_argument, NULL, OPT_RESULTS },
	{ "package-dir", required_argument, NULL, OPT_PACKAGE_DIR },
	{ "tracer", required_argument, NULL, OPT_TRACER },
	{ "seize-threads", no_argument, NULL, OPT_SEIZE_THREADS },
	{ "jobs", required_argument, NULL, OPT_JOBS },
	{ "resume", required_argument, NULL, OPT_RESUME },
	{ "max-output", required_argument, NULL, OPT_MAX_OUTPUT },
	{ "max-pids", required_argument, NULL, OPT_MAX_PIDS },
	{ "user", required_argument, NULL, OPT_USER },
	{ "offline", no_argument, NULL, OPT_OFFLINE },
	{ "find-links", required_argument, NULL, OPT_FIND_LINKS },
	{ "work-dir", required_argument, NULL, OPT_WORK_DIR },
	{ "no-check-stability", no_argument, NULL, OPT_NO_STABILITY },
	{ "max-load", required_argument, NULL, OPT_MAX_LOAD },
	{ "baseline-python", required_argument, NULL, OPT_BASELINE },
	{ "install-from", required_argument, NULL, OPT_INSTALL_FROM },
	{ "trust-ft-wheels", no_argument, NULL, OPT_TRUST_WHEELS },
	{ "trust-ft-wheels-any-version", no_argument, NULL, OPT_TRUST_ANY },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ NULL, 0, NULL, 0 },
};

static long parse_size(const char *s)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || v <= 0 || end == s)
		return -1;
	if (!strcmp(end, "K") || !strcmp(end, "k"))
		v <<= 10;
	else if (!strcmp(end, "M") || !strcmp(end, "m"))
		v <<= 20;
	else if (!strcmp(end, "G") || !strcmp(end, "g"))
		v <<= 30;
	else if (*end)
		return -1;
	return v;
}

/* Parse argv into o (may be called twice: stored args of a resumed run, then the new ones).
 * Returns 1 if --help was asked. Usage errors die. */
int run_opts_parse(int argc, char **argv, struct run_opts *o)
{
	int c;
	long l;
	double d;
	optind = 0; /* reset getopt for a second pass */
	while ((c = getopt_long(argc, argv, "+:vn:", run_longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TARGET:
			set_str(&o->target_python, optarg);
			break;
		case 'n':
		case OPT_ITERATIONS:
			if (parse_int(optarg, 1, 100000, &l) < 0)
				die_usage("run", "--iterations wants a whole number >= 1, not '%s'", optarg);
			o->iterations = l;
			break;
		case OPT_TIMEOUT:
		case OPT_STALL:
		case OPT_WINDOW:
			if (parse_double(optarg, 0, 1e7, &d) < 0 || (c == OPT_TIMEOUT && d <= 0))
				die_usage("run", "--%s wants seconds, not '%s'",
					  c == OPT_TIMEOUT ? "timeout" : c == OPT_STALL ? "stall-threshold"
											: "deadlock-window",
					  optarg);
			if (c == OPT_TIMEOUT)
				o->timeout = d;
			else if (c == OPT_STALL)
				o->stall_threshold = d;
			else
				o->deadlock_window = d;
			break;
		case OPT_PACKAGES:
			strv_split(&o->packages, optarg, ",");
			break;
		case OPT_TOP:
			if (parse_int(optarg, 1, 1000000, &l) < 0)
				die_usage("run", "--top wants a whole number >= 1, not '%s'", optarg);
			o->top = l;
			break;
		case OPT_COMPARE:
			o->compare_with_gil = true;
			break;
		case OPT_STOP_FIRST:
			o->stop_on_first_pass = true;
			break;
		case OPT_DETECT:
			o->detect_extensions = true;
			break;
		case OPT_NO_DETECT:
			o->detect_extensions = false;
			break;
		case OPT_TSAN:
			o->tsan = true;
			break;
		case OPT_TSAN_SUPP:
			set_str(&o->tsan_suppressions, optarg);
			o->tsan = true;
			break;
		case OPT_STABILITY:
		case OPT_NO_STABILITY:
			o->check_stability = c == OPT_STABILITY;
			break;
		case OPT_MAX_LOAD:
			if (parse_double(optarg, 0, 1e6, &d) < 0)
				die_usage("run", "--max-load wants a load average, not '%s'", optarg);
			o->max_load = d;
			break;
		case OPT_BASELINE:
			set_str(&o->baseline_python, optarg);
			break;
		case OPT_WORK_DIR:
			set_str(&o->work_dir, optarg);
			break;
		case OPT_INSTALL_FROM:
			if (strcmp(optarg, "source") && strcmp(optarg, "sdist"))
				die_usage("run", "--install-from wants source or sdist, not '%s'",
					  optarg);
			o->install_sdist = !strcmp(optarg, "sdist");
			break;
		case OPT_TRUST_ANY:
			o->trust_any_version = true;
			/* fall through */
		case OPT_TRUST_WHEELS:
			o->trust_ft_wheels = true;
			break;
		case OPT_EXTRA_DEPS:
			strv_split(&o->extra_deps, optarg, ",");
			break;
		case OPT_SUFFIX:
			set_str(&o->suffix, optarg);
			break;
		case OPT_OVERRIDE:
			set_str(&o->override, optarg);
			break;
		case OPT_ENV:
			if (!strchr(optarg, '=') || optarg[0] == '=')
				die_usage("run", "--env wants KEY=VALUE, not '%s'", optarg);
			strv_push(&o->env, optarg);
			break;
		case OPT_REGISTRY:
			set_str(&o->registry_dir, optarg);
			break;
		case OPT_REPOS:
			set_str(&o->repos_dir, optarg);
			break;
		case OPT_VENVS:
			set_str(&o->venvs_dir, optarg);
			break;
		case OPT_RESULTS:
			set_str(&o->results_dir, optarg);
			break;
		case OPT_PACKAGE_DIR:
			set_str(&o->package_dir, optarg);
			break;
		case OPT_TRACER:
			if (strcmp(optarg, "auto") && !tracer_find(optarg))
				die_usage("run", "--tracer wants %s, not '%s'", tracer_choices(), optarg);
			set_str(&o->tracer, optarg);
			break;
		case OPT_SEIZE_THREADS:
			o->seize_threads = true;
			break;
		case OPT_PAR_THREADS:
		case OPT_PAR_ITERS:
			if (parse_int(optarg, c == OPT_PAR_THREADS ? 2 : 1, 1024, &l) < 0)
				die_usage("run", "--parallel-%s wants a number from %d to 1024, not '%s'",
					  c == OPT_PAR_THREADS ? "threads" : "iterations",
					  c == OPT_PAR_THREADS ? 2 : 1, optarg);
			if (c == OPT_PAR_THREADS)
				o->parallel_threads = (int)l;
			else
				o->parallel_iterations = (int)l;
			break;
		case OPT_JOBS:
			if (parse_int(optarg, 1, 64, &l) < 0)
				die_usage("run", "--jobs wants a number from 1 to 64, not '%s'", optarg);
			o->jobs = l;
			break;
		case OPT_RESUME:
			set_str(&o->resume, optarg);
			break;
		case OPT_MAX_OUTPUT:
			if ((o->max_output = parse_size(optarg)) < 4096)
				die_usage("run", "--max-output wants a size >= 4096 (e.g. 16M), not '%s'",
					  optarg);
			break;
		case OPT_MAX_PIDS:
			if (parse_int(optarg, 0, 4194304, &l) < 0 || (l > 0 && l < 16))
				die_usage("run", "--max-pids wants 0 (no limit) or a number >= 16, not '%s'",
					  optarg);
			o->max_pids = l;
			break;
		case OPT_USER:
			set_str(&o->user, optarg);
			break;
		case OPT_OFFLINE:
			o->offline = true;
			break;
		case OPT_FIND_LINKS:
			set_str(&o->find_links, optarg);
			break;
		case 'v':
			ft_verbose++;
			break;
		case OPT_FAIL_ON: {
			const char *bad = NULL;
			if (fail_on_parse(optarg, &o->fail_on, &bad) < 0)
				die_usage("run", "--fail-on: '%s' is not a category (%s)", bad,
					  "compatible, intermittent, incompatible, crash, deadlock, ...");
			break;
		}
		case OPT_SHARD: {
			/* checked here, resolved (Slurm's or the Job's environment) by run */
			struct shard sh;
			struct sbuf err = SBUF_INIT;
			if (strcmp(optarg, "slurm") && strcmp(optarg, "k8s") &&
			    strncmp(optarg, "k8s/", 4) && shard_resolve(optarg, &sh, &err) < 0)
				die_usage("run", "%s", err.buf);
			sbuf_release(&err);
			set_str(&o->shard, optarg);
			break;
		}
		case OPT_LIST:
			o->list = true;
			break;
		case OPT_HELP:
			return 1;
		default:
			die_bad_option("run", c, argv);
		}
	}
	if (optind < argc)
		die_usage("run", "unexpected argument '%s'", argv[optind]);
	return 0;
}

char *run_default_registry(void)
{
	const char *e = getenv("FTSCOPE_REGISTRY_DIR"), *home = getenv("HOME");
	if (e && *e)
		return xstrdup(e);
	e = getenv("LABEILLE_REGISTRY_DIR");
	if (e && *e)
		return xstrdup(e);
	return xasprintf("%s/.local/share/labeille/registry", home ? home : "");
}

cJSON *run_opts_config_json(const struct run_opts *o, const char *tracer)
{
	cJSON *c = cJSON_CreateObject(), *env = cJSON_CreateObject();
	struct sbuf deps = SBUF_INIT;
	cJSON_AddStringToObject(c, "target_python", o->target_python);
	json_set_str(c, "baseline_python", o->baseline_python);
	cJSON_AddNumberToObject(c, "iterations", (double)o->iterations);
	if (o->timeout > 0)
		cJSON_AddNumberToObject(c, "timeout", o->timeout);
	else
		cJSON_AddNullToObject(c, "timeout");
	cJSON_AddNumberToObject(c, "stall_threshold", o->stall_threshold);
	cJSON_AddNumberToObject(c, "deadlock_window", o->deadlock_window);
	cJSON_AddBoolToObject(c, "compare_with_gil", o->compare_with_gil);
	cJSON_AddBoolToObject(c, "tsan_build", o->tsan);
	cJSON_AddNumberToObject(c, "parallel_threads", o->parallel_threads);
	cJSON_AddNumberToObject(c, "parallel_iterations", o->parallel_iterations);
	json_set_str(c, "tsan_suppressions", o->tsan_suppressions);
	cJSON_AddNullToObject(c, "tsan_preload"); /* set once the run dir exists */
	cJSON_AddBoolToObject(c, "stop_on_first_pass", o->stop_on_first_pass);
	cJSON_AddBoolToObject(c, "detect_extensions", o->detect_extensions);
	for (size_t i = 0; i < o->extra_deps.n; i++)
		sbuf_addf(&deps, "%s%s", i ? "," : "", o->extra_deps.v[i]);
	json_set_str(c, "extra_deps", deps.len ? deps.buf : NULL);
	json_set_str(c, "test_command_suffix", o->suffix);
	json_set_str(c, "test_command_override", o->override);
	cJSON_AddStringToObject(c, "install_from", o->install_sdist ? "sdist" : "source");
	cJSON_AddStringToObject(c, "install_mode", o->offline ? "offline" : "online");
	json_set_str(c, "find_links", o->find_links);
	cJSON_AddBoolToObject(c, "trust_ft_wheels", o->trust_ft_wheels);
	cJSON_AddBoolToObject(c, "trust_ft_wheels_any_version", o->trust_any_version);
	for (size_t i = 0; i < o->env.n; i++) {
		char *k = xstrdup(o->env.v[i]), *eq = strchr(k, '=');
		*eq = '\0';
		cJSON_AddStringToObject(env, k, eq + 1);
		free(k);
	}
	cJSON_AddItemToObject(c, "env", env);
	cJSON_AddStringToObject(c, "tracer", tracer);
	cJSON_AddBoolToObject(c, "seize_threads", o->seize_threads);
	cJSON_AddStringToObject(c, "monitor", "procfs");
	cJSON_AddNumberToObject(c, "jobs", (double)o->jobs);
	json_set_str(c, "registry_dir", o->package_dir ? NULL : o->registry_dir);
	json_set_str(c, "package_dir", o->package_dir);
	json_set_str(c, "repos_dir", o->repos_dir);
	json_set_str(c, "venvs_dir", o->venvs_dir);
	cJSON_AddNumberToObject(c, "max_output", (double)o->max_output);
	cJSON_AddNumberToObject(c, "max_pids", (double)o->max_pids);
	if (geteuid() == 0 && !o->user) {
		uid_t first, last;
		char *r;
		test_uids_range(&first, &last);
		r = xasprintf("test uids %u-%u", (unsigned)first, (unsigned)last);
		json_set_str(c, "run_as_user", r);
		free(r);
	} else {
		json_set_str(c, "run_as_user", o->user ? o->user : geteuid() == 0 ? "root"
								    : getenv("USER"));
	}
	sbuf_release(&deps);
	return c;
}
