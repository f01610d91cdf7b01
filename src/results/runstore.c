/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The run store (include/ftscope/runstore.h): ft_meta.json and ft_results.jsonl written
 * here, and a loaded run turned into the typed view every reader uses. The JSON keys of
 * docs/results.md are read in this file and nowhere above it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/error.h"
#include "ftscope/json.h"
#include "ftscope/results.h"
#include "ftscope/runstore.h"

#define item(o, k) cJSON_GetObjectItemCaseSensitive((o), (k))

/* ---- writing ---- */

int runstore_write_meta(const char *run_dir, struct cJSON *meta)
{
	char *path = path_join(run_dir, "ft_meta.json");
	char *text = json_print(meta, true);
	int ret = text ? write_file_atomic(path, text, strlen(text)) : -ENOMEM;
	if (ret < 0) {
		errno = -ret;
		ret = error_errno("cannot write '%s'", path);
	}
	free(text);
	free(path);
	return ret;
}

int runstore_append_pkg(const char *run_dir, struct cJSON *pkg)
{
	char *path = path_join(run_dir, "ft_results.jsonl");
	char *line = json_print(pkg, false);
	int ret = 0;
	if (!line || append_line_fsync(path, line) < 0)
		ret = error_errno("cannot append to '%s'", path);
	free(line);
	free(path);
	return ret;
}

/* ---- the view ---- */

static void strv_of_strings(struct strv *sv, const cJSON *arr)
{
	const cJSON *s;
	cJSON_ArrayForEach(s, arr)
		if (cJSON_IsString(s))
			strv_push(sv, s->valuestring);
}

static void load_hang(struct rs_hang *h, const cJSON *hang)
{
	const cJSON *w, *c, *t;
	size_t n = 0;

	if (!cJSON_IsObject(hang))
		return;
	h->present = true;
	h->reason = json_str(hang, "reason");
	h->python_stacks = json_str(hang, "python_stacks");
	h->threads = xcalloc((size_t)cJSON_GetArraySize(item(hang, "threads")) + 1,
			     sizeof(*h->threads));
	cJSON_ArrayForEach(w, item(hang, "threads"))
	{
		struct rs_proc_thread *x = &h->threads[h->nthreads++];
		x->pid = json_int(w, "pid", 0);
		x->tid = json_int(w, "tid", 0);
		x->comm = json_str(w, "comm");
		x->state = json_str(w, "state");
		x->syscall = json_str(w, "syscall");
		x->futex_op = json_str(w, "futex_op");
		x->blocked = json_bool(w, "blocked", false);
	}
	h->detected_after_s = json_num(hang, "detected_after_s", 0);
	h->waits = xcalloc((size_t)cJSON_GetArraySize(item(hang, "waits")) + 1, sizeof(*h->waits));
	cJSON_ArrayForEach(w, item(hang, "waits"))
	{
		struct rs_wait *x = &h->waits[n++];
		x->pid = json_long(w, "pid", 0);
		x->tid = json_long(w, "tid", 0);
		x->owner = json_long(w, "owner", 0);
		x->comm = json_str(w, "comm");
		x->lock = json_str(w, "lock");
		x->native = json_str(w, "native");
		x->python = json_str(w, "python");
	}
	h->nwaits = n;
	n = 0;
	h->cycles = xcalloc((size_t)cJSON_GetArraySize(item(hang, "cycles")) + 1,
			    sizeof(*h->cycles));
	cJSON_ArrayForEach(c, item(hang, "cycles"))
	{
		struct rs_cycle *y = &h->cycles[n++];
		y->certain = json_bool(c, "certain", false);
		y->tids = xcalloc((size_t)cJSON_GetArraySize(item(c, "tids")) + 1, sizeof(long));
		cJSON_ArrayForEach(t, item(c, "tids"))
			if (cJSON_IsNumber(t))
				y->tids[y->ntids++] = json_as_long(t, 0);
	}
	h->ncycles = n;
}

static void load_iter(struct rs_iter *it, const cJSON *o, bool gil)
{
	const cJSON *c, *t;
	size_t n = 0;

	it->raw = o;
	it->gil = gil;
	it->gil_text = json_str(o, "gil");
	it->status_text = json_str(o, "status");
	it->status = it->status_text ? iter_status_from_name(it->status_text) : -1;
	it->index = json_long(o, "index", 0);
	it->duration_s = json_num(o, "duration_s", 0);
	it->last_output_line = json_str(o, "last_output_line");
	it->crash_signal = json_str(o, "crash_signal");
	it->crash_signature = json_str(o, "crash_signature");
	it->crash_signature_id = json_str(o, "crash_signature_id");
	sig_parts_parse(it->crash_signature, &it->sig);
	it->crashes = xcalloc((size_t)cJSON_GetArraySize(item(o, "crashes")) + 1,
			      sizeof(*it->crashes));
	cJSON_ArrayForEach(c, item(o, "crashes"))
	{
		struct rs_crash *x = &it->crashes[n++];
		x->pid = json_long(c, "pid", 0);
		x->comm = json_str(c, "comm");
		x->signal = json_str(c, "signal");
		x->signature = json_str(c, "signature");
		x->signature_id = json_str(c, "signature_id");
		x->runner = json_bool(c, "runner", false);
		x->runner_known = cJSON_IsBool(item(c, "runner"));
	}
	it->ncrashes = n;
	n = 0;
	it->has_test_results = cJSON_IsObject(item(o, "test_results"));
	it->tests = xcalloc((size_t)cJSON_GetArraySize(item(o, "test_results")) + 1,
			    sizeof(*it->tests));
	cJSON_ArrayForEach(t, item(o, "test_results"))
	{
		if (!t->string)
			continue;
		it->tests[n].id = t->string;
		it->tests[n++].outcome = cJSON_IsString(t) ? t->valuestring : NULL;
	}
	it->ntests = n;
	load_hang(&it->hang, item(o, "hang"));
}

static struct rs_iter *load_iters(const cJSON *arr, bool gil, size_t *n)
{
	struct rs_iter *v = xcalloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*v));
	const cJSON *o;
	*n = 0;
	cJSON_ArrayForEach(o, arr)
		load_iter(&v[(*n)++], o, gil);
	return v;
}

static void load_race(struct rs_race *r, const cJSON *o)
{
	const cJSON *its = item(o, "iterations"), *x;
	r->signature_id = json_str(o, "signature_id");
	r->kind = json_str(o, "kind");
	r->signature = json_str(o, "signature");
	r->summary = json_str(o, "summary");
	r->count = json_long(o, "count", 0);
	r->suppressed = json_bool(o, "suppressed", false);
	if (cJSON_IsNumber(its)) {
		r->has_iterations = r->iterations_is_count = true;
		r->iterations_count = json_as_long(its, 0);
	} else if (cJSON_IsArray(its)) {
		r->has_iterations = true;
		cJSON_ArrayForEach(x, its)
		{
			if (cJSON_IsNumber(x))
				strv_push_owned(&r->iterations,
						xasprintf("%ld", json_as_long(x, 0)));
			else if (cJSON_IsString(x))
				strv_push(&r->iterations, x->valuestring);
		}
	}
}

static int json_tristate(const cJSON *o, const char *key)
{
	const cJSON *v = item(o, key);
	return !cJSON_IsBool(v) ? -1 : cJSON_IsTrue(v);
}

/* A stored pep779 object into r; false when it is not one. */
static bool read_pep779(struct rs_pep779 *r, const cJSON *pep)
{
	if (!cJSON_IsObject(pep))
		return false;
	r->time_ratio = json_num(pep, "time_ratio", 0);
	r->rss_ratio = json_num(pep, "rss_ratio", 0);
	r->ft_median_s = json_num(pep, "ft_median_s", 0);
	r->gil_median_s = json_num(pep, "gil_median_s", 0);
	r->ft_median_rss_kb = json_num(pep, "ft_median_rss_kb", 0);
	r->gil_median_rss_kb = json_num(pep, "gil_median_rss_kb", 0);
	r->time_ok = json_tristate(pep, "time_ok");
	r->rss_ok = json_tristate(pep, "rss_ok");
	return true;
}

/* The stored pep779 object; runs recorded before it existed: computed here. */
static void load_pep779(struct rs_pkg *p, const cJSON *pep, const cJSON *iters,
			const cJSON *giters)
{
	cJSON *computed = NULL;
	if (!pep)
		pep = computed = pep779_json(iters, giters);
	p->has_pep779 = read_pep779(&p->pep779, pep);
	cJSON_Delete(computed);
}

static void load_ext(struct rs_ext *e, const cJSON *ext)
{
	const cJSON *x, *scan = item(ext, "source_scan");
	e->present = true;
	e->raw_extensions = item(ext, "extensions");
	e->modules = xcalloc((size_t)cJSON_GetArraySize(e->raw_extensions) + 1,
			     sizeof(*e->modules));
	cJSON_ArrayForEach(x, e->raw_extensions)
	{
		struct rs_module *m = &e->modules[e->nmodules++];
		m->module_name = json_str(x, "module_name");
		m->import_error = json_str(x, "import_error");
		m->is_extension = json_bool(x, "is_extension", true);
		m->import_ok = json_bool(x, "import_ok", true);
		m->triggered_gil_fallback = json_bool(x, "triggered_gil_fallback", false);
		e->nextensions += m->is_extension;
	}
	e->import_ok = json_bool(ext, "import_ok", true);
	e->import_error = json_str(ext, "import_error");
	e->probe_error = json_str(ext, "probe_error");
	e->gil_fallback_active = json_bool(ext, "gil_fallback_active", false);
	e->is_pure_python = json_tristate(ext, "is_pure_python");
	cJSON_ArrayForEach(x, item(ext, "extensions"))
	{
		if (json_bool(x, "triggered_gil_fallback", false) && json_str(x, "module_name")) {
			e->gil_fallback_module = json_str(x, "module_name");
			break;
		}
	}
	e->scanned = cJSON_IsObject(scan);
	e->raw_scan = e->scanned ? scan : NULL;
	e->files_scanned = json_long(scan, "files_scanned", 0);
	e->files_with_mod_gil = json_long(scan, "files_with_mod_gil", 0);
	e->truncated = json_bool(scan, "truncated", false);
	e->decls = xcalloc((size_t)cJSON_GetArraySize(item(scan, "declarations")) + 1,
			   sizeof(*e->decls));
	cJSON_ArrayForEach(x, item(scan, "declarations"))
	{
		struct rs_decl *d = &e->decls[e->ndecls++];
		d->file = json_str(x, "file");
		d->kind = json_str(x, "kind");
		d->line_text = json_str(x, "line_text");
		d->line_number = json_int(x, "line_number", 0);
		d->is_not_used = json_bool(x, "is_not_used", false);
	}
}

static void load_pkg(struct rs_pkg *p, const cJSON *o, const char *run_dir)
{
	const cJSON *x, *giters = item(o, "gil_enabled_iterations");
	size_t n = 0;

	p->raw = o;
	p->run_dir = run_dir;
	p->name = json_str(o, "package");
	p->category_text = json_str(o, "category");
	p->cat = category_parse(p->category_text);
	p->iters = json_long(o, "iterations_completed", 0);
	p->passes = json_long(o, "pass_count", 0);
	p->fails = json_long(o, "fail_count", 0);
	p->pass_rate = json_num(o, "pass_rate",
				p->iters ? (double)p->passes / (double)p->iters : 0);
	p->mean_duration_s = json_num(o, "mean_duration_s", 0);
	p->has_gil_pass_rate = cJSON_IsNumber(item(o, "gil_enabled_pass_rate"));
	p->gil_pass_rate = json_num(o, "gil_enabled_pass_rate", 0);
	p->commit = json_str(o, "commit");
	p->crashes = json_long(o, "crash_count", 0);
	p->deadlocks = json_long(o, "deadlock_count", 0);
	p->timeouts = json_long(o, "timeout_count", 0);
	p->tsan_iters = json_long(o, "tsan_warning_iterations", 0);
	p->gil_comparison = json_str(o, "gil_comparison");
	p->interrupted = json_bool(o, "interrupted", false);
	p->stress_only = json_bool(o, "stress_only", false);
	p->install_ok = json_bool(o, "install_ok", true);
	p->import_ok = json_bool(o, "import_ok", true);
	p->import_error = json_str(o, "import_error");
	p->started_at = json_str(o, "started_at");
	p->stalls = json_long(item(o, "hang_count"), "stall", 0);
	p->concurrency_exercised = json_tristate(o, "concurrency_exercised");
	p->it = load_iters(item(o, "iterations"), false, &p->nit);
	p->has_gil_iters = cJSON_IsArray(giters);
	p->git = load_iters(giters, true, &p->ngit);
	p->sit = load_iters(item(item(o, "stress"), "iterations"), false, &p->nsit);
	for (size_t k = 0; k < p->nsit; k++)
		p->sit[k].stress = true;
	strv_of_strings(&p->failure_signatures, item(o, "failure_signatures"));
	p->nfailure_signatures_any = (size_t)cJSON_GetArraySize(item(o, "failure_signatures"));
	p->nflaky_any = (size_t)cJSON_GetArraySize(item(o, "flaky_tests"));
	strv_of_strings(&p->tsan_warning_types, item(o, "tsan_warning_types"));
	strv_of_strings(&p->gil_fallback_modules, item(o, "gil_fallback_modules"));
	p->races = xcalloc((size_t)cJSON_GetArraySize(item(o, "tsan_races")) + 1,
			   sizeof(*p->races));
	cJSON_ArrayForEach(x, item(o, "tsan_races"))
		load_race(&p->races[p->nraces++], x);
	p->flaky = xcalloc((size_t)cJSON_GetArraySize(item(o, "flaky_tests")) + 1,
			   sizeof(*p->flaky));
	cJSON_ArrayForEach(x, item(o, "flaky_tests"))
	{
		if (!x->string)
			continue;
		p->flaky[n].test = x->string;
		p->flaky[n++].fails = json_as_long(x, 0);
	}
	p->nflaky = n;
	x = item(o, "extension_compat");
	p->ext_compat = cJSON_IsObject(x) ? x : NULL;
	p->is_ext = p->ext_compat && !json_bool(x, "is_pure_python", true);
	if (p->ext_compat)
		load_ext(&p->ext, p->ext_compat);
	if (p->has_gil_iters)
		load_pep779(p, item(o, "pep779"), item(o, "iterations"), giters);
	p->has_pep779_baseline = read_pep779(&p->pep779_baseline, item(o, "pep779_baseline"));
}

void rs_pkg_from_json(struct rs_pkg *p, const cJSON *o, const char *run_dir)
{
	memset(p, 0, sizeof(*p));
	load_pkg(p, o, run_dir);
}

static void load_meta(struct run_view *v)
{
	const cJSON *m = v->rd.meta;
	const char *status = json_str(m, "status"), *id = json_str(m, "run_id"), *base;
	size_t len = strlen(v->rd.dir);
	const cJSON *py, *sys, *cfg, *sk, *x;

	/* "results/ft_x/" names the run ft_x (the string is ours to trim) */
	while (len > 1 && v->rd.dir[len - 1] == '/')
		v->rd.dir[--len] = '\0';
	base = strrchr(v->rd.dir, '/');
	v->meta.raw = m;
	v->meta.present = m != NULL;
	v->meta.run_id = id && *id ? id : base && base[1] ? base + 1 : v->rd.dir;
	if (!m)
		v->meta.status = RS_UNKNOWN;
	else if (!status || !strcmp(status, "complete")) /* labeille's meta has no status */
		v->meta.status = RS_COMPLETE;
	else if (!strcmp(status, "interrupted") || !strcmp(status, "partial"))
		v->meta.status = RS_INTERRUPTED; /* partial: a merge that misses shards */
	else
		v->meta.status = RS_RUNNING;
	v->meta.status_text = status;
	v->meta.packages_total = m ? json_long(m, "packages_total", 0) : 0;
	v->meta.compare_with_gil = m && json_bool(item(m, "config"), "compare_with_gil", false);
	if (!m)
		return;
	v->meta.started_at = json_str(m, "started_at");
	v->meta.timestamp = json_str(m, "timestamp");
	v->meta.finished_at = json_str(m, "finished_at");
	v->meta.total_duration_s = json_num(m, "total_duration_s", 0);
	py = item(m, "python_profile");
	if (cJSON_IsObject(py)) {
		v->meta.python.present = true;
		v->meta.python.version = json_str(py, "version");
		v->meta.python.implementation = json_str(py, "implementation");
		v->meta.python.compiler = json_str(py, "compiler");
		v->meta.python.path = json_str(py, "path");
		v->meta.python.gil_disabled = json_bool(py, "gil_disabled", false);
		v->meta.python.debug_build = json_bool(py, "debug_build", false);
		v->meta.python.jit_enabled = json_bool(py, "jit_enabled", false);
	}
	sys = item(m, "system_profile");
	if (sys) {
		v->meta.system.present = true;
		v->meta.system.is_object = cJSON_IsObject(sys);
		v->meta.system.cpu_model = json_str(sys, "cpu_model");
		v->meta.system.os_distro = json_str(sys, "os_distro");
		v->meta.system.cpu_cores_logical = json_num(sys, "cpu_cores_logical", 0);
		v->meta.system.ram_total_gb = json_num(sys, "ram_total_gb", 0);
	}
	x = item(m, "merged_from");
	if (cJSON_IsArray(x) && cJSON_GetArraySize(x) > 0) {
		v->meta.merged.from = x;
		v->meta.merged.nshards = (size_t)cJSON_GetArraySize(x);
		v->meta.merged.shards_duration_sum_s = json_num(m, "shards_duration_sum_s", 0);
	}
	cfg = item(m, "config");
	v->meta.config.iterations = json_num(cfg, "iterations", 0);
	v->meta.config.has_iterations = cJSON_IsNumber(item(cfg, "iterations"));
	v->meta.config.install_from = json_str(cfg, "install_from");
	v->meta.config.deadlock_window = json_num(cfg, "deadlock_window", 0);
	v->meta.config.timeout = json_num(cfg, "timeout", 0);
	v->meta.config.stop_on_first_pass = json_bool(cfg, "stop_on_first_pass", false);
	v->meta.config.tsan_build = json_bool(cfg, "tsan_build", false);
	v->meta.config.tracer = json_str(cfg, "tracer");
	sk = item(m, "packages_skipped");
	v->meta.nskipped_any = (size_t)cJSON_GetArraySize(sk);
	if (cJSON_IsArray(sk)) {
		v->meta.skipped = xcalloc(v->meta.nskipped_any + 1, sizeof(*v->meta.skipped));
		cJSON_ArrayForEach(x, sk)
		{
			struct rs_skipped *k = &v->meta.skipped[v->meta.nskipped++];
			/* a bare name is tolerated */
			k->name = cJSON_IsString(x) ? x->valuestring : json_str(x, "package");
			k->reason = json_str(x, "reason");
		}
	}
}

static void build_view(struct run_view *v)
{
	load_meta(v);
	v->n = v->rd.n;
	v->pkgs = xcalloc(v->n + 1, sizeof(*v->pkgs));
	for (size_t i = 0; i < v->n; i++)
		load_pkg(&v->pkgs[i], v->rd.pkgs[i], v->rd.dir);
}

int runstore_load(const char *dir, struct run_view *v)
{
	memset(v, 0, sizeof(*v));
	if (run_load(dir, &v->rd) < 0)
		return -1;
	build_view(v);
	return 0;
}

static void release_iters(struct rs_iter *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct rs_iter *it = &v[i];
		sig_parts_release(&it->sig);
		free(it->crashes);
		free(it->tests);
		free(it->hang.waits);
		free(it->hang.threads);
		for (size_t k = 0; k < it->hang.ncycles; k++)
			free(it->hang.cycles[k].tids);
		free(it->hang.cycles);
	}
	free(v);
}

void rs_pkg_release(struct rs_pkg *p)
{
	release_iters(p->it, p->nit);
	release_iters(p->git, p->ngit);
	release_iters(p->sit, p->nsit);
	strv_release(&p->failure_signatures);
	strv_release(&p->tsan_warning_types);
	strv_release(&p->gil_fallback_modules);
	for (size_t k = 0; k < p->nraces; k++)
		strv_release(&p->races[k].iterations);
	free(p->races);
	free(p->flaky);
	free(p->ext.decls);
	free(p->ext.modules);
	memset(p, 0, sizeof(*p));
}

static void release_pkgs(struct run_view *v)
{
	for (size_t i = 0; i < v->n; i++)
		rs_pkg_release(&v->pkgs[i]);
	free(v->pkgs);
	v->pkgs = NULL;
	v->n = 0;
}

void run_view_release(struct run_view *v)
{
	release_pkgs(v);
	free(v->meta.skipped);
	run_data_release(&v->rd);
	memset(v, 0, sizeof(*v));
}

const struct rs_pkg *run_view_pkg(const struct run_view *v, const char *name)
{
	for (size_t i = 0; name && i < v->n; i++)
		if (v->pkgs[i].name && !strcmp(v->pkgs[i].name, name))
			return &v->pkgs[i];
	return NULL;
}

bool rs_iter_is(const struct rs_iter *it, enum iter_status s)
{
	return it->status == (int)s;
}

bool rs_test_failed(const struct rs_test *t)
{
	return t->outcome && (!strcmp(t->outcome, "FAILED") || !strcmp(t->outcome, "ERROR"));
}

void runstore_hang_stacks(const struct rs_pkg *p, const struct rs_iter *it, size_t max,
			  struct rs_hang_stacks *st)
{
	memset(st, 0, sizeof(*st));
	st->max = max;
	st->forensics = run_load_forensics(p->run_dir, it->raw, NULL);
	st->snap = forensics_hang_snapshot(st->forensics);
	st->present = st->snap != NULL;
}

void runstore_hang_stacks_python(const struct rs_hang_stacks *st, long tid, struct strv *out)
{
	const cJSON *p, *t, *fr, *procs = st->snap ? item(st->snap, "processes") : NULL;
	cJSON_ArrayForEach(p, procs)
	cJSON_ArrayForEach(t, item(p, "threads"))
	{
		if (json_long(t, "tid", 0) != tid)
			continue;
		cJSON_ArrayForEach(fr, item(t, "frames"))
		{
			const char *file = json_str(fr, "file"), *b;
			if (!json_bool(fr, "python", false) || out->n == st->max)
				continue;
			b = file ? strrchr(file, '/') : NULL;
			strv_push_owned(out, xasprintf("%s:%d %s", b ? b + 1 : file ? file : "?",
						       json_int(fr, "line", 0),
						       json_str(fr, "function") ? json_str(fr, "function")
										: "?"));
		}
		return;
	}
}

void runstore_hang_stacks_release(struct rs_hang_stacks *st)
{
	cJSON_Delete(st->forensics);
	memset(st, 0, sizeof(*st));
}

/* ---- crash snapshots ---- */

bool runstore_iter_has_forensics(const cJSON *iter)
{
	return json_str(iter, "forensics") != NULL;
}

static const cJSON *crashed_thread(const cJSON *proc)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, item(proc, "threads"))
		if (json_bool(t, "crashed", false))
			return t;
	return NULL;
}

static bool match_snapshot(const cJSON *forensics, const char *sig_id, long pid, bool child,
			   struct rs_crash_snapshot *out)
{
	const cJSON *s, *p;

	for (int pass = 0; pass < 3; pass++) {
		cJSON_ArrayForEach(s, forensics)
		{
			const char *r = json_str(s, "reason"), *sid = json_str(s, "signature_id");
			if (!r || strcmp(r, "crash"))
				continue;
			/* by signature id, then by pid, then (runner) any crash snapshot */
			if (pass == 0 && (!sid || strcmp(sid, sig_id)))
				continue;
			if (pass == 2 && child)
				continue;
			cJSON_ArrayForEach(p, item(s, "processes"))
			{
				const cJSON *t = crashed_thread(p);
				if (!t)
					continue;
				if (pass == 1 && (!pid || json_int(p, "pid", 0) != pid))
					continue;
				out->proc = p;
				out->thread = t;
				return true;
			}
		}
	}
	return false;
}

int runstore_crash_snapshot(const char *run_dir, const cJSON *iter, const char *sig_id,
			    long pid, bool child, struct rs_crash_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	out->forensics = run_load_forensics(run_dir, iter, &out->path);
	if (!out->forensics || !match_snapshot(out->forensics, sig_id, pid, child, out)) {
		rs_crash_snapshot_release(out);
		return -1;
	}
	return 0;
}

cJSON *runstore_crash_snapshot_reduced(const struct rs_crash_snapshot *s)
{
	cJSON *snap = cJSON_CreateObject(), *procs = cJSON_CreateArray(), *p = cJSON_CreateObject();
	cJSON *threads = cJSON_CreateArray();
	const cJSON *x;
	static const char *const keep[] = { "pid", "exe", "cmdline", "python", "python_error" };

	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		x = item(s->proc, keep[i]);
		if (x)
			cJSON_AddItemToObject(p, keep[i], cJSON_Duplicate(x, true));
	}
	cJSON_AddItemToArray(threads, cJSON_Duplicate(s->thread, true));
	cJSON_AddItemToObject(p, "threads", threads);
	cJSON_AddItemToArray(procs, p);
	cJSON_AddItemToObject(snap, "processes", procs);
	return snap;
}

void rs_crash_snapshot_release(struct rs_crash_snapshot *s)
{
	cJSON_Delete(s->forensics);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

/* ---- merged runs, for people ---- */

/* "a, b" */
static void add_list(struct sbuf *sb, const struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		sbuf_addf(sb, "%s%s", i ? ", " : "", sv->v[i]);
}

char *rs_merged_text(const struct rs_meta *m)
{
	struct strv hosts = STRV_INIT;
	struct sbuf sb = SBUF_INIT;
	const cJSON *f;
	if (!m->merged.nshards)
		return NULL;
	cJSON_ArrayForEach(f, m->merged.from)
	{
		const char *h = json_str(f, "hostname");
		strv_push_unique(&hosts, h ? h : "?");
	}
	sbuf_addf(&sb, "%zu shard%s on host%s ", m->merged.nshards,
		  m->merged.nshards == 1 ? "" : "s", hosts.n == 1 ? "" : "s");
	add_list(&sb, &hosts);
	strv_release(&hosts);
	return sbuf_detach(&sb);
}

/* "cpu, N CPUs, X GB RAM, distro" of one system_profile. */
static char *system_text(const cJSON *sys)
{
	const char *cpu = json_str(sys, "cpu_model"), *os = json_str(sys, "os_distro");
	double cores = json_num(sys, "cpu_cores_logical", 0);
	struct sbuf sb = SBUF_INIT;
	sbuf_adds(&sb, cpu ? cpu : "?");
	if (cores > 0)
		sbuf_addf(&sb, ", %.0f CPUs", cores);
	sbuf_addf(&sb, ", %.0f GB RAM, %s", json_num(sys, "ram_total_gb", 0), os ? os : "?");
	return sbuf_detach(&sb);
}

char *rs_merged_systems(const struct rs_meta *m)
{
	struct strv kinds = STRV_INIT, *hosts;
	struct sbuf out = SBUF_INIT;
	const cJSON *f;
	if (!m->merged.nshards || (m->system.cpu_model && m->system.os_distro &&
				   m->system.cpu_cores_logical > 0 && m->system.ram_total_gb > 0))
		return NULL;
	hosts = xcalloc(m->merged.nshards + 1, sizeof(*hosts));
	cJSON_ArrayForEach(f, m->merged.from)
	{
		char *t = system_text(item(f, "system_profile"));
		const char *h = json_str(f, "hostname");
		size_t k;
		for (k = 0; k < kinds.n && strcmp(kinds.v[k], t); k++)
			;
		if (k == kinds.n)
			strv_push_owned(&kinds, t);
		else
			free(t);
		strv_push_unique(&hosts[k], h ? h : "?");
	}
	for (size_t k = 0; k < kinds.n; k++) {
		sbuf_addf(&out, "%s%s on ", k ? "; " : "", kinds.v[k]);
		add_list(&out, &hosts[k]);
	}
	for (size_t k = 0; k < m->merged.nshards; k++)
		strv_release(&hosts[k]);
	free(hosts);
	strv_release(&kinds);
	return sbuf_detach(&out);
}
