#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# A report the test controls cannot blow the supervisor up (issue 11, critical 3): a daemon of
# ftfix-hostile-laughs's test replaces junit.xml with a billion-laughs document once pytest
# has exited. The report is refused (it has a DTD) with a warning, the counts come from
# pytest's summary, the run ends in seconds and nothing of it grows past 1 GiB.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_root
need_ft_python

P=ftfix-hostile-laughs
FTFIX_TEST_COMMAND="python -m pytest -s tests" fixture_registry hostile-laughs
mapfile -t dirs < <(ftscope_run_dirs)
start=$(date +%s)
run_ftscope_rss run --target-python "$FT_PYTHON" --registry-dir "$REGISTRY" --packages $P \
	"${dirs[@]}" --iterations 2 --timeout 30 --no-detect-extensions
took=$(($(date +%s) - start))
RUN_DIR=$(run_dir)
is "$FTSCOPE_RC" 0 "run exits 0"
is "$(jqpkg $P .category)" compatible "both iterations pass"
ok grep -q "hostile-laughs: planted" "$RUN_DIR/artifacts/$P/1/stderr" \
	"the daemon planted the billion laughs after pytest"
ok grep -q "junit.xml is not a JUnit XML report (or has a DTD" "$FTSCOPE_ERR" \
	"the report is refused with a warning"
jqpkg_true $P '.iterations | all(.tests_passed == 1)' "the counts come from pytest's summary"
ok test "$took" -lt 90 "the run took $took s"
ok test "$FTSCOPE_MAXRSS_KB" -lt 1048576 \
	"peak RSS of ftscope and its children: $FTSCOPE_MAXRSS_KB KiB"
done_testing
