/*
 * mbedtls pk contexts whose private-key operation is C_Sign in the token:
 * the key never leaves it.  RSA signs a DigestInfo (for
 * the hash the handshake asks for + CKM_RSA_PKCS).  mbedtls 2.28 has no
 * public hook for EC (RSA-alt would not free our state), so both use their
 * own pk_info (pk_internal.h, shipped by Debian's libmbedtls-dev).
 * CKM_ECDSA gives raw r||s, converted to DER.
 */
#include "src/tls/tls_internal.h"

#include <mbedtls/asn1write.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk_internal.h>
#include <mbedtls/platform_util.h>

#include <stdlib.h>
#include <string.h>

/* What a token-backed key needs to sign. */
typedef struct token_key {
    CK_FUNCTION_LIST_PTR fl;
    CK_SESSION_HANDLE session;
    CK_OBJECT_HANDLE key;
    size_t bits;                   /* from the certificate's public key */
    mbedtls_pk_context pub;        /* public half (from the certificate) for verify */
} token_key;

static int token_sign(token_key *k, CK_MECHANISM_TYPE mech, const unsigned char *in, size_t in_len,
                      unsigned char *sig, size_t *sig_len, size_t sig_size)
{
    CK_MECHANISM m = {mech, NULL, 0};
    CK_ULONG out_len = (CK_ULONG)sig_size;
    if (k->fl->C_SignInit(k->session, &m, k->key) != CKR_OK) {
        return MBEDTLS_ERR_PK_HW_ACCEL_FAILED;
    }
    if (k->fl->C_Sign(k->session, (CK_BYTE_PTR)in, (CK_ULONG)in_len, sig, &out_len) != CKR_OK) {
        return MBEDTLS_ERR_PK_HW_ACCEL_FAILED;
    }
    *sig_len = out_len;
    return 0;
}

int lwss_tls_digest_info(mbedtls_md_type_t md, const unsigned char *hash, size_t hash_len,
                         unsigned char *out, size_t out_size, size_t *out_len)
{
    const char *oid;
    size_t oid_len;
    if (mbedtls_oid_get_oid_by_md(md, &oid, &oid_len) != 0) {
        return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
    }
    /* Written backwards: DigestInfo ::= SEQUENCE { SEQUENCE { oid, NULL }, OCTET STRING } */
    unsigned char *p = out + out_size;
    size_t len = 0, alg_len = 0;
    int ret;
#define W(call) do { if ((ret = (call)) < 0) return ret; len += (size_t)ret; } while (0)
    W(mbedtls_asn1_write_octet_string(&p, out, hash, hash_len));
    size_t before_alg = len;
    W(mbedtls_asn1_write_null(&p, out));
    W(mbedtls_asn1_write_oid(&p, out, oid, oid_len));
    alg_len = len - before_alg;
    W(mbedtls_asn1_write_len(&p, out, alg_len));
    W(mbedtls_asn1_write_tag(&p, out, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    W(mbedtls_asn1_write_len(&p, out, len));
    W(mbedtls_asn1_write_tag(&p, out, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
#undef W
    memmove(out, p, len);
    *out_len = len;
    return 0;
}

int lwss_tls_ecdsa_raw_to_der(const unsigned char *raw, size_t n, unsigned char *der,
                              size_t der_size, size_t *der_len)
{
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int ret = mbedtls_mpi_read_binary(&r, raw, n);
    if (ret == 0) {
        ret = mbedtls_mpi_read_binary(&s, raw + n, n);
    }
    unsigned char *p = der + der_size;
    size_t len = 0;
    if (ret == 0 && (ret = mbedtls_asn1_write_mpi(&p, der, &s)) >= 0) {
        len += (size_t)ret;
        ret = mbedtls_asn1_write_mpi(&p, der, &r);
    }
    if (ret >= 0) {
        len += (size_t)ret;
        ret = mbedtls_asn1_write_len(&p, der, len);
    }
    if (ret >= 0) {
        len += (size_t)ret;
        ret = mbedtls_asn1_write_tag(&p, der, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    }
    if (ret >= 0) {
        len += (size_t)ret;
        memmove(der, p, len);
        *der_len = len;
        ret = 0;
    }
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return ret;
}

/* ---- RSA: PKCS #1 v1.5 over the DigestInfo of the hash asked for ---- */

static int rsa_sign(void *ctx, mbedtls_md_type_t md_alg, const unsigned char *hash,
                    size_t hash_len, unsigned char *sig, size_t *sig_len,
                    int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
    (void)f_rng;
    (void)p_rng;
    token_key *k = ctx;
    unsigned char info[32 + MBEDTLS_MD_MAX_SIZE];
    const unsigned char *in = hash;
    size_t in_len = hash_len;
    if (md_alg != MBEDTLS_MD_NONE) {
        int ret = lwss_tls_digest_info(md_alg, hash, hash_len, info, sizeof(info), &in_len);
        if (ret != 0) {
            return ret;
        }
        in = info;
    }
    size_t key_len = (k->bits + 7) / 8;
    if (key_len > MBEDTLS_PK_SIGNATURE_MAX_SIZE) {
        return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
    }
    int ret = token_sign(k, CKM_RSA_PKCS, in, in_len, sig, sig_len, key_len);
    if (ret == 0 && *sig_len != key_len) {
        ret = MBEDTLS_ERR_PK_HW_ACCEL_FAILED;
    }
    return ret;
}

static int rsa_can_do(mbedtls_pk_type_t type)
{
    return type == MBEDTLS_PK_RSA;
}

/* ---- EC through our own pk_info ---- */

static size_t key_bitlen(const void *ctx)
{
    return ((const token_key *)ctx)->bits;
}

static int ec_can_do(mbedtls_pk_type_t type)
{
    return type == MBEDTLS_PK_ECKEY || type == MBEDTLS_PK_ECDSA;
}

static int key_verify(void *ctx, mbedtls_md_type_t md_alg, const unsigned char *hash,
                     size_t hash_len, const unsigned char *sig, size_t sig_len)
{
    token_key *k = ctx;
    return mbedtls_pk_verify(&k->pub, md_alg, hash, hash_len, sig, sig_len);
}

static int ec_sign(void *ctx, mbedtls_md_type_t md_alg, const unsigned char *hash,
                   size_t hash_len, unsigned char *sig, size_t *sig_len,
                   int (*f_rng)(void *, unsigned char *, size_t), void *p_rng)
{
    (void)md_alg;
    (void)f_rng;
    (void)p_rng;
    token_key *k = ctx;
    size_t n = (k->bits + 7) / 8;
    unsigned char raw[2 * 66];
    size_t raw_len = 0;
    if (2 * n > sizeof(raw)) {
        return MBEDTLS_ERR_PK_BAD_INPUT_DATA;
    }
    /* ECDSA uses the leftmost n bytes of a longer hash (SEC1 4.1.3), so a
     * SHA-384 digest is cut to what a P-256 token takes. */
    size_t use = hash_len > n ? n : hash_len;
    int ret = token_sign(k, CKM_ECDSA, hash, use, raw, &raw_len, sizeof(raw));
    if (ret == 0 && raw_len != 2 * n) {
        ret = MBEDTLS_ERR_PK_HW_ACCEL_FAILED;
    }
    if (ret == 0) {
        ret = lwss_tls_ecdsa_raw_to_der(raw, n, sig, MBEDTLS_PK_SIGNATURE_MAX_SIZE, sig_len);
    }
    return ret;
}

static void *key_alloc(void)
{
    return calloc(1, sizeof(token_key));
}

static void key_free(void *ctx)
{
    token_key *k = ctx;
    if (k != NULL) {
        mbedtls_pk_free(&k->pub);
        mbedtls_platform_zeroize(k, sizeof(*k));
        free(k);
    }
}

static const mbedtls_pk_info_t token_ec_info = {
    .type = MBEDTLS_PK_ECKEY,
    .name = "lwss-token-EC",
    .get_bitlen = key_bitlen,
    .can_do = ec_can_do,
    .verify_func = key_verify,
    .sign_func = ec_sign,
    .ctx_alloc_func = key_alloc,
    .ctx_free_func = key_free,
};

/* Type RSA_ALT like mbedtls' own RSA-alt keys, so nothing treats the
 * context as an mbedtls_rsa_context; unlike RSA-alt, it frees our state. */
static const mbedtls_pk_info_t token_rsa_info = {
    .type = MBEDTLS_PK_RSA_ALT,
    .name = "lwss-token-RSA",
    .get_bitlen = key_bitlen,
    .can_do = rsa_can_do,
    .verify_func = key_verify,
    .sign_func = rsa_sign,
    .ctx_alloc_func = key_alloc,
    .ctx_free_func = key_free,
};

static int copy_public(mbedtls_pk_context *dst, const mbedtls_pk_context *src)
{
    unsigned char der[600];
    int len = mbedtls_pk_write_pubkey_der((mbedtls_pk_context *)src, der, sizeof(der));
    if (len < 0) {
        return len;
    }
    return mbedtls_pk_parse_public_key(dst, der + sizeof(der) - len, (size_t)len);
}

int lwss_tls_pk_setup(mbedtls_pk_context *pk, CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE session,
                      CK_OBJECT_HANDLE key, const mbedtls_pk_context *cert_pk)
{
    mbedtls_pk_type_t type = mbedtls_pk_get_type(cert_pk);
    const mbedtls_pk_info_t *info = type == MBEDTLS_PK_ECKEY ? &token_ec_info
                                    : type == MBEDTLS_PK_RSA ? &token_rsa_info
                                                             : NULL;
    if (info == NULL) {
        return MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE;
    }
    int ret = mbedtls_pk_setup(pk, info);
    if (ret != 0) {
        return ret;
    }
    token_key *k = pk->pk_ctx;
    k->fl = fl;
    k->session = session;
    k->key = key;
    k->bits = mbedtls_pk_get_bitlen(cert_pk);
    mbedtls_pk_init(&k->pub);
    return copy_public(&k->pub, cert_pk);
}
