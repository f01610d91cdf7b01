#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Provision a machine for building and testing ftscope. Idempotent; run as root.
#   1. Debian (bookworm) build and runtime packages.
#   2. A free-threaded CPython 3.13 built from Debian trixie's source package python3.13
#      (pristine upstream tarball, --disable-gil, frame pointers, ensurepip) into a cache prefix.
#   3. trixie's pure-Python pytest stack (_all.deb) unpacked into its site-packages, and
#      setuptools built as a wheel from trixie's source package (kept in $FTSCOPE_CACHE/wheels)
#      and installed (Debian's binary one is patched for Debian's interpreter and fails on ours).
#   4. The common PEP 517 build backends for `ftscope run --offline` (no index, no build
#      isolation), from trixie's pure-Python debs the same way: flit_core, hatchling (with
#      pathspec, trove-classifiers, editables), poetry-core, setuptools-scm, wheel. Not Cython:
#      the code trixie's Cython 3.0.11 generates does not compile for a free-threaded
#      interpreter (3.1 is the first that supports it).
#   5. pytest-run-parallel (`ftscope run --parallel-threads`), from Debian sid's pure-Python
#      python3-pytest-run-parallel (_all.deb; only sid packages it) through a second private apt
#      configuration, unpacked the same way; a self-test runs the plugin on a tiny suite with a
#      thread-unsafe counter and warns loudly (with its log) if it does not catch it. Its Depends says
#      pytest >= 8.4; the code works with trixie's 8.3.5 (checked by the self-test).
#   6. Only with --with-baseline: the default (GIL) build of the same CPython, from the same
#      source tarball with the same flags but --disable-gil, into $FTSCOPE_CACHE/python3.13,
#      with steps 3-4 for it too: `ftscope run --baseline-python` compares the free-threaded
#      build with it, which is PEP 779's comparison. Another ~4 minutes cold; `make check`
#      asks for it (t0235), `make demo` does not.
# Cold: a few minutes. Warm: a stamp check per step, about a second.
#
# Usage: setup.sh [--with-baseline] [--print-python] [--print-baseline]
# Environment: FTSCOPE_CACHE (default /var/cache/ftscope), FTSCOPE_SETUP_QUIET=1.
# Prints nothing on a warm cache unless asked; the interpreter path is in
# $FTSCOPE_CACHE/python3.13t/bin/python3.13t (the baseline: python3.13/bin/python3.13).
set -euo pipefail

CACHE=${FTSCOPE_CACHE:-/var/cache/ftscope}
PREFIX=$CACHE/python3.13t
PY=$PREFIX/bin/python3.13t
BASE_PREFIX=$CACHE/python3.13
BASE_PY=$BASE_PREFIX/bin/python3.13
WITH_BASELINE=0 PRINT_PYTHON=0 PRINT_BASELINE=0
for arg in "$@"; do
	case $arg in
	--with-baseline) WITH_BASELINE=1 ;;
	--print-python) PRINT_PYTHON=1 ;;
	--print-baseline) PRINT_BASELINE=1 ;;
	*) echo "usage: setup.sh [--with-baseline] [--print-python] [--print-baseline]" >&2; exit 2 ;;
	esac
done
APTDIR=$CACHE/apt-trixie
APTDIR_SID=$CACHE/apt-sid
SRC=$CACHE/src
LOG=$CACHE/logs
JOBS=${FTSCOPE_BUILD_JOBS:-3}

# Keep this list in step with the README's "Requirements".
DEB_PACKAGES=(
	build-essential pkg-config dpkg-dev xz-utils ca-certificates
	libelf-dev libdw-dev libdeflate-dev libunwind-dev libcjson-dev libgit2-dev libxml2-dev
	libyaml-dev libssl-dev zlib1g-dev libbz2-dev libffi-dev liblzma-dev libsqlite3-dev
	libreadline-dev libncurses-dev uuid-dev libgdbm-dev libexpat1-dev
	perl procps gdb jq git libc6-dbg clang libclang-rt-14-dev bpftool libbpf-dev chromium groff-base
	python3
	slurm-wlm munge strace
)
PYTEST_DEBS=(python3-pytest python3-pluggy python3-iniconfig python3-packaging python3-pygments)
# flit: its flit_core only (the flit CLI needs more); see step_backends.
BACKEND_DEBS=(flit python3-hatchling python3-pathspec python3-trove-classifiers python3-editables
	python3-poetry-core python3-setuptools-scm python3-wheel)
WHEELS=$CACHE/wheels
RUN_PARALLEL_DEB=python3-pytest-run-parallel

say() { [ "${FTSCOPE_SETUP_QUIET:-0}" = 1 ] || echo "setup: $*" >&2; }
die() { echo "setup: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs Debian packages)"
mkdir -p "$CACHE" "$SRC" "$LOG"

# Serialize concurrent setups (parallel make targets, two terminals).
exec 9>"$CACHE/.setup.lock"
flock 9

step_debs() {
	local missing=() p
	for p in "${DEB_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >"$LOG/apt-update.log" 2>&1 || {
		cat "$LOG/apt-update.log" >&2
		die "apt-get update failed"
	}
	# libunwind-dev (nongnu) conflicts with LLVM's libunwind-14-dev: apt removes the latter.
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$LOG/apt-install.log" 2>&1 || {
		tail -40 "$LOG/apt-install.log" >&2
		die "apt-get install failed (log: $LOG/apt-install.log)"
	}
}

# A private apt configuration that knows one Debian suite, so the host's own apt state is
# untouched. apt_private DIR ARGS...
# Check-Valid-Until=false: sid's Release file carries a Valid-Until a week ahead, and a
# mirror that serves a frozen snapshot (as this machine kind's does) has it in the past:
# apt then refuses the whole suite ("Release file ... is expired"). The signature is still
# checked against Debian's archive keyring (signed-by), so the lists are still Debian's.
apt_private() {
	local dir=$1
	shift
	apt-get -o Dir::Etc::SourceList="$dir/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$dir/lists" \
		-o Dir::Cache="$dir/cache" \
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
		-o APT::Get::List-Cleanup=false -o Debug::NoLocking=true \
		-o Acquire::Retries=3 -o Acquire::Check-Valid-Until=false "$@"
}
apt_trixie() { apt_private "$APTDIR" "$@"; }

# private_lists DIR SUITE DEB-SRC?: write DIR/sources.list and fetch the suite's lists once.
private_lists() {
	local dir=$1 suite=$2 src=${3:-} key=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -f "$dir/.updated" ] && return 0
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	{
		echo "deb [signed-by=$key] http://deb.debian.org/debian $suite main"
		[ -z "$src" ] || echo "deb-src [signed-by=$key] http://deb.debian.org/debian $suite main"
	} >"$dir/sources.list"
	say "fetching Debian $suite's package lists (private apt config in $dir)"
	apt_private "$dir" update -qq >"$LOG/apt-$suite.log" 2>&1 || {
		cat "$LOG/apt-$suite.log" >&2
		die "cannot read Debian $suite's package lists"
	}
	touch "$dir/.updated"
}

step_trixie_lists() { private_lists "$APTDIR" trixie deb-src; }

# Download a trixie source package; print the path of its upstream tarball.
fetch_orig() {
	local pkg=$1 dir=$SRC/$1 orig
	mkdir -p "$dir"
	orig=$(ls "$dir"/*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -1 || true)
	if [ -z "$orig" ]; then
		step_trixie_lists
		say "downloading trixie source package $pkg"
		(cd "$dir" && apt_trixie source --download-only -qq "$pkg") >"$LOG/src-$pkg.log" 2>&1 || {
			cat "$LOG/src-$pkg.log" >&2
			die "cannot download trixie source package $pkg"
		}
		orig=$(ls "$dir"/*.orig.tar.* | grep -v '\.asc$' | head -1)
	fi
	echo "$orig"
}

# build_python KIND PREFIX PY [CONFIGURE-FLAG...]: CPython from trixie's python3.13 tarball
# into PREFIX (KIND names its build directory and log), unless already there.
build_python() {
	local kind=$1 prefix=$2 py=$3 orig build
	shift 3
	[ -x "$py" ] && [ -f "$prefix/.ftscope-ok" ] && return 0
	orig=$(fetch_orig python3.13)
	build=$SRC/$kind-build
	rm -rf "$build"
	mkdir -p "$build"
	tar -xf "$orig" -C "$build" --strip-components=1
	say "building $kind CPython from $(basename "$orig") (a few minutes; log in $LOG)"
	(
		cd "$build"
		./configure "$@" --prefix="$prefix" --with-ensurepip=install \
			--with-system-expat --without-system-libmpdec --enable-shared LDFLAGS="-Wl,-rpath,$prefix/lib" \
			CFLAGS="-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer"
		make -j"$JOBS"
		make install
	) >"$LOG/$kind-build.log" 2>&1 || {
		tail -40 "$LOG/$kind-build.log" >&2
		die "building CPython failed (log: $LOG/$kind-build.log)"
	}
	rm -rf "$build"
}

step_python() {
	[ -f "$PREFIX/.ftscope-ok" ] && [ -x "$PY" ] && return 0
	build_python python3.13 "$PREFIX" "$PY" --disable-gil
	"$PY" -c 'import sys, sysconfig; assert sysconfig.get_config_var("Py_GIL_DISABLED") == 1; assert not sys._is_gil_enabled()' ||
		die "the built interpreter is not free-threaded"
	touch "$PREFIX/.ftscope-ok"
}

# The default build: same source, same flags, the GIL kept.
step_baseline() {
	[ -f "$BASE_PREFIX/.ftscope-ok" ] && [ -x "$BASE_PY" ] && return 0
	build_python python3.13-baseline "$BASE_PREFIX" "$BASE_PY"
	"$BASE_PY" -c 'import sys, sysconfig; assert not sysconfig.get_config_var("Py_GIL_DISABLED"); assert sys._is_gil_enabled()' ||
		die "the baseline interpreter is not a default (GIL) build"
	touch "$BASE_PREFIX/.ftscope-ok"
}

site_packages() { "$PY" -c 'import sysconfig; print(sysconfig.get_path("purelib"))'; }

# Download debs and copy their /usr/lib/python3/dist-packages into our site-packages.
# unpack_debs WHAT LOG DEB... (from trixie); APT_SUITE=sid unpack_debs ... for sid.
unpack_debs() {
	local what=$1 log=$2 dl=$SRC/debs tmp d site suite=${APT_SUITE:-trixie} dir=$APTDIR
	shift 2
	site=$(site_packages)
	if [ "$suite" = sid ]; then
		dir=$APTDIR_SID
		dl=$SRC/debs-sid
		private_lists "$dir" sid
	else
		step_trixie_lists
	fi
	mkdir -p "$dl"
	say "downloading $suite's $*"
	(cd "$dl" && apt_private "$dir" download -qq "$@") >"$LOG/$log" 2>&1 || {
		cat "$LOG/$log" >&2
		die "cannot download the $what packages from $suite"
	}
	tmp=$(mktemp -d)
	for d in "$@"; do dpkg-deb -x "$(ls "$dl/${d}"_*_all.deb | tail -1)" "$tmp"; done
	cp -a "$tmp"/usr/lib/python3/dist-packages/. "$site"/
	rm -rf "$tmp"
}

step_pytest() {
	local stamp
	stamp=$(site_packages)/.ftscope-pytest-ok
	[ -f "$stamp" ] && return 0
	unpack_debs pytest pytest-debs.log "${PYTEST_DEBS[@]}"
	"$PY" -c 'import pytest, pluggy' || die "pytest does not import in $PY"
	touch "$stamp"
}

step_setuptools() {
	local site whl orig tree
	site=$(site_packages)
	whl=$(ls "$WHEELS"/setuptools-*.whl 2>/dev/null | tail -1 || true)
	if [ -z "$whl" ]; then
		orig=$(fetch_orig setuptools)
		tree=$(mktemp -d)
		tar -xf "$orig" -C "$tree" --strip-components=1
		say "building a setuptools wheel from $(basename "$orig")"
		mkdir -p "$WHEELS"
		"$PY" -m pip wheel -q --no-deps --no-index --no-build-isolation -w "$WHEELS" \
			"$tree" >"$LOG/setuptools.log" 2>&1 || {
			tail -30 "$LOG/setuptools.log" >&2
			die "building setuptools failed"
		}
		rm -rf "$tree"
		whl=$(ls "$WHEELS"/setuptools-*.whl | tail -1)
	fi
	[ -f "$site/.ftscope-setuptools-ok" ] && return 0
	say "installing $(basename "$whl")"
	"$PY" -m pip install -q --no-index "$whl" >>"$LOG/setuptools.log" 2>&1 || {
		tail -30 "$LOG/setuptools.log" >&2
		die "installing setuptools failed"
	}
	"$PY" -c 'import setuptools' || die "setuptools does not import"
	touch "$site/.ftscope-setuptools-ok"
}

step_backends() {
	local site
	site=$(site_packages)
	[ -f "$site/.ftscope-backends-ok" ] && return 0
	unpack_debs "build backend" backend-debs.log "${BACKEND_DEBS[@]}"
	rm -rf "$site/flit" "$site"/flit-*.dist-info
	"$PY" -c 'import flit_core.buildapi, hatchling.build, editables, poetry.core.masonry.api
import setuptools_scm, wheel' || die "a build backend does not import in $PY"
	touch "$site/.ftscope-backends-ok"
}

# The plugin must catch a thread-unsafe counter under --parallel-threads and pass without it.
run_parallel_selftest() {
	local t
	t=$(mktemp -d)
	cat >"$t/test_selftest.py" <<-'PY'
		import time
		state = {"n": 0}

		def test_counter():
		    state["n"] = 0
		    for _ in range(200):
		        n = state["n"]
		        time.sleep(0)
		        state["n"] = n + 1
		    assert state["n"] == 200
	PY
	local log=$LOG/run-parallel-selftest.log why=
	if ! (cd "$t" && PYTHON_GIL=0 "$PY" -m pytest -q -p no:cacheprovider test_selftest.py) \
		>"$log" 2>&1; then
		why="the plain suite fails"
	else
		# A race is caught with high odds, not surely (a new root missed it once in a busy
		# hour): three tries.
		why="--parallel-threads=4 did not catch a thread-unsafe counter (3 tries)"
		for _ in 1 2 3; do
			(cd "$t" && PYTHON_GIL=0 "$PY" -m pytest -q -p no:cacheprovider \
				--parallel-threads=4 --iterations=5 test_selftest.py) >>"$log" 2>&1 || true
			if grep -q 'PARALLEL FAILED' "$log"; then
				why=
				break
			fi
		done
	fi
	rm -rf "$t"
	[ -z "$why" ] && return 0
	# Not fatal: everything but `run --parallel-threads` works without the plugin, and a
	# stress run says when the plugin is missing. Loud, with the log, so the cause is seen.
	echo "setup: WARNING: pytest-run-parallel self-test: $why; \`run --parallel-threads\`" \
		"will not work with this interpreter (log: $log). Its last lines:" >&2
	tail -15 "$log" | sed 's/^/setup:   | /' >&2
	return 1
}

step_run_parallel() {
	local site
	site=$(site_packages)
	[ -f "$site/.ftscope-run-parallel-ok" ] && return 0
	APT_SUITE=sid unpack_debs pytest-run-parallel run-parallel-deb.log "$RUN_PARALLEL_DEB"
	"$PY" -c 'import pytest_run_parallel' || die "pytest_run_parallel does not import in $PY"
	run_parallel_selftest || return 0 # no stamp: the next setup tries again
	touch "$site/.ftscope-run-parallel-ok"
}

step_debs
step_python
step_pytest
step_setuptools
step_backends
step_run_parallel
if [ "$WITH_BASELINE" = 1 ]; then
	# A lock of its own: a setup (every `make check`) must not wait minutes for this build.
	exec 9>&-
	exec 8>"$CACHE/.setup-baseline.lock"
	flock 8
	step_baseline
	# steps 3-4 again, for the baseline's site-packages (they work on $PY)
	FT_PY=$PY
	PY=$BASE_PY
	step_pytest
	step_setuptools
	step_backends
	PY=$FT_PY
fi
[ "$PRINT_PYTHON" = 1 ] && echo "$PY"
if [ "$PRINT_BASELINE" = 1 ]; then
	[ -f "$BASE_PREFIX/.ftscope-ok" ] || die "no baseline interpreter (run setup.sh --with-baseline)"
	echo "$BASE_PY"
fi
exit 0
