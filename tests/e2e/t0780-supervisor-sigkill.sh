#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# SIGKILL of the supervisor (issue 11, high 5): its workers die with it (no root worker runs
# the rest of the package under init), so do the test's processes (the daemon it left too:
# the test uid's guardian sweeps them), and the run, whose meta still says "running", is read
# as interrupted and finished by --resume. The daemon of the resumed iteration does not
# outlive its iteration.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
hostile_dirs

P=ftfix-hostile-daemon
FTFIX_TEST_COMMAND="python -m pytest -s tests" fixture_registry hostile-daemon
mapfile -t dirs < <(ftscope_run_dirs)
# --tracer none: a ptrace tracer's PTRACE_O_EXITKILL would kill the traced tree with the
# worker anyway; without it only the test uid's guardian is left to sweep.
opts=(--target-python "$FT_PYTHON" --registry-dir "$REGISTRY" --packages $P "${dirs[@]}"
	--iterations 1 --no-detect-extensions --tracer none --env "FTFIX_HOSTILE_OUT=$HOSTILE_OUT")
FTSCOPE_CMD="ftscope run ${opts[*]} (killed)"
"$FTSCOPE" run "${opts[@]}" >"$FTSCOPE_OUT" 2>"$FTSCOPE_ERR" </dev/null &
pid=$!
for _ in $(seq 1 600); do
	[ -s "$HOSTILE_OUT/daemon.pid" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
daemon=$(cat "$HOSTILE_OUT/daemon.pid" 2>/dev/null)
ok test -n "$daemon" "the test started its daemon (pid ${daemon:-none})"
mapfile -t workers < <(pgrep -P "$pid")
kill -KILL "$pid"
wait "$pid" 2>/dev/null
# The killed workers' task-limit cgroups (ftscope-PID-N) cannot be removed by them. Listed
# now: any ftscope run that starts (another test's, under prove -j) removes a dead worker's
# cgroup once it is empty, so later they may be gone already.
stale=()
for w in "${workers[@]}"; do
	for g in /sys/fs/cgroup/ftscope-"$w"-* /sys/fs/cgroup/pids/ftscope-"$w"-*; do
		[ -d "$g" ] && stale+=("$g")
	done
done
# The workers die with it at once (PR_SET_PDEATHSIG), not when something else gets to them.
for _ in $(seq 1 20); do
	kill -0 "${workers[@]}" 2>/dev/null || break
	sleep 0.1
done
alive=()
for w in "${workers[@]}"; do
	kill -0 "$w" 2>/dev/null && alive+=("$w")
done
is "${#workers[@]}:${#alive[@]}" "${#workers[@]}:0" \
	"its ${#workers[@]} child process(es) ended within 2 s"
gone=
for _ in $(seq 1 100); do
	mapfile -t left < <(procs_under "$TEST_TMP")
	if [ ${#left[@]} -eq 0 ] && ! { [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; }; then
		gone=1
		break
	fi
	sleep 0.1
done
ok test -n "$gone" "within 10 s nothing of the run is left: no worker, no test, no daemon"
[ -n "$gone" ] || describe_pids "${left[@]}"
RUN_DIR=$(run_dir)
is "$(jqfile "$RUN_DIR/ft_meta.json" .status)" running "the meta, on disk, still says running"

run_ftscope show "$RUN_DIR"
is "$FTSCOPE_RC" 0 "show reads the run"
ok grep -q "is gone without finishing it; reading it as interrupted" "$FTSCOPE_ERR" \
	"and says its ftscope died: the run is interrupted"

touch "$HOSTILE_OUT/quick"
rm -f "$HOSTILE_OUT/daemon.pid"
run_ftscope run --resume "$RUN_DIR"
is "$FTSCOPE_RC" 0 "--resume finishes it"
if [ ${#stale[@]} -gt 0 ]; then
	left=()
	for g in "${stale[@]}"; do
		[ -d "$g" ] && left+=("$g")
	done
	is "${#left[@]}" 0 "after the next run the dead workers' ${#stale[@]} cgroup(s) are gone (${stale[*]})"
else
	skip "the dead workers' cgroups are removed" \
		"the killed run had made no task-limit cgroup (no writable pids cgroup)"
fi
is "$(jqfile "$RUN_DIR/ft_meta.json" .status)" complete "the run is complete"
is "$(jqpkg $P .category)" compatible "the package is compatible"
daemon=$(cat "$HOSTILE_OUT/daemon.pid" 2>/dev/null)
alive=no
[ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null && alive=yes
ok test -n "$daemon" -a "$alive" = no "the daemon of the resumed run's iteration did not outlive it"
done_testing
