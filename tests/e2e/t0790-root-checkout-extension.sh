#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Plain root (a container, a CI job) with a root-owned --package-dir holding a C extension
# (issue 10, item 3): the checkout is staged into the workspace for the test user, who builds
# there. The extension builds and its tests pass, the checkout gets no build products, and
# ftscope says once that it staged a copy.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd cc

P=ftfix-nogil
mkdir -p checkout
cp -r "$FIXTURES/pkgs/$P" checkout/$P
rm -rf checkout/$P/build checkout/$P/*.egg-info
find checkout/$P \( -name __pycache__ -o -name '*.so' \) -prune -exec rm -rf {} +
chown -R root:root checkout && chmod -R go-w checkout
before=$(cd checkout/$P && find . | sort)

mapfile -t dirs < <(ftscope_run_dirs)
SUDO_USER='' run_ftscope run --target-python "$FT_PYTHON" --package-dir "$TEST_TMP/checkout/$P" \
	--iterations 2 --timeout 120 "${dirs[@]}"
RUN_DIR=$(run_dir)
is "$FTSCOPE_RC" 0 "run exits 0"
is "$(jqpkg $P .install_ok)" true "the extension builds (install_ok)"
is "$(jqpkg $P .category)" compatible_gil_fallback "and is compatible_gil_fallback, as designed"
is "$(jqpkg $P .pass_count)" 2 "both iterations passed"
jqpkg_true $P '.test_user | test("^ftscope-[0-9]+$")' "as a test uid, not root"
is "$(cd checkout/$P && find . | sort)" "$before" \
	"the checkout has nothing new (no build/, .so, egg-info)"
is "$(grep -c "staged a copy of '$TEST_TMP/checkout/$P'" "$FTSCOPE_ERR")" 1 \
	"ftscope says it staged a copy, once"
done_testing
