/* SPDX-License-Identifier: MIT */
/* Copyright (c) 2026 The ftscope authors */
/* Table-driven tests of the iteration verdict, package category and GIL comparison rules. */
#include <math.h>
#include <signal.h>

#include "ftscope/procfs.h"
#include "ftscope/verdict.h"
#include "tap.h"

static void test_iteration(void)
{
	static const struct {
		bool exited;
		int exit_code, term_signal, runner_sig;
		enum killed_by killed;
		const char *want;
		int want_sig;
		const char *why;
	} t[] = {
		{ true, 0, 0, 0, KILLED_NONE, "pass", 0, "exit 0" },
		{ true, 1, 0, 0, KILLED_NONE, "fail", 0, "pytest test failure" },
		{ true, 5, 0, 0, KILLED_NONE, "fail", 0, "pytest: no tests collected" },
		{ false, -11, SIGSEGV, 0, KILLED_NONE, "crash", SIGSEGV, "runner killed by SIGSEGV" },
		{ false, -6, SIGABRT, 0, KILLED_NONE, "crash", SIGABRT, "failed assert" },
		{ false, -7, SIGBUS, 0, KILLED_NONE, "crash", SIGBUS, "SIGBUS" },
		{ false, -4, SIGILL, 0, KILLED_NONE, "crash", SIGILL, "SIGILL" },
		{ false, -8, SIGFPE, 0, KILLED_NONE, "crash", SIGFPE, "SIGFPE" },
		{ false, -5, SIGTRAP, 0, KILLED_NONE, "crash", SIGTRAP, "SIGTRAP" },
		{ false, -31, SIGSYS, 0, KILLED_NONE, "crash", SIGSYS, "SIGSYS" },
		{ true, 139, 0, 0, KILLED_NONE, "crash", SIGSEGV, "shell reported 128+11" },
		{ true, 134, 0, 0, KILLED_NONE, "crash", SIGABRT, "shell reported 128+6" },
		{ true, 135, 0, 0, KILLED_NONE, "crash", SIGBUS, "shell reported 128+7 (labeille missed it)" },
		{ true, 137, 0, 0, KILLED_NONE, "fail", 0, "shell reported SIGKILL: not a crash" },
		{ true, 130, 0, 0, KILLED_NONE, "fail", 0, "shell reported SIGINT: not a crash" },
		{ false, -9, SIGKILL, 0, KILLED_NONE, "fail", 0, "OOM killer's SIGKILL is not a crash" },
		{ false, -15, SIGTERM, 0, KILLED_NONE, "fail", 0, "SIGTERM is not a crash" },
		{ false, -9, SIGKILL, 0, KILLED_DEADLOCK, "deadlock", 0, "killed on lock-wait rule" },
		{ false, -6, SIGABRT, 0, KILLED_DEADLOCK, "deadlock", 0,
		  "our SIGABRT for the stack dump is not a crash" },
		{ false, -9, SIGKILL, 0, KILLED_STALL, "timeout", 0, "a stall: no deadlock" },
		{ false, -9, SIGKILL, 0, KILLED_TIMEOUT, "timeout", 0, "timeout" },
		{ true, 0, 0, 0, KILLED_TIMEOUT, "timeout", 0, "timeout wins over a late exit 0" },
		{ true, 1, 0, SIGSEGV, KILLED_NONE, "crash", SIGSEGV,
		  "runner died of SIGSEGV, the shell went on and exited 1 (ptrace sees it)" },
		{ true, 0, 0, SIGABRT, KILLED_NONE, "crash", SIGABRT, "runner abort, shell exit 0" },
		{ true, 0, 0, 0, KILLED_NONE, "pass", 0, "a child crash is not the runner's" },
		{ false, -9, SIGKILL, SIGSEGV, KILLED_DEADLOCK, "deadlock", 0, "hang wins" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int sig = -1;
		enum iter_status st = verdict_iteration(t[i].exited, t[i].exit_code, t[i].term_signal,
							t[i].runner_sig, t[i].killed, &sig);
		is_str(iter_status_name(st), t[i].want, "iteration: %s", t[i].why);
		is_int(sig, t[i].want_sig, "iteration signal: %s", t[i].why);
	}
	is_int(iter_status_from_name("deadlock"), ITER_DEADLOCK, "status from name");
	is_int(iter_status_from_name("bogus"), -1, "unknown status name");
}

static void test_category(void)
{
	static const struct {
		struct pkg_counts c;
		const char *want;
	} t[] = {
		{ { .install_ok = false, .import_ok = true }, "install_failure" },
		{ { .install_ok = false, .import_ok = false }, "install_failure" },
		{ { .install_ok = true, .import_ok = false, .iterations = 3, .pass = 3 }, "import_failure" },
		{ { .install_ok = true, .import_ok = true, .iterations = 0 }, "unknown" },
		/* an install or probe cut short by an interrupt: no verdict */
		{ { .install_ok = false, .import_ok = true, .interrupted = true }, "unknown" },
		{ { .install_ok = true, .import_ok = false, .interrupted = true }, "unknown" },
		{ { true, true, 2, 2, 0, 0, 0, 0, 0, false, true }, "compatible" },
		{ { true, true, 10, 8, 0, 1, 0, 1, 0, false, false }, "deadlock" },
		{ { true, true, 10, 9, 0, 1, 0, 0, 0, false, false }, "crash" },
		{ { true, true, 10, 0, 0, 9, 0, 1, 0, false, false }, "deadlock" },
		{ { true, true, 10, 10, 0, 0, 0, 0, 2, false, false }, "tsan_warnings" },
		{ { true, true, 10, 10, 0, 0, 0, 0, 2, true, false }, "tsan_warnings" },
		{ { true, true, 10, 10, 0, 0, 0, 0, 0, true, false }, "compatible_gil_fallback" },
		{ { true, true, 10, 10, 0, 0, 0, 0, 0, false, false }, "compatible" },
		{ { true, true, 10, 0, 10, 0, 0, 0, 0, false, false }, "incompatible" },
		{ { true, true, 10, 0, 9, 0, 1, 0, 0, false, false }, "incompatible" },
		{ { true, true, 10, 7, 3, 0, 0, 0, 0, false, false }, "intermittent" },
		{ { true, true, 10, 9, 0, 0, 1, 0, 0, false, false }, "intermittent" },
		{ { true, true, 10, 9, 1, 0, 0, 0, 5, false, false }, "intermittent" },
		{ { true, true, 1, 1, 0, 0, 0, 0, 0, false, false }, "compatible" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_str(verdict_category(&t[i].c), t[i].want, "category row %zu: %s", i, t[i].want);
}

static void test_gil_comparison(void)
{
	static const struct {
		int ff, fn, gf, gn;
		const char *want;
	} t[] = {
		{ 0, 10, 0, 10, "same" },     { 3, 10, 0, 10, "ft_only" },
		{ 10, 10, 0, 10, "ft_only" }, { 5, 10, 5, 10, "pre_existing" },
		{ 10, 10, 10, 10, "pre_existing" },
		{ 0, 10, 2, 10, "pre_existing" },
		{ 9, 10, 1, 10, "gil_helps" }, { 3, 10, 1, 10, "pre_existing" },
		{ 1, 10, 0, 0, NULL },        { 0, 0, 1, 10, NULL },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_str(verdict_gil_comparison(t[i].ff, t[i].fn, t[i].gf, t[i].gn), t[i].want,
		       "gil comparison ft %d/%d gil %d/%d", t[i].ff, t[i].fn, t[i].gf, t[i].gn);
	/* Fisher exact, one-sided: 9/10 vs 1/10 -> p = 0.000547 (R: fisher.test alt="greater") */
	ok(fabs(fisher_greater(9, 10, 1, 10) - 0.000547) < 0.00001, "fisher 9/10 vs 1/10");
	ok(fabs(fisher_greater(3, 10, 1, 10) - 0.2910) < 0.001, "fisher 3/10 vs 1/10");
	ok(fabs(fisher_greater(0, 5, 0, 5) - 1.0) < 1e-9, "fisher no failures");
}

static void test_syscall_parse(void)
{
	static const struct {
		const char *line;
		long nr;
		bool untimed, child;
	} t[] = {
		/* real lines from /proc/PID/task/TID/syscall of the deadlock fixture */
		{ "202 0x7f2ba0000b70 0x189 0x0 0x0 0x0 0xffffffff 0x7f2ba751bd10 0x7f2ba8d1e6d6\n",
		  202, true, false },
		{ "202 0x5581b06c9b60 0x80 0x2 0x0 0x0 0x0 0x7ffd 0x7f\n", 202, true, false },
		{ "202 0x5581b06c9b60 0x89 0x0 0x7ffd12345678 0x0 0xffffffff 0x7ffd 0x7f\n", 202,
		  false, false },
		{ "202 0x5581b06c9b60 0x81 0x1 0x0 0x0 0x0 0x7ffd 0x7f\n", 202, false, false },
		{ "202 0x5581b06c9b60 0x86 0x0 0x0 0x0 0x0 0x7ffd 0x7f\n", 202, true, false },
		{ "61 0xffffffffffffffff 0x7ffc 0x0 0x0 0x0 0x0 0x7ffc 0x7f\n", 61, false, true },
		{ "247 0x1 0x1234 0x7ffc 0x4 0x0 0x0 0x7ffc 0x7f\n", 247, false, true },
		{ "7 0x7ffc 0x1 0xffffffff 0x0 0x0 0x0 0x7ffc 0x7f\n", 7, false, false },
		{ "running\n", -2, false, false },
		{ "-1 0x7ffc 0x7f\n", -1, false, false },
		{ "", -3, false, false },
	};
	char buf[96];
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct task_sample ts;
		parse_syscall_line(t[i].line, &ts);
		is_int(ts.syscall, t[i].nr, "syscall nr of row %zu", i);
		is_int(ts.untimed_futex_wait, t[i].untimed, "untimed futex wait of row %zu", i);
		is_int(ts.child_wait, t[i].child, "child wait of row %zu", i);
	}
	futex_op_name(0x189, buf, sizeof(buf));
	is_str(buf, "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME", "futex op 0x189");
	futex_op_name(0x80, buf, sizeof(buf));
	is_str(buf, "FUTEX_WAIT_PRIVATE", "futex op 0x80");
	ok(!futex_op_is_wait(0x81), "FUTEX_WAKE is not a wait");
}

int main(void)
{
	test_iteration();
	test_category();
	test_gil_comparison();
	test_syscall_parse();
	return tap_done();
}
