/*
 * Session objects (CKA_TOKEN=FALSE, v2.40 4.4): held in this process's
 * memory only - so visible only to the application that made them - never
 * written to storage, destroyed (values wiped) when the session that made
 * them closes, at the last session's close and at C_Finalize.
 *
 * Handles carry LWSS_P11_SESSOBJ_BIT, which storage handles never have
 * (the store numbers its records from 1 up), plus a generation, so a
 * destroyed object's handle is not reissued at once.  The table is guarded
 * by the token's store lock.
 */
#include "src/pkcs11/token.h"

#include <mbedtls/platform_util.h>
#include <stdlib.h>
#include <string.h>

typedef struct sessobj {
    int used;
    CK_SESSION_HANDLE owner;
    uint32_t gen;
    lwss_nvm_meta meta;
    uint8_t *val;
    size_t len;
} sessobj;

static sessobj g_objs[LWSS_P11_MAX_SESSION_OBJECTS];

#define IDX_BITS 8 /* LWSS_P11_MAX_SESSION_OBJECTS <= 256 */
#define GEN_MASK ((LWSS_P11_SESSOBJ_BIT - 1u) >> IDX_BITS)

_Static_assert(LWSS_P11_MAX_SESSION_OBJECTS <= (1 << IDX_BITS), "index field too small");

static CK_OBJECT_HANDLE handle_of(size_t idx)
{
    return LWSS_P11_SESSOBJ_BIT | ((CK_OBJECT_HANDLE)g_objs[idx].gen << IDX_BITS) | idx;
}

/* The live entry of @p h, or NULL.  Store lock held. */
static sessobj *lookup(CK_OBJECT_HANDLE h)
{
    if (!lwss_p11_sessobj_is(h)) {
        return NULL;
    }
    size_t idx = h & ((1u << IDX_BITS) - 1);
    if (idx >= LWSS_P11_MAX_SESSION_OBJECTS) {
        return NULL;
    }
    sessobj *o = &g_objs[idx];
    return o->used && handle_of(idx) == h ? o : NULL;
}

static void wipe(sessobj *o)
{
    if (o->val != NULL) {
        mbedtls_platform_zeroize(o->val, o->len);
        free(o->val);
    }
    uint32_t gen = o->gen;
    mbedtls_platform_zeroize(o, sizeof(*o));
    o->gen = (gen + 1) & GEN_MASK;
}

int lwss_p11_sessobj_is(CK_OBJECT_HANDLE h)
{
    return h <= UINT32_MAX && (h & LWSS_P11_SESSOBJ_BIT) != 0;
}

CK_RV lwss_p11_sessobj_add(CK_SESSION_HANDLE owner, const lwss_nvm_meta *meta,
                           const uint8_t *val, size_t len, CK_OBJECT_HANDLE *out)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL) {
        return CKR_HOST_MEMORY;
    }
    if (len > 0) {
        memcpy(copy, val, len);
    }
    CK_RV rv = CKR_HOST_MEMORY; /* table full */
    lwss_p11_store_lock();
    for (size_t i = 0; i < LWSS_P11_MAX_SESSION_OBJECTS; i++) {
        sessobj *o = &g_objs[i];
        if (!o->used) {
            o->used = 1;
            o->owner = owner;
            o->meta = *meta;
            o->val = copy;
            o->len = len;
            *out = handle_of(i);
            rv = CKR_OK;
            break;
        }
    }
    lwss_p11_store_unlock();
    if (rv != CKR_OK) {
        mbedtls_platform_zeroize(copy, len);
        free(copy);
    }
    return rv;
}

CK_RV lwss_p11_sessobj_meta(CK_OBJECT_HANDLE h, lwss_nvm_meta *meta)
{
    lwss_p11_store_lock();
    const sessobj *o = lookup(h);
    if (o != NULL) {
        *meta = o->meta;
    }
    lwss_p11_store_unlock();
    return o != NULL ? CKR_OK : CKR_OBJECT_HANDLE_INVALID;
}

CK_RV lwss_p11_sessobj_value(CK_OBJECT_HANDLE h, uint8_t **val, size_t *len)
{
    CK_RV rv = CKR_OBJECT_HANDLE_INVALID;
    lwss_p11_store_lock();
    const sessobj *o = lookup(h);
    if (o != NULL) {
        *val = malloc(o->len > 0 ? o->len : 1);
        rv = *val != NULL ? CKR_OK : CKR_HOST_MEMORY;
    }
    if (rv == CKR_OK) {
        if (o->len > 0) {
            memcpy(*val, o->val, o->len);
        }
        *len = o->len;
    }
    lwss_p11_store_unlock();
    return rv;
}

CK_RV lwss_p11_sessobj_set_meta(CK_OBJECT_HANDLE h, const lwss_nvm_meta *meta)
{
    lwss_p11_store_lock();
    sessobj *o = lookup(h);
    if (o != NULL) {
        o->meta = *meta;
    }
    lwss_p11_store_unlock();
    return o != NULL ? CKR_OK : CKR_OBJECT_HANDLE_INVALID;
}

CK_RV lwss_p11_sessobj_destroy(CK_OBJECT_HANDLE h)
{
    lwss_p11_store_lock();
    sessobj *o = lookup(h);
    if (o != NULL) {
        wipe(o);
    }
    lwss_p11_store_unlock();
    return o != NULL ? CKR_OK : CKR_OBJECT_HANDLE_INVALID;
}

size_t lwss_p11_sessobj_list(CK_OBJECT_HANDLE *out, size_t max)
{
    size_t n = 0;
    lwss_p11_store_lock();
    for (size_t i = 0; i < LWSS_P11_MAX_SESSION_OBJECTS && n < max; i++) {
        if (g_objs[i].used) {
            out[n++] = handle_of(i);
        }
    }
    lwss_p11_store_unlock();
    return n;
}

void lwss_p11_sessobj_drop_session(CK_SESSION_HANDLE owner)
{
    int dropped = 0;
    lwss_p11_store_lock();
    for (size_t i = 0; i < LWSS_P11_MAX_SESSION_OBJECTS; i++) {
        if (g_objs[i].used && g_objs[i].owner == owner) {
            wipe(&g_objs[i]);
            dropped = 1;
        }
    }
    lwss_p11_store_unlock();
    if (dropped) {
        lwss_p11_key_cache_clear(); /* no parsed copy outlives the object */
    }
}

void lwss_p11_sessobj_forget_all(void)
{
    /* A forked child (no other thread) or C_Finalize after every session
     * closed: nobody else can reach the table. */
    for (size_t i = 0; i < LWSS_P11_MAX_SESSION_OBJECTS; i++) {
        if (g_objs[i].used) {
            wipe(&g_objs[i]);
        }
    }
}

size_t lwss_p11_sessobj_count(void)
{
    size_t n = 0;
    lwss_p11_store_lock();
    for (size_t i = 0; i < LWSS_P11_MAX_SESSION_OBJECTS; i++) {
        n += g_objs[i].used ? 1 : 0;
    }
    lwss_p11_store_unlock();
    return n;
}
