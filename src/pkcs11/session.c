/*
 * The session table.  Sessions live in a static array whose mutexes are
 * created once and never destroyed, so a lookup can lock a slot and then
 * check that it still holds the session asked for: a session closed by
 * another thread is simply "invalid", never freed memory.  A handle is
 * (generation * LWSS_P11_MAX_SESSIONS + index + 1), so a stale handle does
 * not name the next session opened in the same slot.
 */
#include "src/pkcs11/token.h"

#include <stdlib.h>
#include <string.h>

static lwss_p11_session g_sessions[LWSS_P11_MAX_SESSIONS];
static pthread_once_t g_sessions_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_table_lock = PTHREAD_MUTEX_INITIALIZER; /* open/close/counts */
static CK_ULONG g_generation;
static CK_ULONG g_open_count;
static CK_ULONG g_rw_count;

static void sessions_init_once(void)
{
    for (size_t i = 0; i < LWSS_P11_MAX_SESSIONS; i++) {
        pthread_mutex_init(&g_sessions[i].lock, NULL);
    }
}

CK_RV lwss_p11_session_get(CK_SESSION_HANDLE handle, lwss_p11_session **out)
{
    CK_RV rv = lwss_p11_check_init();
    if (rv != CKR_OK) {
        return rv;
    }
    pthread_once(&g_sessions_once, sessions_init_once);
    if (handle == CK_INVALID_HANDLE) {
        return CKR_SESSION_HANDLE_INVALID;
    }
    lwss_p11_session *s = &g_sessions[(handle - 1) % LWSS_P11_MAX_SESSIONS];
    lwss_os_lock(&s->lock);
    if (!s->open || s->handle != handle) {
        pthread_mutex_unlock(&s->lock);
        return CKR_SESSION_HANDLE_INVALID;
    }
    *out = s;
    return CKR_OK;
}

void lwss_p11_session_put(lwss_p11_session *s)
{
    pthread_mutex_unlock(&s->lock);
}

void lwss_p11_op_reset(lwss_p11_op *op)
{
    if (op->active) {
        mbedtls_md_free(&op->hmac); /* wipes the HMAC pads */
        mbedtls_md_free(&op->md);
        mbedtls_cipher_free(&op->cmac);
    }
    op->active = 0;
    op->mode = LWSS_P11_MODE_FRESH;
    op->mech = 0;
}

void lwss_p11_op_release(lwss_p11_op *op)
{
    lwss_p11_op_reset(op);
    lwss_p11_key_cache_put(op); /* kept for the next session (wiped at C_Finalize) */
    memset(op, 0, sizeof(*op));
}

void lwss_p11_find_reset(lwss_p11_session *s)
{
    free(s->found);
    s->found = NULL;
    s->found_count = 0;
    s->found_pos = 0;
    s->find_active = 0;
}

/* Release everything a session holds; called with its lock held. */
static void session_release(lwss_p11_session *s)
{
    if (s->digest_active) {
        mbedtls_md_free(&s->dmd);
        s->digest_active = 0;
    }
    lwss_p11_find_reset(s);
    lwss_p11_op_release(&s->sign);
    lwss_p11_op_release(&s->verify);
    lwss_p11_crypt_free(&s->enc);
    lwss_p11_crypt_free(&s->dec);
    s->open = 0;
    s->handle = CK_INVALID_HANDLE;
}

CK_RV C_OpenSession(CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, CK_NOTIFY Notify,
                    CK_SESSION_HANDLE_PTR phSession)
{
    (void)pApplication; /* no notifications are ever sent */
    (void)Notify;
    CK_RV rv = lwss_p11_check_init();
    if (rv != CKR_OK) {
        return rv;
    }
    if (slotID != LWSS_P11_SLOT_ID) {
        return CKR_SLOT_ID_INVALID;
    }
    if (phSession == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    if (!(flags & CKF_SERIAL_SESSION)) {
        return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
    }
    rv = lwss_p11_store_ready();
    if (rv != CKR_OK) {
        return rv;
    }
    if (!(flags & CKF_RW_SESSION) && lwss_p11_login_state() == CKU_SO) {
        return CKR_SESSION_READ_WRITE_SO_EXISTS; /* the SO works in R/W sessions only */
    }
    pthread_once(&g_sessions_once, sessions_init_once);
    /* Lock order everywhere: a session, then the table lock. */
    rv = CKR_SESSION_COUNT;
    for (size_t i = 0; i < LWSS_P11_MAX_SESSIONS && rv != CKR_OK; i++) {
        lwss_p11_session *s = &g_sessions[i];
        lwss_os_lock(&s->lock);
        if (!s->open) {
            memset(&s->sign, 0, sizeof(s->sign));
            memset(&s->verify, 0, sizeof(s->verify));
            s->open = 1;
            s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);
            lwss_os_lock(&g_table_lock);
            g_generation++;
            s->handle = g_generation * LWSS_P11_MAX_SESSIONS + i + 1;
            g_open_count++;
            g_rw_count += (flags & CKF_RW_SESSION) ? 1 : 0;
            pthread_mutex_unlock(&g_table_lock);
            *phSession = s->handle;
            rv = CKR_OK;
        }
        pthread_mutex_unlock(&s->lock);
    }
    return rv;
}

/* Close @p s (locked by the caller) and keep the counts; logs out when it
 * was the last session, as PKCS #11 says. */
static void session_close_locked(lwss_p11_session *s)
{
    int rw = (s->flags & CKF_RW_SESSION) != 0;
    lwss_p11_sessobj_drop_session(s->handle); /* v2.40 4.4: its session objects go with it */
    session_release(s);
    lwss_os_lock(&g_table_lock);
    g_open_count--;
    g_rw_count -= rw ? 1 : 0;
    int last = g_open_count == 0;
    pthread_mutex_unlock(&g_table_lock);
    if (last) {
        lwss_p11_logout_all();
    }
}

CK_RV C_CloseSession(CK_SESSION_HANDLE hSession)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    session_close_locked(s);
    lwss_p11_session_put(s);
    return CKR_OK;
}

void lwss_p11_session_close_all(void)
{
    pthread_once(&g_sessions_once, sessions_init_once);
    for (size_t i = 0; i < LWSS_P11_MAX_SESSIONS; i++) {
        lwss_p11_session *s = &g_sessions[i];
        lwss_os_lock(&s->lock);
        if (s->open) {
            session_close_locked(s);
        }
        pthread_mutex_unlock(&s->lock);
    }
}

void lwss_p11_session_forget_all(void)
{
    pthread_once(&g_sessions_once, sessions_init_once);
    for (size_t i = 0; i < LWSS_P11_MAX_SESSIONS; i++) {
        lwss_p11_session *s = &g_sessions[i];
        if (pthread_mutex_trylock(&s->lock) != 0) {
            /* held by a thread of the parent, which does not exist here */
            pthread_mutex_init(&s->lock, NULL);
            pthread_mutex_lock(&s->lock);
        }
        if (s->open) {
            session_release(s);
        }
        pthread_mutex_unlock(&s->lock);
    }
    lwss_p11_sessobj_forget_all(); /* the parent's, copied by fork() */
    pthread_mutex_init(&g_table_lock, NULL);
    g_open_count = 0;
    g_rw_count = 0;
}

CK_RV C_CloseAllSessions(CK_SLOT_ID slotID)
{
    CK_RV rv = lwss_p11_check_init();
    if (rv != CKR_OK) {
        return rv;
    }
    if (slotID != LWSS_P11_SLOT_ID) {
        return CKR_SLOT_ID_INVALID;
    }
    lwss_p11_session_close_all();
    return CKR_OK;
}

void lwss_p11_session_counts(CK_ULONG *all, CK_ULONG *rw)
{
    lwss_os_lock(&g_table_lock);
    *all = g_open_count;
    *rw = g_rw_count;
    pthread_mutex_unlock(&g_table_lock);
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    if (pInfo == NULL) {
        lwss_p11_session_put(s);
        return CKR_ARGUMENTS_BAD;
    }
    int rw = (s->flags & CKF_RW_SESSION) != 0;
    int who = lwss_p11_login_state();
    memset(pInfo, 0, sizeof(*pInfo));
    pInfo->slotID = LWSS_P11_SLOT_ID;
    pInfo->flags = s->flags;
    if (who == CKU_SO) {
        pInfo->state = CKS_RW_SO_FUNCTIONS;
    } else if (who == CKU_USER) {
        pInfo->state = rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
    } else {
        pInfo->state = rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
    }
    lwss_p11_session_put(s);
    return CKR_OK;
}
