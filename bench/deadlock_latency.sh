#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Deadlock onset to verdict, for two kinds of deadlock, ITERS iterations (default 5) each with
# --deadlock-window WINDOW (default 2), once per tracer (ebpf where it loads, ptrace, none):
#   python  a copy of the ftfix-deadlock fixture (threading.Lock in opposite order: locks
#           that record no owner), decided by the window: every thread blocked for WINDOW s;
#   mutex   tests/fixtures/native/deadlock_native as the test command of an empty package
#           (two pthread mutexes in opposite order: each owner is in its lock word), a
#           certain cycle, decided as soon as it is seen (ptrace and ebpf; with --tracer
#           none there is no snapshot to confirm it, so the window decides).
# Per iteration:
#   detected_after_s  ftscope's own figure: last progress -> verdict (hang.detected_after_s)
#   onset->record     measured outside ftscope: the wall clock when the deadlock forms (a
#                     conftest.py added to the copy stamps the start of test_lock_order; the
#                     native fixture stamps the moment both threads hold their first mutex,
#                     FTSCOPE_BENCH_ONSET), against the mtime of the iteration's
#                     iteration.json (written once the tree is snapshotted, killed and reaped)
#   duration_s        the whole iteration, start-up included
# labeille has no deadlock verdict: a hung iteration waits for --timeout, 600 s by default, so
# "vs labeille" is 600 s / the median iteration duration measured here.
#
#   bash bench/deadlock_latency.sh
#   ITERS=10 WINDOW=1 bash bench/deadlock_latency.sh
#   CASES=mutex TRACERS=ptrace bash bench/deadlock_latency.sh
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

ITERS=${ITERS:-${N:-5}}
WINDOW=${WINDOW:-2}
CASES=${CASES:-python mutex}
TRACERS=${TRACERS:-} # default: ebpf (where the recorder loads), ptrace, none
LABEILLE_TIMEOUT=${LABEILLE_TIMEOUT:-600}
TEST_USER=${TEST_USER:-nobody}
FIXTURE=$ROOT_DIR/tests/fixtures/pkgs/ftfix-deadlock

need_root
need_cmd awk cc
need_ftscope
need_python
need_ptrace
[ -d "$FIXTURE" ] || bench_missing "the fixture $FIXTURE"
bench_check
if ! "$PY" -c 'import pytest' 2>/dev/null; then
	echo "$(basename "$0"): cannot run, missing:" >&2
	echo "  - pytest for $PY (bash $ROOT_DIR/scripts/setup.sh provides it)" >&2
	exit 2
fi
TEST_UID=$(id -u "$TEST_USER")
TEST_GID=$(id -g "$TEST_USER")

WORK=$(mktemp -d /tmp/ftscope-bench-deadlock.XXXXXX)
FT_PID=
cleanup() {
	if [ -n "$FT_PID" ] && kill -0 "$FT_PID" 2>/dev/null; then
		kill -TERM "$FT_PID" 2>/dev/null || true # ftscope kills and reaps its tree
		wait "$FT_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
chmod 755 "$WORK"

PKG=$WORK/ftfix-deadlock
cp -r "$FIXTURE" "$PKG"
rm -rf "$PKG"/build "$PKG"/*.egg-info
cat >"$PKG/tests/conftest.py" <<'EOF'
# Added by bench/deadlock_latency.sh: stamp the wall clock when the deadlocking test starts.
import os, time
import pytest

@pytest.fixture(autouse=True)
def _bench_onset(request):
    path = os.environ.get("FTSCOPE_BENCH_ONSET")
    if path and request.node.name == "test_lock_order":
        with open(path, "a") as f:
            f.write(f"{time.time():.6f}\n")
    yield
EOF
mkdir -p "$WORK/stamps"
# The mutex case: the native fixture as the test command of an empty package.
"$ROOT_DIR/tests/fixtures/native/build.sh" "$WORK/native" >/dev/null 2>&1 ||
	{ echo "the native fixtures did not build (cc)" >&2; exit 1; }
chmod -R a+rX "$WORK/native"
MPKG=$WORK/mutexpkg
bench_package "$MPKG" ftbench-mutex
chown -R "$TEST_UID:$TEST_GID" "$PKG" "$WORK/stamps"

run_one() { # case tracer
	local case=$1 tracer=$2 key=$1-$2 res=$WORK/res-$1-$2 rc=0 t0 t1
	local -a what
	if [ "$case" = python ]; then
		what=(--package-dir "$PKG")
	else
		what=(--package-dir "$MPKG" --test-command-override "$WORK/native/deadlock_native")
	fi
	mkdir -p "$res"
	t0=$(now)
	"$FTSCOPE" run --target-python "$PY" "${what[@]}" --no-detect-extensions \
		--iterations "$ITERS" --deadlock-window "$WINDOW" --tracer "$tracer" --user "$TEST_USER" \
		--env "FTSCOPE_BENCH_ONSET=$WORK/stamps/$key" \
		--results-dir "$res" --venvs-dir "$WORK/venvs" --repos-dir "$WORK/repos" --offline \
		>"$WORK/ft-$key.out" 2>"$WORK/ft-$key.err" &
	FT_PID=$!
	wait "$FT_PID" || rc=$?
	FT_PID=
	t1=$(now)
	if [ "$rc" != 0 ]; then
		echo "ftscope run --tracer $tracer ($case) exited $rc:" >&2
		tail -20 "$WORK/ft-$key.err" >&2
		exit 1
	fi
	elapsed "$t0" "$t1" >"$WORK/wall-$key"
	"$PY" - "$(ls -d "$res"/ft_* | head -1)" "$WORK/stamps/$key" >"$WORK/it-$key" <<'EOF'
import json, os, sys
rundir, stamps = sys.argv[1], sys.argv[2]
pkg = [json.loads(l) for l in open(os.path.join(rundir, "ft_results.jsonl")) if l.strip()][-1]
onsets = [float(x) for x in open(stamps).read().split()] if os.path.exists(stamps) else []
for k, it in enumerate(pkg["iterations"]):
    hang = it.get("hang") or {}
    rec = "nan"
    try:
        mt = os.stat(os.path.join(rundir, it["artifacts"], "iteration.json")).st_mtime
        if k < len(onsets):
            rec = f"{mt - onsets[k]:.3f}"
    except (OSError, KeyError, TypeError):
        pass
    print(it["index"], it["status"], hang.get("reason") or "-", hang.get("detected_after_s", "nan"),
          rec, it["duration_s"], hang.get("snapshot_ms", "nan"), it.get("tracer") or "-",
          len(hang.get("cycles") or []), it.get("forensics") or "-")
print("#", pkg["category"], pkg["deadlock_count"], len(onsets))
EOF
}

echo "deadlock_latency: $ITERS iterations per tracer and case ($CASES), --deadlock-window $WINDOW"
machine_note
use_ftscope_copy "$WORK"
if [ -z "$TRACERS" ]; then
	TRACERS="ptrace none"
	"$FTSCOPE" doctor 2>/dev/null | grep -q "ok.*eBPF recorder" && TRACERS="ebpf $TRACERS"
fi
KEYS=
for c in $CASES; do
	for t in $TRACERS; do
		printf '  ftscope run --tracer %s (%s) ...\n' "$t" "$c" >&2
		run_one "$c" "$t"
		KEYS="$KEYS $c-$t"
	done
done

echo
printf '%-7s %-7s %4s  %-9s %-9s %13s %14s %11s %12s %7s\n' case tracer iter status reason "detected (s)" "onset->rec (s)" "duration (s)" "snapshot ms" cycles
BAD=0
for k in $KEYS; do
	while read -r idx status reason det rec dur snap tr cyc _; do
		[ "$idx" = "#" ] && continue
		printf '%-7s %-7s %4s  %-9s %-9s %13s %14s %11s %12s %7s\n' "${k%%-*}" "${k#*-}" "$idx" "$status" "$reason" "$det" "$rec" "$dur" "$snap" "$cyc"
		if [ "$status" != deadlock ] || [ "$tr" != "${k#*-}" ]; then BAD=$((BAD + 1)); fi
	done <"$WORK/it-$k"
done
echo
printf '%-7s %-7s %22s %22s %22s %13s\n' case tracer "detected_after_s med" "onset->record med" "duration_s med (min)" "run wall (s)"
for k in $KEYS; do
	read -r _ dmed _ <<<"$(grep -v '^#' "$WORK/it-$k" | awk '{ print $4 }' | stats)"
	read -r _ rmed _ <<<"$(grep -v '^#' "$WORK/it-$k" | awk '{ print $5 }' | stats)"
	read -r _ umed umin _ <<<"$(grep -v '^#' "$WORK/it-$k" | awk '{ print $6 }' | stats)"
	printf '%-7s %-7s %22.3f %22.3f %15.3f (%.3f) %13.1f\n' "${k%%-*}" "${k#*-}" "$dmed" "$rmed" "$umed" "$umin" "$(cat "$WORK/wall-$k")"
	echo "$k $umed $dmed $rmed" >>"$WORK/medians"
done
echo
while read -r k umed dmed rmed; do
	awk -v c="${k%%-*}" -v t="${k#*-}" -v u="$umed" -v d="$dmed" -v r="$rmed" -v L="$LABEILLE_TIMEOUT" -v w="$WINDOW" 'BEGIN {
		goal = (c == "mutex" && t != "none") ? 0.5 : 3
		printf "%s, --tracer %s: onset -> recorded %.2f s (goal <= %s s: %s); vs labeille default timeout: %.0f s / %.2f s per hung iteration = %.0fx sooner (verdict %.2f s after the last progress, window %s s)\n",
			c, t, r, goal, (r <= goal ? "met" : "NOT met"), L, u, L / u, d, w
	}'
done <"$WORK/medians"
for k in $KEYS; do
	read -r _ cat cnt nonsets <<<"$(grep '^#' "$WORK/it-$k")"
	echo "category (${k%%-*}, --tracer ${k#*-}): $cat ($cnt deadlocks, $nonsets onset stamps)"
	[ "$cat" = deadlock ] && [ "$cnt" = "$ITERS" ] || BAD=$((BAD + 1))
done
[ "$BAD" = 0 ] || { echo "FAIL: $BAD iteration(s)/run(s) without the expected deadlock verdict" >&2; exit 1; }
