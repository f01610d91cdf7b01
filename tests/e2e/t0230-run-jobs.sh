#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# --jobs 2: packages run in parallel workers; every package gets exactly one complete line,
# the hang in one does not delay the other, and the run's totals add up.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

start=$(date +%s)
run_fixtures ftfix-ok,ftfix-deadlock,ftfix-segv --iterations 2 --jobs 2 --deadlock-window 2 \
	--timeout 120 --no-detect-extensions
end=$(date +%s)
is "$FTSCOPE_RC" 0 "run exits 0"
for p in ftfix-ok ftfix-deadlock ftfix-segv; do
	is "$(pkg_line_count $p)" 1 "$p: one line"
	is "$(jqpkg $p .iterations_completed)" 2 "$p: two iterations"
done
is "$(jqpkg ftfix-ok .category)" compatible "ftfix-ok compatible"
is "$(jqpkg ftfix-deadlock .category)" deadlock "ftfix-deadlock deadlock"
is "$(jqpkg ftfix-segv .category)" crash "ftfix-segv crash"
is "$(jq -r .packages_completed "$RUN_DIR/ft_meta.json")" 3 "meta: 3 packages completed"
is "$(jq -r .total_iterations "$RUN_DIR/ft_meta.json")" 6 "meta: 6 iterations"
is "$(jq -r .config.jobs "$RUN_DIR/ft_meta.json")" 2 "meta: jobs 2"
# The hang in one package does not hold up the other: their runs overlap in time (at least
# 1 s, above started_at's one-second resolution). Wall time alone depends on the host's load.
overlap=$(jq -rs '[.[] | select(.package == "ftfix-ok" or .package == "ftfix-deadlock")
	| {s: (.started_at | fromdateiso8601), e: ((.started_at | fromdateiso8601) + .duration_s)}]
	| ([.[].e] | min) - ([.[].s] | max)' "$RUN_DIR/ft_results.jsonl")
ok awk -v o="$overlap" 'BEGIN { exit !(o >= 1) }' \
	"ftfix-ok ran while ftfix-deadlock hung (overlap ${overlap} s; whole run $((end - start)) s)"
done_testing
