#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# What a labeille user types works (issue 17): the free-threaded guide's Quick Start and
# version-to-version commands as written (`--work-dir`, `--top`, `results/ft_*`, `compare`
# of two results directories), `--top 1` takes the most downloaded package of an index that
# is not in download order, `-n` is `--iterations`, and `--check-stability` refuses to
# start on a busy machine (`--no-check-stability` turns it off; off is the default).
# The registry is found through $LABEILLE_REGISTRY_DIR and pip is told to use no index by
# its own variables, so the commands need no option the guide does not show.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

# An index that lists the less downloaded package first.
fixture_registry importfail ok
cat >"$REGISTRY/index.yaml" <<-YAML
	last_updated: "2026-12-05T09:00:00Z"
	packages:
	- name: ftfix-importfail
	  download_count: 1
	  extension_type: pure
	  enriched: true
	  skip: false
	- name: ftfix-ok
	  download_count: 1000
	  extension_type: pure
	  enriched: true
	  skip: false
YAML
export LABEILLE_REGISTRY_DIR=$REGISTRY PIP_NO_INDEX=1 PIP_NO_BUILD_ISOLATION=0
W=$TEST_TMP/ft-work
mkdir -p "$W"
cd "$W" || bail_out "cannot cd to $W"

# --top 1: the most downloaded, whatever the index order; -n 1 is --iterations 1. No
# stability check unless asked, so an impossible --max-load changes nothing.
run_ftscope run --target-python "$FT_PYTHON" --work-dir "$W" --top 1 -n 1 --max-load 0
is "$FTSCOPE_RC" 0 "--top 1 -n 1: exits 0 (no stability check by default)"
RUN_DIR=$(ls -d "$W"/results/ft_* 2>/dev/null | tail -1)
ok test -d "$W/repos/ftfix-ok" "--work-dir: the clone is in DIR/repos"
ok test -d "$W/venvs" "--work-dir: the workspaces are in DIR/venvs"
ok test -f "$RUN_DIR/ft_meta.json" "--work-dir: the run is in DIR/results"
is "$(jq -r .package "$RUN_DIR/ft_results.jsonl" | tr '\n' ' ')" "ftfix-ok " \
	"--top 1 ran the most downloaded package only"
is "$(jqpkg ftfix-ok .iterations_completed)" 1 "-n 1: one iteration"
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.repos_dir)" "$W/repos" "meta: repos_dir under --work-dir"
rm -rf "$W/results"

# The Quick Start, as written (the guide's ~/ft-work is $W).
run_ftscope run --target-python "$FT_PYTHON" \
	--work-dir "$W" \
	--top 50
is "$FTSCOPE_RC" 0 "Quick Start: ftscope run --work-dir DIR --top 50 exits 0"
is "$(jqfile "$(ls -d results/ft_*)/ft_meta.json" .config.iterations)" 10 "10 iterations by default"
RUN_DIR=$(ls -d results/ft_*)
is "$(jqpkg ftfix-ok .category)" compatible "Quick Start: ftfix-ok is compatible"
is "$(jqpkg ftfix-importfail .category)" import_failure "Quick Start: ftfix-importfail is import_failure"
# shellcheck disable=SC2046 # the guide's glob
run_ftscope show results/ft_*
is "$FTSCOPE_RC" 0 "Quick Start: ftscope show results/ft_* exits 0"
ok grep -q "ftfix-ok" "$FTSCOPE_OUT" "show lists ftfix-ok"
rm -rf "$W/results"

# Version-to-version tracking, as written but for -n 1 (two runs, then compare).
for v in 314a1 314b2; do
	run_ftscope run --target-python "$FT_PYTHON" \
		--work-dir "$W" --top 50 \
		--results-dir "results/ft_$v" -n 1
	is "$FTSCOPE_RC" 0 "version tracking: the run into results/ft_$v exits 0"
done
ok test ! -e "$W/results/ft_314a1/ft_meta.json" "--results-dir given: a run directory inside it"
run_ftscope compare results/ft_314a1 results/ft_314b2
is "$FTSCOPE_RC" 0 "ftscope compare results/ft_314a1 results/ft_314b2 exits 0"
rm -rf "$W/results"

# --check-stability: a limit no machine is under aborts before anything starts.
run_ftscope run --target-python "$FT_PYTHON" --work-dir "$W" --top 1 -n 1 \
	--check-stability --max-load 0
is "$FTSCOPE_RC" 1 "--check-stability on a busy machine: exit 1"
like "$(ftscope_err)" "1-minute load is [0-9]+\.[0-9]+ on [0-9]+ CPUs, the limit is 0\.00" \
	"the reason and the numbers"
like "$(ftscope_err)" "--no-check-stability" "the way out is named"
ok test ! -e "$W/results/ft_"* "no run directory was made"
run_ftscope run --target-python "$FT_PYTHON" --work-dir "$W" --top 1 -n 1 \
	--check-stability --max-load 0 --no-check-stability
is "$FTSCOPE_RC" 0 "--no-check-stability after it: the run starts"
is "$(jqfile "$(ls -d results/ft_*)/ft_meta.json" .stability)" null \
	"meta: no stability check recorded"
run_ftscope run --help
ok grep -q -- "--no-check-stability.*the default" "$FTSCOPE_OUT" "--help says which is the default"
done_testing
