/*
 * Suite "pkcs11_hashsign": digests SHA-1/224/256/384/512 (FIPS 180-4
 * examples), HMAC (RFC 4231 / RFC 2202 test case 2), hash-and-sign
 * CKM_ECDSA_SHA*, CKM_SHA*_RSA_PKCS, CKM_RSA_PKCS_PSS and
 * CKM_SHA*_RSA_PKCS_PSS (signatures checked by mbedtls on the host, and
 * for two of them by `openssl dgst -verify`), and their v2.40 return codes
 * (issue 18 item 5).
 */
#include "tests/support/test_pkcs11.h"

#include <check.h>
#include <mbedtls/md.h>
#include <mbedtls/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void unhex(const char *hex, uint8_t *out, size_t *len)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    *len = n;
}

static const struct {
    CK_MECHANISM_TYPE digest, hmac, ecdsa, rsa, pss;
    mbedtls_md_type_t md;
    CK_RSA_PKCS_MGF_TYPE mgf;
    const char *abc;  /* FIPS 180-4 example "abc" */
    const char *jefe; /* HMAC, key "Jefe", "what do ya want for nothing?" */
} g_hash[] = {
    {CKM_SHA_1, CKM_SHA_1_HMAC, CKM_ECDSA_SHA1, CKM_SHA1_RSA_PKCS, CKM_SHA1_RSA_PKCS_PSS,
     MBEDTLS_MD_SHA1, CKG_MGF1_SHA1, "a9993e364706816aba3e25717850c26c9cd0d89d",
     "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
    {CKM_SHA224, CKM_SHA224_HMAC, CKM_ECDSA_SHA224, CKM_SHA224_RSA_PKCS, CKM_SHA224_RSA_PKCS_PSS,
     MBEDTLS_MD_SHA224, CKG_MGF1_SHA224,
     "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
     "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44"},
    {CKM_SHA256, CKM_SHA256_HMAC, CKM_ECDSA_SHA256, CKM_SHA256_RSA_PKCS, CKM_SHA256_RSA_PKCS_PSS,
     MBEDTLS_MD_SHA256, CKG_MGF1_SHA256,
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {CKM_SHA384, CKM_SHA384_HMAC, CKM_ECDSA_SHA384, CKM_SHA384_RSA_PKCS, CKM_SHA384_RSA_PKCS_PSS,
     MBEDTLS_MD_SHA384, CKG_MGF1_SHA384,
     "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca1"
     "34c825a7",
     "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ec"
     "fab21649"},
    {CKM_SHA512, CKM_SHA512_HMAC, CKM_ECDSA_SHA512, CKM_SHA512_RSA_PKCS, CKM_SHA512_RSA_PKCS_PSS,
     MBEDTLS_MD_SHA512, CKG_MGF1_SHA512,
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23"
     "a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65"
     "f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
};
#define N_HASH (sizeof(g_hash) / sizeof(g_hash[0]))

static const char MSG[] = "the quick brown fox jumps over the lazy dog, twice over";

static void host_hash(mbedtls_md_type_t md, const void *data, size_t len, uint8_t *out)
{
    ck_assert_int_eq(mbedtls_md(mbedtls_md_info_from_type(md), data, len, out), 0);
}

static size_t md_len(mbedtls_md_type_t md)
{
    return mbedtls_md_get_size(mbedtls_md_info_from_type(md));
}

/* Sign MSG in two parts (C_SignUpdate x2 + C_SignFinal, with a length query). */
static CK_ULONG sign_multi(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                           uint8_t *sig, CK_ULONG max)
{
    ck_assert_int_eq(C_SignInit(s, m, key), CKR_OK);
    ck_assert_int_eq(C_SignUpdate(s, (CK_BYTE_PTR)MSG, 10), CKR_OK);
    ck_assert_int_eq(C_SignUpdate(s, (CK_BYTE_PTR)MSG + 10, sizeof(MSG) - 1 - 10), CKR_OK);
    CK_ULONG len = 0;
    ck_assert_int_eq(C_SignFinal(s, NULL, &len), CKR_OK);
    ck_assert_uint_le(len, max);
    ck_assert_int_eq(C_SignFinal(s, sig, &len), CKR_OK);
    return len;
}

/* C_Verify of MSG (single-part) and of a corrupted signature. */
static void token_verifies(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE pub,
                           uint8_t *sig, CK_ULONG len)
{
    ck_assert_int_eq(C_VerifyInit(s, m, pub), CKR_OK);
    ck_assert_int_eq(C_Verify(s, (CK_BYTE_PTR)MSG, sizeof(MSG) - 1, sig, len), CKR_OK);
    sig[len / 2] ^= 1;
    ck_assert_int_eq(C_VerifyInit(s, m, pub), CKR_OK);
    ck_assert_int_eq(C_Verify(s, (CK_BYTE_PTR)MSG, sizeof(MSG) - 1, sig, len),
                     CKR_SIGNATURE_INVALID);
    sig[len / 2] ^= 1;
}

/* FIPS 180-4 examples ("abc") for each digest, single- and multi-part;
 * v2.40 5.10: a length query answers the digest size. */
START_TEST(digests_fips180)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    for (size_t i = 0; i < N_HASH; i++) {
        uint8_t want[64], out[64];
        size_t want_len = 0;
        unhex(g_hash[i].abc, want, &want_len);
        CK_MECHANISM m = {g_hash[i].digest, NULL, 0};
        CK_ULONG len = 0;
        ck_assert_int_eq(C_DigestInit(s, &m), CKR_OK);
        ck_assert_int_eq(C_Digest(s, (CK_BYTE_PTR) "abc", 3, NULL, &len), CKR_OK);
        ck_assert_uint_eq(len, want_len);
        len = 8;
        ck_assert_int_eq(C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len), CKR_BUFFER_TOO_SMALL);
        len = sizeof(out);
        ck_assert_int_eq(C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len), CKR_OK);
        ck_assert_uint_eq(len, want_len);
        ck_assert_mem_eq(out, want, want_len);
        ck_assert_int_eq(C_DigestInit(s, &m), CKR_OK);
        ck_assert_int_eq(C_DigestUpdate(s, (CK_BYTE_PTR) "a", 1), CKR_OK);
        ck_assert_int_eq(C_DigestUpdate(s, (CK_BYTE_PTR) "bc", 2), CKR_OK);
        len = sizeof(out);
        ck_assert_int_eq(C_DigestFinal(s, out, &len), CKR_OK);
        ck_assert_mem_eq(out, want, want_len);
    }
}
END_TEST

static CK_OBJECT_HANDLE hmac_key(CK_SESSION_HANDLE s, CK_KEY_TYPE kt)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_TOKEN, &no, 1},
                        {CKA_VALUE, "Jefe", 4}};
    CK_OBJECT_HANDLE h = 0;
    ck_assert_int_eq(C_CreateObject(s, t, 4, &h), CKR_OK);
    return h;
}

/* RFC 4231 test case 2 (RFC 2202 for SHA-1): C_Sign, multi-part, C_Verify;
 * a corrupted MAC is CKR_SIGNATURE_INVALID, a short one
 * CKR_SIGNATURE_LEN_RANGE; an AES key is CKR_KEY_TYPE_INCONSISTENT. */
START_TEST(hmac_rfc4231)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE key = hmac_key(s, CKK_GENERIC_SECRET);
    const char *msg = "what do ya want for nothing?";
    for (size_t i = 0; i < N_HASH; i++) {
        uint8_t want[64], mac[64];
        size_t want_len = 0;
        unhex(g_hash[i].jefe, want, &want_len);
        CK_MECHANISM m = {g_hash[i].hmac, NULL, 0};
        CK_ULONG len = sizeof(mac);
        ck_assert_int_eq(C_SignInit(s, &m, key), CKR_OK);
        ck_assert_int_eq(C_Sign(s, (CK_BYTE_PTR)msg, strlen(msg), mac, &len), CKR_OK);
        ck_assert_uint_eq(len, want_len);
        ck_assert_mem_eq(mac, want, want_len);
        ck_assert_int_eq(C_SignInit(s, &m, key), CKR_OK);
        ck_assert_int_eq(C_SignUpdate(s, (CK_BYTE_PTR)msg, 4), CKR_OK);
        ck_assert_int_eq(C_SignUpdate(s, (CK_BYTE_PTR)msg + 4, strlen(msg) - 4), CKR_OK);
        len = sizeof(mac);
        ck_assert_int_eq(C_SignFinal(s, mac, &len), CKR_OK);
        ck_assert_mem_eq(mac, want, want_len);
        ck_assert_int_eq(C_VerifyInit(s, &m, key), CKR_OK);
        ck_assert_int_eq(C_Verify(s, (CK_BYTE_PTR)msg, strlen(msg), want, want_len), CKR_OK);
        want[0] ^= 1;
        ck_assert_int_eq(C_VerifyInit(s, &m, key), CKR_OK);
        ck_assert_int_eq(C_Verify(s, (CK_BYTE_PTR)msg, strlen(msg), want, want_len),
                         CKR_SIGNATURE_INVALID);
        ck_assert_int_eq(C_VerifyInit(s, &m, key), CKR_OK);
        ck_assert_int_eq(C_Verify(s, (CK_BYTE_PTR)msg, strlen(msg), want, want_len - 1),
                         CKR_SIGNATURE_LEN_RANGE);
    }
    /* a key of the mechanism's own type works; another HMAC type does not */
    CK_OBJECT_HANDLE k256 = hmac_key(s, CKK_SHA256_HMAC);
    CK_MECHANISM m384 = {CKM_SHA384_HMAC, NULL, 0}, m256 = {CKM_SHA256_HMAC, NULL, 0};
    ck_assert_int_eq(C_SignInit(s, &m256, k256), CKR_OK);
    uint8_t mac[64];
    CK_ULONG len = sizeof(mac);
    ck_assert_int_eq(C_Sign(s, (CK_BYTE_PTR)msg, strlen(msg), mac, &len), CKR_OK);
    ck_assert_int_eq(C_SignInit(s, &m384, k256), CKR_KEY_TYPE_INCONSISTENT);
}
END_TEST

/* The HMAC key types of v2.40 (CKK_SHA_1_HMAC, CKK_SHA224_HMAC,
 * CKK_SHA256_HMAC, CKK_SHA384_HMAC, CKK_SHA512_HMAC; generic secrets for one
 * hash, as in SoftHSMv2): each can be created (1..128 bytes, else
 * CKR_ATTRIBUTE_VALUE_INVALID), reads back its type, CKA_VALUE_LEN and the
 * generic-secret CKA_CHECK_VALUE (SHA-1 of the value; a wrong one given to
 * C_CreateObject is CKR_ATTRIBUTE_VALUE_INVALID, v2.40 4.10), MACs with its
 * own CKM_SHA*_HMAC (RFC 4231 / RFC 2202 vector) and is
 * CKR_KEY_TYPE_INCONSISTENT for the other HMACs (v2.40 5.12 C_SignInit). */
START_TEST(hmac_key_types)
{
    static const CK_KEY_TYPE kts[N_HASH] = {CKK_SHA_1_HMAC, CKK_SHA224_HMAC, CKK_SHA256_HMAC,
                                            CKK_SHA384_HMAC, CKK_SHA512_HMAC};
    CK_SESSION_HANDLE s = lwss_p11t_session();
    const char *msg = "what do ya want for nothing?";
    uint8_t sha1[20];
    host_hash(MBEDTLS_MD_SHA1, "Jefe", 4, sha1);
    for (size_t i = 0; i < N_HASH; i++) {
        CK_OBJECT_HANDLE key = hmac_key(s, kts[i]);
        CK_KEY_TYPE kt = 0;
        CK_ULONG vlen = 0;
        uint8_t kcv[3];
        CK_ATTRIBUTE q[] = {{CKA_KEY_TYPE, &kt, sizeof(kt)},
                            {CKA_VALUE_LEN, &vlen, sizeof(vlen)},
                            {CKA_CHECK_VALUE, kcv, sizeof(kcv)}};
        ck_assert_int_eq(C_GetAttributeValue(s, key, q, 3), CKR_OK);
        ck_assert_uint_eq(kt, kts[i]);
        ck_assert_uint_eq(vlen, 4);
        ck_assert_mem_eq(kcv, sha1, 3);
        uint8_t want[64], mac[64];
        size_t want_len = 0;
        unhex(g_hash[i].jefe, want, &want_len);
        for (size_t j = 0; j < N_HASH; j++) {
            CK_MECHANISM m = {g_hash[j].hmac, NULL, 0};
            if (j != i) {
                ck_assert_int_eq(C_SignInit(s, &m, key), CKR_KEY_TYPE_INCONSISTENT);
                ck_assert_int_eq(C_VerifyInit(s, &m, key), CKR_KEY_TYPE_INCONSISTENT);
                continue;
            }
            CK_ULONG len = sizeof(mac);
            ck_assert_int_eq(C_SignInit(s, &m, key), CKR_OK);
            ck_assert_int_eq(C_Sign(s, (CK_BYTE_PTR)msg, strlen(msg), mac, &len), CKR_OK);
            ck_assert_uint_eq(len, want_len);
            ck_assert_mem_eq(mac, want, want_len);
            ck_assert_int_eq(C_VerifyInit(s, &m, key), CKR_OK);
            ck_assert_int_eq(C_Verify(s, (CK_BYTE_PTR)msg, strlen(msg), want, want_len), CKR_OK);
        }
        /* length 1..128 and a given check value must hold */
        CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
        CK_BBOOL no = CK_FALSE;
        static uint8_t big[129];
        uint8_t bad_kcv[3] = {(uint8_t)(sha1[0] ^ 1), sha1[1], sha1[2]};
        CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
                            {CKA_TOKEN, &no, 1},            {CKA_VALUE, big, sizeof(big)},
                            {CKA_CHECK_VALUE, sha1, 3}};
        CK_OBJECT_HANDLE h = 0;
        ck_assert_int_eq(C_CreateObject(s, t, 4, &h), CKR_ATTRIBUTE_VALUE_INVALID);
        t[3].ulValueLen = 0;
        ck_assert_int_eq(C_CreateObject(s, t, 4, &h), CKR_ATTRIBUTE_VALUE_INVALID);
        t[3] = (CK_ATTRIBUTE){CKA_VALUE, "Jefe", 4};
        ck_assert_int_eq(C_CreateObject(s, t, 5, &h), CKR_OK);
        ck_assert_int_eq(C_DestroyObject(s, h), CKR_OK);
        t[4].pValue = bad_kcv;
        ck_assert_int_eq(C_CreateObject(s, t, 5, &h), CKR_ATTRIBUTE_VALUE_INVALID);
        ck_assert_int_eq(C_DestroyObject(s, key), CKR_OK);
    }
}
END_TEST

/* CKM_ECDSA_SHA* (v2.40 mechanisms 2.3.10): multi-part on P-256, the host
 * verifies the r||s signature over its own hash of the message; the token
 * verifies it too and refuses a corrupted one. */
START_TEST(ecdsa_hash_and_sign)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE priv = lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem,
                                                 LWSS_PKCS11_PRIVATE);
    CK_OBJECT_HANDLE pub = lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem, LWSS_PKCS11_PUBLIC);
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_ec_key_pem, &pk);
    for (size_t i = 0; i < N_HASH; i++) {
        CK_MECHANISM m = {g_hash[i].ecdsa, NULL, 0};
        uint8_t sig[64], der[80], hash[64];
        CK_ULONG len = sign_multi(s, &m, priv, sig, sizeof(sig));
        ck_assert_uint_eq(len, 64);
        host_hash(g_hash[i].md, MSG, sizeof(MSG) - 1, hash);
        size_t der_len = lwss_p11t_ecdsa_raw_to_der(sig, der, sizeof(der));
        ck_assert_int_eq(mbedtls_pk_verify(&pk, g_hash[i].md, hash, md_len(g_hash[i].md), der,
                                           der_len),
                         0);
        token_verifies(s, &m, pub, sig, len);
    }
    mbedtls_pk_free(&pk);
}
END_TEST

/* CKM_SHA*_RSA_PKCS (v2.40 mechanisms 2.1.14): PKCS #1 v1.5 over the
 * token's hash, checked by the host. */
START_TEST(rsa_pkcs_hash_and_sign)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE priv = lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem,
                                                 LWSS_PKCS11_PRIVATE);
    CK_OBJECT_HANDLE pub = lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem,
                                                LWSS_PKCS11_PUBLIC);
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_rsa_key_pem, &pk);
    for (size_t i = 0; i < N_HASH; i++) {
        CK_MECHANISM m = {g_hash[i].rsa, NULL, 0};
        uint8_t sig[256], hash[64];
        CK_ULONG len = sign_multi(s, &m, priv, sig, sizeof(sig));
        ck_assert_uint_eq(len, 256);
        host_hash(g_hash[i].md, MSG, sizeof(MSG) - 1, hash);
        ck_assert_int_eq(mbedtls_pk_verify(&pk, g_hash[i].md, hash, md_len(g_hash[i].md), sig,
                                           len),
                         0);
        token_verifies(s, &m, pub, sig, len);
    }
    mbedtls_pk_free(&pk);
}
END_TEST

/* Host check of an RSASSA-PSS signature (MGF1 with the same hash). */
static int host_pss_ok(mbedtls_pk_context *pk, mbedtls_md_type_t md, const uint8_t *hash,
                       int salt, const uint8_t *sig)
{
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(*pk);
    mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, md);
    int ret = mbedtls_rsa_rsassa_pss_verify_ext(rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, md, 0, hash,
                                                md, salt, sig);
    mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_NONE);
    return ret == 0;
}

/* CKM_SHA*_RSA_PKCS_PSS and CKM_RSA_PKCS_PSS (v2.40 mechanisms 2.1.11,
 * 2.1.15): signatures the host verifies with the sLen given. */
START_TEST(rsa_pss_sign)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE priv = lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem,
                                                 LWSS_PKCS11_PRIVATE);
    CK_OBJECT_HANDLE pub = lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem,
                                                LWSS_PKCS11_PUBLIC);
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_rsa_key_pem, &pk);
    for (size_t i = 0; i < N_HASH; i++) {
        size_t hl = md_len(g_hash[i].md);
        CK_RSA_PKCS_PSS_PARAMS p = {g_hash[i].digest, g_hash[i].mgf, hl};
        CK_MECHANISM m = {g_hash[i].pss, &p, sizeof(p)};
        uint8_t sig[256], hash[64];
        CK_ULONG len = sign_multi(s, &m, priv, sig, sizeof(sig));
        ck_assert_uint_eq(len, 256);
        host_hash(g_hash[i].md, MSG, sizeof(MSG) - 1, hash);
        ck_assert(host_pss_ok(&pk, g_hash[i].md, hash, (int)hl, sig));
        token_verifies(s, &m, pub, sig, len);
        /* raw CKM_RSA_PKCS_PSS over the same hash, salt 0 */
        CK_RSA_PKCS_PSS_PARAMS p0 = {g_hash[i].digest, g_hash[i].mgf, 0};
        CK_MECHANISM raw = {CKM_RSA_PKCS_PSS, &p0, sizeof(p0)};
        ck_assert_int_eq(C_SignInit(s, &raw, priv), CKR_OK);
        len = sizeof(sig);
        ck_assert_int_eq(C_Sign(s, hash, hl, sig, &len), CKR_OK);
        ck_assert(host_pss_ok(&pk, g_hash[i].md, hash, 0, sig));
        ck_assert_int_eq(C_VerifyInit(s, &raw, pub), CKR_OK);
        ck_assert_int_eq(C_Verify(s, hash, hl, sig, len), CKR_OK);
    }
    mbedtls_pk_free(&pk);
}
END_TEST

/* v2.40 mechanisms 2.1.11: CK_RSA_PKCS_PSS_PARAMS checked at *Init
 * (CKR_MECHANISM_PARAM_INVALID: missing, wrong size, hashAlg not the
 * mechanism's, MGF of another hash, sLen too long for the key); raw PSS
 * input of the wrong size is CKR_DATA_LEN_RANGE; v2.40 5.12 / 5.13: the
 * hash-and-sign mechanisms are multi-part, but single- and multi-part do
 * not mix (CKR_OPERATION_ACTIVE); a key of the other type is
 * CKR_KEY_TYPE_INCONSISTENT. */
START_TEST(hashsign_errors)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE rsa = lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem,
                                                LWSS_PKCS11_PRIVATE);
    CK_OBJECT_HANDLE ec = lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem, LWSS_PKCS11_PRIVATE);
    CK_RSA_PKCS_PSS_PARAMS ok = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_RSA_PKCS_PSS_PARAMS bad_hash = {CKM_SHA384, CKG_MGF1_SHA384, 32};
    CK_RSA_PKCS_PSS_PARAMS bad_mgf = {CKM_SHA256, CKG_MGF1_SHA1, 32};
    CK_RSA_PKCS_PSS_PARAMS bad_slen = {CKM_SHA256, CKG_MGF1_SHA256, 300};
    CK_RSA_PKCS_PSS_PARAMS bad_alg = {CKM_MD5, CKG_MGF1_SHA256, 32};
    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS_PSS, NULL, 0};
    ck_assert_int_eq(C_SignInit(s, &m, rsa), CKR_MECHANISM_PARAM_INVALID);
    m.pParameter = &ok;
    m.ulParameterLen = sizeof(ok) - 1;
    ck_assert_int_eq(C_SignInit(s, &m, rsa), CKR_MECHANISM_PARAM_INVALID);
    m.ulParameterLen = sizeof(ok);
    CK_RSA_PKCS_PSS_PARAMS *bad[] = {&bad_hash, &bad_mgf, &bad_slen, &bad_alg};
    for (size_t i = 0; i < 4; i++) {
        m.pParameter = bad[i];
        ck_assert_int_eq(C_SignInit(s, &m, rsa), CKR_MECHANISM_PARAM_INVALID);
        ck_assert_int_eq(C_VerifyInit(s, &m, rsa), CKR_MECHANISM_PARAM_INVALID);
    }
    m.pParameter = &ok;
    ck_assert_int_eq(C_SignInit(s, &m, ec), CKR_KEY_TYPE_INCONSISTENT);
    /* raw PSS: another hashAlg is fine, the input must be that hash's size */
    CK_MECHANISM raw = {CKM_RSA_PKCS_PSS, &bad_hash, sizeof(bad_hash)};
    ck_assert_int_eq(C_SignInit(s, &raw, rsa), CKR_OK);
    uint8_t sig[256];
    CK_ULONG len = sizeof(sig);
    ck_assert_int_eq(C_Sign(s, (CK_BYTE_PTR) "0123456789abcdef0123456789abcdef", 32, sig, &len),
                     CKR_DATA_LEN_RANGE);
    ck_assert_int_eq(C_SignInit(s, &raw, rsa), CKR_OK);
    ck_assert_int_eq(C_SignUpdate(s, (CK_BYTE_PTR) "x", 1), CKR_FUNCTION_NOT_SUPPORTED);

    CK_MECHANISM e = {CKM_ECDSA_SHA256, NULL, 0};
    ck_assert_int_eq(C_SignInit(s, &e, rsa), CKR_KEY_TYPE_INCONSISTENT);
    CK_MECHANISM r = {CKM_SHA256_RSA_PKCS, NULL, 0};
    ck_assert_int_eq(C_SignInit(s, &r, ec), CKR_KEY_TYPE_INCONSISTENT);
    ck_assert_int_eq(C_SignInit(s, &e, ec), CKR_OK);
    ck_assert_int_eq(C_SignUpdate(s, (CK_BYTE_PTR) "x", 1), CKR_OK);
    len = sizeof(sig);
    ck_assert_int_eq(C_Sign(s, (CK_BYTE_PTR) "x", 1, sig, &len), CKR_OPERATION_ACTIVE);
    ck_assert_int_eq(C_SignFinal(s, sig, &len), CKR_OPERATION_NOT_INITIALIZED); /* it ended */
    /* single-part hash-and-sign works too */
    ck_assert_int_eq(C_SignInit(s, &e, ec), CKR_OK);
    len = sizeof(sig);
    ck_assert_int_eq(C_Sign(s, (CK_BYTE_PTR)MSG, sizeof(MSG) - 1, sig, &len), CKR_OK);
    ck_assert_uint_eq(len, 64);
    CK_MECHANISM d = {CKM_MD5, NULL, 0};
    ck_assert_int_eq(C_DigestInit(s, &d), CKR_MECHANISM_INVALID);
}
END_TEST

/* Write @p len bytes to @p path (asserts). */
static void put_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* `openssl dgst -sha384 -verify` accepts CKM_ECDSA_SHA384 (DER form) and
 * `openssl dgst -sha256 -sigopt rsa_padding_mode:pss` CKM_SHA256_RSA_PKCS_PSS
 * signatures made by the token, with the public keys the token exports. */
START_TEST(openssl_verifies)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE ec = lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem, LWSS_PKCS11_PRIVATE);
    CK_OBJECT_HANDLE rsa = lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem,
                                                LWSS_PKCS11_PRIVATE);
    char path[512], cmd[2048];
    const char *d = lwss_p11t_dir();
    snprintf(path, sizeof(path), "%s/msg", d);
    put_file(path, MSG, sizeof(MSG) - 1);
    /* the public keys as the token exports them (CKA_PUBLIC_KEY_INFO, SPKI DER) */
    const char *keys[2] = {lwss_p11t_ec_key_pem, lwss_p11t_rsa_key_pem};
    const char *names[2] = {"ec.pub", "rsa.pub"};
    for (int i = 0; i < 2; i++) {
        CK_OBJECT_HANDLE pub = lwss_p11t_import_key(s, names[i], keys[i], LWSS_PKCS11_PUBLIC);
        uint8_t spki[600];
        CK_ATTRIBUTE a = {CKA_PUBLIC_KEY_INFO, spki, sizeof(spki)};
        ck_assert_int_eq(C_GetAttributeValue(s, pub, &a, 1), CKR_OK);
        snprintf(path, sizeof(path), "%s/%s", d, names[i]);
        put_file(path, spki, a.ulValueLen);
    }
    CK_MECHANISM e = {CKM_ECDSA_SHA384, NULL, 0};
    uint8_t sig[256], der[80];
    CK_ULONG len = sign_multi(s, &e, ec, sig, sizeof(sig));
    size_t der_len = lwss_p11t_ecdsa_raw_to_der(sig, der, sizeof(der));
    snprintf(path, sizeof(path), "%s/ec.sig", d);
    put_file(path, der, der_len);
    snprintf(cmd, sizeof(cmd),
             "openssl dgst -sha384 -keyform DER -verify '%s/ec.pub' -signature '%s/ec.sig' "
             "'%s/msg' >/dev/null 2>&1",
             d, d, d);
    ck_assert_int_eq(system(cmd), 0);
    CK_RSA_PKCS_PSS_PARAMS p = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS_PSS, &p, sizeof(p)};
    len = sign_multi(s, &m, rsa, sig, sizeof(sig));
    snprintf(path, sizeof(path), "%s/rsa.sig", d);
    put_file(path, sig, len);
    snprintf(cmd, sizeof(cmd),
             "openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 "
             "-keyform DER -verify '%s/rsa.pub' -signature '%s/rsa.sig' '%s/msg' >/dev/null 2>&1",
             d, d, d);
    ck_assert_int_eq(system(cmd), 0);
    /* and a tampered message fails there */
    snprintf(path, sizeof(path), "%s/msg", d);
    put_file(path, "tampered", 8);
    ck_assert_int_ne(system(cmd), 0);
}
END_TEST

Suite *pkcs11_hashsign_suite(void);

Suite *pkcs11_hashsign_suite(void)
{
    Suite *su = suite_create("pkcs11_hashsign");
    TCase *tc = tcase_create("hashsign");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, digests_fips180);
    tcase_add_test(tc, hmac_rfc4231);
    tcase_add_test(tc, hmac_key_types);
    tcase_add_test(tc, ecdsa_hash_and_sign);
    tcase_add_test(tc, rsa_pkcs_hash_and_sign);
    tcase_add_test(tc, rsa_pss_sign);
    tcase_add_test(tc, hashsign_errors);
    tcase_add_test(tc, openssl_verifies);
    suite_add_tcase(su, tc);
    return su;
}
