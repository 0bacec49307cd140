/*
 * Suite "pkcs11_cipher_openssl": the token's C_Encrypt / C_Decrypt against
 * the openssl command line, both ways: what the token encrypts
 * `openssl enc -d` / `openssl pkeyutl -decrypt` must decrypt, and what
 * openssl encrypts the token must decrypt.  AES-128-ECB, AES-256-CBC
 * (PKCS #7), AES-128-CTR, DES-EDE3-CBC (PKCS #7), RSA PKCS #1 v1.5 and
 * OAEP (SHA-1, SHA-256).  (`openssl enc` takes no AEAD cipher: GCM is
 * checked against its published vectors in pkcs11_cipher; the key wraps,
 * PSS, HMAC and ECDH against openssl are in pkcs11_openssl_more.)
 */
#include "tests/support/test_pkcs11.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CK_BBOOL yes = CK_TRUE;
static CK_BBOOL no = CK_FALSE;


static CK_OBJECT_HANDLE secret(CK_SESSION_HANDLE s, CK_KEY_TYPE kt, const uint8_t *val, size_t len)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_TOKEN, &no, 1}, {CKA_ENCRYPT, &yes, 1}, {CKA_DECRYPT, &yes, 1},
                        {CKA_VALUE, (void *)val, len}};
    CK_OBJECT_HANDLE h = 0;
    ck_assert_int_eq(C_CreateObject(s, t, 6, &h), CKR_OK);
    return h;
}

/* Token -> openssl and openssl -> token for one cipher. */
static void both_ways(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE k,
                      const char *enc_args, const uint8_t *data, size_t len)
{
    static uint8_t out[4096];
    CK_ULONG n = sizeof(out);
    ck_assert_int_eq(C_EncryptInit(s, m, k), CKR_OK);
    ck_assert_int_eq(C_Encrypt(s, (CK_BYTE_PTR)data, len, out, &n), CKR_OK);
    lwss_p11t_put("token.ct", out, n);
    lwss_p11t_put("plain", data, len);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "enc -d %s -in token.ct -out openssl.pt", enc_args);
    lwss_p11t_openssl(cmd);
    size_t got_len = 0;
    uint8_t *got = lwss_p11t_get("openssl.pt", &got_len);
    ck_assert_uint_eq(got_len, len);
    ck_assert_mem_eq(got, data, len);
    free(got);
    snprintf(cmd, sizeof(cmd), "enc -e %s -in plain -out openssl.ct", enc_args);
    lwss_p11t_openssl(cmd);
    uint8_t *ct = lwss_p11t_get("openssl.ct", &got_len);
    n = sizeof(out);
    ck_assert_int_eq(C_DecryptInit(s, m, k), CKR_OK);
    ck_assert_int_eq(C_Decrypt(s, ct, got_len, out, &n), CKR_OK);
    ck_assert_uint_eq(n, len);
    ck_assert_mem_eq(out, data, len);
    free(ct);
}

/* openssl enc with the same key and IV agrees with the token, both ways. */
START_TEST(symmetric_against_openssl_enc)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    uint8_t key[32], iv[16], data[1000];
    lwss_p11t_rng(NULL, key, sizeof(key));
    lwss_p11t_rng(NULL, iv, sizeof(iv));
    lwss_p11t_rng(NULL, data, sizeof(data));
    char kh[65], ivh[33], args[256];
    lwss_p11t_hex(iv, 16, ivh);

    lwss_p11t_hex(key, 16, kh);
    CK_OBJECT_HANDLE a128 = secret(s, CKK_AES, key, 16);
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    snprintf(args, sizeof(args), "-aes-128-ecb -nopad -K %s", kh);
    both_ways(s, &ecb, a128, args, data, 992);
    CK_AES_CTR_PARAMS cp = {.counter_bits = 128};
    memcpy(cp.cb, iv, 16);
    CK_MECHANISM ctr = {CKM_AES_CTR, &cp, sizeof(cp)};
    snprintf(args, sizeof(args), "-aes-128-ctr -K %s -iv %s", kh, ivh);
    both_ways(s, &ctr, a128, args, data, 999);

    lwss_p11t_hex(key, 32, kh);
    CK_OBJECT_HANDLE a256 = secret(s, CKK_AES, key, 32);
    CK_MECHANISM cbc_pad = {CKM_AES_CBC_PAD, iv, 16};
    snprintf(args, sizeof(args), "-aes-256-cbc -K %s -iv %s", kh, ivh);
    both_ways(s, &cbc_pad, a256, args, data, 1000);
    CK_MECHANISM cbc = {CKM_AES_CBC, iv, 16};
    snprintf(args, sizeof(args), "-aes-256-cbc -nopad -K %s -iv %s", kh, ivh);
    both_ways(s, &cbc, a256, args, data, 992);

    lwss_p11t_hex(key, 24, kh);
    lwss_p11t_hex(iv, 8, ivh);
    CK_OBJECT_HANDLE des = secret(s, CKK_DES3, key, 24);
    CK_MECHANISM des_pad = {CKM_DES3_CBC_PAD, iv, 8};
    snprintf(args, sizeof(args), "-des-ede3-cbc -K %s -iv %s", kh, ivh);
    both_ways(s, &des_pad, des, args, data, 1000);
}
END_TEST

/* openssl pkeyutl with the PEM key of the token's RSA pair, both ways. */
START_TEST(rsa_against_openssl_pkeyutl)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    lwss_p11t_put("rsa.pem", lwss_p11t_rsa_key_pem, strlen(lwss_p11t_rsa_key_pem));
    CK_ATTRIBUTE pt[] = {{CKA_ENCRYPT, &yes, 1}};
    CK_ATTRIBUTE qt[] = {{CKA_DECRYPT, &yes, 1}};
    CK_OBJECT_HANDLE pub = 0, priv = 0;
    lwss_p11t_rsa_session_pair(s, pt, 1, qt, 1, &pub, &priv);
    CK_RSA_PKCS_OAEP_PARAMS o1 = {CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_RSA_PKCS_OAEP_PARAMS o256 = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
    const struct {
        CK_MECHANISM m;
        const char *opts;
    } rows[] = {
        {{CKM_RSA_PKCS, NULL, 0}, "-pkeyopt rsa_padding_mode:pkcs1"},
        {{CKM_RSA_PKCS_OAEP, &o1, sizeof(o1)}, "-pkeyopt rsa_padding_mode:oaep"},
        {{CKM_RSA_PKCS_OAEP, &o256, sizeof(o256)},
         "-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256"},
    };
    uint8_t msg[48], out[256];
    lwss_p11t_rng(NULL, msg, sizeof(msg));
    lwss_p11t_put("msg", msg, sizeof(msg));
    for (size_t i = 0; i < 3; i++) {
        CK_MECHANISM m = rows[i].m;
        CK_ULONG n = sizeof(out);
        ck_assert_int_eq(C_EncryptInit(s, &m, pub), CKR_OK);
        ck_assert_int_eq(C_Encrypt(s, msg, sizeof(msg), out, &n), CKR_OK);
        lwss_p11t_put("token.ct", out, n);
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "pkeyutl -decrypt -inkey rsa.pem %s -in token.ct -out o.pt",
                 rows[i].opts);
        lwss_p11t_openssl(cmd);
        size_t len = 0;
        uint8_t *got = lwss_p11t_get("o.pt", &len);
        ck_assert_uint_eq(len, sizeof(msg));
        ck_assert_mem_eq(got, msg, sizeof(msg));
        free(got);
        snprintf(cmd, sizeof(cmd), "pkeyutl -encrypt -inkey rsa.pem %s -in msg -out o.ct",
                 rows[i].opts);
        lwss_p11t_openssl(cmd);
        uint8_t *ct = lwss_p11t_get("o.ct", &len);
        n = sizeof(out);
        ck_assert_int_eq(C_DecryptInit(s, &m, priv), CKR_OK);
        ck_assert_int_eq(C_Decrypt(s, ct, len, out, &n), CKR_OK);
        ck_assert_uint_eq(n, sizeof(msg));
        ck_assert_mem_eq(out, msg, sizeof(msg));
        free(ct);
    }
}
END_TEST

Suite *pkcs11_cipher_openssl_suite(void);

Suite *pkcs11_cipher_openssl_suite(void)
{
    Suite *su = suite_create("pkcs11_cipher_openssl");
    TCase *tc = tcase_create("openssl");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, symmetric_against_openssl_enc);
    tcase_add_test(tc, rsa_against_openssl_pkeyutl);
    suite_add_tcase(su, tc);
    return su;
}
