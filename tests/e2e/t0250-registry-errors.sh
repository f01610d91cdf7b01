#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The ftscope authors
#
# Bad registries give one clear error (file, line, what is wrong) and run nothing.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_ftscope
need_ft_python

mkdir -p reg/packages
printf 'last_updated: x\npackages:\n  - name: good\n    enriched: true\n  - name: [unclosed\n' >reg/index.yaml
run_ftscope run --target-python "$FT_PYTHON" --registry-dir reg $(ftscope_run_dirs)
is "$FTSCOPE_RC" 1 "malformed index.yaml: exit 1"
like "$(ftscope_err)" "index.yaml.*line [0-9]+" "the error names the file and the line"
ok test ! -e "$TEST_TMP/results/ft_"* "no run directory was made"

printf 'packages:\n  - name: good\n    enriched: true\n' >reg/index.yaml
printf 'package: good\nrepo: /nonexistent\ntimeout: soon\n' >reg/packages/good.yaml
run_ftscope run --target-python "$FT_PYTHON" --registry-dir reg $(ftscope_run_dirs)
is "$FTSCOPE_RC" 1 "a wrongly typed field: exit 1"
like "$(ftscope_err)" "good.yaml.*timeout" "the error names the file and the field"

printf 'package: good\nrepo: /nonexistent\ntimeout: 60\n' >reg/packages/good.yaml
run_ftscope run --target-python "$FT_PYTHON" --registry-dir reg --packages nosuch $(ftscope_run_dirs)
is "$FTSCOPE_RC" 1 "an unknown --packages name: exit 1"
like "$(ftscope_err)" "nosuch" "the error names it"

run_ftscope run --target-python "$FT_PYTHON" --registry-dir "$TEST_TMP/absent" $(ftscope_run_dirs)
is "$FTSCOPE_RC" 1 "a missing registry: exit 1"
like "$(ftscope_err)" "does not exist" "says it does not exist"
done_testing
