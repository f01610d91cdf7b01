#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Installs as on users' machines. By default pip does what the user's configuration says:
# a package whose dependency only a package index has installs from the index named by
# PIP_INDEX_URL, or by the invoking account's pip.conf (the tests run as nobody, who cannot
# read root's: ftscope hands it over as PIP_CONFIG_FILE), with build isolation on (the
# isolated build gets setuptools from the index too). The index is a PEP 503 directory of
# locally built wheels served on 127.0.0.1. --offline uses no index (the dependency is
# missing), --find-links DIR adds a wheelhouse, and a flit-built package installs offline
# with the backend setup provisions. ft_meta.json records the mode.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
stw=$(setuptools_wheel)
[ -n "$stw" ] || skip_all "no setuptools wheel in \$FTSCOPE_CACHE/wheels (setup.sh makes it)"

fixture_registry withdep flit
helper=$(build_wheel "$FIXTURES/pkgs/ftfix-helper" "$TEST_TMP/wheelhouse")
pypi_serve "$helper" "$stw"
note "index: $PYPI_URL"
W=ftfix-withdep
base=(--target-python "$FT_PYTHON" --registry-dir "$REGISTRY" --iterations 1
	--no-detect-extensions --repos-dir "$TEST_TMP/repos" --venvs-dir "$TEST_TMP/venvs")
# run_mode NAME OPTION...: a run into results/NAME; RUN_DIR is set.
run_mode() {
	local name=$1
	shift
	run_into "$name" "${base[@]}" "$@"
}
install_log() { cat "$RUN_DIR/artifacts/$1/install.log" 2>/dev/null; }

# Online, the index from the environment (PIP_* settings reach pip).
PIP_INDEX_URL=$PYPI_URL run_mode env --packages $W
is "$FTSCOPE_RC" 0 "online: run exits 0"
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.install_mode)" online "meta: install_mode online"
is "$(jqpkg $W .category)" compatible \
	"online: the package with an index-only dependency is compatible"
like "$(install_log $W)" "Looking in indexes: http://127\.0\.0\.1:" "pip used the loopback index"
like "$(install_log $W)" "Installing build dependencies" "with build isolation on"
ok grep -q "GET /simple/setuptools/" "$PYPI_LOG" "the isolated build got setuptools from the index"
ok grep -q "GET /simple/ftfix-helper/" "$PYPI_LOG" "the dependency came from the index"

# Online, the index from the invoking account's pip.conf (root's here; HOME says where).
mkdir -p "$TEST_TMP/home/.config/pip"
printf '[global]\nindex-url = %s\n' "$PYPI_URL" >"$TEST_TMP/home/.config/pip/pip.conf"
chmod 700 "$TEST_TMP/home"
rm -rf "$TEST_TMP/venvs"
HOME=$TEST_TMP/home run_mode conf --packages $W
is "$FTSCOPE_RC" 0 "pip.conf: run exits 0"
is "$(jqpkg $W .category)" compatible "pip.conf: compatible"
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.pip_config)" "$TEST_TMP/home/.config/pip/pip.conf" \
	"meta: the pip configuration handed to the test user"
like "$(install_log $W)" "Looking in indexes: http://127\.0\.0\.1:" \
	"pip used the index of the invoker's pip.conf"
ok grep -q "installs use your pip configuration" "$FTSCOPE_ERR" "ftscope says so"

# Offline: no index, so the dependency cannot be found; a flit-built package installs with
# the backend setup provisions (no build isolation) ...
rm -rf "$TEST_TMP/venvs"
PIP_INDEX_URL=$PYPI_URL run_mode offline --packages $W,ftfix-flit --offline --detect-extensions
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.install_mode)" offline "meta: install_mode offline"
is "$(jqpkg $W .category)" install_failure "offline: the index-only dependency is missing"
like "$(jqpkg $W .install_error)" "ftfix-helper" "and the install error names it"
is "$(jqpkg ftfix-flit .category)" compatible "flit offline: compatible"
is "$(jqpkg ftfix-flit .import_name)" ftfix_flit \
	"flit offline: the module found through the editable install's .pth"
# ... and with a wheelhouse the dependency is there.
PIP_INDEX_URL=$PYPI_URL run_mode wheelhouse --packages $W --offline \
	--find-links "$TEST_TMP/wheelhouse"
is "$(jqpkg $W .category)" compatible "offline + --find-links: compatible"
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.find_links)" "$TEST_TMP/wheelhouse" "meta: find_links"
done_testing
