#!/bin/bash
# The stage `test-pipeline` of `make test`: a failure anywhere shows up.
#   scripts/test-pipeline.sh MAKE BUILD
# Runs a nested `make test` whose stages are five probes (tests/module.mk):
#   pipeline-probe-a       passes
#   pipeline-probe-b       fails (PIPELINE_PROBE_FAIL=b), reporting no test count
#   pipeline-probe-counts  reports "3 passed" as a test runner would
#   pipeline-probe-notrun  cannot run here
#   pipeline-probe-partial 2 tests pass, 1 cannot run here (e.g. needs root)
# and checks: make exits non-zero, every stage ran (also after the failure),
# the last line is exactly the expected count naming the failed and the
# not-run stage, the partial stage's line names its test not run; then the
# same probes without the forced failure pass.
set -u
MAKE_CMD=$1
BUILD=$2
t=$(mktemp -d "${TMPDIR:-/tmp}/lwss-pipeline.XXXXXX")
trap 'rm -rf "$t"' EXIT
probes="pipeline-probe-a pipeline-probe-b pipeline-probe-counts pipeline-probe-notrun pipeline-probe-partial"
bad=0

# nested FAIL-PROBE: run the probe stages into $t, output in $t/out
nested() {
    $MAKE_CMD --no-print-directory LWSS_DEPS_DONE=1 BUILD="$BUILD" test TEST_STAGES="$probes" \
        PIPELINE_PROBE_FAIL="$1" LWSS_TEST_SUMMARY="$t/summary" LWSS_STAGES="$t/stages" \
        > "$t/out" 2>&1
}
check() { # check WHAT COND...
    local what=$1; shift
    if "$@"; then echo "   ok: $what"; else echo "   FAILED: $what"; bad=1; fi
}

nested b
rc=$?
last=$(grep "^lwss:" "$t/out" | tail -1)
want="lwss: 6 passed, 1 failed, 2 not run (failed stages: pipeline-probe-b) (stages not run: pipeline-probe-notrun)"
check "make exits non-zero when a stage failed (exit status $rc)" [ "$rc" -ne 0 ]
check "the stages after the failed one ran" grep -q "^pipeline-probe-counts pass" "$t/stages"
check "last line counts and names it: '$last'" [ "$last" = "$want" ]
check "a stage that passed with a test not run names it" \
    grep -q "^ *pipeline-probe-partial *pass *(.*; 1 not run: probe test: needs root)$" "$t/out"

nested none
rc=$?
last=$(grep "^lwss:" "$t/out" | tail -1)
want="lwss: 7 passed, 0 failed, 2 not run (stages not run: pipeline-probe-notrun)"
check "without the forced failure make exits 0 (exit status $rc)" [ "$rc" -eq 0 ]
check "and the last line says so: '$last'" [ "$last" = "$want" ]
[ $bad = 0 ] || { echo "--- nested make output:"; cat "$t/out"; }
exit $bad
