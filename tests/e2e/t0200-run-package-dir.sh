#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# --package-dir runs a local checkout without any registry (staged: a copy is installed and
# tested), and leaves it as it was.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-ok
mkdir -p checkout
cp -r "$FIXTURES/pkgs/$P" checkout/$P
rm -rf checkout/$P/build checkout/$P/*.egg-info
find checkout/$P -name __pycache__ -prune -exec rm -rf {} +
echo "user data" >checkout/$P/keep-me.txt

mapfile -t dirs < <(ftscope_run_dirs)
run_ftscope run --target-python "$FT_PYTHON" --package-dir "$TEST_TMP/checkout/$P" \
	--iterations 2 --timeout 120 "${dirs[@]}"
RUN_DIR=$(run_dir)
is "$FTSCOPE_RC" 0 "ftscope run --package-dir exits 0"
ok test -n "$RUN_DIR" "one run directory under results/"
is "$(jq -R 'fromjson? | .package' "$RUN_DIR/ft_results.jsonl" | grep -c .)" 1 "one package result"

is "$(jqpkg $P .category)" compatible "category is compatible"
is "$(jqpkg $P .pass_count)" 2 "pass_count is 2"
jqpkg_true $P '.iterations | length == 2 and all(.status == "pass" and .tests_passed == 4)' \
	"both iterations passed 4 tests"
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.package_dir)" "$TEST_TMP/checkout/$P" \
	"ft_meta.json records config.package_dir"
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.registry_dir)" null "no registry_dir"
ok test -f checkout/$P/keep-me.txt "an untracked file in the checkout survives"
ok test ! -e "repos/$P" "the checkout is not cloned into --repos-dir"
ok test -z "$(find checkout/$P -name '*.egg-info' -o -name build -o -name __pycache__)" \
	"nothing of the install or the tests lands in the checkout"

done_testing
