#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# The module the import probe imports comes from the installed distribution (its
# top_level.txt or RECORD), never from the checkout directory's name: a clone in src/ of a
# project named unlike its module, an unpacked sdist markupsafe-3.0.2/ with a C extension.
# The registry's import_name still wins. (A flit package's module, found through its
# editable .pth: t0225.)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

# copy_fixture FIXTURE DEST: a clean copy of a fixture package's sources.
copy_fixture() {
	mkdir -p "$2"
	tar -C "$FIXTURES/pkgs/$1" --exclude=build --exclude='*.egg-info' --exclude=__pycache__ \
		--exclude='*.so' -cf - . | tar -C "$2" -xf -
}
mapfile -t dirs < <(ftscope_run_dirs)
# run_dir_pkg DIR: ftscope run --package-dir DIR; the package's name in $P.
run_dir_pkg() {
	rm -rf "$TEST_TMP/results"
	run_ftscope run --target-python "$FT_PYTHON" --package-dir "$1" --iterations 1 \
		--timeout 120 "${dirs[@]}"
	RUN_DIR=$(run_dir 2>/dev/null) || RUN_DIR=
	P=$(jq -r .package "$RUN_DIR/ft_results.jsonl" 2>/dev/null | tail -1)
}

# A clone in a directory called src/, of a project whose name (fancy-dist) is not its
# module's either: the directory's name and the project's would both be wrong.
copy_fixture ftfix-ok "$TEST_TMP/a/src"
sed -i 's/^name = "ftfix-ok"/name = "fancy-dist"/' "$TEST_TMP/a/src/pyproject.toml"
run_dir_pkg "$TEST_TMP/a/src"
is "$FTSCOPE_RC" 0 "src/: run exits 0"
is "$(jqpkg "$P" .import_name)" ftfix_ok \
	"src/: the probe imports ftfix_ok (not src, not fancy_dist)"
is "$(jqpkg "$P" .extension_compat.import_name_from)" top_level.txt \
	"src/: named by the distribution's top_level.txt"
is "$(jqpkg "$P" .extension_compat.distribution)" fancy-dist "src/: found by its distribution"
is "$(jqpkg "$P" .category)" compatible "src/: compatible"

# An unpacked sdist named like markupsafe-3.0.2/, with a C extension (the test user owns
# it, as a user's own checkout: the build writes into it).
copy_fixture ftfix-nogil "$TEST_TMP/b/markupsafe-3.0.2"
chown -R nobody "$TEST_TMP/b/markupsafe-3.0.2"
run_dir_pkg "$TEST_TMP/b/markupsafe-3.0.2"
is "$FTSCOPE_RC" 0 "markupsafe-3.0.2/: run exits 0"
is "$(jqpkg "$P" .import_name)" ftfix_nogil "markupsafe-3.0.2/: the probe imports ftfix_nogil"
is "$(jqpkg "$P" .category)" compatible_gil_fallback \
	"markupsafe-3.0.2/: its extension's GIL fallback is found"
jqpkg_true "$P" '.gil_fallback_modules == ["ftfix_nogil._core"]' \
	"markupsafe-3.0.2/: the module re-enabling the GIL is named"

# A registry's import_name still wins.
fixture_registry ok
sed -i 's/^import_name:.*/import_name: json/' "$REGISTRY/packages/ftfix-ok.yaml"
rm -rf "$TEST_TMP/results"
run_fixtures ftfix-ok --iterations 1
is "$(jqpkg ftfix-ok .import_name)" json "the registry's import_name wins"
is "$(jqpkg ftfix-ok .extension_compat.import_name_from)" registry "and is said to come from it"
done_testing
