/*
 * Login and PIN policy.
 *
 * - A fresh image has no PIN records.  Its user PIN and SO PIN are then the
 *   FreeRTOS default "0000" (configPKCS11_DEFAULT_USER_PIN): C_Login accepts
 *   exactly that PIN and refuses any other, and the token does not set
 *   CKF_LOGIN_REQUIRED, so private objects are usable without login, as
 *   firmware written against corePKCS11 expects.
 * - Once a user PIN is set (C_InitPIN by the SO, C_SetPIN, or
 *   lwss-provision --pin), CKF_LOGIN_REQUIRED is set and private objects
 *   (CKA_PRIVATE: private and secret keys always) are invisible to finds and
 *   unusable until C_Login(CKU_USER) with that PIN.
 * - PINs are LWSS_P11_PIN_MIN..LWSS_P11_PIN_MAX (4..64) bytes.  They are stored as PBKDF2-HMAC-SHA256 (16-byte
 *   random salt, LOGIN_ITERATIONS rounds) in internal NVM records of class
 *   LWSS_P11_CKO_INTERNAL, which no client can see, create or destroy.
 * - A wrong PIN gets CKR_PIN_INCORRECT.  Wrong PINs in a row are counted
 *   per user (user, SO) in the internal record "lwss:pin-tries", so across
 *   restarts; after LWSS_P11_PIN_MAX_TRIES of them that PIN is locked:
 *   C_Login, C_SetPIN (and for the SO C_InitToken) answer CKR_PIN_LOCKED
 *   without looking at the PIN.  The count is charged before the PIN is
 *   checked and cleared after a right one, so a kill or a power cut during
 *   the check costs a try instead of giving a free one (each update is one
 *   atomic record replace).  C_GetTokenInfo reports CKF_USER_PIN_COUNT_LOW
 *   (a wrong PIN since the last right one), _FINAL_TRY, _LOCKED and the SO_
 *   ones.  Only the SO unlocks a locked user PIN, by C_InitPIN (new PIN and
 *   a cleared count land together); a locked SO PIN stays locked.
 * - Login is per process (all sessions share it) and ends with C_Logout, the
 *   close of the last session, or C_Finalize.
 * - The token is initialised from the start (CKF_TOKEN_INITIALIZED) with
 *   SO PIN "0000" until the SO changes it (C_SetPIN logged in as SO).
 *   C_InitToken is therefore always a re-initialisation (v2.40 C_InitToken:
 *   "the pPin parameter is checked against the existing SO PIN"): it needs
 *   the current SO PIN, else CKR_PIN_INCORRECT and nothing changes; it
 *   erases every object and the user PIN and keeps the SO PIN.
 */
#include "src/pkcs11/token.h"

#include <mbedtls/pkcs5.h>
#include <mbedtls/platform_util.h>
#include <stdlib.h>
#include <string.h>

#define LOGIN_ITERATIONS LWSS_P11_PIN_HASH_ITERATIONS
#define SALT_LEN 16
#define HASH_LEN 32
#define DEFAULT_PIN LWSS_PKCS11_DEFAULT_PIN

static const char LABEL_USER_PIN[] = "lwss:user-pin";
static const char LABEL_SO_PIN[] = "lwss:so-pin";
static const char LABEL_TOKEN[] = "lwss:token-label";
static const char LABEL_TRIES[] = "lwss:pin-tries";

/* Serialises the read-charge-check-clear of the try counter. */
static pthread_mutex_t g_tries_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_mutex_t g_login_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_who = -1;

/* Handle of an internal record, 0 when absent.  Store lock held. */
static uint32_t internal_find(const char *label)
{
    return lwss_token_store_find((const uint8_t *)label, strlen(label), LWSS_P11_CKO_INTERNAL);
}

static CK_RV internal_save(const char *label, const uint8_t *data, size_t len)
{
    lwss_nvm_meta meta;
    memset(&meta, 0, sizeof(meta));
    meta.label_len = (uint32_t)strlen(label);
    memcpy(meta.label, label, meta.label_len);
    meta.cls = LWSS_P11_CKO_INTERNAL;
    meta.key_type = (uint32_t)CK_UNAVAILABLE_INFORMATION;
    meta.is_private = 1;
    return lwss_token_store_save(&meta, data, len, NULL);
}

static int pin_hash(const uint8_t *salt, const uint8_t *pin, size_t pin_len, uint8_t out[HASH_LEN])
{
    int ret = -1;
    mbedtls_md_context_t md;
    mbedtls_md_init(&md);
    if (mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1) != 0) {
        goto cleanup;
    }
    ret = mbedtls_pkcs5_pbkdf2_hmac(&md, pin, pin_len, salt, SALT_LEN, LOGIN_ITERATIONS, HASH_LEN,
                                    out);
cleanup:
    mbedtls_md_free(&md);
    return ret;
}

/* Compare without an early exit, so timing says nothing about the PIN. */
static int same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++) {
        diff |= (uint8_t)(a[i] ^ b[i]);
    }
    return diff == 0;
}

/* CKR_OK when @p pin is the PIN of record @p label (or the default when unset). */
static CK_RV pin_check(const char *label, const uint8_t *pin, size_t pin_len)
{
    uint8_t *rec = NULL;
    size_t rec_len = 0;
    uint8_t hash[HASH_LEN];
    CK_RV rv = CKR_PIN_INCORRECT;
    lwss_p11_store_lock();
    uint32_t h = internal_find(label);
    CK_RV got = h != 0 ? lwss_token_store_get_value(h, &rec, &rec_len) : CKR_OBJECT_HANDLE_INVALID;
    lwss_p11_store_unlock();
    if (h == 0) {
        size_t dlen = strlen(DEFAULT_PIN);
        if (pin_len == dlen && same_bytes(pin, (const uint8_t *)DEFAULT_PIN, dlen)) {
            rv = CKR_OK;
        }
        return rv;
    }
    if (got != CKR_OK || rec_len != SALT_LEN + HASH_LEN) {
        rv = CKR_DEVICE_ERROR;
    } else if (pin_hash(rec, pin, pin_len, hash) != 0) {
        rv = CKR_FUNCTION_FAILED;
    } else if (same_bytes(hash, rec + SALT_LEN, HASH_LEN)) {
        rv = CKR_OK;
    }
    mbedtls_platform_zeroize(hash, sizeof(hash));
    if (rec != NULL) {
        lwss_token_store_free_value(rec, rec_len);
    }
    return rv;
}

/* Wrong PINs in a row of the user [0] and the SO [1] (0 when no record). */
static void tries_get(uint32_t tries[2])
{
    uint8_t *rec = NULL;
    size_t rec_len = 0;
    tries[0] = tries[1] = 0;
    lwss_p11_store_lock();
    uint32_t h = internal_find(LABEL_TRIES);
    CK_RV got = h != 0 ? lwss_token_store_get_value(h, &rec, &rec_len) : CKR_OBJECT_HANDLE_INVALID;
    lwss_p11_store_unlock();
    if (got == CKR_OK && rec_len == 8) {
        for (int i = 0; i < 2; i++) {
            tries[i] = (uint32_t)rec[4 * i] | (uint32_t)rec[4 * i + 1] << 8 |
                       (uint32_t)rec[4 * i + 2] << 16 | (uint32_t)rec[4 * i + 3] << 24;
        }
    }
    if (rec != NULL) {
        lwss_token_store_free_value(rec, rec_len);
    }
}

/* One atomic replace of the counter record. */
static CK_RV tries_put(const uint32_t tries[2])
{
    uint8_t rec[8];
    for (int i = 0; i < 2; i++) {
        for (int b = 0; b < 4; b++) {
            rec[4 * i + b] = (uint8_t)(tries[i] >> (8 * b));
        }
    }
    lwss_p11_store_lock();
    CK_RV rv = internal_save(LABEL_TRIES, rec, sizeof(rec));
    lwss_p11_store_unlock();
    return rv;
}

/* Set the count of @p who (0 user, 1 SO) to @p n. */
static CK_RV tries_set(int who, uint32_t n)
{
    uint32_t tries[2];
    tries_get(tries);
    if (tries[who] == n) {
        return CKR_OK;
    }
    tries[who] = n;
    return tries_put(tries);
}

/* pin_check with the try counter of @p user_type: CKR_PIN_LOCKED once
 * LWSS_P11_PIN_MAX_TRIES wrong PINs came in a row (see the header). */
static CK_RV pin_verify(CK_USER_TYPE user_type, const uint8_t *pin, size_t pin_len)
{
    int who = user_type == CKU_SO ? 1 : 0;
    lwss_os_lock(&g_tries_lock);
    uint32_t tries[2];
    tries_get(tries);
    uint32_t before = tries[who];
    CK_RV rv = CKR_PIN_LOCKED;
    if (before >= LWSS_P11_PIN_MAX_TRIES) {
        goto cleanup;
    }
    tries[who] = before + 1;
    rv = tries_put(tries); /* charged first: a cut during the check costs the try */
    if (rv != CKR_OK) {
        goto cleanup;
    }
    rv = pin_check(who ? LABEL_SO_PIN : LABEL_USER_PIN, pin, pin_len);
    if (rv == CKR_OK) {
        tries[who] = 0;
        rv = tries_put(tries);
    } else if (rv != CKR_PIN_INCORRECT) {
        tries[who] = before; /* no verdict on the PIN: give the try back */
        (void)tries_put(tries);
    }
cleanup:
    pthread_mutex_unlock(&g_tries_lock);
    return rv;
}

CK_FLAGS lwss_p11_pin_flags(void)
{
    uint32_t tries[2];
    lwss_os_lock(&g_tries_lock);
    tries_get(tries);
    pthread_mutex_unlock(&g_tries_lock);
    static const CK_FLAGS f[2][3] = {
        {CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY, CKF_USER_PIN_LOCKED},
        {CKF_SO_PIN_COUNT_LOW, CKF_SO_PIN_FINAL_TRY, CKF_SO_PIN_LOCKED},
    };
    CK_FLAGS out = 0;
    for (int i = 0; i < 2; i++) {
        if (tries[i] >= LWSS_P11_PIN_MAX_TRIES) {
            out |= f[i][2];
        } else if (tries[i] > 0) {
            out |= f[i][0];
        }
        if (tries[i] + 1 == LWSS_P11_PIN_MAX_TRIES) {
            out |= f[i][1];
        }
    }
    return out;
}

static CK_RV pin_set(const char *label, const uint8_t *pin, size_t pin_len)
{
    uint8_t rec[SALT_LEN + HASH_LEN];
    CK_RV rv = CKR_FUNCTION_FAILED;
    if (pin == NULL || pin_len < LWSS_P11_PIN_MIN || pin_len > LWSS_P11_PIN_MAX) {
        return CKR_PIN_LEN_RANGE;
    }
    if (lwss_p11_random(NULL, rec, SALT_LEN) != 0 || pin_hash(rec, pin, pin_len, rec + SALT_LEN)) {
        goto cleanup;
    }
    lwss_p11_store_lock();
    rv = internal_save(label, rec, sizeof(rec));
    lwss_p11_store_unlock();
cleanup:
    mbedtls_platform_zeroize(rec, sizeof(rec));
    return rv;
}

int lwss_p11_login_required(void)
{
    lwss_p11_store_lock();
    int set = internal_find(LABEL_USER_PIN) != 0;
    lwss_p11_store_unlock();
    return set;
}

int lwss_p11_login_state(void)
{
    lwss_os_lock(&g_login_lock);
    int who = g_who;
    pthread_mutex_unlock(&g_login_lock);
    return who;
}

int lwss_p11_private_ok(void)
{
    return lwss_p11_login_state() == CKU_USER || !lwss_p11_login_required();
}

void lwss_p11_logout_all(void)
{
    lwss_os_lock(&g_login_lock);
    g_who = -1;
    pthread_mutex_unlock(&g_login_lock);
}

void lwss_p11_token_label(unsigned char out[32])
{
    uint8_t *rec = NULL;
    size_t rec_len = 0;
    memset(out, ' ', 32);
    lwss_p11_store_lock();
    uint32_t h = internal_find(LABEL_TOKEN);
    CK_RV got = h != 0 ? lwss_token_store_get_value(h, &rec, &rec_len) : CKR_OBJECT_HANDLE_INVALID;
    lwss_p11_store_unlock();
    if (got == CKR_OK && rec_len == 32) {
        memcpy(out, rec, 32);
    } else {
        memcpy(out, "lwss", 4);
    }
    if (rec != NULL) {
        lwss_token_store_free_value(rec, rec_len);
    }
}

CK_RV C_Login(CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin,
              CK_ULONG ulPinLen)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    CK_ULONG all = 0;
    CK_ULONG rw = 0;
    lwss_p11_session_counts(&all, &rw);
    lwss_os_lock(&g_login_lock);
    if (userType == CKU_CONTEXT_SPECIFIC) {
        rv = CKR_OPERATION_NOT_INITIALIZED; /* no key asks for re-authentication */
    } else if (userType != CKU_USER && userType != CKU_SO) {
        rv = CKR_USER_TYPE_INVALID;
    } else if (pPin == NULL && ulPinLen > 0) {
        rv = CKR_ARGUMENTS_BAD;
    } else if (g_who == (int)userType) {
        rv = CKR_USER_ALREADY_LOGGED_IN;
    } else if (g_who != -1) {
        rv = CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
    } else if (userType == CKU_SO && all > rw) {
        rv = CKR_SESSION_READ_ONLY_EXISTS;
    } else {
        rv = pin_verify(userType, pPin, ulPinLen);
        if (rv == CKR_OK) {
            g_who = (int)userType;
        }
    }
    pthread_mutex_unlock(&g_login_lock);
    lwss_p11_session_put(s);
    return rv;
}

CK_RV C_Logout(CK_SESSION_HANDLE hSession)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    lwss_os_lock(&g_login_lock);
    rv = g_who == -1 ? CKR_USER_NOT_LOGGED_IN : CKR_OK;
    g_who = -1;
    pthread_mutex_unlock(&g_login_lock);
    lwss_p11_session_put(s);
    return rv;
}

/* Destroy every object and the user PIN; keep the SO PIN.  Store lock held. */
static CK_RV erase_objects(void)
{
    size_t total = 0;
    CK_RV rv = lwss_token_store_list(NULL, 0, &total);
    if (rv != CKR_OK) {
        return rv;
    }
    uint32_t *handles = calloc(total + 1, sizeof(*handles));
    if (handles == NULL) {
        return CKR_HOST_MEMORY;
    }
    size_t n = 0;
    rv = lwss_token_store_list(handles, total, &n);
    for (size_t i = 0; rv == CKR_OK && i < n && i < total; i++) {
        lwss_nvm_meta meta;
        if (lwss_token_store_get_meta(handles[i], &meta) != CKR_OK) {
            continue;
        }
        int keep = meta.cls == LWSS_P11_CKO_INTERNAL && meta.label_len == strlen(LABEL_SO_PIN) &&
                   memcmp(meta.label, LABEL_SO_PIN, meta.label_len) == 0;
        if (!keep) {
            rv = lwss_token_store_destroy(handles[i]);
        }
    }
    free(handles);
    return rv;
}

CK_RV C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
                  CK_UTF8CHAR_PTR pLabel)
{
    CK_RV rv = lwss_p11_check_init();
    if (rv != CKR_OK) {
        return rv;
    }
    if (slotID != LWSS_P11_SLOT_ID) {
        return CKR_SLOT_ID_INVALID;
    }
    if (pLabel == NULL || (pPin == NULL && ulPinLen > 0)) {
        return CKR_ARGUMENTS_BAD;
    }
    CK_ULONG all = 0;
    CK_ULONG rw = 0;
    lwss_p11_session_counts(&all, &rw);
    if (all > 0) {
        return CKR_SESSION_EXISTS;
    }
    rv = pin_verify(CKU_SO, pPin, ulPinLen); /* the default "0000" while none is set */
    if (rv != CKR_OK) {
        return rv;
    }
    rv = lwss_token_store_begin(); /* every object goes, or none */
    if (rv != CKR_OK) {
        return rv;
    }
    lwss_p11_store_lock();
    rv = erase_objects();
    if (rv == CKR_OK) {
        rv = internal_save(LABEL_TOKEN, pLabel, 32);
    }
    lwss_p11_store_unlock();
    if (rv != CKR_OK) {
        lwss_token_store_abort();
        return rv;
    }
    lwss_p11_obj_alias_clear(); /* every object went */
    return lwss_token_store_commit();
}

CK_RV C_InitPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    if (lwss_p11_login_state() != CKU_SO) {
        rv = CKR_USER_NOT_LOGGED_IN;
    } else if (!(s->flags & CKF_RW_SESSION)) {
        rv = CKR_SESSION_READ_ONLY;
    } else {
        rv = lwss_token_store_begin(); /* the new PIN and the cleared count land together */
        if (rv == CKR_OK) {
            rv = pin_set(LABEL_USER_PIN, pPin, ulPinLen);
            lwss_os_lock(&g_tries_lock);
            if (rv == CKR_OK) {
                rv = tries_set(0, 0); /* the SO unlocks the user PIN */
            }
            if (rv == CKR_OK) {
                rv = lwss_token_store_commit();
            } else {
                lwss_token_store_abort();
            }
            pthread_mutex_unlock(&g_tries_lock);
        }
    }
    lwss_p11_session_put(s);
    return rv;
}

CK_RV C_SetPIN(CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen,
               CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    CK_USER_TYPE who = lwss_p11_login_state() == CKU_SO ? CKU_SO : CKU_USER;
    const char *label = who == CKU_SO ? LABEL_SO_PIN : LABEL_USER_PIN;
    if (!(s->flags & CKF_RW_SESSION)) {
        rv = CKR_SESSION_READ_ONLY;
    } else if (pOldPin == NULL && ulOldLen > 0) {
        rv = CKR_ARGUMENTS_BAD;
    } else {
        rv = pin_verify(who, pOldPin, ulOldLen);
    }
    if (rv == CKR_OK) {
        rv = lwss_token_store_begin(); /* the new PIN record lands whole, or not */
    }
    if (rv == CKR_OK) {
        rv = pin_set(label, pNewPin, ulNewLen);
        if (rv != CKR_OK) {
            lwss_token_store_abort();
        } else {
            rv = lwss_token_store_commit();
        }
    }
    lwss_p11_session_put(s);
    return rv;
}
