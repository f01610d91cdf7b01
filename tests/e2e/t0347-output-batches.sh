#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# The supervisor reads the test's output in batches: a test that writes a line every
# millisecond, each flushed (as unittest writes a dot per test), does not wake it per write.
# Counted by the supervisor's own read calls while the test runs (/proc/PID/io syscr, its
# /proc samples included): a wakeup per write took 11,600 for 3000 writes; in batches (a
# 10 ms rest after a small read) ~1,600, most of them the samples. Nothing is lost: every
# line is in the capture, in order. And the batching does not slow a flood: 40 MB of output
# is drained (t0350).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

marker=ftscope-t0347-writer
code='import sys, time
for i in range(3000):
    sys.stdout.write(f"line {i}\n"); sys.stdout.flush(); time.sleep(0.001)'
fixture_registry ok
mapfile -t dirs < <(ftscope_run_dirs)
"$FTSCOPE" run --target-python "$FT_PYTHON" --registry-dir "$REGISTRY" --packages ftfix-ok \
	"${dirs[@]}" --iterations 1 --tracer none --no-detect-extensions \
	--test-command-override "python -c '$code' $marker" >"$FTSCOPE_OUT" 2>"$FTSCOPE_ERR" </dev/null &
ft=$!
# The supervisor (the process that started the test command's shell: `ftscope run` works in
# a child of its own) and its read calls from when the writer is seen until it is gone.
writer="^sh -c python -c .*$marker"
sup='' first='' last=''
while kill -0 "$ft" 2>/dev/null; do
	sh_pid=$(pgrep -f "$writer" | head -1) || sh_pid=
	if [ -z "$sup" ] && [ -n "$sh_pid" ]; then
		sup=$(ps -o ppid= -p "$sh_pid" | tr -d ' ')
	fi
	v=
	[ -n "$sup" ] && v=$(awk '/^syscr:/ { print $2 }' "/proc/$sup/io" 2>/dev/null)
	if [ -n "$v" ] && [ -n "$sh_pid" ]; then
		[ -n "$first" ] || first=$v
		last=$v
	elif [ -n "$first" ]; then
		break
	fi
	sleep 0.02
done
rc=0
wait "$ft" || rc=$?
RUN_DIR=$(run_dir) || RUN_DIR=
is "$rc" 0 "run exits 0"
is "$(jqpkg ftfix-ok .iterations[0].status)" pass "the writer passes"
ok test -n "$first" "the writer was seen running, under supervisor $sup"
reads=$((${last:-0} - ${first:-0}))
note "the supervisor's read calls while 3000 lines were written 1 ms apart: $reads"
ok test "$reads" -lt 4000 "fewer than 4000 reads for 3000 writes (batched; $reads)"
out=$RUN_DIR/artifacts/ftfix-ok/1/stdout
ok cmp -s <(grep '^line ' "$out") <(seq 0 2999 | sed 's/^/line /') \
	"every line is in the capture, in order"
done_testing
