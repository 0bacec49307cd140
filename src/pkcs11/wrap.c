/*
 * C_WrapKey / C_UnwrapKey (v2.40 5.14): CKM_AES_KEY_WRAP (RFC 3394),
 * CKM_AES_KEY_WRAP_PAD (RFC 5649), CKM_RSA_PKCS and CKM_RSA_PKCS_OAEP.
 * A secret key is wrapped as its value; a private key (AES mechanisms
 * only) as an unencrypted PKCS #8 PrivateKeyInfo (RFC 5208), which is
 * what OpenSSL and SoftHSMv2 exchange.
 *
 * Policy (v2.40 4.7-4.10): the wrapping key needs CKA_WRAP, the unwrapping
 * key CKA_UNWRAP (else CKR_KEY_FUNCTION_NOT_PERMITTED); the wrapped key must
 * be CKA_EXTRACTABLE (else CKR_KEY_UNEXTRACTABLE); a key with
 * CKA_WRAP_WITH_TRUSTED is wrapped only by a CKA_TRUSTED key (else
 * CKR_KEY_NOT_WRAPPABLE).  An unwrapped key is made from the template as
 * by C_CreateObject: not CKA_LOCAL, never ALWAYS_SENSITIVE.
 */
#include "src/pkcs11/cipher.h"

#include <mbedtls/asn1write.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <stdlib.h>
#include <string.h>

/* Largest key material wrapped or unwrapped: an RSA 4096 PKCS #8 is ~2.4 KB. */
#define MATERIAL_MAX 4096

static int aes_wrap_mech(CK_MECHANISM_TYPE m)
{
    return m == CKM_AES_KEY_WRAP || m == CKM_AES_KEY_WRAP_PAD;
}

/* Add what an mbedtls_asn1_write_* call wrote to @p len (negative: failed). */
static int asn1_add(size_t *len, int ret)
{
    if (ret >= 0) {
        *len += (size_t)ret;
    }
    return ret < 0;
}

/* PKCS #8 PrivateKeyInfo (RFC 5208 5) around the stored PKCS #1 / SEC1
 * DER of @p pk, written backwards into @p buf as mbedtls does. */
static CK_RV to_pkcs8(mbedtls_pk_context *pk, const uint8_t *der, size_t der_len, uint8_t *buf,
                      size_t size, uint8_t **out, size_t *out_len)
{
    uint8_t *p = buf + size;
    size_t len = 0;
    size_t par = 0;
    int bad = asn1_add(&len, mbedtls_asn1_write_raw_buffer(&p, buf, der, der_len));
    bad = bad || asn1_add(&len, mbedtls_asn1_write_len(&p, buf, len));
    bad = bad || asn1_add(&len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_OCTET_STRING));
    if (!bad && mbedtls_pk_get_type(pk) == MBEDTLS_PK_ECKEY) {
        const uint8_t *params = NULL;
        size_t params_len = 0;
        if (lwss_p11_curve_params(mbedtls_pk_ec(*pk)->grp.id, &params, &params_len) != CKR_OK) {
            return CKR_KEY_NOT_WRAPPABLE;
        }
        /* the curve OID: counted by write_algorithm_identifier (par_len) */
        bad = asn1_add(&par, mbedtls_asn1_write_raw_buffer(&p, buf, params, params_len));
        bad = bad || asn1_add(&len, mbedtls_asn1_write_algorithm_identifier(
                                        &p, buf, MBEDTLS_OID_EC_ALG_UNRESTRICTED,
                                        MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_ALG_UNRESTRICTED), par));
    } else if (!bad) {
        bad = asn1_add(&len, mbedtls_asn1_write_algorithm_identifier(
                                 &p, buf, MBEDTLS_OID_PKCS1_RSA,
                                 MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS1_RSA), 0));
    }
    bad = bad || asn1_add(&len, mbedtls_asn1_write_int(&p, buf, 0));
    bad = bad || asn1_add(&len, mbedtls_asn1_write_len(&p, buf, len));
    bad = bad || asn1_add(&len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED |
                                                                   MBEDTLS_ASN1_SEQUENCE));
    if (bad) {
        return CKR_KEY_SIZE_RANGE;
    }
    *out = p;
    *out_len = len;
    return CKR_OK;
}

/* What C_WrapKey wraps: the value of a secret key, PKCS #8 of a private one. */
typedef struct material {
    uint8_t *val;     /* stored value (heap) */
    size_t val_len;
    uint8_t buf[MATERIAL_MAX];
    const uint8_t *p; /* what to wrap */
    size_t len;
} material;

static void material_free(material *m)
{
    lwss_token_store_free_value(m->val, m->val_len);
    mbedtls_platform_zeroize(m->buf, sizeof(m->buf));
}

static CK_RV load_material(CK_OBJECT_HANDLE key, const lwss_nvm_meta *meta, material *m)
{
    CK_RV rv = lwss_p11_obj_load_value(key, &m->val, &m->val_len);
    if (rv != CKR_OK) {
        return rv;
    }
    m->p = m->val;
    m->len = m->val_len;
    if (meta->cls == CKO_SECRET_KEY) {
        return CKR_OK;
    }
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    rv = CKR_DEVICE_ERROR;
    if (mbedtls_pk_parse_key(&pk, m->val, m->val_len, NULL, 0) == 0) {
        uint8_t *out = NULL;
        rv = to_pkcs8(&pk, m->val, m->val_len, m->buf, sizeof(m->buf), &out, &m->len);
        m->p = out;
    }
    mbedtls_pk_free(&pk);
    return rv;
}

/* The key to be wrapped: extractable, and wrapped by a trusted key when it asks so. */
static CK_RV check_wrapped(CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE key,
                           const lwss_nvm_meta *wk_meta, lwss_nvm_meta *meta)
{
    if (lwss_p11_obj_meta(key, meta) != CKR_OK) {
        return CKR_KEY_HANDLE_INVALID;
    }
    if (meta->cls != CKO_SECRET_KEY && meta->cls != CKO_PRIVATE_KEY) {
        return CKR_KEY_NOT_WRAPPABLE;
    }
    if (meta->cls == CKO_PRIVATE_KEY && !aes_wrap_mech(mech)) {
        return CKR_KEY_NOT_WRAPPABLE; /* RSA wraps secret keys only */
    }
    if (!lwss_p11_key_allows(meta, CKA_EXTRACTABLE)) {
        return CKR_KEY_UNEXTRACTABLE;
    }
    if (lwss_p11_key_allows(meta, CKA_WRAP_WITH_TRUSTED) &&
        !lwss_p11_key_allows(wk_meta, CKA_TRUSTED)) {
        return CKR_KEY_NOT_WRAPPABLE;
    }
    return CKR_OK;
}

/* The (un)wrapping key: class and type for the mechanism, CKA_WRAP / CKA_UNWRAP. */
static CK_RV check_wrapping(const CK_MECHANISM *m, CK_OBJECT_HANDLE key, int wrap,
                            lwss_nvm_meta *meta)
{
    if (!aes_wrap_mech(m->mechanism) && !lwss_p11_rsa_mech(m->mechanism)) {
        return CKR_MECHANISM_INVALID;
    }
    if (lwss_p11_obj_meta(key, meta) != CKR_OK) {
        return wrap ? CKR_WRAPPING_KEY_HANDLE_INVALID : CKR_UNWRAPPING_KEY_HANDLE_INVALID;
    }
    CK_OBJECT_CLASS cls = aes_wrap_mech(m->mechanism) ? CKO_SECRET_KEY
                          : wrap                      ? CKO_PUBLIC_KEY
                                                      : CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = aes_wrap_mech(m->mechanism) ? CKK_AES : CKK_RSA;
    if (meta->cls != cls || lwss_p11_key_type(meta) != kt) {
        return wrap ? CKR_WRAPPING_KEY_TYPE_INCONSISTENT : CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT;
    }
    return lwss_p11_key_allows(meta, wrap ? CKA_WRAP : CKA_UNWRAP) ? CKR_OK
                                                                   : CKR_KEY_FUNCTION_NOT_PERMITTED;
}

/* Errors of the RSA operation, as C_WrapKey / C_UnwrapKey name them. */
static CK_RV wrap_rv(CK_RV rv)
{
    switch (rv) {
    case CKR_DATA_LEN_RANGE: return CKR_KEY_SIZE_RANGE;
    case CKR_ENCRYPTED_DATA_LEN_RANGE: return CKR_WRAPPED_KEY_LEN_RANGE;
    case CKR_ENCRYPTED_DATA_INVALID: return CKR_WRAPPED_KEY_INVALID;
    default: return rv;
    }
}

/* RSA-encrypt @p in with the wrapping key (or decrypt, unwrapping). */
static CK_RV rsa_step(const CK_MECHANISM *m, CK_OBJECT_HANDLE key, int wrap, const uint8_t *in,
                      size_t len, uint8_t *out, size_t *out_len)
{
    lwss_p11_crypt *c = NULL;
    CK_RV rv = lwss_p11_crypt_start(&c, m, key, wrap, wrap ? CKA_WRAP : CKA_UNWRAP);
    if (rv == CKR_OK && out == NULL) {
        *out_len = lwss_p11_rsa_out_len(c);
    } else if (rv == CKR_OK) {
        rv = lwss_p11_crypt_once(c, in, len, out, out_len);
    }
    lwss_p11_crypt_free(&c);
    return wrap_rv(rv);
}

static CK_RV do_wrap(const CK_MECHANISM *m, CK_OBJECT_HANDLE wk, CK_OBJECT_HANDLE key,
                     uint8_t *out, CK_ULONG *out_len)
{
    lwss_nvm_meta wk_meta, meta;
    CK_RV rv = check_wrapping(m, wk, 1, &wk_meta);
    if (rv == CKR_OK) {
        rv = check_wrapped(m->mechanism, key, &wk_meta, &meta);
    }
    if (rv != CKR_OK) {
        return rv;
    }
    material *mat = calloc(1, sizeof(*mat));
    if (mat == NULL) {
        return CKR_HOST_MEMORY;
    }
    rv = load_material(key, &meta, mat);
    size_t need = 0;
    int pad = m->mechanism == CKM_AES_KEY_WRAP_PAD;
    if (rv == CKR_OK && aes_wrap_mech(m->mechanism)) {
        need = lwss_p11_kw_wrapped_len(pad, mat->len);
        if (!pad && (mat->len < 16 || mat->len % 8 != 0)) {
            rv = CKR_KEY_SIZE_RANGE;
        }
    } else if (rv == CKR_OK) {
        rv = rsa_step(m, wk, 1, NULL, 0, NULL, &need); /* the modulus length */
    }
    if (rv == CKR_OK && out != NULL && *out_len < need) {
        rv = CKR_BUFFER_TOO_SMALL;
    }
    if (rv == CKR_OK && out != NULL) {
        uint8_t *kek = NULL;
        size_t kek_len = 0;
        if (aes_wrap_mech(m->mechanism)) {
            rv = lwss_p11_obj_load_value(wk, &kek, &kek_len);
            rv = rv == CKR_OK ? lwss_p11_kw_wrap(pad, kek, kek_len, mat->p, mat->len, out) : rv;
            lwss_token_store_free_value(kek, kek_len);
        } else {
            rv = rsa_step(m, wk, 1, mat->p, mat->len, out, &need);
        }
    }
    if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL) {
        *out_len = need;
    }
    material_free(mat);
    free(mat);
    return rv;
}

CK_RV C_WrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
                CK_ULONG_PTR pulWrappedKeyLen)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    if (pMechanism == NULL || pulWrappedKeyLen == NULL) {
        rv = CKR_ARGUMENTS_BAD;
    } else {
        rv = do_wrap(pMechanism, hWrappingKey, hKey, pWrappedKey, pulWrappedKeyLen);
    }
    lwss_p11_session_put(s);
    return rv;
}

/* CKA_CLASS of the unwrap template (CKR_TEMPLATE_INCOMPLETE without one). */
static CK_RV template_class(const CK_ATTRIBUTE *t, CK_ULONG n, CK_OBJECT_CLASS *cls)
{
    for (CK_ULONG i = 0; i < n; i++) {
        if (t[i].type == CKA_CLASS) {
            if (t[i].pValue == NULL || t[i].ulValueLen != sizeof(CK_ULONG)) {
                return CKR_ATTRIBUTE_VALUE_INVALID;
            }
            memcpy(cls, t[i].pValue, sizeof(*cls));
            return CKR_OK;
        }
    }
    return CKR_TEMPLATE_INCOMPLETE;
}

/* A secret key: the template plus CKA_VALUE, through C_CreateObject's checks. */
static CK_RV new_secret(const CK_ATTRIBUTE *t, CK_ULONG n, const uint8_t *val, size_t len,
                        lwss_p11_new_obj *obj)
{
    CK_ATTRIBUTE *all = calloc(n + 1, sizeof(*all));
    if (all == NULL) {
        return CKR_HOST_MEMORY;
    }
    CK_RV rv = CKR_OK;
    for (CK_ULONG i = 0; i < n; i++) {
        all[i] = t[i];
        if (t[i].type == CKA_VALUE_LEN && t[i].pValue != NULL &&
            t[i].ulValueLen == sizeof(CK_ULONG)) {
            CK_ULONG want;
            memcpy(&want, t[i].pValue, sizeof(want));
            rv = want == len ? rv : CKR_TEMPLATE_INCONSISTENT;
        }
    }
    all[n].type = CKA_VALUE;
    all[n].pValue = (void *)val;
    all[n].ulValueLen = len;
    if (rv == CKR_OK) {
        rv = lwss_p11_template_create(all, n + 1, obj);
    }
    free(all);
    return rv;
}

/* A private key from PKCS #8 (P-256, P-384, RSA 2048..4096). */
static CK_RV new_private(const CK_ATTRIBUTE *t, CK_ULONG n, const uint8_t *p8, size_t len,
                         lwss_p11_new_obj *obj)
{
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    memset(obj, 0, sizeof(*obj));
    CK_RV rv = CKR_WRAPPED_KEY_INVALID;
    if (mbedtls_pk_parse_key(&pk, p8, len, NULL, 0) != 0) {
        goto cleanup;
    }
    CK_KEY_TYPE kt = CKK_RSA;
    if (mbedtls_pk_get_type(&pk) == MBEDTLS_PK_ECKEY) {
        const uint8_t *params = NULL;
        size_t params_len = 0;
        kt = CKK_EC;
        if (lwss_p11_curve_params(mbedtls_pk_ec(pk)->grp.id, &params, &params_len) != CKR_OK) {
            goto cleanup;
        }
    } else if (mbedtls_pk_get_type(&pk) != MBEDTLS_PK_RSA || mbedtls_pk_get_bitlen(&pk) < 2048 ||
               mbedtls_pk_get_bitlen(&pk) > 4096) {
        goto cleanup;
    }
    rv = lwss_p11_template_keygen(t, n, CKO_PRIVATE_KEY, kt, 0, &obj->meta);
    if (rv == CKR_OK) {
        rv = lwss_p11_key_attrs_set(t, n, 0, &obj->meta); /* unwrapped: not LOCAL */
    }
    if (rv == CKR_OK) {
        rv = lwss_p11_der_from_pk(&pk, 1, &obj->der, &obj->der_len);
    }
cleanup:
    mbedtls_pk_free(&pk);
    return rv;
}

/* Decrypt the wrapped bytes into @p out (MATERIAL_MAX bytes). */
static CK_RV unwrap_bytes(const CK_MECHANISM *m, CK_OBJECT_HANDLE uk, const uint8_t *in,
                          size_t len, uint8_t *out, size_t *out_len)
{
    if (!aes_wrap_mech(m->mechanism)) {
        *out_len = MATERIAL_MAX;
        return rsa_step(m, uk, 0, in, len, out, out_len);
    }
    if (len > MATERIAL_MAX + 8) {
        return CKR_WRAPPED_KEY_LEN_RANGE;
    }
    uint8_t *kek = NULL;
    size_t kek_len = 0;
    CK_RV rv = lwss_p11_obj_load_value(uk, &kek, &kek_len);
    if (rv == CKR_OK) {
        rv = lwss_p11_kw_unwrap(m->mechanism == CKM_AES_KEY_WRAP_PAD, kek, kek_len, in, len, out,
                                out_len);
    }
    lwss_token_store_free_value(kek, kek_len);
    return rv;
}

static CK_RV do_unwrap(lwss_p11_session *s, const CK_MECHANISM *m, CK_OBJECT_HANDLE uk,
                       const uint8_t *in, size_t len, const CK_ATTRIBUTE *t, CK_ULONG n,
                       CK_OBJECT_HANDLE *out)
{
    lwss_nvm_meta uk_meta;
    CK_OBJECT_CLASS cls = 0;
    CK_RV rv = check_wrapping(m, uk, 0, &uk_meta);
    rv = rv == CKR_OK ? template_class(t, n, &cls) : rv;
    if (rv == CKR_OK && cls != CKO_SECRET_KEY && cls != CKO_PRIVATE_KEY) {
        rv = CKR_TEMPLATE_INCONSISTENT;
    }
    int token = lwss_p11_template_token(t, n);
    if (rv == CKR_OK && token && !(s->flags & CKF_RW_SESSION)) {
        rv = CKR_SESSION_READ_ONLY;
    }
    if (rv != CKR_OK) {
        return rv;
    }
    uint8_t *plain = malloc(MATERIAL_MAX + 8);
    if (plain == NULL) {
        return CKR_HOST_MEMORY;
    }
    size_t plain_len = 0;
    lwss_p11_new_obj obj;
    memset(&obj, 0, sizeof(obj));
    rv = unwrap_bytes(m, uk, in, len, plain, &plain_len);
    if (rv == CKR_OK) {
        rv = cls == CKO_SECRET_KEY ? new_secret(t, n, plain, plain_len, &obj)
                                   : new_private(t, n, plain, plain_len, &obj);
    }
    if (rv == CKR_OK && obj.meta.is_private && !lwss_p11_private_ok()) {
        rv = CKR_USER_NOT_LOGGED_IN;
    }
    if (rv == CKR_OK) {
        rv = lwss_p11_obj_store(s->handle, !token, &obj.meta, obj.der, obj.der_len, out);
    }
    lwss_p11_new_obj_free(&obj);
    mbedtls_platform_zeroize(plain, MATERIAL_MAX + 8);
    free(plain);
    return rv;
}

CK_RV C_UnwrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                  CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey,
                  CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
                  CK_OBJECT_HANDLE_PTR phKey)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    if (pMechanism == NULL || phKey == NULL || pWrappedKey == NULL ||
        (pTemplate == NULL && ulAttributeCount > 0)) {
        rv = CKR_ARGUMENTS_BAD;
    } else {
        rv = do_unwrap(s, pMechanism, hUnwrappingKey, pWrappedKey, ulWrappedKeyLen, pTemplate,
                       ulAttributeCount, phKey);
    }
    lwss_p11_session_put(s);
    return rv;
}
