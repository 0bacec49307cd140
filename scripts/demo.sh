#!/bin/bash
# `make demo`: the whole lwss story in one throw-away network namespace.
#   scripts/demo.sh [BUILD]     (after `make`; `make demo` builds first)
# Leaves in BUILD/demo/: nvm.img (the device's flash), demo.pcap (what went
# over the TAP), keylog.txt (TLS secrets in NSS key log format).
set -euo pipefail

BUILD=${1:-build}
OUT=$BUILD/demo
CERTS=$BUILD/certs
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

for f in "$BUILD/bin/lwss-demo" "$BUILD/bin/lwss-echo-server" "$CERTS/server.crt"; do
    [ -e "$f" ] || { echo "demo: $f is missing: run \`make demo\`" >&2; exit 1; }
done
# A machine where no rig can be made hears it in one line, with the fix.
scripts/rig.sh --check || exit 1
mkdir -p "$OUT"
rm -f "$OUT/nvm.img" "$OUT/demo.pcap" "$OUT/keylog.txt" "$OUT/demo.log"
OUT=$(cd "$OUT" && pwd)

say "1. Provision a fresh NVM image (the device's flash) through the PKCS #11 token"
echo "   device certificate + EC P-256 private key, and the root CA the device trusts"
if [ -x "$BUILD/bin/lwss-provision" ]; then
    "$BUILD/bin/lwss-provision" --image "$OUT/nvm.img" import --cert "$CERTS/client-ec.crt" \
        --key "$CERTS/client-ec.key" --root-ca "$CERTS/ca.crt"
    "$BUILD/bin/lwss-provision" --image "$OUT/nvm.img" show 2>/dev/null | sed 's/^/   /' || true
else
    echo "   (lwss-provision is not built: importing with lwss-demo --import instead)"
    LWSS_NVM="$OUT/nvm.img" "$BUILD/bin/lwss-demo" --import --cert "$CERTS/client-ec.crt" \
        --key "$CERTS/client-ec.key" --root-ca "$CERTS/ca.crt"
fi

say "2. Rig up: namespace + TAP, dnsmasq, echo server (plain :7, TLS :8884), mosquitto (MQTT, TLS :8883), client certs required"
say "3. The application: SOCKETS_* over lwIP, mutual TLS, the key never leaves the token; then MQTT through mosquitto"
# The app runs inside the rig; capture and keylog are switched on by environment.
scripts/rig.sh --build "$BUILD" --dns --echo --mqtt -- env LWSS_NVM="$OUT/nvm.img" \
    LWSS_PCAP="$OUT/demo.pcap" SSLKEYLOGFILE="$OUT/keylog.txt" \
    "$BUILD/bin/lwss-demo" --host echo.lwss.test --mqtt lwss/demo \
    --message "Hello from lwss: FreeRTOS sockets, lwIP, mbedtls, a token." | tee "$OUT/demo.log"
echo "   rig down: namespace, TAP, dnsmasq, echo server and mosquitto are gone"

say "4. What went over the wire"
if command -v tshark >/dev/null; then
    echo "   tshark, with the key log, decrypts the echo:"
    tshark -r "$OUT/demo.pcap" -o "tls.keylog_file:$OUT/keylog.txt" -q -z follow,tls,ascii,0 2>/dev/null \
        | sed 's/^/   /'
    echo "   and the MQTT session with mosquitto (TCP stream 1), decrypted and decoded:"
    tshark -r "$OUT/demo.pcap" -o "tls.keylog_file:$OUT/keylog.txt" -Y mqtt \
        -T fields -e ip.src -e ip.dst -e _ws.col.Info 2>/dev/null | sed 's/^/   /'
    tshark -r "$OUT/demo.pcap" -o "tls.keylog_file:$OUT/keylog.txt" -q -z follow,tls,ascii,1 2>/dev/null \
        | sed 's/^/   /'
else
    echo "   (tshark is not installed; with it, this decrypts the capture:)"
    echo "   tshark -r $OUT/demo.pcap -o tls.keylog_file:$OUT/keylog.txt -q -z follow,tls,ascii,0"
fi
if grep -q "Hello from lwss" "$OUT/demo.pcap"; then
    echo "   WARNING: the plaintext is visible in the capture" >&2; exit 1
else
    echo "   the message does not appear in the capture: it went encrypted"
fi

say "Done"
cat <<EOT
   NVM image (device flash):  $OUT/nvm.img
   packet capture (pcap):     $OUT/demo.pcap   ($(stat -c %s "$OUT/demo.pcap") bytes)
   TLS key log (NSS format):  $OUT/keylog.txt  ($(wc -l < "$OUT/keylog.txt") sessions)
   Open the capture in Wireshark with Preferences > Protocols > TLS > (Pre)-Master-Secret
   log filename = the key log, to see the echo in clear.
EOT
