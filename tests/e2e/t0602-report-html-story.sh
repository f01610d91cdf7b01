#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# `ftscope report --format html` drills down from a deadlocked package's row to its
# deadlock story in the same file: the row links to #story-NAME, and that element holds
# what `ftscope deadlocks RUN --package NAME` prints (the cycle by thread names, who holds
# what and where, where each waits), then every thread's stack in a <details> (the --full
# part). Nothing fetched: no external asset.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

run_fixtures ftfix-ok,ftfix-deadlock --iterations 2 --deadlock-window 2 --timeout 120 --tracer ptrace
is "$FTSCOPE_RC" 0 "ftscope run exits 0"
[ -n "$RUN_DIR" ] || bail_out "no run directory"
is "$(jqpkg ftfix-deadlock .category)" deadlock "ftfix-deadlock deadlocks"

run_ftscope deadlocks "$RUN_DIR" --package ftfix-deadlock
is "$FTSCOPE_RC" 0 "deadlocks exits 0"
# the story without the closing hint (which names the run directory and --full)
grep -v '^(every thread' "$FTSCOPE_OUT" | sed -e '${/^$/d}' >"$TEST_TMP/story.txt"
run_ftscope deadlocks "$RUN_DIR" --package ftfix-deadlock --full
awk '/^=== /{f=1} f' "$FTSCOPE_OUT" >"$TEST_TMP/stacks.txt"

run_ftscope report "$RUN_DIR" --format html -o "$TEST_TMP/report.html"
is "$FTSCOPE_RC" 0 "report --format html exits 0"
H=$TEST_TMP/report.html
[ -s "$H" ] || bail_out "no HTML report written"
ok grep -q '<tr><td><a href="#story-ftfix-deadlock">ftfix-deadlock</a></td>' "$H" \
	"the deadlocked package's row links to its story"
is "$(grep -c 'id="story-ftfix-deadlock"' "$H")" 1 "one element has that id"
ok_not() { ! "$@"; }
ok ok_not grep -q 'href="#story-ftfix-ok"' "$H" "no story link for a package that did not hang"

# The <pre> blocks of the story element, unescaped.
extract() {
	"$FT_PYTHON" - "$H" "$1" <<'PY'
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0; self.pres = []; self.inpre = False
    def handle_starttag(self, tag, attrs):
        if self.depth:
            if tag == "div": self.depth += 1
            if tag == "pre": self.inpre = True; self.pres.append("")
        elif tag == "div" and ("id", "story-ftfix-deadlock") in attrs:
            self.depth = 1
    def handle_endtag(self, tag):
        if self.depth and tag == "pre": self.inpre = False
        if self.depth and tag == "div": self.depth -= 1
    def handle_data(self, d):
        if self.inpre: self.pres[-1] += d
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
sys.stdout.write(p.pres[int(sys.argv[2])] if len(p.pres) > int(sys.argv[2]) else "")
PY
}
extract 0 >"$TEST_TMP/html-story.txt"
extract 1 >"$TEST_TMP/html-stacks.txt"
ok cmp -s "$TEST_TMP/story.txt" "$TEST_TMP/html-story.txt" \
	"the story in the HTML is what 'ftscope deadlocks --package' prints"
[ "$_tap_failed" -eq 0 ] || diff "$TEST_TMP/story.txt" "$TEST_TMP/html-story.txt" | sed 's/^/# /' >&2
like "$(cat "$TEST_TMP/html-story.txt")" 'Cycle[^:]*: ("a_to_b" -> "b_to_a" -> "a_to_b"|"b_to_a" -> "a_to_b" -> "b_to_a")' \
	"it names the cycle's threads"
like "$(cat "$TEST_TMP/html-story.txt")" 'holds acc\.lock_[ab], taken at' "and who holds what, where"
ok cmp -s "$TEST_TMP/stacks.txt" "$TEST_TMP/html-stacks.txt" \
	"the folded stacks are --full's"
like "$(cat "$TEST_TMP/html-stacks.txt")" '=== ftfix-deadlock, iteration 1 ' "one block per iteration"
ok grep -q '<details><summary>Every thread' "$H" "the stacks are folded"
ok ok_not grep -qE '(src|href)="(https?:)?//' "$H" "self-contained: nothing fetched"
done_testing
