/*
 * Suite "pkcs11_derive": C_DeriveKey with CKM_ECDH1_DERIVE (PKCS #11 v2.40
 * 5.14, mechanisms 2.3.15) on P-256 and P-384, CKD_NULL and CKD_SHA256_KDF
 * (issue 18 item 4).  The other side is mbedtls on the host: it computes
 * the same shared secret; since the derived key is never readable
 * (sensitive), both sides MAC a message with it (HMAC-SHA256 for generic
 * secrets, AES-CMAC for AES keys) and the MACs must match.
 */
#include "tests/support/test_pkcs11.h"

#include <check.h>
#include <mbedtls/cmac.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>
#include <string.h>

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
static const uint8_t P256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
static const uint8_t P384[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22};

typedef struct side {
    CK_OBJECT_HANDLE priv, pub;  /* the token's pair */
    mbedtls_ecp_group grp;       /* the host's */
    mbedtls_mpi d;
    mbedtls_ecp_point q;
    uint8_t peer[100];           /* host public point, uncompressed */
    size_t peer_len;
    uint8_t z[48];               /* shared secret as the host sees it */
    size_t z_len;
} side;

static void make_sides(CK_SESSION_HANDLE s, int p384, int derive, side *x)
{
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pub_t[] = {{CKA_EC_PARAMS, (void *)(p384 ? P384 : P256),
                             p384 ? sizeof(P384) : sizeof(P256)},
                            {CKA_LABEL, "ecdh", 4}, {CKA_TOKEN, &yes, 1}};
    CK_ATTRIBUTE priv_t[] = {{CKA_LABEL, "ecdh", 4}, {CKA_TOKEN, &yes, 1},
                             {CKA_DERIVE, derive ? &yes : &no, 1}};
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pub_t, 3, priv_t, 3, &x->pub, &x->priv), CKR_OK);
    mbedtls_ecp_group_init(&x->grp);
    mbedtls_mpi_init(&x->d);
    mbedtls_ecp_point_init(&x->q);
    ck_assert_int_eq(mbedtls_ecp_group_load(&x->grp, p384 ? MBEDTLS_ECP_DP_SECP384R1
                                                          : MBEDTLS_ECP_DP_SECP256R1),
                     0);
    ck_assert_int_eq(mbedtls_ecp_gen_keypair(&x->grp, &x->d, &x->q, lwss_p11t_rng, NULL), 0);
    ck_assert_int_eq(mbedtls_ecp_point_write_binary(&x->grp, &x->q, MBEDTLS_ECP_PF_UNCOMPRESSED,
                                                    &x->peer_len, x->peer, sizeof(x->peer)),
                     0);
    /* the host's view: its d times the token's public point */
    uint8_t point[110];
    CK_ATTRIBUTE a = {CKA_EC_POINT, point, sizeof(point)};
    ck_assert_int_eq(C_GetAttributeValue(s, x->pub, &a, 1), CKR_OK);
    mbedtls_ecp_point tq;
    mbedtls_mpi z;
    mbedtls_ecp_point_init(&tq);
    mbedtls_mpi_init(&z);
    ck_assert_int_eq(mbedtls_ecp_point_read_binary(&x->grp, &tq, point + 2, a.ulValueLen - 2), 0);
    ck_assert_int_eq(mbedtls_ecdh_compute_shared(&x->grp, &z, &tq, &x->d, lwss_p11t_rng, NULL), 0);
    x->z_len = (x->grp.pbits + 7) / 8;
    ck_assert_int_eq(mbedtls_mpi_write_binary(&z, x->z, x->z_len), 0);
    mbedtls_mpi_free(&z);
    mbedtls_ecp_point_free(&tq);
}

static void free_sides(side *x)
{
    mbedtls_ecp_point_free(&x->q);
    mbedtls_mpi_free(&x->d);
    mbedtls_ecp_group_free(&x->grp);
}

/* X9.63 KDF with SHA-256 on the host. */
static void host_kdf(const uint8_t *z, size_t z_len, const uint8_t *info, size_t info_len,
                     uint8_t *out, size_t n)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    for (uint32_t c = 1; n > 0; c++) {
        uint8_t buf[200], h[32];
        size_t off = 0;
        memcpy(buf, z, z_len);
        off = z_len;
        buf[off++] = (uint8_t)(c >> 24);
        buf[off++] = (uint8_t)(c >> 16);
        buf[off++] = (uint8_t)(c >> 8);
        buf[off++] = (uint8_t)c;
        if (info_len > 0) {
            memcpy(buf + off, info, info_len);
            off += info_len;
        }
        ck_assert_int_eq(mbedtls_md(md, buf, off, h), 0);
        size_t take = n < 32 ? n : 32;
        memcpy(out, h, take);
        out += take;
        n -= take;
    }
}

static CK_RV derive(CK_SESSION_HANDLE s, side *x, CK_ULONG kdf, const uint8_t *info,
                    size_t info_len, CK_KEY_TYPE kt, CK_ULONG value_len, CK_OBJECT_HANDLE *out)
{
    CK_ECDH1_DERIVE_PARAMS p = {kdf, info_len, (CK_BYTE_PTR)info, x->peer_len, x->peer};
    CK_MECHANISM m = {CKM_ECDH1_DERIVE, &p, sizeof(p)};
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_TOKEN, &no, 1},
                        {CKA_VALUE_LEN, &value_len, sizeof(value_len)}};
    return C_DeriveKey(s, &m, x->priv, t, value_len ? 4 : 3, out);
}

/* The derived key MACs "message" as the host key @p key does. */
static void same_key(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_KEY_TYPE kt, const uint8_t *key,
                     size_t key_len)
{
    static const char msg[] = "message";
    uint8_t want[32], got[32];
    CK_MECHANISM m = {kt == CKK_AES ? CKM_AES_CMAC : CKM_SHA256_HMAC, NULL, 0};
    size_t n = kt == CKK_AES ? 16 : 32;
    if (kt == CKK_AES) {
        mbedtls_cipher_type_t c = key_len == 16   ? MBEDTLS_CIPHER_AES_128_ECB
                                  : key_len == 24 ? MBEDTLS_CIPHER_AES_192_ECB
                                                  : MBEDTLS_CIPHER_AES_256_ECB;
        ck_assert_int_eq(mbedtls_cipher_cmac(mbedtls_cipher_info_from_type(c), key, key_len * 8,
                                             (const uint8_t *)msg, 7, want),
                         0);
    } else {
        ck_assert_int_eq(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key,
                                         key_len, (const uint8_t *)msg, 7, want),
                         0);
    }
    CK_ULONG len = sizeof(got);
    ck_assert_int_eq(C_SignInit(s, &m, h), CKR_OK);
    ck_assert_int_eq(C_Sign(s, (CK_BYTE_PTR)msg, 7, got, &len), CKR_OK);
    ck_assert_uint_eq(len, n);
    ck_assert_mem_eq(got, want, n);
    CK_ULONG vl = 0;
    CK_ATTRIBUTE a = {CKA_VALUE_LEN, &vl, sizeof(vl)};
    ck_assert_int_eq(C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    ck_assert_uint_eq(vl, key_len);
}

/* CKD_NULL: the key is (the leftmost CKA_VALUE_LEN bytes of) Z, on both curves. */
START_TEST(ecdh_null_kdf)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    for (int p384 = 0; p384 < 2; p384++) {
        side x;
        make_sides(s, p384, 1, &x);
        CK_OBJECT_HANDLE k = 0;
        ck_assert_int_eq(derive(s, &x, CKD_NULL, NULL, 0, CKK_GENERIC_SECRET, 0, &k), CKR_OK);
        same_key(s, k, CKK_GENERIC_SECRET, x.z, x.z_len);
        ck_assert_int_eq(derive(s, &x, CKD_NULL, NULL, 0, CKK_AES, 16, &k), CKR_OK);
        same_key(s, k, CKK_AES, x.z, 16);
        ck_assert_int_eq(derive(s, &x, CKD_NULL, NULL, 0, CKK_AES, 32, &k), CKR_OK);
        same_key(s, k, CKK_AES, x.z, 32);
        /* v2.40 5.14: not LOCAL; ALWAYS_SENSITIVE / NEVER_EXTRACTABLE follow
         * the (generated, so both TRUE) base key */
        CK_BBOOL local = CK_TRUE, always = CK_FALSE, never = CK_FALSE;
        CK_ATTRIBUTE a[] = {{CKA_LOCAL, &local, 1}, {CKA_ALWAYS_SENSITIVE, &always, 1},
                            {CKA_NEVER_EXTRACTABLE, &never, 1}};
        ck_assert_int_eq(C_GetAttributeValue(s, k, a, 3), CKR_OK);
        ck_assert_int_eq(local, CK_FALSE);
        ck_assert_int_eq(always, CK_TRUE);
        ck_assert_int_eq(never, CK_TRUE);
        free_sides(&x);
    }
}
END_TEST

/* CKD_SHA256_KDF (X9.63, with and without shared data). */
START_TEST(ecdh_sha256_kdf)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    static const uint8_t info[] = "shared info";
    for (int p384 = 0; p384 < 2; p384++) {
        side x;
        make_sides(s, p384, 1, &x);
        uint8_t want[48];
        CK_OBJECT_HANDLE k = 0;
        host_kdf(x.z, x.z_len, info, sizeof(info) - 1, want, 48);
        ck_assert_int_eq(derive(s, &x, CKD_SHA256_KDF, info, sizeof(info) - 1, CKK_GENERIC_SECRET,
                                48, &k),
                         CKR_OK);
        same_key(s, k, CKK_GENERIC_SECRET, want, 48);
        host_kdf(x.z, x.z_len, NULL, 0, want, 32);
        ck_assert_int_eq(derive(s, &x, CKD_SHA256_KDF, NULL, 0, CKK_AES, 0, &k), CKR_OK);
        same_key(s, k, CKK_AES, want, 32);
        free_sides(&x);
    }
}
END_TEST

/* v2.40 5.14 return codes: CKR_MECHANISM_INVALID, CKR_MECHANISM_PARAM_INVALID
 * (no/short parameters, unknown KDF, shared data with CKD_NULL, a point off
 * the curve), CKR_KEY_FUNCTION_NOT_PERMITTED (no CKA_DERIVE),
 * CKR_KEY_TYPE_INCONSISTENT (a public or RSA key), CKR_KEY_HANDLE_INVALID,
 * CKR_TEMPLATE_INCOMPLETE (no key type), CKR_TEMPLATE_INCONSISTENT (another
 * class, CKA_VALUE given, more than Z with CKD_NULL),
 * CKR_ATTRIBUTE_VALUE_INVALID (an AES length of 20), CKR_ARGUMENTS_BAD,
 * CKR_SESSION_READ_ONLY (a token key in a R/O session). */
START_TEST(ecdh_errors)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    side x;
    make_sides(s, 0, 1, &x);
    CK_OBJECT_HANDLE k = 0;
    CK_KEY_TYPE gen = CKK_GENERIC_SECRET;
    CK_ATTRIBUTE t[] = {{CKA_KEY_TYPE, &gen, sizeof(gen)}};
    CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, x.peer_len, x.peer};
    CK_MECHANISM m = {CKM_ECDH1_DERIVE, &p, sizeof(p)};
    CK_MECHANISM other = {CKM_ECDSA, &p, sizeof(p)};
    ck_assert_int_eq(C_DeriveKey(s, &other, x.priv, t, 1, &k), CKR_MECHANISM_INVALID);
    CK_MECHANISM none = {CKM_ECDH1_DERIVE, NULL, 0};
    ck_assert_int_eq(C_DeriveKey(s, &none, x.priv, t, 1, &k), CKR_MECHANISM_PARAM_INVALID);
    CK_MECHANISM shortp = {CKM_ECDH1_DERIVE, &p, sizeof(p) - 1};
    ck_assert_int_eq(C_DeriveKey(s, &shortp, x.priv, t, 1, &k), CKR_MECHANISM_PARAM_INVALID);
    p.kdf = CKD_SHA1_KDF;
    ck_assert_int_eq(C_DeriveKey(s, &m, x.priv, t, 1, &k), CKR_MECHANISM_PARAM_INVALID);
    p.kdf = CKD_NULL;
    p.pSharedData = (CK_BYTE_PTR) "x";
    p.ulSharedDataLen = 1;
    ck_assert_int_eq(C_DeriveKey(s, &m, x.priv, t, 1, &k), CKR_MECHANISM_PARAM_INVALID);
    p.pSharedData = NULL;
    p.ulSharedDataLen = 0;
    x.peer[10] ^= 1; /* off the curve */
    ck_assert_int_eq(C_DeriveKey(s, &m, x.priv, t, 1, &k), CKR_MECHANISM_PARAM_INVALID);
    x.peer[10] ^= 1;
    ck_assert_int_eq(C_DeriveKey(s, &m, x.pub, t, 1, &k), CKR_KEY_TYPE_INCONSISTENT);
    ck_assert_int_eq(C_DeriveKey(s, &m, 0x7777, t, 1, &k), CKR_KEY_HANDLE_INVALID);
    CK_OBJECT_HANDLE rsa = lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem,
                                                LWSS_PKCS11_PRIVATE);
    ck_assert_int_eq(C_DeriveKey(s, &m, rsa, t, 1, &k), CKR_KEY_TYPE_INCONSISTENT);
    ck_assert_int_eq(C_DeriveKey(s, &m, x.priv, NULL, 0, &k), CKR_TEMPLATE_INCOMPLETE);
    ck_assert_int_eq(C_DeriveKey(s, &m, x.priv, t, 1, NULL), CKR_ARGUMENTS_BAD);
    ck_assert_int_eq(C_DeriveKey(s, NULL, x.priv, t, 1, &k), CKR_ARGUMENTS_BAD);
    CK_OBJECT_CLASS data = CKO_DATA;
    CK_ATTRIBUTE wrong_cls[] = {{CKA_KEY_TYPE, &gen, sizeof(gen)},
                                {CKA_CLASS, &data, sizeof(data)}};
    ck_assert_int_eq(C_DeriveKey(s, &m, x.priv, wrong_cls, 2, &k), CKR_TEMPLATE_INCONSISTENT);
    CK_ATTRIBUTE with_value[] = {{CKA_KEY_TYPE, &gen, sizeof(gen)}, {CKA_VALUE, "k", 1}};
    ck_assert_int_eq(C_DeriveKey(s, &m, x.priv, with_value, 2, &k), CKR_TEMPLATE_INCONSISTENT);
    CK_ULONG big = 33;
    CK_ATTRIBUTE too_long[] = {{CKA_KEY_TYPE, &gen, sizeof(gen)},
                               {CKA_VALUE_LEN, &big, sizeof(big)}};
    ck_assert_int_eq(C_DeriveKey(s, &m, x.priv, too_long, 2, &k), CKR_TEMPLATE_INCONSISTENT);
    CK_KEY_TYPE aes = CKK_AES;
    CK_ULONG twenty = 20;
    CK_ATTRIBUTE aes20[] = {{CKA_KEY_TYPE, &aes, sizeof(aes)},
                            {CKA_VALUE_LEN, &twenty, sizeof(twenty)}};
    ck_assert_int_eq(C_DeriveKey(s, &m, x.priv, aes20, 2, &k), CKR_ATTRIBUTE_VALUE_INVALID);
    /* a token key (the default) needs a R/W session; a session key does not */
    CK_SESSION_HANDLE ro = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
    ck_assert_int_eq(C_DeriveKey(ro, &m, x.priv, t, 1, &k), CKR_SESSION_READ_ONLY);
    CK_ATTRIBUTE ses[] = {{CKA_KEY_TYPE, &gen, sizeof(gen)}, {CKA_TOKEN, &no, 1}};
    ck_assert_int_eq(C_DeriveKey(ro, &m, x.priv, ses, 2, &k), CKR_OK);
    free_sides(&x);

    side y;
    make_sides(s, 0, 0, &y); /* CKA_DERIVE FALSE */
    p.ulPublicDataLen = y.peer_len;
    p.pPublicData = y.peer;
    ck_assert_int_eq(C_DeriveKey(s, &m, y.priv, t, 1, &k), CKR_KEY_FUNCTION_NOT_PERMITTED);
    free_sides(&y);
}
END_TEST

/* v2.40 5.14: a key derived from an imported base key (never
 * CKA_ALWAYS_SENSITIVE, v2.40 4.9) is not CKA_ALWAYS_SENSITIVE either; an
 * extractable derived key is not CKA_NEVER_EXTRACTABLE. */
START_TEST(ecdh_derived_policy_follows_base)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE ec = CKK_EC;
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_ec_key_pem, &pk);
    uint8_t d[32];
    ck_assert_int_eq(mbedtls_mpi_write_binary(&mbedtls_pk_ec(pk)->d, d, sizeof(d)), 0);
    mbedtls_pk_free(&pk);
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &ec, sizeof(ec)},
                        {CKA_EC_PARAMS, (void *)P256, sizeof(P256)}, {CKA_VALUE, d, sizeof(d)},
                        {CKA_DERIVE, &yes, 1}, {CKA_LABEL, "imp", 3}};
    CK_OBJECT_HANDLE base = 0;
    ck_assert_int_eq(C_CreateObject(s, t, 6, &base), CKR_OK);
    side x;
    make_sides(s, 0, 1, &x);
    CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, x.peer_len, x.peer};
    CK_MECHANISM m = {CKM_ECDH1_DERIVE, &p, sizeof(p)};
    CK_KEY_TYPE gen = CKK_GENERIC_SECRET;
    CK_ATTRIBUTE nt[] = {{CKA_KEY_TYPE, &gen, sizeof(gen)}, {CKA_TOKEN, &no, 1},
                         {CKA_EXTRACTABLE, &yes, 1}};
    CK_OBJECT_HANDLE k1 = 0, k2 = 0;
    ck_assert_int_eq(C_DeriveKey(s, &m, base, nt, 2, &k1), CKR_OK);
    ck_assert_int_eq(C_DeriveKey(s, &m, x.priv, nt, 3, &k2), CKR_OK);
    CK_BBOOL always = CK_TRUE, never = CK_TRUE;
    CK_ATTRIBUTE q1 = {CKA_ALWAYS_SENSITIVE, &always, 1};
    ck_assert_int_eq(C_GetAttributeValue(s, k1, &q1, 1), CKR_OK);
    ck_assert_int_eq(always, CK_FALSE);
    CK_ATTRIBUTE q2 = {CKA_NEVER_EXTRACTABLE, &never, 1};
    ck_assert_int_eq(C_GetAttributeValue(s, k2, &q2, 1), CKR_OK);
    ck_assert_int_eq(never, CK_FALSE);
    mbedtls_platform_zeroize(d, sizeof(d));
    free_sides(&x);
}
END_TEST

/* The peer point may come wrapped in a DER OCTET STRING (as CKA_EC_POINT is). */
START_TEST(ecdh_der_point)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    side x;
    make_sides(s, 0, 1, &x);
    uint8_t wrapped[110] = {0x04, (uint8_t)x.peer_len};
    memcpy(wrapped + 2, x.peer, x.peer_len);
    CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, x.peer_len + 2, wrapped};
    CK_MECHANISM m = {CKM_ECDH1_DERIVE, &p, sizeof(p)};
    CK_KEY_TYPE gen = CKK_GENERIC_SECRET;
    CK_ATTRIBUTE t[] = {{CKA_KEY_TYPE, &gen, sizeof(gen)}, {CKA_TOKEN, &yes, 1},
                        {CKA_LABEL, "shared", 6}};
    CK_OBJECT_HANDLE k = 0;
    ck_assert_int_eq(C_DeriveKey(s, &m, x.priv, t, 3, &k), CKR_OK);
    same_key(s, k, CKK_GENERIC_SECRET, x.z, x.z_len);
    ck_assert_uint_eq(lwss_p11t_find(s, "shared", CKO_SECRET_KEY, NULL, 0), 1);
    free_sides(&x);
}
END_TEST

Suite *pkcs11_derive_suite(void);

Suite *pkcs11_derive_suite(void)
{
    Suite *su = suite_create("pkcs11_derive");
    TCase *tc = tcase_create("derive");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, ecdh_null_kdf);
    tcase_add_test(tc, ecdh_sha256_kdf);
    tcase_add_test(tc, ecdh_errors);
    tcase_add_test(tc, ecdh_der_point);
    tcase_add_test(tc, ecdh_derived_policy_follows_base);
    suite_add_tcase(su, tc);
    return su;
}
