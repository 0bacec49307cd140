#!/usr/bin/env bash
# Interop: OpenSC pkcs11-tool and p11-kit against lwss-pkcs11.so on a temp
# NVM image, checked with openssl and lwss-provision.  Every step must pass.
# usage: tests/pkcs11/interop.sh BUILD_DIR
set -euo pipefail
BUILD=${1:-build}
MODULE=$(realpath "$BUILD/lib/lwss-pkcs11.so")
PROVISION=$(realpath "$BUILD/bin/lwss-provision")
PROBE=$(realpath "$BUILD/tests/lwss-p11kit-probe")
T=$(mktemp -d /tmp/lwss-interop-XXXXXX)
trap 'rm -rf "$T"' EXIT
export LWSS_NVM=$T/nvm.img
cd "$T"
steps=0
fail() { echo "pkcs11 interop FAILED at: $*" >&2; exit 1; }
ok() { steps=$((steps + 1)); echo "ok $steps - $*"; }

# An ASan build of the module needs the sanitizer runtime in the host tool.
# pkcs11-tool 0.23 itself reads freed memory when it exports an EC public
# key (OpenSSL 3 path): the string/memory interceptors, which would report
# that bug of the host tool, are off; our instrumented code is still checked.
if ldd "$MODULE" | grep -q libasan; then
    export LD_PRELOAD="$(cc -print-file-name=libasan.so) $(cc -print-file-name=libubsan.so)"
    export ASAN_OPTIONS=detect_leaks=0:intercept_strcmp=0:replace_intrin=0:intercept_memcmp=0
fi
p11() { pkcs11-tool --module "$MODULE" "$@"; }

p11 -I > info.txt 2>&1 || fail "pkcs11-tool -I"
grep -q "lwss PKCS#11 software token" info.txt || fail "library description"; ok "C_GetInfo"
p11 -L > slots.txt 2>&1 || fail "pkcs11-tool -L"
grep -q "token label *: lwss" slots.txt || fail "token label"; ok "slots and token"
p11 -M > mechs.txt 2>&1 || fail "pkcs11-tool -M"
for m in ECDSA-KEY-PAIR-GEN ECDSA RSA-PKCS-KEY-PAIR-GEN RSA-PKCS RSA-X-509 SHA256 SHA256-HMAC AES-CMAC \
         AES-KEY-GEN AES-ECB AES-CBC AES-CBC-PAD AES-CTR AES-GCM DES3-CBC-PAD RSA-PKCS-OAEP AES-KEY-WRAP; do
    grep -q "^  $m," mechs.txt || fail "mechanism $m"
done; ok "mechanisms"

p11 --login --pin 9999 -O > wrong.txt 2>&1 && fail "a wrong PIN was accepted"
grep -q CKR_PIN_INCORRECT wrong.txt || fail "wrong PIN error"; ok "wrong PIN refused"

p11 --login --pin 0000 --keypairgen --key-type EC:prime256v1 --id 01 --label dev > gen.txt 2>&1 \
    || { cat gen.txt; fail "keypairgen"; }
grep -q "Key pair generated" gen.txt || fail "keypairgen output"; ok "EC P-256 key pair generated"

printf 'message to sign\n' > data
openssl dgst -sha256 -binary data > hash
p11 --login --pin 0000 --sign -m ECDSA --id 01 -i hash -o sig --signature-format openssl \
    > sign.txt 2>&1 || { cat sign.txt; fail "sign"; }
p11 --read-object --type pubkey --id 01 -o pub.der > read.txt 2>&1 || fail "read pubkey"
openssl pkey -pubin -inform DER -in pub.der -out pub.pem || fail "pubkey DER"
openssl dgst -sha256 -verify pub.pem -signature sig data > /dev/null || fail "openssl verify"
printf 'tampered\n' > other
openssl dgst -sha256 -verify pub.pem -signature sig other > /dev/null 2>&1 && fail "tampered verified"
ok "ECDSA signature verified by openssl (and a tampered message is not)"

p11 --hash -m SHA256 -i data -o token.hash > hash.txt 2>&1 || fail "hash"
cmp -s token.hash hash || fail "SHA-256 differs from openssl"; ok "C_Digest"
p11 --generate-random 48 -o rnd > rnd.txt 2>&1 || fail "random"
[ "$(stat -c %s rnd)" = 48 ] || fail "random length"; ok "C_GenerateRandom"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout cert.key \
    -subj /CN=interop -days 30 -outform DER -out cert.der 2> /dev/null || fail "openssl cert"
p11 --login --pin 0000 --write-object cert.der --type cert --id 02 --label devcert > w.txt 2>&1 \
    || { cat w.txt; fail "write cert"; }
p11 --read-object --type cert --id 02 -o back.der > r.txt 2>&1 || fail "read cert"
cmp -s cert.der back.der || fail "certificate changed"; ok "certificate imported and read back"

p11 --login --pin 0000 -O > objs.txt 2>&1 || fail "list objects"
grep -q "Certificate Object" objs.txt && grep -q "Private Key Object; EC" objs.txt \
    && grep -q "Public Key Object; EC" objs.txt || { cat objs.txt; fail "objects listed"; }
ok "objects listed"
"$PROVISION" show > show.txt 2>&1 || fail "lwss-provision show"
grep -q 'certificate  "devcert"' show.txt && grep -q 'private-key  "dev"' show.txt \
    || { cat show.txt; fail "same image seen by lwss-provision"; }
ok "the same image through liblwss"

p11 --login --pin 0000 --delete-object --type cert --id 02 > del.txt 2>&1 || fail "delete"
p11 --login --pin 0000 -O > objs2.txt 2>&1 || fail "list after delete"
grep -q "Certificate Object" objs2.txt && fail "certificate still there"
grep -q "Private Key Object" objs2.txt || fail "key lost by the delete"; ok "object deleted"

# RSA: imported with lwss-provision, signed by pkcs11-tool, verified by openssl
# (own image: pkcs11-tool picks the first private key of the token)
export LWSS_NVM=$T/rsa.img
openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -subj /CN=rsa -days 30 \
    -out rsa.crt 2> /dev/null || fail "openssl rsa"
"$PROVISION" import --cert rsa.crt --key rsa.key > imp.txt 2>&1 || { cat imp.txt; fail "import"; }
printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20' > di
cat hash >> di
p11 --login --pin 0000 --sign -m RSA-PKCS -i di -o rsa.sig \
    > rs.txt 2>&1 || { cat rs.txt; fail "RSA sign"; }
openssl x509 -in rsa.crt -pubkey -noout > rsa.pub
openssl dgst -sha256 -verify rsa.pub -signature rsa.sig data > /dev/null || fail "RSA verify"
ok "RSA-PKCS signature verified by openssl"

# Secret keys and encryption through pkcs11-tool, checked with openssl enc both
# ways (pkcs11-tool asks CKA_SENSITIVE=FALSE unless --sensitive: refused by policy)
export LWSS_NVM=$T/aes.img
head -c 32 /dev/urandom > aes.key
head -c 1000 /dev/urandom > aes.data
IV=000102030405060708090a0b0c0d0e0f
KHEX=$(od -An -tx1 -v aes.key | tr -d ' \n')
p11 --login --pin 0000 --write-object aes.key --type secrkey --key-type AES:32 --id 07 \
    --label aes --sensitive --usage-decrypt > aw.txt 2>&1 || { cat aw.txt; fail "write AES key"; }
p11 --login --pin 0000 --encrypt -m AES-CBC-PAD --iv $IV --id 07 -i aes.data -o aes.ct \
    > ae.txt 2>&1 || { cat ae.txt; fail "AES-CBC-PAD encrypt"; }
openssl enc -d -aes-256-cbc -K "$KHEX" -iv $IV -in aes.ct -out aes.pt || fail "openssl enc -d"
cmp -s aes.pt aes.data || fail "token ciphertext does not decrypt with openssl"
openssl enc -e -aes-256-cbc -K "$KHEX" -iv $IV -in aes.data -out aes.ct2 || fail "openssl enc -e"
p11 --login --pin 0000 --decrypt -m AES-CBC-PAD --iv $IV --id 07 -i aes.ct2 -o aes.pt2 \
    > ad.txt 2>&1 || { cat ad.txt; fail "AES-CBC-PAD decrypt"; }
cmp -s aes.pt2 aes.data || fail "openssl ciphertext does not decrypt in the token"
ok "AES-256-CBC-PAD: token and openssl enc agree both ways"
p11 --login --pin 0000 --keygen --key-type AES:32 --label gen-aes --sensitive > ag.txt 2>&1 \
    || { cat ag.txt; fail "AES keygen"; }
grep -q "Secret Key Object; AES length 32" ag.txt && grep -q "local" ag.txt \
    || { cat ag.txt; fail "AES keygen output"; }
ok "C_GenerateKey AES-256 through pkcs11-tool"

# PIN policy through a standard client: init token (needs the current SO PIN,
# "0000" on a fresh image), init the user PIN; from then on private objects
# need that PIN
export LWSS_NVM=$T/pin.img
p11 --init-token --label "lwss pin test" --so-pin 87654321 > it0.txt 2>&1 \
    && fail "init-token with a wrong SO PIN"
p11 --init-token --label "lwss pin test" --so-pin 0000 > it.txt 2>&1 || fail "init-token"
p11 --init-pin --login --so-pin 0000 --pin 246810 > ip.txt 2>&1 || fail "init-pin"
p11 -L 2>&1 | grep -q "token label *: lwss pin test" || fail "token label after init-token"
p11 -L 2>&1 | grep -q "login required" || fail "login required flag"
p11 --login --pin 246810 --keypairgen --key-type EC:prime256v1 --id 05 > k.txt 2>&1 \
    || fail "keypairgen with the user PIN"
p11 -O 2>&1 | grep -q "Private Key Object" && fail "private key visible without login"
p11 --login --pin 246810 -O 2>&1 | grep -q "Private Key Object" || fail "private key after login"
p11 --login --pin 0000 -O > w2.txt 2>&1 && fail "the old default PIN still works"
ok "init-token / init-pin / login-required policy"

"$PROBE" "$MODULE" > probe.txt 2>&1 || { cat probe.txt; fail "p11-kit load"; }
# p11-kit reports as many mechanisms as pkcs11-tool lists directly
mechs=$(p11 -M 2>&1 | grep -c '^  ')
grep -q "token: lwss" probe.txt && grep -q "mechanisms: $mechs\$" probe.txt || fail "p11-kit answers"
ok "loaded through p11-kit ($(grep objects: probe.txt))"
echo "pkcs11 interop: $steps steps passed"
