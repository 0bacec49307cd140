#!/bin/bash
# Runs inside the rig (make bench): sets up the benchmark peers, runs every
# benchmark BENCH_RUNS times, then the report and the chart.
#   scripts/bench.sh OUTDIR bench-binary...
#
# Peers (lwss-bench-peer, tests/bench/bench_peer.c), same code on both paths:
#   - in the rig namespace on 192.0.2.1: reached by lwIP over the TAP;
#   - in a nested namespace this script creates, at the far end of a veth
#     pair 192.0.2.65 (rig side) <-> 192.0.2.66 (nested side), /32 peer
#     routes: reached by Linux kernel TCP.  Nothing leaves the rig's
#     namespace; the pair and the nested namespace are removed on exit.
# Exported to the benchmarks: LWSS_BENCH_TAP_PEER, LWSS_BENCH_VETH_PEER,
# LWSS_BENCH_PORT (plain; +1 AES-128-GCM, +2 AES-256-GCM, +3 ChaCha20-Poly1305).
# BENCH_EXTRA_JSONL: a file of rows measured before (the fleet), added to the report.
set -u
out=$1; shift
runs=${BENCH_RUNS:-5}
build=${LWSS_BUILD:-build}
per_bench_timeout=${BENCH_TIMEOUT:-180}
mkdir -p "$out"
raw="$out/raw.jsonl"
: > "$raw"
[ $# -gt 0 ] || { echo "bench: no benchmarks are built" >&2; exit 1; }
[ "${LWSS_RIG:-}" = 1 ] || { echo "bench: run inside scripts/rig.sh (make bench)" >&2; exit 1; }

VETH_RIG=192.0.2.65
VETH_PEER=192.0.2.66
PORT=9000
VETH=lwbv$$
VETH=${VETH:0:12}
run=${LWSS_RIG_RUNDIR:-$(mktemp -d)}
pids=()
holder=""

cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
    done
    ip link del "$VETH" 2>/dev/null
    [ -n "$holder" ] && { kill -KILL "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; }
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "bench: $*" >&2; exit 1; }

# start_peer LABEL ADDR [nsenter args...]: a peer, waited for (5 s bound).
start_peer() {
    local label=$1 addr=$2; shift 2
    rm -f "$run/peer-$label.ready"
    "$@" "$build/bench/lwss-bench-peer" --addr "$addr" --port $PORT \
        --cert "$build/certs/server.crt" --key "$build/certs/server.key" --ca "$build/certs/ca.crt" \
        --ready "$run/peer-$label.ready" >"$run/peer-$label.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do [ -e "$run/peer-$label.ready" ] && return 0; sleep 0.1; done
    cat "$run/peer-$label.log" >&2
    die "benchmark peer ($label, $addr) did not become ready"
}

[ -x "$build/bench/lwss-bench-peer" ] || die "$build/bench/lwss-bench-peer is not built"
[ -f "$build/certs/server.crt" ] || die "no certificates under $build/certs"

# The nested namespace lives as long as its holder process.
unshare -n sleep 1200 &   # bounded even if this script is killed hard
holder=$!
# Ready when the holder's network namespace is no longer ours (5 s bound).
own=$(readlink /proc/self/ns/net)
for _ in $(seq 50); do
    kill -0 "$holder" 2>/dev/null || break
    h=$(readlink "/proc/$holder/ns/net" 2>/dev/null) && [ -n "$h" ] && [ "$h" != "$own" ] && break
    sleep 0.1
done
[ -n "${h:-}" ] && [ "$h" != "$own" ] || die "cannot create the nested namespace (unshare -n)"
ns() { nsenter -t "$holder" -n "$@"; }
ip link add "$VETH" type veth peer name "${VETH}p" || die "cannot create the veth pair"
ip link set "${VETH}p" netns "$holder" || die "cannot move the veth end"
ip addr add $VETH_RIG peer $VETH_PEER dev "$VETH" && ip link set "$VETH" up || die "veth (rig side)"
ns ip link set lo up && ns ip addr add $VETH_PEER peer $VETH_RIG dev "${VETH}p" &&
    ns ip link set "${VETH}p" up || die "veth (nested side)"
start_peer tap "${LWSS_RIG_PEER:-192.0.2.1}"
start_peer veth $VETH_PEER nsenter -t "$holder" -n
export LWSS_BENCH_TAP_PEER=${LWSS_RIG_PEER:-192.0.2.1} LWSS_BENCH_VETH_PEER=$VETH_PEER
export LWSS_BENCH_PORT=$PORT

rc=0
for b in "$@"; do
    for r in $(seq "$runs"); do
        echo "bench: $(basename "$b") run $r/$runs" >&2
        timeout -k 5 "$per_bench_timeout" "$b" >>"$raw"
        st=$?
        if [ $st -ne 0 ]; then
            [ $st = 124 ] && why="timed out after ${per_bench_timeout}s" || why="exit status $st"
            echo "bench: $(basename "$b") FAILED (run $r: $why)" >&2
            rc=1
        fi
    done
done
# Rows measured outside this loop (the fleet, see tests/bench/module.mk).
if [ -n "${BENCH_EXTRA_JSONL:-}" ] && [ -s "$BENCH_EXTRA_JSONL" ]; then
    cat "$BENCH_EXTRA_JSONL" >> "$raw"
fi
"$out/lwss-bench-report" "$out" < "$raw" | tee "$out/report.txt" || exit 1
if command -v gnuplot >/dev/null && [ -s "$out/ratios.dat" ]; then
    scripts/bench-chart.sh "$out" || { echo "bench: gnuplot failed" >&2; rc=1; }
    echo "bench: chart in $out/chart.png, table in $out/results.md, data in $out/results.json"
else
    echo "bench: no chart (gnuplot missing or no ratios); table in $out/results.md" >&2
fi
[ $rc = 0 ] || echo "bench: some benchmark runs FAILED (see above); their lines are missing" >&2
exit $rc
