#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# --tracer ebpf on a host whose tracefs is not mounted (tracefs in /proc/filesystems, an
# empty /sys/kernel/tracing): the recorder attaches without it, by the syscall tracepoints
# (their ids read from a private mount of tracefs) as root, by the raw syscall tracepoints
# where tracefs cannot be mounted either (no CAP_SYS_ADMIN, as in a container given only
# CAP_BPF and CAP_PERFMON). Run in a private mount namespace (unshare -m, its mounts made
# private) with tracefs and debugfs unmounted there, so the host is untouched. And where
# the recorder cannot load, doctor and run say why and what fixes it in one line, not
# libbpf's words.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd unshare setpriv
grep -qw tracefs /proc/filesystems || skip_all "this kernel has no tracefs"
[ -r /sys/kernel/btf/vmlinux ] || skip_all "the kernel has no BTF: the recorder cannot load anyway"

host_mounts() { grep -E ' (tracefs|debugfs) ' /proc/self/mounts | sort; }
before=$(host_mounts)

# ftscope, run in a new mount namespace without tracefs or debugfs.
wrapper=$TEST_TMP/ftscope-no-tracefs
cat >"$wrapper" <<'EOF'
#!/bin/sh
exec unshare -m --propagation unchanged sh -c '
	# private before anything is unmounted: "/" is not a mount point in a chroot, /sys is
	mount --make-rprivate / 2>/dev/null || mount --make-rprivate /sys || exit 89
	for m in /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug; do
		while mountpoint -q "$m" 2>/dev/null; do umount -l "$m" || exit 90; done
	done
	[ -z "$(ls -A /sys/kernel/tracing 2>/dev/null)" ] ||
		{ echo "tracefs still visible" >&2; exit 91; }
	exec $FTSCOPE_PRIV "$0" "$@"' "$FTSCOPE_REAL" "$@"
EOF
chmod +x "$wrapper"
export FTSCOPE_REAL=$FTSCOPE FTSCOPE_PRIV=
FTSCOPE=$wrapper
fixture_registry deadlock

# how: "root" (tracefs mounted privately for the ids) or "nosysadmin" (raw tracepoints)
check_run() {
	local how=$1 hooks=$2
	[ "$how" = root ] && FTSCOPE_PRIV= || FTSCOPE_PRIV="setpriv --bounding-set=-sys_admin"
	run_ftscope doctor --tracer ebpf
	is "$FTSCOPE_RC" 0 "$how: doctor --tracer ebpf passes without tracefs"
	like "$(grep 'eBPF recorder' "$FTSCOPE_OUT")" \
		"ok.*eBPF recorder.*loads and attaches.*$hooks" \
		"$how: the recorder loads and attaches, by $hooks"
	rm -rf "$TEST_TMP/results"
	run_fixtures ftfix-deadlock --iterations 1 --tracer ebpf --deadlock-window 2 \
		--stall-threshold 30 --timeout 120 --no-detect-extensions
	is "$FTSCOPE_RC" 0 "$how: run --tracer ebpf exits 0 without tracefs"
	is "$(jq -r .config.tracer "$RUN_DIR/ft_meta.json" 2>/dev/null)" ebpf \
		"$how: meta: tracer ebpf"
	is "$(jqpkg ftfix-deadlock .iterations[0].tracer)" ebpf \
		"$how: the iteration ran with the recorder"
	is "$(jqpkg ftfix-deadlock .iterations[0].status)" deadlock "$how: the deadlock is found"
	jqpkg_true ftfix-deadlock '.iterations[0].recorder.lock_waits.total_waits > 0' \
		"$how: the recorder saw the futex waits (syscall hooks attached)"
	jqpkg_true ftfix-deadlock '.iterations[0].hang.detected_after_s < 3' \
		"$how: declared by the recorder's blocked-thread map within the window"
}
check_run root "syscall tracepoints .tracefs is not mounted: ids read from a private mount"
check_run nosysadmin "raw syscall tracepoints"
FTSCOPE_PRIV=
is "$(host_mounts)" "$before" "the host's tracefs/debugfs mounts are untouched"

# Where the recorder cannot load: root without CAP_BPF/CAP_PERFMON (a container).
FTSCOPE=$FTSCOPE_REAL
nocap=$TEST_TMP/ftscope-nocap
printf '#!/bin/sh\nexec setpriv --bounding-set=-bpf,-perfmon,-sys_admin "%s" "$@"\n' \
	"$FTSCOPE" >"$nocap"
chmod +x "$nocap"
FTSCOPE=$nocap
run_ftscope doctor --tracer ebpf
is "$FTSCOPE_RC" 1 "doctor --tracer ebpf fails where the recorder cannot load"
like "$(grep 'eBPF recorder' "$FTSCOPE_OUT")" \
	"FAIL.*lacks CAP_BPF and CAP_PERFMON.*fix: .*--cap-add BPF" \
	"doctor names the cause and the fix"
run_ftscope doctor
is "$FTSCOPE_RC" 0 "doctor (auto) still passes: ptrace is enough"
run_fixtures ftfix-deadlock --iterations 1 --tracer ebpf
ok test "$FTSCOPE_RC" != 0 "run --tracer ebpf refuses to start"
is "$(grep -c 'cannot load the eBPF recorder' "$FTSCOPE_ERR")" 1 "it says why once"
ok grep -q 'fix: start the container with --cap-add BPF' "$FTSCOPE_ERR" "with the fix"
ok test "$(grep -c 'libbpf' "$FTSCOPE_ERR")" = 0 "and no raw libbpf text"
done_testing
