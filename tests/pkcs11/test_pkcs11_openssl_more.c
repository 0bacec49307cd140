/*
 * Suite "pkcs11_openssl_more": more of the token's mechanisms against the
 * openssl 3.0 command line (issue 18 item 9), both ways where openssl can:
 *  - CKM_AES_KEY_WRAP / CKM_AES_KEY_WRAP_PAD (RFC 3394 / 5649) against
 *    `openssl enc -id-aesNNN-wrap -iv A6A6A6A6A6A6A6A6` and
 *    `openssl enc -id-aesNNN-wrap-pad -iv A65959A6` (openssl needs the
 *    default IV spelled out);
 *  - CKM_RSA_PKCS_PSS against `openssl pkeyutl -sign/-verify -pkeyopt
 *    rsa_padding_mode:pss`, CKM_SHA256_RSA_PKCS_PSS / CKM_SHA384_RSA_PKCS_PSS
 *    against `openssl dgst -sha256 -sigopt rsa_padding_mode:pss`;
 *  - CKM_SHA_1_HMAC / CKM_SHA256_HMAC / CKM_SHA512_HMAC against
 *    `openssl dgst -mac HMAC -macopt hexkey:...`;
 *  - CKM_ECDH1_DERIVE (CKD_NULL) on P-256 and P-384 against
 *    `openssl pkeyutl -derive -peerkey`.
 * Not here: CKM_AES_GCM.  `openssl enc` refuses AEAD ciphers in 3.0
 * ("enc: AEAD ciphers not supported") and no other 3.0 command encrypts
 * with GCM, so GCM stays checked against its published vectors
 * (pkcs11_cipher, GCM test case 4).  The ciphers and RSA encryption are in
 * pkcs11_cipher_openssl.
 */
#include "tests/support/test_pkcs11.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CK_BBOOL yes = CK_TRUE;
static CK_BBOOL no = CK_FALSE;
static CK_OBJECT_CLASS secret_cls = CKO_SECRET_KEY;


/* A session secret key from known bytes, usable for everything tested here. */
static CK_OBJECT_HANDLE secret(CK_SESSION_HANDLE s, CK_KEY_TYPE kt, const uint8_t *val, size_t len)
{
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &secret_cls, sizeof(secret_cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_TOKEN, &no, 1},
                        {CKA_EXTRACTABLE, &yes, 1},
                        {kt == CKK_AES ? CKA_ENCRYPT : CKA_SIGN, &yes, 1},
                        {kt == CKK_AES ? CKA_DECRYPT : CKA_VERIFY, &yes, 1},
                        {CKA_WRAP, kt == CKK_AES ? &yes : &no, 1},
                        {CKA_UNWRAP, kt == CKK_AES ? &yes : &no, 1},
                        {CKA_VALUE, (void *)val, len}};
    CK_OBJECT_HANDLE h = 0;
    ck_assert_int_eq(C_CreateObject(s, t, 9, &h), CKR_OK);
    return h;
}

/* `openssl dgst -<md> -mac HMAC -macopt hexkey:<key> msg`: the MAC into @p out. */
static size_t openssl_hmac(const char *md, const uint8_t *key, size_t key_len, uint8_t *out)
{
    char kh[2 * 200 + 1], cmd[1024];
    ck_assert_uint_le(key_len, 200);
    lwss_p11t_hex(key, key_len, kh);
    snprintf(cmd, sizeof(cmd), "dgst -%s -mac HMAC -macopt hexkey:%s -binary -out o.mac msg", md,
             kh);
    lwss_p11t_openssl(cmd);
    size_t n = 0;
    uint8_t *mac = lwss_p11t_get("o.mac", &n);
    ck_assert_uint_le(n, 64);
    memcpy(out, mac, n);
    free(mac);
    return n;
}

/* The token's HMAC (@p mech) of the file "msg" with key @p k equals
 * openssl's with the key bytes @p key; openssl's MAC passes C_Verify and a
 * corrupted one is CKR_SIGNATURE_INVALID. */
static void same_hmac(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech, const char *md,
                      CK_OBJECT_HANDLE k, const uint8_t *key, size_t key_len)
{
    size_t msg_len = 0;
    uint8_t *msg = lwss_p11t_get("msg", &msg_len);
    uint8_t want[64], mac[64];
    size_t want_len = openssl_hmac(md, key, key_len, want);
    CK_MECHANISM m = {mech, NULL, 0};
    CK_ULONG n = sizeof(mac);
    ck_assert_int_eq(C_SignInit(s, &m, k), CKR_OK);
    ck_assert_int_eq(C_Sign(s, msg, msg_len, mac, &n), CKR_OK);
    ck_assert_uint_eq(n, want_len);
    ck_assert_mem_eq(mac, want, want_len);
    ck_assert_int_eq(C_VerifyInit(s, &m, k), CKR_OK);
    ck_assert_int_eq(C_Verify(s, msg, msg_len, want, want_len), CKR_OK);
    want[0] ^= 1;
    ck_assert_int_eq(C_VerifyInit(s, &m, k), CKR_OK);
    ck_assert_int_eq(C_Verify(s, msg, msg_len, want, want_len), CKR_SIGNATURE_INVALID);
    free(msg);
}

typedef struct {
    CK_MECHANISM_TYPE mech;
    size_t kek_len;
    CK_KEY_TYPE kt;
    size_t key_len;
    const char *cipher, *iv; /* openssl enc cipher and the default IV */
} wrap_row;

/* The unwrapped key @p u works like the bytes @p key in openssl: an AES key
 * encrypts the file "block" as `openssl enc -aes-NNN-ecb -nopad` does, a
 * generic secret MACs "msg" as `openssl dgst -sha256 -mac HMAC` does. */
static void works_like(CK_SESSION_HANDLE s, const wrap_row *r, CK_OBJECT_HANDLE u,
                       const uint8_t *key)
{
    CK_ULONG value_len = 0;
    CK_ATTRIBUTE vl = {CKA_VALUE_LEN, &value_len, sizeof(value_len)};
    ck_assert_int_eq(C_GetAttributeValue(s, u, &vl, 1), CKR_OK);
    ck_assert_uint_eq(value_len, r->key_len);
    if (r->kt != CKK_AES) {
        same_hmac(s, CKM_SHA256_HMAC, "sha256", u, key, r->key_len);
        return;
    }
    size_t block_len = 0, len = 0;
    uint8_t *block = lwss_p11t_get("block", &block_len);
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    uint8_t ct[16];
    CK_ULONG n = sizeof(ct);
    ck_assert_int_eq(C_EncryptInit(s, &ecb, u), CKR_OK);
    ck_assert_int_eq(C_Encrypt(s, block, block_len, ct, &n), CKR_OK);
    char key_hex[2 * 32 + 1], cmd[256];
    lwss_p11t_hex(key, r->key_len, key_hex);
    snprintf(cmd, sizeof(cmd), "enc -e -aes-%zu-ecb -nopad -K %s -in block -out o.ct",
             8 * r->key_len, key_hex);
    lwss_p11t_openssl(cmd);
    uint8_t *oct = lwss_p11t_get("o.ct", &len);
    ck_assert_uint_eq(len, 16);
    ck_assert_uint_eq(n, 16);
    ck_assert_mem_eq(ct, oct, 16);
    free(oct);
    free(block);
}

/* One wrap row both ways (see aes_key_wrap_against_openssl_enc). */
static void wrap_both_ways(CK_SESSION_HANDLE s, const wrap_row *r)
{
    uint8_t kek[32], key[40], out[64];
    char kek_hex[65], cmd[512];
    lwss_p11t_rng(NULL, kek, r->kek_len);
    lwss_p11t_rng(NULL, key, r->key_len);
    lwss_p11t_hex(kek, r->kek_len, kek_hex);
    CK_OBJECT_HANDLE hkek = secret(s, CKK_AES, kek, r->kek_len);
    CK_OBJECT_HANDLE hkey = secret(s, r->kt, key, r->key_len);
    CK_MECHANISM m = {r->mech, NULL, 0};

    /* token wraps, openssl unwraps to the key's bytes */
    CK_ULONG n = sizeof(out);
    ck_assert_int_eq(C_WrapKey(s, &m, hkek, hkey, out, &n), CKR_OK);
    lwss_p11t_put("token.wrapped", out, n);
    snprintf(cmd, sizeof(cmd), "enc -d %s -K %s -iv %s -in token.wrapped -out o.key", r->cipher,
             kek_hex, r->iv);
    lwss_p11t_openssl(cmd);
    size_t len = 0;
    uint8_t *got = lwss_p11t_get("o.key", &len);
    ck_assert_msg(len == r->key_len && memcmp(got, key, len) == 0,
                  "openssl enc -d %s gives other bytes", r->cipher);
    free(got);

    /* openssl wraps the same bytes to the same RFC 3394/5649 output ... */
    lwss_p11t_put("key.bin", key, r->key_len);
    snprintf(cmd, sizeof(cmd), "enc -e %s -K %s -iv %s -in key.bin -out o.wrapped", r->cipher,
             kek_hex, r->iv);
    lwss_p11t_openssl(cmd);
    uint8_t *wrapped = lwss_p11t_get("o.wrapped", &len);
    ck_assert_uint_eq(len, n);
    ck_assert_mem_eq(wrapped, out, n);

    /* ... and the token unwraps it into a key that works like the bytes */
    CK_KEY_TYPE kt = r->kt;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &secret_cls, sizeof(secret_cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_TOKEN, &no, 1},
                        {kt == CKK_AES ? CKA_ENCRYPT : CKA_SIGN, &yes, 1},
                        {kt == CKK_AES ? CKA_DECRYPT : CKA_VERIFY, &yes, 1}};
    CK_OBJECT_HANDLE u = 0;
    ck_assert_int_eq(C_UnwrapKey(s, &m, hkek, wrapped, len, t, 5, &u), CKR_OK);
    free(wrapped);
    works_like(s, r, u, key);
    ck_assert_int_eq(C_DestroyObject(s, u), CKR_OK);
    ck_assert_int_eq(C_DestroyObject(s, hkey), CKR_OK);
    ck_assert_int_eq(C_DestroyObject(s, hkek), CKR_OK);
}

/* CKM_AES_KEY_WRAP (RFC 3394) and CKM_AES_KEY_WRAP_PAD (RFC 5649) against
 * `openssl enc -id-aesNNN-wrap[-pad] -K <kek> -iv <default IV>`:
 * C_WrapKey's output unwraps with `openssl enc -d` to the bytes the key was
 * created from (C_CreateObject), `openssl enc -e` of those bytes is the
 * same wrapped key, and C_UnwrapKey of it gives a key that encrypts
 * (AES-ECB vs `openssl enc -aes-NNN-ecb -nopad`) or MACs (HMAC-SHA256 vs
 * `openssl dgst -mac HMAC`) as the bytes do in openssl. */
START_TEST(aes_key_wrap_against_openssl_enc)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    static const wrap_row rows[] = {
        {CKM_AES_KEY_WRAP, 16, CKK_AES, 16, "-id-aes128-wrap", "A6A6A6A6A6A6A6A6"},
        {CKM_AES_KEY_WRAP, 32, CKK_AES, 32, "-id-aes256-wrap", "A6A6A6A6A6A6A6A6"},
        {CKM_AES_KEY_WRAP, 24, CKK_GENERIC_SECRET, 40, "-id-aes192-wrap", "A6A6A6A6A6A6A6A6"},
        {CKM_AES_KEY_WRAP_PAD, 32, CKK_GENERIC_SECRET, 20, "-id-aes256-wrap-pad", "A65959A6"},
        {CKM_AES_KEY_WRAP_PAD, 16, CKK_AES, 24, "-id-aes128-wrap-pad", "A65959A6"},
        {CKM_AES_KEY_WRAP_PAD, 32, CKK_GENERIC_SECRET, 7, "-id-aes256-wrap-pad", "A65959A6"},
    };
    uint8_t block[16];
    lwss_p11t_rng(NULL, block, sizeof(block));
    lwss_p11t_put("block", block, sizeof(block));
    lwss_p11t_put("msg", block, sizeof(block));
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        wrap_both_ways(s, &rows[i]);
    }
}
END_TEST

typedef struct {
    CK_MECHANISM_TYPE mech, hash;
    CK_RSA_PKCS_MGF_TYPE mgf;
    CK_ULONG salt;
    const char *md;
} pss_row;

/* The openssl command of one PSS row: verify the file "token.sig" (@p sign
 * 0) or sign into "o.sig" (1); raw PSS works on the file "msg.hash". */
static void pss_command(const pss_row *r, int sign, char *cmd, size_t size)
{
    unsigned long salt = (unsigned long)r->salt;
    if (r->mech == CKM_RSA_PKCS_PSS) {
        snprintf(cmd, size,
                 "pkeyutl %s -inkey rsa.pem -pkeyopt rsa_padding_mode:pss "
                 "-pkeyopt rsa_pss_saltlen:%lu -pkeyopt digest:%s -pkeyopt rsa_mgf1_md:%s "
                 "-in msg.hash %s",
                 sign ? "-sign" : "-verify", salt, r->md, r->md,
                 sign ? "-out o.sig" : "-sigfile token.sig");
    } else {
        snprintf(cmd, size,
                 "dgst -%s -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:%lu %s msg",
                 r->md, salt, sign ? "-sign rsa.pem -out o.sig" : "-prverify rsa.pem "
                                                                 "-signature token.sig");
    }
}

/* One PSS row both ways (see rsa_pss_against_openssl); @p in is what the
 * mechanism takes: the message, or its hash for raw PSS. */
static void pss_both_ways(CK_SESSION_HANDLE s, const pss_row *r, CK_OBJECT_HANDLE pub,
                          CK_OBJECT_HANDLE priv, const uint8_t *in, size_t in_len)
{
    char cmd[512];
    CK_RSA_PKCS_PSS_PARAMS p = {r->hash, r->mgf, r->salt};
    CK_MECHANISM m = {r->mech, &p, sizeof(p)};

    /* token signs, openssl verifies; a corrupted signature it rejects */
    uint8_t sig[256];
    CK_ULONG n = sizeof(sig);
    ck_assert_int_eq(C_SignInit(s, &m, priv), CKR_OK);
    ck_assert_int_eq(C_Sign(s, (CK_BYTE_PTR)in, in_len, sig, &n), CKR_OK);
    ck_assert_uint_eq(n, 256);
    lwss_p11t_put("token.sig", sig, n);
    pss_command(r, 0, cmd, sizeof(cmd));
    lwss_p11t_openssl(cmd);
    sig[100] ^= 0x10;
    lwss_p11t_put("token.sig", sig, n);
    ck_assert_msg(lwss_p11t_openssl_status(cmd) != 0, "openssl accepts a corrupted signature: %s", cmd);

    /* openssl signs, the token verifies; corrupted: CKR_SIGNATURE_INVALID */
    pss_command(r, 1, cmd, sizeof(cmd));
    lwss_p11t_openssl(cmd);
    size_t len = 0;
    uint8_t *osig = lwss_p11t_get("o.sig", &len);
    ck_assert_uint_eq(len, 256);
    ck_assert_int_eq(C_VerifyInit(s, &m, pub), CKR_OK);
    ck_assert_int_eq(C_Verify(s, (CK_BYTE_PTR)in, in_len, osig, len), CKR_OK);
    osig[7] ^= 0x01;
    ck_assert_int_eq(C_VerifyInit(s, &m, pub), CKR_OK);
    ck_assert_int_eq(C_Verify(s, (CK_BYTE_PTR)in, in_len, osig, len), CKR_SIGNATURE_INVALID);
    free(osig);
}

/* CKM_RSA_PKCS_PSS (raw, over a hash) against `openssl pkeyutl -sign /
 * -verify -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:N
 * -pkeyopt digest:<md>`, and CKM_SHA256_RSA_PKCS_PSS / CKM_SHA384_RSA_PKCS_PSS
 * against `openssl dgst -<md> -sigopt rsa_padding_mode:pss -sigopt
 * rsa_pss_saltlen:N -sign / -prverify`: the token's signatures verify in
 * openssl, openssl's pass C_Verify, a corrupted one fails on both sides
 * (pkcs11_hashsign has the token -> `openssl dgst` direction for
 * CKM_SHA256_RSA_PKCS_PSS, salt 32, only). */
START_TEST(rsa_pss_against_openssl)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    lwss_p11t_put("rsa.pem", lwss_p11t_rsa_key_pem, strlen(lwss_p11t_rsa_key_pem));
    CK_ATTRIBUTE pt[] = {{CKA_VERIFY, &yes, 1}};
    CK_ATTRIBUTE qt[] = {{CKA_SIGN, &yes, 1}};
    CK_OBJECT_HANDLE pub = 0, priv = 0;
    lwss_p11t_rsa_session_pair(s, pt, 1, qt, 1, &pub, &priv);
    static const pss_row rows[] = {
        {CKM_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 32, "sha256"},
        {CKM_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 0, "sha256"},
        {CKM_RSA_PKCS_PSS, CKM_SHA384, CKG_MGF1_SHA384, 48, "sha384"},
        {CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 32, "sha256"},
        {CKM_SHA256_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 20, "sha256"},
        {CKM_SHA384_RSA_PKCS_PSS, CKM_SHA384, CKG_MGF1_SHA384, 48, "sha384"},
    };
    uint8_t msg[300];
    lwss_p11t_rng(NULL, msg, sizeof(msg));
    lwss_p11t_put("msg", msg, sizeof(msg));
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        if (rows[i].mech != CKM_RSA_PKCS_PSS) {
            pss_both_ways(s, &rows[i], pub, priv, msg, sizeof(msg));
            continue;
        }
        /* raw PSS signs the hash: openssl computes it */
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "dgst -%s -binary -out msg.hash msg", rows[i].md);
        lwss_p11t_openssl(cmd);
        size_t hash_len = 0;
        uint8_t *hash = lwss_p11t_get("msg.hash", &hash_len);
        pss_both_ways(s, &rows[i], pub, priv, hash, hash_len);
        free(hash);
    }
}
END_TEST

/* CKM_SHA_1_HMAC, CKM_SHA256_HMAC, CKM_SHA512_HMAC with generic secrets of
 * 1 to 128 bytes (the token's largest), up to and past the SHA-1/SHA-256
 * block of 64 (RFC 2104: a longer key is hashed first) against
 * `openssl dgst -<md> -mac HMAC -macopt hexkey:<key>`: C_Sign equals
 * openssl's MAC and openssl's MAC passes C_Verify. */
START_TEST(hmac_against_openssl_dgst)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    const struct {
        CK_MECHANISM_TYPE mech;
        const char *md;
    } rows[] = {{CKM_SHA_1_HMAC, "sha1"}, {CKM_SHA256_HMAC, "sha256"}, {CKM_SHA512_HMAC, "sha512"}};
    const size_t key_lens[] = {1, 20, 64, 65, 128}; /* 128: the token's largest */
    uint8_t msg[1000], key[128];
    lwss_p11t_rng(NULL, msg, sizeof(msg));
    lwss_p11t_put("msg", msg, sizeof(msg));
    for (size_t j = 0; j < sizeof(key_lens) / sizeof(key_lens[0]); j++) {
        lwss_p11t_rng(NULL, key, key_lens[j]);
        CK_OBJECT_HANDLE k = secret(s, CKK_GENERIC_SECRET, key, key_lens[j]);
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            same_hmac(s, rows[i].mech, rows[i].md, k, key, key_lens[j]);
        }
        ck_assert_int_eq(C_DestroyObject(s, k), CKR_OK);
    }
}
END_TEST

/* SubjectPublicKeyInfo prefixes (id-ecPublicKey, the named curve, BIT
 * STRING header) for an uncompressed P-256 / P-384 point. */
static const uint8_t SPKI_P256[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                    0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
static const uint8_t SPKI_P384[] = {0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
                                    0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
                                    0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00};
static const uint8_t OID_P256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
static const uint8_t OID_P384[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22};

/* The token's EC public key @p pub as SPKI DER into file @p name. */
static void put_spki(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub, const uint8_t *spki,
                     size_t spki_len, size_t point_len, const char *name)
{
    uint8_t point[110], der[200];
    CK_ATTRIBUTE a = {CKA_EC_POINT, point, sizeof(point)};
    ck_assert_int_eq(C_GetAttributeValue(s, pub, &a, 1), CKR_OK);
    ck_assert_uint_eq(a.ulValueLen, point_len + 2); /* DER OCTET STRING */
    memcpy(der, spki, spki_len);
    memcpy(der + spki_len, point + 2, point_len);
    lwss_p11t_put(name, der, spki_len + point_len);
}

/* CKM_ECDH1_DERIVE with CKD_NULL on P-256 and P-384 against
 * `openssl pkeyutl -derive -inkey peer.pem -peerkey token_pub.der`: the
 * peer key comes from `openssl genpkey`, the token derives a generic
 * secret from the peer's public point; the secret is not readable, so it
 * MACs a message (CKM_SHA256_HMAC) as `openssl dgst -mac HMAC -macopt
 * hexkey:<openssl's shared secret>` does. */
START_TEST(ecdh_against_openssl_pkeyutl)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    uint8_t msg[100];
    lwss_p11t_rng(NULL, msg, sizeof(msg));
    lwss_p11t_put("msg", msg, sizeof(msg));
    for (int p384 = 0; p384 < 2; p384++) {
        size_t field = p384 ? 48 : 32, point_len = 2 * field + 1;
        const uint8_t *spki = p384 ? SPKI_P384 : SPKI_P256;
        size_t spki_len = p384 ? sizeof(SPKI_P384) : sizeof(SPKI_P256);
        CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
        CK_ATTRIBUTE pub_t[] = {{CKA_EC_PARAMS, (void *)(p384 ? OID_P384 : OID_P256),
                                 p384 ? sizeof(OID_P384) : sizeof(OID_P256)},
                                {CKA_TOKEN, &no, 1}};
        CK_ATTRIBUTE priv_t[] = {{CKA_TOKEN, &no, 1}, {CKA_DERIVE, &yes, 1}};
        CK_OBJECT_HANDLE pub = 0, priv = 0;
        ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pub_t, 2, priv_t, 2, &pub, &priv), CKR_OK);

        put_spki(s, pub, spki, spki_len, point_len, "token_pub.der");

        /* openssl's peer key and its public point */
        char cmd[512];
        snprintf(cmd, sizeof(cmd),
                 "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:%s -out peer.pem",
                 p384 ? "P-384" : "P-256");
        lwss_p11t_openssl(cmd);
        lwss_p11t_openssl("pkey -in peer.pem -pubout -outform DER -out peer_pub.der");
        size_t len = 0;
        uint8_t *peer = lwss_p11t_get("peer_pub.der", &len);
        ck_assert_uint_eq(len, spki_len + point_len);
        ck_assert_mem_eq(peer, spki, spki_len);

        /* openssl: peer private x token public */
        lwss_p11t_openssl("pkeyutl -derive -inkey peer.pem -peerkey token_pub.der -peerform DER -out z.bin");
        uint8_t *z = lwss_p11t_get("z.bin", &len);
        ck_assert_uint_eq(len, field);

        /* token: token private x peer public */
        CK_ECDH1_DERIVE_PARAMS dp = {CKD_NULL, 0, NULL, point_len, peer + spki_len};
        CK_MECHANISM m = {CKM_ECDH1_DERIVE, &dp, sizeof(dp)};
        CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
        CK_ULONG value_len = field;
        CK_ATTRIBUTE t[] = {{CKA_CLASS, &secret_cls, sizeof(secret_cls)},
                            {CKA_KEY_TYPE, &kt, sizeof(kt)},
                            {CKA_TOKEN, &no, 1},
                            {CKA_SIGN, &yes, 1},
                            {CKA_VERIFY, &yes, 1},
                            {CKA_VALUE_LEN, &value_len, sizeof(value_len)}};
        CK_OBJECT_HANDLE k = 0;
        ck_assert_int_eq(C_DeriveKey(s, &m, priv, t, 6, &k), CKR_OK);
        same_hmac(s, CKM_SHA256_HMAC, "sha256", k, z, len);
        free(z);
        free(peer);
        ck_assert_int_eq(C_DestroyObject(s, k), CKR_OK);
        ck_assert_int_eq(C_DestroyObject(s, priv), CKR_OK);
        ck_assert_int_eq(C_DestroyObject(s, pub), CKR_OK);
    }
}
END_TEST

Suite *pkcs11_openssl_more_suite(void);

Suite *pkcs11_openssl_more_suite(void)
{
    Suite *su = suite_create("pkcs11_openssl_more");
    TCase *tc = tcase_create("openssl_more");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, aes_key_wrap_against_openssl_enc);
    tcase_add_test(tc, rsa_pss_against_openssl);
    tcase_add_test(tc, hmac_against_openssl_dgst);
    tcase_add_test(tc, ecdh_against_openssl_pkeyutl);
    suite_add_tcase(su, tc);
    return su;
}
