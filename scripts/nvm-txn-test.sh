#!/bin/bash
# NVM transactions across processes (issue 14, item 5).
#
#   scripts/nvm-txn-test.sh [BUILD] [SCALE]     (defaults: build, 4; SAN builds pass 1)
#
# 1. Concurrency: two lwss-provision loops (alternating credential sets A
#    and B), two token writer processes (C_CreateObject through the
#    library) and two pkcs11-tool writers (through build/lib/lwss-pkcs11.so)
#    on one image at once.  Afterwards every write whose call succeeded is
#    in the image: each writer's object holds its last acknowledged
#    version, and the device credentials are one complete set that a
#    successful provisioning run wrote (never a mix); verify exits 0.
# 2. Kills of C_GenerateKeyPair: 75 x SCALE SIGKILLs at random moments on
#    a 4 KiB image (collections all the time); after each, key pair "kp" is
#    both halves of one pair or absent, and `lwss-nvm verify` exits 0.
# 3. Kills of lwss-provision: 25 x SCALE runs on a 16 KiB image, SIGKILLed
#    at random moments; after each the credentials are exactly the set
#    before or the set written (all or nothing), and verify exits 0.
# Every loop is bounded; a stuck step fails with the step named.
set -euo pipefail

BUILD=${1:-build}
SCALE=${2:-4}
NVM=$BUILD/bin/lwss-nvm
PROV=$BUILD/bin/lwss-provision
WRITER=$BUILD/tests/lwss-nvm-writer
KILL=$BUILD/tests/lwss-kill-after
MODULE=$BUILD/lib/lwss-pkcs11.so
CERTS=$BUILD/certs
for f in "$NVM" "$PROV" "$WRITER" "$KILL" "$MODULE" "$CERTS/client-rsa.key"; do
    [ -e "$f" ] || { echo "nvm-txn: $f is missing (make first)" >&2; exit 1; }
done
command -v pkcs11-tool >/dev/null || { echo "nvm-txn: pkcs11-tool missing" >&2; exit 1; }
export LWSS_NVM_SYNC=0        # SIGKILL keeps every returned write in the page cache
export LWSS_NVM_LOCK_MS=20000 # writers queue for the lock rather than give up
T=$(mktemp -d /tmp/lwss-nvm-txn-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$T"' EXIT
fail() { echo "nvm-txn: FAILED: $*" >&2; exit 1; }

set_args() {
    if [ "$1" = A ]; then
        echo "--cert $CERTS/client-ec.crt --key $CERTS/client-ec.key --root-ca $CERTS/ca.crt"
    else
        echo "--cert $CERTS/client-rsa.crt --key $CERTS/client-rsa.key --root-ca $CERTS/other-ca.crt"
    fi
}

# fingerprint IMAGE: the device credentials as one line per object
fingerprint() {
    local out="" lbl cls
    for spec in "Device Pub TLS Key:2" "Device Cert:1" "Root Cert:1"; do
        lbl=${spec%:*} cls=${spec##*:}
        if "$NVM" export "$1" "$lbl" --class "$cls" --der -o "$T/obj" >/dev/null 2>&1; then
            out+="$lbl=$(sha256sum < "$T/obj" | cut -c1-16);"
        else
            out+="$lbl=MISSING;"
        fi
    done
    out+="priv=$("$PROV" --image "$1" show 2>/dev/null | sed -n 's/^private-key  "Device Priv TLS Key"  //p')"
    echo "$out"
}

# Reference fingerprints of complete sets A and B.
for s in A B; do
    # shellcheck disable=SC2046
    "$PROV" --image "$T/ref$s.img" import $(set_args $s) >/dev/null 2>&1 || fail "reference import $s"
done
FP_A=$(fingerprint "$T/refA.img")
FP_B=$(fingerprint "$T/refB.img")
[ "$FP_A" != "$FP_B" ] || fail "sets A and B look the same"

# ---- 1. concurrency --------------------------------------------------------
IMG=$T/conc.img
N=$((3 * SCALE))
prov_loop() { # prov_loop ID: alternate sets; log "ack SET" per success
    for i in $(seq "$N"); do
        local set; set=$([ $(((i + $1) % 2)) = 0 ] && echo A || echo B)
        # shellcheck disable=SC2046
        if "$PROV" --image "$IMG" import $(set_args "$set") >/dev/null 2>"$T/prov$1.err"; then
            echo "ack $set"
        fi
    done > "$T/prov$1.log"
}
# pkcs11-tool loading a sanitizer build of the module needs the runtimes first
P11_ENV=()
if ldd "$MODULE" | grep -q libasan; then
    P11_ENV=("LD_PRELOAD=$(cc -print-file-name=libasan.so) $(cc -print-file-name=libubsan.so)"
             "ASAN_OPTIONS=detect_leaks=0:intercept_strcmp=0:replace_intrin=0:intercept_memcmp=0")
fi
p11_loop() { # p11_loop ID: pkcs11-tool writes data object pID = "ID:v"
    for v in $(seq "$N"); do
        printf 'p%s:%s' "$1" "$v" > "$T/p$1.val"
        if env "${P11_ENV[@]}" LWSS_NVM="$IMG" timeout 60 pkcs11-tool --module "$MODULE" --login --pin 0000 \
            --write-object "$T/p$1.val" --type data --label "p$1" >/dev/null 2>&1; then
            echo "ack p$1 $v"
        fi
    done > "$T/p11$1.log"
}
start=$(date +%s)
prov_loop 1 & prov_loop 2 &
LWSS_NVM=$IMG "$WRITER" data t1 $((4 * N)) > "$T/w1.log" 2>/dev/null &
LWSS_NVM=$IMG "$WRITER" data t2 $((4 * N)) > "$T/w2.log" 2>/dev/null &
p11_loop 1 & p11_loop 2 &
wait
"$NVM" verify "$IMG" > "$T/verify.txt" 2>&1 || { cat "$T/verify.txt" >&2; fail "verify after the concurrent writers"; }
acks=0
for w in t1 t2; do
    last=$(awk '{v=$3} END {print v}' "$T/w${w#t}.log")
    [ -n "$last" ] || fail "token writer $w: no write succeeded"
    acks=$((acks + $(wc -l < "$T/w${w#t}.log")))
    "$NVM" export "$IMG" "w$w" --class 0 --der -o "$T/got" >/dev/null 2>&1 || fail "w$w lost"
    [ "$(head -c "$(printf '%s:%s' "$w" "$last" | wc -c)" "$T/got")" = "$w:$last" ] ||
        fail "w$w holds '$(head -c 12 "$T/got")', last acknowledged $w:$last"
done
for p in 1 2; do
    last=$(awk '{v=$3} END {print v}' "$T/p11$p.log")
    [ -n "$last" ] || fail "pkcs11-tool writer $p: no write succeeded"
    acks=$((acks + $(wc -l < "$T/p11$p.log")))
    "$NVM" export "$IMG" "p$p" --class 0 --der -o "$T/got" >/dev/null 2>&1 || fail "p$p lost"
    [ "$(cat "$T/got")" = "p$p:$last" ] || fail "p$p holds '$(cat "$T/got")', last acknowledged p$p:$last"
done
now=$(fingerprint "$IMG")
packs=$(cat "$T/prov1.log" "$T/prov2.log" | wc -l)
[ "$packs" -gt 0 ] || fail "no provisioning run succeeded: $(cat "$T/prov1.err")"
if [ "$now" = "$FP_A" ]; then grep -q "ack A" "$T/prov1.log" "$T/prov2.log" || fail "set A never acknowledged"
elif [ "$now" = "$FP_B" ]; then grep -q "ack B" "$T/prov1.log" "$T/prov2.log" || fail "set B never acknowledged"
else fail "device credentials are no complete set: $now"; fi
echo "nvm-txn: concurrency: $packs provisioning runs, $acks token/pkcs11-tool writes acknowledged" \
     "in $(( $(date +%s) - start )) s; every one in the image, verify OK"

# ---- 2. kills of C_GenerateKeyPair ------------------------------------------
IMG=$T/kp.img
export LWSS_NVM_SIZE=4096 LWSS_NVM_SECTOR=512
full=$(LWSS_NVM=$IMG "$KILL" -1 "$WRITER" keygen 4); full=${full##* }
KILLS=$((75 * SCALE)); killed=0; present=0
for i in $(seq "$KILLS"); do
    delay=$(( (RANDOM * 32768 + RANDOM) % (full * 9 / 10 + 1) ))
    r=$(LWSS_NVM=$IMG "$KILL" "$delay" "$WRITER" keygen 4)
    [ "${r%% *}" = killed ] && killed=$((killed + 1))
    LWSS_NVM=$IMG "$WRITER" check-pair 2> "$T/pair.txt" || fail "kill $i ($r): $(cat "$T/pair.txt")"
    "$NVM" verify "$IMG" > "$T/verify.txt" 2>&1 ||
        { cat "$T/verify.txt" >&2; fail "kill $i ($r): verify"; }
    present=$((present + 1))
done
[ "$killed" -ge $((KILLS / 3)) ] || fail "only $killed of $KILLS keygen runs were killed"
echo "nvm-txn: C_GenerateKeyPair: $killed of $KILLS runs SIGKILLed on a 4 KiB image; the pair" \
     "was whole every time and verify passed"

# ---- 3. kills of lwss-provision ---------------------------------------------
IMG=$T/prov.img
export LWSS_NVM_SIZE=16384 LWSS_NVM_SECTOR=2048 # an RSA key needs ~1.2 KiB
# shellcheck disable=SC2046
"$PROV" --image "$IMG" import $(set_args A) >/dev/null 2>&1 || fail "first import"
# shellcheck disable=SC2046
full=$("$KILL" -1 "$PROV" --image "$IMG" import $(set_args B)); full=${full##* }
before=$(fingerprint "$IMG")
RUNS=$((25 * SCALE)); killed=0 kept=0 changed=0
for i in $(seq "$RUNS"); do
    set=$([ $((i % 2)) = 1 ] && echo A || echo B)
    want="FP_$set"
    delay=$(( (RANDOM * 32768 + RANDOM) % (full * 12 / 10 + 1) ))
    # shellcheck disable=SC2046
    r=$("$KILL" "$delay" "$PROV" --image "$IMG" import $(set_args "$set"))
    "$NVM" verify "$IMG" > "$T/verify.txt" 2>&1 ||
        { cat "$T/verify.txt" >&2; fail "provisioning run $i ($r): verify"; }
    now=$(fingerprint "$IMG")
    if [ "${r%% *}" = killed ]; then
        killed=$((killed + 1))
        if [ "$now" = "$before" ]; then kept=$((kept + 1))
        elif [ "$now" = "${!want}" ]; then changed=$((changed + 1))
        else fail "killed provisioning run $i left a mix: $now"; fi
    elif [ "${r#exited 0}" != "$r" ]; then
        [ "$now" = "${!want}" ] || fail "finished provisioning run $i ($r) left: $now"
    else
        fail "provisioning run $i failed ($r)"
    fi
    before=$now
done
[ "$killed" -ge $((RUNS / 3)) ] || fail "only $killed of $RUNS provisioning runs were killed"
echo "nvm-txn: lwss-provision: $killed of $RUNS runs SIGKILLed on a 16 KiB image ($kept left" \
     "the credentials as they were, $changed committed); never a mix, verify passed every time"
