/*
 * C_GenerateKeyPair for CKM_EC_KEY_PAIR_GEN (P-256, P-384) and
 * CKM_RSA_PKCS_KEY_PAIR_GEN (2048, 3072, 4096 bits).  All or nothing on
 * the image: when the public half cannot be stored, the private half just
 * written is removed again, or the object it replaced is put back.
 * Either half may be a session object (CKA_TOKEN=FALSE in its template).
 */
#include "src/pkcs11/token.h"

#include <assert.h>
#include <mbedtls/ecp.h>
#include <mbedtls/rsa.h>
#include <string.h>

/* A copy of the object that a save is about to replace, to put it back. */
typedef struct saved_obj {
    int present;
    lwss_nvm_meta meta;
    uint8_t *val;
    size_t len;
} saved_obj;

static void snapshot(const lwss_nvm_meta *meta, saved_obj *old)
{
    memset(old, 0, sizeof(*old));
    lwss_p11_store_lock();
    uint32_t h = lwss_token_store_find(meta->label, meta->label_len, meta->cls);
    if (h != 0 && lwss_token_store_get_meta(h, &old->meta) == CKR_OK &&
        lwss_token_store_get_value(h, &old->val, &old->len) == CKR_OK) {
        old->present = 1;
    }
    lwss_p11_store_unlock();
}

static void snapshot_free(saved_obj *old)
{
    if (old->val != NULL) {
        lwss_token_store_free_value(old->val, old->len);
    }
    memset(old, 0, sizeof(*old));
}

/* Undo the save of the private half (handle @p h). */
static void roll_back(CK_OBJECT_HANDLE h, const saved_obj *old)
{
    if (lwss_p11_sessobj_is(h)) {
        (void)lwss_p11_sessobj_destroy(h); /* a session object replaced nothing */
        return;
    }
    lwss_p11_store_lock();
    if (old->present) {
        (void)lwss_token_store_save(&old->meta, old->val, old->len, NULL);
    } else {
        (void)lwss_token_store_destroy((uint32_t)h);
    }
    lwss_p11_store_unlock();
}

/* Where each half goes: storage or a session object of @p owner. */
typedef struct pair_dest {
    CK_SESSION_HANDLE owner;
    int pub_token;
    int priv_token;
} pair_dest;

static CK_RV store_pair(mbedtls_pk_context *pk, const pair_dest *dest,
                        const lwss_nvm_meta *pub_meta, const lwss_nvm_meta *priv_meta,
                        CK_OBJECT_HANDLE *ph_pub, CK_OBJECT_HANDLE *ph_priv)
{
    uint8_t *priv_der = NULL;
    uint8_t *pub_der = NULL;
    size_t priv_len = 0;
    size_t pub_len = 0;
    saved_obj old;
    memset(&old, 0, sizeof(old));
    lwss_p11_new_obj priv_obj;
    lwss_p11_new_obj pub_obj;
    CK_RV rv = lwss_p11_der_from_pk(pk, 1, &priv_der, &priv_len);
    if (rv == CKR_OK) {
        rv = lwss_p11_der_from_pk(pk, 0, &pub_der, &pub_len);
    }
    priv_obj.der = priv_der;
    priv_obj.der_len = priv_len;
    pub_obj.der = pub_der;
    pub_obj.der_len = pub_len;
    if (rv != CKR_OK) {
        goto cleanup;
    }
    rv = lwss_token_store_begin(); /* both halves or neither, also after a kill */
    if (rv != CKR_OK) {
        goto cleanup;
    }
    if (dest->priv_token) {
        snapshot(priv_meta, &old);
    }
    CK_OBJECT_HANDLE h_priv = CK_INVALID_HANDLE;
    rv = lwss_p11_obj_store(dest->owner, !dest->priv_token, priv_meta, priv_der, priv_len,
                            &h_priv);
    if (rv != CKR_OK) {
        goto cleanup;
    }
    rv = lwss_p11_obj_store(dest->owner, !dest->pub_token, pub_meta, pub_der, pub_len, ph_pub);
    if (rv != CKR_OK) {
        roll_back(h_priv, &old);
        goto cleanup;
    }
    *ph_priv = h_priv;
    rv = lwss_token_store_commit();
    if (rv != CKR_OK) {
        /* the storage halves are gone with the group; so must the session ones be */
        if (!dest->priv_token) {
            (void)lwss_p11_sessobj_destroy(h_priv);
        }
        if (!dest->pub_token) {
            (void)lwss_p11_sessobj_destroy(*ph_pub);
        }
    }
cleanup:
    if (rv != CKR_OK) {
        lwss_token_store_abort(); /* no-op when none is open */
    }
    snapshot_free(&old);
    lwss_p11_new_obj_free(&pub_obj);
    lwss_p11_new_obj_free(&priv_obj);
    return rv;
}

static CK_RV check_keygen_args(CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR pub, CK_ULONG pub_n,
                               CK_ATTRIBUTE_PTR priv, CK_ULONG priv_n, CK_OBJECT_HANDLE_PTR ph_pub,
                               CK_OBJECT_HANDLE_PTR ph_priv)
{
    if (mech == NULL || ph_pub == NULL || ph_priv == NULL || (pub == NULL && pub_n > 0) ||
        (priv == NULL && priv_n > 0)) {
        return CKR_ARGUMENTS_BAD;
    }
    if (mech->mechanism != CKM_EC_KEY_PAIR_GEN && mech->mechanism != CKM_RSA_PKCS_KEY_PAIR_GEN) {
        return CKR_MECHANISM_INVALID;
    }
    /* no parameter: a stray pParameter is ignored, as corePKCS11 does */
    return CKR_OK;
}

/* The curve of a public template that lwss_p11_template_keygen() accepted. */
static mbedtls_ecp_group_id template_curve(const CK_ATTRIBUTE *pub, CK_ULONG pub_n)
{
    for (CK_ULONG i = 0; i < pub_n; i++) {
        if (pub[i].type == CKA_EC_PARAMS) {
            return lwss_p11_curve_of(pub[i].pValue, pub[i].ulValueLen);
        }
    }
    return MBEDTLS_ECP_DP_NONE;
}

/* The key pair itself, into @p pk. */
static CK_RV generate(mbedtls_pk_context *pk, int rsa, const CK_ATTRIBUTE *pub, CK_ULONG pub_n)
{
    if (!rsa) {
        mbedtls_ecp_group_id id = template_curve(pub, pub_n);
        assert(id != MBEDTLS_ECP_DP_NONE); /* checked by lwss_p11_template_keygen */
        return mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
                       mbedtls_ecp_gen_key(id, mbedtls_pk_ec(*pk), lwss_p11_random, NULL) != 0
                   ? CKR_FUNCTION_FAILED
                   : CKR_OK;
    }
    unsigned bits = 0;
    int exp = 0;
    CK_RV rv = lwss_p11_template_rsa_gen(pub, pub_n, &bits, &exp);
    if (rv == CKR_OK &&
        (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)) != 0 ||
         mbedtls_rsa_gen_key(mbedtls_pk_rsa(*pk), lwss_p11_random, NULL, bits, exp) != 0)) {
        rv = CKR_FUNCTION_FAILED;
    }
    return rv;
}

CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                        CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount,
                        CK_ATTRIBUTE_PTR pPrivateKeyTemplate, CK_ULONG ulPrivateKeyAttributeCount,
                        CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    lwss_nvm_meta pub_meta;
    lwss_nvm_meta priv_meta;
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    rv = check_keygen_args(pMechanism, pPublicKeyTemplate, ulPublicKeyAttributeCount,
                           pPrivateKeyTemplate, ulPrivateKeyAttributeCount, phPublicKey,
                           phPrivateKey);
    pair_dest dest = {hSession, 1, 1};
    if (rv == CKR_OK) {
        dest.pub_token = lwss_p11_template_token(pPublicKeyTemplate, ulPublicKeyAttributeCount);
        dest.priv_token = lwss_p11_template_token(pPrivateKeyTemplate, ulPrivateKeyAttributeCount);
    }
    if (rv == CKR_OK && (dest.pub_token || dest.priv_token) && !(s->flags & CKF_RW_SESSION)) {
        rv = CKR_SESSION_READ_ONLY; /* v2.40 4.4: session objects also in R/O sessions */
    }
    int rsa = rv == CKR_OK && pMechanism->mechanism == CKM_RSA_PKCS_KEY_PAIR_GEN;
    CK_KEY_TYPE kt = rsa ? CKK_RSA : CKK_EC;
    if (rv == CKR_OK) {
        rv = lwss_p11_template_keygen(pPublicKeyTemplate, ulPublicKeyAttributeCount,
                                      CKO_PUBLIC_KEY, kt, 1, &pub_meta);
    }
    if (rv == CKR_OK) {
        rv = lwss_p11_template_keygen(pPrivateKeyTemplate, ulPrivateKeyAttributeCount,
                                      CKO_PRIVATE_KEY, kt, 0, &priv_meta);
    }
    if (rv == CKR_OK && !lwss_p11_private_ok()) {
        rv = CKR_USER_NOT_LOGGED_IN;
    }
    if (rv == CKR_OK) {
        rv = generate(&pk, rsa, pPublicKeyTemplate, ulPublicKeyAttributeCount);
    }
    if (rv == CKR_OK) {
        rv = store_pair(&pk, &dest, &pub_meta, &priv_meta, phPublicKey, phPrivateKey);
    }
    mbedtls_pk_free(&pk);
    lwss_p11_session_put(s);
    return rv;
}
