/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/procfs.h"
#include "ftscope/results.h"
#include "ftscope/signature.h"
#include "ftscope/supervise.h"
#include "ftscope/text.h"
#include "ftscope/verdict.h"

static const struct tsan_supp *tsan_suppressions;

void stderr_evidence_set_tsan_suppressions(const struct tsan_supp *s)
{
	tsan_suppressions = s;
}

void stderr_evidence_scan(const char *text, struct stderr_evidence *ev)
{
	regex_t gil, cur, frame;
	regmatch_t m[3];
	const char *p;
	memset(ev, 0, sizeof(*ev));
	if (!text)
		return;
	/* Whole ThreadSanitizer reports; the kinds of those no suppression covers. */
	tsan_parse(text, strlen(text), &ev->tsan);
	tsan_supp_apply(tsan_suppressions, &ev->tsan);
	for (size_t i = 0; i < ev->tsan.n; i++)
		if (!ev->tsan.v[i].suppressed && !ev->tsan.v[i].fatal) /* fatal: a crash */
			strv_push_unique(&ev->tsan_kinds, ev->tsan.v[i].kind);
	regcomp(&gil, "global interpreter lock \\(GIL\\) has been enabled to load module '([^']+)'",
		REG_EXTENDED);
	regcomp(&cur, "Current thread 0x[0-9a-f]+ \\(most recent call first\\):\n", REG_EXTENDED);
	regcomp(&frame, "^  File \"([^\"]*)\", line [0-9]+ in ([^\n]*)", REG_EXTENDED | REG_NEWLINE);
	for (p = text; !regexec(&gil, p, 2, m, 0); p += m[0].rm_eo) {
		char *k = xstrndup(p + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
		strv_push_unique(&ev->gil_modules, k);
		free(k);
	}
	/* The last fatal dump's current thread, innermost frame. */
	{
		const char *last = NULL;
		for (p = text; !regexec(&cur, p, 1, m, 0); p += m[0].rm_eo)
			last = p + m[0].rm_eo;
		if (last && !regexec(&frame, last, 3, m, 0) && m[0].rm_so == 0) {
			char *file = xstrndup(last + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so));
			char *fn = xstrndup(last + m[2].rm_so, (size_t)(m[2].rm_eo - m[2].rm_so));
			const char *base = strrchr(file, '/');
			ev->py_frame = xasprintf("%s:%s", base ? base + 1 : file, trim(fn));
			free(file);
			free(fn);
		}
	}
	regfree(&gil);
	regfree(&cur);
	regfree(&frame);
}

void stderr_evidence_release(struct stderr_evidence *ev)
{
	free(ev->py_frame);
	strv_release(&ev->tsan_kinds);
	tsan_reports_release(&ev->tsan);
	strv_release(&ev->gil_modules);
}

char *crash_signature_basic(int sig, const char *py_frame)
{
	const char *name = signal_name(sig);
	if (!name)
		name = "signal";
	if (py_frame)
		return xasprintf("%s: %s", name, py_frame);
	return xstrdup(name);
}

/* Name the recorder's hottest futex addresses where the hang snapshot knows them. */
static void resolve_lock_waits(cJSON *rec, const cJSON *snap)
{
	const cJSON *lw = cJSON_GetObjectItemCaseSensitive(rec, "lock_waits"), *e, *p, *t;
	if (!snap || !cJSON_IsObject(lw))
		return;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(lw, "top"))
	{
		const char *addr = json_str(e, "uaddr");
		if (!addr)
			continue;
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(snap, "processes"))
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(p, "threads"))
		{
			const cJSON *w = cJSON_GetObjectItemCaseSensitive(t, "wait");
			if (!cJSON_IsObject(w) || !json_str(w, "futex_uaddr") ||
			    strcmp(json_str(w, "futex_uaddr"), addr) || cJSON_HasObjectItem(e, "lock"))
				continue;
			json_set_str((cJSON *)e, "lock", json_str(w, "lock"));
			json_set_str((cJSON *)e, "lock_object", json_str(w, "lock_object"));
			cJSON_AddNumberToObject((cJSON *)e, "waiter", json_num(t, "tid", 0));
		}
	}
}

static const struct proc_crash *runner_crash(const struct iter_outcome *o)
{
	for (size_t i = 0; i < o->ncrashes; i++)
		if (o->crashes[i].runner)
			return &o->crashes[i];
	return NULL;
}

/* The hang in a few lines per thread: what it waits on, who holds it, where it is. */
static cJSON *hang_waits(const cJSON *snap)
{
	cJSON *a = cJSON_CreateArray();
	const cJSON *p, *t;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(snap, "processes"))
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(p, "threads"))
	{
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(t, "wait"), *fr;
		cJSON *j = cJSON_CreateObject();
		const char *native = NULL;
		char *py = NULL;
		cJSON_AddNumberToObject(j, "pid", json_num(p, "pid", 0));
		cJSON_AddNumberToObject(j, "tid", json_num(t, "tid", 0));
		json_set_str(j, "comm", json_str(t, "comm"));
		json_set_str(j, "lock", cJSON_IsObject(w) ? json_str(w, "lock") : NULL);
		if (cJSON_IsObject(w) && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(w, "owner")))
			cJSON_AddNumberToObject(j, "owner", json_num(w, "owner", 0));
		else
			cJSON_AddNullToObject(j, "owner");
		cJSON_ArrayForEach(fr, cJSON_GetObjectItemCaseSensitive(t, "frames"))
		{
			if (json_bool(fr, "python", false) && !py) {
				const char *file = json_str(fr, "file");
				const char *b = file ? strrchr(file, '/') : NULL;
				py = xasprintf("%s:%d %s", b ? b + 1 : (file ? file : "?"),
					       json_int(fr, "line", 0), json_str(fr, "function"));
			} else if (!json_bool(fr, "python", false) && !native &&
				   !json_bool(fr, "plumbing", false)) {
				native = json_str(fr, "function");
			}
		}
		json_set_str(j, "python", py);
		json_set_str(j, "native", native);
		free(py);
		cJSON_AddItemToArray(a, j);
	}
	return a;
}

static cJSON *threads_json(const struct iter_outcome *o)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < o->nthreads; i++) {
		const struct hang_thread *h = &o->threads[i];
		cJSON *t = cJSON_CreateObject();
		char state[2] = { h->state, 0 }, buf[64];
		cJSON_AddNumberToObject(t, "pid", h->pid);
		cJSON_AddNumberToObject(t, "tid", h->tid);
		cJSON_AddStringToObject(t, "comm", h->comm);
		cJSON_AddStringToObject(t, "state", state);
		if (h->syscall == FT_SYS_FUTEX)
			cJSON_AddStringToObject(t, "syscall", "futex");
		else if (h->syscall == FT_SYS_WAIT4)
			cJSON_AddStringToObject(t, "syscall", "wait4");
		else if (h->syscall == FT_SYS_WAITID)
			cJSON_AddStringToObject(t, "syscall", "waitid");
		else if (h->syscall == -2)
			cJSON_AddStringToObject(t, "syscall", "running");
		else if (h->syscall >= 0) {
			snprintf(buf, sizeof(buf), "%ld", h->syscall);
			cJSON_AddStringToObject(t, "syscall", buf);
		} else
			cJSON_AddNullToObject(t, "syscall");
		if (h->syscall == FT_SYS_FUTEX) {
			snprintf(buf, sizeof(buf), "0x%llx", h->futex_uaddr);
			cJSON_AddStringToObject(t, "futex_uaddr", buf);
			futex_op_name(h->futex_op, buf, sizeof(buf));
			cJSON_AddStringToObject(t, "futex_op", buf);
		} else {
			cJSON_AddNullToObject(t, "futex_uaddr");
			cJSON_AddNullToObject(t, "futex_op");
		}
		cJSON_AddBoolToObject(t, "blocked", h->blocked);
		cJSON_AddItemToArray(a, t);
	}
	return a;
}

/* One TSAN report for an iteration record: what it is, where, and its signature. */
static cJSON *tsan_report_json(const struct tsan_report *r)
{
	const struct tsan_stack *keys[2];
	size_t nk = tsan_key_stacks(r, keys, 2);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "kind", r->kind);
	cJSON_AddStringToObject(j, "signature_id", r->id);
	cJSON_AddStringToObject(j, "signature", r->signature);
	json_set_str(j, "summary", r->summary);
	json_set_str(j, "location", r->location);
	for (size_t k = 0; k < 2; k++) {
		cJSON *a = cJSON_CreateArray();
		char *top[3];
		size_t n = k < nk ? tsan_top_frames(keys[k], top, 3) : 0;
		for (size_t i = 0; i < n; i++) {
			cJSON_AddItemToArray(a, cJSON_CreateString(top[i]));
			free(top[i]);
		}
		cJSON_AddItemToObject(j, k ? "frames_b" : "frames_a", a);
	}
	cJSON_AddBoolToObject(j, "suppressed", r->suppressed);
	if (r->suppressed_by)
		cJSON_AddStringToObject(j, "suppressed_by", r->suppressed_by);
	if (r->truncated)
		cJSON_AddTrueToObject(j, "truncated");
	return j;
}

static cJSON *tsan_reports_json(const struct tsan_reports *rs)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < rs->n && i < TSAN_REPORTS_MAX; i++)
		cJSON_AddItemToArray(a, tsan_report_json(&rs->v[i]));
	return a;
}

cJSON *iteration_parse(const char *text, size_t len)
{
	cJSON *j = json_parse(text, len);
	if (!cJSON_IsObject(j) || iter_status_from_name(json_str(j, "status")) < 0) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

/*
 * A TSAN fatal report (SEGV, ...) in a process that exited anyway (TSAN_OPTIONS exitcode=0
 * applies to fatal reports too): the crash's signature from the report's own stack, in the
 * form of a ptrace one (signal | top 3 frames | py frame). 0, or -1 if it has no frames.
 */
static int tsan_crash_signature(const struct tsan_report *r, int sig, const char *py_frame,
				struct crash_sig *cs)
{
	const struct tsan_stack *key = NULL;
	struct sig_frame *f;
	size_t n = 0;
	int ret;
	if (tsan_key_stacks(r, &key, 1) != 1 || !key)
		return -1;
	f = xcalloc(key->nframes + 1, sizeof(*f));
	for (size_t i = 0; i < key->nframes; i++) {
		const struct tsan_frame *t = &key->frames[i];
		if (t->runtime)
			continue;
		f[n].function = t->function;
		f[n].module = t->module;
		f[n++].module_offset = t->offset;
	}
	if (py_frame) { /* "file.py:func" from a faulthandler dump, if the test printed one */
		const char *c = strrchr(py_frame, ':');
		f[n].is_python = true;
		f[n].py_file = c ? xstrndup(py_frame, (size_t)(c - py_frame)) : xstrdup(py_frame);
		f[n++].py_func = c ? c + 1 : NULL;
	}
	ret = crash_signature(signal_name(sig) ? signal_name(sig) : "SIGABRT", f, n, cs);
	if (py_frame)
		free((char *)f[n - 1].py_file);
	free(f);
	return ret;
}

void iteration_require_session(cJSON *it, const struct test_report *tr)
{
	const char *st = json_str(it, "status");
	if (!st || strcmp(st, "pass") || (tr && (tr->have_counts || tr->n)))
		return;
	json_set_str(it, "status", "fail");
	json_set_bool(it, "session_unfinished", true);
}

cJSON *iteration_json(int index, const char *gil, const struct iter_outcome *o,
		      const struct test_report *tr, const char *stderr_text,
		      const char *artifacts_rel)
{
	cJSON *it = cJSON_CreateObject();
	struct stderr_evidence ev;
	int crash_sig = 0;
	enum iter_status st = verdict_iteration(o->exited, o->exit_code, o->term_signal,
						o->runner_crash_sig, o->killed_by, &crash_sig);
	const struct tsan_report *fatal;
	struct crash_sig tcs = { 0 };
	bool tsan_crash = false;
	stderr_evidence_scan(stderr_text ? stderr_text : o->stderr_tail, &ev);
	/* TSAN ended a process on a deadly signal and exited with TSAN_OPTIONS' exitcode (0):
	 * the runner's exit code hides a crash. */
	fatal = tsan_first_fatal(&ev.tsan);
	if (fatal && (st == ITER_PASS || st == ITER_FAIL)) {
		st = ITER_CRASH;
		crash_sig = tsan_fatal_signal(fatal);
		tsan_crash = tsan_crash_signature(fatal, crash_sig, ev.py_frame, &tcs) == 0;
	}

	cJSON_AddNumberToObject(it, "index", index);
	cJSON_AddStringToObject(it, "status", iter_status_name(st));
	if (o->started && (o->exited || o->term_signal))
		cJSON_AddNumberToObject(it, "exit_code", o->exit_code);
	else
		cJSON_AddNullToObject(it, "exit_code");
	cJSON_AddNumberToObject(it, "duration_s", round_to(o->duration_s, 3));
	if (crash_sig) {
		const struct proc_crash *rc = runner_crash(o);
		cJSON_AddStringToObject(it, "crash_signal", signal_name(crash_sig));
		if (fatal && !rc)
			cJSON_AddStringToObject(it, "crash_source", "tsan");
		if (tsan_crash && !rc) {
			cJSON *fr = cJSON_CreateArray();
			cJSON_AddStringToObject(it, "crash_signature", tcs.text);
			cJSON_AddStringToObject(it, "crash_signature_id", tcs.id);
			for (size_t i = 0; i < tcs.nframes; i++)
				cJSON_AddItemToArray(fr, cJSON_CreateString(tcs.frames[i]));
			cJSON_AddItemToObject(it, "crash_frames", fr);
			json_set_str(it, "crash_python_frame", tcs.py_frame);
		} else if (rc && rc->sig_text) {
			/* Symbolized: signal + top frames + innermost Python frame (ptrace). */
			cJSON_AddStringToObject(it, "crash_signature", rc->sig_text);
			cJSON_AddStringToObject(it, "crash_signature_id", rc->sig_id);
			cJSON_AddItemToObject(it, "crash_frames", cJSON_Duplicate(rc->top_frames, true));
			json_set_str(it, "crash_python_frame", rc->py_frame);
		} else {
			char *sig = crash_signature_basic(crash_sig, ev.py_frame);
			char id[17];
			hash_hex(sig, id);
			cJSON_AddStringToObject(it, "crash_signature", sig);
			cJSON_AddStringToObject(it, "crash_signature_id", id);
			free(sig);
		}
	} else {
		cJSON_AddNullToObject(it, "crash_signal");
		cJSON_AddNullToObject(it, "crash_signature");
	}
	cJSON_AddItemToObject(it, "tsan_warnings", json_strv(&ev.tsan_kinds));
	cJSON_AddItemToObject(it, "tsan_reports", tsan_reports_json(&ev.tsan));
	cJSON_AddNumberToObject(it, "tsan_reports_omitted",
				(double)(ev.tsan.more +
					 (ev.tsan.n > TSAN_REPORTS_MAX ? ev.tsan.n - TSAN_REPORTS_MAX
								       : 0)));
	cJSON_AddBoolToObject(it, "output_stalled", o->output_stalled);
	json_set_str(it, "last_output_line", o->last_output_line);
	json_set_str(it, "stderr_tail", o->stderr_tail ? o->stderr_tail : "");
	if (tr && tr->n) {
		cJSON *res = cJSON_CreateObject();
		for (size_t i = 0; i < tr->n; i++)
			json_set_str(res, tr->tests[i].id, tr->tests[i].outcome);
		cJSON_AddItemToObject(it, "test_results", res);
	}
	if (tr && tr->have_counts) {
		cJSON_AddNumberToObject(it, "tests_passed", tr->passed);
		cJSON_AddNumberToObject(it, "tests_failed", tr->failed);
		cJSON_AddNumberToObject(it, "tests_errored", tr->errored);
		cJSON_AddNumberToObject(it, "tests_skipped", tr->skipped);
	} else {
		cJSON_AddNullToObject(it, "tests_passed");
		cJSON_AddNullToObject(it, "tests_failed");
		cJSON_AddNullToObject(it, "tests_errored");
		cJSON_AddNullToObject(it, "tests_skipped");
	}
	/* ftscope's own fields */
	cJSON_AddStringToObject(it, "gil", gil);
	json_set_str(it, "stdout_tail", o->stdout_tail ? o->stdout_tail : "");
	json_set_str(it, "killed_by", killed_by_name(o->killed_by));
	if (o->term_signal)
		cJSON_AddStringToObject(it, "term_signal", signal_name(o->term_signal)
							   ? signal_name(o->term_signal) : "?");
	else
		cJSON_AddNullToObject(it, "term_signal");
	cJSON_AddNumberToObject(it, "cpu_s", round_to(o->cpu_s, 3));
	cJSON_AddNumberToObject(it, "supervisor_cpu_s", round_to(o->supervisor_cpu_s, 3));
	cJSON_AddNumberToObject(it, "max_rss_kb", (double)o->max_rss_kb);
	cJSON_AddNumberToObject(it, "processes", o->processes);
	cJSON_AddNumberToObject(it, "stdout_bytes", (double)o->stdout_bytes);
	cJSON_AddNumberToObject(it, "stderr_bytes", (double)o->stderr_bytes);
	cJSON_AddBoolToObject(it, "output_truncated", o->output_truncated);
	cJSON_AddItemToObject(it, "gil_enabled_warnings", json_strv(&ev.gil_modules));
	if (o->task_limit > 0) {
		cJSON_AddNumberToObject(it, "task_limit", (double)o->task_limit);
		cJSON_AddNumberToObject(it, "task_limit_hits",
					(double)(o->task_limit_hits > 0 ? o->task_limit_hits : 0));
		if (o->peak_tasks >= 0)
			cJSON_AddNumberToObject(it, "peak_tasks", (double)o->peak_tasks);
		else
			cJSON_AddNullToObject(it, "peak_tasks");
	} else {
		cJSON_AddNullToObject(it, "task_limit");
	}
	json_set_str(it, "artifacts", artifacts_rel);
	if (o->killed_by && o->killed_by != KILLED_INTERRUPT) {
		cJSON *h = cJSON_CreateObject();
		cJSON_AddStringToObject(h, "reason", o->killed_by == KILLED_DEADLOCK ? "lock_wait"
						     : o->killed_by == KILLED_STALL  ? "stall"
										     : "timeout");
		cJSON_AddNumberToObject(h, "detected_after_s", round_to(o->detected_after_s, 2));
		cJSON_AddItemToObject(h, "threads", threads_json(o));
		json_set_str(h, "python_stacks", o->python_stacks);
		if (o->hang_snapshot) {
			cJSON_AddItemToObject(h, "waits", hang_waits(o->hang_snapshot));
			cJSON_AddItemToObject(h, "cycles", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
								   o->hang_snapshot, "cycles"), true));
			cJSON_AddNumberToObject(h, "snapshot_ms",
						json_num(o->hang_snapshot, "hold_ms", 0));
		}
		cJSON_AddItemToObject(it, "hang", h);
	} else {
		cJSON_AddNullToObject(it, "hang");
	}
	cJSON_AddStringToObject(it, "tracer", o->tracer ? o->tracer : "none");
	if (o->traced) {
		const struct ptrace_stops *ps = &o->ptrace_stops;
		cJSON *c = cJSON_CreateObject();
		cJSON_AddNumberToObject(c, "total", (double)ptrace_stops_total(ps));
		cJSON_AddNumberToObject(c, "clone", (double)ps->clone);
		cJSON_AddNumberToObject(c, "new_task", (double)ps->new_task);
		cJSON_AddNumberToObject(c, "exec", (double)ps->exec);
		cJSON_AddNumberToObject(c, "exit", (double)ps->exit);
		cJSON_AddNumberToObject(c, "signal", (double)ps->signal);
		cJSON_AddNumberToObject(c, "other", (double)ps->other);
		/* How new threads were followed: not until one had to be stopped (the recorder
		 * signs crashes itself), seized as the kernel's process events named them (no
		 * stop), or by a clone stop and a first stop each (and why). */
		cJSON_AddStringToObject(c, "threads", ps->on_demand ? "on-demand"
						      : ps->lazy     ? "seized"
								     : "clone-stops");
		if (ps->lazy) {
			cJSON_AddNumberToObject(c, "seized", (double)ps->seized);
			cJSON_AddNumberToObject(c, "seize_lag_mean_us",
						ps->seized ? round_to(ps->seize_lag_sum_us / (double)ps->seized, 1)
							   : 0);
			cJSON_AddNumberToObject(c, "seize_lag_max_us", round_to(ps->seize_lag_max_us, 1));
		} else {
			json_set_str(c, "why_clone_stops", o->why_clone_stops);
		}
		cJSON_AddItemToObject(it, "ptrace_stops", c);
	} else {
		cJSON_AddNullToObject(it, "ptrace_stops");
	}
	{
		/* Was concurrency exercised at all? (a pass proves little if it was not) */
		cJSON *c = cJSON_CreateObject();
		cJSON_AddNumberToObject(c, "peak_threads", o->peak_threads);
		cJSON_AddNumberToObject(c, "cpu_overlap_ms", round_to(o->cpu_overlap_ms, 1));
		cJSON_AddNumberToObject(c, "contended_waits", (double)o->contended_waits);
		cJSON_AddStringToObject(c, "source", o->recorder ? "ebpf"
						     : o->concurrency_source ? o->concurrency_source
						     : "proc");
		cJSON_AddItemToObject(it, "concurrency", c);
	}
	if (o->recorder) {
		cJSON *rec = cJSON_Duplicate(o->recorder, true);
		resolve_lock_waits(rec, o->hang_snapshot);
		cJSON_AddItemToObject(it, "recorder", rec);
	}
	if (o->tracer_error)
		cJSON_AddStringToObject(it, "tracer_error", o->tracer_error);
	{
		cJSON *cr = cJSON_CreateArray();
		for (size_t i = 0; i < o->ncrashes; i++) {
			const struct proc_crash *c = &o->crashes[i];
			cJSON *j = cJSON_CreateObject();
			char addr[32];
			cJSON_AddNumberToObject(j, "pid", c->pid);
			cJSON_AddNumberToObject(j, "ppid", c->ppid);
			cJSON_AddStringToObject(j, "comm", c->comm);
			cJSON_AddStringToObject(j, "parent_comm", c->parent_comm);
			cJSON_AddStringToObject(j, "signal", signal_name(c->sig) ? signal_name(c->sig) : "?");
			cJSON_AddBoolToObject(j, "runner", c->runner);
			json_set_str(j, "signature", c->sig_text);
			json_set_str(j, "signature_id", c->sig_id[0] ? c->sig_id : NULL);
			if (c->tid) {
				cJSON_AddNumberToObject(j, "tid", c->tid);
				cJSON_AddNumberToObject(j, "si_code", c->fault_code);
				snprintf(addr, sizeof(addr), "0x%llx", c->fault_addr);
				cJSON_AddStringToObject(j, "si_addr", addr);
				/* its thread was not traced: signed at its process's exit stop */
				if (c->from_recorder)
					cJSON_AddStringToObject(j, "registers", "recorder");
			} else if (o->ptrace_stops.on_demand && is_crash_signal(c->sig)) {
				cJSON_AddStringToObject(j, "no_crash_stop",
							"the recorder saw no crash signal raised by a "
							"thread of it (killed from outside?)");
			} else if (o->ptrace_stops.lazy && is_crash_signal(c->sig)) {
				/* No crash stop: its thread was not seized yet (threads are seized as
				 * the kernel's process events name them, tens of microseconds after
				 * they start); the iteration's signature is faulthandler's. */
				cJSON_AddStringToObject(j, "no_crash_stop",
							"the crashing thread was not seized yet (a crash in its "
							"first moments; --seize-threads: without it every thread "
							"is stopped at its start)");
			}
			cJSON_AddItemToArray(cr, j);
		}
		cJSON_AddItemToObject(it, "crashes", cr);
	}
	if (!o->started)
		json_set_str(it, "spawn_error", o->spawn_error);
	crash_sig_release(&tcs);
	stderr_evidence_release(&ev);
	return it;
}

/* ---- a run in which every package failed the same way ---- */

/* s with every spelling of the package's name (as is, '-' and '_' swapped, lower case)
 * replaced by "<package>": the rest of the error is what packages can share. */
static char *error_without_name(const char *err, const char *name)
{
	char *text = xstrdup(err), *forms[4];
	size_t nf = 0;
	forms[nf++] = xstrdup(name);
	forms[nf] = xstrdup(name);
	for (char *p = forms[nf]; *p; p++)
		*p = *p == '-' ? '_' : *p == '_' ? '-' : *p;
	nf++;
	for (size_t k = 0, n0 = nf; k < n0; k++) {
		forms[nf] = xstrdup(forms[k]);
		for (char *p = forms[nf]; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		nf++;
	}
	for (size_t k = 0; k < nf; k++) {
		struct sbuf sb = SBUF_INIT;
		size_t fl = strlen(forms[k]);
		const char *p = text, *q;
		if (!fl)
			continue;
		while ((q = strstr(p, forms[k]))) {
			sbuf_add(&sb, p, (size_t)(q - p));
			sbuf_adds(&sb, "<package>");
			p = q + fl;
		}
		sbuf_adds(&sb, p);
		free(text);
		text = sbuf_detach(&sb);
	}
	for (size_t k = 0; k < nf; k++)
		free(forms[k]);
	return text;
}

/* How much a line of an error says: 0 for pip's boilerplate ("note: ...", "error:
 * subprocess-exited-with-error", box drawing, "[end of output]"), 2 for an error's own
 * words ("ERROR: ...", "...Error: ..."), 1 for the rest. */
static int line_score(const char *s, size_t len)
{
	static const char *const boiler[] = { "note:", "hint:", "[end of output]", "exit code:",
					      "error: subprocess-exited-with-error",
					      "See above for output" };
	if (!len || (unsigned char)*s >= 0x80)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(boiler); i++)
		if (!strncmp(s, boiler[i], strlen(boiler[i])))
			return 0;
	if (memmem(s, len, "ERROR:", 6) || memmem(s, len, "Error:", 6))
		return 2;
	return 1;
}

/* The line of an error that says the most: the last of the best-scoring ones. */
static char *telling_line(const char *err)
{
	const char *best = NULL, *p = err;
	size_t best_len = 0;
	int best_score = 0;
	while (*p) {
		const char *e = strchrnul(p, '\n'), *s = p;
		int score;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		score = line_score(s, (size_t)(e - s));
		if (score && score >= best_score) {
			best = s;
			best_len = (size_t)(e - s);
			best_score = score;
		}
		p = *e ? e + 1 : e;
	}
	if (!best)
		return xstrndup(err, 300);
	return xstrndup(best, best_len > 300 ? 300 : best_len);
}

char *pkgs_uniform_failure(cJSON *const *pkgs, size_t n)
{
	const char *cat = NULL, *key = NULL;
	char *first = NULL, *line = NULL, *out = NULL;
	size_t counted = 0;
	for (size_t i = 0; i < n; i++) {
		const char *c = json_str(pkgs[i], "category"), *err, *name;
		char *norm;
		if (json_bool(pkgs[i], "interrupted", false))
			continue;
		if (!c || (strcmp(c, "install_failure") && strcmp(c, "import_failure")))
			goto out;
		key = !strcmp(c, "install_failure") ? "install_error" : "import_error";
		err = json_str(pkgs[i], key);
		name = json_str(pkgs[i], "package");
		if (!err || !name || (cat && strcmp(cat, c)))
			goto out;
		norm = error_without_name(err, name);
		if (!first) {
			first = norm;
			cat = c;
		} else {
			bool same = !strcmp(first, norm);
			free(norm);
			if (!same)
				goto out;
		}
		counted++;
	}
	if (counted < 2)
		goto out;
	line = telling_line(first);
	out = xasprintf("Every package (%zu) failed the same way, %s: %s", counted, cat, line);
out:
	free(line);
	free(first);
	return out;
}
