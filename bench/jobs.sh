#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# What `run --jobs J` buys against `--jobs 1` on the fixture registry, and what it costs:
# packages per hour (wall time of the whole run, ROUNDS rounds, interleaved, medians) and the
# categories, which must not change. They can: a race needs its threads on CPUs at the same
# time, and two packages sharing two cores leave each one core (ftscope warns when a package
# gets fewer than two CPUs). The categories of every round are printed side by side, and a
# package whose category differs between the two settings is named.
#
#   bash bench/jobs.sh
#   ROUNDS=3 ITERS=3 JOBS=2 PKGS="ok race nogil segv deadlock importfail" bash bench/jobs.sh
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

ROUNDS=${ROUNDS:-2}
ITERS=${ITERS:-3}
JOBS=${JOBS:-2}
PKGS=${PKGS:-ok race nogil segv deadlock importfail slow}

need_root
need_cmd jq git
need_ftscope
need_python
bench_check

WORK=$(mktemp -d /tmp/ftscope-bench-jobs.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
chmod 755 "$WORK"
# shellcheck disable=SC2086
bash "$ROOT_DIR/tests/fixtures/make-registry.sh" "$WORK/fx" $PKGS
names=$(for p in $PKGS; do case $p in ftfix-*) echo "$p" ;; *) echo "ftfix-$p" ;; esac; done)
list=$(echo "$names" | paste -sd, -)
npkgs=$(echo "$names" | wc -l)

# one_run J ROUND: a whole run with --jobs J; prints its wall seconds; categories to a file
one_run() {
	local j=$1 r=$2 res=$WORK/res-$1-$2 t0 t1 rc=0 run
	t0=$(now)
	"$FTSCOPE" run --target-python "$PY" --registry-dir "$WORK/fx/registry" --packages "$list" \
		--iterations "$ITERS" --jobs "$j" --deadlock-window 2 --timeout 120 --offline \
		--repos-dir "$WORK/repos" --venvs-dir "$WORK/venvs" --results-dir "$res" \
		>"$res.out" 2>"$res.err" </dev/null || rc=$?
	t1=$(now)
	run=$(ls -d "$res"/ft_* 2>/dev/null | head -1)
	if [ -z "$run" ] || [ "$rc" -ge 2 ]; then
		echo "$(basename "$0"): the run with --jobs $j failed (exit $rc):" >&2
		tail -5 "$res.err" >&2
		exit 1
	fi
	jq -r -R 'fromjson? | select(type == "object" and .package) | "\(.package) \(.category) \(.pass_count)/\(.iterations_completed)"' \
		"$run/ft_results.jsonl" | sort >"$WORK/cat-$j-$r"
	grep -h "fewer than two cores" "$res.err" >"$WORK/warn-$j" || true
	elapsed "$t0" "$t1"
}

echo "# bench/jobs.sh: $npkgs fixture packages x $ITERS iterations, --jobs 1 vs --jobs $JOBS," \
	"$ROUNDS rounds interleaved; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$WORK/wall-1"
: >"$WORK/wall-$JOBS"
for r in $(seq 1 "$ROUNDS"); do
	# alternate which goes first, so a drift in the machine's load hits both alike
	if [ $((r % 2)) = 1 ]; then order="1 $JOBS"; else order="$JOBS 1"; fi
	for j in $order; do
		w=$(one_run "$j" "$r")
		echo "$w" >>"$WORK/wall-$j"
		printf 'round %d, --jobs %d: %.1f s\n' "$r" "$j" "$w"
	done
done

read -r _ m1 _ _ _ < <(stats <"$WORK/wall-1")
read -r _ mj _ _ _ < <(stats <"$WORK/wall-$JOBS")
awk -v n="$npkgs" -v a="$m1" -v b="$mj" -v j="$JOBS" 'BEGIN {
	printf "--jobs 1: median %.1f s, %.0f packages/hour\n", a, 3600 * n / a
	printf "--jobs %d: median %.1f s, %.0f packages/hour\n", j, b, 3600 * n / b
	printf "speed-up of --jobs %d over --jobs 1: %.2fx\n", j, a / b
}'
[ -s "$WORK/warn-$JOBS" ] && echo "ftscope warned: $(head -1 "$WORK/warn-$JOBS")"

echo "categories (package: --jobs 1 rounds | --jobs $JOBS rounds):"
changed=()
while read -r pkg; do
	c1=$(for r in $(seq 1 "$ROUNDS"); do awk -v p="$pkg" '$1 == p { printf "%s %s", $2, $3 }' "$WORK/cat-1-$r"; echo; done | paste -sd' ' - | sed 's/ \+$//')
	cj=$(for r in $(seq 1 "$ROUNDS"); do awk -v p="$pkg" '$1 == p { printf "%s %s", $2, $3 }' "$WORK/cat-$JOBS-$r"; echo; done | paste -sd' ' - | sed 's/ \+$//')
	printf '  %-18s %s | %s\n' "$pkg" "$c1" "$cj"
	k1=$(cat "$WORK"/cat-1-* | awk -v p="$pkg" '$1 == p { print $2 }' | sort -u | paste -sd, -)
	kj=$(cat "$WORK"/cat-"$JOBS"-* | awk -v p="$pkg" '$1 == p { print $2 }' | sort -u | paste -sd, -)
	[ "$k1" = "$kj" ] || changed+=("$pkg ($k1 with --jobs 1, $kj with --jobs $JOBS)")
done <<<"$names"
if [ ${#changed[@]} -eq 0 ]; then
	echo "categories: the same with --jobs 1 and --jobs $JOBS"
else
	echo "categories: CHANGED by --jobs $JOBS: ${changed[*]}"
fi
