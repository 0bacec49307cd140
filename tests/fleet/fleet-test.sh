#!/bin/bash
# `make test-fleet`: a small fleet (scripts/fleet.sh) must connect and
# exchange on every device, and every way it ends must leave nothing behind.
#   tests/fleet/fleet-test.sh BUILD
# Checks (one count each, appended to LWSS_TEST_SUMMARY as "passed failed"):
#   1. 4 devices, 5 s: exit 0, "connected 4/4, failed 0", every device
#      exchanged at least once and none failed (per-device result lines);
#   2. after it: its namespace is not in `ip netns list`, none of its TAPs or
#      its bridge exists on the host, no process mentions its run directory,
#      the run directory is gone (TMPDIR of the run is empty);
#   3. Ctrl-C (SIGINT to the process group) once the devices connect: the run
#      ends within its bound, non-zero, and leaves nothing (as in 2);
#   3b. the same for a Ctrl-C as soon as provisioning is done (the rig and the
#      devices starting: a signal then once went unhandled and the run lived on);
#   4. the whole-run bound (--timeout) stops a run that would last too long:
#      non-zero, within the bound, nothing left;
#   5. devices that cannot connect (--port 9: nothing listens) are counted and
#      named as failed, the run exits non-zero, nothing left.
# Time bounds scale with LWSS_TEST_SLOW (loaded or sanitizer builds).
set -u
BUILD=${1:-build}
SLOW=${LWSS_TEST_SLOW:-1}
SUMMARY=${LWSS_TEST_SUMMARY:-/dev/null}
T=$(mktemp -d "${TMPDIR:-/tmp}/lwss-fleet-test.XXXXXX")
pgid=""
trap '[ -n "$pgid" ] && kill -KILL -- "-$pgid" 2>/dev/null; rm -rf "$T"' EXIT
passed=0 failed=0
check() { # NAME, then a command that must succeed
    local name=$1; shift
    if "$@"; then echo "fleet test: $name: passed"; passed=$((passed + 1));
    else echo "fleet test: $name: FAILED"; failed=$((failed + 1)); fi
}
# field OUT KEY: a value from the summary's "names:" line
names() { sed -n 's/^fleet: names: //p' "$1"; }
nothing_left() { # OUTFILE TMPDIR
    local out=$1 tmp=$2 line ns br tap ok=0
    line=$(names "$out")
    ns=$(sed -n 's/^namespace \([^ ]*\) .*/\1/p' <<<"$line")
    br=$(sed -n 's/.*bridge \([^ ,]*\),.*/\1/p' <<<"$line")
    tap=$(sed -n 's/.*TAPs \(lwf[0-9a-f]*d\)0\.\..*/\1/p' <<<"$line")
    [ -n "$ns" ] && [ -n "$br" ] && [ -n "$tap" ] || { echo "no names in the summary: $line"; return 1; }
    # "-": stopped before the rig made it (an early Ctrl-C)
    if [ "$ns" != - ] && ip netns list 2>/dev/null | grep -qw -- "$ns"; then echo "namespace $ns is left"; ok=1; fi
    if ip -o link show 2>/dev/null | grep -q -e "$tap" -e "${br/#-/$tap}"; then echo "links left on the host"; ok=1; fi
    if pgrep -f -- "$tmp/" >/dev/null; then echo "processes left: $(pgrep -af -- "$tmp/")"; ok=1; fi
    if [ -n "$(ls -A "$tmp")" ]; then echo "left in TMPDIR: $(ls -A "$tmp")"; ok=1; fi
    grep -q "^fleet: teardown: nothing left" "$out" || { echo "the fleet's own teardown check: $(grep teardown: "$out")"; ok=1; }
    return $ok
}
# wait_line FILE PATTERN TENTHS: bounded wait for a line in FILE
wait_line() { for _ in $(seq "$3"); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# 1 + 2: a small fleet, all the way through.
mkdir -p "$T/run1"
TMPDIR=$T/run1 timeout -k 5 $((60 * SLOW)) scripts/fleet.sh --build "$BUILD" --out "$T/out1" \
    --devices 4 --seconds 5 --interval-ms 1000 > "$T/run1.out" 2>&1
rc=$?
cat "$T/run1.out"
all_exchanged() {
    [ $rc = 0 ] && grep -q "^fleet: connected 4/4, failed 0, exchanges [0-9]* (0 failed)" "$T/run1.out" &&
    [ "$(grep -c 'ok=1 ' "$T/out1/results.txt")" = 4 ] &&
    ! grep -q -e 'exchanges=0 ' -e 'failed=[1-9]' "$T/out1/results.txt"
}
check "4 devices connected and exchanged" all_exchanged
check "teardown after a full run leaves nothing" nothing_left "$T/run1.out" "$T/run1"

# 3: Ctrl-C while the devices are connected (3b: once provisioned).
# Job control on: the job gets its own process group (as a terminal's
# foreground job) and SIGINT is not ignored in it, as it would be in a plain
# background job of a script.
# interrupted RUN PATTERN: start a long fleet, SIGINT its process group when
# its output shows PATTERN; it must end within the bound, non-zero, clean.
interrupted() {
    local run=$1 pattern=$2 pid st
    mkdir -p "$T/$run"
    set -m
    # env --default-signal: a terminal's Ctrl-C meets SIGINT at its default;
    # when make test itself was started in the background (nohup, `cmd &`)
    # SIGINT arrives ignored, and bash cannot trap a signal ignored on entry.
    TMPDIR=$T/$run env --default-signal=INT scripts/fleet.sh --build "$BUILD" --out "$T/out-$run" --devices 2 --seconds 120 \
        > "$T/$run.out" 2>&1 &
    pid=$!
    pgid=$pid
    set +m
    wait_line "$T/$run.out" "$pattern" $((300 * SLOW)) || { echo "the fleet did not start"; cat "$T/$run.out"; return 1; }
    kill -INT -- "-$pgid"
    for _ in $(seq $((200 * SLOW))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { echo "still running after SIGINT"; cat "$T/$run.out"; return 1; }
    wait "$pid"; st=$?; pgid=""
    cat "$T/$run.out"
    [ $st != 0 ] || { echo "exit status 0 after SIGINT"; return 1; }
    nothing_left "$T/$run.out" "$T/$run"
}
check "Ctrl-C tears everything down" interrupted run2 "all connect now"
check "Ctrl-C as the rig starts tears everything down" interrupted run2b "images provisioned"

# 4: the whole-run bound.
mkdir -p "$T/run3"
start=$(date +%s)
TMPDIR=$T/run3 timeout -k 5 $((90 * SLOW)) scripts/fleet.sh --build "$BUILD" --out "$T/out3" \
    --devices 2 --seconds 600 --timeout $((8 * SLOW)) > "$T/run3.out" 2>&1
rc3=$?
cat "$T/run3.out"
bounded() {
    local took=$(( $(date +%s) - start ))
    [ $rc3 != 0 ] && [ $rc3 != 124 ] || { echo "exit status $rc3"; return 1; }
    [ $took -le $((8 * SLOW + 30)) ] || { echo "took $took s"; return 1; }
    grep -q "hit its" "$T/run3.out" && nothing_left "$T/run3.out" "$T/run3"
}
check "the whole-run bound stops the fleet, nothing left" bounded

# 5: a run whose devices all fail.
mkdir -p "$T/run4"
TMPDIR=$T/run4 timeout -k 5 $((60 * SLOW)) scripts/fleet.sh --build "$BUILD" --out "$T/out4" \
    --devices 2 --seconds 2 --port 9 > "$T/run4.out" 2>&1
rc4=$?
cat "$T/run4.out"
failures_counted() {
    [ $rc4 != 0 ] && [ $rc4 != 124 ] || { echo "exit status $rc4"; return 1; }
    grep -q "^fleet: connected 0/2, failed 2," "$T/run4.out" &&
    grep -q "^fleet: device 0 failed: connect" "$T/run4.out" &&
    grep -q "^fleet: device 1 failed: connect" "$T/run4.out" && nothing_left "$T/run4.out" "$T/run4"
}
check "devices that cannot connect fail the run, nothing left" failures_counted

echo "$passed passed, $failed failed"
echo "$passed $failed" >> "$SUMMARY"
[ $failed = 0 ]
