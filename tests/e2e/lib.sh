# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Shared harness for the end-to-end tests (tests/e2e/tNNNN-*.sh), sourced first thing:
#
#   . "$(dirname "$0")/lib.sh"
#   need_root; need_ft_python
#   fixture_registry ok                      # -> $REGISTRY
#   run_fixtures ftfix-ok --iterations 3     # ftscope run ... -> $FTSCOPE_RC, $RUN_DIR
#   is "$(jqpkg ftfix-ok .category)" compatible "category"
#   done_testing
#
# Each test runs in a fresh directory ($TEST_TMP, the current directory), removed on exit
# unless FTSCOPE_KEEP=1. Output is TAP for prove; diagnostics go to stderr as "# " lines.
#
# Environment: FTSCOPE (the binary; default build/ftscope), FT_PYTHON (free-threaded
# interpreter; default: the provisioned one in $FTSCOPE_CACHE if present), FTSCOPE_KEEP=1,
# FTSCOPE_E2E_TIMEOUT (seconds one ftscope command may take before it is killed; 600).
#
# TAP helpers:
#   plan N                 announce N tests up front (optional; done_testing prints it if not)
#   ok CMD... NAME         one test: passes when CMD (all arguments but the last) succeeds
#                          (its stdout is discarded)
#   is GOT WANT NAME       one test: passes when the two strings are equal
#   like GOT REGEX NAME    one test: passes when GOT matches the extended regex
#   pass NAME, fail NAME   one test decided by the caller; skip NAME REASON: one skipped test
#   jqpkg_true PKG FILTER [NAME]  one test: passes when FILTER on PKG's result is true
# A package index for online installs: build_wheel SRC OUT, build_sdist SRC OUT,
# setuptools_wheel, pypi_serve FILE... (-> $PYPI_URL, $PYPI_LOG).
#   skip_all REASON        "1..0 # SKIP REASON" and exit 0
#   diag TEXT...           "# TEXT" lines on stderr
#   done_testing           print the plan if needed; exit 1 if any test failed
# Setting TODO="reason" around checks marks them "# TODO reason": reported, never fatal.

set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_ROOT=$(cd "$E2E_DIR/../.." && pwd)
FIXTURES=$SRC_ROOT/tests/fixtures
FTSCOPE=${FTSCOPE:-$SRC_ROOT/build/ftscope}
if [ -z "${FT_PYTHON:-}" ]; then
	_ftpy=${FTSCOPE_CACHE:-/var/cache/ftscope}/python3.13t/bin/python3.13t
	[ -x "$_ftpy" ] && FT_PYTHON=$_ftpy
	unset _ftpy
fi
FT_PYTHON=${FT_PYTHON:-}
TODO=${TODO:-}
export FTSCOPE FT_PYTHON
# Keep the host's environment out of the fixtures' behaviour.
unset PYTHON_GIL PYTHONPATH PYTHONHOME

TEST_NAME=$(basename "$0" .sh)
_tap_n=0
_tap_failed=0
_tap_planned=
_tap_stderr_shown=

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ftscope-$TEST_NAME.XXXXXX") || {
	echo "Bail out! cannot create a temporary directory"
	exit 1
}
# ftscope runs test code as an unprivileged user (nobody, when root runs it without sudo):
# that user must be able to reach the repos and venvs made in here.
chmod 0755 "$TEST_TMP"
cd "$TEST_TMP" || exit 1

# ---------------------------------------------------------------- TAP

diag() {
	local line
	printf '%s\n' "$@" | while IFS= read -r line; do
		printf '# %s\n' "$line"
	done >&2
}

note() {
	local line
	printf '%s\n' "$@" | while IFS= read -r line; do
		printf '# %s\n' "$line"
	done
}

plan() {
	_tap_planned=$1
	echo "1..$1"
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

# Record one result: _tap_result STATUS NAME (STATUS 0 = pass).
_tap_result() {
	local status=$1 name=$2 directive=
	_tap_n=$((_tap_n + 1))
	[ -n "$TODO" ] && directive=" # TODO $TODO"
	if [ "$status" -eq 0 ]; then
		echo "ok $_tap_n - $name$directive"
		return 0
	fi
	echo "not ok $_tap_n - $name$directive"
	if [ -z "$TODO" ]; then
		_tap_failed=$((_tap_failed + 1))
		diag "  Failed test '$name'" "  at ${BASH_SOURCE[2]##*/} line ${BASH_LINENO[1]}."
		_show_ftscope_stderr
	fi
	return 1
}

ok() {
	if [ $# -lt 2 ]; then
		_tap_result 1 "ok called without a command: $*"
		return 1
	fi
	local name=${!#} status=0
	"${@:1:$#-1}" >/dev/null || status=$?
	_tap_result "$status" "$name"
}

is() {
	local got=$1 want=$2 name=$3
	if [ "$got" = "$want" ]; then
		_tap_result 0 "$name"
	else
		_tap_result 1 "$name" || true
		[ -n "$TODO" ] || diag "         got: '$got'" "    expected: '$want'"
		return 1
	fi
}

isnt() {
	local got=$1 unwanted=$2 name=$3
	if [ "$got" != "$unwanted" ]; then
		_tap_result 0 "$name"
	else
		_tap_result 1 "$name" || true
		[ -n "$TODO" ] || diag "         got: '$got'" "    expected anything else"
		return 1
	fi
}

like() {
	local got=$1 re=$2 name=$3
	if [[ $got =~ $re ]]; then
		_tap_result 0 "$name"
	else
		_tap_result 1 "$name" || true
		[ -n "$TODO" ] || diag "                  '$got'" "    doesn't match '$re'"
		return 1
	fi
}

# unlike GOT RE NAME: GOT does not match the extended regex RE.
unlike() {
	local got=$1 re=$2 name=$3
	if [[ $got =~ $re ]]; then
		_tap_result 1 "$name" || true
		[ -n "$TODO" ] || diag "    '${BASH_REMATCH[0]}' matches '$re'"
		return 1
	fi
	_tap_result 0 "$name"
}

# pass NAME / fail NAME: a test decided by the caller; skip NAME REASON: one skipped test.
pass() { _tap_result 0 "$1"; }
fail() { _tap_result 1 "$1"; }
skip() {
	_tap_n=$((_tap_n + 1))
	[ $# -ge 2 ] || bail_out "skip needs a name and a reason (got: $*)"
	echo "ok $_tap_n - $1 # SKIP $2"
}

done_testing() {
	if [ -z "$_tap_planned" ]; then
		echo "1..$_tap_n"
	elif [ "$_tap_planned" -ne "$_tap_n" ]; then
		diag "planned $_tap_planned tests but ran $_tap_n"
		_tap_failed=$((_tap_failed + 1))
	fi
	if [ "$_tap_failed" -gt 0 ]; then
		diag "$_tap_failed of $_tap_n tests failed (work dir: $TEST_TMP; FTSCOPE_KEEP=1 keeps it)"
		exit 1
	fi
	exit 0
}

bail_out() {
	echo "Bail out! $*"
	exit 1
}

# ---------------------------------------------------------------- prerequisites

need_root() {
	[ "$(id -u)" = 0 ] || skip_all "needs root (ftscope run traces its children)"
}

need_ft_python() {
	[ -n "$FT_PYTHON" ] || skip_all "FT_PYTHON is not set (make check sets it)"
	[ -x "$FT_PYTHON" ] || skip_all "FT_PYTHON '$FT_PYTHON' is not executable"
}

# The eBPF recorder loads here (doctor's line for it says ok), else skip with doctor's reason.
need_ebpf() {
	"$FTSCOPE" doctor 2>/dev/null | grep -q "ok.*eBPF recorder" ||
		skip_all "the eBPF recorder cannot load here ($("$FTSCOPE" doctor 2>/dev/null | grep 'eBPF recorder' | sed 's/^ *//'))"
}

need_ftscope() {
	[ -x "$FTSCOPE" ] || bail_out "FTSCOPE '$FTSCOPE' is not executable (run make first)"
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_all "needs $c"
	done
}

# gcc and its ThreadSanitizer runtime (extensions built with -fsanitize=thread need it).
need_tsan_runtime() {
	need_cmd gcc
	case $(gcc -print-file-name=libtsan.so) in
	/*) ;;
	*) skip_all "gcc has no ThreadSanitizer runtime (Debian package libtsan2)" ;;
	esac
}

# ---------------------------------------------------------------- running ftscope

FTSCOPE_RC=
FTSCOPE_OUT=$TEST_TMP/ftscope.out
FTSCOPE_ERR=$TEST_TMP/ftscope.err
FTSCOPE_CMD=

# run_ftscope ARGS...: run "$FTSCOPE" ARGS in the test directory; stdout and stderr go to
# $FTSCOPE_OUT and $FTSCOPE_ERR (also readable as $(ftscope_out) / $(ftscope_err)), the exit
# status to $FTSCOPE_RC. Never fails itself; a hung ftscope is killed after
# $FTSCOPE_E2E_TIMEOUT seconds (exit status 124 or 137).
run_ftscope() {
	FTSCOPE_CMD="ftscope $*"
	_tap_stderr_shown=
	FTSCOPE_RC=0
	local prefix=()
	# FTSCOPE_PREFIX: a command ftscope runs under (unshare ... for a namespace of its own)
	[ -z "${FTSCOPE_PREFIX:-}" ] || read -ra prefix <<<"$FTSCOPE_PREFIX"
	timeout -k 10 "${FTSCOPE_E2E_TIMEOUT:-600}" "${prefix[@]}" "$FTSCOPE" "$@" \
		>"$FTSCOPE_OUT" 2>"$FTSCOPE_ERR" </dev/null || FTSCOPE_RC=$?
	if [ "$FTSCOPE_RC" = 124 ] || [ "$FTSCOPE_RC" = 137 ]; then
		diag "ftscope did not finish within ${FTSCOPE_E2E_TIMEOUT:-600} s: $FTSCOPE_CMD"
	fi
	return 0
}

ftscope_out() { cat "$FTSCOPE_OUT"; }
ftscope_err() { cat "$FTSCOPE_ERR"; }

# Printed once per ftscope command, at its first failed check.
_show_ftscope_stderr() {
	[ -n "$FTSCOPE_CMD" ] && [ -z "$_tap_stderr_shown" ] || return 0
	_tap_stderr_shown=1
	diag "last command: $FTSCOPE_CMD (exit $FTSCOPE_RC)"
	if [ -s "$FTSCOPE_ERR" ]; then
		diag "its stderr (last 30 lines):"
		diag "$(tail -n 30 "$FTSCOPE_ERR" | sed 's/^/  /')"
	else
		diag "its stderr is empty; stdout (last 10 lines):"
		diag "$(tail -n 10 "$FTSCOPE_OUT" 2>/dev/null | sed 's/^/  /')"
	fi
}

# fixture_registry NAME...: build git repositories and a registry of fixture packages
# ("ftfix-" may be left off) under $TEST_TMP/fx; sets REGISTRY.
REGISTRY=
fixture_registry() {
	"$FIXTURES/make-registry.sh" "$TEST_TMP/fx" "$@" ||
		bail_out "tests/fixtures/make-registry.sh failed"
	REGISTRY=$TEST_TMP/fx/registry
}

# The options every run in a test shares: its own work directories, and offline installs
# (the fixtures need nothing but the provisioned interpreter; tests/e2e/t0225 runs online).
ftscope_run_dirs() {
	printf '%s\n' --repos-dir "$TEST_TMP/repos" --venvs-dir "$TEST_TMP/venvs" \
		--results-dir "$TEST_TMP/results" --offline
}

# run_fixtures PKG[,PKG...] [OPTION...]: `ftscope run` over those fixture packages (the
# registry is built first if fixture_registry was not called); sets FTSCOPE_RC and RUN_DIR.
RUN_DIR=
run_fixtures() {
	local pkgs=$1 dirs names
	shift
	IFS=, read -ra names <<<"$pkgs"
	[ -n "$REGISTRY" ] || fixture_registry "${names[@]}"
	mapfile -t dirs < <(ftscope_run_dirs)
	run_ftscope run --target-python "$FT_PYTHON" --registry-dir "$REGISTRY" \
		--packages "$pkgs" "${dirs[@]}" "$@"
	RUN_DIR=$(run_dir 2>/dev/null) || RUN_DIR=
	note "ftscope run exited $FTSCOPE_RC; run dir: ${RUN_DIR:-none}"
}

# run_into NAME ARG...: `ftscope run ARG... --results-dir results/NAME`, for a test that makes
# several runs side by side; sets RUN_DIR (or empty).
run_into() {
	local name=$1
	shift
	run_ftscope run "$@" --results-dir "$TEST_TMP/results/$name"
	RUN_DIR=$(ls -d "$TEST_TMP/results/$name"/ft_* 2>/dev/null | head -1)
	note "run $name exited $FTSCOPE_RC; run dir: ${RUN_DIR:-none}"
}

# run_dir: the single ft_* directory under ./results.
run_dir() {
	local results=$TEST_TMP/results d found=()
	for d in "$results"/ft_*; do
		[ -d "$d" ] && found+=("$d")
	done
	if [ ${#found[@]} -ne 1 ]; then
		diag "expected one ft_* directory under $results, found ${#found[@]}"
		return 1
	fi
	echo "${found[0]}"
}

# The run's results file.
results_file() { echo "${RUN_DIR:-$(run_dir)}/ft_results.jsonl"; }

# jqpkg PKG FILTER: apply the jq FILTER to the last line for PKG in ft_results.jsonl (lines
# that are not JSON are skipped). Strings print raw, other values as compact JSON; prints
# nothing (and fails) when the package has no line.
jqpkg() {
	local f
	f=$(results_file) || return 1
	[ -f "$f" ] || return 1
	jq -R --arg p "$1" 'fromjson? | select(type == "object" and .package == $p)' "$f" |
		jq -e -s 'length > 0' >/dev/null || return 1
	jq -R --arg p "$1" 'fromjson? | select(type == "object" and .package == $p)' "$f" |
		jq -cr -s "last | $2"
}

# jqpkg_true PKG FILTER [NAME]: one test passing when FILTER yields true.
jqpkg_true() {
	local got
	got=$(jqpkg "$1" "$2" 2>&1)
	if [ "$got" = true ]; then
		_tap_result 0 "${3:-$1: $2}"
	else
		_tap_result 1 "${3:-$1: $2}" || true
		[ -n "$TODO" ] || diag "    jq '$2' gave: '${got:0:400}'"
		return 1
	fi
}

# jqfile FILE FILTER: jq over a JSON file, strings raw.
jqfile() { jq -cr "$2" "$1"; }

# How many lines ft_results.jsonl holds for PKG (unparsable lines are not counted).
pkg_line_count() {
	local f
	f=$(results_file) || { echo 0; return; }
	[ -f "$f" ] || { echo 0; return; }
	jq -R --arg p "$1" 'fromjson? | select(type == "object" and .package == $p) | 1' "$f" |
		wc -l | tr -d ' '
}

# ---------------------------------------------------------------- a package index on loopback

# build_wheel SRC_DIR OUT_DIR: a wheel of the project in SRC_DIR (built from a copy, so the
# source tree stays clean; no index, no build isolation) into OUT_DIR; prints its path.
build_wheel() {
	local src=$1 out=$2 tmp
	tmp=$(mktemp -d "$TEST_TMP/wheel-src.XXXXXX")
	cp -r "$src"/. "$tmp"/
	mkdir -p "$out"
	"$FT_PYTHON" -m pip wheel -q --no-deps --no-index --no-build-isolation -w "$out" "$tmp" \
		>"$tmp.log" 2>&1 || bail_out "cannot build a wheel of $src: $(tail -3 "$tmp.log")"
	rm -rf "$tmp"
	ls -t "$out"/*.whl | head -1
}

# build_sdist SRC_DIR OUT_DIR: an sdist (.tar.gz) of the setuptools project in SRC_DIR (built
# from a copy, no index) into OUT_DIR; prints its path.
build_sdist() {
	local src=$1 out=$2 tmp
	tmp=$(mktemp -d "$TEST_TMP/sdist-src.XXXXXX")
	cp -r "$src"/. "$tmp"/
	mkdir -p "$out"
	(cd "$tmp" && "$FT_PYTHON" -c 'import sys
from setuptools.build_meta import build_sdist
print(build_sdist(sys.argv[1]))' "$out") >"$tmp.log" 2>&1 ||
		bail_out "cannot build an sdist of $src: $(tail -3 "$tmp.log")"
	rm -rf "$tmp"
	ls -t "$out"/*.tar.gz | head -1
}

# The setuptools wheel scripts/setup.sh keeps (an index must offer it for build isolation of
# setuptools projects); empty when there is none.
setuptools_wheel() {
	ls "${FTSCOPE_CACHE:-/var/cache/ftscope}"/wheels/setuptools-*.whl 2>/dev/null | tail -1
}

# pypi_serve FILE...: a PEP 503 "simple" index of these wheels/sdists, served by the test's
# interpreter (`python -m http.server`) on 127.0.0.1 at a free port until the test ends.
# Sets PYPI_URL (http://127.0.0.1:PORT/simple, for PIP_INDEX_URL or index-url) and PYPI_LOG
# (the server's request log: "GET /simple/NAME/ ..." lines show what pip asked for).
PYPI_URL=
PYPI_LOG=
pypi_serve() {
	local root=$TEST_TMP/pypi f name port=
	mkdir -p "$root/simple"
	for f in "$@"; do
		# PEP 503: the name (up to "-<version>"), lower case, runs of -_. as one -
		name=$(basename "$f" | sed -E 's/-[0-9].*//; s/[-_.]+/-/g' | tr 'A-Z' 'a-z')
		mkdir -p "$root/simple/$name"
		cp "$f" "$root/simple/$name/"
	done
	PYPI_LOG=$TEST_TMP/pypi.log
	"$FT_PYTHON" -u -m http.server 0 --bind 127.0.0.1 --directory "$root" >"$PYPI_LOG" 2>&1 &
	disown $! # killed with the test's other leftovers (procs_under), without a job notice
	for _ in $(seq 1 200); do
		port=$(sed -n 's/^Serving HTTP on .* port \([0-9]*\).*/\1/p' "$PYPI_LOG" | head -1)
		[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ] || bail_out "the loopback package index did not start: $(cat "$PYPI_LOG")"
	PYPI_URL=http://127.0.0.1:$port/simple
}

# ---------------------------------------------------------------- processes

# procs_under DIR: PIDs (one per line) of live processes whose command line mentions DIR/
# or whose working directory is inside DIR/ -- leftovers of a run in this test's directory.
# The test's own shells (cwd = DIR itself) are not included.
procs_under() {
	local dir=$1 p pid cwd
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[ "$pid" = "$$" ] || [ "$pid" = "${BASHPID:-}" ] && continue
		[ "$(awk '{print $3}' "$p/stat" 2>/dev/null)" = Z ] && continue
		cwd=$(readlink "$p/cwd" 2>/dev/null) || cwd=
		if [[ $cwd == "$dir"/* ]] ||
			tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$dir/"; then
			echo "$pid"
		fi
	done
}

# Describe processes (for diagnostics).
describe_pids() {
	local pid
	for pid in "$@"; do
		diag "  pid $pid: $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-200)"
	done
}

# ---------------------------------------------------------------- hostile packages

# relax_fs_protections: the attacks of tests/fixtures/pkgs/ftfix-hostile-* must work as on
# the many hosts where the kernel's symlink, hardlink, FIFO and regular-file protections are
# off (fs.protected_*): turned off for this test, restored when it exits.
_fs_restore=()
relax_fs_protections() {
	local k v
	for k in protected_symlinks protected_hardlinks protected_fifos protected_regular; do
		v=$(sysctl -n "fs.$k" 2>/dev/null) || continue
		[ "$v" = 0 ] && continue
		_fs_restore+=("fs.$k=$v")
		sysctl -q -w "fs.$k=0" >/dev/null 2>&1 || diag "cannot turn fs.$k off"
	done
}

# hostile_dirs: $HOSTILE_OUT (a directory every uid may write, for the attacks' traces) and
# $SECRET, a root-only file whose content ($SECRET_MARK) must never leave it.
HOSTILE_OUT= SECRET= SECRET_MARK=
hostile_dirs() {
	HOSTILE_OUT=$TEST_TMP/hostile
	mkdir -p "$HOSTILE_OUT" && chmod 1777 "$HOSTILE_OUT"
	SECRET=$TEST_TMP/secret
	SECRET_MARK=FTSCOPE-SECRET-$RANDOM$RANDOM$RANDOM
	printf '%s\n' "$SECRET_MARK" >"$SECRET"
	chmod 0600 "$SECRET"
}

# run_ftscope_rss ARGS...: run_ftscope through the interpreter, which then tells the largest
# resident set of ftscope and everything it started (getrusage(RUSAGE_CHILDREN) covers every
# descendant that was waited for) in FTSCOPE_MAXRSS_KB.
FTSCOPE_MAXRSS_KB=
run_ftscope_rss() {
	local rss=$TEST_TMP/ftscope.maxrss
	FTSCOPE_CMD="ftscope $*"
	_tap_stderr_shown=
	FTSCOPE_RC=0
	"$FT_PYTHON" -I -c 'import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc)' "$rss" timeout -k 10 "${FTSCOPE_E2E_TIMEOUT:-600}" "$FTSCOPE" "$@" \
		>"$FTSCOPE_OUT" 2>"$FTSCOPE_ERR" </dev/null || FTSCOPE_RC=$?
	FTSCOPE_MAXRSS_KB=$(cat "$rss" 2>/dev/null || echo 0)
}

# ---------------------------------------------------------------- cleanup

_e2e_cleanup() {
	local pids r
	# Leftovers of a failed ftscope must not outlive the test (only our own directory's).
	mapfile -t pids < <(procs_under "$TEST_TMP")
	if [ ${#pids[@]} -gt 0 ]; then
		kill -KILL "${pids[@]}" 2>/dev/null
	fi
	for r in "${_fs_restore[@]}"; do
		sysctl -q -w "$r" >/dev/null 2>&1
	done
	cd / || true
	if [ "${FTSCOPE_KEEP:-0}" = 1 ]; then
		echo "# kept $TEST_TMP" >&2
	else
		rm -rf "$TEST_TMP"
	fi
}
trap _e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
