#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# `ftscope report` over a real run (a compatible package, a crashing C extension and a
# lock-order deadlock, each also run with the GIL): markdown, text and HTML carry the
# sections, the crash's signature id, the deadlock's wait-for cycle with its thread ids and
# blocked Python frames, and PEP 779 ratio rows with numbers; -o writes atomically; a run
# that is still going is reported as partial. The HTML page is rendered by headless
# Chromium (skipped when /usr/bin/chromium is absent): its DOM has the sections and the SVG
# charts, and the screenshot is not blank.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_cmd jq

# ---- usage (no run needed)
run_ftscope report --help
is "$FTSCOPE_RC" 0 "report --help exits 0"
ok grep -qe "--format markdown|text|html" "$FTSCOPE_OUT" "report --help documents --format"
ok grep -qe "-o, --output FILE" "$FTSCOPE_OUT" "report --help documents -o"
run_ftscope report
is "$FTSCOPE_RC" 2 "report without RUN_DIR exits 2"
run_ftscope report . --format pdf
is "$FTSCOPE_RC" 2 "an unknown --format exits 2"
ok grep -q "pdf" "$FTSCOPE_ERR" "the error names the format"
run_ftscope report "$TEST_TMP/nowhere"
is "$FTSCOPE_RC" 1 "a missing run directory exits 1"

need_root
need_ft_python

# ---- a real run
run_fixtures ftfix-ok,ftfix-segv,ftfix-deadlock --iterations 2 --compare-with-gil \
	--deadlock-window 2 --timeout 120 --tracer ptrace
is "$FTSCOPE_RC" 0 "ftscope run exits 0"
[ -n "$RUN_DIR" ] || bail_out "no run directory"

is "$(jqpkg ftfix-deadlock .category)" deadlock "ftfix-deadlock deadlocks"
is "$(jqpkg ftfix-segv .category)" crash "ftfix-segv crashes"
jqpkg_true ftfix-ok '.pep779.time_ratio > 0 and .pep779.rss_ratio > 0' \
	"the run stores ftfix-ok's PEP 779 ratios"
jqpkg_true ftfix-ok '(.pep779.time_ok | type) == "boolean" and (.pep779.rss_ok | type) == "boolean"' \
	"and their verdicts"
jqpkg_true ftfix-deadlock '.pep779 == null' "no ratios for a package that never passes"

SIG_ID=$(jqpkg ftfix-segv '[.iterations[] | select(.status == "crash")][0].crash_signature_id')
like "$SIG_ID" '^[0-9a-f]{16}$' "the crash has a signature id ($SIG_ID)"
# the iteration the report details: the first FT deadlock with a lock-wait snapshot
hung='[.iterations[] | select(.status == "deadlock" and (.hang.waits | length) > 0)][0]'
read -r T1 T2 < <(jqpkg ftfix-deadlock "$hung.hang.cycles[0].tids | map(tostring) | join(\" \")")
like "${T1:-} ${T2:-}" '^[0-9]+ [0-9]+$' "the deadlock has a two-thread cycle ($T1, $T2)"
line_ab=$(awk '/^def _a_to_b/{f=1} f && /with acc.lock_b:/{print NR; exit}' \
	"$FIXTURES/pkgs/ftfix-deadlock/ftfix_deadlock/__init__.py")

# ---- markdown (the default), to stdout
run_ftscope report "$RUN_DIR"
is "$FTSCOPE_RC" 0 "report exits 0"
MD=$TEST_TMP/report.md
cp "$FTSCOPE_OUT" "$MD"
for h in "# Free-Threading Compatibility Report" "## Summary" "## Packages with crashes" \
	"## Packages with deadlocks" "## C extension compatibility" "## GIL comparison" \
	"## PEP 779 ratios" "## Crash clusters" "## All packages"; do
	ok grep -qxF "$h" "$MD" "markdown has '$h'"
done
ok grep -qE '^\| Category \| Count \| Percentage \|$' "$MD" "summary table header (labeille's)"
ok grep -qE '^\| Crash \| 1 \| 33\.3% \|$' "$MD" "summary row for crash"
ok grep -qE '^- \*\*Python:\*\* 3\.[0-9]+\.[0-9]+ \(CPython, free-threaded' "$MD" "header: Python"
ok grep -qE '^- \*\*Iterations:\*\* 2 per package, and 2 with the GIL enabled' "$MD" \
	"header: iterations"
ok grep -qE '^- \*\*Run:\*\* ft_[0-9_]+ \(complete\)$' "$MD" "header: a complete run"
ok grep -qE "^\| ftfix-segv \| [0-9]/2 \([0-9]+%\) \| [12] \| \`$SIG_ID\` \| SIGSEGV \| \`ftfix_segv_poke_impl\`" \
	"$MD" "crash row: signature id, signal, top frame"
ok grep -qE "^\| \`$SIG_ID\` \| SIGSEGV \| .* \| [0-9]+ \| ftfix-segv \([0-9]+\) \|$" "$MD" \
	"crash cluster row"
ok grep -qF "thread $T1 → thread $T2 → thread $T1" "$MD" "the deadlock's cycle with its TIDs"
ok grep -qE "^\| $T1 \`python\` \(in the cycle\) \| threading\.Lock \| thread $T2 \|" "$MD" \
	"thread $T1 (in the cycle) waits on a threading.Lock held by $T2"
ok grep -qF "\`__init__.py:$line_ab _a_to_b\`" "$MD" "the blocked Python frame of _a_to_b"
ok grep -qE '^\| ftfix-ok \| [0-9.]+ s \| [0-9.]+ s \| [0-9]+\.[0-9]{3} \([+-][0-9.]+%\) \| (✓ within|\*\*✗ over\*\*) \| [0-9.]+ MiB \| [0-9.]+ MiB \| [0-9]+\.[0-9]{3} \([+-][0-9.]+%\) \| (✓ within|\*\*✗ over\*\*) \|$' \
	"$MD" "PEP 779 row for ftfix-ok with numbers"
ok grep -qE '^\| ftfix-deadlock \| not measured: no passing iteration in both modes' "$MD" \
	"PEP 779 row for a package that never passes"
ok grep -qE '^\| ftfix-segv \| [0-9]/2 \([0-9]+%\) \| 2/2 \(100%\) \| ft_only \| fails only without the GIL \|$' \
	"$MD" "GIL comparison: the crash is free-threading only"
ok grep -qE '^\| ftfix-deadlock \| 0/2 \(0%\) \| 0/2 \(0%\) \| pre_existing \|' "$MD" \
	"GIL comparison: the deadlock is not"

# ---- text
run_ftscope report "$RUN_DIR" --format text
is "$FTSCOPE_RC" 0 "report --format text exits 0"
ok grep -qx "Compatibility Summary" "$FTSCOPE_OUT" "text: summary"
ok grep -qE '^Package +Category +Pass Rate +Iters +Crashes +Details$' "$FTSCOPE_OUT" \
	"text: package table"
ok grep -qx "Investigation Priority" "$FTSCOPE_OUT" "text: Investigation Priority"
ok grep -qE '^ +1\. ftfix-segv +! crash +\(score: [0-9]+\)  severity:crash; [12] crashes; C extension$' \
	"$FTSCOPE_OUT" "text: the crashing C extension comes first"
ok grep -qE '^ +2\. ftfix-deadlock +D deadlock +\(score: 55\)  severity:deadlock; 2 deadlocks$' \
	"$FTSCOPE_OUT" "text: then the deadlock (45 + 2 x 5)"
ok test "$(grep -c 'ftfix-ok' "$FTSCOPE_OUT")" = 1 "text: a compatible package is not triaged"

# ---- HTML to a file
HTML=$TEST_TMP/report.html
run_ftscope report "$RUN_DIR" --format html -o "$HTML"
is "$FTSCOPE_RC" 0 "report --format html -o exits 0"
is "$(wc -c <"$FTSCOPE_OUT" | tr -d ' ')" 0 "nothing on stdout with -o"
ok test -s "$HTML" "the HTML file is written"
is "$(find "$TEST_TMP" -maxdepth 1 -name 'report.html.tmp*' | wc -l | tr -d ' ')" 0 \
	"no temporary file left behind"
ok grep -q '^<!DOCTYPE html>' "$HTML" "a complete HTML document"
ok test "$(grep -c '<script' "$HTML")" = 0 "no script"
ok test "$(grep -oE '(src|href)="(https?:)?//' "$HTML" | wc -l)" = 0 "nothing fetched"
is "$(grep -o '<svg ' "$HTML" | wc -l | tr -d ' ')" 3 "three inline SVG charts"
ok grep -qF "$SIG_ID" "$HTML" "the crash signature id"
ok grep -qF "thread $T1 → thread $T2 → thread $T1" "$HTML" "the cycle's TIDs, in the markdown's words"
ok grep -qF "&lt;locals&gt;" "$HTML" "frames are escaped"

# ---- a run still going: the report says so
PART=$TEST_TMP/partial/ft_20990101_000000
mkdir -p "$PART"
jq '.status = "running" | del(.finished_at)' "$RUN_DIR/ft_meta.json" >"$PART/ft_meta.json"
head -n 2 "$RUN_DIR/ft_results.jsonl" >"$PART/ft_results.jsonl"
run_ftscope report "$PART"
is "$FTSCOPE_RC" 0 "report of a running run exits 0"
ok grep -qE '^> \*\*Partial results\.\*\* This run had not finished .* 2 packages .*\(of 3\)' \
	"$FTSCOPE_OUT" "markdown: partial, 2 of 3 packages"
ok grep -qE '^- \*\*Packages tested:\*\* 2 of 3$' "$FTSCOPE_OUT" "header: 2 of 3 packages"
run_ftscope report "$PART" --format html
ok grep -qF 'not finished, partial results' "$FTSCOPE_OUT" "html: partial, as the markdown says it"

# ---- HTML in a browser
CHROMIUM=/usr/bin/chromium
if [ ! -x "$CHROMIUM" ]; then
	skip "Chromium renders the report" "no $CHROMIUM (Debian package chromium)"
	skip "its DOM has the sections and charts" "no $CHROMIUM"
	skip "its screenshot is not blank" "no $CHROMIUM"
	done_testing
fi
chromium_run() {
	local profile
	profile=$(mktemp -d "$TEST_TMP/chromium.XXXXXX")
	timeout -k 5 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$profile" "$@" 2>>"$TEST_TMP/chromium.err"
}
chromium_run --dump-dom "file://$HTML" >"$TEST_TMP/dom.html"
ok test -s "$TEST_TMP/dom.html" "Chromium renders the report"
DOM=$(cat "$TEST_TMP/dom.html")
for id in summary crashes deadlocks gil pep779 clusters packages; do
	like "$DOM" "<section id=\"$id\">" "DOM: section #$id"
done
is "$(grep -o '<svg ' "$TEST_TMP/dom.html" | wc -l | tr -d ' ')" 3 "DOM: three svg charts"
like "$DOM" '<rect [^>]*fill="#a40e26"' "DOM: the category chart draws the crash bar"
like "$DOM" 'limit 1\.15' "DOM: the PEP 779 chart has the time limit line"
like "$DOM" 'limit 1\.20' "DOM: and the memory limit line"
like "$DOM" "$SIG_ID" "DOM: the signature id"
like "$DOM" "<tr class=\"incycle\"><td>$T1 " "DOM: the cycle's threads highlighted"
PNG=$TEST_TMP/report.png
chromium_run --screenshot="$PNG" --window-size=1280,2000 "file://$HTML" >/dev/null
ok test -s "$PNG" "Chromium takes a screenshot"
is "$(head -c 8 "$PNG" | od -An -tx1 | tr -d ' \n')" 89504e470d0a1a0a "it is a PNG"
# a blank 1280x2000 page compresses to a few kB; the report is well over 100 kB
size=$(wc -c <"$PNG" | tr -d ' ')
ok test "$size" -gt 60000 "the screenshot is not blank ($size bytes)"
[ "${FTSCOPE_KEEP:-0}" = 1 ] && diag "screenshot: $PNG"
done_testing
