#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Privileges in a chroot (a CI build root, debootstrap, fresh-machine.sh): / is not a mount
# point there, so the test uid cannot be named in a private bind mount over /etc/passwd (it
# would propagate out of the chroot). ftscope names it in the chroot's own /etc/passwd and
# /etc/group for as long as it holds the uid, and removes the lines after; a line left by an
# ftscope that was killed with its guardian is reclaimed, not counted as a real user's; a uid
# claimed by an ftscope in another root (an abstract socket, seen across chroots) is not taken.
# The chroot here: this host's /usr, a copy of its /etc, in a private mount namespace.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
need_cmd unshare chroot mount mountpoint

fixture_registry whoami
# passwd_edit ROOT add FILE LINE | passwd_edit ROOT drop: this test's own edits of ROOT/etc/passwd
# and group, under the lock ftscope takes (lckpwdf: an fcntl lock on /etc/.pwd.lock), and
# whole-file replacements by rename. In fresh-machine.sh's root the tests beside this one
# (t0370) have ftscope add and remove their uids' lines in the same files: an unlocked
# read-filter-rewrite here put back a line ftscope had just removed, and t0370 failed.
passwd_edit() {
	"$FT_PYTHON" - "$@" <<'PYEOF'
import fcntl, os, re, sys
root, op = sys.argv[1], sys.argv[2]
lock = os.open(root + "/etc/.pwd.lock", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
fcntl.lockf(lock, fcntl.LOCK_EX)
def rewrite(path, lines):
    tmp = path + ".t0372"
    with open(tmp, "w") as f:
        f.writelines(lines)
    st = os.stat(path)
    os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, st.st_mode & 0o7777)
    os.rename(tmp, path)
if op == "add":
    path = root + sys.argv[3]
    rewrite(path, open(path).readlines() + [sys.argv[4] + "\n"])
else:
    for name in ("/etc/passwd", "/etc/group"):
        lines = open(root + name).readlines()
        keep = [l for l in lines if not re.match(r"ftscope-6535[0-3]:", l)]
        if keep != lines:
            rewrite(root + name, keep)
PYEOF
}
if ! mountpoint -q /; then
	# Already in such a chroot (fresh-machine.sh's root): no nested one can be made without
	# mounts that would propagate out of it (unshare cannot make / private here), and none
	# is needed. The checks run here, on this root's own /etc/passwd; every line they add
	# is removed at the end.
	root=
	cleanup_ids() { passwd_edit "" drop; }
	trap cleanup_ids EXIT
	in_chroot() {
		FTSCOPE_RC=0
		timeout -k 10 600 env PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@" \
			>"$FTSCOPE_OUT" 2>"$FTSCOPE_ERR" </dev/null || FTSCOPE_RC=$?
	}
	host_passwd=
else
root=$TEST_TMP/chroot
mkdir -p "$root"/{usr,etc,proc,dev,sys,run,tmp,var/tmp,var/cache,root}
for d in bin sbin lib lib32 lib64 libx32; do
	if [ -L "/$d" ]; then
		ln -s "$(readlink "/$d")" "$root/$d"
	elif [ -d "/$d" ]; then
		mkdir -p "$root/$d"
	fi
done
cp -a /etc/. "$root/etc/"
ftscope_dir=$(cd "$(dirname "$FTSCOPE")" && pwd)
py_real=$(readlink -f "$FT_PYTHON")
py_prefix=$(dirname "$(dirname "$py_real")")

# in_chroot CMD...: run CMD in the chroot (as root), stdout/stderr to FTSCOPE_OUT/ERR.
in_chroot() {
	FTSCOPE_RC=0
	# shellcheck disable=SC2016
	timeout -k 10 600 unshare -m --propagation private bash -c '
		set -e
		root=$1 ftscope_dir=$2 py_prefix=$3 tmp=$4
		shift 4
		for d in bin sbin lib lib32 lib64 libx32; do
			[ -d "$root/$d" ] && [ ! -L "$root/$d" ] && mount --bind "/$d" "$root/$d"
		done
		mount --bind /usr "$root/usr"
		mount --rbind /dev "$root/dev"
		mount --rbind /sys "$root/sys"
		mount -t proc proc "$root/proc"
		mount -t tmpfs tmpfs "$root/run"
		for p in "$ftscope_dir" "$py_prefix" "$tmp"; do
			mkdir -p "$root$p"
			mount --bind "$p" "$root$p"
		done
		exec chroot "$root" env PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"
	' in_chroot "$root" "$ftscope_dir" "$py_prefix" "$TEST_TMP" "$@" \
		>"$FTSCOPE_OUT" 2>"$FTSCOPE_ERR" </dev/null || FTSCOPE_RC=$?
}
host_passwd=$(sha256sum </etc/passwd)
fi

in_chroot mountpoint /
isnt "$FTSCOPE_RC" 0 "inside, / is not a mount point (a chroot)" ||
	bail_out "the chroot was not made: $(head -c 600 "$FTSCOPE_ERR")"

run=(run --target-python "$FT_PYTHON" --registry-dir "$REGISTRY" --packages ftfix-whoami
	--iterations 1 --no-detect-extensions --test-command-override "python -m pytest -s tests"
	--repos-dir "$TEST_TMP/repos" --venvs-dir "$TEST_TMP/venvs" --offline)

FTSCOPE_CMD="ftscope ${run[*]} (in a chroot)"
in_chroot "$FTSCOPE" "${run[@]}" --results-dir "$TEST_TMP/results"
is "$FTSCOPE_RC" 0 "run exits 0"
RUN_DIR=$(run_dir 2>/dev/null) || RUN_DIR=
is "$(jqpkg ftfix-whoami .category)" compatible "the suite passes: its uid has a name"
out=$RUN_DIR/artifacts/ftfix-whoami/1/stdout
like "$(grep -o 'ftfix-whoami: .*' "$out")" \
	"^ftfix-whoami: uid=(65[1-3][0-9][0-9]) user=ftscope-\\1 home=$TEST_TMP/venvs/.*/home\$" \
	"a test uid, named in the chroot's /etc/passwd, HOME in the workspace"
# Only this run's uid is looked for: where this test runs on its own root (a chroot made by
# fresh-machine.sh), the tests running beside it name their test uids in the same files.
uid=$(grep -o 'ftfix-whoami: uid=[0-9]*' "$out" | grep -o '[0-9]*$')
is "$(grep -c "^ftscope-${uid:-none}:" "$root/etc/passwd" "$root/etc/group" | paste -sd' ')" \
	"$root/etc/passwd:0 $root/etc/group:0" "after the run, the chroot's files have no line of its uid"
is "$(stat -c '%U %a' "$root/etc/passwd")" "root 644" "/etc/passwd keeps its owner and mode"
[ -z "$host_passwd" ] ||
	is "$(sha256sum </etc/passwd)" "$host_passwd" "the host's /etc/passwd is untouched"

# (uids at the top of the range: the tests that run beside this one take the lowest free)
# A line left by an ftscope killed together with its guardian: reclaimed, then removed.
passwd_edit "$root" add /etc/passwd "ftscope-65352:x:65352:65352:ftscope test user:/nonexistent:/bin/sh"
passwd_edit "$root" add /etc/group "ftscope-65352:x:65352:"
in_chroot env FTSCOPE_TEST_UIDS=65352-65352 "$FTSCOPE" "${run[@]}" --results-dir "$TEST_TMP/results-2"
is "$FTSCOPE_RC" 0 "with a stale line for the only test uid: run exits 0"
RUN_DIR=$(ls -d "$TEST_TMP"/results-2/ft_* 2>/dev/null | head -1)
is "$(jqpkg ftfix-whoami .category)" compatible "the stale uid is reclaimed, and passes"
ok grep -q 'ftfix-whoami: uid=65352 user=ftscope-65352 ' "$RUN_DIR/artifacts/ftfix-whoami/1/stdout" \
	"it ran as uid 65352, named"
ok test -z "$(grep '^ftscope-65352:' "$root/etc/passwd" "$root/etc/group")" "and its lines are gone after"

# Another root's ftscope (outside this chroot: another /run, so its lock file is not seen
# here) holds uid 65350: its claim, an abstract socket, is seen, and 65351 is taken instead.
# (Two roots on one uid would sweep each other's processes: kill(-1) as the uid.)
"$FT_PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0ftscope-uid-65350")
print("held", flush=True)
time.sleep(300)' >"$TEST_TMP/claim.out" &
claimer=$!
for _ in $(seq 50); do grep -q held "$TEST_TMP/claim.out" 2>/dev/null && break; sleep 0.1; done
in_chroot env FTSCOPE_TEST_UIDS=65350-65351 "$FTSCOPE" "${run[@]}" --results-dir "$TEST_TMP/results-c"
is "$FTSCOPE_RC" 0 "with uid 65350 claimed from another root: run exits 0"
RUN_DIR=$(ls -d "$TEST_TMP"/results-c/ft_* 2>/dev/null | head -1)
ok grep -q 'ftfix-whoami: uid=65351 user=ftscope-65351 ' "$RUN_DIR/artifacts/ftfix-whoami/1/stdout" \
	"the test ran as 65351, not the claimed 65350"
in_chroot env FTSCOPE_TEST_UIDS=65350-65350 "$FTSCOPE" "${run[@]}" --results-dir "$TEST_TMP/results-d"
isnt "$FTSCOPE_RC" 0 "only the claimed uid in the range: the run stops"
ok grep -q "1 are claimed by an ftscope in another root" "$FTSCOPE_ERR" "saying it is claimed elsewhere"
kill "$claimer" 2>/dev/null
wait "$claimer" 2>/dev/null

# A real user's entry in the range is never taken over.
passwd_edit "$root" add /etc/passwd "ftscope-65353:x:65353:65353:someone:/home/x:/bin/sh"
in_chroot env FTSCOPE_TEST_UIDS=65353-65353 "$FTSCOPE" "${run[@]}" --results-dir "$TEST_TMP/results-3"
isnt "$FTSCOPE_RC" 0 "a real entry for the only test uid: the run stops"
ok grep -q "no free test uid in 65353-65353 (1 have a passwd or group entry" "$FTSCOPE_ERR" \
	"saying the uid is named"
ok grep -q '^ftscope-65353:x:65353:65353:someone:' "$root/etc/passwd" "the real entry is left alone"
done_testing
