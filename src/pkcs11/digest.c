/*
 * CKM_SHA256 digests, single- and multi-part.  A length query (NULL
 * output) or CKR_BUFFER_TOO_SMALL leaves the operation active with its
 * state untouched; success or any other error ends it.
 */
#include "src/pkcs11/token.h"

#define DIGEST_LEN 32

static void digest_end(lwss_p11_session *s)
{
    mbedtls_sha256_free(&s->sha);
    s->digest_active = 0;
}

CK_RV C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    if (pMechanism == NULL) {
        rv = CKR_ARGUMENTS_BAD;
    } else if (s->digest_active) {
        rv = CKR_OPERATION_ACTIVE;
    } else if (pMechanism->mechanism != CKM_SHA256) {
        rv = CKR_MECHANISM_INVALID;
    } else if (pMechanism->pParameter != NULL || pMechanism->ulParameterLen != 0) {
        rv = CKR_MECHANISM_PARAM_INVALID;
    } else {
        mbedtls_sha256_init(&s->sha);
        if (mbedtls_sha256_starts_ret(&s->sha, 0) != 0) {
            mbedtls_sha256_free(&s->sha);
            rv = CKR_FUNCTION_FAILED;
        } else {
            s->digest_active = 1;
        }
    }
    lwss_p11_session_put(s);
    return rv;
}

/* Length rules shared by C_Digest and C_DigestFinal.  CKR_OK with *done=0
 * means "answered a length query, keep going". */
static CK_RV digest_output_ok(CK_BYTE_PTR out, CK_ULONG_PTR out_len, int *ready)
{
    *ready = 0;
    if (out_len == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    if (out == NULL) {
        *out_len = DIGEST_LEN;
        return CKR_OK;
    }
    if (*out_len < DIGEST_LEN) {
        *out_len = DIGEST_LEN;
        return CKR_BUFFER_TOO_SMALL;
    }
    *ready = 1;
    return CKR_OK;
}

static CK_RV digest_step(CK_SESSION_HANDLE hSession, CK_BYTE_PTR data, CK_ULONG len,
                         CK_BYTE_PTR out, CK_ULONG_PTR out_len, int final)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    if (!s->digest_active) {
        lwss_p11_session_put(s);
        return CKR_OPERATION_NOT_INITIALIZED;
    }
    int ready = 0;
    if (data == NULL && len > 0) {
        rv = CKR_ARGUMENTS_BAD;
    } else if (final) {
        rv = digest_output_ok(out, out_len, &ready);
        if (rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && !ready)) {
            lwss_p11_session_put(s);
            return rv;
        }
    }
    if (rv == CKR_OK && len > 0 && mbedtls_sha256_update_ret(&s->sha, data, len) != 0) {
        rv = CKR_FUNCTION_FAILED;
    }
    if (rv == CKR_OK && final) {
        rv = mbedtls_sha256_finish_ret(&s->sha, out) == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
        *out_len = DIGEST_LEN;
    }
    if (rv != CKR_OK || final) {
        digest_end(s);
    }
    lwss_p11_session_put(s);
    return rv;
}

CK_RV C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
               CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
    return digest_step(hSession, pData, ulDataLen, pDigest, pulDigestLen, 1);
}

CK_RV C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return digest_step(hSession, pPart, ulPartLen, NULL, NULL, 0);
}

CK_RV C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
    return digest_step(hSession, NULL, 0, pDigest, pulDigestLen, 1);
}
