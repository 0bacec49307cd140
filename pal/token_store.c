/*
 * The token's storage seam (src/pkcs11/token_store.h) over the NVM image of
 * lwss/nvm.h.  This is the file to replace to put the token on a real flash
 * part.  Storage statuses become CK_RV here and nowhere else.
 */
#include "src/pkcs11/token_store.h"
#include "lwss/status.h"

/*
 * One translation for every call.  LWSS_ERR_INVAL means "no such handle"
 * for the calls that take one; a save reports it for a record the image
 * cannot hold, which the token sees as a device error.
 */
static CK_RV to_ck(int status, CK_RV on_inval)
{
    switch (status) {
    case LWSS_OK: return CKR_OK;
    case LWSS_ERR_INVAL: return on_inval;
    case LWSS_ERR_NOMEM: return CKR_HOST_MEMORY;
    case LWSS_NVM_ERR_FULL: return CKR_DEVICE_MEMORY;
    default: return CKR_DEVICE_ERROR;
    }
}

CK_RV lwss_token_store_open(void)
{
    return lwss_nvm_open(NULL) == LWSS_OK ? CKR_OK : CKR_DEVICE_ERROR;
}

void lwss_token_store_close(void)
{
    lwss_nvm_close();
}

CK_RV lwss_token_store_list(uint32_t *handles, size_t max, size_t *count)
{
    return to_ck(lwss_nvm_list(handles, max, count), CKR_DEVICE_ERROR);
}

uint32_t lwss_token_store_find(const uint8_t *label, size_t label_len, uint32_t cls)
{
    return lwss_nvm_find(label, label_len, cls);
}

CK_RV lwss_token_store_get_meta(uint32_t handle, lwss_nvm_meta *meta)
{
    return to_ck(lwss_nvm_get_meta(handle, meta), CKR_OBJECT_HANDLE_INVALID);
}

CK_RV lwss_token_store_get_value(uint32_t handle, uint8_t **value, size_t *len)
{
    return to_ck(lwss_nvm_get_value(handle, value, len), CKR_OBJECT_HANDLE_INVALID);
}

void lwss_token_store_free_value(uint8_t *value, size_t len)
{
    lwss_nvm_free_value(value, len);
}

CK_RV lwss_token_store_save(const lwss_nvm_meta *meta, const uint8_t *value, size_t len,
                            uint32_t *handle)
{
    uint32_t h = lwss_nvm_save(meta, value, len);
    if (h == 0) {
        int status = lwss_nvm_last_status();
        return to_ck(status != LWSS_OK ? status : LWSS_ERR_IO, CKR_DEVICE_ERROR);
    }
    if (handle != NULL) {
        *handle = h;
    }
    return CKR_OK;
}

CK_RV lwss_token_store_destroy(uint32_t handle)
{
    return to_ck(lwss_nvm_destroy(handle), CKR_OBJECT_HANDLE_INVALID);
}

CK_RV lwss_token_store_begin(void)
{
    return to_ck(lwss_nvm_txn_begin(), CKR_DEVICE_ERROR);
}

CK_RV lwss_token_store_commit(void)
{
    return to_ck(lwss_nvm_txn_commit(), CKR_DEVICE_ERROR);
}

void lwss_token_store_abort(void)
{
    (void)lwss_nvm_txn_abort();
}
