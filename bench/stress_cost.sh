#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# What stress iterations (run --parallel-threads N) cost against plain ones, on a real suite:
# CPython's own stdlib tests for textwrap, fractions, string and shlex (~170 tests, shipped
# with the free-threaded interpreter, and passing under pytest-run-parallel; heapq's and
# bisect's do not: their TestCase classes get their module attribute per thread), run by
# pytest. For each N in NS (default "2 4 8"), one
# `ftscope run --parallel-threads N --iterations ITERS` (default 2) gives ITERS plain and
# ITERS stress iterations of the same suite in the same run; the cost is the ratio of their
# median CPU time (cpu_s: every process of the tree, exact, so the load of a shared machine
# cannot swamp it) and, for reference, of their median wall time.
#
#   bash bench/stress_cost.sh
#   NS="4" ITERS=3 bash bench/stress_cost.sh
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

NS=${NS:-2 4 8}
ITERS=${ITERS:-2}
TESTS=${TESTS:-test_textwrap.py test_fractions.py test_string.py test_shlex.py}
TEST_USER=${TEST_USER:-nobody}

need_root
need_cmd jq
need_ftscope
need_python
bench_check
if ! "$PY" -c 'import pytest_run_parallel, test.support' 2>/dev/null; then
	echo "$(basename "$0"): cannot run, missing: pytest-run-parallel or CPython's test" \
		"package in $PY (bash scripts/setup.sh installs the plugin)" >&2
	exit 2
fi
STDLIB_TEST=$("$PY" -c 'import os, test; print(os.path.dirname(test.__file__))')
files=()
for t in $TESTS; do files+=("$STDLIB_TEST/$t"); done

TEST_UID=$(id -u "$TEST_USER")
TEST_GID=$(id -g "$TEST_USER")
WORK=$(mktemp -d /tmp/ftscope-bench-stress.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
chmod 755 "$WORK"
PKG=$WORK/pkg
bench_package "$PKG" ftbench-stress

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-4s %12s %12s %8s %12s %12s %8s  %s\n' N "plain cpu_s" "stress cpu_s" ratio \
	"plain wall" "stress wall" ratio "stress statuses"
for n in $NS; do
	res=$WORK/results-$n
	rc=0
	"$FTSCOPE" run --target-python "$PY" --package-dir "$PKG" --iterations "$ITERS" \
		--parallel-threads "$n" --timeout 900 --tracer ptrace --user "$TEST_USER" \
		--no-detect-extensions --offline \
		--test-command-override "python -m pytest -q -p no:cacheprovider ${files[*]}" \
		--results-dir "$res" --venvs-dir "$WORK/venvs" --repos-dir "$WORK/repos" \
		>"$WORK/run-$n.out" 2>&1 || rc=$?
	f=$(ls "$res"/ft_*/ft_results.jsonl 2>/dev/null | head -1)
	if [ "$rc" != 0 ] || [ -z "$f" ]; then
		echo "ftscope run --parallel-threads $n exited $rc:" >&2
		tail -20 "$WORK/run-$n.out" >&2
		exit 1
	fi
	if [ "$(jq '(.iterations | length) * (.stress.iterations | length)' "$f")" = 0 ]; then
		echo "ftscope run --parallel-threads $n: no plain or no stress iteration:" >&2
		jq -c '{category, install_error, import_error, stress: .stress.skipped_reason}' "$f" >&2
		exit 1
	fi
	pc=$(jq '.iterations[].cpu_s' "$f" | median)
	sc=$(jq '.stress.iterations[].cpu_s' "$f" | median)
	pw=$(jq '.iterations[].duration_s' "$f" | median)
	sw=$(jq '.stress.iterations[].duration_s' "$f" | median)
	st=$(jq -r '[.stress.iterations[].status] | join(",")' "$f")
	printf '%-4s %12.2f %12.2f %8.2f %12.2f %12.2f %8.2f  %s\n' "$n" "$pc" "$sc" \
		"$(awk -v a="$sc" -v b="$pc" 'BEGIN { print (b > 0 ? a / b : 0) }')" "$pw" "$sw" \
		"$(awk -v a="$sw" -v b="$pw" 'BEGIN { print (b > 0 ? a / b : 0) }')" "$st"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (cpu_s is the tree's CPU time: the load does not enter it)"
