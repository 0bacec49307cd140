/*
 * Suite "pkcs11_cipher": secret keys (C_GenerateKey, C_CreateObject,
 * CKA_CHECK_VALUE, usage attributes) and C_Encrypt* / C_Decrypt* with
 * AES (ECB, CBC, CBC_PAD, CTR, GCM), DES3 (ECB, CBC, CBC_PAD) and RSA
 * (PKCS #1 v1.5, OAEP).  Published vectors: NIST SP 800-38A F.1.1, F.2.1,
 * F.5.1 (AES-128 ECB, CBC, CTR) and the GCM spec's test case 4 (McGrew &
 * Viega, also SP 800-38D's reference set); the rest is checked against
 * mbedtls on the host (an independent code path: no token state).
 */
#include "tests/support/test_pkcs11.h"

#include <check.h>
#include <mbedtls/aes.h>
#include <mbedtls/cipher.h>
#include <mbedtls/rsa.h>
#include <string.h>

static CK_BBOOL yes = CK_TRUE;
static CK_BBOOL no = CK_FALSE;

/* SP 800-38A appendix F: the AES-128 key and the four plaintext blocks. */
static const uint8_t k128[16] = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
static const uint8_t pt64[64] = {
    0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f, 0x96, 0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a,
    0xae, 0x2d, 0x8a, 0x57, 0x1e, 0x03, 0xac, 0x9c, 0x9e, 0xb7, 0x6f, 0xac, 0x45, 0xaf, 0x8e, 0x51,
    0x30, 0xc8, 0x1c, 0x46, 0xa3, 0x5c, 0xe4, 0x11, 0xe5, 0xfb, 0xc1, 0x19, 0x1a, 0x0a, 0x52, 0xef,
    0xf6, 0x9f, 0x24, 0x45, 0xdf, 0x4f, 0x9b, 0x17, 0xad, 0x2b, 0x41, 0x7b, 0xe6, 0x6c, 0x37, 0x10};
static const uint8_t ecb_ct[64] = {
    0x3a, 0xd7, 0x7b, 0xb4, 0x0d, 0x7a, 0x36, 0x60, 0xa8, 0x9e, 0xca, 0xf3, 0x24, 0x66, 0xef, 0x97,
    0xf5, 0xd3, 0xd5, 0x85, 0x03, 0xb9, 0x69, 0x9d, 0xe7, 0x85, 0x89, 0x5a, 0x96, 0xfd, 0xba, 0xaf,
    0x43, 0xb1, 0xcd, 0x7f, 0x59, 0x8e, 0xce, 0x23, 0x88, 0x1b, 0x00, 0xe3, 0xed, 0x03, 0x06, 0x88,
    0x7b, 0x0c, 0x78, 0x5e, 0x27, 0xe8, 0xad, 0x3f, 0x82, 0x23, 0x20, 0x71, 0x04, 0x72, 0x5d, 0xd4};
static const uint8_t cbc_iv[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                   0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
static const uint8_t cbc_ct[64] = {
    0x76, 0x49, 0xab, 0xac, 0x81, 0x19, 0xb2, 0x46, 0xce, 0xe9, 0x8e, 0x9b, 0x12, 0xe9, 0x19, 0x7d,
    0x50, 0x86, 0xcb, 0x9b, 0x50, 0x72, 0x19, 0xee, 0x95, 0xdb, 0x11, 0x3a, 0x91, 0x76, 0x78, 0xb2,
    0x73, 0xbe, 0xd6, 0xb8, 0xe3, 0xc1, 0x74, 0x3b, 0x71, 0x16, 0xe6, 0x9e, 0x22, 0x22, 0x95, 0x16,
    0x3f, 0xf1, 0xca, 0xa1, 0x68, 0x1f, 0xac, 0x09, 0x12, 0x0e, 0xca, 0x30, 0x75, 0x86, 0xe1, 0xa7};
static const uint8_t ctr_cb[16] = {0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7,
                                   0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff};
static const uint8_t ctr_ct[64] = {
    0x87, 0x4d, 0x61, 0x91, 0xb6, 0x20, 0xe3, 0x26, 0x1b, 0xef, 0x68, 0x64, 0x99, 0x0d, 0xb6, 0xce,
    0x98, 0x06, 0xf6, 0x6b, 0x79, 0x70, 0xfd, 0xff, 0x86, 0x17, 0x18, 0x7b, 0xb9, 0xff, 0xfd, 0xff,
    0x5a, 0xe4, 0xdf, 0x3e, 0xdb, 0xd5, 0xd3, 0x5e, 0x5b, 0x4f, 0x09, 0x02, 0x0d, 0xb0, 0x3e, 0xab,
    0x1e, 0x03, 0x1d, 0xda, 0x2f, 0xbe, 0x03, 0xd1, 0x79, 0x21, 0x70, 0xa0, 0xf3, 0x00, 0x9c, 0xee};

/* GCM test case 4 (McGrew & Viega, "The Galois/Counter Mode of Operation"). */
static const uint8_t gcm_key[16] = {0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c,
                                    0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08};
static const uint8_t gcm_iv[12] = {0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce,
                                   0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88};
static const uint8_t gcm_aad[20] = {0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xfe, 0xed,
                                    0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xab, 0xad, 0xda, 0xd2};
static const uint8_t gcm_pt[60] = {
    0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5, 0xa5, 0x59, 0x09, 0xc5, 0xaf, 0xf5, 0x26,
    0x9a, 0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda, 0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31,
    0x8a, 0x72, 0x1c, 0x3c, 0x0c, 0x95, 0x95, 0x68, 0x09, 0x53, 0x2f, 0xcf, 0x0e, 0x24, 0x49,
    0xa6, 0xb5, 0x25, 0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57, 0xba, 0x63, 0x7b, 0x39};
static const uint8_t gcm_ct_tag[76] = {
    0x42, 0x83, 0x1e, 0xc2, 0x21, 0x77, 0x74, 0x24, 0x4b, 0x72, 0x21, 0xb7, 0x84, 0xd0, 0xd4,
    0x9c, 0xe3, 0xaa, 0x21, 0x2f, 0x2c, 0x02, 0xa4, 0xe0, 0x35, 0xc1, 0x7e, 0x23, 0x29, 0xac,
    0xa1, 0x2e, 0x21, 0xd5, 0x14, 0xb2, 0x54, 0x66, 0x93, 0x1c, 0x7d, 0x8f, 0x6a, 0x5a, 0xac,
    0x84, 0xaa, 0x05, 0x1b, 0xa3, 0x0b, 0x39, 0x6a, 0x0a, 0xac, 0x97, 0x3d, 0x58, 0xe0, 0x91,
    /* tag */
    0x5b, 0xc9, 0x4f, 0xbc, 0x32, 0x21, 0xa5, 0xdb, 0x94, 0xfa, 0xe9, 0x5a, 0xe7, 0x12, 0x1a,
    0x47};

/* A secret key object with CKA_ENCRYPT / CKA_DECRYPT as given. */
static CK_OBJECT_HANDLE secret(CK_SESSION_HANDLE s, CK_KEY_TYPE kt, const uint8_t *val, size_t len,
                               int enc, int dec)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_BBOOL e = enc ? CK_TRUE : CK_FALSE;
    CK_BBOOL d = dec ? CK_TRUE : CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_TOKEN, &no, 1},            {CKA_ENCRYPT, &e, 1},
                        {CKA_DECRYPT, &d, 1},           {CKA_VALUE, (void *)val, len}};
    CK_OBJECT_HANDLE h = 0;
    ck_assert_int_eq(C_CreateObject(s, t, 6, &h), CKR_OK);
    return h;
}

/* Single-part encryption (or decryption) into @p out; returns the CK_RV. */
static CK_RV once(CK_SESSION_HANDLE s, int enc, CK_MECHANISM *m, CK_OBJECT_HANDLE k,
                  const uint8_t *in, size_t len, uint8_t *out, CK_ULONG *out_len)
{
    CK_RV rv = enc ? C_EncryptInit(s, m, k) : C_DecryptInit(s, m, k);
    if (rv != CKR_OK) {
        return rv;
    }
    return enc ? C_Encrypt(s, (CK_BYTE_PTR)in, len, out, out_len)
               : C_Decrypt(s, (CK_BYTE_PTR)in, len, out, out_len);
}

/* Multi-part in pieces of @p step bytes; returns the total output length. */
static size_t multi(CK_SESSION_HANDLE s, int enc, CK_MECHANISM *m, CK_OBJECT_HANDLE k,
                    const uint8_t *in, size_t len, size_t step, uint8_t *out, size_t room)
{
    ck_assert_int_eq(enc ? C_EncryptInit(s, m, k) : C_DecryptInit(s, m, k), CKR_OK);
    size_t done = 0;
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        CK_ULONG got = room - done;
        CK_RV rv = enc ? C_EncryptUpdate(s, (CK_BYTE_PTR)in + off, n, out + done, &got)
                       : C_DecryptUpdate(s, (CK_BYTE_PTR)in + off, n, out + done, &got);
        ck_assert_int_eq(rv, CKR_OK);
        done += got;
    }
    CK_ULONG got = room - done;
    CK_RV rv = enc ? C_EncryptFinal(s, out + done, &got) : C_DecryptFinal(s, out + done, &got);
    ck_assert_int_eq(rv, CKR_OK);
    return done + got;
}

/* Both directions of one vector, single-part and in odd pieces. */
static void check_vector(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE k,
                         const uint8_t *pt, size_t pt_len, const uint8_t *ct, size_t ct_len)
{
    uint8_t out[128];
    CK_ULONG n = sizeof(out);
    ck_assert_int_eq(once(s, 1, m, k, pt, pt_len, out, &n), CKR_OK);
    ck_assert_uint_eq(n, ct_len);
    ck_assert_mem_eq(out, ct, ct_len);
    n = sizeof(out);
    ck_assert_int_eq(once(s, 0, m, k, ct, ct_len, out, &n), CKR_OK);
    ck_assert_uint_eq(n, pt_len);
    ck_assert_mem_eq(out, pt, pt_len);
    static const size_t steps[] = {1, 5, 16, 17, 33};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        memset(out, 0, sizeof(out));
        ck_assert_uint_eq(multi(s, 1, m, k, pt, pt_len, steps[i], out, sizeof(out)), ct_len);
        ck_assert_mem_eq(out, ct, ct_len);
        ck_assert_uint_eq(multi(s, 0, m, k, ct, ct_len, steps[i], out, sizeof(out)), pt_len);
        ck_assert_mem_eq(out, pt, pt_len);
    }
}

/* NIST SP 800-38A F.1.1 / F.1.2 (ECB-AES128), F.2.1 / F.2.2 (CBC-AES128),
 * F.5.1 / F.5.2 (CTR-AES128), through v2.40 5.8 / 5.9 single- and multi-part. */
START_TEST(aes_sp800_38a_vectors)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE k = secret(s, CKK_AES, k128, 16, 1, 1);
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    check_vector(s, &ecb, k, pt64, 64, ecb_ct, 64);
    CK_MECHANISM cbc = {CKM_AES_CBC, (void *)cbc_iv, 16};
    check_vector(s, &cbc, k, pt64, 64, cbc_ct, 64);
    CK_AES_CTR_PARAMS ctr_p = {.counter_bits = 128};
    memcpy(ctr_p.cb, ctr_cb, 16);
    CK_MECHANISM ctr = {CKM_AES_CTR, &ctr_p, sizeof(ctr_p)};
    check_vector(s, &ctr, k, pt64, 64, ctr_ct, 64);
    check_vector(s, &ctr, k, pt64, 37, ctr_ct, 37); /* CTR: any length */
}
END_TEST

/* GCM test case 4 (60-byte plaintext, 20-byte AAD, 96-bit IV, 128-bit
 * tag), v2.40 mechanisms 2.10.3 CK_GCM_PARAMS; a 96-bit tag is the
 * leftmost 12 bytes (SP 800-38D 7.1 MSB_t). */
START_TEST(aes_gcm_vectors)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE k = secret(s, CKK_AES, gcm_key, 16, 1, 1);
    CK_GCM_PARAMS p = {(CK_BYTE_PTR)gcm_iv, 12, 96, (CK_BYTE_PTR)gcm_aad, 20, 128};
    CK_MECHANISM gcm = {CKM_AES_GCM, &p, sizeof(p)};
    check_vector(s, &gcm, k, gcm_pt, 60, gcm_ct_tag, 76);
    uint8_t short_tag[72];
    memcpy(short_tag, gcm_ct_tag, 72);
    p.tag_bits = 96;
    check_vector(s, &gcm, k, gcm_pt, 60, short_tag, 72);
}
END_TEST

/* GCM authentication (v2.40 2.10.3, 5.9 C_DecryptFinal): a changed tag,
 * ciphertext or AAD is CKR_ENCRYPTED_DATA_INVALID, no plaintext comes
 * out, and the operation is over; data shorter than the tag is
 * CKR_ENCRYPTED_DATA_LEN_RANGE; bad parameters CKR_MECHANISM_PARAM_INVALID. */
START_TEST(aes_gcm_rejects)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE k = secret(s, CKK_AES, gcm_key, 16, 1, 1);
    CK_GCM_PARAMS p = {(CK_BYTE_PTR)gcm_iv, 12, 96, (CK_BYTE_PTR)gcm_aad, 20, 128};
    CK_MECHANISM gcm = {CKM_AES_GCM, &p, sizeof(p)};
    uint8_t bad[76];
    uint8_t out[80];
    for (size_t flip = 0; flip < 76; flip += 75) { /* first ciphertext byte, last tag byte */
        memcpy(bad, gcm_ct_tag, 76);
        bad[flip] ^= 1;
        memset(out, 0, sizeof(out));
        CK_ULONG n = sizeof(out);
        ck_assert_int_eq(once(s, 0, &gcm, k, bad, 76, out, &n), CKR_ENCRYPTED_DATA_INVALID);
        uint8_t zero[80] = {0};
        ck_assert_mem_eq(out, zero, sizeof(out));
        n = sizeof(out);
        ck_assert_int_eq(C_Decrypt(s, bad, 76, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    }
    /* multi-part: nothing before Final, then the failed tag */
    bad[75] ^= 1;
    bad[3] ^= 0x80;
    ck_assert_int_eq(C_DecryptInit(s, &gcm, k), CKR_OK);
    CK_ULONG n = sizeof(out);
    ck_assert_int_eq(C_DecryptUpdate(s, bad, 50, out, &n), CKR_OK);
    ck_assert_uint_eq(n, 0);
    n = sizeof(out);
    ck_assert_int_eq(C_DecryptUpdate(s, bad + 50, 26, out, &n), CKR_OK);
    n = sizeof(out);
    ck_assert_int_eq(C_DecryptFinal(s, out, &n), CKR_ENCRYPTED_DATA_INVALID);
    ck_assert_int_eq(C_DecryptFinal(s, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    /* other AAD */
    p.aad_len = 19;
    n = sizeof(out);
    ck_assert_int_eq(once(s, 0, &gcm, k, gcm_ct_tag, 76, out, &n), CKR_ENCRYPTED_DATA_INVALID);
    p.aad_len = 20;
    n = sizeof(out);
    ck_assert_int_eq(once(s, 0, &gcm, k, gcm_ct_tag, 15, out, &n), CKR_ENCRYPTED_DATA_LEN_RANGE);
    /* parameters */
    CK_GCM_PARAMS bp = p;
    CK_MECHANISM bm = {CKM_AES_GCM, &bp, sizeof(bp)};
    bp.tag_bits = 0;
    ck_assert_int_eq(C_EncryptInit(s, &bm, k), CKR_MECHANISM_PARAM_INVALID);
    bp.tag_bits = 100;
    ck_assert_int_eq(C_EncryptInit(s, &bm, k), CKR_MECHANISM_PARAM_INVALID);
    bp.tag_bits = 128;
    bp.iv_len = 0;
    ck_assert_int_eq(C_EncryptInit(s, &bm, k), CKR_MECHANISM_PARAM_INVALID);
    bp.iv_len = 12;
    bm.ulParameterLen = sizeof(bp) - 1;
    ck_assert_int_eq(C_EncryptInit(s, &bm, k), CKR_MECHANISM_PARAM_INVALID);
    bm.pParameter = NULL;
    bm.ulParameterLen = 0;
    ck_assert_int_eq(C_EncryptInit(s, &bm, k), CKR_MECHANISM_PARAM_INVALID);
    ck_assert_int_eq(C_EncryptInit(s, &gcm, k), CKR_OK); /* no failed Init left one active */
}
END_TEST

/* Host-side reference: mbedtls_cipher_crypt with PKCS #7 (or no) padding. */
static size_t host_crypt(mbedtls_cipher_type_t t, int pad, const uint8_t *key, const uint8_t *iv,
                         size_t iv_len, int enc, const uint8_t *in, size_t len, uint8_t *out)
{
    mbedtls_cipher_context_t c;
    mbedtls_cipher_init(&c);
    const mbedtls_cipher_info_t *info = mbedtls_cipher_info_from_type(t);
    ck_assert_ptr_nonnull(info);
    ck_assert_int_eq(mbedtls_cipher_setup(&c, info), 0);
    ck_assert_int_eq(mbedtls_cipher_setkey(&c, key, (int)mbedtls_cipher_get_key_bitlen(&c),
                                           enc ? MBEDTLS_ENCRYPT : MBEDTLS_DECRYPT),
                     0);
    if (mbedtls_cipher_get_cipher_mode(&c) == MBEDTLS_MODE_CBC) {
        ck_assert_int_eq(mbedtls_cipher_set_padding_mode(
                             &c, pad ? MBEDTLS_PADDING_PKCS7 : MBEDTLS_PADDING_NONE),
                         0);
    }
    size_t n = 0;
    if (mbedtls_cipher_get_cipher_mode(&c) == MBEDTLS_MODE_ECB) {
        for (size_t i = 0; i < len; i += mbedtls_cipher_get_block_size(&c)) {
            size_t one = 0;
            ck_assert_int_eq(mbedtls_cipher_crypt(&c, NULL, 0, in + i,
                                                  mbedtls_cipher_get_block_size(&c), out + i,
                                                  &one),
                             0);
            n += one;
        }
    } else {
        ck_assert_int_eq(mbedtls_cipher_crypt(&c, iv, iv_len, in, len, out, &n), 0);
    }
    mbedtls_cipher_free(&c);
    return n;
}

/* CBC_PAD (v2.40 2.8.4 / 2.13.3, PKCS #7 padding) for every length 0..40,
 * AES-256 and DES3, single- and multi-part, against mbedtls on the host. */
START_TEST(cbc_pad_and_des3_against_host)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    uint8_t key[32];
    uint8_t data[48];
    uint8_t iv[16];
    lwss_p11t_rng(NULL, key, sizeof(key));
    lwss_p11t_rng(NULL, data, sizeof(data));
    lwss_p11t_rng(NULL, iv, sizeof(iv));
    CK_OBJECT_HANDLE aes = secret(s, CKK_AES, key, 32, 1, 1);
    CK_OBJECT_HANDLE des = secret(s, CKK_DES3, key, 24, 1, 1);
    const struct {
        CK_MECHANISM_TYPE m;
        CK_OBJECT_HANDLE k;
        mbedtls_cipher_type_t t;
        size_t block;
        int pad;
    } rows[] = {
        {CKM_AES_CBC_PAD, aes, MBEDTLS_CIPHER_AES_256_CBC, 16, 1},
        {CKM_DES3_CBC_PAD, des, MBEDTLS_CIPHER_DES_EDE3_CBC, 8, 1},
        {CKM_DES3_CBC, des, MBEDTLS_CIPHER_DES_EDE3_CBC, 8, 0},
        {CKM_DES3_ECB, des, MBEDTLS_CIPHER_DES_EDE3_ECB, 8, 0},
        {CKM_AES_ECB, aes, MBEDTLS_CIPHER_AES_256_ECB, 16, 0},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        int ecb = rows[r].m == CKM_DES3_ECB || rows[r].m == CKM_AES_ECB;
        CK_MECHANISM m = {rows[r].m, ecb ? NULL : iv, ecb ? 0 : rows[r].block};
        for (size_t len = 0; len <= 40; len++) {
            if (!rows[r].pad && len % rows[r].block != 0) {
                continue;
            }
            uint8_t want[64];
            size_t want_len = host_crypt(rows[r].t, rows[r].pad, key, iv, rows[r].block, 1, data,
                                         len, want);
            check_vector(s, &m, rows[r].k, data, len, want, want_len);
        }
    }
}
END_TEST

/* v2.40 5.8 / 5.9 length errors: unpadded modes take whole blocks only
 * (CKR_DATA_LEN_RANGE to encrypt, CKR_ENCRYPTED_DATA_LEN_RANGE to decrypt,
 * also at Final of a multi-part operation); bad PKCS #7 padding is
 * CKR_ENCRYPTED_DATA_INVALID; each ends the operation. */
START_TEST(block_length_and_padding_errors)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE k = secret(s, CKK_AES, k128, 16, 1, 1);
    CK_MECHANISM cbc = {CKM_AES_CBC, (void *)cbc_iv, 16};
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    CK_MECHANISM pad = {CKM_AES_CBC_PAD, (void *)cbc_iv, 16};
    uint8_t out[80];
    CK_ULONG n = sizeof(out);
    ck_assert_int_eq(once(s, 1, &cbc, k, pt64, 15, out, &n), CKR_DATA_LEN_RANGE);
    n = sizeof(out);
    ck_assert_int_eq(C_Encrypt(s, (CK_BYTE_PTR)pt64, 16, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    n = 0;
    ck_assert_int_eq(once(s, 1, &ecb, k, pt64, 17, NULL, &n), CKR_DATA_LEN_RANGE);
    n = sizeof(out);
    ck_assert_int_eq(once(s, 0, &ecb, k, ecb_ct, 31, out, &n), CKR_ENCRYPTED_DATA_LEN_RANGE);
    n = sizeof(out);
    ck_assert_int_eq(once(s, 0, &pad, k, cbc_ct, 20, out, &n), CKR_ENCRYPTED_DATA_LEN_RANGE);
    n = sizeof(out);
    ck_assert_int_eq(once(s, 0, &pad, k, cbc_ct, 0, out, &n), CKR_ENCRYPTED_DATA_LEN_RANGE);
    /* cbc_ct decrypts to pt64, whose last byte (0x10) is not a padding of 16 zero... bytes */
    n = sizeof(out);
    ck_assert_int_eq(once(s, 0, &pad, k, cbc_ct, 64, out, &n), CKR_ENCRYPTED_DATA_INVALID);
    n = sizeof(out);
    ck_assert_int_eq(C_Decrypt(s, (CK_BYTE_PTR)cbc_ct, 64, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    /* multi-part: a partial block left at Final */
    ck_assert_int_eq(C_EncryptInit(s, &cbc, k), CKR_OK);
    n = sizeof(out);
    ck_assert_int_eq(C_EncryptUpdate(s, (CK_BYTE_PTR)pt64, 20, out, &n), CKR_OK);
    ck_assert_uint_eq(n, 16);
    n = sizeof(out);
    ck_assert_int_eq(C_EncryptFinal(s, out, &n), CKR_DATA_LEN_RANGE);
    ck_assert_int_eq(C_EncryptFinal(s, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    ck_assert_int_eq(C_DecryptInit(s, &pad, k), CKR_OK);
    n = sizeof(out);
    ck_assert_int_eq(C_DecryptUpdate(s, (CK_BYTE_PTR)cbc_ct, 40, out, &n), CKR_OK);
    ck_assert_uint_eq(n, 32);
    n = sizeof(out);
    ck_assert_int_eq(C_DecryptFinal(s, out, &n), CKR_ENCRYPTED_DATA_LEN_RANGE);
    ck_assert_int_eq(C_DecryptFinal(s, out, &n), CKR_OPERATION_NOT_INITIALIZED);
}
END_TEST

/* Decryption length and padding errors of the modes that
 * block_length_and_padding_errors leaves out.  v2.40 5.1.6:
 * "CKR_ENCRYPTED_DATA_LEN_RANGE: The ciphertext input to a decryption
 * operation has been determined to be invalid ciphertext solely on the
 * basis of its length. Depending on the operation's mechanism, this could
 * mean that the ciphertext is too short, too long, or is not a multiple of
 * some particular block size." and "CKR_ENCRYPTED_DATA_INVALID: The
 * encrypted input to a decryption operation has been determined to be
 * invalid ciphertext."  Here: AES-CBC (unpadded), DES3 ECB / CBC / CBC_PAD
 * single-part and at C_DecryptFinal, and a bad PKCS #7 padding found only
 * at C_DecryptFinal (AES and DES3 CBC_PAD); each ends the operation
 * (v2.40 5.9 C_DecryptFinal). */
START_TEST(des3_and_cbc_decrypt_errors)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    uint8_t k24[24];
    for (size_t i = 0; i < sizeof(k24); i++) {
        k24[i] = (uint8_t)(0x11 * (i + 1));
    }
    CK_OBJECT_HANDLE aes = secret(s, CKK_AES, k128, 16, 1, 1);
    CK_OBJECT_HANDLE des = secret(s, CKK_DES3, k24, 24, 1, 1);
    uint8_t out[80];
    CK_ULONG n = sizeof(out);
    CK_MECHANISM cbc = {CKM_AES_CBC, (void *)cbc_iv, 16};
    ck_assert_int_eq(once(s, 0, &cbc, aes, cbc_ct, 31, out, &n), CKR_ENCRYPTED_DATA_LEN_RANGE);
    n = sizeof(out);
    ck_assert_int_eq(C_Decrypt(s, (CK_BYTE_PTR)cbc_ct, 32, out, &n),
                     CKR_OPERATION_NOT_INITIALIZED);
    CK_MECHANISM dm[] = {{CKM_DES3_ECB, NULL, 0},
                         {CKM_DES3_CBC, (void *)cbc_iv, 8},
                         {CKM_DES3_CBC_PAD, (void *)cbc_iv, 8}};
    for (size_t i = 0; i < sizeof(dm) / sizeof(dm[0]); i++) {
        n = sizeof(out);
        ck_assert_int_eq(once(s, 0, &dm[i], des, cbc_ct, 12, out, &n),
                         CKR_ENCRYPTED_DATA_LEN_RANGE);
        n = sizeof(out);
        ck_assert_int_eq(C_Decrypt(s, (CK_BYTE_PTR)cbc_ct, 16, out, &n),
                         CKR_OPERATION_NOT_INITIALIZED);
        /* multi-part: 20 bytes give two blocks and leave half a block for Final */
        ck_assert_int_eq(C_DecryptInit(s, &dm[i], des), CKR_OK);
        n = sizeof(out);
        ck_assert_int_eq(C_DecryptUpdate(s, (CK_BYTE_PTR)cbc_ct, 20, out, &n), CKR_OK);
        ck_assert_uint_eq(n, 16);
        n = sizeof(out);
        ck_assert_int_eq(C_DecryptFinal(s, out, &n), CKR_ENCRYPTED_DATA_LEN_RANGE);
        ck_assert_int_eq(C_DecryptFinal(s, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    }
    /* a last plaintext byte of 0x00 is no PKCS #7 padding: encrypt such
     * blocks unpadded, then decrypt them as CBC_PAD */
    static const struct {
        CK_MECHANISM_TYPE raw, pad;
        int des;
        CK_ULONG iv_len, len;
    } rows[] = {{CKM_AES_CBC, CKM_AES_CBC_PAD, 0, 16, 32},
                {CKM_DES3_CBC, CKM_DES3_CBC_PAD, 1, 8, 16}};
    uint8_t zeros[32] = {0};
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        CK_OBJECT_HANDLE k = rows[r].des ? des : aes;
        CK_MECHANISM raw = {rows[r].raw, (void *)cbc_iv, rows[r].iv_len};
        CK_MECHANISM pad = {rows[r].pad, (void *)cbc_iv, rows[r].iv_len};
        uint8_t ct[32];
        n = sizeof(ct);
        ck_assert_int_eq(once(s, 1, &raw, k, zeros, rows[r].len, ct, &n), CKR_OK);
        ck_assert_uint_eq(n, rows[r].len);
        n = sizeof(out);
        ck_assert_int_eq(once(s, 0, &pad, k, ct, rows[r].len, out, &n),
                         CKR_ENCRYPTED_DATA_INVALID);
        ck_assert_int_eq(C_DecryptInit(s, &pad, k), CKR_OK);
        n = sizeof(out);
        ck_assert_int_eq(C_DecryptUpdate(s, ct, rows[r].len, out, &n), CKR_OK);
        ck_assert_uint_eq(n, rows[r].len - rows[r].iv_len); /* the last block waits */
        n = sizeof(out);
        ck_assert_int_eq(C_DecryptFinal(s, out, &n), CKR_ENCRYPTED_DATA_INVALID);
        ck_assert_int_eq(C_DecryptFinal(s, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    }
}
END_TEST

/* v2.40 5.2 / 5.8: a NULL output buffer answers the length and keeps the
 * operation; CKR_BUFFER_TOO_SMALL keeps it and gives the length; a finished
 * call ends it; single- and multi-part do not mix (CKR_OPERATION_ACTIVE,
 * which ends it); a second Init is CKR_OPERATION_ACTIVE. */
START_TEST(length_queries_and_operation_state)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE k = secret(s, CKK_AES, k128, 16, 1, 1);
    CK_MECHANISM pad = {CKM_AES_CBC_PAD, (void *)cbc_iv, 16};
    uint8_t out[96];
    CK_ULONG n = 0;
    ck_assert_int_eq(C_Encrypt(s, (CK_BYTE_PTR)pt64, 64, NULL, &n), CKR_OPERATION_NOT_INITIALIZED);
    ck_assert_int_eq(C_EncryptInit(s, &pad, k), CKR_OK);
    ck_assert_int_eq(C_EncryptInit(s, &pad, k), CKR_OPERATION_ACTIVE);
    ck_assert_int_eq(C_Encrypt(s, (CK_BYTE_PTR)pt64, 64, NULL, &n), CKR_OK);
    ck_assert_uint_eq(n, 80);
    n = 79;
    ck_assert_int_eq(C_Encrypt(s, (CK_BYTE_PTR)pt64, 64, out, &n), CKR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(n, 80);
    /* a single-part query fixed the kind: Update now ends it */
    n = sizeof(out);
    ck_assert_int_eq(C_EncryptUpdate(s, (CK_BYTE_PTR)pt64, 16, out, &n), CKR_OPERATION_ACTIVE);
    ck_assert_int_eq(C_Encrypt(s, (CK_BYTE_PTR)pt64, 64, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    ck_assert_int_eq(C_EncryptInit(s, &pad, k), CKR_OK);
    n = 80;
    ck_assert_int_eq(C_Encrypt(s, (CK_BYTE_PTR)pt64, 64, out, &n), CKR_OK);
    ck_assert_uint_eq(n, 80);
    ck_assert_mem_eq(out, cbc_ct, 64); /* SP 800-38A F.2.1, then a block of padding */
    ck_assert_int_eq(C_Encrypt(s, (CK_BYTE_PTR)pt64, 64, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    /* multi-part: Update and Final length queries */
    ck_assert_int_eq(C_EncryptInit(s, &pad, k), CKR_OK);
    ck_assert_int_eq(C_EncryptUpdate(s, (CK_BYTE_PTR)pt64, 20, NULL, &n), CKR_OK);
    ck_assert_uint_eq(n, 16);
    n = 15;
    ck_assert_int_eq(C_EncryptUpdate(s, (CK_BYTE_PTR)pt64, 20, out, &n), CKR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(n, 16);
    n = 16;
    ck_assert_int_eq(C_EncryptUpdate(s, (CK_BYTE_PTR)pt64, 20, out, &n), CKR_OK);
    ck_assert_int_eq(C_EncryptFinal(s, NULL, &n), CKR_OK);
    ck_assert_uint_eq(n, 16);
    n = sizeof(out);
    ck_assert_int_eq(C_Encrypt(s, (CK_BYTE_PTR)pt64, 4, out, &n), CKR_OPERATION_ACTIVE);
    ck_assert_int_eq(C_EncryptFinal(s, out, &n), CKR_OPERATION_NOT_INITIALIZED);
    /* decrypt side: query, then the exact data */
    ck_assert_int_eq(C_DecryptInit(s, &pad, k), CKR_OK);
    ck_assert_int_eq(C_Decrypt(s, out, 32, NULL, &n), CKR_OK);
    ck_assert_uint_ge(n, 20);
    ck_assert_int_eq(C_Decrypt(s, NULL, 32, out, &n), CKR_ARGUMENTS_BAD);
    ck_assert_int_eq(C_Decrypt(s, out, 32, out, &n), CKR_OPERATION_NOT_INITIALIZED);
}
END_TEST

/* v2.40 4.8 / 5.8 C_EncryptInit: CKA_ENCRYPT / CKA_DECRYPT false is
 * CKR_KEY_FUNCTION_NOT_PERMITTED; a key of another type
 * CKR_KEY_TYPE_INCONSISTENT; no such key CKR_KEY_HANDLE_INVALID; a
 * mechanism that does not encrypt CKR_MECHANISM_INVALID; a bad IV or
 * counter CKR_MECHANISM_PARAM_INVALID. */
START_TEST(init_checks_key_and_mechanism)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE enc_only = secret(s, CKK_AES, k128, 16, 1, 0);
    CK_OBJECT_HANDLE dec_only = secret(s, CKK_AES, k128, 16, 0, 1);
    uint8_t k24[24] = {1};
    CK_OBJECT_HANDLE des = secret(s, CKK_DES3, k24, 24, 1, 1);
    CK_OBJECT_HANDLE gen = secret(s, CKK_GENERIC_SECRET, k128, 16, 1, 1);
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    ck_assert_int_eq(C_EncryptInit(s, &ecb, dec_only), CKR_KEY_FUNCTION_NOT_PERMITTED);
    ck_assert_int_eq(C_DecryptInit(s, &ecb, enc_only), CKR_KEY_FUNCTION_NOT_PERMITTED);
    ck_assert_int_eq(C_EncryptInit(s, &ecb, des), CKR_KEY_TYPE_INCONSISTENT);
    ck_assert_int_eq(C_EncryptInit(s, &ecb, gen), CKR_KEY_TYPE_INCONSISTENT);
    CK_MECHANISM des_ecb = {CKM_DES3_ECB, NULL, 0};
    ck_assert_int_eq(C_EncryptInit(s, &des_ecb, enc_only), CKR_KEY_TYPE_INCONSISTENT);
    ck_assert_int_eq(C_EncryptInit(s, &ecb, 0x7777), CKR_KEY_HANDLE_INVALID);
    CK_MECHANISM sha = {CKM_SHA256, NULL, 0};
    ck_assert_int_eq(C_EncryptInit(s, &sha, enc_only), CKR_MECHANISM_INVALID);
    CK_MECHANISM cbc = {CKM_AES_CBC, (void *)cbc_iv, 8};
    ck_assert_int_eq(C_EncryptInit(s, &cbc, enc_only), CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM des_cbc = {CKM_DES3_CBC, (void *)cbc_iv, 16};
    ck_assert_int_eq(C_EncryptInit(s, &des_cbc, des), CKR_MECHANISM_PARAM_INVALID);
    CK_AES_CTR_PARAMS cp = {.counter_bits = 0};
    CK_MECHANISM ctr = {CKM_AES_CTR, &cp, sizeof(cp)};
    ck_assert_int_eq(C_EncryptInit(s, &ctr, enc_only), CKR_MECHANISM_PARAM_INVALID);
    cp.counter_bits = 129;
    ck_assert_int_eq(C_EncryptInit(s, &ctr, enc_only), CKR_MECHANISM_PARAM_INVALID);
    ck_assert_int_eq(C_EncryptInit(s, NULL, enc_only), CKR_ARGUMENTS_BAD);
    /* default secret-key attributes: no ENCRYPT, so refused */
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_VALUE, (void *)k128, 16}};
    CK_OBJECT_HANDLE plain = 0;
    ck_assert_int_eq(C_CreateObject(s, t, 3, &plain), CKR_OK);
    ck_assert_int_eq(C_EncryptInit(s, &ecb, plain), CKR_KEY_FUNCTION_NOT_PERMITTED);
    ck_assert_int_eq(C_EncryptInit(s, &ecb, enc_only), CKR_OK);
}
END_TEST

static CK_ULONG get_ulong(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t)
{
    CK_ULONG v = 0;
    CK_ATTRIBUTE a = {t, &v, sizeof(v)};
    ck_assert_int_eq(C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    return v;
}

static CK_BBOOL get_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t)
{
    CK_BBOOL v = 2;
    CK_ATTRIBUTE a = {t, &v, 1};
    ck_assert_int_eq(C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    return v;
}

/* v2.40 mechanisms 2.8.2 CKM_AES_KEY_GEN, 2.13.2 CKM_DES3_KEY_GEN, 2.42.2
 * CKM_GENERIC_SECRET_KEY_GEN, and 4.10 secret key attributes: CKA_VALUE_LEN,
 * CKA_LOCAL, CKA_KEY_GEN_MECHANISM, CKA_VALUE never readable, DES parity. */
START_TEST(generate_key_attributes)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    const struct {
        CK_MECHANISM_TYPE m;
        CK_KEY_TYPE kt;
        CK_ULONG len;
    } rows[] = {{CKM_AES_KEY_GEN, CKK_AES, 16},
                {CKM_AES_KEY_GEN, CKK_AES, 24},
                {CKM_AES_KEY_GEN, CKK_AES, 32},
                {CKM_DES3_KEY_GEN, CKK_DES3, 24},
                {CKM_GENERIC_SECRET_KEY_GEN, CKK_GENERIC_SECRET, 20}};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        CK_MECHANISM m = {rows[i].m, NULL, 0};
        CK_ATTRIBUTE t[] = {{CKA_TOKEN, &no, 1}, {CKA_ENCRYPT, &yes, 1},
                            {CKA_VALUE_LEN, (void *)&rows[i].len, sizeof(CK_ULONG)}};
        CK_OBJECT_HANDLE h = 0;
        ck_assert_int_eq(C_GenerateKey(s, &m, t, 3, &h), CKR_OK);
        ck_assert_uint_eq(get_ulong(s, h, CKA_CLASS), CKO_SECRET_KEY);
        ck_assert_uint_eq(get_ulong(s, h, CKA_KEY_TYPE), rows[i].kt);
        ck_assert_uint_eq(get_ulong(s, h, CKA_VALUE_LEN), rows[i].len);
        ck_assert_uint_eq(get_ulong(s, h, CKA_KEY_GEN_MECHANISM), rows[i].m);
        ck_assert_uint_eq(get_bool(s, h, CKA_LOCAL), CK_TRUE);
        ck_assert_uint_eq(get_bool(s, h, CKA_ALWAYS_SENSITIVE), CK_TRUE);
        ck_assert_uint_eq(get_bool(s, h, CKA_ENCRYPT), CK_TRUE);
        ck_assert_uint_eq(get_bool(s, h, CKA_DECRYPT), CK_FALSE);
        uint8_t v[32];
        CK_ATTRIBUTE val = {CKA_VALUE, v, sizeof(v)};
        ck_assert_int_eq(C_GetAttributeValue(s, h, &val, 1), CKR_ATTRIBUTE_SENSITIVE);
        ck_assert_uint_eq(val.ulValueLen, CK_UNAVAILABLE_INFORMATION);
        uint8_t kcv[3];
        CK_ATTRIBUTE cv = {CKA_CHECK_VALUE, kcv, 3};
        ck_assert_int_eq(C_GetAttributeValue(s, h, &cv, 1), CKR_OK);
        ck_assert_uint_eq(cv.ulValueLen, 3);
    }
    /* DES3 without CKA_VALUE_LEN: 24 bytes */
    CK_MECHANISM des = {CKM_DES3_KEY_GEN, NULL, 0};
    CK_ATTRIBUTE dt[] = {{CKA_TOKEN, &no, 1}};
    CK_OBJECT_HANDLE h = 0;
    ck_assert_int_eq(C_GenerateKey(s, &des, dt, 1, &h), CKR_OK);
    ck_assert_uint_eq(get_ulong(s, h, CKA_VALUE_LEN), 24);
}
END_TEST

/* v2.40 5.14 C_GenerateKey return values: CKR_MECHANISM_INVALID,
 * CKR_TEMPLATE_INCOMPLETE (AES without CKA_VALUE_LEN),
 * CKR_ATTRIBUTE_VALUE_INVALID (bad length), CKR_TEMPLATE_INCONSISTENT
 * (a CKA_VALUE, another key type), CKR_SESSION_READ_ONLY (token object in
 * a R/O session; a session object is fine there, v2.40 4.4). */
START_TEST(generate_key_rejects)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_SESSION_HANDLE ro = 0;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
    CK_MECHANISM aes = {CKM_AES_KEY_GEN, NULL, 0};
    CK_MECHANISM bad = {CKM_SHA256, NULL, 0};
    CK_ULONG len = 16, odd = 17, des_len = 16;
    CK_KEY_TYPE des3 = CKK_DES3;
    CK_OBJECT_HANDLE h = 0;
    CK_ATTRIBUTE ok[] = {{CKA_VALUE_LEN, &len, sizeof(len)}};
    CK_ATTRIBUTE t_odd[] = {{CKA_VALUE_LEN, &odd, sizeof(odd)}};
    CK_ATTRIBUTE t_val[] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_VALUE, (void *)k128, 16}};
    CK_ATTRIBUTE t_kt[] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_KEY_TYPE, &des3, sizeof(des3)}};
    CK_ATTRIBUTE t_ro[] = {{CKA_VALUE_LEN, &len, sizeof(len)}, {CKA_TOKEN, &no, 1}};
    ck_assert_int_eq(C_GenerateKey(s, &bad, ok, 1, &h), CKR_MECHANISM_INVALID);
    ck_assert_int_eq(C_GenerateKey(s, &aes, NULL, 0, &h), CKR_TEMPLATE_INCOMPLETE);
    ck_assert_int_eq(C_GenerateKey(s, &aes, t_odd, 1, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    ck_assert_int_eq(C_GenerateKey(s, &aes, t_val, 2, &h), CKR_TEMPLATE_INCONSISTENT);
    ck_assert_int_eq(C_GenerateKey(s, &aes, t_kt, 2, &h), CKR_TEMPLATE_INCONSISTENT);
    CK_MECHANISM dm = {CKM_DES3_KEY_GEN, NULL, 0};
    CK_ATTRIBUTE t_des[] = {{CKA_VALUE_LEN, &des_len, sizeof(des_len)}};
    ck_assert_int_eq(C_GenerateKey(s, &dm, t_des, 1, &h), CKR_TEMPLATE_INCONSISTENT);
    ck_assert_int_eq(C_GenerateKey(ro, &aes, ok, 1, &h), CKR_SESSION_READ_ONLY);
    ck_assert_int_eq(C_GenerateKey(ro, &aes, t_ro, 2, &h), CKR_OK);
    ck_assert_int_eq(C_GenerateKey(s, NULL, ok, 1, &h), CKR_ARGUMENTS_BAD);
    ck_assert_int_eq(C_GenerateKey(s, &aes, ok, 1, NULL), CKR_ARGUMENTS_BAD);
}
END_TEST

/* v2.40 4.10 / 2.8.1: CKA_CHECK_VALUE of an AES key is the first three
 * bytes of the encryption of a zero block (checked with host mbedtls on
 * the SP 800-38A key); of a generic secret the first three of SHA-1; one
 * given to C_CreateObject must match (CKR_ATTRIBUTE_VALUE_INVALID), and so
 * must CKA_VALUE_LEN (CKR_TEMPLATE_INCONSISTENT); a generated token key
 * survives C_Finalize and still decrypts. */
START_TEST(check_value_and_token_key_persists)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE k = secret(s, CKK_AES, k128, 16, 1, 1);
    uint8_t zero[16] = {0}, block[16];
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    ck_assert_int_eq(mbedtls_aes_setkey_enc(&aes, k128, 128), 0);
    ck_assert_int_eq(mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_ENCRYPT, zero, block), 0);
    mbedtls_aes_free(&aes);
    uint8_t kcv[3];
    CK_ATTRIBUTE cv = {CKA_CHECK_VALUE, kcv, 3};
    ck_assert_int_eq(C_GetAttributeValue(s, k, &cv, 1), CKR_OK);
    ck_assert_mem_eq(kcv, block, 3);
    /* C_CreateObject checks a CKA_CHECK_VALUE and CKA_VALUE_LEN it is given */
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE aes_kt = CKK_AES;
    CK_ULONG vlen = 16;
    CK_ATTRIBUTE kt6[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &aes_kt, sizeof(aes_kt)},
                         {CKA_TOKEN, &no, 1}, {CKA_VALUE, (void *)k128, 16},
                         {CKA_CHECK_VALUE, block, 3}, {CKA_VALUE_LEN, &vlen, sizeof(vlen)}};
    CK_OBJECT_HANDLE h = 0;
    ck_assert_int_eq(C_CreateObject(s, kt6, 6, &h), CKR_OK);
    vlen = 24;
    ck_assert_int_eq(C_CreateObject(s, kt6, 6, &h), CKR_TEMPLATE_INCONSISTENT);
    vlen = 16;
    block[2] ^= 1;
    ck_assert_int_eq(C_CreateObject(s, kt6, 6, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    /* generic secret "abc": SHA-1 starts a9 99 3e */
    CK_OBJECT_HANDLE g = secret(s, CKK_GENERIC_SECRET, (const uint8_t *)"abc", 3, 0, 0);
    ck_assert_int_eq(C_GetAttributeValue(s, g, &cv, 1), CKR_OK);
    static const uint8_t sha1_abc[3] = {0xa9, 0x99, 0x3e}; /* FIPS 180-2 B.1 */
    ck_assert_mem_eq(kcv, sha1_abc, 3);
    /* a token key: generated, encrypt, restart, decrypt */
    CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
    CK_ULONG len = 32;
    CK_ATTRIBUTE t[] = {{CKA_VALUE_LEN, &len, sizeof(len)},
                        {CKA_LABEL, "aes-tok", 7},
                        {CKA_ENCRYPT, &yes, 1},
                        {CKA_DECRYPT, &yes, 1}};
    CK_OBJECT_HANDLE tk = 0;
    ck_assert_int_eq(C_GenerateKey(s, &gen, t, 4, &tk), CKR_OK);
    CK_MECHANISM cbc = {CKM_AES_CBC, (void *)cbc_iv, 16};
    uint8_t ct[64], pt[64];
    CK_ULONG n = sizeof(ct);
    ck_assert_int_eq(once(s, 1, &cbc, tk, pt64, 64, ct, &n), CKR_OK);
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
    s = lwss_p11t_session();
    CK_OBJECT_HANDLE found = 0;
    ck_assert_uint_eq(lwss_p11t_find(s, "aes-tok", CKO_SECRET_KEY, &found, 1), 1);
    n = sizeof(pt);
    ck_assert_int_eq(once(s, 0, &cbc, found, ct, 64, pt, &n), CKR_OK);
    ck_assert_mem_eq(pt, pt64, 64);
}
END_TEST

/* The test RSA pair: public half may encrypt and wrap, private may decrypt and unwrap. */
static void rsa_pair(CK_SESSION_HANDLE s, mbedtls_pk_context *pk, CK_OBJECT_HANDLE *pub,
                     CK_OBJECT_HANDLE *priv)
{
    lwss_p11t_parse_key(lwss_p11t_rsa_key_pem, pk);
    CK_ATTRIBUTE pt[] = {{CKA_ENCRYPT, &yes, 1}, {CKA_WRAP, &yes, 1}};
    CK_ATTRIBUTE qt[] = {{CKA_DECRYPT, &yes, 1}, {CKA_UNWRAP, &yes, 1}};
    lwss_p11t_rsa_session_pair(s, pt, 2, qt, 2, pub, priv);
}

/* v2.40 mechanisms 2.1.6 CKM_RSA_PKCS and 2.1.8 CKM_RSA_PKCS_OAEP (SHA-1 and
 * SHA-256 with MGF1, with and without a label), both directions against
 * mbedtls on the host; wrong lengths and tampered data rejected. */
START_TEST(rsa_encrypt_decrypt_against_host)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    mbedtls_pk_context pk;
    CK_OBJECT_HANDLE pub = 0, priv = 0;
    rsa_pair(s, &pk, &pub, &priv);
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(pk);
    CK_RSA_PKCS_OAEP_PARAMS o1 = {CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_RSA_PKCS_OAEP_PARAMS o256 = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED,
                                    (void *)"label", 5};
    const struct {
        CK_MECHANISM m;
        int pad;
        mbedtls_md_type_t md;
        const char *label;
        size_t max;
    } rows[] = {
        {{CKM_RSA_PKCS, NULL, 0}, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_NONE, NULL, 245},
        {{CKM_RSA_PKCS_OAEP, &o1, sizeof(o1)}, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA1, NULL, 214},
        {{CKM_RSA_PKCS_OAEP, &o256, sizeof(o256)}, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256,
         "label", 190},
    };
    uint8_t msg[256], ct[256], pt[256];
    lwss_p11t_rng(NULL, msg, sizeof(msg));
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        CK_MECHANISM m = rows[i].m;
        size_t ll = rows[i].label ? strlen(rows[i].label) : 0;
        mbedtls_rsa_set_padding(rsa, rows[i].pad, rows[i].md);
        /* token encrypts, host decrypts */
        CK_ULONG n = 0;
        ck_assert_int_eq(C_EncryptInit(s, &m, pub), CKR_OK);
        ck_assert_int_eq(C_Encrypt(s, msg, 32, NULL, &n), CKR_OK);
        ck_assert_uint_eq(n, 256);
        ck_assert_int_eq(C_Encrypt(s, msg, 32, ct, &n), CKR_OK);
        size_t olen = 0;
        int ret = rows[i].pad == MBEDTLS_RSA_PKCS_V15
                      ? mbedtls_rsa_rsaes_pkcs1_v15_decrypt(rsa, lwss_p11t_rng, NULL,
                                                            MBEDTLS_RSA_PRIVATE, &olen, ct, pt,
                                                            sizeof(pt))
                      : mbedtls_rsa_rsaes_oaep_decrypt(rsa, lwss_p11t_rng, NULL,
                                                       MBEDTLS_RSA_PRIVATE,
                                                       (const uint8_t *)rows[i].label, ll, &olen,
                                                       ct, pt, sizeof(pt));
        ck_assert_int_eq(ret, 0);
        ck_assert_uint_eq(olen, 32);
        ck_assert_mem_eq(pt, msg, 32);
        /* host encrypts the longest message, token decrypts */
        ret = rows[i].pad == MBEDTLS_RSA_PKCS_V15
                  ? mbedtls_rsa_rsaes_pkcs1_v15_encrypt(rsa, lwss_p11t_rng, NULL,
                                                        MBEDTLS_RSA_PUBLIC, rows[i].max, msg, ct)
                  : mbedtls_rsa_rsaes_oaep_encrypt(rsa, lwss_p11t_rng, NULL, MBEDTLS_RSA_PUBLIC,
                                                   (const uint8_t *)rows[i].label, ll,
                                                   rows[i].max, msg, ct);
        ck_assert_int_eq(ret, 0);
        n = 10;
        ck_assert_int_eq(C_DecryptInit(s, &m, priv), CKR_OK);
        ck_assert_int_eq(C_Decrypt(s, ct, 256, pt, &n), CKR_BUFFER_TOO_SMALL);
        ck_assert_uint_eq(n, rows[i].max);
        ck_assert_int_eq(C_Decrypt(s, ct, 256, pt, &n), CKR_OK);
        ck_assert_uint_eq(n, rows[i].max);
        ck_assert_mem_eq(pt, msg, rows[i].max);
        /* CKR_DATA_LEN_RANGE one byte over; CKR_ENCRYPTED_DATA_LEN_RANGE; INVALID */
        n = sizeof(ct);
        ck_assert_int_eq(once(s, 1, &m, pub, msg, rows[i].max + 1, ct, &n), CKR_DATA_LEN_RANGE);
        n = sizeof(pt);
        ck_assert_int_eq(once(s, 0, &m, priv, ct, 255, pt, &n), CKR_ENCRYPTED_DATA_LEN_RANGE);
        ct[100] ^= 0x40;
        n = sizeof(pt);
        ck_assert_int_eq(once(s, 0, &m, priv, ct, 256, pt, &n), CKR_ENCRYPTED_DATA_INVALID);
        ck_assert_int_eq(C_Decrypt(s, ct, 256, pt, &n), CKR_OPERATION_NOT_INITIALIZED);
    }
    /* keys: encryption needs the public half with CKA_ENCRYPT */
    CK_MECHANISM v15 = {CKM_RSA_PKCS, NULL, 0};
    ck_assert_int_eq(C_EncryptInit(s, &v15, priv), CKR_KEY_TYPE_INCONSISTENT);
    ck_assert_int_eq(C_DecryptInit(s, &v15, pub), CKR_KEY_TYPE_INCONSISTENT);
    /* RSA is single-part (v2.40 mechanisms table: no multi-part) */
    ck_assert_int_eq(C_EncryptInit(s, &v15, pub), CKR_OK);
    CK_ULONG n = sizeof(ct);
    ck_assert_int_eq(C_EncryptUpdate(s, msg, 4, ct, &n), CKR_FUNCTION_NOT_SUPPORTED);
    ck_assert_int_eq(C_EncryptFinal(s, ct, &n), CKR_OPERATION_NOT_INITIALIZED);
    ck_assert_int_eq(C_DecryptInit(s, &v15, priv), CKR_OK);
    n = sizeof(pt);
    ck_assert_int_eq(C_DecryptUpdate(s, ct, 256, pt, &n), CKR_FUNCTION_NOT_SUPPORTED);
    ck_assert_int_eq(C_DecryptFinal(s, pt, &n), CKR_OPERATION_NOT_INITIALIZED);
    /* OAEP parameters: MGF of another hash, an unknown source, no parameter */
    CK_RSA_PKCS_OAEP_PARAMS mix = {CKM_SHA256, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_MECHANISM om = {CKM_RSA_PKCS_OAEP, &mix, sizeof(mix)};
    ck_assert_int_eq(C_EncryptInit(s, &om, pub), CKR_MECHANISM_PARAM_INVALID);
    mix.mgf = CKG_MGF1_SHA256;
    mix.source = 7;
    ck_assert_int_eq(C_EncryptInit(s, &om, pub), CKR_MECHANISM_PARAM_INVALID);
    om.pParameter = NULL;
    om.ulParameterLen = 0;
    ck_assert_int_eq(C_EncryptInit(s, &om, pub), CKR_MECHANISM_PARAM_INVALID);
    mbedtls_pk_free(&pk);
}
END_TEST

/* v2.40 5.5 C_GetMechanismInfo: every cipher and key-generation mechanism
 * of the token is listed, with the function flags it really serves. */
START_TEST(mechanism_flags)
{
    const struct {
        CK_MECHANISM_TYPE m;
        CK_FLAGS f;
    } rows[] = {
        {CKM_AES_KEY_GEN, CKF_GENERATE},       {CKM_DES3_KEY_GEN, CKF_GENERATE},
        {CKM_GENERIC_SECRET_KEY_GEN, CKF_GENERATE},
        {CKM_AES_ECB, CKF_ENCRYPT | CKF_DECRYPT}, {CKM_AES_CBC, CKF_ENCRYPT | CKF_DECRYPT},
        {CKM_AES_CBC_PAD, CKF_ENCRYPT | CKF_DECRYPT}, {CKM_AES_CTR, CKF_ENCRYPT | CKF_DECRYPT},
        {CKM_AES_GCM, CKF_ENCRYPT | CKF_DECRYPT}, {CKM_DES3_ECB, CKF_ENCRYPT | CKF_DECRYPT},
        {CKM_DES3_CBC, CKF_ENCRYPT | CKF_DECRYPT}, {CKM_DES3_CBC_PAD, CKF_ENCRYPT | CKF_DECRYPT},
        {CKM_RSA_PKCS, CKF_ENCRYPT | CKF_DECRYPT | CKF_SIGN | CKF_VERIFY},
        {CKM_RSA_PKCS_OAEP, CKF_ENCRYPT | CKF_DECRYPT},
    };
    CK_MECHANISM_TYPE list[64];
    CK_ULONG n = 64;
    ck_assert_int_eq(C_GetMechanismList(0, list, &n), CKR_OK);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int seen = 0;
        for (CK_ULONG j = 0; j < n; j++) {
            seen |= list[j] == rows[i].m;
        }
        ck_assert_msg(seen, "mechanism 0x%lx not listed", rows[i].m);
        CK_MECHANISM_INFO mi;
        ck_assert_int_eq(C_GetMechanismInfo(0, rows[i].m, &mi), CKR_OK);
        ck_assert_msg((mi.flags & rows[i].f) == rows[i].f, "mechanism 0x%lx flags 0x%lx",
                      rows[i].m, mi.flags);
    }
}
END_TEST

Suite *pkcs11_cipher_suite(void);

Suite *pkcs11_cipher_suite(void)
{
    Suite *su = suite_create("pkcs11_cipher");
    TCase *tc = tcase_create("cipher");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, aes_sp800_38a_vectors);
    tcase_add_test(tc, aes_gcm_vectors);
    tcase_add_test(tc, aes_gcm_rejects);
    tcase_add_test(tc, cbc_pad_and_des3_against_host);
    tcase_add_test(tc, block_length_and_padding_errors);
    tcase_add_test(tc, des3_and_cbc_decrypt_errors);
    tcase_add_test(tc, length_queries_and_operation_state);
    tcase_add_test(tc, init_checks_key_and_mechanism);
    tcase_add_test(tc, generate_key_attributes);
    tcase_add_test(tc, generate_key_rejects);
    tcase_add_test(tc, check_value_and_token_key_persists);
    tcase_add_test(tc, rsa_encrypt_decrypt_against_host);
    tcase_add_test(tc, mechanism_flags);
    suite_add_tcase(su, tc);
    return su;
}
