/*
 * Digests CKM_SHA_1, CKM_SHA224, CKM_SHA256, CKM_SHA384, CKM_SHA512
 * (FIPS 180-4), single- and multi-part.  A length query (NULL
 * output) or CKR_BUFFER_TOO_SMALL leaves the operation active with its
 * state untouched; success or any other error ends it (v2.40 5.10).
 * Single- and multi-part calls do not mix: C_Digest after C_DigestUpdate,
 * or C_DigestUpdate/Final after a C_Digest length query, is
 * CKR_OPERATION_ACTIVE and ends the operation.
 */
#include "src/pkcs11/token.h"

static void digest_end(lwss_p11_session *s)
{
    mbedtls_md_free(&s->dmd);
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
    } else if (lwss_p11_digest_md(pMechanism->mechanism) == MBEDTLS_MD_NONE) {
        rv = CKR_MECHANISM_INVALID;
    } else {
        /* no digest takes a parameter: a stray one is ignored, as corePKCS11 does */
        mbedtls_md_init(&s->dmd);
        const mbedtls_md_info_t *info =
            mbedtls_md_info_from_type(lwss_p11_digest_md(pMechanism->mechanism));
        if (mbedtls_md_setup(&s->dmd, info, 0) != 0 || mbedtls_md_starts(&s->dmd) != 0) {
            mbedtls_md_free(&s->dmd);
            rv = CKR_FUNCTION_FAILED;
        } else {
            s->digest_active = 1;
            s->digest_mode = LWSS_P11_MODE_FRESH;
        }
    }
    lwss_p11_session_put(s);
    return rv;
}

/* Length rules shared by C_Digest and C_DigestFinal.  CKR_OK with *done=0
 * means "answered a length query, keep going". */
static CK_RV digest_output_ok(CK_ULONG need, CK_BYTE_PTR out, CK_ULONG_PTR out_len, int *ready)
{
    *ready = 0;
    if (out_len == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    if (out == NULL) {
        *out_len = need;
        return CKR_OK;
    }
    if (*out_len < need) {
        *out_len = need;
        return CKR_BUFFER_TOO_SMALL;
    }
    *ready = 1;
    return CKR_OK;
}

/* C_Digest (single), C_DigestUpdate (update), C_DigestFinal (final). */
enum { STEP_SINGLE, STEP_UPDATE, STEP_FINAL };

/* CKR_OK when call @p step may continue the operation in mode @p mode. */
static CK_RV digest_mode_ok(int mode, int step)
{
    if (step == STEP_SINGLE) {
        return mode == LWSS_P11_MODE_MULTI ? CKR_OPERATION_ACTIVE : CKR_OK;
    }
    return mode == LWSS_P11_MODE_SINGLE ? CKR_OPERATION_ACTIVE : CKR_OK;
}

static CK_RV digest_step(CK_SESSION_HANDLE hSession, CK_BYTE_PTR data, CK_ULONG len,
                         CK_BYTE_PTR out, CK_ULONG_PTR out_len, int step)
{
    int final = step != STEP_UPDATE;
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
    rv = digest_mode_ok(s->digest_mode, step);
    if (rv == CKR_OK && data == NULL && len > 0) {
        rv = CKR_ARGUMENTS_BAD;
    } else if (rv == CKR_OK && final) {
        rv = digest_output_ok(mbedtls_md_get_size(s->dmd.md_info), out, out_len, &ready);
        if (rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && !ready)) {
            if (step == STEP_SINGLE) {
                s->digest_mode = LWSS_P11_MODE_SINGLE;
            }
            lwss_p11_session_put(s);
            return rv;
        }
    }
    if (rv == CKR_OK && step == STEP_UPDATE) {
        s->digest_mode = LWSS_P11_MODE_MULTI;
    }
    if (rv == CKR_OK && len > 0 && mbedtls_md_update(&s->dmd, data, len) != 0) {
        rv = CKR_FUNCTION_FAILED;
    }
    if (rv == CKR_OK && final) {
        rv = mbedtls_md_finish(&s->dmd, out) == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
        *out_len = mbedtls_md_get_size(s->dmd.md_info);
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
    return digest_step(hSession, pData, ulDataLen, pDigest, pulDigestLen, STEP_SINGLE);
}

CK_RV C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return digest_step(hSession, pPart, ulPartLen, NULL, NULL, STEP_UPDATE);
}

CK_RV C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
    return digest_step(hSession, NULL, 0, pDigest, pulDigestLen, STEP_FINAL);
}
