#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# A registry written by someone else, read by root: a 60 MB field is refused (naming the
# package and the field, never copied into results), a registry file that is a symlink or
# a hard link to a root-only file does not get its content printed, a FIFO index.yaml does
# not block, an oversized file is refused before it is read, and a name with a bidi
# override or a control character is refused, escaped in the message.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_ft_python
need_cmd mkfifo

reg_run() {
	run_ftscope run --target-python "$FT_PYTHON" --registry-dir reg $(ftscope_run_dirs) "$@"
}
no_run_dir() { ok test ! -e "$TEST_TMP/results/ft_"* "$1: no run directory was made"; }
raw='\x1b|\x07|\xe2\x80\xae'

mkdir -p reg/packages
printf 'packages:\n  - name: good\n    enriched: true\n' >reg/index.yaml

# 1. a 60 MB test_command
"$FT_PYTHON" -c "
print('package: good\nrepo: /nonexistent\ntest_command: \"' + 'x' * (60 << 20) + '\"')" \
	>reg/packages/good.yaml
reg_run
is "$FTSCOPE_RC" 1 "60 MB test_command: exit 1"
like "$(ftscope_err)" "good.yaml.*package 'good'.*field 'test_command' is 62914560 bytes" \
	"the error names the package and the field"
ok test "$(wc -c <"$FTSCOPE_ERR")" -lt 2000 "and is short ($(wc -c <"$FTSCOPE_ERR") bytes)"
no_run_dir "60 MB field"

# 2. a symlink to a root-only file, then a hard link to it
printf 'SECRET-TOKEN-4242 root:$6$salt$hash\n' >secret
chmod 600 secret
ln -sf "$TEST_TMP/secret" reg/packages/good.yaml
reg_run
is "$FTSCOPE_RC" 1 "a symlinked package file: exit 1"
like "$(ftscope_err)" "good.yaml.*symbolic link" "says it is a symlink, not followed"
ok test "$(grep -c SECRET "$FTSCOPE_ERR")" = 0 "the secret is not printed"
rm -f reg/packages/good.yaml
ln secret reg/packages/good.yaml
reg_run
is "$FTSCOPE_RC" 1 "a hard-linked root-only package file: exit 1"
like "$(ftscope_err)" "good.yaml.*not quoted" "the error says it does not quote the file"
ok test "$(grep -c SECRET "$FTSCOPE_ERR")" = 0 "the secret is not printed"
printf 'package: good\nrepo: [unclosed SECRET-TOKEN-4242\n' >secret
reg_run
like "$(ftscope_err)" "good.yaml.*line [0-9]+" "a YAML error in it still names the line"
ok test "$(grep -c SECRET "$FTSCOPE_ERR")" = 0 "but not its text"
rm -f reg/packages/good.yaml

# 3. a FIFO index.yaml (nobody writes to it)
mv reg/index.yaml index.yaml.saved
mkfifo reg/index.yaml
start=$SECONDS
FTSCOPE_E2E_TIMEOUT=30 reg_run
is "$FTSCOPE_RC" 1 "a FIFO index.yaml: exit 1 (not a hang)"
ok test $((SECONDS - start)) -lt 20 "at once ($((SECONDS - start)) s)"
like "$(ftscope_err)" "index.yaml.*not a regular file" "says it is not a regular file"
rm -f reg/index.yaml

# 4. an index.yaml of 200 MB (sparse): refused before it is read
truncate -s 200M reg/index.yaml
reg_run
is "$FTSCOPE_RC" 1 "a 200 MB index.yaml: exit 1"
like "$(ftscope_err)" "index.yaml.*209715200 bytes, more than" "says how big it is"
rm -f reg/index.yaml

# 5. names with a bidi override and with an escape sequence
for name in 'evil\u202egnp.exe' 'red\u001b[31mname'; do
	printf 'packages:\n  - name: "%s"\n' "$name" >reg/index.yaml
	reg_run
	is "$FTSCOPE_RC" 1 "name \"$name\": exit 1"
	like "$(ftscope_err)" "invalid package name '(evil\\\\u202egnp|red\\\\x1b\\[31mname)" \
		"refused, the name escaped in the message"
	ok test "$(LC_ALL=C grep -caP "$raw" "$FTSCOPE_ERR")" = 0 "nothing raw on the terminal"
	no_run_dir "name \"$name\""
done
mv index.yaml.saved reg/index.yaml

done_testing
