#!/bin/bash
# Test PKI for lwss, made with openssl into DIR (default build/certs):
#   ca.crt/.key            the rig CA (EC P-256), trusted by clients and by the echo server
#   server.crt/.key        echo server: SAN DNS:echo.lwss.test, IP:192.0.2.1 (signed by ca)
#   client-ec.crt/.key     client, EC P-256 (signed by ca)
#   client-rsa.crt/.key    client, RSA 2048 (signed by ca)
#   expired.crt/.key       server cert whose validity ended in the past (signed by ca)
#   other-ca.crt/.key      an unrelated CA;  untrusted.crt/.key: server cert signed by it
#   wrong-name.crt/.key    server cert for wrong.lwss.test / 192.0.2.99 (signed by ca)
#   server-rsa.crt/.key    server cert with an RSA key (for RSA suites)
#   *.der                  DER copies of ca and client certs (for option/NVM tests)
# Idempotent: files that exist are kept; the stamp file .complete marks a full set.
set -euo pipefail

DIR=${1:-build/certs}
mkdir -p "$DIR"
cd "$DIR"
[ -f .complete ] && exit 0
command -v openssl >/dev/null || { echo "make-certs: openssl is not installed" >&2; exit 1; }

DAYS=3650
ec_key() { [ -f "$1" ] || { openssl ecparam -name prime256v1 -genkey -noout -out "$1.tmp" && mv "$1.tmp" "$1"; }; }
rsa_key() { [ -f "$1" ] || { openssl genrsa -out "$1.tmp" 2048 2>/dev/null && mv "$1.tmp" "$1"; }; }

# mk_ca NAME CN
mk_ca() {
    ec_key "$1.key"
    [ -f "$1.crt" ] || openssl req -x509 -new -key "$1.key" -sha256 -days $DAYS -subj "/O=lwss test/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$1.crt"
}

# mk_leaf NAME KEYKIND CA CN EXT [openssl x509 date options...]
mk_leaf() {
    local name=$1 kind=$2 ca=$3 cn=$4 ext=$5
    shift 5
    if [ "$kind" = rsa ]; then rsa_key "$name.key"; else ec_key "$name.key"; fi
    [ -f "$name.crt" ] && return 0
    openssl req -new -key "$name.key" -subj "/O=lwss test/CN=$cn" -out "$name.csr"
    printf '%b\n' "$ext" > "$name.ext"
    openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -sha256 \
        -extfile "$name.ext" "$@" -out "$name.crt.tmp" 2>/dev/null
    mv "$name.crt.tmp" "$name.crt"
    rm -f "$name.csr" "$name.ext"
}

SERVER_EXT='basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:echo.lwss.test,IP:192.0.2.1'
WRONG_EXT='basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:wrong.lwss.test,IP:192.0.2.99'
CLIENT_EXT='basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth'

mk_ca ca "lwss test CA"
mk_ca other-ca "lwss other CA"
mk_leaf server ec ca echo.lwss.test "$SERVER_EXT" -days $DAYS
mk_leaf server-rsa rsa ca echo.lwss.test "$SERVER_EXT" -days $DAYS
mk_leaf client-ec ec ca "lwss device ec" "$CLIENT_EXT" -days $DAYS
mk_leaf client-rsa rsa ca "lwss device rsa" "$CLIENT_EXT" -days $DAYS
mk_leaf untrusted ec other-ca echo.lwss.test "$SERVER_EXT" -days $DAYS
mk_leaf wrong-name ec ca wrong.lwss.test "$WRONG_EXT" -days $DAYS
if [ ! -f expired.crt ]; then
    # Validity entirely in the past: `openssl x509 -req` cannot backdate,
    # `openssl ca` can (-startdate/-enddate).
    ec_key expired.key
    openssl req -new -key expired.key -subj "/O=lwss test/CN=echo.lwss.test" -out expired.csr
    mkdir -p ca.db && : > ca.db/index.txt && echo 1000 > ca.db/serial
    cat > expired.cnf <<CNF
[ ca ]
default_ca = d
[ d ]
database = ca.db/index.txt
serial = ca.db/serial
new_certs_dir = ca.db
default_md = sha256
policy = p
copy_extensions = none
x509_extensions = e
[ p ]
commonName = supplied
organizationName = optional
[ e ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:echo.lwss.test,IP:192.0.2.1
CNF
    openssl ca -batch -config expired.cnf -cert ca.crt -keyfile ca.key -in expired.csr \
        -startdate 20200101000000Z -enddate 20210101000000Z -out expired.crt.tmp 2>/dev/null
    openssl x509 -in expired.crt.tmp -out expired.crt
    rm -rf expired.crt.tmp expired.csr expired.cnf ca.db
fi
for f in ca client-ec client-rsa; do
    [ -f "$f.der" ] || openssl x509 -in "$f.crt" -outform DER -out "$f.der"
done
for f in client-ec client-rsa; do
    [ -f "$f.key.der" ] || openssl pkey -in "$f.key" -outform DER -out "$f.key.der"
done
cat ca.crt other-ca.crt > two-cas.crt
rm -f ./*.srl
chmod 600 ./*.key
touch .complete
