/*
 * Object editing (v2.40 5.7): C_SetAttributeValue and C_CopyObject.
 *
 * What may change: CKA_LABEL, CKA_ID (keys, certificates), the usage
 * attributes of keys, CKA_SENSITIVE only FALSE->TRUE, CKA_EXTRACTABLE
 * only TRUE->FALSE (v2.40 4.9, 4.10; keyattr.c); in a copy also CKA_TOKEN,
 * CKA_PRIVATE, and CKA_MODIFIABLE / CKA_COPYABLE to FALSE (v2.40 4.4).
 * CKA_SUBJECT, CKA_START_DATE and CKA_END_DATE of a key are accepted and
 * not kept, as C_CreateObject treats them (they always read back empty).
 * Everything else the object has is CKR_ATTRIBUTE_READ_ONLY; what it does
 * not have is CKR_ATTRIBUTE_TYPE_INVALID.  A key with CKA_MODIFIABLE (or
 * CKA_COPYABLE) FALSE gets CKR_ACTION_PROHIBITED.
 *
 * Token objects are rewritten through the store: an edit that keeps the
 * label is one atomic replace; a new label is a save under it and a destroy
 * of the old record in one store group, so a cut leaves the old object or
 * the new one, never neither or both.  The store names its records by
 * (label, class), so a new label (or a token copy's label) that another
 * object of the class holds is refused (CKR_TEMPLATE_INCONSISTENT) rather
 * than replacing that object, and a relabelled record gets a new store
 * handle: the old handle is kept as an alias of it until C_Finalize.
 * Session objects are edited in memory.
 */
#include "src/pkcs11/token.h"

#include <mbedtls/platform_util.h>
#include <string.h>

/* Handle aliases: old store handle -> current one.  Store lock held. */
#define ALIAS_MAX 64
static struct {
    uint32_t from;
    uint32_t to;
} g_alias[ALIAS_MAX];
static size_t g_nalias;

CK_OBJECT_HANDLE lwss_p11_obj_resolve_locked(CK_OBJECT_HANDLE h)
{
    if (h > UINT32_MAX || lwss_p11_sessobj_is(h)) {
        return h;
    }
    for (size_t i = 0; i < g_nalias; i++) {
        if (g_alias[i].from == h) {
            return g_alias[i].to; /* entries never chain: alias_add keeps them flat */
        }
    }
    return h;
}

CK_OBJECT_HANDLE lwss_p11_obj_resolve(CK_OBJECT_HANDLE h)
{
    lwss_p11_store_lock();
    h = lwss_p11_obj_resolve_locked(h);
    lwss_p11_store_unlock();
    return h;
}

/* Drop the aliases from @p h (a record now saved at h), and with @p to_too
 * those that point at it (a record destroyed).  Store lock held. */
static void alias_drop_locked(uint32_t h, int to_too)
{
    size_t n = 0;
    for (size_t i = 0; i < g_nalias; i++) {
        if (g_alias[i].from != h && !(to_too && g_alias[i].to == h)) {
            g_alias[n++] = g_alias[i];
        }
    }
    g_nalias = n;
}

void lwss_p11_obj_alias_forget_locked(CK_OBJECT_HANDLE h, int destroyed)
{
    if (h <= UINT32_MAX && !lwss_p11_sessobj_is(h)) {
        alias_drop_locked((uint32_t)h, destroyed);
    }
}

void lwss_p11_obj_alias_forget(CK_OBJECT_HANDLE h, int destroyed)
{
    lwss_p11_store_lock();
    lwss_p11_obj_alias_forget_locked(h, destroyed);
    lwss_p11_store_unlock();
}

void lwss_p11_obj_alias_clear(void)
{
    lwss_p11_store_lock();
    g_nalias = 0;
    lwss_p11_store_unlock();
}

/* Record that @p from now lives at @p to (room checked by the caller).
 * Store lock held. */
static void alias_add_locked(uint32_t from, uint32_t to)
{
    for (size_t i = 0; i < g_nalias; i++) {
        if (g_alias[i].to == from) {
            g_alias[i].to = to;
        }
    }
    alias_drop_locked(from, 0);
    if (g_nalias < ALIAS_MAX) {
        g_alias[g_nalias].from = from;
        g_alias[g_nalias].to = to;
        g_nalias++;
    }
}

static int alias_room(void)
{
    lwss_p11_store_lock();
    int room = g_nalias < ALIAS_MAX;
    lwss_p11_store_unlock();
    return room;
}

static int is_key(uint32_t cls)
{
    return cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY || cls == CKO_SECRET_KEY;
}

static CK_RV get_bool(const CK_ATTRIBUTE *a, int *on)
{
    if (a->pValue == NULL || a->ulValueLen != sizeof(CK_BBOOL)) {
        return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    *on = *(const CK_BBOOL *)a->pValue != CK_FALSE;
    return CKR_OK;
}

/* What an edit makes of an object. */
typedef struct edit {
    lwss_nvm_meta meta;
    int token;
} edit;

/* CKA_TOKEN / CKA_PRIVATE: only a copy may choose them (v2.40 5.7 C_CopyObject). */
static CK_RV edit_storage(const CK_ATTRIBUTE *a, int copying, edit *e)
{
    if (!copying) {
        return CKR_ATTRIBUTE_READ_ONLY;
    }
    int on = 0;
    CK_RV rv = get_bool(a, &on);
    if (rv != CKR_OK) {
        return rv;
    }
    if (a->type == CKA_TOKEN) {
        e->token = on;
    } else if (!on && (e->meta.cls == CKO_PRIVATE_KEY || e->meta.cls == CKO_SECRET_KEY)) {
        return CKR_TEMPLATE_INCONSISTENT; /* the token keeps every secret private */
    } else {
        e->meta.is_private = (uint8_t)on;
    }
    return CKR_OK;
}

/* One template entry into @p e (v2.40 4.1.2 and 5.7). */
static CK_RV edit_one(lwss_p11_obj *o, const CK_ATTRIBUTE *a, int copying, edit *e)
{
    if (a->pValue == NULL && a->ulValueLen > 0) {
        return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    switch (a->type) {
    case CKA_LABEL:
        if (a->ulValueLen == 0 || a->ulValueLen > LWSS_NVM_LABEL_MAX) {
            return CKR_ATTRIBUTE_VALUE_INVALID; /* the store names objects by it */
        }
        e->meta.label_len = (uint32_t)a->ulValueLen;
        memcpy(e->meta.label, a->pValue, a->ulValueLen);
        return CKR_OK;
    case CKA_ID:
        if (!is_key(e->meta.cls) && e->meta.cls != CKO_CERTIFICATE) {
            return CKR_ATTRIBUTE_TYPE_INVALID;
        }
        if (a->ulValueLen > LWSS_NVM_ID_MAX) {
            return CKR_ATTRIBUTE_VALUE_INVALID;
        }
        e->meta.id_len = (uint8_t)a->ulValueLen;
        if (a->ulValueLen > 0) {
            memcpy(e->meta.id, a->pValue, a->ulValueLen);
        }
        return CKR_OK;
    case CKA_TOKEN:
    case CKA_PRIVATE:
        return edit_storage(a, copying, e);
    case CKA_SUBJECT:
    case CKA_START_DATE:
    case CKA_END_DATE:
        if (is_key(e->meta.cls)) {
            return CKR_OK; /* informational: accepted and not kept, as C_CreateObject does */
        }
        break;
    default:
        break;
    }
    if (lwss_p11_key_attr_known(a->type) && is_key(e->meta.cls)) {
        return lwss_p11_key_attr_modify(&e->meta, a, copying);
    }
    if (a->type == CKA_MODIFIABLE || a->type == CKA_COPYABLE) {
        int on = 0;
        CK_RV rv = get_bool(a, &on);
        return rv != CKR_OK ? rv : on ? CKR_OK : CKR_ATTRIBUTE_READ_ONLY; /* always TRUE here */
    }
    lwss_p11_attr_out out;
    CK_RV rv = lwss_p11_attr_get(o, a->type, &out);
    return (rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE) ? CKR_ATTRIBUTE_READ_ONLY
                                                          : CKR_ATTRIBUTE_TYPE_INVALID;
}

static CK_RV edit_all(lwss_p11_obj *o, const CK_ATTRIBUTE *t, CK_ULONG n, int copying, edit *e)
{
    e->meta = o->meta;
    e->token = !lwss_p11_sessobj_is(o->handle);
    for (CK_ULONG i = 0; i < n; i++) {
        CK_RV rv = edit_one(o, &t[i], copying, e);
        if (rv != CKR_OK) {
            return rv;
        }
    }
    return CKR_OK;
}

/* 1 when a token object other than @p self is named (label, class) of @p m. */
static int label_taken(const lwss_nvm_meta *m, CK_OBJECT_HANDLE self)
{
    lwss_p11_store_lock();
    uint32_t h = lwss_token_store_find(m->label, m->label_len, m->cls);
    lwss_p11_store_unlock();
    return h != 0 && h != self;
}

/* Rewrite token object @p h (its value @p val) with the metadata @p m. */
static CK_RV rewrite_token(CK_OBJECT_HANDLE h, const lwss_nvm_meta *m, const uint8_t *val,
                           size_t len)
{
    lwss_nvm_meta old;
    CK_OBJECT_HANDLE same = CK_INVALID_HANDLE;
    CK_RV rv = lwss_p11_obj_meta(h, &old);
    if (rv != CKR_OK) {
        return rv;
    }
    if (old.label_len == m->label_len && memcmp(old.label, m->label, m->label_len) == 0) {
        return lwss_p11_obj_save(m, val, len, &same); /* same record: one atomic replace */
    }
    if (label_taken(m, CK_INVALID_HANDLE)) {
        return CKR_TEMPLATE_INCONSISTENT;
    }
    if (!alias_room()) {
        return CKR_HOST_MEMORY;
    }
    rv = lwss_token_store_begin(); /* the new name and the old one's end land together */
    if (rv != CKR_OK) {
        return rv;
    }
    /* One store lock hold from the first write to the alias: other threads
     * see the old record under the old handle, or the new one through the
     * alias, never the state in between.  (begin stays outside the hold: it
     * may wait for another thread's group, which needs the lock to finish.) */
    uint32_t nh = 0;
    lwss_p11_store_lock();
    rv = lwss_token_store_save(m, val, len, &nh);
    if (rv == CKR_OK) {
        rv = lwss_token_store_destroy((uint32_t)h);
    }
    if (rv == CKR_OK) {
        rv = lwss_token_store_commit();
    }
    if (rv == CKR_OK) {
        alias_drop_locked(nh, 0); /* an old handle of that slot names this object now */
        alias_add_locked((uint32_t)h, nh);
    } else {
        lwss_token_store_abort(); /* no-op when the group is gone already */
    }
    lwss_p11_store_unlock();
    lwss_p11_key_cache_clear();
    return rv;
}

/* The session and the (visible) object, opened with its value. */
static CK_RV open_target(CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE ho, const CK_ATTRIBUTE *t,
                         CK_ULONG n, lwss_p11_session **s, lwss_p11_obj *o)
{
    memset(o, 0, sizeof(*o));
    mbedtls_pk_init(&o->pk);
    CK_RV rv = lwss_p11_session_get(hs, s);
    if (rv != CKR_OK) {
        return rv;
    }
    if (t == NULL && n > 0) {
        return CKR_ARGUMENTS_BAD;
    }
    ho = lwss_p11_obj_resolve(ho);
    rv = lwss_p11_obj_meta(ho, &o->meta);
    return rv == CKR_OK ? lwss_p11_obj_open(ho, o) : rv;
}

/* C_SetAttributeValue on the opened object @p o. */
static CK_RV set_step(lwss_p11_session *s, lwss_p11_obj *o, const CK_ATTRIBUTE *t, CK_ULONG n,
                      CK_OBJECT_HANDLE *unused)
{
    (void)unused;
    int token = !lwss_p11_sessobj_is(o->handle);
    if (token && !(s->flags & CKF_RW_SESSION)) {
        return CKR_SESSION_READ_ONLY; /* v2.40 5.7: only session objects in R/O sessions */
    }
    if (!lwss_p11_key_modifiable(&o->meta)) {
        return CKR_ACTION_PROHIBITED; /* v2.40 4.4 CKA_MODIFIABLE */
    }
    edit e;
    CK_RV rv = edit_all(o, t, n, 0, &e);
    if (rv != CKR_OK || memcmp(&e.meta, &o->meta, sizeof(e.meta)) == 0) {
        /* refused, or nothing changes: nothing to write */
    } else if (!token) {
        rv = lwss_p11_sessobj_set_meta(o->handle, &e.meta);
        lwss_p11_key_cache_clear();
    } else {
        rv = rewrite_token(o->handle, &e.meta, o->val, o->val_len);
    }
    mbedtls_platform_zeroize(&e, sizeof(e));
    return rv;
}

/* C_CopyObject of the opened object @p o into *@p out. */
static CK_RV copy_step(lwss_p11_session *s, lwss_p11_obj *o, const CK_ATTRIBUTE *t, CK_ULONG n,
                       CK_OBJECT_HANDLE *out)
{
    if (out == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    if (!lwss_p11_key_copyable(&o->meta)) {
        return CKR_ACTION_PROHIBITED; /* v2.40 4.4 CKA_COPYABLE */
    }
    edit e;
    CK_RV rv = edit_all(o, t, n, 1, &e);
    if (rv != CKR_OK) {
        /* refused */
    } else if (e.token && !(s->flags & CKF_RW_SESSION)) {
        rv = CKR_SESSION_READ_ONLY;
    } else if (e.meta.is_private && !lwss_p11_private_ok()) {
        rv = CKR_USER_NOT_LOGGED_IN;
    } else if (e.token && label_taken(&e.meta, CK_INVALID_HANDLE)) {
        rv = CKR_TEMPLATE_INCONSISTENT; /* a token copy needs a label of its own */
    } else {
        rv = lwss_p11_obj_store(s->handle, !e.token, &e.meta, o->val, o->val_len, out);
    }
    mbedtls_platform_zeroize(&e, sizeof(e));
    return rv;
}

typedef CK_RV (*edit_step)(lwss_p11_session *s, lwss_p11_obj *o, const CK_ATTRIBUTE *t,
                           CK_ULONG n, CK_OBJECT_HANDLE *out);

/* Open session and object, run @p step, release both. */
static CK_RV with_object(CK_SESSION_HANDLE hs, CK_OBJECT_HANDLE ho, const CK_ATTRIBUTE *t,
                         CK_ULONG n, CK_OBJECT_HANDLE *out, edit_step step)
{
    lwss_p11_session *s = NULL;
    lwss_p11_obj o;
    CK_RV rv = open_target(hs, ho, t, n, &s, &o);
    if (rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_CRYPTOKI_NOT_INITIALIZED) {
        return rv; /* no session to put back */
    }
    if (rv == CKR_OK) {
        rv = step(s, &o, t, n, out);
    }
    lwss_p11_obj_close(&o);
    lwss_p11_session_put(s);
    return rv;
}

CK_RV C_SetAttributeValue(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                          CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    return with_object(hSession, hObject, pTemplate, ulCount, NULL, set_step);
}

CK_RV C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject,
                   CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
{
    return with_object(hSession, hObject, pTemplate, ulCount, phNewObject, copy_step);
}
