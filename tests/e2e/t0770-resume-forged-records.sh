#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# --resume believes only root's own records (issue 11, high 4). ftfix-hostile-forge's suite
# always fails, and writes passing records for its iterations wherever it can. Then records
# a test user could have touched are forged as that user would: one owned by nobody, one in
# a directory anyone can write, one that is a symlink, and a package directory owned by
# nobody. Each time, --resume runs those iterations again (they fail), keeps the genuine one
# before them, and says why.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python
id nobody >/dev/null 2>&1 || skip_all "no user 'nobody'"

P=ftfix-hostile-forge
FTFIX_TEST_COMMAND="python -m pytest -s tests" fixture_registry hostile-forge
run_fixtures $P --iterations 3 --no-detect-extensions \
	--env "FTFIX_HOSTILE_RESULTS=$TEST_TMP/results"
is "$FTSCOPE_RC" 0 "run exits 0"
is "$(jqpkg $P .fail_count)" 3 "the suite failed 3 times"
# "[1-9]... in the run's artifacts": it did try to write the run's own records (none tried:
# the fixture found no run to attack, and "forged none" would prove nothing)
ok grep -q "hostile-forge: tried [1-9][0-9]* ([1-9][0-9]* in the run's artifacts), forged records for iterations \[\]" \
	"$RUN_DIR/artifacts/$P/1/stdout" "the test tried to forge the run's records and could forge none"
A=$RUN_DIR/artifacts/$P
first=$(sha256sum <"$A/1/iteration.json")

# forge VARIANT: make iteration 2's record a forged pass as VARIANT says, mark the package
# interrupted, resume.
forge() {
	local R
	R=$(results_file)
	jq '.status = "pass" | .exit_code = 0' "$A/2/iteration.json" >"$TEST_TMP/forged.json"
	case $1 in
	owner)
		cp "$TEST_TMP/forged.json" "$A/2/iteration.json"
		chown nobody "$A/2/iteration.json"
		;;
	dirmode) cp "$TEST_TMP/forged.json" "$A/2/iteration.json" && chmod 0777 "$A/2" ;;
	symlink) ln -sf "$TEST_TMP/forged.json" "$A/2/iteration.json" ;;
	pkgdir)
		for i in 1 2 3; do cp "$TEST_TMP/forged.json" "$A/$i/iteration.json"; done
		chown -R nobody "$A"
		;;
	esac
	jq -c 'if .package == "'$P'" then .interrupted = true else . end' "$R" >"$TEST_TMP/r.tmp"
	cat "$TEST_TMP/r.tmp" >"$R"
	run_ftscope run --resume "$RUN_DIR"
	is "$FTSCOPE_RC" 0 "$1: --resume exits 0"
	is "$(jqpkg $P .pass_count)" 0 "$1: the forged pass is not believed"
	is "$(jqpkg $P .fail_count)" 3 "$1: the iterations ran again and failed"
}
for v in owner dirmode symlink; do
	forge $v
	is "$(sha256sum <"$A/1/iteration.json")" "$first" "$v: iteration 1, root's own, was kept"
	ok grep -q "the record of iteration 2 is not root's alone" "$FTSCOPE_ERR" \
		"$v: a warning says why"
done
forge pkgdir
ok grep -q "artifacts/$P' was not root's alone; its records are not used" "$FTSCOPE_ERR" \
	"pkgdir: the whole package directory is replaced, with a warning"
is "$(stat -c %U "$A")" root "pkgdir: by root's own"
done_testing
