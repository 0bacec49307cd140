/*
 * RSA encryption (v2.40 mechanisms 2.1.6, 2.1.8): CKM_RSA_PKCS (PKCS #1
 * v1.5) and CKM_RSA_PKCS_OAEP (CK_RSA_PKCS_OAEP_PARAMS: SHA-1 or SHA-256
 * with the MGF1 of the same hash, as mbedtls ties them, and an optional
 * CKZ_DATA_SPECIFIED label).  Single-part only; over mbedtls_rsa.
 */
#include "src/pkcs11/cipher.h"

#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <stdlib.h>
#include <string.h>

/* Largest modulus the token makes or takes: 4096 bits. */
#define RSA_MAX_BYTES 512

int lwss_p11_rsa_mech(CK_MECHANISM_TYPE m)
{
    return m == CKM_RSA_PKCS || m == CKM_RSA_PKCS_OAEP;
}

/* The OAEP parameter: hash and MGF must match (mbedtls uses one md). */
static CK_RV oaep_params(const CK_MECHANISM *m, mbedtls_md_type_t *md)
{
    const CK_RSA_PKCS_OAEP_PARAMS *p = m->pParameter;
    if (p == NULL || m->ulParameterLen != sizeof(*p)) {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    if (p->hash_alg == CKM_SHA_1 && p->mgf == CKG_MGF1_SHA1) {
        *md = MBEDTLS_MD_SHA1;
    } else if (p->hash_alg == CKM_SHA256 && p->mgf == CKG_MGF1_SHA256) {
        *md = MBEDTLS_MD_SHA256;
    } else {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    if (p->source_data_len > 0 && (p->source != CKZ_DATA_SPECIFIED || p->source_data == NULL)) {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    if (p->source != 0 && p->source != CKZ_DATA_SPECIFIED) {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    return CKR_OK;
}

CK_RV lwss_p11_rsa_init(lwss_p11_crypt *c, const CK_MECHANISM *m, CK_OBJECT_CLASS cls,
                        const uint8_t *der, size_t len)
{
    mbedtls_pk_init(&c->pk);
    mbedtls_md_type_t md = MBEDTLS_MD_NONE;
    if (m->mechanism == CKM_RSA_PKCS_OAEP) {
        CK_RV rv = oaep_params(m, &md);
        if (rv != CKR_OK) {
            return rv;
        }
        const CK_RSA_PKCS_OAEP_PARAMS *p = m->pParameter;
        if (p->source_data_len > 0) {
            c->aad = malloc(p->source_data_len); /* the OAEP label */
            if (c->aad == NULL) {
                return CKR_HOST_MEMORY;
            }
            memcpy(c->aad, p->source_data, p->source_data_len);
            c->aad_len = p->source_data_len;
        }
    }
    int ret = cls == CKO_PRIVATE_KEY ? mbedtls_pk_parse_key(&c->pk, der, len, NULL, 0)
                                     : mbedtls_pk_parse_public_key(&c->pk, der, len);
    if (ret != 0 || mbedtls_pk_get_type(&c->pk) != MBEDTLS_PK_RSA ||
        mbedtls_pk_get_len(&c->pk) > RSA_MAX_BYTES) {
        return CKR_DEVICE_ERROR;
    }
    mbedtls_rsa_set_padding(mbedtls_pk_rsa(c->pk),
                            md == MBEDTLS_MD_NONE ? MBEDTLS_RSA_PKCS_V15 : MBEDTLS_RSA_PKCS_V21,
                            (int)md);
    return CKR_OK;
}

size_t lwss_p11_rsa_out_len(const lwss_p11_crypt *c)
{
    return mbedtls_pk_get_len(&c->pk);
}

static CK_RV rsa_encrypt(lwss_p11_crypt *c, const uint8_t *in, size_t in_len, uint8_t *out)
{
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(c->pk);
    size_t k = mbedtls_pk_get_len(&c->pk);
    size_t h = mbedtls_md_get_size(mbedtls_md_info_from_type((mbedtls_md_type_t)rsa->hash_id));
    size_t max = c->mech == CKM_RSA_PKCS ? k - 11 : k - 2 * h - 2;
    if (in_len > max) {
        return CKR_DATA_LEN_RANGE;
    }
    int ret = c->mech == CKM_RSA_PKCS
                  ? mbedtls_rsa_rsaes_pkcs1_v15_encrypt(rsa, lwss_p11_random, NULL,
                                                        MBEDTLS_RSA_PUBLIC, in_len, in, out)
                  : mbedtls_rsa_rsaes_oaep_encrypt(rsa, lwss_p11_random, NULL, MBEDTLS_RSA_PUBLIC,
                                                   c->aad, c->aad_len, in_len, in, out);
    return ret == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
}

static CK_RV rsa_decrypt(lwss_p11_crypt *c, const uint8_t *in, size_t in_len, uint8_t *out,
                         size_t *out_len)
{
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(c->pk);
    size_t k = mbedtls_pk_get_len(&c->pk);
    uint8_t plain[RSA_MAX_BYTES];
    size_t n = 0;
    if (in_len != k) {
        return CKR_ENCRYPTED_DATA_LEN_RANGE;
    }
    int ret = c->mech == CKM_RSA_PKCS
                  ? mbedtls_rsa_rsaes_pkcs1_v15_decrypt(rsa, lwss_p11_random, NULL,
                                                        MBEDTLS_RSA_PRIVATE, &n, in, plain,
                                                        sizeof(plain))
                  : mbedtls_rsa_rsaes_oaep_decrypt(rsa, lwss_p11_random, NULL,
                                                   MBEDTLS_RSA_PRIVATE, c->aad, c->aad_len, &n,
                                                   in, plain, sizeof(plain));
    CK_RV rv = CKR_OK;
    if (ret != 0) {
        rv = CKR_ENCRYPTED_DATA_INVALID; /* bad padding, or not below the modulus */
    } else if (*out_len < n) {
        rv = CKR_BUFFER_TOO_SMALL;
    } else {
        memcpy(out, plain, n);
    }
    if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL) {
        *out_len = n;
    }
    mbedtls_platform_zeroize(plain, sizeof(plain));
    return rv;
}

CK_RV lwss_p11_rsa_crypt(lwss_p11_crypt *c, const uint8_t *in, size_t in_len, uint8_t *out,
                         size_t *out_len)
{
    if (!c->encrypt) {
        return rsa_decrypt(c, in, in_len, out, out_len);
    }
    CK_RV rv = rsa_encrypt(c, in, in_len, out);
    if (rv == CKR_OK) {
        *out_len = mbedtls_pk_get_len(&c->pk);
    }
    return rv;
}
