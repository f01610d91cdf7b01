#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# `make demo`: run ftscope over a registry of the bundled fixture packages (a compatible
# one, a data race, a lock-order deadlock, a segfaulting extension, an extension without
# Py_mod_gil, an import failure), then show the run. Takes a minute or two.
#
# Work goes to ./demo-work (FTSCOPE_DEMO_DIR to change), replaced on each run. Needs a
# provisioned host (scripts/setup.sh) and build/ftscope.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
FTSCOPE=${FTSCOPE:-$ROOT/build/ftscope}
WORK=${FTSCOPE_DEMO_DIR:-$ROOT/demo-work}
FIXTURES=(ok race deadlock segv nogil importfail)

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
	--iterations 3 --timeout 60 --deadlock-window 2 --compare-with-gil --detect-extensions --offline \
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
exit "$rc"
