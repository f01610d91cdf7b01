#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# The build and the libraries it opens at run time (libgit2, libxml2): their sonames are
# found when the build runs, and one that cannot be found stops the build with a message
# naming the library, instead of producing a binary that cannot fetch. A second make after
# the failed one recovers without `make clean`. Builds into its own directory.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_cmd make cc objdump strings
# Run from `make check`: the outer make's jobserver is not ours.
unset MAKEFLAGS MAKELEVEL MFLAGS

B=$TEST_TMP/build
obj=$B/obj/src/run/gitrepo.o
# A compiler that cannot find libgit2.so, as on a host without libgit2-dev: gcc then
# prints the bare name.
cat >"$TEST_TMP/cc-nogit2" <<'EOF'
#!/bin/sh
[ "$1" = -print-file-name=libgit2.so ] && { echo libgit2.so; exit 0; }
exec cc "$@"
EOF
chmod +x "$TEST_TMP/cc-nogit2"

rc=0
make -C "$SRC_ROOT" --no-print-directory BUILD="$B" CC="$TEST_TMP/cc-nogit2" "$obj" \
	>"$TEST_TMP/make1.out" 2>&1 || rc=$?
ok test "$rc" -ne 0 "make fails when libgit2.so cannot be found"
like "$(cat "$TEST_TMP/make1.out")" "libgit2\.so not found.*install libgit2-dev" \
	"the error names the library and the package to install"
ok test ! -e "$obj" "no object is built with an unknown soname"
ok test ! -e "$B/gen/dl_sonames.h" "no sonames header is left behind"
[ "$rc" -ne 0 ] || diag "$(tail -5 "$TEST_TMP/make1.out")"

rc=0
make -C "$SRC_ROOT" --no-print-directory BUILD="$B" "$obj" >"$TEST_TMP/make2.out" 2>&1 || rc=$?
is "$rc" 0 "the next make, with the library found, succeeds without make clean"
[ "$rc" = 0 ] || diag "$(tail -20 "$TEST_TMP/make2.out")"
like "$(strings "$obj" 2>/dev/null | grep -E '^libgit2\.so\.[0-9]')" '^libgit2\.so\.[0-9]' \
	"the object names libgit2's versioned soname"
like "$(cat "$B/gen/dl_sonames.h" 2>/dev/null)" 'LIBXML2_SONAME "libxml2\.so\.[0-9]+"' \
	"libxml2's soname is found too"
like "$(strings "$FTSCOPE" | grep -E '^libgit2\.so\.[0-9]' | head -1)" '^libgit2\.so\.[0-9]' \
	"the ftscope under test was built with libgit2's soname"

done_testing
