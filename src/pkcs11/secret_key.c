/*
 * Secret keys (v2.40 mechanisms 2.8, 2.13, 2.42): CKK_AES (16/24/32 bytes),
 * CKK_DES3 (24 bytes, parity set) and CKK_GENERIC_SECRET (1..128 bytes),
 * made by C_GenerateKey with CKM_AES_KEY_GEN, CKM_DES3_KEY_GEN or
 * CKM_GENERIC_SECRET_KEY_GEN, and their CKA_CHECK_VALUE.  The HMAC key
 * types CKK_SHA_1_HMAC, CKK_SHA224_HMAC, CKK_SHA256_HMAC, CKK_SHA384_HMAC
 * and CKK_SHA512_HMAC are generic secrets for one hash (1..128 bytes, as
 * in SoftHSMv2), made only by C_CreateObject / C_UnwrapKey.  C_CreateObject
 * takes them all through template.c.  Key bytes are wiped before free.
 */
#include "src/pkcs11/token.h"

#include <mbedtls/aes.h>
#include <mbedtls/des.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha1.h>
#include <string.h>

/** Largest CKK_GENERIC_SECRET value the token keeps. */
#define GENERIC_MAX 128

int lwss_p11_secret_len_ok(CK_KEY_TYPE kt, size_t len)
{
    switch (kt) {
    case CKK_AES: return len == 16 || len == 24 || len == 32;
    case CKK_DES3: return len == 24;
    case CKK_GENERIC_SECRET:
    case CKK_SHA_1_HMAC:
    case CKK_SHA224_HMAC:
    case CKK_SHA256_HMAC:
    case CKK_SHA384_HMAC:
    case CKK_SHA512_HMAC: return len >= 1 && len <= GENERIC_MAX;
    default: return 0;
    }
}

CK_RV lwss_p11_secret_check_value(CK_KEY_TYPE kt, const uint8_t *val, size_t len, uint8_t out[3])
{
    uint8_t zero[16] = {0};
    uint8_t block[20];
    int ret = -1;
    if (kt == CKK_AES && lwss_p11_secret_len_ok(kt, len)) {
        mbedtls_aes_context aes;
        mbedtls_aes_init(&aes);
        ret = mbedtls_aes_setkey_enc(&aes, val, (unsigned)(len * 8));
        ret = ret == 0 ? mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_ENCRYPT, zero, block) : ret;
        mbedtls_aes_free(&aes);
    } else if (kt == CKK_DES3 && len == 24) {
        mbedtls_des3_context des;
        mbedtls_des3_init(&des);
        ret = mbedtls_des3_set3key_enc(&des, val);
        ret = ret == 0 ? mbedtls_des3_crypt_ecb(&des, zero, block) : ret;
        mbedtls_des3_free(&des);
    } else if (kt != CKK_AES && kt != CKK_DES3 && lwss_p11_secret_len_ok(kt, len)) {
        /* generic and HMAC secrets: the first bytes of SHA-1(value) */
        ret = mbedtls_sha1_ret(val, len, block);
    } else {
        return CKR_ATTRIBUTE_TYPE_INVALID;
    }
    if (ret == 0) {
        memcpy(out, block, 3);
    }
    mbedtls_platform_zeroize(block, sizeof(block));
    return ret == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
}

/* The key type a generation mechanism makes, and its fixed length (0: the
 * template's CKA_VALUE_LEN decides). */
static CK_RV mech_key(CK_MECHANISM_TYPE m, CK_KEY_TYPE *kt, size_t *fixed)
{
    *fixed = 0;
    switch (m) {
    case CKM_AES_KEY_GEN: *kt = CKK_AES; return CKR_OK;
    case CKM_DES3_KEY_GEN: *kt = CKK_DES3; *fixed = 24; return CKR_OK;
    case CKM_GENERIC_SECRET_KEY_GEN: *kt = CKK_GENERIC_SECRET; return CKR_OK;
    default: return CKR_MECHANISM_INVALID;
    }
}

/* CKA_VALUE_LEN of the template: required for AES and generic secrets
 * (CKR_TEMPLATE_INCOMPLETE), optional but then 24 for DES3. */
static CK_RV value_len(const CK_ATTRIBUTE *t, CK_ULONG n, CK_KEY_TYPE kt, size_t fixed,
                       size_t *len)
{
    *len = fixed;
    int seen = 0;
    for (CK_ULONG i = 0; i < n; i++) {
        if (t[i].type != CKA_VALUE_LEN) {
            continue;
        }
        if (t[i].pValue == NULL || t[i].ulValueLen != sizeof(CK_ULONG)) {
            return CKR_ATTRIBUTE_VALUE_INVALID;
        }
        CK_ULONG v;
        memcpy(&v, t[i].pValue, sizeof(v));
        if (fixed != 0 && v != fixed) {
            return CKR_TEMPLATE_INCONSISTENT; /* DES3 keys are 24 bytes */
        }
        *len = (size_t)v;
        seen = 1;
    }
    if (!seen && fixed == 0) {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    return lwss_p11_secret_len_ok(kt, *len) ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
}

/* Random key bytes; DES keys get odd parity as FIPS 46-3 asks. */
static CK_RV fresh_key(CK_KEY_TYPE kt, uint8_t *key, size_t len)
{
    if (lwss_p11_random(NULL, key, len) != 0) {
        return CKR_FUNCTION_FAILED;
    }
    if (kt == CKK_DES3) {
        for (size_t i = 0; i < len; i += MBEDTLS_DES_KEY_SIZE) {
            mbedtls_des_key_set_parity(key + i);
        }
    }
    return CKR_OK;
}

/* Check the template, make the key, store it: all or nothing. */
static CK_RV generate(lwss_p11_session *s, CK_MECHANISM_TYPE m, const CK_ATTRIBUTE *t,
                      CK_ULONG n, CK_OBJECT_HANDLE *out)
{
    CK_KEY_TYPE kt = 0;
    size_t fixed = 0;
    size_t len = 0;
    uint8_t key[GENERIC_MAX];
    lwss_nvm_meta meta;
    CK_RV rv = mech_key(m, &kt, &fixed);
    if (rv == CKR_OK) {
        rv = lwss_p11_template_keygen(t, n, CKO_SECRET_KEY, kt, 0, &meta);
    }
    if (rv == CKR_OK) {
        rv = value_len(t, n, kt, fixed, &len);
    }
    int token = lwss_p11_template_token(t, n);
    if (rv == CKR_OK && token && !(s->flags & CKF_RW_SESSION)) {
        rv = CKR_SESSION_READ_ONLY;
    }
    meta.is_private = 1; /* a secret is a private object, as C_CreateObject makes it */
    if (rv == CKR_OK && !lwss_p11_private_ok()) {
        rv = CKR_USER_NOT_LOGGED_IN;
    }
    if (rv == CKR_OK) {
        rv = fresh_key(kt, key, len);
    }
    if (rv == CKR_OK) {
        rv = lwss_p11_obj_store(s->handle, !token, &meta, key, len, out);
    }
    mbedtls_platform_zeroize(key, sizeof(key));
    return rv;
}

CK_RV C_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    if (pMechanism == NULL || phKey == NULL || (pTemplate == NULL && ulCount > 0)) {
        rv = CKR_ARGUMENTS_BAD;
    } else {
        rv = generate(s, pMechanism->mechanism, pTemplate, ulCount, phKey);
    }
    lwss_p11_session_put(s);
    return rv;
}
