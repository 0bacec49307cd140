/*
 * Library, slot and token information; C_Initialize / C_Finalize.
 *
 * One slot (ID 0) holding one token: the NVM image (lwss/nvm.h), reached
 * only through the storage seam (token_store.h).  The image
 * is opened by C_Initialize and closed by C_Finalize, so its path must be
 * set (lwss_nvm_set_path or $LWSS_NVM) before C_Initialize.
 *
 * fork() (v2.40 5.4): the child inherits an uninitialised library and must
 * call C_Initialize, which succeeds.  It drops the parent's sessions and
 * closes its copy of the image descriptor (close, never LOCK_UN: the flock
 * belongs to the open file description the parent still uses), and opens
 * the image itself at its first C_OpenSession, since the parent normally
 * still holds the lock; that open waits at most LWSS_NVM_LOCK_MS.
 */
#include "src/pkcs11/token.h"

#include "src/core/core.h"

#include <stdatomic.h>
#include <string.h>

static atomic_int g_initialized;
static atomic_int g_inherited;     /* initialised in the parent of this forked child */
static atomic_int g_store_pending; /* the image is opened at the first session */
static pthread_mutex_t g_init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_store_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

/* Every mechanism the token really implements, with its CK_MECHANISM_INFO
 * (no CKF_HW: this is a software token). */
static const struct {
    CK_MECHANISM_TYPE type;
    CK_MECHANISM_INFO info;
} g_mechs[] = {
    {CKM_EC_KEY_PAIR_GEN,
     {256, 384, CKF_GENERATE_KEY_PAIR | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS}},
    {CKM_ECDSA,
     {256, 384, CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS}},
    {CKM_RSA_PKCS_KEY_PAIR_GEN, {2048, 4096, CKF_GENERATE_KEY_PAIR}},
    {CKM_RSA_PKCS,
     {2048, 4096, CKF_SIGN | CKF_VERIFY | CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP}},
    {CKM_RSA_PKCS_OAEP, {2048, 4096, CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP}},
    {CKM_RSA_X_509, {2048, 4096, CKF_SIGN | CKF_VERIFY}},
    {CKM_SHA256, {0, 0, CKF_DIGEST}},
    {CKM_SHA256_HMAC, {1, 64, CKF_SIGN | CKF_VERIFY}},
    {CKM_AES_CMAC, {16, 32, CKF_SIGN | CKF_VERIFY}},
    /* secret keys (secret_key.c) and ciphers (cipher_sym.c); sizes in bytes */
    {CKM_AES_KEY_GEN, {16, 32, CKF_GENERATE}},
    {CKM_DES3_KEY_GEN, {24, 24, CKF_GENERATE}},
    {CKM_GENERIC_SECRET_KEY_GEN, {1, 128, CKF_GENERATE}},
    {CKM_AES_ECB, {16, 32, CKF_ENCRYPT | CKF_DECRYPT}},
    {CKM_AES_CBC, {16, 32, CKF_ENCRYPT | CKF_DECRYPT}},
    {CKM_AES_CBC_PAD, {16, 32, CKF_ENCRYPT | CKF_DECRYPT}},
    {CKM_AES_CTR, {16, 32, CKF_ENCRYPT | CKF_DECRYPT}},
    {CKM_AES_GCM, {16, 32, CKF_ENCRYPT | CKF_DECRYPT}},
    {CKM_DES3_ECB, {24, 24, CKF_ENCRYPT | CKF_DECRYPT}},
    {CKM_DES3_CBC, {24, 24, CKF_ENCRYPT | CKF_DECRYPT}},
    {CKM_DES3_CBC_PAD, {24, 24, CKF_ENCRYPT | CKF_DECRYPT}},
    {CKM_AES_KEY_WRAP, {16, 32, CKF_WRAP | CKF_UNWRAP}},     /* wrap.c, aes_kw.c */
    {CKM_AES_KEY_WRAP_PAD, {16, 32, CKF_WRAP | CKF_UNWRAP}},
    {CKM_ECDSA_SHA1,
     {256, 384, CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS}},
    {CKM_ECDSA_SHA224,
     {256, 384, CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS}},
    {CKM_ECDSA_SHA256,
     {256, 384, CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS}},
    {CKM_ECDSA_SHA384,
     {256, 384, CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS}},
    {CKM_ECDSA_SHA512,
     {256, 384, CKF_SIGN | CKF_VERIFY | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS}},
    {CKM_SHA1_RSA_PKCS, {2048, 4096, CKF_SIGN | CKF_VERIFY}},
    {CKM_SHA224_RSA_PKCS, {2048, 4096, CKF_SIGN | CKF_VERIFY}},
    {CKM_SHA256_RSA_PKCS, {2048, 4096, CKF_SIGN | CKF_VERIFY}},
    {CKM_SHA384_RSA_PKCS, {2048, 4096, CKF_SIGN | CKF_VERIFY}},
    {CKM_SHA512_RSA_PKCS, {2048, 4096, CKF_SIGN | CKF_VERIFY}},
    {CKM_RSA_PKCS_PSS, {2048, 4096, CKF_SIGN | CKF_VERIFY}},
    {CKM_SHA1_RSA_PKCS_PSS, {2048, 4096, CKF_SIGN | CKF_VERIFY}},
    {CKM_SHA224_RSA_PKCS_PSS, {2048, 4096, CKF_SIGN | CKF_VERIFY}},
    {CKM_SHA256_RSA_PKCS_PSS, {2048, 4096, CKF_SIGN | CKF_VERIFY}},
    {CKM_SHA384_RSA_PKCS_PSS, {2048, 4096, CKF_SIGN | CKF_VERIFY}},
    {CKM_SHA512_RSA_PKCS_PSS, {2048, 4096, CKF_SIGN | CKF_VERIFY}},
    {CKM_SHA_1, {0, 0, CKF_DIGEST}},
    {CKM_SHA224, {0, 0, CKF_DIGEST}},
    {CKM_SHA384, {0, 0, CKF_DIGEST}},
    {CKM_SHA512, {0, 0, CKF_DIGEST}},
    {CKM_SHA_1_HMAC, {1, 64, CKF_SIGN | CKF_VERIFY}},
    {CKM_SHA224_HMAC, {1, 64, CKF_SIGN | CKF_VERIFY}},
    {CKM_SHA384_HMAC, {1, 64, CKF_SIGN | CKF_VERIFY}},
    {CKM_SHA512_HMAC, {1, 64, CKF_SIGN | CKF_VERIFY}},
    {CKM_ECDH1_DERIVE,
     {256, 384, CKF_DERIVE | CKF_EC_F_P | CKF_EC_NAMEDCURVE | CKF_EC_UNCOMPRESS}},
};
#define MECH_COUNT (sizeof(g_mechs) / sizeof(g_mechs[0]))

CK_RV lwss_p11_check_init(void)
{
    return atomic_load(&g_initialized) ? CKR_OK : CKR_CRYPTOKI_NOT_INITIALIZED;
}

void lwss_p11_store_lock(void)
{
    lwss_os_lock(&g_store_lock);
}

void lwss_p11_store_unlock(void)
{
    pthread_mutex_unlock(&g_store_lock);
}

/* Held across fork() so that the child's copies are consistent (no
 * thread was half-way through an NVM call or C_Initialize). */
static void fork_prepare(void)
{
    pthread_mutex_lock(&g_init_lock);
    pthread_mutex_lock(&g_store_lock);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&g_store_lock);
    pthread_mutex_unlock(&g_init_lock);
}

static void fork_child(void)
{
    atomic_store(&g_inherited, atomic_load(&g_initialized));
    atomic_store(&g_initialized, 0);
    pthread_mutex_unlock(&g_store_lock);
    pthread_mutex_unlock(&g_init_lock);
}

static void register_atfork(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* In a forked child: forget what the parent's C_Initialize set up. */
static void drop_inherited(void)
{
    lwss_p11_session_forget_all();
    lwss_p11_key_cache_clear();
    lwss_p11_logout_all();
    lwss_p11_obj_alias_clear(); /* store handles are renumbered at the next open */
    lwss_p11_store_lock();
    lwss_token_store_close(); /* closes our copy of the descriptor; the parent keeps its lock */
    lwss_p11_store_unlock();
    lwss_p11_random_free();
    atomic_store(&g_inherited, 0);
    atomic_store(&g_store_pending, 1);
}

CK_RV lwss_p11_store_ready(void)
{
    if (!atomic_load(&g_store_pending)) {
        return CKR_OK;
    }
    lwss_p11_store_lock();
    CK_RV ret = atomic_load(&g_store_pending) ? lwss_token_store_open() : CKR_OK;
    if (ret == CKR_OK) {
        atomic_store(&g_store_pending, 0);
    }
    lwss_p11_store_unlock();
    return ret;
}

/* We always lock with pthreads: accept the OS-locking flag, or no mutex
 * callbacks at all; callbacks without CKF_OS_LOCKING_OK we cannot honour. */
static CK_RV check_init_args(const CK_C_INITIALIZE_ARGS *args)
{
    if (args == NULL) {
        return CKR_OK;
    }
    if (args->pReserved != NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    int any = args->CreateMutex != NULL || args->DestroyMutex != NULL ||
              args->LockMutex != NULL || args->UnlockMutex != NULL;
    int all = args->CreateMutex != NULL && args->DestroyMutex != NULL &&
              args->LockMutex != NULL && args->UnlockMutex != NULL;
    if (any && !all) {
        return CKR_ARGUMENTS_BAD;
    }
    if (all && !(args->flags & CKF_OS_LOCKING_OK)) {
        return CKR_CANT_LOCK;
    }
    return CKR_OK;
}

CK_RV C_Initialize(CK_VOID_PTR pInitArgs)
{
    CK_RV rv = check_init_args((const CK_C_INITIALIZE_ARGS *)pInitArgs);
    if (rv != CKR_OK) {
        return rv;
    }
    pthread_once(&g_atfork_once, register_atfork);
    lwss_os_lock(&g_init_lock);
    if (atomic_load(&g_initialized)) {
        rv = CKR_CRYPTOKI_ALREADY_INITIALIZED;
        goto cleanup;
    }
    int child = atomic_load(&g_inherited);
    if (child) {
        drop_inherited();
    }
    rv = lwss_p11_random_init();
    if (rv != CKR_OK) {
        goto cleanup;
    }
    lwss_p11_store_lock();
    CK_RV ret = child ? CKR_OK : lwss_token_store_open();
    lwss_p11_store_unlock();
    if (ret != CKR_OK) {
        lwss_p11_random_free();
        rv = CKR_DEVICE_ERROR;
        goto cleanup;
    }
    lwss_p11_logout_all();
    atomic_store(&g_initialized, 1);
cleanup:
    pthread_mutex_unlock(&g_init_lock);
    return rv;
}

CK_RV C_Finalize(CK_VOID_PTR pReserved)
{
    if (pReserved != NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    lwss_os_lock(&g_init_lock);
    if (!atomic_load(&g_initialized)) {
        pthread_mutex_unlock(&g_init_lock);
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    atomic_store(&g_initialized, 0);
    lwss_p11_session_close_all();
    lwss_p11_key_cache_clear(); /* after the sessions gave theirs back */
    lwss_p11_logout_all();
    lwss_p11_obj_alias_clear(); /* store handles are renumbered at the next open */
    lwss_p11_store_lock();
    lwss_token_store_close();
    atomic_store(&g_store_pending, 0);
    lwss_p11_store_unlock();
    lwss_p11_random_free();
    pthread_mutex_unlock(&g_init_lock);
    return CKR_OK;
}

/* Copy @p s blank padded, without NUL, as CK_*_INFO strings want. */
static void pad_copy(unsigned char *dst, size_t dst_len, const char *s)
{
    size_t n = strlen(s);
    memset(dst, ' ', dst_len);
    memcpy(dst, s, n < dst_len ? n : dst_len);
}

CK_RV C_GetInfo(CK_INFO_PTR pInfo)
{
    CK_RV rv = lwss_p11_check_init();
    if (rv != CKR_OK) {
        return rv;
    }
    if (pInfo == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    memset(pInfo, 0, sizeof(*pInfo));
    pInfo->cryptokiVersion.major = 2;
    pInfo->cryptokiVersion.minor = 40;
    pad_copy(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "lwss");
    pad_copy(pInfo->libraryDescription, sizeof(pInfo->libraryDescription),
             "lwss PKCS#11 software token");
    pInfo->libraryVersion.major = 0;
    pInfo->libraryVersion.minor = 1;
    return CKR_OK;
}

/* The PKCS #11 list convention: NULL asks for the count, a short buffer
 * gets CKR_BUFFER_TOO_SMALL with the count, otherwise the list. */
static CK_RV answer_list(const CK_ULONG *items, CK_ULONG n, CK_ULONG *out, CK_ULONG_PTR count)
{
    if (out != NULL && *count < n) {
        *count = n;
        return CKR_BUFFER_TOO_SMALL;
    }
    if (out != NULL) {
        memcpy(out, items, n * sizeof(*items));
    }
    *count = n;
    return CKR_OK;
}

CK_RV C_GetSlotList(CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount)
{
    (void)tokenPresent; /* the token is always present */
    CK_RV rv = lwss_p11_check_init();
    if (rv != CKR_OK) {
        return rv;
    }
    if (pulCount == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    static const CK_ULONG slots[1] = {LWSS_P11_SLOT_ID};
    return answer_list(slots, 1, pSlotList, pulCount);
}

static CK_RV check_slot(CK_SLOT_ID slot)
{
    CK_RV rv = lwss_p11_check_init();
    if (rv != CKR_OK) {
        return rv;
    }
    return slot == LWSS_P11_SLOT_ID ? CKR_OK : CKR_SLOT_ID_INVALID;
}

CK_RV C_GetSlotInfo(CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo)
{
    CK_RV rv = check_slot(slotID);
    if (rv != CKR_OK) {
        return rv;
    }
    if (pInfo == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    memset(pInfo, 0, sizeof(*pInfo));
    pad_copy(pInfo->slotDescription, sizeof(pInfo->slotDescription), "lwss NVM image");
    pad_copy(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "lwss");
    pInfo->flags = CKF_TOKEN_PRESENT;
    return CKR_OK;
}

CK_RV C_GetTokenInfo(CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo)
{
    CK_RV rv = check_slot(slotID);
    if (rv != CKR_OK) {
        return rv;
    }
    if (pInfo == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    memset(pInfo, 0, sizeof(*pInfo));
    lwss_p11_token_label(pInfo->label);
    pad_copy(pInfo->manufacturerID, sizeof(pInfo->manufacturerID), "lwss");
    pad_copy(pInfo->model, sizeof(pInfo->model), "soft-nvm");
    pad_copy(pInfo->serialNumber, sizeof(pInfo->serialNumber), "0000000000000001");
    pInfo->flags = CKF_RNG | CKF_TOKEN_INITIALIZED | CKF_USER_PIN_INITIALIZED |
                   lwss_p11_pin_flags();
    if (lwss_p11_login_required()) {
        pInfo->flags |= CKF_LOGIN_REQUIRED;
    }
    CK_ULONG all = 0;
    CK_ULONG rw = 0;
    lwss_p11_session_counts(&all, &rw);
    pInfo->ulMaxSessionCount = LWSS_P11_MAX_SESSIONS;
    pInfo->ulSessionCount = all;
    pInfo->ulMaxRwSessionCount = LWSS_P11_MAX_SESSIONS;
    pInfo->ulRwSessionCount = rw;
    pInfo->ulMaxPinLen = LWSS_P11_PIN_MAX;
    pInfo->ulMinPinLen = LWSS_P11_PIN_MIN;
    pInfo->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
    pInfo->firmwareVersion.minor = 1;
    return CKR_OK;
}

CK_RV C_GetMechanismList(CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList,
                         CK_ULONG_PTR pulCount)
{
    CK_RV rv = check_slot(slotID);
    if (rv != CKR_OK) {
        return rv;
    }
    if (pulCount == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    CK_ULONG types[MECH_COUNT];
    for (size_t i = 0; i < MECH_COUNT; i++) {
        types[i] = g_mechs[i].type;
    }
    return answer_list(types, MECH_COUNT, pMechanismList, pulCount);
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR pInfo)
{
    CK_RV rv = check_slot(slotID);
    if (rv != CKR_OK) {
        return rv;
    }
    if (pInfo == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    for (size_t i = 0; i < MECH_COUNT; i++) {
        if (g_mechs[i].type == type) {
            *pInfo = g_mechs[i].info;
            return CKR_OK;
        }
    }
    return CKR_MECHANISM_INVALID;
}
