/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * Cost of the eBPF recorder on a futex-heavy workload, and of opening it.
 *   build/bench/bpfrec_overhead [reps]      (root; `make bench-bpfrec`)
 * The workload (a child process) times two phases:
 *   uncontended: 1M pthread_mutex lock/unlock in one thread (no syscall at all);
 *   handoffs:    100k ping-pong handoffs between two threads through two semaphores
 *                (each one a futex wake plus a futex wait and two context switches);
 *   syscalls:    1M getppid() (the tax on syscalls that are not traced at all).
 * under three conditions: no recorder; recorder attached but the child not tracked (the
 * cost every process on the machine pays); recorder tracking the child. Medians of reps.
 * Then a correctness check of the CPU-overlap counter: two threads spinning pinned to the
 * same CPU must show no overlap, on two CPUs they must.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ftscope/bpfrec.h"
#include "ftscope/util.h"

#define UNCONTENDED 1000000
#define HANDOFFS 100000
#define SYSCALLS 1000000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static sem_t sem_a, sem_b;
static volatile unsigned long counter;

static void *pong(void *arg)
{
	for (int i = 0; i < HANDOFFS; i++) {
		sem_wait(&sem_b);
		sem_post(&sem_a);
	}
	return NULL;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

/*
 * Writes the wall and the CPU time (all threads; BPF programs run in the traced task's
 * context, so their cost is in it, while other load on the machine mostly is not) of the
 * three phases to fd: {wall[3], cpu[3]}.
 */
static _Noreturn void workload(int fd)
{
	uint64_t w[4], c[4], out[6];
	pthread_t th;

	raise(SIGSTOP);
	w[0] = bpfrec_now_ns(), c[0] = cpu_ns();
	for (int i = 0; i < UNCONTENDED; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	w[1] = bpfrec_now_ns(), c[1] = cpu_ns();
	sem_init(&sem_a, 0, 0);
	sem_init(&sem_b, 0, 0);
	pthread_create(&th, NULL, pong, NULL);
	for (int i = 0; i < HANDOFFS; i++) {
		sem_post(&sem_b);
		sem_wait(&sem_a);
	}
	pthread_join(th, NULL);
	w[2] = bpfrec_now_ns(), c[2] = cpu_ns();
	for (int i = 0; i < SYSCALLS; i++)
		counter += getppid();
	w[3] = bpfrec_now_ns(), c[3] = cpu_ns();
	for (int i = 0; i < 3; i++) {
		out[i] = w[i + 1] - w[i];
		out[3 + i] = c[i + 1] - c[i];
	}
	if (write(fd, out, sizeof(out)) != sizeof(out))
		_exit(1);
	_exit(0);
}

struct spin_arg {
	int cpu;
	double secs;
};

static void *spin(void *p)
{
	const struct spin_arg *a = p;
	cpu_set_t set;
	double end;

	CPU_ZERO(&set);
	CPU_SET(a->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	end = now_monotonic() + a->secs;
	while (now_monotonic() < end)
		counter++;
	return NULL;
}

static _Noreturn void spinners(int cpu0, int cpu1)
{
	struct spin_arg a[2] = { { cpu0, 0.3 }, { cpu1, 0.3 } };
	pthread_t t[2];

	raise(SIGSTOP);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, spin, &a[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	_exit(0);
}

static pid_t start_stopped(void (*fn)(int, int), int a, int b)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0)
		fn(a, b);
	if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status)) {
		fprintf(stderr, "child did not stop\n");
		exit(1);
	}
	return pid;
}

static void run_workload(int wfd, int unused)
{
	workload(wfd);
}

/* One run, tracked or not: out = {wall[3], cpu[3]} of the three phases. */
static void one_run(struct bpfrec *r, bool track, uint64_t out[6], cJSON **summary)
{
	int pfd[2], status;
	struct pollfd p;
	pid_t pid;

	if (pipe(pfd) < 0) {
		perror("pipe");
		exit(1);
	}
	if (r)
		bpfrec_reset(r);
	pid = start_stopped(run_workload, pfd[1], 0);
	close(pfd[1]);
	if (r && track)
		bpfrec_track(r, pid);
	kill(pid, SIGCONT);
	p.fd = r ? bpfrec_fd(r) : -1;
	p.events = POLLIN;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (r) {
			poll(&p, 1, 50);
			bpfrec_consume(r);
		} else {
			usleep(20000);
		}
	}
	if (read(pfd[0], out, 6 * sizeof(uint64_t)) != 6 * sizeof(uint64_t)) {
		fprintf(stderr, "workload failed\n");
		exit(1);
	}
	close(pfd[0]);
	if (summary && r)
		*summary = bpfrec_summary(r);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

static double jnum(const cJSON *j, const char *a, const char *b)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, a);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, b);
	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void overlap_check(struct bpfrec *r, int cpu0, int cpu1)
{
	cJSON *s;
	pid_t pid;

	bpfrec_reset(r);
	pid = start_stopped(spinners, cpu0, cpu1);
	bpfrec_track(r, pid);
	kill(pid, SIGCONT);
	waitpid(pid, NULL, 0);
	s = bpfrec_summary(r);
	printf("overlap check, two threads spinning 300 ms on CPUs %d and %d: on_cpu %.1f ms, "
	       "cpu_overlap %.1f ms\n", cpu0, cpu1, jnum(s, "concurrency", "on_cpu_ms"),
	       jnum(s, "concurrency", "cpu_overlap_ms"));
	cJSON_Delete(s);
}

static const char *const cond[] = { "no recorder", "recorder, not tracked",
				    "recorder, tracked" };
static const char *const phase[] = { "1M uncontended lock/unlock", "100k handoffs",
				     "1M getppid()" };
static const int phase_ops[] = { UNCONTENDED, HANDOFFS, SYSCALLS };

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	uint64_t res[3][6][32], t0, open_ns[5], med;
	struct sbuf why = SBUF_INIT;
	struct bpfrec *r = NULL;
	cJSON *s = NULL;

	if (reps < 1 || reps > 32)
		reps = 5;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < 5; i++) {
		t0 = bpfrec_now_ns();
		if (bpfrec_open(&r, &why) < 0) {
			fprintf(stderr, "%s\n", why.buf);
			return 1;
		}
		open_ns[i] = bpfrec_now_ns() - t0;
		bpfrec_close(r);
	}
	med = median(open_ns, 5);
	printf("bpfrec_open (open+load+verify+attach): median %.1f ms, min %.1f, max %.1f (5 runs)\n",
	       med / 1e6, open_ns[0] / 1e6, open_ns[4] / 1e6);

	/* Interleave the conditions so that machine load hits them alike. */
	for (int i = 0; i < reps; i++) {
		uint64_t out[6];

		one_run(NULL, false, out, NULL);
		for (int k = 0; k < 6; k++)
			res[0][k][i] = out[k];
		if (bpfrec_open(&r, &why) < 0) {
			fprintf(stderr, "%s\n", why.buf);
			return 1;
		}
		one_run(r, false, out, NULL);
		for (int k = 0; k < 6; k++)
			res[1][k][i] = out[k];
		cJSON_Delete(s);
		s = NULL;
		one_run(r, true, out, &s);
		for (int k = 0; k < 6; k++)
			res[2][k][i] = out[k];
		bpfrec_close(r);
	}
	printf("medians of %d runs; per op: wall / CPU (process CPU time, all threads)\n", reps);
	for (int p = 0; p < 3; p++) {
		printf("%s:\n", phase[p]);
		for (int c = 0; c < 3; c++) {
			double w = median(res[c][p], reps), cpu = median(res[c][3 + p], reps);
			printf("  %-22s wall %8.1f ms %9.1f ns/op   cpu %8.1f ms %9.1f ns/op\n",
			       cond[c], w / 1e6, w / phase_ops[p], cpu / 1e6, cpu / phase_ops[p]);
		}
	}
	printf("tracked run: total_waits %.0f, contended_waits %.0f, on_cpu %.1f ms, "
	       "cpu_overlap %.1f ms, peak_threads %.0f, ringbuf drops %.0f\n",
	       jnum(s, "lock_waits", "total_waits"), jnum(s, "lock_waits", "contended_waits"),
	       jnum(s, "concurrency", "on_cpu_ms"), jnum(s, "concurrency", "cpu_overlap_ms"),
	       jnum(s, "concurrency", "peak_threads"), jnum(s, "dropped", "ringbuf"));
	cJSON_Delete(s);

	if (bpfrec_open(&r, &why) < 0)
		return 1;
	overlap_check(r, 0, 0);
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		overlap_check(r, 0, 1);
	bpfrec_close(r);
	sbuf_release(&why);
	return 0;
}
