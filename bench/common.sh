# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Helpers shared by the bench/*.sh scripts (sourced, never run).
#   FTSCOPE=path     the binary to measure (default: build/ftscope of this checkout)
#   FTSCOPE_PYTHON=  the free-threaded interpreter (default: scripts/setup.sh --print-python)

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$BENCH_DIR/.." && pwd)
FTSCOPE=${FTSCOPE:-$ROOT_DIR/build/ftscope}
BENCH_MISSING=()

bench_missing() { BENCH_MISSING+=("$*"); }

# need_root: ptrace of other users' processes, the pids cgroup, dropping to the test user.
need_root() {
	[ "$(id -u)" = 0 ] || bench_missing "root (run with sudo)"
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || bench_missing "command '$c' (apt-get install $c)"
	done
}

need_ftscope() {
	[ -x "$FTSCOPE" ] || bench_missing "ftscope binary $FTSCOPE (make -C $ROOT_DIR)"
}

# Sets PY to the free-threaded interpreter.
need_python() {
	PY=${FTSCOPE_PYTHON:-}
	if [ -z "$PY" ]; then
		if [ "$(id -u)" = 0 ]; then
			PY=$(FTSCOPE_SETUP_QUIET=1 bash "$ROOT_DIR/scripts/setup.sh" --print-python 2>/dev/null) || PY=
		else
			PY=${FTSCOPE_CACHE:-/var/cache/ftscope}/python3.13t/bin/python3.13t
		fi
	fi
	if [ -z "$PY" ] || [ ! -x "$PY" ]; then
		bench_missing "free-threaded python (bash $ROOT_DIR/scripts/setup.sh, or FTSCOPE_PYTHON=)"
		return 0
	fi
	if [ "$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("Py_GIL_DISABLED") or 0)' 2>/dev/null)" != 1 ]; then
		bench_missing "a free-threaded python: $PY is not one"
	fi
}

need_ptrace() {
	local s
	if [ -r /proc/sys/kernel/yama/ptrace_scope ]; then
		s=$(cat /proc/sys/kernel/yama/ptrace_scope)
		[ "$s" -le 2 ] || bench_missing "ptrace (kernel.yama.ptrace_scope=$s forbids attaching)"
	fi
}

# Call after the need_* checks: lists everything missing at once and exits 2.
bench_check() {
	local m
	if [ ${#BENCH_MISSING[@]} -gt 0 ]; then
		echo "$(basename "$0"): cannot run, missing:" >&2
		for m in "${BENCH_MISSING[@]}"; do echo "  - $m" >&2; done
		exit 2
	fi
}

# now: wall clock in seconds with microseconds (bash 5's EPOCHREALTIME, no fork).
now() { echo "$EPOCHREALTIME"; }

# elapsed START END: END-START in seconds, 6 decimals.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f\n", b - a }'; }

# stats: numbers on stdin (one per line) -> "n median min max mean" (medians of even n average
# the two middle values).
stats() {
	awk '{ v[n++] = $1 + 0 }
	END {
		if (n == 0) { print "0 nan nan nan nan"; exit }
		for (i = 1; i < n; i++) { x = v[i]; for (j = i - 1; j >= 0 && v[j] > x; j--) v[j+1] = v[j]; v[j+1] = x }
		s = 0; for (i = 0; i < n; i++) s += v[i]
		med = (n % 2) ? v[int(n/2)] : (v[n/2 - 1] + v[n/2]) / 2
		printf "%d %.6f %.6f %.6f %.6f\n", n, med, v[0], v[n-1], s / n
	}'
}

# loadavg: the 1-minute load average and the core count, for the header.
machine_note() {
	local load
	load=$(cut -d' ' -f1 /proc/loadavg)
	echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	if awk -v l="$load" -v c="$(nproc)" 'BEGIN { exit !(l >= c * 0.75) }'; then
		echo "warning: the machine is busy (load $load on $(nproc) cores): timings will be noisy"
	fi
}

# use_ftscope_copy DIR: measure a private copy of the binary, so a rebuild of build/ by
# someone else during the benchmark (make clean, relinking) cannot break or change it.
use_ftscope_copy() {
	cp "$FTSCOPE" "$1/ftscope"
	FTSCOPE_SRC=$FTSCOPE
	FTSCOPE=$1/ftscope
	echo "ftscope: $FTSCOPE_SRC ($("$FTSCOPE" --version 2>/dev/null || echo '?'), copied to $1 for the run)"
}

# bench_package DIR NAME: an empty package NAME (module NAME with _ for -) for ftscope to
# install in runs whose test command is overridden; DIR and $WORK/home go to the test user
# (TEST_UID:TEST_GID).
bench_package() {
	local dir=$1 name=$2 mod=${2//-/_}
	mkdir -p "$dir/$mod" "$WORK/home"
	cat >"$dir/pyproject.toml" <<PYPROJECT
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "$name"
version = "0.1.0"
requires-python = ">=3.13"

[tool.setuptools]
packages = ["$mod"]
PYPROJECT
	echo '"""ftscope benchmark: a package with nothing in it."""' >"$dir/$mod/__init__.py"
	chown -R "$TEST_UID:$TEST_GID" "$dir" "$WORK/home"
}

# bench_venv PKG: the bare runs' venv, made the way ftscope makes a package's venv (the target
# python, `-m venv --without-pip --system-site-packages`) with PKG installed in it offline by
# the interpreter's own pip as ftscope installs a checkout by default (`pip install -e`: from a
# copy, the build leaves root's files behind), so bare runs see the same interpreter setup as
# the runs under ftscope. Editable matters: setuptools' editable finder (a .pth file) imports
# pathlib at every interpreter start, ~27 ms of CPU each, which a regular install does not. The bench makes its own: ftscope's
# venvs live in per-run workspaces (--venvs-dir/<run>-<hash>/<pkg>/venv), made fresh for each
# run and removed when it ends. Sets VENV (readable by the test user).
bench_venv() {
	VENV=$WORK/venv-bare
	rm -rf "$WORK/pkg-bare" && cp -R "$1" "$WORK/pkg-bare"
	if ! { "$PY" -m venv --without-pip --system-site-packages "$VENV" &&
		env -u PYTHONHOME -u PYTHONPATH PIP_NO_INDEX=1 PIP_NO_BUILD_ISOLATION=0 \
			PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
			"$VENV/bin/python" -m pip install --quiet --no-deps -e "$WORK/pkg-bare"; } \
		>"$WORK/venv.out" 2>"$WORK/venv.err"; then
		echo "making the bare runs' venv $VENV failed:" >&2
		tail -20 "$WORK/venv.out" "$WORK/venv.err" >&2
		exit 1
	fi
	chmod -R a+rX "$VENV"
}

# bench_rounds ROUNDS: every mode (bare, none, ptrace, and ebpf where the recorder loads) once
# per round, in an order rotated per round so drift hits all alike; calls the script's
# run_bare ROUND and run_ftscope TRACER ROUND.
bench_rounds() {
	local modes=(bare none ptrace) order r k m
	"$FTSCOPE" doctor 2>/dev/null | grep -q "ok.*eBPF recorder" && modes+=(ebpf)
	for r in $(seq 1 "$1"); do
		order=()
		for k in "${!modes[@]}"; do order+=("${modes[$(((k + r - 1) % ${#modes[@]}))]}"); done
		printf '  round %d/%d: %s\n' "$r" "$1" "${order[*]}" >&2
		for m in "${order[@]}"; do
			case $m in
			bare) run_bare "$r" ;;
			*) run_ftscope "$m" "$r" ;;
			esac
		done
	done
}
