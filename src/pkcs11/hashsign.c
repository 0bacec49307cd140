/*
 * The sign / verify mechanism table and the RSA hash-and-sign helpers:
 * CKM_ECDSA_SHA*, CKM_SHA*_RSA_PKCS, CKM_RSA_PKCS_PSS, CKM_SHA*_RSA_PKCS_PSS,
 * CKM_SHA*_HMAC (v2.40 mechanisms 2.1.6-2.1.14, 2.3.10, 2.20, 2.22).
 *
 * PSS parameters (CK_RSA_PKCS_PSS_PARAMS) are checked at *Init: hashAlg is
 * one of SHA-1/224/256/384/512 and, for CKM_SHA*_RSA_PKCS_PSS, the
 * mechanism's own hash; the MGF is MGF1 over that same hash (what mbedtls
 * implements: one hash for both); sLen + hLen + 2 fits the modulus.
 * Anything else is CKR_MECHANISM_PARAM_INVALID.
 */
#include "src/pkcs11/token.h"

#include <mbedtls/rsa.h>

static const struct {
    CK_MECHANISM_TYPE mech;
    int kind;
    mbedtls_md_type_t md;
} g_sig[] = {
    {CKM_ECDSA, LWSS_P11_K_ECDSA, MBEDTLS_MD_NONE},
    {CKM_ECDSA_SHA1, LWSS_P11_K_ECDSA, MBEDTLS_MD_SHA1},
    {CKM_ECDSA_SHA224, LWSS_P11_K_ECDSA, MBEDTLS_MD_SHA224},
    {CKM_ECDSA_SHA256, LWSS_P11_K_ECDSA, MBEDTLS_MD_SHA256},
    {CKM_ECDSA_SHA384, LWSS_P11_K_ECDSA, MBEDTLS_MD_SHA384},
    {CKM_ECDSA_SHA512, LWSS_P11_K_ECDSA, MBEDTLS_MD_SHA512},
    {CKM_RSA_PKCS, LWSS_P11_K_RSA_PKCS, MBEDTLS_MD_NONE},
    {CKM_SHA1_RSA_PKCS, LWSS_P11_K_RSA_PKCS, MBEDTLS_MD_SHA1},
    {CKM_SHA224_RSA_PKCS, LWSS_P11_K_RSA_PKCS, MBEDTLS_MD_SHA224},
    {CKM_SHA256_RSA_PKCS, LWSS_P11_K_RSA_PKCS, MBEDTLS_MD_SHA256},
    {CKM_SHA384_RSA_PKCS, LWSS_P11_K_RSA_PKCS, MBEDTLS_MD_SHA384},
    {CKM_SHA512_RSA_PKCS, LWSS_P11_K_RSA_PKCS, MBEDTLS_MD_SHA512},
    {CKM_RSA_PKCS_PSS, LWSS_P11_K_RSA_PSS, MBEDTLS_MD_NONE},
    {CKM_SHA1_RSA_PKCS_PSS, LWSS_P11_K_RSA_PSS, MBEDTLS_MD_SHA1},
    {CKM_SHA224_RSA_PKCS_PSS, LWSS_P11_K_RSA_PSS, MBEDTLS_MD_SHA224},
    {CKM_SHA256_RSA_PKCS_PSS, LWSS_P11_K_RSA_PSS, MBEDTLS_MD_SHA256},
    {CKM_SHA384_RSA_PKCS_PSS, LWSS_P11_K_RSA_PSS, MBEDTLS_MD_SHA384},
    {CKM_SHA512_RSA_PKCS_PSS, LWSS_P11_K_RSA_PSS, MBEDTLS_MD_SHA512},
    {CKM_RSA_X_509, LWSS_P11_K_RSA_X509, MBEDTLS_MD_NONE},
    {CKM_SHA_1_HMAC, LWSS_P11_K_HMAC, MBEDTLS_MD_SHA1},
    {CKM_SHA224_HMAC, LWSS_P11_K_HMAC, MBEDTLS_MD_SHA224},
    {CKM_SHA256_HMAC, LWSS_P11_K_HMAC, MBEDTLS_MD_SHA256},
    {CKM_SHA384_HMAC, LWSS_P11_K_HMAC, MBEDTLS_MD_SHA384},
    {CKM_SHA512_HMAC, LWSS_P11_K_HMAC, MBEDTLS_MD_SHA512},
    {CKM_AES_CMAC, LWSS_P11_K_CMAC, MBEDTLS_MD_NONE},
};

int lwss_p11_sig_mech(CK_MECHANISM_TYPE mech, int *kind, mbedtls_md_type_t *md)
{
    for (size_t i = 0; i < sizeof(g_sig) / sizeof(g_sig[0]); i++) {
        if (g_sig[i].mech == mech) {
            *kind = g_sig[i].kind;
            *md = g_sig[i].md;
            return 1;
        }
    }
    return 0;
}

mbedtls_md_type_t lwss_p11_digest_md(CK_MECHANISM_TYPE mech)
{
    switch (mech) {
    case CKM_SHA_1: return MBEDTLS_MD_SHA1;
    case CKM_SHA224: return MBEDTLS_MD_SHA224;
    case CKM_SHA256: return MBEDTLS_MD_SHA256;
    case CKM_SHA384: return MBEDTLS_MD_SHA384;
    case CKM_SHA512: return MBEDTLS_MD_SHA512;
    default: return MBEDTLS_MD_NONE;
    }
}

static mbedtls_md_type_t mgf_md(CK_RSA_PKCS_MGF_TYPE mgf)
{
    switch (mgf) {
    case CKG_MGF1_SHA1: return MBEDTLS_MD_SHA1;
    case CKG_MGF1_SHA224: return MBEDTLS_MD_SHA224;
    case CKG_MGF1_SHA256: return MBEDTLS_MD_SHA256;
    case CKG_MGF1_SHA384: return MBEDTLS_MD_SHA384;
    case CKG_MGF1_SHA512: return MBEDTLS_MD_SHA512;
    default: return MBEDTLS_MD_NONE;
    }
}

CK_RV lwss_p11_pss_params(const CK_MECHANISM *m, mbedtls_md_type_t mech_md, size_t key_bytes,
                          mbedtls_md_type_t *hash, int *salt)
{
    if (m->pParameter == NULL || m->ulParameterLen != sizeof(CK_RSA_PKCS_PSS_PARAMS)) {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    const CK_RSA_PKCS_PSS_PARAMS *p = m->pParameter;
    mbedtls_md_type_t h = lwss_p11_digest_md(p->hashAlg);
    if (h == MBEDTLS_MD_NONE || (mech_md != MBEDTLS_MD_NONE && h != mech_md) ||
        mgf_md(p->mgf) != h) {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    size_t hlen = mbedtls_md_get_size(mbedtls_md_info_from_type(h));
    if (p->sLen > key_bytes || p->sLen + hlen + 2 > key_bytes) {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    *hash = h;
    *salt = (int)p->sLen;
    return CKR_OK;
}

/* The hash a PSS / PKCS #1 v1.5 operation signs: its own, or for the
 * plain mechanisms the PSS hashAlg (PKCS: none, the caller's DigestInfo). */
static mbedtls_md_type_t op_hash(const lwss_p11_op *op)
{
    return op->kind == LWSS_P11_K_RSA_PSS ? op->pss_hash : op->md_type;
}

CK_RV lwss_p11_rsa_sign_hash(lwss_p11_op *op, const uint8_t *hash, size_t len, uint8_t *sig)
{
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(op->pk);
    mbedtls_md_type_t md = op_hash(op);
    int ret;
    if (op->kind == LWSS_P11_K_RSA_PSS) {
        if (len != mbedtls_md_get_size(mbedtls_md_info_from_type(md))) {
            return CKR_DATA_LEN_RANGE;
        }
        /* the context's hash_id is PSS's hash and MGF1 hash; the cached
         * context goes back to PKCS #1 v1.5 for the next user */
        mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, md);
        ret = mbedtls_rsa_rsassa_pss_sign_ext(rsa, lwss_p11_random, NULL, md, 0, hash,
                                              op->pss_salt, sig);
        mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V15, MBEDTLS_MD_NONE);
    } else {
        if (md == MBEDTLS_MD_NONE && (len == 0 || len + 11 > mbedtls_pk_get_len(&op->pk))) {
            return CKR_DATA_LEN_RANGE;
        }
        ret = mbedtls_rsa_rsassa_pkcs1_v15_sign(rsa, lwss_p11_random, NULL, MBEDTLS_RSA_PRIVATE,
                                                md, (unsigned int)len, hash, sig);
    }
    return ret == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
}

CK_RV lwss_p11_rsa_verify_hash(lwss_p11_op *op, const uint8_t *hash, size_t len,
                               const uint8_t *sig)
{
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(op->pk);
    mbedtls_md_type_t md = op_hash(op);
    int ret;
    if (op->kind == LWSS_P11_K_RSA_PSS) {
        if (len != mbedtls_md_get_size(mbedtls_md_info_from_type(md))) {
            return CKR_DATA_LEN_RANGE;
        }
        ret = mbedtls_rsa_rsassa_pss_verify_ext(rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, md, 0, hash,
                                                md, op->pss_salt, sig);
    } else {
        if (md == MBEDTLS_MD_NONE && (len == 0 || len + 11 > mbedtls_pk_get_len(&op->pk))) {
            return CKR_DATA_LEN_RANGE;
        }
        ret = mbedtls_rsa_rsassa_pkcs1_v15_verify(rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, md,
                                                  (unsigned int)len, hash, sig);
    }
    return ret == 0 ? CKR_OK : CKR_SIGNATURE_INVALID;
}
