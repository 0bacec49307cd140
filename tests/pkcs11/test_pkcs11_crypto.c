/* PKCS #11 token: sign / verify / key generation (suite pkcs11_crypto). */
#include "tests/support/test_pkcs11.h"
#include "src/pkcs11/token.h"

#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <string.h>

static const uint8_t g_p256_oid[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};

static CK_RV token_sign(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, CK_OBJECT_HANDLE key,
                        const uint8_t *data, size_t len, uint8_t *sig, CK_ULONG *sig_len)
{
    CK_MECHANISM mech = {m, NULL, 0};
    CK_RV rv = C_SignInit(s, &mech, key);
    return rv != CKR_OK ? rv : C_Sign(s, (CK_BYTE_PTR)data, len, sig, sig_len);
}

static CK_RV token_verify(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE m, CK_OBJECT_HANDLE key,
                          const uint8_t *data, size_t len, const uint8_t *sig, CK_ULONG sig_len)
{
    CK_MECHANISM mech = {m, NULL, 0};
    CK_RV rv = C_VerifyInit(s, &mech, key);
    return rv != CKR_OK ? rv : C_Verify(s, (CK_BYTE_PTR)data, len, (CK_BYTE_PTR)sig, sig_len);
}

START_TEST(ecdsa_sign_verify_tamper)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE priv = lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem,
                                                 LWSS_PKCS11_PRIVATE);
    CK_OBJECT_HANDLE pub = lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem, LWSS_PKCS11_PUBLIC);
    CK_OBJECT_HANDLE other = lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem,
                                                  LWSS_PKCS11_PUBLIC);
    uint8_t hash[32];
    lwss_p11t_sha256("message", 7, hash);
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    uint8_t sig[64];
    CK_ULONG len = 0;
    ck_assert_int_eq(C_Sign(s, hash, 32, NULL, &len), CKR_OPERATION_NOT_INITIALIZED);
    ck_assert_int_eq(C_SignInit(s, &ecdsa, priv), CKR_OK);
    ck_assert_int_eq(C_SignInit(s, &ecdsa, priv), CKR_OPERATION_ACTIVE);
    ck_assert_int_eq(C_Sign(s, hash, 32, NULL, &len), CKR_OK);
    ck_assert_uint_eq(len, 64);
    len = 63;
    ck_assert_int_eq(C_Sign(s, hash, 32, sig, &len), CKR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(len, 64);
    ck_assert_int_eq(C_Sign(s, hash, 32, sig, &len), CKR_OK); /* still active */
    ck_assert_int_eq(C_Sign(s, hash, 32, sig, &len), CKR_OPERATION_NOT_INITIALIZED);
    /* host verifies the token's signature */
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_ec_key_pem, &pk);
    uint8_t der[80];
    size_t der_len = lwss_p11t_ecdsa_raw_to_der(sig, der, sizeof(der));
    ck_assert_int_eq(mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, 32, der, der_len), 0);
    /* token verifies its own and the host's signature */
    ck_assert_int_eq(token_verify(s, CKM_ECDSA, pub, hash, 32, sig, 64), CKR_OK);
    mbedtls_mpi r, sv;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&sv);
    ck_assert_int_eq(mbedtls_ecdsa_sign(&mbedtls_pk_ec(pk)->grp, &r, &sv, &mbedtls_pk_ec(pk)->d,
                                        hash, 32, lwss_p11t_rng, NULL),
                     0);
    uint8_t host_sig[64];
    ck_assert_int_eq(mbedtls_mpi_write_binary(&r, host_sig, 32), 0);
    ck_assert_int_eq(mbedtls_mpi_write_binary(&sv, host_sig + 32, 32), 0);
    ck_assert_int_eq(token_verify(s, CKM_ECDSA, pub, hash, 32, host_sig, 64), CKR_OK);
    /* tampered signature, tampered hash, wrong key, wrong length */
    for (size_t bit = 0; bit < 64 * 8; bit += 37) {
        uint8_t bad[64];
        memcpy(bad, sig, 64);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_int_eq(token_verify(s, CKM_ECDSA, pub, hash, 32, bad, 64), CKR_SIGNATURE_INVALID);
    }
    uint8_t hash2[32];
    memcpy(hash2, hash, 32);
    hash2[5] ^= 1;
    ck_assert_int_eq(token_verify(s, CKM_ECDSA, pub, hash2, 32, sig, 64), CKR_SIGNATURE_INVALID);
    ck_assert_int_eq(token_verify(s, CKM_ECDSA, pub, hash, 32, sig, 63), CKR_SIGNATURE_LEN_RANGE);
    ck_assert_int_eq(token_verify(s, CKM_ECDSA, other, hash, 32, sig, 64),
                     CKR_KEY_TYPE_INCONSISTENT);
    /* a different EC key: generated in the token */
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pub_t[] = {{CKA_EC_PARAMS, (void *)g_p256_oid, sizeof(g_p256_oid)},
                            {CKA_LABEL, "other", 5}};
    CK_ATTRIBUTE priv_t[] = {{CKA_LABEL, "other", 5}};
    CK_OBJECT_HANDLE gpub = 0;
    CK_OBJECT_HANDLE gpriv = 0;
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pub_t, 2, priv_t, 1, &gpub, &gpriv), CKR_OK);
    ck_assert_int_eq(token_verify(s, CKM_ECDSA, gpub, hash, 32, sig, 64), CKR_SIGNATURE_INVALID);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&sv);
    mbedtls_pk_free(&pk);
}
END_TEST

/* RSA verification really verifies (the reference returned OK regardless). */
START_TEST(rsa_sign_verify_tamper)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE priv = lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem,
                                                 LWSS_PKCS11_PRIVATE);
    CK_OBJECT_HANDLE pub = lwss_p11t_import_cert(s, "rsa-cert", lwss_p11t_rsa_crt_pem);
    (void)pub;
    CK_OBJECT_HANDLE pubkey = lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem,
                                                   LWSS_PKCS11_PUBLIC);
    CK_OBJECT_HANDLE wrong = lwss_p11t_import_key(s, "rsa2", lwss_p11t_rsa2_key_pem,
                                                  LWSS_PKCS11_PUBLIC);
    uint8_t hash[32];
    uint8_t info[51];
    lwss_p11t_sha256("rsa message", 11, hash);
    lwss_p11t_digest_info(hash, info);
    uint8_t sig[256];
    CK_ULONG len = 255;
    CK_MECHANISM rsa = {CKM_RSA_PKCS, NULL, 0};
    ck_assert_int_eq(C_SignInit(s, &rsa, priv), CKR_OK);
    ck_assert_int_eq(C_Sign(s, info, sizeof(info), sig, &len), CKR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(len, 256);
    ck_assert_int_eq(C_Sign(s, info, sizeof(info), sig, &len), CKR_OK);
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_rsa_key_pem, &pk);
    ck_assert_int_eq(mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, 32, sig, 256), 0);
    ck_assert_int_eq(token_verify(s, CKM_RSA_PKCS, pubkey, info, 51, sig, 256), CKR_OK);
    uint8_t host_sig[256];
    size_t host_len = 0;
    ck_assert_int_eq(mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, hash, 32, host_sig, &host_len,
                                     lwss_p11t_rng, NULL),
                     0);
    ck_assert_int_eq(token_verify(s, CKM_RSA_PKCS, pubkey, info, 51, host_sig, 256), CKR_OK);
    uint8_t bad[256];
    memcpy(bad, sig, 256);
    bad[100] ^= 0x10;
    ck_assert_int_eq(token_verify(s, CKM_RSA_PKCS, pubkey, info, 51, bad, 256),
                     CKR_SIGNATURE_INVALID);
    uint8_t info2[51];
    memcpy(info2, info, 51);
    info2[50] ^= 1;
    ck_assert_int_eq(token_verify(s, CKM_RSA_PKCS, pubkey, info2, 51, sig, 256),
                     CKR_SIGNATURE_INVALID);
    ck_assert_int_eq(token_verify(s, CKM_RSA_PKCS, wrong, info, 51, sig, 256),
                     CKR_SIGNATURE_INVALID);
    ck_assert_int_eq(token_verify(s, CKM_RSA_PKCS, pubkey, info, 51, sig, 128),
                     CKR_SIGNATURE_LEN_RANGE);
    /* too much data for PKCS#1 v1.5 padding */
    uint8_t big[250] = {0};
    len = sizeof(sig);
    ck_assert_int_eq(token_sign(s, CKM_RSA_PKCS, priv, big, sizeof(big), sig, &len),
                     CKR_DATA_LEN_RANGE);
    mbedtls_pk_free(&pk);
}
END_TEST

/* Templates as OpenSC pkcs11-tool sends them. */
START_TEST(generate_ec_key_pair)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_CLASS pub_c = CKO_PUBLIC_KEY;
    CK_OBJECT_CLASS priv_c = CKO_PRIVATE_KEY;
    CK_KEY_TYPE ec = CKK_EC;
    CK_BBOOL yes = CK_TRUE;
    CK_BBOOL no = CK_FALSE;
    uint8_t id[] = {0x42};
    CK_ATTRIBUTE pub_t[] = {{CKA_CLASS, &pub_c, sizeof(pub_c)}, {CKA_KEY_TYPE, &ec, sizeof(ec)},
                            {CKA_TOKEN, &yes, 1}, {CKA_VERIFY, &yes, 1},
                            {CKA_EC_PARAMS, (void *)g_p256_oid, sizeof(g_p256_oid)},
                            {CKA_LABEL, "gen", 3}, {CKA_ID, id, 1}, {CKA_PRIVATE, &no, 1}};
    CK_ATTRIBUTE priv_t[] = {{CKA_CLASS, &priv_c, sizeof(priv_c)}, {CKA_KEY_TYPE, &ec, sizeof(ec)},
                             {CKA_TOKEN, &yes, 1}, {CKA_PRIVATE, &yes, 1},
                             {CKA_SENSITIVE, &yes, 1}, {CKA_SIGN, &yes, 1},
                             {CKA_DERIVE, &yes, 1}, {CKA_LABEL, "gen", 3}, {CKA_ID, id, 1}};
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_OBJECT_HANDLE pub = 0;
    CK_OBJECT_HANDLE priv = 0;
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pub_t, 8, priv_t, 9, &pub, &priv), CKR_OK);
    uint8_t point[67];
    CK_ATTRIBUTE pa = {CKA_EC_POINT, point, sizeof(point)};
    ck_assert_int_eq(C_GetAttributeValue(s, pub, &pa, 1), CKR_OK);
    ck_assert_uint_eq(pa.ulValueLen, 67);
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    ck_assert_int_eq(mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1), 0);
    ck_assert_int_eq(mbedtls_ecp_point_read_binary(&grp, &q, point + 2, 65), 0);
    uint8_t hash[32];
    uint8_t sig[64];
    CK_ULONG len = sizeof(sig);
    lwss_p11t_sha256("gen", 3, hash);
    ck_assert_int_eq(token_sign(s, CKM_ECDSA, priv, hash, 32, sig, &len), CKR_OK);
    mbedtls_mpi r, sv;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&sv);
    ck_assert_int_eq(mbedtls_mpi_read_binary(&r, sig, 32), 0);
    ck_assert_int_eq(mbedtls_mpi_read_binary(&sv, sig + 32, 32), 0);
    ck_assert_int_eq(mbedtls_ecdsa_verify(&grp, hash, 32, &q, &r, &sv), 0);
    /* bad requests */
    const uint8_t p521[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23};
    CK_ATTRIBUTE p521_t[] = {{CKA_EC_PARAMS, (void *)p521, sizeof(p521)}};
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, p521_t, 1, priv_t, 9, &pub, &priv),
                     CKR_CURVE_NOT_SUPPORTED);
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pub_t + 5, 1, priv_t, 9, &pub, &priv),
                     CKR_TEMPLATE_INCOMPLETE);
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, priv_t, 9, pub_t, 8, &pub, &priv),
                     CKR_TEMPLATE_INCONSISTENT);
    CK_MECHANISM rsa_gen = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    /* RSA generation with templates that say CKK_EC */
    ck_assert_int_eq(C_GenerateKeyPair(s, &rsa_gen, pub_t, 8, priv_t, 9, &pub, &priv),
                     CKR_TEMPLATE_INCONSISTENT);
    CK_MECHANISM ec_derive = {CKM_ECDH1_DERIVE, NULL, 0};
    ck_assert_int_eq(C_GenerateKeyPair(s, &ec_derive, pub_t, 8, priv_t, 9, &pub, &priv),
                     CKR_MECHANISM_INVALID);
    CK_SESSION_HANDLE ro = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
    ck_assert_int_eq(C_GenerateKeyPair(ro, &gen, pub_t, 8, priv_t, 9, &pub, &priv),
                     CKR_SESSION_READ_ONLY);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&sv);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
}
END_TEST

static CK_OBJECT_HANDLE create_secret(CK_SESSION_HANDLE s, CK_KEY_TYPE kt, const void *val,
                                      size_t len)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_LABEL, "secret", 6}, {CKA_VALUE, (void *)val, len}};
    CK_OBJECT_HANDLE h = 0;
    ck_assert_int_eq(C_CreateObject(s, t, 4, &h), CKR_OK);
    return h;
}

/* RFC 4231 test case 2. */
START_TEST(hmac_sha256_vectors)
{
    static const uint8_t want[32] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
        0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    const char *msg = "what do ya want for nothing?";
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE key = create_secret(s, CKK_GENERIC_SECRET, "Jefe", 4);
    uint8_t mac[32];
    CK_ULONG len = sizeof(mac);
    ck_assert_int_eq(token_sign(s, CKM_SHA256_HMAC, key, (const uint8_t *)msg, strlen(msg), mac,
                                &len),
                     CKR_OK);
    ck_assert_uint_eq(len, 32);
    ck_assert_mem_eq(mac, want, 32);
    CK_MECHANISM hmac = {CKM_SHA256_HMAC, NULL, 0};
    ck_assert_int_eq(C_SignInit(s, &hmac, key), CKR_OK);
    ck_assert_int_eq(C_SignUpdate(s, (CK_BYTE_PTR)msg, 10), CKR_OK);
    ck_assert_int_eq(C_SignUpdate(s, (CK_BYTE_PTR)msg + 10, strlen(msg) - 10), CKR_OK);
    len = 16;
    ck_assert_int_eq(C_SignFinal(s, mac, &len), CKR_BUFFER_TOO_SMALL);
    len = 32;
    memset(mac, 0, sizeof(mac));
    ck_assert_int_eq(C_SignFinal(s, mac, &len), CKR_OK);
    ck_assert_mem_eq(mac, want, 32);
    ck_assert_int_eq(token_verify(s, CKM_SHA256_HMAC, key, (const uint8_t *)msg, strlen(msg), want,
                                  32),
                     CKR_OK);
    uint8_t bad[32];
    memcpy(bad, want, 32);
    bad[31] ^= 0x80;
    ck_assert_int_eq(token_verify(s, CKM_SHA256_HMAC, key, (const uint8_t *)msg, strlen(msg), bad,
                                  32),
                     CKR_SIGNATURE_INVALID);
    uint8_t v[8];
    CK_ATTRIBUTE a = {CKA_VALUE, v, sizeof(v)};
    ck_assert_int_eq(C_GetAttributeValue(s, key, &a, 1), CKR_ATTRIBUTE_SENSITIVE);
}
END_TEST

/* RFC 4493 examples 1 and 2 (AES-128). */
START_TEST(aes_cmac_vectors)
{
    static const uint8_t key_bytes[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                          0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
    static const uint8_t m16[16] = {0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96,
                                    0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a};
    static const uint8_t want_empty[16] = {0xbb, 0x1d, 0x69, 0x29, 0xe9, 0x59, 0x37, 0x28,
                                           0x7f, 0xa3, 0x7d, 0x12, 0x9b, 0x75, 0x67, 0x46};
    static const uint8_t want_16[16] = {0x07, 0x0a, 0x16, 0xb4, 0x6b, 0x4d, 0x41, 0x44,
                                        0xf7, 0x9b, 0xdd, 0x9d, 0xd0, 0x4a, 0x28, 0x7c};
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE key = create_secret(s, CKK_AES, key_bytes, 16);
    uint8_t mac[16];
    CK_ULONG len = sizeof(mac);
    ck_assert_int_eq(token_sign(s, CKM_AES_CMAC, key, NULL, 0, mac, &len), CKR_OK);
    ck_assert_mem_eq(mac, want_empty, 16);
    len = sizeof(mac);
    ck_assert_int_eq(token_sign(s, CKM_AES_CMAC, key, m16, 16, mac, &len), CKR_OK);
    ck_assert_uint_eq(len, 16);
    ck_assert_mem_eq(mac, want_16, 16);
    ck_assert_int_eq(token_verify(s, CKM_AES_CMAC, key, m16, 16, want_16, 16), CKR_OK);
    ck_assert_int_eq(token_verify(s, CKM_AES_CMAC, key, m16, 15, want_16, 16),
                     CKR_SIGNATURE_INVALID);
    /* AES keys are 16, 24 or 32 bytes */
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE aes = CKK_AES;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &aes, sizeof(aes)},
                        {CKA_VALUE, (void *)key_bytes, 15}};
    CK_OBJECT_HANDLE h = 0;
    ck_assert_int_eq(C_CreateObject(s, t, 3, &h), CKR_ATTRIBUTE_VALUE_INVALID);
}
END_TEST

START_TEST(mechanism_and_key_mismatches)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE ec = lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem, LWSS_PKCS11_PRIVATE);
    CK_OBJECT_HANDLE ec_pub = lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem,
                                                   LWSS_PKCS11_PUBLIC);
    CK_OBJECT_HANDLE rsa = lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem,
                                                LWSS_PKCS11_PRIVATE);
    CK_OBJECT_HANDLE aes = create_secret(s, CKK_AES, "0123456789abcdef", 16);
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    CK_MECHANISM rsa_m = {CKM_RSA_PKCS, NULL, 0};
    CK_MECHANISM hmac = {CKM_SHA256_HMAC, NULL, 0};
    CK_MECHANISM with_param = {CKM_ECDSA, "x", 1};
    CK_MECHANISM unsupported = {CKM_MD5_RSA_PKCS, NULL, 0};
    ck_assert_int_eq(C_SignInit(s, &ecdsa, rsa), CKR_KEY_TYPE_INCONSISTENT);
    ck_assert_int_eq(C_SignInit(s, &rsa_m, ec), CKR_KEY_TYPE_INCONSISTENT);
    ck_assert_int_eq(C_SignInit(s, &ecdsa, ec_pub), CKR_KEY_TYPE_INCONSISTENT);
    ck_assert_int_eq(C_SignInit(s, &hmac, aes), CKR_KEY_TYPE_INCONSISTENT);
    ck_assert_int_eq(C_SignInit(s, &hmac, ec), CKR_KEY_TYPE_INCONSISTENT);
    ck_assert_int_eq(C_SignInit(s, &ecdsa, 999999), CKR_KEY_HANDLE_INVALID);
    /* corePKCS11 parity: a parameter to a mechanism that takes none is ignored */
    ck_assert_int_eq(C_SignInit(s, &with_param, ec), CKR_OK);
    uint8_t pre[64];
    CK_ULONG pre_len = sizeof(pre);
    ck_assert_int_eq(C_Sign(s, (CK_BYTE_PTR) "0123456789abcdef0123456789abcdef", 32, pre,
                            &pre_len), CKR_OK);
    ck_assert_int_eq(C_SignInit(s, &unsupported, rsa), CKR_MECHANISM_INVALID);
    ck_assert_int_eq(C_SignInit(s, NULL, rsa), CKR_ARGUMENTS_BAD);
    ck_assert_int_eq(C_SignInit(s, &ecdsa, ec), CKR_OK);
    ck_assert_int_eq(C_SignUpdate(s, (CK_BYTE_PTR) "x", 1), CKR_FUNCTION_NOT_SUPPORTED);
    uint8_t sig[64];
    CK_ULONG len = sizeof(sig);
    /* v2.40 5.12: the failed Update ended the operation */
    ck_assert_int_eq(C_Sign(s, (CK_BYTE_PTR) "x", 1, sig, &len), CKR_OPERATION_NOT_INITIALIZED);
    ck_assert_int_eq(C_SignInit(s, &ecdsa, ec), CKR_OK);
    ck_assert_int_eq(C_Sign(s, (CK_BYTE_PTR) "short", 0, sig, &len), CKR_DATA_LEN_RANGE);
    ck_assert_int_eq(C_VerifyInit(s, &ecdsa, ec), CKR_OK); /* a private key verifies too */
    ck_assert_int_eq(C_Verify(s, (CK_BYTE_PTR) "0123456789abcdef0123456789abcdef", 32, NULL, 64),
                     CKR_ARGUMENTS_BAD);
    ck_assert_int_eq(C_Verify(s, (CK_BYTE_PTR) "x", 1, sig, 64), CKR_OPERATION_NOT_INITIALIZED);
}
END_TEST

/* The parsed key a session keeps between operations follows the stored
 * key: replacing the object under the same label is seen at once. */
START_TEST(key_cache_follows_replacement)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE old_pub = lwss_p11t_import_key(s, "k", lwss_p11t_ec_key_pem,
                                                    LWSS_PKCS11_PUBLIC);
    CK_OBJECT_HANDLE priv = lwss_p11t_import_key(s, "k", lwss_p11t_ec_key_pem,
                                                 LWSS_PKCS11_PRIVATE);
    uint8_t hash[32];
    uint8_t sig[64];
    CK_ULONG len = sizeof(sig);
    lwss_p11t_sha256("cache", 5, hash);
    ck_assert_int_eq(token_sign(s, CKM_ECDSA, priv, hash, 32, sig, &len), CKR_OK);
    ck_assert_int_eq(token_verify(s, CKM_ECDSA, old_pub, hash, 32, sig, 64), CKR_OK);
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pub_t[] = {{CKA_EC_PARAMS, (void *)g_p256_oid, sizeof(g_p256_oid)},
                            {CKA_LABEL, "k2", 2}};
    CK_ATTRIBUTE priv_t[] = {{CKA_LABEL, "k", 1}}; /* replaces the private "k" */
    CK_OBJECT_HANDLE new_pub = 0;
    CK_OBJECT_HANDLE new_priv = 0;
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pub_t, 2, priv_t, 1, &new_pub, &new_priv), CKR_OK);
    CK_OBJECT_HANDLE f[2];
    ck_assert_uint_eq(lwss_p11t_find(s, "k", CKO_PRIVATE_KEY, f, 2), 1);
    len = sizeof(sig);
    ck_assert_int_eq(token_sign(s, CKM_ECDSA, f[0], hash, 32, sig, &len), CKR_OK);
    ck_assert_int_eq(token_verify(s, CKM_ECDSA, new_pub, hash, 32, sig, 64), CKR_OK);
    ck_assert_int_eq(token_verify(s, CKM_ECDSA, old_pub, hash, 32, sig, 64),
                     CKR_SIGNATURE_INVALID);
}
END_TEST

/* A closed session's parsed key goes to the token-wide cache and the next
 * session signing with the same stored key takes it; destroying a key or
 * finalising the token wipes the cache. */
START_TEST(parsed_key_outlives_its_session)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE ec = lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem, LWSS_PKCS11_PRIVATE);
    CK_OBJECT_HANDLE rsa = lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem,
                                                LWSS_PKCS11_PRIVATE);
    ck_assert_uint_eq(lwss_p11_key_cache_count(), 0);
    uint8_t hash[32], sig[256], info[51];
    CK_ULONG len = sizeof(sig);
    lwss_p11t_sha256("across sessions", 15, hash);
    ck_assert_int_eq(token_sign(s, CKM_ECDSA, ec, hash, 32, sig, &len), CKR_OK);
    ck_assert_int_eq(C_CloseSession(s), CKR_OK);
    ck_assert_uint_eq(lwss_p11_key_cache_count(), 1);

    s = lwss_p11t_session();
    len = sizeof(sig);
    ck_assert_int_eq(token_sign(s, CKM_ECDSA, ec, hash, 32, sig, &len), CKR_OK);
    ck_assert_uint_eq(lwss_p11_key_cache_count(), 0); /* taken by this session */
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_ec_key_pem, &pk);
    uint8_t der[80];
    size_t der_len = lwss_p11t_ecdsa_raw_to_der(sig, der, sizeof(der));
    ck_assert_int_eq(mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, 32, der, der_len), 0);
    mbedtls_pk_free(&pk);
    /* Signing with another key hands the EC one back. */
    lwss_p11t_digest_info(hash, info);
    len = sizeof(sig);
    ck_assert_int_eq(token_sign(s, CKM_RSA_PKCS, rsa, info, sizeof(info), sig, &len), CKR_OK);
    ck_assert_uint_eq(len, 256);
    ck_assert_uint_eq(lwss_p11_key_cache_count(), 1);
    ck_assert_int_eq(C_CloseSession(s), CKR_OK);
    ck_assert_uint_eq(lwss_p11_key_cache_count(), 2);

    s = lwss_p11t_session();
    ck_assert_int_eq(C_DestroyObject(s, rsa), CKR_OK);
    ck_assert_uint_eq(lwss_p11_key_cache_count(), 0);
    len = sizeof(sig);
    ck_assert_int_eq(token_sign(s, CKM_RSA_PKCS, rsa, info, sizeof(info), sig, &len),
                     CKR_KEY_HANDLE_INVALID);
    len = sizeof(sig);
    ck_assert_int_eq(token_sign(s, CKM_ECDSA, ec, hash, 32, sig, &len), CKR_OK);
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
    ck_assert_uint_eq(lwss_p11_key_cache_count(), 0);
}
END_TEST

Suite *pkcs11_crypto_suite(void);

Suite *pkcs11_crypto_suite(void)
{
    Suite *su = suite_create("pkcs11_crypto");
    TCase *tc = tcase_create("crypto");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_add_test(tc, ecdsa_sign_verify_tamper);
    tcase_add_test(tc, rsa_sign_verify_tamper);
    tcase_add_test(tc, generate_ec_key_pair);
    tcase_add_test(tc, hmac_sha256_vectors);
    tcase_add_test(tc, aes_cmac_vectors);
    tcase_add_test(tc, mechanism_and_key_mismatches);
    tcase_add_test(tc, key_cache_follows_replacement);
    tcase_add_test(tc, parsed_key_outlives_its_session);
    suite_add_tcase(su, tc);
    return su;
}
