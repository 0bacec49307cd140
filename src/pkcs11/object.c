/*
 * The object layer: NVM records <-> PKCS #11 objects.  A CK_OBJECT_HANDLE
 * is the NVM record handle, or a session object's (sessobj.c).  Internal records (PIN hashes) are never
 * visible; private objects are invisible while login is required and the
 * user is not logged in (see login.c).
 */
#include "src/pkcs11/token.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#ifdef LWSS_TEST_HOOKS
static atomic_int g_fail_save_in; /* test fault injection: fail the Nth save */

void lwss_p11_fault_save(int nth)
{
    atomic_store(&g_fail_save_in, nth);
}

/* 1 when the armed fault falls on this save. */
static int save_fault(void)
{
    int left = atomic_load(&g_fail_save_in);
    if (left > 0) {
        atomic_store(&g_fail_save_in, left - 1);
    }
    return left == 1;
}
#else
static int save_fault(void)
{
    return 0; /* release build: no fault injection */
}
#endif

CK_RV lwss_p11_obj_meta(CK_OBJECT_HANDLE h, lwss_nvm_meta *meta)
{
    if (h == CK_INVALID_HANDLE || h > UINT32_MAX) {
        return CKR_OBJECT_HANDLE_INVALID;
    }
    CK_RV ret;
    if (lwss_p11_sessobj_is(h)) {
        ret = lwss_p11_sessobj_meta(h, meta);
    } else {
        lwss_p11_store_lock(); /* resolve and read in one hold: a relabel is atomic here */
        ret = lwss_token_store_get_meta((uint32_t)lwss_p11_obj_resolve_locked(h), meta);
        lwss_p11_store_unlock();
    }
    if (ret != CKR_OK || meta->cls == LWSS_P11_CKO_INTERNAL) {
        return CKR_OBJECT_HANDLE_INVALID;
    }
    if (meta->is_private && !lwss_p11_private_ok()) {
        return CKR_OBJECT_HANDLE_INVALID;
    }
    return CKR_OK;
}

CK_RV lwss_p11_obj_save(const lwss_nvm_meta *meta, const uint8_t *der, size_t len,
                        CK_OBJECT_HANDLE *out)
{
    if (save_fault()) {
        return CKR_DEVICE_ERROR;
    }
    uint32_t h = 0;
    lwss_p11_store_lock();
    CK_RV rv = lwss_token_store_save(meta, der, len, &h);
    lwss_p11_store_unlock();
    if (rv != CKR_OK) {
        return rv; /* the detail stays in lwss_last_error() */
    }
    if (meta->cls == CKO_PRIVATE_KEY || meta->cls == CKO_PUBLIC_KEY) {
        lwss_p11_key_cache_clear(); /* it may have replaced a cached key */
    }
    lwss_p11_obj_alias_forget(h, 0); /* an old handle of this slot names this object now */
    *out = h;
    return CKR_OK;
}

CK_RV lwss_p11_obj_store(CK_SESSION_HANDLE owner, int session_obj, const lwss_nvm_meta *meta,
                         const uint8_t *der, size_t len, CK_OBJECT_HANDLE *out)
{
    if (!session_obj) {
        return lwss_p11_obj_save(meta, der, len, out);
    }
    return lwss_p11_sessobj_add(owner, meta, der, len, out);
}

CK_RV lwss_p11_obj_destroy(CK_OBJECT_HANDLE h)
{
    CK_RV rv;
    if (lwss_p11_sessobj_is(h)) {
        rv = lwss_p11_sessobj_destroy(h);
    } else {
        lwss_p11_store_lock();
        h = lwss_p11_obj_resolve_locked(h);
        lwss_p11_obj_alias_forget_locked(h, 1);
        rv = lwss_token_store_destroy((uint32_t)h);
        lwss_p11_store_unlock();
    }
    lwss_p11_key_cache_clear(); /* no parsed copy outlives the object */
    return rv;
}

CK_RV lwss_p11_obj_open(CK_OBJECT_HANDLE h, lwss_p11_obj *o)
{
    h = lwss_p11_obj_resolve(h);
    o->handle = h;
    o->val = NULL;
    o->val_len = 0;
    o->parsed = 0;
    mbedtls_pk_init(&o->pk);
    return lwss_p11_obj_load_value(h, &o->val, &o->val_len);
}

void lwss_p11_obj_close(lwss_p11_obj *o)
{
    mbedtls_pk_free(&o->pk);
    if (o->val != NULL) {
        lwss_token_store_free_value(o->val, o->val_len);
    }
    o->val = NULL;
    o->val_len = 0;
}

CK_RV lwss_p11_obj_load_value(CK_OBJECT_HANDLE h, uint8_t **val, size_t *len)
{
    if (lwss_p11_sessobj_is(h)) {
        return lwss_p11_sessobj_value(h, val, len);
    }
    lwss_p11_store_lock();
    CK_RV rv = lwss_token_store_get_value((uint32_t)lwss_p11_obj_resolve_locked(h), val, len);
    lwss_p11_store_unlock();
    return rv;
}

CK_RV lwss_p11_obj_load_secret(CK_OBJECT_HANDLE h, uint8_t **val, size_t *len,
                               lwss_nvm_meta *meta)
{
    CK_RV rv = lwss_p11_obj_meta(h, meta);
    if (rv != CKR_OK) {
        return CKR_KEY_HANDLE_INVALID;
    }
    if (meta->cls != CKO_SECRET_KEY) {
        return CKR_KEY_TYPE_INCONSISTENT;
    }
    return lwss_p11_obj_load_value(h, val, len);
}

/* A session for an operation that changes the token: R/W, logged in when
 * a private object is involved and login is required. */
static CK_RV session_rw(CK_SESSION_HANDLE h, lwss_p11_session **s)
{
    CK_RV rv = lwss_p11_session_get(h, s);
    if (rv != CKR_OK) {
        return rv;
    }
    if (!((*s)->flags & CKF_RW_SESSION)) {
        lwss_p11_session_put(*s);
        return CKR_SESSION_READ_ONLY;
    }
    return CKR_OK;
}

CK_RV C_CreateObject(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount,
                     CK_OBJECT_HANDLE_PTR phObject)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    lwss_p11_new_obj obj;
    if (phObject == NULL || (pTemplate == NULL && ulCount > 0)) {
        rv = CKR_ARGUMENTS_BAD;
        goto cleanup_session;
    }
    int token = lwss_p11_template_token(pTemplate, ulCount);
    if (token && !(s->flags & CKF_RW_SESSION)) {
        rv = CKR_SESSION_READ_ONLY; /* v2.40 4.4: session objects also in R/O sessions */
        goto cleanup_session;
    }
    rv = lwss_p11_template_create(pTemplate, ulCount, &obj);
    if (rv != CKR_OK) {
        goto cleanup_session;
    }
    if (obj.meta.is_private && !lwss_p11_private_ok()) {
        rv = CKR_USER_NOT_LOGGED_IN;
    } else {
        rv = lwss_p11_obj_store(s->handle, !token, &obj.meta, obj.der, obj.der_len, phObject);
    }
    lwss_p11_new_obj_free(&obj);
cleanup_session:
    lwss_p11_session_put(s);
    return rv;
}

CK_RV C_DestroyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_sessobj_is(hObject) ? lwss_p11_session_get(hSession, &s)
                                            : session_rw(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    lwss_nvm_meta meta;
    rv = lwss_p11_obj_meta(hObject, &meta);
    if (rv == CKR_OK) {
        rv = lwss_p11_obj_destroy(hObject);
    }
    lwss_p11_session_put(s);
    return rv;
}

/* One attribute into the caller's template entry (PKCS #11 section 5.7). */
static CK_RV answer_one(lwss_p11_obj *o, CK_ATTRIBUTE *a)
{
    lwss_p11_attr_out out;
    CK_RV rv = lwss_p11_attr_get(o, a->type, &out);
    if (rv != CKR_OK) {
        a->ulValueLen = CK_UNAVAILABLE_INFORMATION; /* buffer left untouched */
        return rv;
    }
    if (a->pValue == NULL) {
        a->ulValueLen = out.len;
        return CKR_OK;
    }
    if (a->ulValueLen < out.len) {
        a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
        return CKR_BUFFER_TOO_SMALL;
    }
    memcpy(a->pValue, out.p, out.len);
    a->ulValueLen = out.len;
    return CKR_OK;
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    lwss_p11_obj o;
    memset(&o, 0, sizeof(o));
    mbedtls_pk_init(&o.pk);
    if (pTemplate == NULL && ulCount > 0) {
        rv = CKR_ARGUMENTS_BAD;
        goto cleanup;
    }
    o.handle = hObject;
    rv = lwss_p11_obj_meta(hObject, &o.meta);
    int need_value = 0;
    for (CK_ULONG i = 0; i < ulCount; i++) {
        need_value |= !lwss_p11_attr_from_meta(pTemplate[i].type);
    }
    if (rv == CKR_OK && need_value) {
        rv = lwss_p11_obj_open(hObject, &o);
    }
    if (rv != CKR_OK) {
        goto cleanup;
    }
    /* Every entry is answered; the result is the last failure, if any. */
    for (CK_ULONG i = 0; i < ulCount; i++) {
        CK_RV one = answer_one(&o, &pTemplate[i]);
        if (one != CKR_OK) {
            rv = one;
        }
    }
cleanup:
    lwss_p11_obj_close(&o);
    lwss_p11_session_put(s);
    return rv;
}

CK_RV C_GetObjectSize(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ULONG_PTR pulSize)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    lwss_p11_obj o;
    memset(&o, 0, sizeof(o));
    mbedtls_pk_init(&o.pk);
    if (pulSize == NULL) {
        rv = CKR_ARGUMENTS_BAD;
    } else {
        rv = lwss_p11_obj_meta(hObject, &o.meta);
    }
    if (rv == CKR_OK) {
        rv = lwss_p11_obj_open(hObject, &o);
    }
    if (rv == CKR_OK) {
        *pulSize = o.val_len;
    }
    lwss_p11_obj_close(&o);
    lwss_p11_session_put(s);
    return rv;
}
