/*
 * Suite "pkcs11_wrap": C_WrapKey / C_UnwrapKey (v2.40 5.14) with
 * CKM_AES_KEY_WRAP (RFC 3394 section 4 vectors), CKM_AES_KEY_WRAP_PAD
 * (RFC 5649 section 6 vectors), CKM_RSA_PKCS / CKM_RSA_PKCS_OAEP of secret
 * keys (checked by mbedtls on the host), PKCS #8 private keys under AES,
 * and the policy attributes CKA_WRAP, CKA_UNWRAP, CKA_EXTRACTABLE,
 * CKA_WRAP_WITH_TRUSTED, CKA_TRUSTED with each return code they imply.
 */
#include "tests/support/test_pkcs11.h"

#include <check.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/rsa.h>
#include <string.h>

static CK_BBOOL yes = CK_TRUE;
static CK_BBOOL no = CK_FALSE;
static CK_OBJECT_CLASS secret_cls = CKO_SECRET_KEY;

/* A session secret key; @p wrap / @p extractable set the policy bits. */
static CK_OBJECT_HANDLE key_of(CK_SESSION_HANDLE s, CK_KEY_TYPE kt, const void *val, size_t len,
                               int wrap, int extractable)
{
    CK_BBOOL w = wrap ? CK_TRUE : CK_FALSE;
    CK_BBOOL x = extractable ? CK_TRUE : CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &secret_cls, sizeof(secret_cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_TOKEN, &no, 1},
                        {CKA_WRAP, &w, 1},
                        {CKA_UNWRAP, &w, 1},
                        {CKA_ENCRYPT, &yes, 1},
                        {CKA_EXTRACTABLE, &x, 1},
                        {CKA_VALUE, (void *)val, len}};
    CK_OBJECT_HANDLE h = 0;
    ck_assert_int_eq(C_CreateObject(s, t, 8, &h), CKR_OK);
    return h;
}

static void hex(const char *text, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned v = 0;
        ck_assert_int_eq(sscanf(text + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* Wrap @p key under @p kek with @p mech, checking the length query first. */
static size_t wrap(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE kek,
                   CK_OBJECT_HANDLE key, uint8_t *out, size_t room)
{
    CK_ULONG n = 0;
    ck_assert_int_eq(C_WrapKey(s, m, kek, key, NULL, &n), CKR_OK);
    ck_assert_uint_le(n, room);
    CK_ULONG want = n;
    n = want - 1;
    ck_assert_int_eq(C_WrapKey(s, m, kek, key, out, &n), CKR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(n, want);
    ck_assert_int_eq(C_WrapKey(s, m, kek, key, out, &n), CKR_OK);
    return n;
}

static CK_OBJECT_HANDLE unwrap_secret(CK_SESSION_HANDLE s, CK_MECHANISM *m, CK_OBJECT_HANDLE kek,
                                      const uint8_t *in, size_t len, CK_KEY_TYPE kt, CK_RV want)
{
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &secret_cls, sizeof(secret_cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_TOKEN, &no, 1},
                        {CKA_EXTRACTABLE, &yes, 1},
                        {CKA_ENCRYPT, &yes, 1}};
    CK_OBJECT_HANDLE h = 0;
    ck_assert_int_eq(C_UnwrapKey(s, m, kek, (CK_BYTE_PTR)in, len, t, 5, &h), want);
    return h;
}

static void same_check_value(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE a, CK_OBJECT_HANDLE b)
{
    uint8_t va[3], vb[3];
    CK_ATTRIBUTE qa = {CKA_CHECK_VALUE, va, 3}, qb = {CKA_CHECK_VALUE, vb, 3};
    ck_assert_int_eq(C_GetAttributeValue(s, a, &qa, 1), CKR_OK);
    ck_assert_int_eq(C_GetAttributeValue(s, b, &qb, 1), CKR_OK);
    ck_assert_mem_eq(va, vb, 3);
}

static CK_BBOOL get_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t)
{
    CK_BBOOL v = 2;
    CK_ATTRIBUTE a = {t, &v, 1};
    ck_assert_int_eq(C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    return v;
}

/* RFC 3394 4.1 (128-bit KEK, 128-bit key) and 4.6 (256-bit KEK, 256-bit
 * key); the unwrapped key has the same CKA_CHECK_VALUE and, being
 * unwrapped, is neither CKA_LOCAL nor CKA_ALWAYS_SENSITIVE (v2.40 4.10). */
START_TEST(aes_key_wrap_rfc3394)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    const struct {
        const char *kek, *key, *wrapped;
        size_t kek_len, key_len;
    } v[] = {
        {"000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
         "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5", 16, 16},
        {"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
         "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
         "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21", 32,
         32},
    };
    CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
    for (size_t i = 0; i < 2; i++) {
        uint8_t kek[32], key[32], want[40], got[48];
        hex(v[i].kek, kek, v[i].kek_len);
        hex(v[i].key, key, v[i].key_len);
        hex(v[i].wrapped, want, v[i].key_len + 8);
        CK_OBJECT_HANDLE hk = key_of(s, CKK_AES, kek, v[i].kek_len, 1, 0);
        CK_OBJECT_HANDLE hx = key_of(s, CKK_AES, key, v[i].key_len, 0, 1);
        ck_assert_uint_eq(wrap(s, &kw, hk, hx, got, sizeof(got)), v[i].key_len + 8);
        ck_assert_mem_eq(got, want, v[i].key_len + 8);
        CK_OBJECT_HANDLE u = unwrap_secret(s, &kw, hk, want, v[i].key_len + 8, CKK_AES, CKR_OK);
        same_check_value(s, u, hx);
        ck_assert_uint_eq(get_bool(s, u, CKA_LOCAL), CK_FALSE);
        ck_assert_uint_eq(get_bool(s, u, CKA_ALWAYS_SENSITIVE), CK_FALSE);
        ck_assert_uint_eq(get_bool(s, u, CKA_NEVER_EXTRACTABLE), CK_FALSE);
        /* tampered: the integrity check (RFC 3394 2.2.3) fails */
        want[5] ^= 1;
        unwrap_secret(s, &kw, hk, want, v[i].key_len + 8, CKK_AES, CKR_WRAPPED_KEY_INVALID);
    }
}
END_TEST

/* RFC 5649 6: 192-bit KEK, a 20-byte and a 7-byte key (the one-block case). */
START_TEST(aes_key_wrap_pad_rfc5649)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    uint8_t kek[24], k20[20], k7[7], w20[32], w7[16], got[40];
    hex("5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8", kek, 24);
    hex("c37b7e6492584340bed12207808941155068f738", k20, 20);
    hex("138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a", w20, 32);
    hex("466f7250617369", k7, 7);
    hex("afbeb0f07dfbf5419200f2ccb50bb24f", w7, 16);
    CK_OBJECT_HANDLE hk = key_of(s, CKK_AES, kek, 24, 1, 0);
    CK_OBJECT_HANDLE h20 = key_of(s, CKK_GENERIC_SECRET, k20, 20, 0, 1);
    CK_OBJECT_HANDLE h7 = key_of(s, CKK_GENERIC_SECRET, k7, 7, 0, 1);
    CK_MECHANISM kwp = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
    ck_assert_uint_eq(wrap(s, &kwp, hk, h20, got, sizeof(got)), 32);
    ck_assert_mem_eq(got, w20, 32);
    ck_assert_uint_eq(wrap(s, &kwp, hk, h7, got, sizeof(got)), 16);
    ck_assert_mem_eq(got, w7, 16);
    same_check_value(s, h20, unwrap_secret(s, &kwp, hk, w20, 32, CKK_GENERIC_SECRET, CKR_OK));
    same_check_value(s, h7, unwrap_secret(s, &kwp, hk, w7, 16, CKK_GENERIC_SECRET, CKR_OK));
    w7[15] ^= 0x10;
    unwrap_secret(s, &kwp, hk, w7, 16, CKK_GENERIC_SECRET, CKR_WRAPPED_KEY_INVALID);
    /* RFC 3394 without padding cannot take 20 bytes (v2.40: CKR_KEY_SIZE_RANGE) */
    CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
    CK_ULONG n = sizeof(got);
    ck_assert_int_eq(C_WrapKey(s, &kw, hk, h20, got, &n), CKR_KEY_SIZE_RANGE);
    unwrap_secret(s, &kw, hk, w20, 20, CKK_GENERIC_SECRET, CKR_WRAPPED_KEY_LEN_RANGE);
}
END_TEST

/* v2.40 4.9 / 5.14: C_WrapKey refuses a key that is not CKA_EXTRACTABLE
 * (CKR_KEY_UNEXTRACTABLE), a wrapping key without CKA_WRAP and an
 * unwrapping key without CKA_UNWRAP (CKR_KEY_FUNCTION_NOT_PERMITTED), bad
 * handles (CKR_WRAPPING_KEY_HANDLE_INVALID, CKR_KEY_HANDLE_INVALID,
 * CKR_UNWRAPPING_KEY_HANDLE_INVALID), wrong key types
 * (CKR_WRAPPING_KEY_TYPE_INCONSISTENT, CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT),
 * mechanisms that do not wrap (CKR_MECHANISM_INVALID), and an unwrap
 * template without CKA_CLASS (CKR_TEMPLATE_INCOMPLETE). */
START_TEST(wrap_policy_return_codes)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    uint8_t k16[16] = {1, 2, 3}, k24[24] = {4, 5, 6};
    CK_OBJECT_HANDLE kek = key_of(s, CKK_AES, k16, 16, 1, 0);
    CK_OBJECT_HANDLE no_wrap = key_of(s, CKK_AES, k16, 16, 0, 0);
    CK_OBJECT_HANDLE des_kek = key_of(s, CKK_DES3, k24, 24, 1, 0);
    CK_OBJECT_HANDLE locked = key_of(s, CKK_AES, k16, 16, 0, 0);
    CK_OBJECT_HANDLE free_key = key_of(s, CKK_AES, k16, 16, 0, 1);
    CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
    uint8_t out[64];
    CK_ULONG n = sizeof(out);
    ck_assert_int_eq(C_WrapKey(s, &kw, kek, locked, out, &n), CKR_KEY_UNEXTRACTABLE);
    ck_assert_int_eq(C_WrapKey(s, &kw, no_wrap, free_key, out, &n), CKR_KEY_FUNCTION_NOT_PERMITTED);
    ck_assert_int_eq(C_WrapKey(s, &kw, 0x7777, free_key, out, &n), CKR_WRAPPING_KEY_HANDLE_INVALID);
    ck_assert_int_eq(C_WrapKey(s, &kw, kek, 0x7777, out, &n), CKR_KEY_HANDLE_INVALID);
    ck_assert_int_eq(C_WrapKey(s, &kw, des_kek, free_key, out, &n),
                     CKR_WRAPPING_KEY_TYPE_INCONSISTENT);
    CK_MECHANISM ecb = {CKM_AES_ECB, NULL, 0};
    ck_assert_int_eq(C_WrapKey(s, &ecb, kek, free_key, out, &n), CKR_MECHANISM_INVALID);
    ck_assert_int_eq(C_WrapKey(s, NULL, kek, free_key, out, &n), CKR_ARGUMENTS_BAD);
    n = sizeof(out);
    ck_assert_int_eq(C_WrapKey(s, &kw, kek, free_key, out, &n), CKR_OK);
    ck_assert_uint_eq(n, 24);
    unwrap_secret(s, &kw, no_wrap, out, 24, CKK_AES, CKR_KEY_FUNCTION_NOT_PERMITTED);
    unwrap_secret(s, &kw, 0x7777, out, 24, CKK_AES, CKR_UNWRAPPING_KEY_HANDLE_INVALID);
    unwrap_secret(s, &kw, des_kek, out, 24, CKK_AES, CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT);
    unwrap_secret(s, &kw, kek, out, 23, CKK_AES, CKR_WRAPPED_KEY_LEN_RANGE);
    unwrap_secret(s, &kw, kek, out, 24, CKK_DES3, CKR_ATTRIBUTE_VALUE_INVALID); /* 16 bytes */
    CK_KEY_TYPE aes = CKK_AES;
    CK_ATTRIBUTE no_class[] = {{CKA_KEY_TYPE, &aes, sizeof(aes)}, {CKA_TOKEN, &no, 1}};
    CK_OBJECT_HANDLE h = 0;
    ck_assert_int_eq(C_UnwrapKey(s, &kw, kek, out, 24, no_class, 2, &h), CKR_TEMPLATE_INCOMPLETE);
    CK_ULONG bad_len = 32;
    CK_ATTRIBUTE len_t[] = {{CKA_CLASS, &secret_cls, sizeof(secret_cls)},
                            {CKA_KEY_TYPE, &aes, sizeof(aes)},
                            {CKA_TOKEN, &no, 1},
                            {CKA_VALUE_LEN, &bad_len, sizeof(bad_len)}};
    ck_assert_int_eq(C_UnwrapKey(s, &kw, kek, out, 24, len_t, 4, &h), CKR_TEMPLATE_INCONSISTENT);
    /* a token object from a read-only session */
    CK_SESSION_HANDLE ro = 0;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
    CK_ATTRIBUTE tok[] = {{CKA_CLASS, &secret_cls, sizeof(secret_cls)},
                          {CKA_KEY_TYPE, &aes, sizeof(aes)}};
    ck_assert_int_eq(C_UnwrapKey(ro, &kw, kek, out, 24, tok, 2, &h), CKR_SESSION_READ_ONLY);
    ck_assert_int_eq(C_UnwrapKey(s, &kw, kek, out, 24, tok, 2, &h), CKR_OK); /* R/W: fine */
}
END_TEST

/* v2.40 4.9 CKA_WRAP_WITH_TRUSTED / 4.8 CKA_TRUSTED: such a key is wrapped
 * only by a trusted key (else CKR_KEY_NOT_WRAPPABLE); only the SO may mark a
 * key trusted (CKR_ATTRIBUTE_READ_ONLY for anyone else). */
START_TEST(wrap_with_trusted)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    uint8_t k16[16] = {9, 8, 7};
    CK_KEY_TYPE aes = CKK_AES;
    CK_ATTRIBUTE trusted_t[] = {{CKA_CLASS, &secret_cls, sizeof(secret_cls)},
                                {CKA_KEY_TYPE, &aes, sizeof(aes)}, {CKA_TOKEN, &no, 1},
                                {CKA_WRAP, &yes, 1}, {CKA_TRUSTED, &yes, 1},
                                {CKA_VALUE, k16, 16}};
    CK_OBJECT_HANDLE trusted = 0;
    ck_assert_int_eq(C_CreateObject(s, trusted_t, 6, &trusted), CKR_ATTRIBUTE_READ_ONLY);
    ck_assert_int_eq(C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR) "0000", 4), CKR_OK);
    ck_assert_int_eq(C_CreateObject(s, trusted_t, 6, &trusted), CKR_OK);
    ck_assert_int_eq(C_Logout(s), CKR_OK);
    ck_assert_uint_eq(get_bool(s, trusted, CKA_TRUSTED), CK_TRUE);
    CK_OBJECT_HANDLE plain_kek = key_of(s, CKK_AES, k16, 16, 1, 0);
    ck_assert_uint_eq(get_bool(s, plain_kek, CKA_TRUSTED), CK_FALSE);
    CK_ATTRIBUTE guarded_t[] = {{CKA_CLASS, &secret_cls, sizeof(secret_cls)},
                                {CKA_KEY_TYPE, &aes, sizeof(aes)}, {CKA_TOKEN, &no, 1},
                                {CKA_EXTRACTABLE, &yes, 1}, {CKA_WRAP_WITH_TRUSTED, &yes, 1},
                                {CKA_VALUE, k16, 16}};
    CK_OBJECT_HANDLE guarded = 0;
    ck_assert_int_eq(C_CreateObject(s, guarded_t, 6, &guarded), CKR_OK);
    ck_assert_uint_eq(get_bool(s, guarded, CKA_WRAP_WITH_TRUSTED), CK_TRUE);
    CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
    uint8_t out[32];
    CK_ULONG n = sizeof(out);
    ck_assert_int_eq(C_WrapKey(s, &kw, plain_kek, guarded, out, &n), CKR_KEY_NOT_WRAPPABLE);
    n = sizeof(out);
    ck_assert_int_eq(C_WrapKey(s, &kw, trusted, guarded, out, &n), CKR_OK);
    ck_assert_uint_eq(n, 24);
}
END_TEST

/* v2.40 mechanisms 2.1.6 / 2.1.8: a secret key wrapped with CKM_RSA_PKCS and
 * CKM_RSA_PKCS_OAEP (SHA-256) is the key value under the public key, as
 * mbedtls on the host decrypts it; unwrapping gives the same key; a
 * private key is not wrapped by RSA (CKR_KEY_NOT_WRAPPABLE). */
START_TEST(rsa_wrap_secret_keys)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_rsa_key_pem, &pk);
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(pk);
    CK_ATTRIBUTE pt[] = {{CKA_WRAP, &yes, 1}};
    CK_ATTRIBUTE qt[] = {{CKA_UNWRAP, &yes, 1}, {CKA_EXTRACTABLE, &yes, 1}};
    CK_OBJECT_HANDLE pub = 0, priv = 0;
    lwss_p11t_rsa_session_pair(s, pt, 1, qt, 2, &pub, &priv);
    uint8_t k32[32];
    lwss_p11t_rng(NULL, k32, sizeof(k32));
    CK_OBJECT_HANDLE key = key_of(s, CKK_AES, k32, 32, 0, 1);
    CK_RSA_PKCS_OAEP_PARAMS op = {CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, NULL, 0};
    CK_MECHANISM mechs[] = {{CKM_RSA_PKCS, NULL, 0}, {CKM_RSA_PKCS_OAEP, &op, sizeof(op)}};
    for (size_t i = 0; i < 2; i++) {
        uint8_t wrapped[256], plain[256];
        ck_assert_uint_eq(wrap(s, &mechs[i], pub, key, wrapped, sizeof(wrapped)), 256);
        mbedtls_rsa_set_padding(rsa, i == 0 ? MBEDTLS_RSA_PKCS_V15 : MBEDTLS_RSA_PKCS_V21,
                                i == 0 ? MBEDTLS_MD_NONE : MBEDTLS_MD_SHA256);
        size_t olen = 0;
        ck_assert_int_eq(mbedtls_rsa_pkcs1_decrypt(rsa, lwss_p11t_rng, NULL, MBEDTLS_RSA_PRIVATE,
                                                   &olen, wrapped, plain, sizeof(plain)),
                         0);
        ck_assert_uint_eq(olen, 32);
        ck_assert_mem_eq(plain, k32, 32);
        CK_OBJECT_HANDLE u = unwrap_secret(s, &mechs[i], priv, wrapped, 256, CKK_AES, CKR_OK);
        same_check_value(s, u, key);
        wrapped[0] ^= 0x01;
        unwrap_secret(s, &mechs[i], priv, wrapped, 256, CKK_AES, CKR_WRAPPED_KEY_INVALID);
        unwrap_secret(s, &mechs[i], priv, wrapped, 255, CKK_AES, CKR_WRAPPED_KEY_LEN_RANGE);
    }
    uint8_t out[256];
    CK_ULONG n = sizeof(out);
    ck_assert_int_eq(C_WrapKey(s, &mechs[0], pub, priv, out, &n), CKR_KEY_NOT_WRAPPABLE);
    ck_assert_int_eq(C_WrapKey(s, &mechs[0], priv, key, out, &n),
                     CKR_WRAPPING_KEY_TYPE_INCONSISTENT);
    mbedtls_pk_free(&pk);
}
END_TEST

/* Private keys under AES key wrap with padding (v2.40 2.14.2 / RFC 5649),
 * as PKCS #8: the unwrapped P-256 key signs and the host verifies with the
 * original; the unwrapped key is a new object not LOCAL. */
START_TEST(aes_wrap_private_key_pkcs8)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_ec_key_pem, &pk);
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(pk);
    uint8_t dv[32];
    ck_assert_int_eq(mbedtls_mpi_write_binary(&ec->d, dv, 32), 0);
    static const uint8_t p256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
    CK_OBJECT_CLASS priv_c = CKO_PRIVATE_KEY;
    CK_KEY_TYPE ec_kt = CKK_EC;
    CK_ATTRIBUTE qt[] = {{CKA_CLASS, &priv_c, sizeof(priv_c)}, {CKA_KEY_TYPE, &ec_kt, sizeof(ec_kt)},
                         {CKA_TOKEN, &no, 1}, {CKA_EXTRACTABLE, &yes, 1},
                         {CKA_EC_PARAMS, (void *)p256, sizeof(p256)}, {CKA_VALUE, dv, 32}};
    CK_OBJECT_HANDLE priv = 0;
    ck_assert_int_eq(C_CreateObject(s, qt, 6, &priv), CKR_OK);
    uint8_t k32[32] = {7};
    CK_OBJECT_HANDLE kek = key_of(s, CKK_AES, k32, 32, 1, 0);
    CK_MECHANISM kwp = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
    uint8_t wrapped[512];
    size_t wl = wrap(s, &kwp, kek, priv, wrapped, sizeof(wrapped));
    ck_assert_uint_gt(wl, 100);
    CK_ATTRIBUTE ut[] = {{CKA_CLASS, &priv_c, sizeof(priv_c)}, {CKA_KEY_TYPE, &ec_kt, sizeof(ec_kt)},
                         {CKA_TOKEN, &no, 1}, {CKA_SIGN, &yes, 1}, {CKA_LABEL, "unwrapped", 9}};
    CK_OBJECT_HANDLE u = 0;
    ck_assert_int_eq(C_UnwrapKey(s, &kwp, kek, wrapped, wl, ut, 5, &u), CKR_OK);
    ck_assert_uint_eq(get_bool(s, u, CKA_LOCAL), CK_FALSE);
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    uint8_t hash[32], sig[64];
    lwss_p11t_sha256("pkcs8", 5, hash);
    CK_ULONG sl = sizeof(sig);
    ck_assert_int_eq(C_SignInit(s, &ecdsa, u), CKR_OK);
    ck_assert_int_eq(C_Sign(s, hash, 32, sig, &sl), CKR_OK);
    uint8_t der[80];
    size_t dl = lwss_p11t_ecdsa_raw_to_der(sig, der, sizeof(der));
    ck_assert_int_eq(mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, 32, der, dl), 0);
    /* the key type must match the PKCS #8 inside */
    CK_KEY_TYPE rsa_kt = CKK_RSA;
    ut[1].pValue = &rsa_kt;
    ck_assert_int_eq(C_UnwrapKey(s, &kwp, kek, wrapped, wl, ut, 5, &u), CKR_TEMPLATE_INCONSISTENT);
    /* RFC 3394 cannot carry it unless its length is a multiple of 8 */
    CK_MECHANISM kw = {CKM_AES_KEY_WRAP, NULL, 0};
    CK_ULONG n = sizeof(wrapped);
    CK_RV rv = C_WrapKey(s, &kw, kek, priv, wrapped, &n);
    ck_assert(rv == CKR_OK || rv == CKR_KEY_SIZE_RANGE);
    mbedtls_pk_free(&pk);
}
END_TEST

Suite *pkcs11_wrap_suite(void);

Suite *pkcs11_wrap_suite(void)
{
    Suite *su = suite_create("pkcs11_wrap");
    TCase *tc = tcase_create("wrap");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, aes_key_wrap_rfc3394);
    tcase_add_test(tc, aes_key_wrap_pad_rfc5649);
    tcase_add_test(tc, wrap_policy_return_codes);
    tcase_add_test(tc, wrap_with_trusted);
    tcase_add_test(tc, rsa_wrap_secret_keys);
    tcase_add_test(tc, aes_wrap_private_key_pkcs8);
    suite_add_tcase(su, tc);
    return su;
}
