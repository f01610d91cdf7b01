/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/*
 * libFuzzer target: what the supervisor reads from /proc about the test's processes, whose
 * names the test chooses (a thread name may hold ')', spaces, newlines): a /proc/PID/stat
 * line (proc_stat_parse), a /proc/PID/task/TID/syscall line (parse_syscall_line) and
 * /proc/PID/status fields (proc_status_field), all on the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "ftscope/procfs.h"
#include "ftscope/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, comm[20], state = 0, name[64];
	unsigned long long ticks = 0;
	struct task_sample t = { 0 };
	const char *v;
	pid_t ppid = 0;

	if (size > 8192)
		return 0;
	text = xstrndup((const char *)data, size);
	/* the sampler's buffer is exactly one task_sample's comm */
	if (proc_stat_parse(text, comm, sizeof(comm), &state, &ppid, &ticks) == 0 &&
	    strlen(comm) >= sizeof(comm))
		abort();
	proc_stat_parse(text, NULL, 0, &state, NULL, NULL);
	parse_syscall_line(text, &t);
	if (t.syscall == FT_SYS_FUTEX)
		futex_op_name(t.args[1], name, sizeof(name));
	for (const char *f = "VmRSS\0SigCgt\0Name\0"; *f; f += strlen(f) + 1)
		if ((v = proc_status_field(text, f)) && (v < text || v > text + strlen(text)))
			abort();
	free(text);
	return 0;
}
