/*
 * The token's storage seam: the only way src/pkcs11/ (and PKCS11_PAL_*)
 * reaches storage.  Not installed.  One file implements it: pal/token_store.c,
 * over the NVM image of lwss/nvm.h.  Porting the token to a real flash part
 * means replacing that file (keeping these calls and their CK_RV results);
 * nothing in src/pkcs11/ changes.
 *
 * Every call returns CK_RV already: storage statuses are translated in the
 * implementation, once, and nowhere else.  The token calls these with its
 * store lock held (lwss_p11_store_lock), so an implementation needs no lock
 * of its own between the token's threads.
 *
 * Groups of writes that must land together (a key pair, a PIN and its
 * record, a token wipe) are bracketed by lwss_token_store_begin() /
 * commit() / abort(); pal/token_store.c implements them with the NVM
 * transactions of lwss/nvm.h.
 *
 * An object record is described by an lwss_nvm_meta of lwss/nvm.h: label, class,
 * key type, flags.  Handles are non-zero and stay valid until the store closes.
 */
#ifndef LWSS_PKCS11_TOKEN_STORE_H
#define LWSS_PKCS11_TOKEN_STORE_H

#include "lwss/pkcs11_std.h"
#include "lwss/nvm.h"

#include <stddef.h>
#include <stdint.h>

/**
 * Open the store (idempotent).
 * @return CKR_OK, CKR_DEVICE_ERROR (detail in lwss_last_error()).
 */
CK_RV lwss_token_store_open(void);

/** Close the store; handles become invalid. */
void lwss_token_store_close(void);

/**
 * Handles of every live record, internal ones included, in a stable order:
 * at most @p max into @p handles (NULL when @p max is 0); *count gets the total.
 * @return CKR_OK, CKR_DEVICE_ERROR.
 */
CK_RV lwss_token_store_list(uint32_t *handles, size_t max, size_t *count);

/** Handle of the record (@p label, @p cls), or 0 when there is none. */
uint32_t lwss_token_store_find(const uint8_t *label, size_t label_len, uint32_t cls);

/**
 * Description of record @p handle.
 * @return CKR_OK, CKR_OBJECT_HANDLE_INVALID (unknown or destroyed), CKR_DEVICE_ERROR.
 */
CK_RV lwss_token_store_get_meta(uint32_t handle, lwss_nvm_meta *meta);

/**
 * Value of record @p handle in a fresh heap copy: release it with
 * lwss_token_store_free_value().
 * @return CKR_OK, CKR_OBJECT_HANDLE_INVALID, CKR_HOST_MEMORY, CKR_DEVICE_ERROR.
 */
CK_RV lwss_token_store_get_value(uint32_t handle, uint8_t **value, size_t *len);

/** Zeroize and free a value from lwss_token_store_get_value() (NULL: nothing). */
void lwss_token_store_free_value(uint8_t *value, size_t len);

/**
 * Store, or atomically replace, the record (meta->label, meta->cls).
 * @return CKR_OK with *handle set (@p handle may be NULL); CKR_DEVICE_MEMORY (store full, nothing
 *         lost); CKR_DEVICE_ERROR (I/O, bad record, not open).
 */
CK_RV lwss_token_store_save(const lwss_nvm_meta *meta, const uint8_t *value, size_t len,
                            uint32_t *handle);

/**
 * Begin a group: the saves and destroys up to lwss_token_store_commit() land
 * together or - after abort, a power loss or a kill - not at all.  Groups
 * nest (the outer commit decides).
 * @return CKR_OK, CKR_DEVICE_ERROR.
 */
CK_RV lwss_token_store_begin(void);

/**
 * Make the open group durable, all of it.
 * @return CKR_OK, CKR_DEVICE_MEMORY (no room for the commit), CKR_DEVICE_ERROR
 *         (nothing of the group is visible).
 */
CK_RV lwss_token_store_commit(void);

/** Drop the open group (nothing of it becomes visible); no-op when none is open. */
void lwss_token_store_abort(void);

/**
 * Remove record @p handle (CKR_OK also when already gone).
 * @return CKR_OK, CKR_OBJECT_HANDLE_INVALID (never issued), CKR_DEVICE_MEMORY
 *         (no room for the delete record), CKR_DEVICE_ERROR.
 */
CK_RV lwss_token_store_destroy(uint32_t handle);

#endif
