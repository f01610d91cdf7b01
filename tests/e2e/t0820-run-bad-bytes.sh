#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# ftfix-badbytes: tests print invalid UTF-8, NUL bytes, escape sequences and bidi overrides
# to stdout and stderr, name a test with them, print a GIL warning naming such a module,
# and a child with such a thread name crashes. Every JSON file ftscope writes must be
# strict UTF-8 that Python's json and jq read (invalid bytes as U+FFFD, NUL as \u0000 with
# the text after it kept), and show / report / run print none of those characters raw.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python


P=ftfix-badbytes
# unittest -v prints test ids raw (no junit report); the last line of output has a NUL
FTFIX_TEST_COMMAND='python -m unittest -v tests.test_bytes; s=$?; printf "last: \377\376 \000 after-nul \342\200\256 bidi\n"; exit $s' \
	fixture_registry $P
run_fixtures $P --iterations 1 --timeout 120
is "$FTSCOPE_RC" 0 "ftscope run exits 0"
run_out=$(ftscope_out)

# strict: bytes decoded as UTF-8 with errors, every line of a .jsonl a JSON value
strict_json() {
	"$FT_PYTHON" - "$@" <<-'PY'
	import json, sys
	bad = 0
	for path in sys.argv[1:]:
	    try:
	        text = open(path, "rb").read().decode("utf-8")
	        if path.endswith(".jsonl"):
	            for line in text.splitlines():
	                json.loads(line)
	        else:
	            json.loads(text)
	    except Exception as e:
	        print("# %s: %s" % (path, e))
	        bad += 1
	sys.exit(1 if bad else 0)
	PY
}
mapfile -t files < <(find "$RUN_DIR" -name '*.json' -o -name '*.jsonl')
ok test "${#files[@]}" -ge 5 "the run wrote ${#files[@]} JSON files"
ok strict_json "${files[@]}" "Python's json reads every one of them strictly"
bad=0
for f in "${files[@]}"; do
	jq -e . "$f" >/dev/null 2>&1 || { diag "jq cannot read $f"; bad=1; }
done
is $bad 0 "jq reads every one of them"

py_get() { # py_get EXPR: EXPR on the package's results line (it), printed with repr()
	"$FT_PYTHON" -c "import json,sys
it = json.loads(open(sys.argv[1], 'rb').read().decode().splitlines()[-1])
print(repr(eval(sys.argv[2])))" "$(results_file)" "$1"
}
like "$(py_get "it['iterations'][0]['last_output_line']")" \
	"last: \\\\ufffd\\\\ufffd \\\\x00 after-nul \\\\u202e bidi|last: .. \\\\x00 after-nul" \
	"last_output_line: invalid bytes as U+FFFD, the NUL kept and the text after it"
like "$(py_get "it['iterations'][0]['stdout_tail']")" "surrogate \\\\x00 after-nul" \
	"stdout_tail keeps what follows a NUL"
like "$(py_get "it['iterations'][0]['stderr_tail']")" "red \\\\x07 bell \\\\x00 after-nul" \
	"stderr_tail keeps what follows a NUL"
like "$(py_get "[c['comm'] for c in it['iterations'][0].get('crashes', [])]")" "bad" \
	"the crashed child's thread name is recorded"
like "$(py_get "it['gil_fallback_modules']")" "evil" "the hostile module name is recorded"

run_ftscope export "$RUN_DIR" --format json -o export.json
ok strict_json export.json "export --format json is strict JSON"

run_ftscope show "$RUN_DIR"
show=$(ftscope_out)
like "$show" 'GIL fallback: evil\\u202etxt\.exe' "show escapes the bidi override (\\u202e)"
raw='\x1b|\x07|\xe2\x80\xae|\xe2\x81[\xa6-\xa9]'
ok test "$(printf '%s' "$show" | LC_ALL=C grep -caP "$raw")" = 0 "show prints no raw escape, bell or bidi"
for fmt in text markdown; do
	run_ftscope report "$RUN_DIR" --format $fmt
	ok test "$(LC_ALL=C grep -caP "$raw" "$FTSCOPE_OUT")" = 0 "report --format $fmt: none raw either"
done
ok test "$(printf '%s' "$run_out" | LC_ALL=C grep -caP "$raw")" = 0 "run's own summary: none raw"

# Every other command, on a terminal (script(1) gives it one): escaped; into a pipe: raw
if command -v script >/dev/null; then
	for cmd in compat crashes; do
		script -qec "'$FTSCOPE' $cmd '$RUN_DIR'" /dev/null >tty.out 2>&1 </dev/null
		ok test "$(LC_ALL=C grep -caP "$raw" tty.out)" = 0 "$cmd on a terminal: nothing raw"
		ok grep -q 'u202e' tty.out "$cmd on a terminal: the bidi override shown as \\u202e"
	done
	"$FTSCOPE" compat "$RUN_DIR" >pipe.out 2>&1
	ok test "$(LC_ALL=C grep -caP "$raw" pipe.out)" -gt 0 "compat into a pipe: the data as it is"
else
	skip "commands on a terminal" "no script(1)"
fi

done_testing
