/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * The eBPF recorder's maps read from user side: the threads (live, blocked) and the
 * iteration's summary. Loading, attaching and tracking are in bpfrec.c. JSON ownership:
 * bpfrec_summary() returns a fresh tree the caller owns.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ftscope/bpfrec.h"
#include "ftscope/util.h"
#include "bpfrec_internal.h"

#define BPFREC_TOP_WAITS 16
#define BPFREC_BUSIEST 8

/* --- Reading the maps ---------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * The keys of a u32-keyed hash map, sorted and deduplicated (iterating while the kernel
 * deletes can restart from the first key). *n keys, malloc'd.
 */
static __u32 *map_keys_u32(const struct bpf_map *map, size_t *n)
{
	int fd = bpf_map__fd(map);
	size_t cap = bpf_map__max_entries(map), k = 0, limit = 2 * cap;
	__u32 *keys = xcalloc(cap ? cap : 1, sizeof(*keys)), key, *prev = NULL;

	while (k < cap && limit-- && bpf_map_get_next_key(fd, prev, &key) == 0) {
		keys[k] = key;
		prev = &keys[k++];
	}
	qsort(keys, k, sizeof(*keys), cmp_u32);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (i == 0 || keys[i] != keys[i - 1])
			keys[(*n)++] = keys[i];
	return keys;
}

static int cmp_blocked(const void *a, const void *b)
{
	const struct bpf_blocked *x = a, *y = b;

	if (x->since_ns != y->since_ns)
		return x->since_ns < y->since_ns ? -1 : 1;
	return x->tid - y->tid;
}

static struct bpf_blocked blocked_of(__u32 tid, const struct recorder_blocked *b)
{
	return (struct bpf_blocked){
		.tid = tid,
		.tgid = b->tgid,
		.since_ns = b->since_ns,
		.uaddr = b->kind == RECORDER_BLOCK_CHILD ? (uint64_t)(int64_t)(int32_t)b->uaddr
							 : b->uaddr,
		.op = b->op,
		.timed = b->timed,
		.child_wait = b->kind == RECORDER_BLOCK_CHILD,
	};
}

/*
 * `blocked` in batches (BPF_MAP_LOOKUP_BATCH: a few syscalls for the whole map, where a walk
 * takes two a thread: with hundreds of threads blocked, a millisecond each time the
 * supervisor looks, ten times a second) into r->bkeys and r->bvals; the entries read, or -1
 * if the kernel cannot (then r->no_batch).
 */
static long blocked_batch(struct bpfrec *r)
{
	int fd = bpf_map__fd(r->skel->maps.blocked);
	size_t cap = bpf_map__max_entries(r->skel->maps.blocked), k = 0;
	__u32 in_batch, out_batch;
	bool first = true;

	if (!r->bkeys) {
		r->bkeys = xcalloc(cap ? cap : 1, sizeof(*r->bkeys));
		r->bvals = xcalloc(cap ? cap : 1, sizeof(*r->bvals));
	}
	for (;;) {
		__u32 count = (__u32)(cap - k);
		int err = count ? bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch,
						       r->bkeys + k, r->bvals + k, &count, NULL)
				: -ENOSPC;

		if (err < 0 && err != -ENOENT) {
			if (first && (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP ||
				      err == -ENOSYS))
				r->no_batch = true;
			if (first || err != -ENOSPC)
				return -1;
			break; /* full: what was read (the map holds at most cap) */
		}
		k += count;
		if (err == -ENOENT)
			break;
		in_batch = out_batch;
		first = false;
	}
	return (long)k;
}

/* All blocked threads, oldest first; *n entries, malloc'd. */
static struct bpf_blocked *blocked_all(struct bpfrec *r, size_t *n)
{
	long got = r->no_batch ? -1 : blocked_batch(r);
	struct bpf_blocked *out;
	size_t k = 0;

	if (got >= 0) {
		out = xcalloc(got ? (size_t)got : 1, sizeof(*out));
		for (k = 0; k < (size_t)got; k++)
			out[k] = blocked_of(r->bkeys[k], &r->bvals[k]);
	} else {
		int fd = bpf_map__fd(r->skel->maps.blocked);
		size_t nkeys;
		__u32 *keys = map_keys_u32(r->skel->maps.blocked, &nkeys);

		out = xcalloc(nkeys ? nkeys : 1, sizeof(*out));
		for (size_t i = 0; i < nkeys; i++) {
			struct recorder_blocked b;

			if (bpf_map_lookup_elem(fd, &keys[i], &b) == 0)
				out[k++] = blocked_of(keys[i], &b);
		}
		free(keys);
	}
	qsort(out, k, sizeof(*out), cmp_blocked);
	*n = k;
	return out;
}

void bpfrec_no_batch(struct bpfrec *r, bool on)
{
	r->no_batch = on;
}

size_t bpfrec_threads(struct bpfrec *r, struct bpf_blocked *blocked, size_t max,
		      size_t *nblocked)
{
	/* The live count is the recorder's own counter (in the skeleton's mmapped .bss, kept
	 * with every insert and delete of `live`): no walk of the live map, two syscalls a
	 * thread, each time the supervisor looks. */
	int64_t live = __atomic_load_n(&r->skel->bss->stats.live_threads, __ATOMIC_SEQ_CST);
	size_t nlive = live > 0 ? (size_t)live : 0, nb;
	struct bpf_blocked *all = blocked_all(r, &nb);

	if (nb > max)
		nb = max;
	if (nb)
		memcpy(blocked, all, nb * sizeof(*all));
	free(all);
	if (nblocked)
		*nblocked = nb;
	return nlive;
}

/* --- Summary ------------------------------------------------------------------------------ */

static double ms(uint64_t ns)
{
	return (double)(ns / 1000) / 1000.0; /* microsecond resolution */
}

static double t_ms(const struct bpfrec *r, uint64_t ts)
{
	return ts > r->t0_ns ? ms(ts - r->t0_ns) : 0;
}

static void add_sig_name(cJSON *j, int sig)
{
	const char *name = signal_name(sig);
	char buf[32];

	if (!name) {
		if (sig >= SIGRTMIN && sig <= SIGRTMAX)
			snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
		else
			snprintf(buf, sizeof(buf), "SIG%d", sig);
		name = buf;
	}
	cJSON_AddStringToObject(j, "name", name);
}

static void add_comm(cJSON *j, const char comm[RECORDER_COMM_LEN])
{
	char buf[RECORDER_COMM_LEN + 1];

	memcpy(buf, comm, RECORDER_COMM_LEN);
	buf[RECORDER_COMM_LEN] = '\0';
	cJSON_AddStringToObject(j, "comm", buf);
}

static int cmp_event(const void *a, const void *b)
{
	const struct recorder_event *x = a, *y = b;

	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

static void summary_events(struct bpfrec *r, cJSON *root)
{
	cJSON *sigs = cJSON_AddArrayToObject(root, "signals");
	cJSON *life = cJSON_AddArrayToObject(root, "lifecycle");

	/* Ring-buffer order is reservation order; CPUs may disagree by a few ns. */
	qsort(r->ev, r->nev, sizeof(*r->ev), cmp_event);
	for (size_t i = 0; i < r->nev; i++) {
		const struct recorder_event *e = &r->ev[i];
		cJSON *j = cJSON_CreateObject();

		cJSON_AddNumberToObject(j, "t_ms", t_ms(r, e->ts_ns));
		switch (e->kind) {
		case RECORDER_EV_SIG_GENERATE:
		case RECORDER_EV_SIG_DELIVER:
			cJSON_AddStringToObject(j, "kind", e->kind == RECORDER_EV_SIG_GENERATE ?
							   "generate" : "deliver");
			cJSON_AddNumberToObject(j, "sig", e->sig);
			add_sig_name(j, e->sig);
			cJSON_AddNumberToObject(j, "from_pid", e->from_pid);
			cJSON_AddNumberToObject(j, "to_pid", e->pid);
			cJSON_AddNumberToObject(j, "to_tid", e->tid);
			cJSON_AddNumberToObject(j, "code", e->code);
			if (e->kind == RECORDER_EV_SIG_GENERATE)
				cJSON_AddNumberToObject(j, "result", e->result);
			cJSON_AddItemToArray(sigs, j);
			break;
		case RECORDER_EV_FORK:
		case RECORDER_EV_EXEC:
		case RECORDER_EV_EXIT:
			cJSON_AddStringToObject(j, "event", e->kind == RECORDER_EV_FORK ? "fork" :
							    e->kind == RECORDER_EV_EXEC ? "exec" : "exit");
			cJSON_AddNumberToObject(j, "pid", e->pid);
			cJSON_AddNumberToObject(j, "tid", e->tid);
			cJSON_AddNumberToObject(j, "ppid", e->ppid);
			add_comm(j, e->comm);
			if (e->kind == RECORDER_EV_EXIT) {
				cJSON_AddNumberToObject(j, "exit_code", (e->exit_code >> 8) & 0xff);
				cJSON_AddNumberToObject(j, "signal", e->exit_code & 0x7f);
				cJSON_AddBoolToObject(j, "core", (e->exit_code & 0x80) != 0);
			}
			cJSON_AddItemToArray(life, j);
			break;
		default:
			cJSON_Delete(j);
		}
	}
}

struct wait_row {
	struct recorder_wait_key key;
	struct recorder_wait_val val;
	uint64_t pending;
};

static int cmp_wait_row(const void *a, const void *b)
{
	const struct wait_row *x = a, *y = b;

	if (x->val.total_ns != y->val.total_ns)
		return x->val.total_ns > y->val.total_ns ? -1 : 1;
	if (x->key.tgid != y->key.tgid)
		return x->key.tgid < y->key.tgid ? -1 : 1;
	return x->key.uaddr < y->key.uaddr ? -1 : x->key.uaddr > y->key.uaddr;
}

static void summary_waits(struct bpfrec *r, cJSON *root, uint64_t now)
{
	const struct recorder_stats *st = &r->skel->bss->stats;
	int fd = bpf_map__fd(r->skel->maps.waits);
	size_t cap = bpf_map__max_entries(r->skel->maps.waits), limit = 2 * cap, n = 0, nb;
	struct wait_row *rows = xcalloc(cap + THREADS_MAX, sizeof(*rows));
	struct recorder_wait_key key, *prev = NULL;
	struct bpf_blocked *bl = blocked_all(r, &nb);
	cJSON *lw = cJSON_AddObjectToObject(root, "lock_waits");
	cJSON *top = cJSON_AddArrayToObject(lw, "top");
	size_t shown = 0;

	while (n < cap && limit-- && bpf_map_get_next_key(fd, prev, &key) == 0) {
		rows[n].key = key;
		prev = &rows[n].key;
		if (bpf_map_lookup_elem(fd, &key, &rows[n].val) == 0)
			n++;
	}
	/* Fold in the waits still going on: they are what a deadlock looks like. */
	for (size_t i = 0; i < nb; i++) {
		uint64_t d = now > bl[i].since_ns ? now - bl[i].since_ns : 0;
		size_t k;

		if (bl[i].child_wait)
			continue;
		for (k = 0; k < n; k++)
			if (rows[k].key.tgid == (__u32)bl[i].tgid && rows[k].key.uaddr == bl[i].uaddr)
				break;
		if (k == n) {
			rows[n].key = (struct recorder_wait_key){ .tgid = bl[i].tgid,
								  .uaddr = bl[i].uaddr };
			rows[n].val.peak = 1;
			n++;
		}
		rows[k].pending++;
		rows[k].val.count++;
		rows[k].val.total_ns += d;
		if (d > rows[k].val.max_ns)
			rows[k].val.max_ns = d;
	}
	free(bl);
	qsort(rows, n, sizeof(*rows), cmp_wait_row);
	for (size_t k = 0; k < n && shown < BPFREC_TOP_WAITS; k++) {
		cJSON *j;
		char addr[32];

		if (!rows[k].val.count)
			continue;
		j = cJSON_CreateObject();
		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)rows[k].key.uaddr);
		cJSON_AddNumberToObject(j, "tgid", rows[k].key.tgid);
		cJSON_AddStringToObject(j, "uaddr", addr);
		cJSON_AddNumberToObject(j, "count", rows[k].val.count);
		cJSON_AddNumberToObject(j, "total_ms", ms(rows[k].val.total_ns));
		cJSON_AddNumberToObject(j, "max_ms", ms(rows[k].val.max_ns));
		cJSON_AddNumberToObject(j, "waiters", rows[k].val.peak);
		cJSON_AddNumberToObject(j, "pending", rows[k].pending);
		cJSON_AddItemToArray(top, j);
		shown++;
	}
	free(rows);
	cJSON_AddNumberToObject(lw, "total_waits", st->total_waits);
	cJSON_AddNumberToObject(lw, "contended_waits", st->contended_waits);
}

struct busy_row {
	__u32 tid;
	struct recorder_thread t;
};

static int cmp_busy(const void *a, const void *b)
{
	const struct busy_row *x = a, *y = b;

	if (x->t.on_cpu_ns != y->t.on_cpu_ns)
		return x->t.on_cpu_ns > y->t.on_cpu_ns ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static void summary_concurrency(struct bpfrec *r, cJSON *root, uint64_t now)
{
	const struct recorder_stats *st = &r->skel->bss->stats;
	cJSON *c = cJSON_AddObjectToObject(root, "concurrency");
	uint64_t on_cpu = st->on_cpu_ns, overlap = st->overlap_ns, start;
	uint64_t proc_overlap = st->proc_overlap_ns;
	int ncpu = libbpf_num_possible_cpus();
	size_t nlive, nrows = 0;
	__u32 *keys = map_keys_u32(r->skel->maps.live, &nlive);
	struct busy_row *rows = xcalloc(nlive ? nlive : 1, sizeof(*rows));
	struct recorder_cpu *slots = ncpu > 0 ? xcalloc(ncpu, sizeof(*slots)) : NULL;
	__u32 zero = 0;
	cJSON *busiest;

	for (size_t i = 0; i < nlive; i++) {
		rows[nrows].tid = keys[i];
		if (bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.live), &keys[i],
					&rows[nrows].t) == 0)
			nrows++;
	}
	/* Threads on a CPU right now have not been credited yet (a spinning thread may never
	 * be switched out). */
	if (slots && bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.cpu_slot), &zero, slots) == 0) {
		for (int cpu = 0; cpu < ncpu; cpu++) {
			uint64_t d;

			if (!slots[cpu].tid || slots[cpu].gen != st->gen || now <= slots[cpu].since_ns)
				continue;
			d = now - slots[cpu].since_ns;
			on_cpu += d;
			for (size_t i = 0; i < nrows; i++)
				if (rows[i].tid == slots[cpu].tid)
					rows[i].t.on_cpu_ns += d;
		}
	}
	start = st->overlap_start_ns;
	if (st->n_running >= 2 && start && now > start)
		overlap += now - start;
	{
		/* per process, with the intervals still open */
		size_t np;
		__u32 *pk = map_keys_u32(r->skel->maps.proc_run, &np);
		for (size_t i = 0; i < np; i++) {
			struct recorder_proc_run pr;
			if (bpf_map_lookup_elem(bpf_map__fd(r->skel->maps.proc_run), &pk[i], &pr) ==
				    0 && pr.n_running >= 2 && pr.overlap_start_ns &&
			    now > pr.overlap_start_ns)
				proc_overlap += now - pr.overlap_start_ns;
		}
		free(pk);
	}
	cJSON_AddNumberToObject(c, "peak_threads", st->peak_threads);
	cJSON_AddNumberToObject(c, "peak_tree_threads", st->peak_tree_threads);
	cJSON_AddNumberToObject(c, "live_threads", nlive);
	cJSON_AddNumberToObject(c, "cpu_overlap_ms", ms(proc_overlap));
	cJSON_AddNumberToObject(c, "cpu_overlap_tree_ms", ms(overlap));
	cJSON_AddNumberToObject(c, "on_cpu_ms", ms(on_cpu));
	qsort(rows, nrows, sizeof(*rows), cmp_busy);
	busiest = cJSON_AddArrayToObject(c, "busiest");
	for (size_t i = 0; i < nrows && i < BPFREC_BUSIEST; i++) {
		cJSON *j = cJSON_CreateObject();

		cJSON_AddNumberToObject(j, "tid", rows[i].tid);
		cJSON_AddNumberToObject(j, "tgid", rows[i].t.tgid);
		cJSON_AddNumberToObject(j, "on_cpu_ms", ms(rows[i].t.on_cpu_ns));
		cJSON_AddItemToArray(busiest, j);
	}
	free(slots);
	free(rows);
	free(keys);
}

cJSON *bpfrec_summary(struct bpfrec *r)
{
	const struct recorder_stats *st = &r->skel->bss->stats;
	cJSON *root = cJSON_CreateObject(), *d;
	uint64_t now;

	bpfrec_consume(r);
	now = bpfrec_now_ns();
	summary_events(r, root);
	summary_waits(r, root, now);
	summary_concurrency(r, root, now);
	d = cJSON_AddObjectToObject(root, "dropped");
	cJSON_AddNumberToObject(d, "ringbuf", st->ringbuf_drops);
	cJSON_AddNumberToObject(d, "events", r->dropped);
	cJSON_AddNumberToObject(d, "map_full", st->map_full);
	return root;
}
