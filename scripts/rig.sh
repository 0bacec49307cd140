#!/bin/bash
# lwss test rig: a private network namespace with a TAP device in it.
#
#   scripts/rig.sh [options] -- command [args...]
#
# Namespace side of the TAP: 192.0.2.1/24 (kernel); lwIP side: 192.0.2.2.
# The command runs inside the namespace with LWSS_* set so that
# lwss_port_up(NULL) finds the TAP.  Everything is removed on exit, on
# failure and on SIGINT/SIGTERM.  Names are unique per run.
#
# Options:
#   --build DIR   build directory holding bin/ (default: build)
#   --echo        start lwss-echo-server in the namespace (plain :7, TLS :8883
#                 when certificates exist under DIR/certs)
#   --dns         start dnsmasq in the namespace on 192.0.2.1:53
#   --mqtt        start mosquitto on 192.0.2.1: 1883 plain, 8883 TLS with the
#                 test PKI (DIR/certs) and require_certificate; with --echo the
#                 echo server's TLS port moves to 8884 (LWSS_ECHO_TLS_PORT)
#   --bridge      put the namespace side on a Linux bridge (name in
#                 LWSS_RIG_BRIDGE) with the TAP as one port, so that more TAPs
#                 can join it (scripts/fleet.sh); 192.0.2.1/24 is the bridge's
#   --pcap FILE   tcpdump the namespace side of the TAP into FILE
#   --unshare     use the unprivileged mode even as root (tests that mode)
#   --check       only check that a rig can be made here; print one line
#                 with the fix when it cannot
#
# As root it uses `ip netns`; otherwise an unprivileged user+network
# namespace (unshare -rn) when the kernel allows one and /dev/net/tun is
# usable by the user (Debian's default mode 0666).  There dnsmasq runs in
# debug mode (--no-daemon), which never changes user or groups: setgroups
# is denied in such a namespace.  LWSS_RIG_MODE tells the command which.
set -u
# Trapped from the start: bash, waiting for a command that does not itself
# die of SIGINT, otherwise drops a Ctrl-C that arrives meanwhile.
trap 'exit 130' INT TERM HUP
# dnsmasq and mosquitto live in /usr/sbin, which a normal user's PATH lacks
# on Debian: look there too (after the user's own PATH).
PATH=$PATH:/usr/sbin:/sbin

BUILD=build
WANT_ECHO=0
WANT_DNS=0
WANT_MQTT=0
WANT_BRIDGE=0
NS_PCAP=""
FORCE_UNSHARE=0
CHECK_ONLY=0
while [ $# -gt 0 ]; do
    case "$1" in
        --build) BUILD=$2; shift 2 ;;
        --echo) WANT_ECHO=1; shift ;;
        --dns) WANT_DNS=1; shift ;;
        --mqtt) WANT_MQTT=1; shift ;;
        --bridge) WANT_BRIDGE=1; shift ;;
        --pcap) NS_PCAP=$2; shift 2 ;;
        --unshare) FORCE_UNSHARE=1; shift ;;
        --check) CHECK_ONLY=1; shift ;;
        --) shift; break ;;
        *) echo "rig: unknown option $1" >&2; exit 2 ;;
    esac
done
[ $CHECK_ONLY = 1 ] && set -- true
[ $# -gt 0 ] || { echo "usage: rig.sh [options] -- command..." >&2; exit 2; }

PEER_IP=192.0.2.1
LWIP_IP=192.0.2.2
ID="$$$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')"
NS="lwss-$ID"
TAP="lwt$ID"
TAP=${TAP:0:15}
BRIDGE="lwb$ID"
BRIDGE=${BRIDGE:0:15}
# One run directory, made by the outer invocation (which removes it at exit)
# and handed to the inner one through the environment.
RUNDIR=""
if [ "${LWSS_RIG_INNER:-}" = 1 ] && [ -d "${LWSS_RIG_RUNDIR:-}" ]; then
    RUNDIR=$LWSS_RIG_RUNDIR
fi

die() { echo "rig: $*" >&2; exit 1; }
# alive PID: running (a zombie counts as gone: inside a trap bash may not
# reap its children until it waits for them, so kill -0 would see them).
alive() {
    local s
    { read -r s < "/proc/$1/stat"; } 2>/dev/null || return 1
    s=${s##*) }
    [ "${s:0:1}" != Z ]
}

# ---- inner mode: we are inside the namespace already ----------------------
# The servers the rig started, stopped by cleanup_inner when the command ends.
# Global, not local to inner(): the EXIT trap runs after inner() returned.  In
# the unprivileged mode nothing else stops them (`ip netns` mode also kills
# what is left in the namespace).  Also listed in $RUNDIR/servers.
SERVER_PIDS=()
started() {
    SERVER_PIDS+=("$1")
    echo "$1" >> "$RUNDIR/servers"
}
cleanup_inner() {
    trap '' INT TERM   # a repeated signal must not cut the teardown short
    local p
    for p in "${SERVER_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${SERVER_PIDS[@]}"; do # up to 5 s to exit (a zombie has exited)
        for _ in $(seq 50); do
            alive "$p" || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
    done
}
inner() {
    trap cleanup_inner EXIT
    trap 'exit 130' INT TERM

    ip link set lo up || die "cannot bring up lo"
    if [ ! -c /dev/net/tun ]; then
        die "no /dev/net/tun: the kernel has no TUN/TAP driver (modprobe tun)"
    fi
    if ! ip tuntap add dev "$TAP" mode tap 2>"$RUNDIR/tuntap.err"; then
        if [ ! -r /dev/net/tun ] || [ ! -w /dev/net/tun ]; then
            die "/dev/net/tun is not usable by this user ($(stat -c '%A %U' /dev/net/tun)): run as root (sudo make ...), or give the device Debian's default mode: sudo chmod 0666 /dev/net/tun"
        fi
        die "cannot create TAP $TAP: $(cat "$RUNDIR/tuntap.err")"
    fi
    local peer_if=$TAP
    if [ "$WANT_BRIDGE" = 1 ]; then
        ip link add "$BRIDGE" type bridge || die "cannot create bridge $BRIDGE"
        ip link set "$TAP" master "$BRIDGE" || die "cannot add $TAP to $BRIDGE"
        ip link set "$BRIDGE" up || die "cannot raise $BRIDGE"
        peer_if=$BRIDGE
        export LWSS_RIG_BRIDGE=$BRIDGE
    fi
    ip addr add "$PEER_IP/24" dev "$peer_if" || die "cannot address $peer_if"
    ip link set "$TAP" up || die "cannot raise $TAP"

    if [ -n "$NS_PCAP" ]; then
        command -v tcpdump >/dev/null || die "tcpdump is not installed"
        tcpdump -i "$TAP" -U -w "$NS_PCAP" >"$RUNDIR/tcpdump.log" 2>&1 &
        started $!
        wait_for 50 grep -q "listening on" "$RUNDIR/tcpdump.log" || die "tcpdump did not start"
    fi
    if [ "$WANT_DNS" = 1 ]; then
        command -v dnsmasq >/dev/null || die "dnsmasq is not installed"
        # dnsmasq started as (namespace) root changes its group and drops
        # supplementary groups unless in debug mode; an unprivileged user
        # namespace denies setgroups, so there it runs in debug mode.
        local fg=(--keep-in-foreground --user=root)
        [ "${LWSS_RIG_MODE:-}" = unshare ] && fg=(--no-daemon)
        cat > "$RUNDIR/hosts" <<HOSTS
$PEER_IP echo.lwss.test rig.lwss.test
$LWIP_IP device.lwss.test
HOSTS
        dnsmasq "${fg[@]}" --no-resolv --no-hosts --addn-hosts="$RUNDIR/hosts" \
            --listen-address="$PEER_IP" --bind-interfaces --port=53 \
            --local=/lwss.test/ --domain-needed --pid-file="$RUNDIR/dnsmasq.pid" \
            --log-facility="$RUNDIR/dnsmasq.log" >"$RUNDIR/dnsmasq.out" 2>&1 &
        started $!
        wait_for 100 sh -c "ss -Hlun 'sport = :53' | grep -q ." ||
            { cat "$RUNDIR/dnsmasq.out" >&2; die "dnsmasq did not come up"; }
        export LWSS_DNS=$PEER_IP
    fi
    local echo_tls_port=8883
    if [ "$WANT_MQTT" = 1 ]; then
        start_mqtt
        echo_tls_port=8884
    fi
    if [ "$WANT_ECHO" = 1 ]; then
        local srv="$BUILD/bin/lwss-echo-server"
        [ -x "$srv" ] || die "$srv is not built"
        local args=(--addr "$PEER_IP" --port 7 --ready-file "$RUNDIR/echo.ready"
                    --stats-file "$RUNDIR/echo.stats")
        if [ -f "$BUILD/certs/server.crt" ]; then
            args+=(--tls-port "$echo_tls_port" --cert "$BUILD/certs/server.crt" --key "$BUILD/certs/server.key"
                   --ca "$BUILD/certs/ca.crt")
            export LWSS_ECHO_TLS_PORT=$echo_tls_port
        fi
        "$srv" "${args[@]}" >"$RUNDIR/echo.log" 2>&1 &
        started $!
        wait_for 100 test -e "$RUNDIR/echo.ready" || { cat "$RUNDIR/echo.log" >&2; die "echo server did not become ready"; }
        export LWSS_ECHO_PORT=7
    fi

    export LWSS_RIG=1 LWSS_RIG_NS="$NS" LWSS_TAP="$TAP" LWSS_IP="$LWIP_IP"
    export LWSS_NETMASK=255.255.255.0 LWSS_GW="$PEER_IP" LWSS_RIG_PEER="$PEER_IP"
    "$@"
    return $?
}

# mosquitto (--mqtt): bound to the namespace's address only, never the host's.
start_mqtt() {
    command -v mosquitto >/dev/null || die "mosquitto is not installed (scripts/install-deps.sh)"
    [ -f "$BUILD/certs/server.crt" ] || die "--mqtt needs the test PKI in $BUILD/certs (make certs)"
    local certs
    certs=$(readlink -f "$BUILD/certs")
    cat > "$RUNDIR/mosquitto.conf" <<CONF
user root
persistence false
per_listener_settings true
log_dest file $RUNDIR/mosquitto.log
log_type all
listener 1883 $PEER_IP
allow_anonymous true
listener 8883 $PEER_IP
allow_anonymous true
cafile $certs/ca.crt
certfile $certs/server.crt
keyfile $certs/server.key
require_certificate true
use_identity_as_username true
tls_version tlsv1.2
CONF
    mosquitto -c "$RUNDIR/mosquitto.conf" >"$RUNDIR/mosquitto.out" 2>&1 &
    started $!
    wait_for 100 sh -c "ss -Hltn 'sport = :8883' | grep -q . && ss -Hltn 'sport = :1883' | grep -q ." ||
        { cat "$RUNDIR/mosquitto.out" "$RUNDIR/mosquitto.log" >&2; die "mosquitto did not come up"; }
    export LWSS_MQTT_HOST=$PEER_IP LWSS_MQTT_PORT=1883 LWSS_MQTT_TLS_PORT=8883
}

# wait_for TENTHS cmd...: retry cmd every 0.1 s, at most TENTHS times.
wait_for() {
    local n=$1 i; shift
    for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}

if [ "${LWSS_RIG_INNER:-}" = 1 ]; then
    [ -n "$RUNDIR" ] || die "no run directory (LWSS_RIG_RUNDIR)"
    NS=$LWSS_RIG_NAME_NS TAP=$LWSS_RIG_NAME_TAP BRIDGE=$LWSS_RIG_NAME_BRIDGE
    inner "$@"
    exit $?
fi

# ---- outer mode: make the namespace, re-enter this script inside it --------
# Bash (5.2) can lose a trapped signal that arrives while it expands a $(...)
# (it fails to parse the trap's action and carries on), so from the traps on
# the outer mode uses no command substitution; the cleanup ignores repeats.
SELF=$(readlink -f "$0")
fwd=(--build "$BUILD")
[ $WANT_ECHO = 1 ] && fwd+=(--echo)
[ $WANT_DNS = 1 ] && fwd+=(--dns)
[ $WANT_MQTT = 1 ] && fwd+=(--mqtt)
[ $WANT_BRIDGE = 1 ] && fwd+=(--bridge)
[ -n "$NS_PCAP" ] && fwd+=(--pcap "$NS_PCAP")
cleanup() {
    trap '' INT TERM HUP
    if [ "$MODE" = netns ]; then
        ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
        ip netns del "$NS" 2>/dev/null
    fi
    [ -z "$RUNDIR" ] || rm -rf "$RUNDIR"
}
MODE=none
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
until RUNDIR=${TMPDIR:-/tmp}/lwss-rig.$$.$RANDOM; mkdir -m 700 "$RUNDIR" 2>/dev/null; do
    [ -d "${TMPDIR:-/tmp}" ] || { RUNDIR=""; die "no directory ${TMPDIR:-/tmp}"; }
done
export LWSS_RIG_RUNDIR=$RUNDIR
# LWSS_RIG_NAMES_FILE: where to write the namespace's name (scripts/fleet.sh).
[ -z "${LWSS_RIG_NAMES_FILE:-}" ] || echo "$NS" > "$LWSS_RIG_NAMES_FILE"

export LWSS_RIG_INNER=1 LWSS_RIG_NAME_NS=$NS LWSS_RIG_NAME_TAP=$TAP LWSS_RIG_NAME_BRIDGE=$BRIDGE
if [ "$EUID" = 0 ] && [ $FORCE_UNSHARE = 0 ] && { MODE=netns; ip netns add "$NS" 2>/dev/null; }; then
    export LWSS_RIG_MODE=netns
    ip netns exec "$NS" "$SELF" "${fwd[@]}" -- "$@"
    rc=$?
elif MODE=none; [ -c /dev/net/tun ] && { [ ! -r /dev/net/tun ] || [ ! -w /dev/net/tun ]; }; then
    die "/dev/net/tun is not usable by $(id -un) ($(stat -c '%A %U' /dev/net/tun)): run as root (sudo make ...), or give the device Debian's default mode: sudo chmod 0666 /dev/net/tun"
elif unshare -rn true 2>/dev/null; then
    MODE=unshare
    export LWSS_RIG_MODE=unshare
    unshare -rn "$SELF" "${fwd[@]}" -- "$@"
    rc=$?
else
    die "cannot create a network namespace: run as root (ip netns) or enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)"
fi
exit $rc
