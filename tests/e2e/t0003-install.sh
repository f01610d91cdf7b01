#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# `make install` (DESTDIR, PREFIX) installs the binary, the man page and bash completion;
# the man page is current (scripts/gen-manpage.sh output from this binary), renders without
# warnings and has a section for every subcommand; the completion completes commands and a
# command's options.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_cmd make
need_cmd groff
SRC=$SRC_ROOT
ok make -s -C "$SRC" install DESTDIR="$TEST_TMP/dest" PREFIX=/usr "the install runs"
ok test -x dest/usr/bin/ftscope "the binary in PREFIX/bin"
ok test -f dest/usr/share/man/man1/ftscope.1 "the man page in PREFIX/share/man/man1"
ok test -f dest/usr/share/bash-completion/completions/ftscope "bash completion installed"
is "$(dest/usr/bin/ftscope --version)" "$("$FTSCOPE" --version)" "the installed binary runs"

bash "$SRC/scripts/gen-manpage.sh" "$FTSCOPE" >fresh.1
ok cmp -s fresh.1 "$SRC/docs/ftscope.1" "docs/ftscope.1 is current (make man regenerates it)"
is "$(groff -man -Tutf8 -ww -z dest/usr/share/man/man1/ftscope.1 2>&1)" "" "the man page renders without warnings"
for cmd in $("$FTSCOPE" --help | awk '/^commands:/{f=1; next} f && /^  [a-z]/{print $1}'); do
	ok grep -q "^\\.SH \"ftscope $cmd\"" dest/usr/share/man/man1/ftscope.1 "the man page has a section for $cmd"
done
ok grep -q '^\.SH EXIT STATUS' dest/usr/share/man/man1/ftscope.1 "and one for the exit statuses"

comp() { # comp WORD...: what completion offers for the last word
	PATH="$TEST_TMP/dest/usr/bin:$PATH" bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ftscope; printf "%s\n" "${COMPREPLY[@]}"' \
		_ dest/usr/share/bash-completion/completions/ftscope "$@"
}
is "$(comp ftscope dea | tr '\n' ' ')" "deadlocks " "completion: commands"
ok grep -qx -- --full <(comp ftscope deadlocks --f) "completion: a command's options"
done_testing
