#!/bin/bash
# Power cut across processes.
#
#   scripts/powercut.sh [BUILD] [ITERATIONS]     (defaults: build, 200)
#
# One NVM image lives through ITERATIONS provisioning runs, each SIGKILLed
# at a random moment (uniform over 0..1.3 x the time an
# uninterrupted import takes for half the runs, over 0.6..1.3 x, where the
# writes happen, for the others: some runs finish, most are cut part way).  The runs alternate between two credential sets:
#   A: client-ec.crt + client-ec.key (EC P-256) + ca.crt as the root
#   B: client-rsa.crt + client-rsa.key (RSA 2048) + other-ca.crt as the root
# After every run:
#   - `lwss-nvm verify` passes (a write the kill cut short is reported as
#     an interrupted write, skipped by the store, not as damage),
#   - each of the four objects (private key, public key, device certificate,
#     root certificate) is present and equal to its A or its B version:
#     public objects by `lwss-nvm export` bytes, the private key (which no
#     tool exports) by its key type from `lwss-provision show` and its
#     record size and CRC from `lwss-nvm --json list`,
#   - the image is still mode 0600,
#   - a killed lwss-provision run (one NVM transaction, issue 14) left the
#     four objects all as before or all as written, never a mix.
# lwss-provision writes the image in place (no staged copy); any file left
# beside the image fails.
# Exit 0 when every run held, 1 with the first failure otherwise.
set -euo pipefail

BUILD=${1:-build}
ITER=${2:-200}
# A loaded machine or a sanitizer build makes each run slower: once
# POWERCUT_BUDGET seconds (0: none) are used and POWERCUT_MIN runs done, the
# loop stops early and says so; every check below holds for the runs made.
BUDGET=${POWERCUT_BUDGET:-0}
MIN=${POWERCUT_MIN:-$((ITER / 4))}
NVM=$BUILD/bin/lwss-nvm
PROV=$BUILD/bin/lwss-provision
DEMO=$BUILD/bin/lwss-demo
KILL=$BUILD/tests/lwss-kill-after
CERTS=$BUILD/certs
for f in "$NVM" "$PROV" "$DEMO" "$KILL" "$CERTS/client-rsa.key"; do
    [ -e "$f" ] || { echo "powercut: $f is missing (make first)" >&2; exit 1; }
done
# SIGKILL ends the process, not the kernel: every write() that returned is
# in the page cache for the next process, with or without fdatasync.  The
# syncs only cost time here (a real power loss is the pal suite's job).
export LWSS_NVM_SYNC=0
T=$(mktemp -d /tmp/lwss-powercut-XXXXXX)
trap 'rm -rf "$T"' EXIT
# A bound (make's `timeout`) ends the loop with SIGTERM: say how far it got.
i=0 t0=$(date +%s)
trap 'echo "powercut: stopped by SIGTERM at run $i of $ITER after $(( $(date +%s) - t0 )) s" \
      "(each run: one import cut, verify, fingerprint); this build is too slow for the bound" >&2; exit 124' TERM
IMG=$T/nvm.img

fail() {
    echo "powercut: FAILED at run $1: $2" >&2
    [ -f "$IMG" ] && mkdir -p "$BUILD/rel" && cp "$IMG" "$BUILD/rel/powercut-failed.img" &&
        echo "powercut: the image is kept as $BUILD/rel/powercut-failed.img" >&2
    exit 1
}

set_args() { # set_args A|B
    if [ "$1" = A ]; then
        echo "--cert $CERTS/client-ec.crt --key $CERTS/client-ec.key --root-ca $CERTS/ca.crt"
    else
        echo "--cert $CERTS/client-rsa.crt --key $CERTS/client-rsa.key --root-ca $CERTS/other-ca.crt"
    fi
}

# writer_cmd provision|demo A|B: the command line of one provisioning run
writer_cmd() {
    if [ "$1" = provision ]; then
        echo "$PROV --image $IMG import $(set_args "$2")"
    else
        echo "env LWSS_NVM=$IMG $DEMO --import $(set_args "$2")"
    fi
}

# fingerprint IMAGE: one line per object, "label=hash" (public objects) or
# "label=type/size/crc" (the private key).
fingerprint() {
    local img=$1 out="" lbl cls
    for spec in "Device Pub TLS Key:2" "Device Cert:1" "Root Cert:1"; do
        lbl=${spec%:*} cls=${spec##*:}
        if "$NVM" export "$img" "$lbl" --class "$cls" --der -o "$T/obj" >/dev/null 2>&1; then
            out+="$lbl=$(sha256sum < "$T/obj" | cut -c1-16)"$'\n'
        else
            out+="$lbl=MISSING"$'\n'
        fi
    done
    local type size
    type=$("$PROV" --image "$img" show 2>/dev/null | sed -n 's/^private-key  "Device Priv TLS Key"  //p')
    size=$("$NVM" --json list "$img" 2>/dev/null |
           grep -o '"label":"Device Priv TLS Key","class":"private-key"[^}]*' |
           sed 's/.*"size":\([0-9]*\).*"crc":"\([a-z]*\)".*/\1\/\2/')
    out+="Device Priv TLS Key=${type:-MISSING}/${size:-MISSING}"
    echo "$out"
}

# Reference images: what "A" and "B" look like when complete.
for s in A B; do
    # shellcheck disable=SC2046
    "$PROV" --image "$T/ref$s.img" import $(set_args $s) >/dev/null 2>&1 || fail ref "import of set $s"
done
FP_A=$(fingerprint "$T/refA.img")
FP_B=$(fingerprint "$T/refB.img")
[ "$FP_A" != "$FP_B" ] || fail ref "sets A and B are indistinguishable"
case "$FP_A$FP_B" in *MISSING*) fail ref "reference image incomplete: $FP_A / $FP_B" ;; esac

# The image starts as A; how long does an uninterrupted import take?
cp "$T/refA.img" "$IMG"
chmod 600 "$IMG"
declare -A full
for w in provision demo; do
    full[$w]=999999999
    for _ in 1 2 3 4 5; do # the fastest of five: the first runs are slow (cold caches)
        # shellcheck disable=SC2046
        r=$("$KILL" -1 $(writer_cmd $w A))
        [ "${r##* }" -lt "${full[$w]}" ] && full[$w]=${r##* }
    done
done

# one object's line of a fingerprint, by label
field() { grep "^$2=" <<< "$1" || true; }

before=$(fingerprint "$IMG")
torn=0 max_places=0
killed=0 finished=0 changed_after_kill=0 kept_after_kill=0 mixed=0
start=$(date +%s)
for i in $(seq "$ITER"); do
    set=$([ $((i % 2)) = 1 ] && echo B || echo A)
    writer=$([ $(((i / 2) % 2)) = 0 ] && echo provision || echo demo)
    # Most of a run is process start-up and parsing; the writes come last.
    # Every other pair of runs is cut anywhere in 0..1.2 x the run's usual
    # length, the others in 0.6..1.2 x, where the writes are.
    window=$((full[$writer] * 12 / 10))
    lo=$([ $(((i / 4) % 2)) = 0 ] && echo 0 || echo $((full[$writer] * 6 / 10)))
    delay=$(( lo + (RANDOM * 32768 + RANDOM) % (window - lo + 1) ))
    # shellcheck disable=SC2046
    r=$("$KILL" "$delay" $(writer_cmd "$writer" "$set"))
    # A write cut by the kill is skipped by the store and reported by verify
    # as an interrupted write, not as damage: verify must pass every time.
    if ! "$NVM" --json verify "$IMG" > "$T/verify.txt" 2>&1; then
        cat "$T/verify.txt" >&2
        fail "$i" "lwss-nvm verify after $writer: $r"
    fi
    n=$(sed -n 's/.*"interrupted_writes":\([0-9]*\).*/\1/p' "$T/verify.txt")
    if [ -n "$n" ] && [ "$n" -gt 0 ]; then
        torn=$((torn + 1))
        [ "$n" -gt "$max_places" ] && max_places=$n
    fi
    [ "$(stat -c %a "$IMG")" = 600 ] || fail "$i" "image mode is $(stat -c %a "$IMG")"
    now=$(fingerprint "$IMG")
    from_a=0 from_b=0
    for lbl in "Device Pub TLS Key" "Device Cert" "Root Cert" "Device Priv TLS Key"; do
        v=$(field "$now" "$lbl")
        if [ "$v" = "$(field "$FP_A" "$lbl")" ]; then from_a=$((from_a + 1))
        elif [ "$v" = "$(field "$FP_B" "$lbl")" ]; then from_b=$((from_b + 1))
        else fail "$i" "object $lbl is neither old nor new ($r, delay ${delay} us): $v"
        fi
    done
    target="FP_$set"
    if [ "${r%% *}" = killed ] && [ "$writer" = provision ] && [ "$now" != "$before" ] &&
        [ "$now" != "${!target}" ]; then
        fail "$i" "a killed lwss-provision run left a mix of old and new: $now"
    fi
    if [ "${r%% *}" = killed ]; then
        killed=$((killed + 1))
        if [ "$now" = "$before" ]; then kept_after_kill=$((kept_after_kill + 1));
        else changed_after_kill=$((changed_after_kill + 1)); fi
    else
        finished=$((finished + 1))
        [ "${r#exited 0}" != "$r" ] || fail "$i" "uninterrupted import failed: $r"
        want="FP_$set"
        if [ "$writer" = provision ]; then
            [ "$now" = "${!want}" ] || fail "$i" "a finished import left: $now"
        else # lwss-demo writes no public-key object
            [ "$(grep -v '^Device Pub' <<< "$now")" = "$(grep -v '^Device Pub' <<< "${!want}")" ] ||
                fail "$i" "a finished lwss-demo --import left: $now"
        fi
    fi
    [ "$from_a" -gt 0 ] && [ "$from_b" -gt 0 ] && mixed=$((mixed + 1))
    before=$now
    if [ "$BUDGET" -gt 0 ] && [ "$i" -ge "$MIN" ] && [ $(( $(date +%s) - start )) -ge "$BUDGET" ]; then
        echo "powercut: time budget of $BUDGET s used: stopping after $i of $ITER runs (at least $MIN)"
        break
    fi
done
ITER=$i
took=$(( $(date +%s) - start ))
strays=$(find "$T" -maxdepth 1 -name 'nvm.img?*' | wc -l)
echo "powercut: $ITER runs in ${took} s (uncut: lwss-provision ~${full[provision]} us," \
     "lwss-demo --import ~${full[demo]} us):" \
     "$killed killed ($kept_after_kill left the image as it was, $changed_after_kill changed it," \
     "after $mixed runs old and new objects were side by side), $finished finished; every object old or new," \
     "lwss-nvm verify passed after every run ($torn times with interrupted writes skipped," \
     "at most $max_places at once); $strays files left beside the image"
# The cuts must really have landed before and after commit points.
[ "$killed" -ge $((ITER / 4)) ] || fail end "only $killed of $ITER runs were cut"
[ "$kept_after_kill" -gt 0 ] && [ "$changed_after_kill" -gt 0 ] ||
    fail end "cuts never landed on both sides of a write"
if [ "$strays" -gt 0 ]; then
    fail end "$strays files left beside the image"
fi
