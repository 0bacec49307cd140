/*
 * C_DeriveKey: CKM_ECDH1_DERIVE on P-256 and P-384 (v2.40 mechanisms
 * 2.3.15), with CKD_NULL or CKD_SHA256_KDF (ANSI X9.63: SHA-256 over
 * Z || counter || shared data, counter from 1).
 *
 * The base key is an EC private key with CKA_DERIVE; the peer's public
 * value is its uncompressed point, raw (04 || X || Y) or as a DER OCTET
 * STRING; an invalid one is CKR_MECHANISM_PARAM_INVALID.  The new key is a
 * secret key object built from the template like C_CreateObject would
 * (CKA_VALUE supplied by the token; CKK_GENERIC_SECRET or CKK_AES;
 * CKA_VALUE_LEN: default the shared secret's size with CKD_NULL, 32 with
 * the KDF; CKD_NULL gives the leftmost CKA_VALUE_LEN bytes of Z and cannot
 * give more than Z).  The derived key is not CKA_LOCAL; it is
 * CKA_ALWAYS_SENSITIVE / CKA_NEVER_EXTRACTABLE when the base key is and the
 * new key is sensitive / not extractable (v2.40 5.14).
 */
#include "src/pkcs11/token.h"

#include <mbedtls/ecdh.h>
#include <mbedtls/platform_util.h>
#include <string.h>

#define MAX_KEY 64
#define MAX_TMPL 40

/* The peer's point: raw uncompressed, or wrapped in a DER OCTET STRING. */
static CK_RV read_peer(const mbedtls_ecp_group *grp, const uint8_t *p, size_t len,
                       mbedtls_ecp_point *q)
{
    if (p == NULL || len < 3) {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    int ok = mbedtls_ecp_point_read_binary(grp, q, p, len) == 0;
    if (!ok && p[0] == 0x04 && p[1] == len - 2 && len - 2 < 128) {
        ok = mbedtls_ecp_point_read_binary(grp, q, p + 2, len - 2) == 0; /* DER, short form */
    }
    return ok && mbedtls_ecp_check_pubkey(grp, q) == 0 ? CKR_OK : CKR_MECHANISM_PARAM_INVALID;
}

/* ANSI X9.63 KDF with SHA-256 into @p out (@p n bytes). */
static CK_RV kdf_sha256(const uint8_t *z, size_t z_len, const uint8_t *info, size_t info_len,
                        uint8_t *out, size_t n)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    mbedtls_md_context_t ctx;
    mbedtls_md_init(&ctx);
    uint8_t block[32];
    CK_RV rv = mbedtls_md_setup(&ctx, md, 0) == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
    for (uint32_t counter = 1; rv == CKR_OK && n > 0; counter++) {
        uint8_t c[4] = {(uint8_t)(counter >> 24), (uint8_t)(counter >> 16),
                        (uint8_t)(counter >> 8), (uint8_t)counter};
        if (mbedtls_md_starts(&ctx) != 0 || mbedtls_md_update(&ctx, z, z_len) != 0 ||
            mbedtls_md_update(&ctx, c, 4) != 0 ||
            (info_len > 0 && mbedtls_md_update(&ctx, info, info_len) != 0) ||
            mbedtls_md_finish(&ctx, block) != 0) {
            rv = CKR_FUNCTION_FAILED;
            break;
        }
        size_t take = n < sizeof(block) ? n : sizeof(block);
        memcpy(out, block, take);
        out += take;
        n -= take;
    }
    mbedtls_platform_zeroize(block, sizeof(block));
    mbedtls_md_free(&ctx);
    return rv;
}

/* Z = x-coordinate of d * Q, in the field's size (@p z_len set). */
static CK_RV shared_secret(CK_OBJECT_HANDLE base, const CK_ECDH1_DERIVE_PARAMS *p, uint8_t *z,
                           size_t *z_len, lwss_nvm_meta *base_meta)
{
    lwss_nvm_meta meta;
    if (lwss_p11_obj_meta(base, &meta) != CKR_OK) {
        return CKR_KEY_HANDLE_INVALID;
    }
    if (meta.cls != CKO_PRIVATE_KEY || lwss_p11_key_type(&meta) != CKK_EC) {
        return CKR_KEY_TYPE_INCONSISTENT;
    }
    if (!lwss_p11_key_allows(&meta, CKA_DERIVE)) {
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    }
    *base_meta = meta;
    uint8_t *der = NULL;
    size_t len = 0;
    CK_RV rv = lwss_p11_obj_load_value(base, &der, &len);
    if (rv != CKR_OK) {
        return rv;
    }
    mbedtls_pk_context pk;
    mbedtls_ecp_point q;
    mbedtls_mpi zm;
    mbedtls_pk_init(&pk);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&zm);
    rv = CKR_DEVICE_ERROR;
    if (mbedtls_pk_parse_key(&pk, der, len, NULL, 0) != 0 ||
        mbedtls_pk_get_type(&pk) != MBEDTLS_PK_ECKEY) {
        goto cleanup;
    }
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(pk);
    rv = read_peer(&ec->grp, p->pPublicData, p->ulPublicDataLen, &q);
    if (rv != CKR_OK) {
        goto cleanup;
    }
    *z_len = (ec->grp.pbits + 7) / 8;
    rv = mbedtls_ecdh_compute_shared(&ec->grp, &zm, &q, &ec->d, lwss_p11_random, NULL) == 0 &&
                 mbedtls_mpi_write_binary(&zm, z, *z_len) == 0
             ? CKR_OK
             : CKR_FUNCTION_FAILED;
cleanup:
    mbedtls_mpi_free(&zm);
    mbedtls_ecp_point_free(&q);
    mbedtls_pk_free(&pk);
    lwss_token_store_free_value(der, len);
    return rv;
}

static CK_RV check_params(const CK_MECHANISM *m, const CK_ECDH1_DERIVE_PARAMS **out)
{
    if (m->mechanism != CKM_ECDH1_DERIVE) {
        return CKR_MECHANISM_INVALID;
    }
    if (m->pParameter == NULL || m->ulParameterLen != sizeof(CK_ECDH1_DERIVE_PARAMS)) {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    const CK_ECDH1_DERIVE_PARAMS *p = m->pParameter;
    if (p->kdf != CKD_NULL && p->kdf != CKD_SHA256_KDF) {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    if (p->kdf == CKD_NULL && (p->ulSharedDataLen != 0 || p->pSharedData != NULL)) {
        return CKR_MECHANISM_PARAM_INVALID; /* v2.40: no shared data with CKD_NULL */
    }
    if (p->ulSharedDataLen > 0 && p->pSharedData == NULL) {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    *out = p;
    return CKR_OK;
}

/* Class, key type and CKA_VALUE_LEN of the template (@p want: 0 when absent). */
static CK_RV scan_new_key(const CK_ATTRIBUTE *t, CK_ULONG n, CK_KEY_TYPE *kt, CK_ULONG *want)
{
    int have_kt = 0;
    *want = 0;
    if (n > MAX_TMPL - 2) {
        return CKR_TEMPLATE_INCONSISTENT;
    }
    for (CK_ULONG i = 0; i < n; i++) {
        const CK_ATTRIBUTE *a = &t[i];
        int is_ulong = a->type == CKA_CLASS || a->type == CKA_KEY_TYPE || a->type == CKA_VALUE_LEN;
        if (is_ulong && (a->pValue == NULL || a->ulValueLen != sizeof(CK_ULONG))) {
            return CKR_ATTRIBUTE_VALUE_INVALID;
        }
        CK_ULONG u = 0;
        if (is_ulong) {
            memcpy(&u, a->pValue, sizeof(u));
        }
        if (a->type == CKA_CLASS && u != CKO_SECRET_KEY) {
            return CKR_TEMPLATE_INCONSISTENT;
        }
        if (a->type == CKA_KEY_TYPE) {
            *kt = u;
            have_kt = 1;
        }
        if (a->type == CKA_VALUE_LEN) {
            *want = u;
        }
        if (a->type == CKA_VALUE) {
            return CKR_TEMPLATE_INCONSISTENT; /* the token supplies it */
        }
    }
    if (!have_kt) {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    if (*kt != CKK_GENERIC_SECRET && *kt != CKK_AES) {
        return CKR_TEMPLATE_INCONSISTENT;
    }
    return CKR_OK;
}

/* The key bytes (@p key, @p *key_len) for the template. */
static CK_RV key_bytes(const CK_ECDH1_DERIVE_PARAMS *p, const uint8_t *z, size_t z_len,
                       CK_KEY_TYPE kt, CK_ULONG want, uint8_t *key, size_t *key_len)
{
    size_t n = want != 0 ? want : p->kdf == CKD_NULL ? z_len : 32;
    if (kt == CKK_AES && n != 16 && n != 24 && n != 32) {
        return want != 0 ? CKR_ATTRIBUTE_VALUE_INVALID : CKR_TEMPLATE_INCOMPLETE;
    }
    if (n > MAX_KEY || (p->kdf == CKD_NULL && n > z_len)) {
        return CKR_TEMPLATE_INCONSISTENT;
    }
    *key_len = n;
    if (p->kdf == CKD_NULL) {
        memcpy(key, z, n);
        return CKR_OK;
    }
    return kdf_sha256(z, z_len, p->pSharedData, p->ulSharedDataLen, key, n);
}

/* Store the secret key: the caller's template + CKA_CLASS + CKA_VALUE. */
static CK_RV store_key(lwss_p11_session *s, const CK_ATTRIBUTE *t, CK_ULONG n, uint8_t *key,
                       size_t key_len, const lwss_nvm_meta *base, CK_OBJECT_HANDLE *out)
{
    CK_ATTRIBUTE full[MAX_TMPL];
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ULONG m = 0;
    int have_cls = 0;
    for (CK_ULONG i = 0; i < n; i++) {
        if (t[i].type != CKA_VALUE_LEN) {
            have_cls |= t[i].type == CKA_CLASS;
            full[m++] = t[i];
        }
    }
    if (!have_cls) {
        full[m++] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
    }
    full[m++] = (CK_ATTRIBUTE){CKA_VALUE, key, key_len};
    int token = lwss_p11_template_token(full, m);
    if (token && !(s->flags & CKF_RW_SESSION)) {
        return CKR_SESSION_READ_ONLY;
    }
    lwss_p11_new_obj obj;
    CK_RV rv = lwss_p11_template_create(full, m, &obj);
    if (rv != CKR_OK) {
        return rv;
    }
    lwss_p11_key_derived(&obj.meta, base);
    if (obj.meta.is_private && !lwss_p11_private_ok()) {
        rv = CKR_USER_NOT_LOGGED_IN;
    } else {
        rv = lwss_p11_obj_store(s->handle, !token, &obj.meta, obj.der, obj.der_len, out);
    }
    lwss_p11_new_obj_free(&obj);
    return rv;
}

CK_RV C_DeriveKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                  CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulAttributeCount,
                  CK_OBJECT_HANDLE_PTR phKey)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    uint8_t z[MAX_KEY], key[MAX_KEY];
    size_t z_len = 0, key_len = 0;
    const CK_ECDH1_DERIVE_PARAMS *p = NULL;
    lwss_nvm_meta base;
    CK_KEY_TYPE kt = 0;
    CK_ULONG want = 0;
    if (pMechanism == NULL || phKey == NULL || (pTemplate == NULL && ulAttributeCount > 0)) {
        rv = CKR_ARGUMENTS_BAD;
        goto cleanup;
    }
    rv = check_params(pMechanism, &p);
    if (rv == CKR_OK) {
        rv = scan_new_key(pTemplate, ulAttributeCount, &kt, &want);
    }
    if (rv == CKR_OK) {
        rv = shared_secret(hBaseKey, p, z, &z_len, &base);
    }
    if (rv == CKR_OK) {
        rv = key_bytes(p, z, z_len, kt, want, key, &key_len);
    }
    if (rv == CKR_OK) {
        rv = store_key(s, pTemplate, ulAttributeCount, key, key_len, &base, phKey);
    }
cleanup:
    mbedtls_platform_zeroize(z, sizeof(z));
    mbedtls_platform_zeroize(key, sizeof(key));
    lwss_p11_session_put(s);
    return rv;
}
