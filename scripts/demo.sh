#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# `make demo`: run ftscope over a registry of the bundled fixture packages (a compatible
# one, a data race, a lock-order deadlock, a segfaulting extension, an extension without
# Py_mod_gil, an import failure), then show the run, and check that each package came out
# as its fixture is made to: exit 1 naming the package (and its install or import error)
# when one did not. Takes a minute or two. Installs are --offline: the fixtures need nothing
# but the provisioned interpreter.
#
# Work goes to ./demo-work (FTSCOPE_DEMO_DIR to change), replaced on each run. Needs a
# provisioned host (scripts/setup.sh) and build/ftscope.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
FTSCOPE=${FTSCOPE:-$ROOT/build/ftscope}
WORK=${FTSCOPE_DEMO_DIR:-$ROOT/demo-work}
FIXTURES=(ok race deadlock segv nogil importfail)
# What each must come out as (tests/fixtures/pkgs/README.md). The race shows in about half
# of the iterations: all three may pass, or all fail.
declare -A EXPECT=(
	[ftfix-ok]=compatible
	[ftfix-race]="intermittent incompatible compatible"
	[ftfix-deadlock]=deadlock
	[ftfix-segv]=crash
	[ftfix-nogil]=compatible_gil_fallback
	[ftfix-importfail]=import_failure
)

[ -x "$FTSCOPE" ] || { echo "demo: $FTSCOPE is missing; run make first" >&2; exit 1; }
PY=$(FTSCOPE_SETUP_QUIET=1 bash scripts/setup.sh --print-python)

case $WORK in
/ | "$ROOT" | "$HOME") echo "demo: refusing to use '$WORK' as the work directory" >&2; exit 1 ;;
esac
rm -rf "$WORK"
mkdir -p "$WORK"
tests/fixtures/make-registry.sh "$WORK" "${FIXTURES[@]}"

echo "demo: registry of ${#FIXTURES[@]} fixture packages in $WORK/registry"
echo "demo: 3 iterations each without the GIL and 3 with it, deadlocks called after 2 s"
echo
rc=0
"$FTSCOPE" run --target-python "$PY" --registry-dir "$WORK/registry" \
	--iterations 3 --timeout 60 --deadlock-window 2 --compare-with-gil --detect-extensions \
	--offline \
	--repos-dir "$WORK/repos" --venvs-dir "$WORK/venvs" --results-dir "$WORK/results" || rc=$?

run=
for d in "$WORK"/results/ft_*; do
	[ -d "$d" ] && run=$d
done
if [ -z "$run" ]; then
	echo "demo: ftscope run produced no run directory (exit $rc)" >&2
	exit 1
fi
echo
echo "demo: \$ build/ftscope show ${run#"$ROOT"/}"
"$FTSCOPE" show "$run"
echo
echo "demo: results in ${run#"$ROOT"/} (ft_results.jsonl, artifacts/); try"
echo "  build/ftscope export ${run#"$ROOT"/} --format csv"

# Did each fixture come out as it should?
bad=0
for f in "${FIXTURES[@]}"; do
	p=ftfix-$f
	line=$(jq -cR --arg p "$p" 'fromjson? | select(.package == $p)' "$run/ft_results.jsonl" |
		tail -1)
	if [ -z "$line" ]; then
		echo "demo: FAIL: $p has no result" >&2
		bad=1
		continue
	fi
	cat=$(jq -r .category <<<"$line")
	# the error's telling line: pip's "ERROR: ..." or a "...Error: ...", else the last one
	why=$(jq -r 'def telling: (. // "none recorded") | split("\n") | map(sub("^\\s+"; ""))
			| map(select(length > 0 and (startswith("note:") | not)))
			| ((map(select(test("ERROR:|Error:"))) | last) // last // "");
		if .install_ok == false then "install error: " + (.install_error | telling)
		elif .import_ok == false then "import error: " + (.import_error | telling)
		else "" end' <<<"$line")
	if [[ " ${EXPECT[$p]} " != *" $cat "* ]]; then
		echo "demo: FAIL: $p is $cat, expected ${EXPECT[$p]// / or }${why:+; $why}" >&2
		bad=1
	elif [ "$cat" = import_failure ] && [[ $why != *"deliberately broken"* ]]; then
		echo "demo: FAIL: $p failed to import, but not for its own reason; $why" >&2
		bad=1
	fi
done
if [ $bad = 0 ]; then
	echo "demo: every package came out as expected"
elif [ "$rc" = 0 ]; then
	rc=1
fi
exit "$rc"
