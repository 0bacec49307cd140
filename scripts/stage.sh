#!/bin/bash
# One stage of `make test`, and the summary at its end.
#
#   scripts/stage.sh --begin             empty the summary files
#   scripts/stage.sh NAME command...     run one stage, record its result
#   scripts/stage.sh --not-run REASON    (inside a stage) this stage cannot run here
#   scripts/stage.sh --summary           per-stage results and the final line;
#                                        exit 1 if anything failed
#
# A stage never fails itself (exit 0), so the stage after a failed one still
# runs; the summary carries the verdict.  Files (exported by the Makefile):
#   LWSS_TEST_SUMMARY  "passed failed [not-run]" lines: every test runner of a
#                      stage adds one.  A stage whose command fails without a
#                      failure counted (a crash, a timeout, a build error) adds
#                      "0 1"; a stage that adds no line counts as one test.
#   LWSS_STAGES        "NAME pass|fail|notrun [reason]", one line per stage.
# A stage that cannot run in this build or on this machine calls --not-run
# and exits 0: it is counted as not run, never as passed.  Single tests that
# cannot run here (lwss_test_not_run: e.g. one that needs root) leave their
# reason in LWSS_STAGE_NOTRUN_TESTS; the stage line names them, so a stage
# that passed with tests not run says which and why.
set -u

SUMMARY=${LWSS_TEST_SUMMARY:?LWSS_TEST_SUMMARY is not set}
STAGES=${LWSS_STAGES:?LWSS_STAGES is not set}

# sum_from LINE: "passed failed notrun" over the summary lines after LINE
sum_from() {
    awk -v from="$1" 'NR > from {p += $1; f += $2; n += $3} END {printf "%d %d %d\n", p, f, n}' \
        "$SUMMARY"
}

case "${1:-}" in
--begin)
    mkdir -p "$(dirname "$SUMMARY")" "$(dirname "$STAGES")"
    : > "$SUMMARY"
    : > "$STAGES"
    exit 0 ;;
--not-run)
    shift
    echo "== not run: $*"
    [ -n "${LWSS_STAGE_NOTRUN:-}" ] && echo "$*" >> "$LWSS_STAGE_NOTRUN"
    exit 0 ;;
--summary)
    echo "== summary of make test"
    awk '{ printf "   %-24s %s", $1, $2; $1 = $2 = ""; sub(/^ +/, ""); print ($0 == "" ? "" : "  (" $0 ")") }' \
        "$STAGES"
    read -r p f n < <(sum_from 0)
    failed=$(awk '$2 == "fail" {printf "%s%s", s, $1; s = " "}' "$STAGES")
    notrun=$(awk '$2 == "notrun" {printf "%s%s", s, $1; s = " "}' "$STAGES")
    line="lwss: $p passed, $f failed"
    [ "$n" -gt 0 ] && line+=", $n not run"
    [ -n "$failed" ] && line+=" (failed stages: $failed)"
    [ -n "$notrun" ] && line+=" (stages not run: $notrun)"
    echo "$line"
    [ "$f" -eq 0 ] && [ -z "$failed" ]
    exit $? ;;
""|-*)
    echo "usage: stage.sh --begin | --summary | --not-run REASON | NAME command..." >&2
    exit 2 ;;
esac

name=$1
shift
touch "$SUMMARY" "$STAGES"
before=$(wc -l < "$SUMMARY")
note=$(mktemp "${TMPDIR:-/tmp}/lwss-stage.XXXXXX")
tests_note=$(mktemp "${TMPDIR:-/tmp}/lwss-stage.XXXXXX")
trap 'rm -f "$note" "$tests_note"' EXIT
start=$(date +%s)
LWSS_STAGE_NOTRUN=$note LWSS_STAGE_NOTRUN_TESTS=$tests_note "$@"
rc=$?
took=$(( $(date +%s) - start ))
read -r p f n < <(sum_from "$before")
# "; N not run: reason; reason" for the tests of this stage that did not run
skipped=""
if [ "$n" -gt 0 ] && [ -s "$tests_note" ]; then
    skipped="; $n not run: $(sort -u "$tests_note" | paste -sd ';' | sed 's/;/; /g')"
fi
if [ "$rc" = 0 ] && [ "$p$f" = 00 ] && { [ -s "$note" ] || [ "$n" -gt 0 ]; }; then
    [ "$n" -gt 0 ] || echo "0 0 1" >> "$SUMMARY"
    echo "$name notrun $(cat "$note" "$tests_note" | head -1)" >> "$STAGES"
    exit 0
fi
if [ "$rc" != 0 ]; then
    [ "$f" -eq 0 ] && echo "0 1" >> "$SUMMARY"
    echo "$name fail exit status $rc after ${took} s" >> "$STAGES"
    echo "== stage $name FAILED (exit status $rc after ${took} s); the next stages still run" >&2
elif [ "$f" -gt 0 ]; then
    echo "$name fail $f failed tests, exit status 0" >> "$STAGES"
elif [ "$p$n" = 00 ]; then
    echo "1 0" >> "$SUMMARY"
    echo "$name pass ${took} s" >> "$STAGES"
else
    echo "$name pass ${took} s$skipped" >> "$STAGES"
fi
exit 0
