/*
 * C_EncryptInit / C_Encrypt / C_EncryptUpdate / C_EncryptFinal and the
 * C_Decrypt* set (v2.40 5.8, 5.9) over cipher_sym.c (AES, DES3) and
 * cipher_rsa.c (RSA PKCS #1 v1.5, OAEP).  *Init checks the key's class,
 * type and CKA_ENCRYPT / CKA_DECRYPT (CKR_KEY_FUNCTION_NOT_PERMITTED).
 *
 * Operation state as for signatures (v2.40 5.2): a NULL output buffer asks
 * for the length and CKR_BUFFER_TOO_SMALL keeps the operation; every other
 * outcome of C_Encrypt / C_Decrypt / *Final and every failed *Update ends
 * it.  Single- and multi-part calls do not mix (CKR_OPERATION_ACTIVE, which
 * ends it too).  RSA is single-part: *Update / *Final answer
 * CKR_FUNCTION_NOT_SUPPORTED and end the operation.
 */
#include "src/pkcs11/cipher.h"

#include <mbedtls/platform_util.h>
#include <stdlib.h>
#include <string.h>

void lwss_p11_crypt_free(struct lwss_p11_crypt **cp)
{
    lwss_p11_crypt *c = *cp;
    if (c == NULL) {
        return;
    }
    lwss_p11_sym_free(c);
    mbedtls_pk_free(&c->pk);
    mbedtls_platform_zeroize(c, sizeof(*c));
    free(c);
    *cp = NULL;
}

/* The key of a symmetric mechanism: a secret key of the right type. */
static CK_RV start_sym(lwss_p11_crypt *c, const CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                       CK_ATTRIBUTE_TYPE usage)
{
    lwss_nvm_meta meta;
    uint8_t *val = NULL;
    size_t len = 0;
    CK_RV rv = lwss_p11_obj_load_secret(key, &val, &len, &meta);
    if (rv == CKR_OK && !lwss_p11_key_allows(&meta, usage)) {
        rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
    }
    if (rv == CKR_OK) {
        rv = lwss_p11_sym_init(c, m, lwss_p11_key_type(&meta), val, len);
    }
    lwss_token_store_free_value(val, len);
    return rv;
}

/* The key of an RSA mechanism: public to encrypt / wrap, private to
 * decrypt / unwrap. */
static CK_RV start_rsa(lwss_p11_crypt *c, const CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                       CK_ATTRIBUTE_TYPE usage)
{
    lwss_nvm_meta meta;
    CK_RV rv = lwss_p11_obj_meta(key, &meta);
    if (rv != CKR_OK) {
        return CKR_KEY_HANDLE_INVALID;
    }
    CK_OBJECT_CLASS want = c->encrypt ? CKO_PUBLIC_KEY : CKO_PRIVATE_KEY;
    if (meta.cls != want || lwss_p11_key_type(&meta) != CKK_RSA) {
        return CKR_KEY_TYPE_INCONSISTENT;
    }
    if (!lwss_p11_key_allows(&meta, usage)) {
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    }
    uint8_t *der = NULL;
    size_t len = 0;
    rv = lwss_p11_obj_load_value(key, &der, &len);
    if (rv == CKR_OK) {
        rv = lwss_p11_rsa_init(c, m, want, der, len);
    }
    lwss_token_store_free_value(der, len);
    return rv;
}

CK_RV lwss_p11_crypt_start(lwss_p11_crypt **out, const CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                           int encrypt, CK_ATTRIBUTE_TYPE usage)
{
    int sym = lwss_p11_sym_mech(m->mechanism);
    if (!sym && !lwss_p11_rsa_mech(m->mechanism)) {
        return CKR_MECHANISM_INVALID;
    }
    if (m->pParameter == NULL && m->ulParameterLen != 0) {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    lwss_p11_crypt *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return CKR_HOST_MEMORY;
    }
    c->mech = m->mechanism;
    c->encrypt = encrypt;
    c->mode = LWSS_P11_MODE_FRESH;
    CK_RV rv = sym ? start_sym(c, m, key, usage) : start_rsa(c, m, key, usage);
    if (rv != CKR_OK) {
        lwss_p11_crypt_free(&c);
    }
    *out = c;
    return rv;
}

CK_RV lwss_p11_crypt_once(lwss_p11_crypt *c, const uint8_t *in, size_t in_len, uint8_t *out,
                          size_t *out_len)
{
    if (lwss_p11_rsa_mech(c->mech)) {
        if (c->encrypt && *out_len < lwss_p11_rsa_out_len(c)) {
            *out_len = lwss_p11_rsa_out_len(c);
            return CKR_BUFFER_TOO_SMALL;
        }
        return lwss_p11_rsa_crypt(c, in, in_len, out, out_len);
    }
    size_t need = 0;
    CK_RV rv = lwss_p11_sym_out_len(c, in_len, LWSS_P11_ONCE, &need);
    if (rv == CKR_OK && *out_len < need) {
        *out_len = need;
        return CKR_BUFFER_TOO_SMALL;
    }
    size_t n1 = 0;
    size_t n2 = 0;
    if (rv == CKR_OK) {
        rv = lwss_p11_sym_update(c, in, in_len, out, &n1);
    }
    if (rv == CKR_OK) {
        rv = lwss_p11_sym_final(c, out + n1, &n2);
    }
    if (rv == CKR_OK) {
        *out_len = n1 + n2;
    } else if (n1 > 0) {
        mbedtls_platform_zeroize(out, n1); /* no partial plaintext of a failed decryption */
    }
    return rv;
}

static CK_RV op_init(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key,
                     int encrypt)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    struct lwss_p11_crypt **slot = encrypt ? &s->enc : &s->dec;
    if (m == NULL) {
        rv = CKR_ARGUMENTS_BAD;
    } else if (*slot != NULL) {
        rv = CKR_OPERATION_ACTIVE;
    } else {
        rv = lwss_p11_crypt_start(slot, m, key, encrypt, encrypt ? CKA_ENCRYPT : CKA_DECRYPT);
    }
    lwss_p11_session_put(s);
    return rv;
}

CK_RV C_EncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    return op_init(hSession, pMechanism, hKey, 1);
}

CK_RV C_DecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    return op_init(hSession, pMechanism, hKey, 0);
}

/* Which call: single-part, Update or Final. */
enum step { STEP_ONCE, STEP_UPDATE, STEP_FINAL };

/* CKR_OK when @p step may continue @p c; anything else ends it. */
static CK_RV step_ok(const lwss_p11_crypt *c, enum step step)
{
    if (step != STEP_ONCE && lwss_p11_rsa_mech(c->mech)) {
        return CKR_FUNCTION_NOT_SUPPORTED; /* RSA: single-part only */
    }
    if (step == STEP_ONCE) {
        return c->mode == LWSS_P11_MODE_MULTI ? CKR_OPERATION_ACTIVE : CKR_OK;
    }
    return c->mode == LWSS_P11_MODE_SINGLE ? CKR_OPERATION_ACTIVE : CKR_OK;
}

/* Output length of @p step, or the error that ends the operation. */
static CK_RV step_len(const lwss_p11_crypt *c, enum step step, size_t in_len, size_t *need)
{
    if (lwss_p11_rsa_mech(c->mech)) {
        *need = lwss_p11_rsa_out_len(c);
        return CKR_OK;
    }
    int which = step == STEP_ONCE ? LWSS_P11_ONCE
                : step == STEP_UPDATE ? LWSS_P11_UPDATE
                                      : LWSS_P11_FINAL;
    return lwss_p11_sym_out_len(c, in_len, which, need);
}

static CK_RV step_run(lwss_p11_crypt *c, enum step step, const uint8_t *in, size_t in_len,
                      uint8_t *out, size_t *out_len)
{
    switch (step) {
    case STEP_ONCE: return lwss_p11_crypt_once(c, in, in_len, out, out_len);
    case STEP_UPDATE: return lwss_p11_sym_update(c, in, in_len, out, out_len);
    default: return lwss_p11_sym_final(c, out, out_len);
    }
}

/* One call on the encrypt (@p encrypt) or decrypt operation of a session. */
static CK_RV step(CK_SESSION_HANDLE hSession, int encrypt, enum step st, const uint8_t *in,
                  CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    struct lwss_p11_crypt **slot = encrypt ? &s->enc : &s->dec;
    lwss_p11_crypt *c = *slot;
    size_t need = 0;
    if (c == NULL) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
        goto keep;
    }
    rv = step_ok(c, st);
    if (rv == CKR_OK && (out_len == NULL || (in == NULL && in_len > 0))) {
        rv = CKR_ARGUMENTS_BAD;
    }
    if (rv == CKR_OK) {
        rv = step_len(c, st, in_len, &need);
    }
    if (rv != CKR_OK) {
        goto end;
    }
    c->mode = st == STEP_ONCE ? LWSS_P11_MODE_SINGLE : LWSS_P11_MODE_MULTI;
    if (out == NULL) {
        *out_len = need; /* a length query: the operation goes on */
        goto keep;
    }
    size_t room = *out_len;
    if (room < need && !(st == STEP_ONCE && !encrypt && lwss_p11_rsa_mech(c->mech))) {
        *out_len = need; /* RSA decryption knows its exact length only after the fact */
        rv = CKR_BUFFER_TOO_SMALL;
        goto keep;
    }
    rv = step_run(c, st, in, in_len, out, &room);
    if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL) {
        *out_len = room;
    }
    if (rv == CKR_BUFFER_TOO_SMALL || (rv == CKR_OK && st == STEP_UPDATE)) {
        goto keep;
    }
end:
    lwss_p11_crypt_free(slot);
keep:
    lwss_p11_session_put(s);
    return rv;
}

CK_RV C_Encrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen)
{
    return step(hSession, 1, STEP_ONCE, pData, ulDataLen, pEncryptedData, pulEncryptedDataLen);
}

CK_RV C_EncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
                      CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
    return step(hSession, 1, STEP_UPDATE, pPart, ulPartLen, pEncryptedPart, pulEncryptedPartLen);
}

CK_RV C_EncryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart,
                     CK_ULONG_PTR pulLastEncryptedPartLen)
{
    return step(hSession, 1, STEP_FINAL, NULL, 0, pLastEncryptedPart, pulLastEncryptedPartLen);
}

CK_RV C_Decrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData, CK_ULONG ulEncryptedDataLen,
                CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
    return step(hSession, 0, STEP_ONCE, pEncryptedData, ulEncryptedDataLen, pData, pulDataLen);
}

CK_RV C_DecryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
                      CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
    return step(hSession, 0, STEP_UPDATE, pEncryptedPart, ulEncryptedPartLen, pPart, pulPartLen);
}

CK_RV C_DecryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart,
                     CK_ULONG_PTR pulLastPartLen)
{
    return step(hSession, 0, STEP_FINAL, NULL, 0, pLastPart, pulLastPartLen);
}
