/*
 * C_FindObjects*: the matching handles are collected at FindObjectsInit
 * (a snapshot), then handed out by a cursor in chunks of any size; the
 * search ends with a count of 0.  Any attribute can be searched for:
 * values are compared exactly (labels are not prefixes), the class is
 * respected, and a sensitive or absent attribute never matches.
 */
#include "src/pkcs11/token.h"

#include <stdlib.h>
#include <string.h>

/* Does @p o (value loaded on demand) carry every attribute of the template? */
static int matches(CK_OBJECT_HANDLE h, lwss_p11_obj *o, const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
    int opened = 0;
    int ok = 1;
    for (CK_ULONG i = 0; ok && i < n; i++) {
        if (!lwss_p11_attr_from_meta(tmpl[i].type) && !opened) {
            if (lwss_p11_obj_open(h, o) != CKR_OK) {
                ok = 0;
                break;
            }
            opened = 1;
        }
        lwss_p11_attr_out out;
        ok = lwss_p11_attr_get(o, tmpl[i].type, &out) == CKR_OK &&
             out.len == tmpl[i].ulValueLen &&
             (out.len == 0 || memcmp(out.p, tmpl[i].pValue, out.len) == 0);
    }
    if (opened) {
        lwss_p11_obj_close(o);
    }
    return ok;
}

/* Snapshot of the handles of every live record; caller frees. */
static CK_RV list_all(uint32_t **handles, size_t *n)
{
    size_t total = 0;
    *handles = NULL;
    *n = 0;
    lwss_p11_store_lock();
    CK_RV rv = lwss_token_store_list(NULL, 0, &total);
    if (rv == CKR_OK) {
        *handles = calloc(total + 1, sizeof(**handles));
        rv = *handles != NULL ? CKR_OK : CKR_HOST_MEMORY;
    }
    if (rv == CKR_OK) {
        rv = lwss_token_store_list(*handles, total, n);
    }
    lwss_p11_store_unlock();
    if (*n > total) {
        *n = total;
    }
    return rv;
}

/* Storage handles, then the session objects' (sessobj.c). */
static CK_RV collect(lwss_p11_session *s, const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
    uint32_t *handles = NULL;
    size_t n = 0;
    CK_OBJECT_HANDLE sess[LWSS_P11_MAX_SESSION_OBJECTS];
    size_t n_sess = lwss_p11_sessobj_list(sess, LWSS_P11_MAX_SESSION_OBJECTS);
    CK_RV rv = list_all(&handles, &n);
    if (rv == CKR_OK) {
        s->found = calloc(n + n_sess + 1, sizeof(*s->found));
        rv = s->found != NULL ? CKR_OK : CKR_HOST_MEMORY;
    }
    for (size_t i = 0; rv == CKR_OK && i < n + n_sess; i++) {
        CK_OBJECT_HANDLE h = i < n ? handles[i] : sess[i - n];
        lwss_p11_obj o;
        memset(&o, 0, sizeof(o));
        o.handle = h;
        /* hides internal records, and private objects while login is due */
        if (lwss_p11_obj_meta(h, &o.meta) == CKR_OK && matches(h, &o, tmpl, count)) {
            s->found[s->found_count++] = h;
        }
    }
    free(handles);
    return rv;
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    if (s->find_active) {
        rv = CKR_OPERATION_ACTIVE;
    } else if (pTemplate == NULL && ulCount > 0) {
        rv = CKR_ARGUMENTS_BAD;
    } else {
        for (CK_ULONG i = 0; i < ulCount; i++) {
            if (pTemplate[i].pValue == NULL && pTemplate[i].ulValueLen > 0) {
                rv = CKR_ATTRIBUTE_VALUE_INVALID;
            }
        }
    }
    if (rv == CKR_OK) {
        rv = collect(s, pTemplate, ulCount);
        if (rv == CKR_OK) {
            s->find_active = 1;
        } else {
            lwss_p11_find_reset(s);
        }
    }
    lwss_p11_session_put(s);
    return rv;
}

CK_RV C_FindObjects(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject,
                    CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    if (!s->find_active) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else if (pulObjectCount == NULL || (phObject == NULL && ulMaxObjectCount > 0)) {
        rv = CKR_ARGUMENTS_BAD;
    } else {
        CK_ULONG given = 0;
        while (given < ulMaxObjectCount && s->found_pos < s->found_count) {
            phObject[given++] = s->found[s->found_pos++];
        }
        *pulObjectCount = given;
    }
    lwss_p11_session_put(s);
    return rv;
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE hSession)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    if (!s->find_active) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else {
        lwss_p11_find_reset(s);
    }
    lwss_p11_session_put(s);
    return rv;
}
