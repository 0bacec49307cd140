#!/bin/bash
# A fleet of simulated devices on one host.
#
#   scripts/fleet.sh [--devices N] [--seconds S] [--interval-ms M] [options]
#
# Starts N lwss-fleet-device processes at once, each with its own TAP, MAC,
# IP (192.0.2.2 + k) and NVM image holding its own client certificate (signed
# by the rig CA), all ports of one Linux bridge in one namespace made by
# scripts/rig.sh (--bridge) with the echo server (and mosquitto with --mqtt)
# on 192.0.2.1.  Every device opens one mutual-TLS connection when all are
# ready (so they all handshake at once) and exchanges a message every
# interval for S seconds.  Prints a summary, writes per-device logs, and
# removes everything it made (namespace, bridge, TAPs, processes, temp files)
# at the end, on failure, on timeout and on Ctrl-C.
#
# Options:
#   --devices N       devices (1..250; default 4)
#   --seconds S       exchange for S seconds after connecting (default 5)
#   --interval-ms M   one exchange per device every M ms (default 1000)
#   --size B          message size, bytes (16..960; default 64)
#   --mqtt            talk MQTT (QoS 0 publish, back on the subscription) to
#                     mosquitto instead of the echo server
#   --shared-cert     every device gets the build's client-ec identity instead
#                     of its own certificate (faster provisioning)
#   --build DIR       build directory (default build)
#   --out DIR         logs and summary (default DIR/fleet; emptied first)
#   --timeout S       bound on the whole run (default: derived from N and S)
#   --json FILE       also write the summary as bench JSON lines to FILE
#   --unshare         the rig's unprivileged mode even as root (rig.sh --unshare)
#   --port P          the devices connect to this port instead of the server's
#                     (a run where every device must fail: tests/fleet)
#
# Exit status 0 only when every device connected and every exchange came
# back, and teardown left nothing behind.
set -u
# A trap from the start: bash, waiting for a command that does not itself die
# of SIGINT, otherwise drops a Ctrl-C that arrives meanwhile.
trap 'exit 130' INT TERM HUP

N=4 SECONDS_RUN=5 INTERVAL=1000 SIZE=64 MQTT=0 SHARED=0 BUILD=build OUT="" TIMEOUT=0 JSON=""
INNER=0 WORK="" UNSHARE=0 PORT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --devices) N=$2; shift 2 ;;
        --seconds) SECONDS_RUN=$2; shift 2 ;;
        --interval-ms) INTERVAL=$2; shift 2 ;;
        --size) SIZE=$2; shift 2 ;;
        --mqtt) MQTT=1; shift ;;
        --shared-cert) SHARED=1; shift ;;
        --build) BUILD=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --json) JSON=$2; shift 2 ;;
        --unshare) UNSHARE=1; shift ;;
        --port) PORT=$2; shift 2 ;;
        --inner) INNER=1; WORK=$2; shift 2 ;;
        *) echo "fleet: unknown option $1 (see the head of $0)" >&2; exit 2 ;;
    esac
done
die() { echo "fleet: $*" >&2; exit 1; }
# alive PID: running (a zombie counts as gone: inside a trap bash may not
# reap its children until it waits for them, so kill -0 would see them).
alive() {
    local s
    { read -r s < "/proc/$1/stat"; } 2>/dev/null || return 1
    s=${s##*) }
    [ "${s:0:1}" != Z ]
}
num() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
num "$N" 1 250 || die "--devices must be 1..250 (192.0.2.2 .. 192.0.2.251)"
num "$SECONDS_RUN" 1 3600 || die "--seconds must be 1..3600"
num "$INTERVAL" 10 600000 || die "--interval-ms must be 10..600000"
num "$SIZE" 16 960 || die "--size must be 16..960"
num "$TIMEOUT" 0 100000 || die "--timeout must be a number of seconds"
[ -z "$PORT" ] || num "$PORT" 1 65535 || die "--port must be 1..65535"

DEV=$BUILD/bin/lwss-fleet-device
# Bounds: every device gets its start-up budget, the run and the connect
# bound (LWSS_FLEET_CONNECT_MS); the whole run that for all plus teardown.
START_BUDGET=$((20 + N / 4))
CONNECT_S=60
DEV_TIMEOUT=$((START_BUDGET + SECONDS_RUN + CONNECT_S + 15))
[ "$TIMEOUT" = 0 ] && TIMEOUT=$((DEV_TIMEOUT + 30 + N / 2))

# server_ticks PIDS: their user + system CPU, clock ticks, summed.
server_ticks() {
    local t=0 p
    for p in $1; do
        t=$((t + $(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0)))
    done
    echo "$t"
}

# ---- inner: inside the rig's namespace (scripts/rig.sh --bridge) ----------
# id, br and pids are global: the EXIT trap runs after inner() has returned.
inner() {
    pids=()
    id=$(cat "$WORK/id")
    br=${LWSS_RIG_BRIDGE:?run through scripts/rig.sh --bridge}
    echo "${LWSS_RIG_NS:-}" > "$WORK/ns"
    echo "$br" > "$WORK/br"
    echo "${LWSS_RIG_MODE:-}" > "$WORK/mode"
    tapname() { echo "lwf${id}d$1"; }
    cleanup_inner() {
        trap '' INT TERM   # a repeated signal must not cut the teardown short
        local p live
        for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
        for _ in {1..30}; do   # 3 s for all of them together
            live=0
            for p in "${pids[@]}"; do alive "$p" && live=1; done
            [ $live = 0 ] && break
            sleep 0.1
        done
        for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        for k in $(seq 0 $((N - 1))); do echo "link del $(tapname "$k")"; done > "$WORK/down.batch"
        ip -force -batch "$WORK/down.batch" 2>/dev/null
        ip -o link show | grep -c "lwf${id}d" > "$WORK/links-left"
        local nleft=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && nleft=$((nleft + 1)); done
        echo "$nleft" > "$WORK/procs-left"
    }
    trap cleanup_inner EXIT
    trap 'exit 130' INT TERM

    for k in $(seq 0 $((N - 1))); do
        echo "tuntap add dev $(tapname "$k") mode tap"
        echo "link set $(tapname "$k") master $br"
        echo "link set $(tapname "$k") up"
    done > "$WORK/up.batch"
    ip -batch "$WORK/up.batch" || die "cannot create the device TAPs"

    local args=(--seconds "$SECONDS_RUN" --interval-ms "$INTERVAL" --size "$SIZE"
                --go-file "$WORK/go" --go-timeout-ms $((START_BUDGET * 1000 + 5000)))
    [ "$MQTT" = 1 ] && args+=(--mqtt)
    [ -n "$PORT" ] && args+=(--port "$PORT")
    date +%s.%N > "$WORK/t_launch"
    for k in $(seq 0 $((N - 1))); do
        LWSS_TAP=$(tapname "$k") LWSS_IP=192.0.2.$((2 + k)) LWSS_NVM="$WORK/dev-$k.img" \
        LWSS_MAC=$(printf '02:1f:00:00:%02x:%02x' $((k / 256)) $((k % 256))) \
        LWSS_FLEET_CONNECT_MS=$((CONNECT_S * 1000)) \
            timeout --foreground -k 2 "$DEV_TIMEOUT" "$DEV" --id "$k" "${args[@]}" \
            --ready-file "$WORK/ready-$k" --result "$WORK/result-$k" >"$OUT/dev-$k.log" 2>&1 &
        pids+=($!)
    done
    # Everyone up (or gone) before the common start; bounded.
    local ready=0 gone
    for _ in $(seq $((START_BUDGET * 10))); do
        ready=$(find "$WORK" -maxdepth 1 -name 'ready-*' | wc -l)
        gone=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || gone=$((gone + 1)); done
        [ $((ready + gone)) -ge "$N" ] && break
        sleep 0.1
    done
    date +%s.%N > "$WORK/t0"
    echo "fleet: $ready of $N devices up in $(awk '{printf "%.1f", $1 - $2}' <<<"$(cat "$WORK/t0") $(cat "$WORK/t_launch")") s; all connect now"
    # The servers are the rig's other children: their CPU over the run.
    local servers
    servers=$(pgrep -P "$PPID" | grep -vx "$$" | tr '\n' ' ')
    server_ticks "$servers" > "$WORK/srv0"
    head -1 /proc/stat > "$WORK/stat0"
    : > "$WORK/go"
    for k in $(seq 0 $((N - 1))); do wait "${pids[$k]}"; echo $? > "$WORK/exit-$k"; done
    date +%s.%N > "$WORK/t1"
    head -1 /proc/stat > "$WORK/stat1"
    server_ticks "$servers" > "$WORK/srv1"
    return 0
}

if [ "$INNER" = 1 ]; then
    inner
    exit $?
fi

# ---- outer: provision, run the rig, summarise, check the teardown ---------
for f in "$DEV" "$BUILD/bin/lwss-provision" "$BUILD/bin/lwss-echo-server" "$BUILD/certs/ca.key"; do
    [ -e "$f" ] || die "$f is missing: run make (make test-build)"
done
[ -n "$OUT" ] || OUT=$BUILD/fleet
mkdir -p "$OUT" && rm -f "$OUT"/dev-*.log "$OUT"/summary.txt "$OUT"/results.txt
OUT=$(cd "$OUT" && pwd)
SELF=$(readlink -f "$0")
CERTS=$(cd "$BUILD/certs" && pwd)
jobs_max=$(nproc)
rig=(scripts/rig.sh --build "$BUILD" --echo --bridge)
[ "$MQTT" = 1 ] && rig+=(--mqtt)
[ "$UNSHARE" = 1 ] && rig+=(--unshare)
inner_args=(--inner WORK --devices "$N" --seconds "$SECONDS_RUN" --interval-ms "$INTERVAL" --size "$SIZE"
            --build "$BUILD" --out "$OUT")
[ "$MQTT" = 1 ] && inner_args+=(--mqtt)
[ -n "$PORT" ] && inner_args+=(--port "$PORT")
printf -v ID '%05x' $(( (RANDOM << 5 ^ RANDOM) & 0xfffff ))
# Signals (trapped since the start): from here on every step can be
# interrupted and cleanup removes whatever exists.  Bash (5.2) can lose a
# trapped signal that arrives while it expands a $(...) -- it fails to parse
# the trap's own action ("trap: line 2: unexpected EOF while looking for
# matching `)'") and carries on -- so the steps before the run (when Ctrl-C
# comes) use no command substitution, and the rig is stopped by a signal
# that is repeated until it is gone (stop_rig).
WORK="" RIG_PID="" SUMMARY_DONE=0
# teardown_check: what the rig run left (its namespace, our TAPs, processes
# whose command line names our run directory: killed); prints the names.
teardown_check() {
    local ns stray
    ns=$(cat "$WORK/ns" 2>/dev/null)
    left=""
    [ -n "$ns" ] || ns=$(cat "$WORK/rig-ns" 2>/dev/null)   # the rig's name for it
    [ -n "$ns" ] && ip netns list 2>/dev/null | grep -qw "$ns" && left+=" namespace $ns;"
    # The fleet's own counts (cleanup_inner).  The rig's teardown may kill the
    # inner script before it writes them (ip netns pids | kill); then the
    # namespace check above and the process check below say it: TAPs live
    # and die with their namespace, devices name $WORK on their command line.
    if [ -e "$WORK/up.batch" ] && [ -e "$WORK/links-left" ]; then
        [ "$(cat "$WORK/links-left")" = 0 ] || left+=" TAPs: $(cat "$WORK/links-left");"
    fi
    if [ -e "$WORK/up.batch" ] && [ -e "$WORK/procs-left" ]; then
        [ "$(cat "$WORK/procs-left")" = 0 ] || left+=" device processes: $(cat "$WORK/procs-left");"
    fi
    stray=$(pgrep -f -- "$WORK" || true)
    [ -z "$stray" ] || { left+=" processes $stray (killed);"; kill -KILL $stray 2>/dev/null; }
    echo "fleet: names: namespace ${ns:--} ($(cat "$WORK/mode" 2>/dev/null)), bridge $(cat "$WORK/br" 2>/dev/null || echo -), TAPs lwf${ID}d0..d$((N - 1)), run dir $WORK"
}
# stop_provisioning: the provisioning jobs and whatever they started.
stop_provisioning() {
    local j
    for j in $(jobs -rp); do [ "$j" = "$RIG_PID" ] || kill -TERM "$j" 2>/dev/null; done
    local p
    for _ in {1..50}; do   # their openssl / lwss-provision: named by $WORK/dev-K.*
        p=$(pgrep -f -- "$WORK/dev-") || break
        kill -TERM $p 2>/dev/null
        sleep 0.1
    done
}
# stop_rig: SIGTERM to the rig's process group (timeout made it; the
# devices are in it too), then again every 0.5 s to the scripts in it (rig.sh,
# this one; not to servers or devices busy exiting) until the rig is gone: a
# script can lose one (see above).  The rig's own teardown takes up to 3 s
# for the devices and 5 s for each server that will not stop; SIGKILL (here,
# or timeout's -k 30 s after the first signal) only if that hangs.
stop_rig() {
    local p
    kill -TERM "$RIG_PID" 2>/dev/null; kill -TERM -- "-$RIG_PID" 2>/dev/null
    for _ in {1..60}; do
        for _ in 1 2 3 4 5; do alive "$RIG_PID" || break 2; sleep 0.1; done
        p=$(pgrep -g "$RIG_PID" -x 'rig\.sh|fleet\.sh|bash')
        [ -z "$p" ] || kill -TERM $p 2>/dev/null
    done
    kill -KILL -- "-$RIG_PID" 2>/dev/null; kill -KILL "$RIG_PID" 2>/dev/null
    wait "$RIG_PID" 2>/dev/null
}
cleanup() {
    trap '' INT TERM HUP   # a second Ctrl-C must not cut the teardown short
    [ -n "$WORK" ] || return
    stop_provisioning
    if [ -n "$RIG_PID" ]; then
        echo "fleet: stopped before the end; tearing down" >&2
        stop_rig
    fi
    if [ "$SUMMARY_DONE" = 0 ]; then
        teardown_check
        echo "fleet: teardown:${left:- nothing left (namespace, bridge, TAPs, processes; the run dir goes at exit)}"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
until WORK=${TMPDIR:-/tmp}/lwss-fleet.$$.$RANDOM; mkdir -m 700 "$WORK" 2>/dev/null; do
    [ -d "${TMPDIR:-/tmp}" ] || { WORK=""; die "no directory ${TMPDIR:-/tmp}"; }
done
inner_args[1]=$WORK
echo "$ID" > "$WORK/id"

# provision K: the device's key and certificate (unless shared), its image.
provision() {
    local k=$1 crt=$CERTS/client-ec.crt key=$CERTS/client-ec.key
    if [ "$SHARED" = 0 ]; then
        crt=$WORK/dev-$k.crt key=$WORK/dev-$k.key
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$key" -CA "$CERTS/ca.crt" -CAkey "$CERTS/ca.key" -days 2 -sha256 \
            -subj "/O=lwss test/CN=lwss fleet device $k" -addext "basicConstraints=CA:FALSE" \
            -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=clientAuth" \
            -out "$crt" 2>"$WORK/prov-$k.err" || return 1
    fi
    LWSS_NVM_SYNC=0 "$BUILD/bin/lwss-provision" --image "$WORK/dev-$k.img" import --cert "$crt" \
        --key "$key" --root-ca "$CERTS/ca.crt" >/dev/null 2>>"$WORK/prov-$k.err" || return 1
    [ "$SHARED" = 1 ] || rm -f "$key"   # the key now lives in the token only
    : > "$WORK/prov-$k.ok"
}
t_prov=${EPOCHREALTIME/./}
running=0
for ((k = 0; k < N; k++)); do
    if [ $running -ge "$jobs_max" ]; then wait -n; running=$((running - 1)); fi
    provision "$k" &
    running=$((running + 1))
done
wait
bad=0
for ((k = 0; k < N; k++)); do
    [ -e "$WORK/prov-$k.ok" ] || { bad=1; cat "$WORK/prov-$k.err" >&2; }
done
[ $bad = 0 ] || die "provisioning failed"
t=$(( ${EPOCHREALTIME/./} - t_prov ))
printf -v prov_s '%d.%02d' $((t / 1000000)) $((t % 1000000 / 10000))
how="one certificate per device, signed by the rig CA"
[ $SHARED = 1 ] && how="shared client-ec identity"
echo "fleet: $N NVM images provisioned in ${prov_s} s ($how)"

# The whole-run bound: this loop stops the rig as Ctrl-C does (stop_rig);
# timeout's own bound, later, is the backstop should this script be killed.
LWSS_RIG_NAMES_FILE=$WORK/rig-ns timeout -k 30 $((TIMEOUT + 20)) "${rig[@]}" -- "$SELF" "${inner_args[@]}" &
RIG_PID=$!
deadline=$((SECONDS + TIMEOUT)) timed_out=0
while alive "$RIG_PID"; do
    if [ $SECONDS -ge $deadline ]; then timed_out=1; stop_rig; break; fi
    sleep 0.2
done
wait "$RIG_PID"
rig_rc=$?
RIG_PID=""
[ $timed_out = 1 ] && { rig_rc=124; echo "fleet: the run hit its ${TIMEOUT} s bound and was stopped" >&2; }

cat "$WORK"/result-* > "$OUT/results.txt" 2>/dev/null
# ---- summary ----------------------------------------------------------------
kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
connected=0 failed=0 ex=0 exfail=0 bytes=0
: > "$WORK/hs" ; : > "$WORK/rss"; : > "$WORK/pss"; : > "$WORK/cpu"
for k in $(seq 0 $((N - 1))); do
    line=$(cat "$WORK/result-$k" 2>/dev/null)
    if [ -z "$line" ]; then failed=$((failed + 1)); echo "fleet: device $k left no result (see $OUT/dev-$k.log)" >&2; continue; fi
    hs=$(kv hs_ms <<<"$line")
    if awk -v h="$hs" 'BEGIN{exit !(h > 0)}'; then connected=$((connected + 1)); echo "$hs" >> "$WORK/hs"; fi
    st=$(cat "$WORK/exit-$k" 2>/dev/null)
    if [ "$(kv ok <<<"$line")" != 1 ]; then
        failed=$((failed + 1)); echo "fleet: device $k failed: $(kv error <<<"$line") (see $OUT/dev-$k.log)" >&2
    elif [ "$st" != 0 ]; then   # e.g. a sanitizer's report at exit
        failed=$((failed + 1)); echo "fleet: device $k exited with status ${st:-unknown} (see $OUT/dev-$k.log)" >&2
    fi
    ex=$((ex + $(kv exchanges <<<"$line"))); exfail=$((exfail + $(kv failed <<<"$line")))
    bytes=$((bytes + $(kv bytes <<<"$line")))
    kv rss_kb <<<"$line" >> "$WORK/rss"; kv pss_kb <<<"$line" >> "$WORK/pss"
    echo "$(kv steady_cpu_ms <<<"$line") $(kv steady_ms <<<"$line")" >> "$WORK/cpu"
done
# dist FILE [FMT]: "min median p95 max" (nearest rank), or "- - - -" when empty.
dist() { sort -g "$1" | awk -v f="${2:-%.1f}" '{v[NR]=$1} END{if (NR == 0) {print "- - - -"; exit}
    p=int(NR*0.95+0.999); if (p > NR) p = NR; printf f " " f " " f " " f "\n", v[1], v[int((NR+1)/2)], v[p], v[NR]}'; }
read -r hmin hmed hp95 hmax < <(dist "$WORK/hs")
read -r _ rss_med _ rss_max < <(dist "$WORK/rss" %d)
read -r _ pss_med _ pss_max < <(dist "$WORK/pss" %d)
wall=$(awk '{print $1}' "$WORK/t1" 2>/dev/null) t0=$(cat "$WORK/t0" 2>/dev/null)
run_s=$(awk -v a="${t0:-0}" -v b="${wall:-0}" 'BEGIN{printf "%.1f", (b > a ? b - a : 0)}')
cpu_pct=$(awk '{c += $1; w += $2} END{printf "%.2f", (w > 0 ? 100 * c / w : 0)}' "$WORK/cpu")
srv_s=$(awk -v hz="$(getconf CLK_TCK)" 'NR == 1 {a = $1} NR == 2 {printf "%.2f", ($1 - a) / hz}' "$WORK/srv0" "$WORK/srv1" 2>/dev/null)
dev_s=$(awk '{t += $1} END{printf "%.2f", t / 1000}' "$WORK/cpu" 2>/dev/null)
all_cpu=$(for k in $(seq 0 $((N - 1))); do kv cpu_ms 2>/dev/null < "$WORK/result-$k"; done | awk '{t += $1} END{printf "%.2f", t / 1000}')
host_busy=$( { cat "$WORK/stat0" "$WORK/stat1"; } 2>/dev/null | awk '{idle = $5 + $6; tot = 0; for (i = 2; i <= NF; i++) tot += $i;
    if (NR == 1) {i0 = idle; t0 = tot} else if (tot > t0) printf "%.0f", 100 * (1 - (idle - i0) / (tot - t0))}')
teardown_check
mode=$([ "$MQTT" = 1 ] && echo "MQTT QoS 0 via mosquitto" || echo "echo over TLS")
{
echo "fleet: $N devices, $SECONDS_RUN s, one ${SIZE}-byte exchange every $INTERVAL ms ($mode, mutual TLS), ran ${run_s} s"
echo "fleet: connected $connected/$N, failed $failed, exchanges $ex ($exfail failed), bytes $bytes"
echo "fleet: handshake ms (TCP + TLS, all at once): min $hmin median $hmed p95 $hp95 max $hmax"
echo "fleet: per device: CPU ${cpu_pct} % of a core while exchanging, RSS median ${rss_med} kB (max ${rss_max}), PSS median ${pss_med} kB (max ${pss_max})"
echo "fleet: CPU seconds over the run: devices ${all_cpu} in all (${dev_s} of it while exchanging), servers (echo/mosquitto) ${srv_s:-?}"
echo "fleet: host CPU busy ${host_busy:-?} % of $(nproc) cores from the start signal to the last device's exit (whole machine)"
echo "fleet: teardown:${left:- nothing left (namespace, bridge, TAPs, processes; the run dir goes at exit)}"
echo "fleet: per-device logs in $OUT/dev-K.log, result lines in $OUT/results.txt"
} | tee "$OUT/summary.txt"
SUMMARY_DONE=1
if [ -n "$JSON" ]; then
    b=fleet_${N}
    j() { printf '{"bench":"%s","metric":"%s","value":%s,"unit":"%s"}\n' "$b" "$1" "$2" "$3"; }
    { j connected "$connected" devices; j failed "$failed" devices
      j hs_min_ms "$hmin" ms; j hs_median_ms "$hmed" ms; j hs_p95_ms "$hp95" ms; j hs_max_ms "$hmax" ms
      j cpu_per_device_pct "$cpu_pct" "% core"; j rss_median_kb "$rss_med" kB; j pss_median_kb "$pss_med" kB
      j devices_cpu_s "${all_cpu:-0}" s; j servers_cpu_s "${srv_s:-0}" s
      j host_busy_pct "${host_busy:-0}" "%"; } | sed 's/"value":-,/"value":0,/' > "$JSON"
fi
[ $rig_rc = 0 ] && [ "$connected" = "$N" ] && [ "$failed" = 0 ] && [ "$exfail" = 0 ] && [ "$ex" -gt 0 ] && [ -z "$left" ]
