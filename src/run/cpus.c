/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
#include <errno.h>
#include <unistd.h>

#include "ftscope/cpus.h"

long cpus_usable(void)
{
	cpu_set_t set;
	long n;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

int cpus_for_worker(const cpu_set_t *allowed, long slot, long jobs, cpu_set_t *out)
{
	long total = CPU_COUNT(allowed), per, extra, first, count, seen = 0;
	CPU_ZERO(out);
	if (jobs < 2 || slot < 0 || slot >= jobs || total / jobs < 2)
		return 0;
	per = total / jobs;
	extra = total % jobs; /* the first `extra` workers get one more */
	first = slot * per + (slot < extra ? slot : extra);
	count = per + (slot < extra ? 1 : 0);
	for (int cpu = 0; cpu < CPU_SETSIZE && seen < first + count; cpu++) {
		if (!CPU_ISSET(cpu, allowed))
			continue;
		if (seen >= first)
			CPU_SET(cpu, out);
		seen++;
	}
	return (int)count;
}

void cpus_format(const cpu_set_t *set, struct sbuf *sb)
{
	bool any = false;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		int last = cpu;
		if (!CPU_ISSET(cpu, set))
			continue;
		while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set))
			last++;
		if (last == cpu)
			sbuf_addf(sb, "%s%d", any ? "," : "", cpu);
		else
			sbuf_addf(sb, "%s%d-%d", any ? "," : "", cpu, last);
		any = true;
		cpu = last;
	}
}

int cpus_pin_worker(long slot, long jobs, struct sbuf *desc)
{
	cpu_set_t allowed, share;
	int n;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return -errno;
	n = cpus_for_worker(&allowed, slot, jobs, &share);
	if (n <= 0)
		return 0;
	if (sched_setaffinity(0, sizeof(share), &share) < 0)
		return -errno;
	if (desc)
		cpus_format(&share, desc);
	return n;
}
