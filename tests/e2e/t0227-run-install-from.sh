#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# labeille's install modes (issue 17), through a loopback PEP 503 index of locally built
# artifacts. The repositories' heads are broken after the release (ftfix-ok's module raises
# on import, ftfix-ftwheel's C source does not compile), so what passes is what was
# installed from the release:
#  - --install-from sdist: the latest sdist from the index (or, offline, from --find-links)
#    is installed; its version's tag (v0.1.0) is checked out for the tests when the
#    repository has it (sdist_tag_matched), else the head's tests run against the sdist;
#  - --trust-ft-wheels: a cp313t wheel on the index is installed and tested as it is:
#    compatible_by_wheel; a package without one installs from its checkout;
#  - --trust-ft-wheels-any-version: a release whose only free-threaded wheel is for
#    another Python (cp314t) is trusted without running anything (install_from skipped).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
stw=$(setuptools_wheel)
[ -n "$stw" ] || skip_all "no setuptools wheel in \$FTSCOPE_CACHE/wheels (setup.sh makes it)"

fixture_registry ok ftwheel
DIST=$TEST_TMP/dist
sd=$(build_sdist "$FIXTURES/pkgs/ftfix-ok" "$DIST")
whl=$(build_wheel "$FIXTURES/pkgs/ftfix-ftwheel" "$DIST")
like "${whl##*/}" "^ftfix_ftwheel-0\.2\.0-cp313-cp313t-linux_" "a real cp313t wheel"
pypi_serve "$sd" "$whl" "$stw"
note "index: $PYPI_URL"

git_q() {
	git -c user.name=t -c user.email=t@t.invalid -c commit.gpgsign=false \
		-c core.hooksPath=/dev/null -C "$TEST_TMP/fx/src/$1" "${@:2}"
}
git_q ftfix-ok tag v0.1.0
TAGGED=$(git_q ftfix-ok rev-parse HEAD)
echo 'raise ImportError("broken after the release")' >>"$TEST_TMP/fx/src/ftfix-ok/ftfix_ok/__init__.py"
echo 'this does not compile' >>"$TEST_TMP/fx/src/ftfix-ftwheel/ftfix_ftwheel/_sum.c"
git_q ftfix-ok commit -qam "break the head"
git_q ftfix-ftwheel commit -qam "break the head"
HEAD_OK=$(git_q ftfix-ok rev-parse HEAD)

base=(--target-python "$FT_PYTHON" --registry-dir "$REGISTRY" -n 1
	--repos-dir "$TEST_TMP/repos" --venvs-dir "$TEST_TMP/venvs")
run_mode() {
	local name=$1
	shift
	run_into "$name" "${base[@]}" "$@"
}
# The index for everything; no build isolation (the provisioned setuptools builds: faster,
# and t0225 covers isolated builds).
export PIP_INDEX_URL=$PYPI_URL PIP_NO_BUILD_ISOLATION=0

# The checkouts (the default): both heads are broken.
run_mode source --packages ftfix-ok,ftfix-ftwheel
is "$(jqpkg ftfix-ok .category)" import_failure "source: the broken head does not import"
is "$(jqpkg ftfix-ftwheel .category)" install_failure "source: the broken C source does not build"
is "$(jqpkg ftfix-ok .install_from)" source "source: install_from source"

# The sdist from the index, its tag's tests.
run_mode sdist --packages ftfix-ok --install-from sdist
is "$FTSCOPE_RC" 0 "sdist: exits 0"
is "$(jqpkg ftfix-ok .category)" compatible "sdist: the released sdist is compatible"
is "$(jqpkg ftfix-ok .install_from)" sdist "sdist: install_from sdist"
is "$(jqpkg ftfix-ok .sdist_version)" 0.1.0 "sdist: sdist_version"
is "$(jqpkg ftfix-ok .sdist_tag_matched)" true "sdist: the tag v0.1.0 matched"
is "$(jqpkg ftfix-ok .sdist_tag)" v0.1.0 "sdist: sdist_tag"
is "$(jqpkg ftfix-ok .commit)" "$TAGGED" "sdist: the commit is the tag's"
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.install_from)" sdist "meta: install_from sdist"
ok grep -q "GET /simple/ftfix-ok/ftfix_ok-0.1.0.tar.gz" "$PYPI_LOG" "the sdist came from the index"
ok test ! -e "$RUN_DIR/artifacts/ftfix-ok/install-baseline.log" "no baseline unless asked"
like "$(cat "$RUN_DIR/artifacts/ftfix-ok/install.log")" "ftfix_ok-0\.1\.0\.tar\.gz" \
	"pip installed the sdist"

# Offline from a wheelhouse, without the tag: the head's tests run against the sdist (the
# checkout's own ftfix_ok/ is shielded, so the installed one is imported).
git_q ftfix-ok tag -d v0.1.0 >/dev/null
rm -rf "$TEST_TMP/repos"
run_mode offline --packages ftfix-ok --install-from sdist --offline --find-links "$DIST"
is "$(jqpkg ftfix-ok .category)" compatible "sdist offline: compatible"
is "$(jqpkg ftfix-ok .sdist_version)" 0.1.0 "sdist offline: sdist_version"
is "$(jqpkg ftfix-ok .sdist_tag_matched)" false "sdist offline: no tag matched"
is "$(jqpkg ftfix-ok .commit)" "$HEAD_OK" "sdist offline: the head's tests"

# A free-threaded wheel, trusted: installed and tested as it is.
run_mode wheels --packages ftfix-ok,ftfix-ftwheel --trust-ft-wheels
is "$(jqpkg ftfix-ftwheel .category)" compatible_by_wheel "wheel: compatible_by_wheel"
is "$(jqpkg ftfix-ftwheel .install_from)" wheel "wheel: install_from wheel"
is "$(jqpkg ftfix-ftwheel .ft_wheel_found)" true "wheel: ft_wheel_found"
is "$(jqpkg ftfix-ftwheel .ft_wheel_version)" 0.2.0 "wheel: ft_wheel_version"
is "$(jqpkg ftfix-ftwheel '.iterations[0].status')" pass "wheel: its tests ran and passed"
is "$(jqpkg ftfix-ok .ft_wheel_found)" false "no free-threaded wheel: ft_wheel_found false"
is "$(jqpkg ftfix-ok .category)" import_failure "no free-threaded wheel: the checkout is tested"
is "$(jqfile "$RUN_DIR/ft_meta.json" .config.trust_ft_wheels)" true "meta: trust_ft_wheels"

# A newer release with a cp314t wheel only (the name is what counts; it is never installed).
cp "$whl" "$DIST/ftfix_ok-0.3.0-cp314-cp314t-linux_x86_64.whl"
pypi_serve "$DIST/ftfix_ok-0.3.0-cp314-cp314t-linux_x86_64.whl"
export PIP_INDEX_URL=$PYPI_URL
run_mode any --packages ftfix-ok --trust-ft-wheels-any-version
is "$(jqpkg ftfix-ok .category)" compatible_by_wheel "any version: compatible_by_wheel"
is "$(jqpkg ftfix-ok .install_from)" skipped "any version: nothing installed"
is "$(jqpkg ftfix-ok .iterations_completed)" 0 "any version: nothing run"
is "$(jqpkg ftfix-ok .ft_wheel_version)" 0.3.0 "any version: ft_wheel_version"
run_ftscope show "$RUN_DIR"
is "$FTSCOPE_RC" 0 "show reads compatible_by_wheel"
like "$(grep ftfix-ok "$FTSCOPE_OUT")" "compatible_by_wheel" "show names the category as it is"
like "$(ftscope_out)" "Compatible by wheel: +1" "and counts it apart from compatible"
done_testing
