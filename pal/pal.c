/* PKCS11_PAL_*: the corePKCS11 calls over the token's storage seam
 * (src/pkcs11/token_store.h, implemented by pal/token_store.c, which
 * translates storage statuses to CK_RV).  Only the reference-label to
 * class mapping lives here. */
#include "core_pkcs11_pal.h"
#include "src/pkcs11/token_store.h"
#include "lwss/nvm.h"
#include "lwss/status.h"

#include "src/core/core.h"

#include <string.h>

/* CK_UNAVAILABLE_INFORMATION as the 32 bits a record keeps. */
#define PAL_NO_KEY_TYPE 0xFFFFFFFFu

/* What a reference label stands for; other labels are CKO_DATA. */
typedef struct {
    const char *label;
    CK_OBJECT_CLASS cls;
    uint32_t key_type;
    CK_BBOOL is_private;
} pal_label_class;

static const pal_label_class pal_labels[] = {
    {pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS, CKO_PRIVATE_KEY, PAL_NO_KEY_TYPE, 1},
    {pkcs11configLABEL_DEVICE_PUBLIC_KEY_FOR_TLS, CKO_PUBLIC_KEY, PAL_NO_KEY_TYPE, 0},
    {pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS, CKO_CERTIFICATE, PAL_NO_KEY_TYPE, 0},
    {pkcs11configLABEL_CODE_VERIFICATION_KEY, CKO_PUBLIC_KEY, PAL_NO_KEY_TYPE, 0},
    {pkcs11configLABEL_HMAC_KEY, CKO_SECRET_KEY, CKK_SHA256_HMAC, 1},
    {pkcs11configLABEL_CMAC_KEY, CKO_SECRET_KEY, CKK_AES, 1},
    {pkcs11configLABEL_CLAIM_PRIVATE_KEY, CKO_PRIVATE_KEY, PAL_NO_KEY_TYPE, 1},
    {pkcs11configLABEL_CLAIM_CERTIFICATE, CKO_CERTIFICATE, PAL_NO_KEY_TYPE, 0},
    {pkcs11configLABEL_JITP_CERTIFICATE, CKO_CERTIFICATE, PAL_NO_KEY_TYPE, 0},
    {pkcs11configLABEL_ROOT_CERTIFICATE, CKO_CERTIFICATE, PAL_NO_KEY_TYPE, 0},
};

/* Callers differ on whether the length counts the terminating NUL. */
static size_t label_length(const CK_BYTE *label, size_t len)
{
    while (len > 0 && label[len - 1] == '\0') {
        len--;
    }
    return len;
}

static const pal_label_class *known_label(const CK_BYTE *label, size_t len)
{
    for (size_t i = 0; i < sizeof(pal_labels) / sizeof(pal_labels[0]); i++) {
        if (strlen(pal_labels[i].label) == len && memcmp(pal_labels[i].label, label, len) == 0) {
            return &pal_labels[i];
        }
    }
    return NULL;
}

/* The reference PAL works without PKCS11_PAL_Initialize; so does this one. */
static CK_RV ensure_open(void)
{
    return lwss_token_store_open();
}

CK_RV PKCS11_PAL_Initialize(void)
{
    return ensure_open();
}

CK_OBJECT_HANDLE PKCS11_PAL_SaveObject(CK_ATTRIBUTE_PTR pxLabel, CK_BYTE_PTR pucData,
                                       CK_ULONG ulDataSize)
{
    if (pxLabel == NULL || pxLabel->pValue == NULL || pucData == NULL || ulDataSize == 0) {
        lwss_set_error(LWSS_ERR_INVAL, "pal: NULL label or empty object");
        return CK_INVALID_HANDLE;
    }
    size_t len = label_length(pxLabel->pValue, pxLabel->ulValueLen);
    if (len == 0 || len > LWSS_NVM_LABEL_MAX) {
        lwss_set_error(LWSS_ERR_INVAL, "pal: label of %lu bytes (1..%u)", pxLabel->ulValueLen,
                       LWSS_NVM_LABEL_MAX);
        return CK_INVALID_HANDLE;
    }
    lwss_nvm_meta meta;
    memset(&meta, 0, sizeof(meta));
    memcpy(meta.label, pxLabel->pValue, len);
    meta.label_len = (uint32_t)len;
    const pal_label_class *known = known_label(meta.label, len);
    meta.cls = known != NULL ? (uint32_t)known->cls : (uint32_t)CKO_DATA;
    meta.key_type = known != NULL ? known->key_type : PAL_NO_KEY_TYPE;
    meta.is_private = known != NULL ? known->is_private : 0;
    uint32_t h = 0;
    if (ensure_open() != CKR_OK ||
        lwss_token_store_save(&meta, pucData, ulDataSize, &h) != CKR_OK) {
        return CK_INVALID_HANDLE;
    }
    return h;
}

CK_OBJECT_HANDLE PKCS11_PAL_FindObject(CK_BYTE_PTR pxLabel, CK_ULONG usLength)
{
    if (pxLabel == NULL) {
        return CK_INVALID_HANDLE;
    }
    size_t len = label_length(pxLabel, usLength);
    if (len == 0 || len > LWSS_NVM_LABEL_MAX || ensure_open() != CKR_OK) {
        return CK_INVALID_HANDLE;
    }
    const pal_label_class *known = known_label(pxLabel, len);
    uint32_t h = known != NULL ? lwss_token_store_find(pxLabel, len, (uint32_t)known->cls) : 0u;
    return h != 0 ? h : lwss_token_store_find(pxLabel, len, LWSS_NVM_ANY_CLASS);
}

CK_RV PKCS11_PAL_GetObjectValue(CK_OBJECT_HANDLE xHandle, CK_BYTE_PTR *ppucData,
                                CK_ULONG_PTR pulDataSize, CK_BBOOL *pIsPrivate)
{
    if (ppucData == NULL || pulDataSize == NULL || pIsPrivate == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    *ppucData = NULL;
    *pulDataSize = 0;
    if (xHandle == CK_INVALID_HANDLE || xHandle > 0xFFFFFFFFul) {
        return CKR_OBJECT_HANDLE_INVALID;
    }
    CK_RV rv = ensure_open();
    if (rv != CKR_OK) {
        return rv;
    }
    lwss_nvm_meta meta;
    if (lwss_token_store_get_meta((uint32_t)xHandle, &meta) != CKR_OK) {
        return CKR_OBJECT_HANDLE_INVALID;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    rv = lwss_token_store_get_value((uint32_t)xHandle, &data, &len);
    if (rv != CKR_OK) {
        return rv;
    }
    *ppucData = data;
    *pulDataSize = len;
    *pIsPrivate = meta.is_private ? CK_TRUE : CK_FALSE;
    return CKR_OK;
}

void PKCS11_PAL_GetObjectValueCleanup(CK_BYTE_PTR pucData, CK_ULONG ulDataSize)
{
    lwss_token_store_free_value(pucData, ulDataSize);
}

CK_RV PKCS11_PAL_DestroyObject(CK_OBJECT_HANDLE xHandle)
{
    if (xHandle == CK_INVALID_HANDLE || xHandle > 0xFFFFFFFFul) {
        return CKR_OBJECT_HANDLE_INVALID;
    }
    CK_RV rv = ensure_open();
    return rv != CKR_OK ? rv : lwss_token_store_destroy((uint32_t)xHandle);
}
