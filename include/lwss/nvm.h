/**
 * @file nvm.h
 * @brief The credential store: a raw image file that plays device flash.
 *
 * The PKCS #11 PAL (PKCS11_PAL_* in core_pkcs11_pal.h) is implemented on
 * top of this.  The token uses the richer lwss_nvm_* calls below, because a
 * record carries more than a label: class, key type, private flag and the
 * CKA_ID a client gave.  An object is identified by (label, class): a key
 * pair made by a standard client may share one label between its private
 * and public halves.
 *
 * Image path: lwss_nvm_set_path(), else $LWSS_NVM, else "lwss-nvm.img".
 *
 * Environment: LWSS_NVM (path), LWSS_NVM_SIZE / LWSS_NVM_SECTOR (geometry
 * expected when lwss_nvm_open() gets NULL; unset: the image's own, or the
 * default for a new one), LWSS_NVM_MAX_OBJECTS, LWSS_NVM_LOCK_MS (bound on
 * waiting for another process), LWSS_NVM_SYNC=0 (no fdatasync per write).
 *
 * The image is locked (flock) from open to close: a second process waits up
 * to LWSS_NVM_LOCK_MS, then gets LWSS_ERR_BUSY.  Every call is thread-safe.
 *
 * What is refused (never waited on, never formatted): FIFOs, sockets,
 * devices, directories (also behind symlinks), an image group or others may
 * write, and any file that is neither an lwss image, nor empty, nor all
 * 0xFF (erased flash).  Groups of writes: lwss_nvm_txn_begin().
 */
#ifndef LWSS_NVM_H
#define LWSS_NVM_H

#include <stddef.h>
#include <stdint.h>
#include "lwss/config_defaults.h"
#include "lwss/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest label, in bytes (no NUL). */
#define LWSS_NVM_LABEL_MAX 64
/** Longest CKA_ID, in bytes. */
#define LWSS_NVM_ID_MAX 64
/** Class value meaning "any class" for lwss_nvm_find(). */
#define LWSS_NVM_ANY_CLASS 0xFFFFFFFFu
/**
 * Status (besides the lwss_status codes of lwss/port.h) of a save refused
 * because the image or the object limit is full; nothing was changed.
 */
#define LWSS_NVM_ERR_FULL (-20)
/* LWSS_NVM_DEFAULT_MAX_OBJECTS, _LOCK_MS, _SIZE, _SECTOR: lwss/config_defaults.h */

/** What a record says about its object besides the value. */
typedef struct lwss_nvm_meta {
    uint8_t label[LWSS_NVM_LABEL_MAX]; /**< not NUL-terminated */
    uint32_t label_len;                /**< 1..LWSS_NVM_LABEL_MAX */
    uint32_t cls;                      /**< CKO_* */
    uint32_t key_type;                 /**< CKK_* or CK_UNAVAILABLE_INFORMATION (0xFFFFFFFF) */
    uint8_t is_private;                /**< 1: value is secret (zeroized in RAM copies) */
    uint8_t id_len;                    /**< 0..LWSS_NVM_ID_MAX */
    uint8_t id[LWSS_NVM_ID_MAX];       /**< CKA_ID */
} lwss_nvm_meta;

/** Geometry used when an image is created. */
typedef struct lwss_nvm_geometry {
    uint32_t size;         /**< whole image, multiple of sector (default 64 KiB) */
    uint32_t sector;       /**< erase unit (default 4 KiB) */
} lwss_nvm_geometry;

/**
 * Set the image path used by the next open (PKCS11_PAL_Initialize /
 * C_Initialize).  NULL restores the default.  Copies the string.
 * @return 0, or LWSS_ERR_INVAL (too long), LWSS_ERR_BUSY (image open).
 */
LWSS_API int lwss_nvm_set_path(const char *path);

/** The path the next or current open uses. */
LWSS_API const char *lwss_nvm_path(void);

/**
 * Open (creating with @p geo, or the default geometry when NULL, mode 0600)
 * the image and build the in-RAM index.  Idempotent while open.  The whole
 * image is read once here; finds and reads never touch the file afterwards.
 * Damaged records are skipped and counted (lwss_nvm_damage_count()).
 * @return 0; LWSS_ERR_INVAL (bad geometry, an image of another format
 *         version or geometry, not an lwss image, not a regular file:
 *         refused, left untouched), LWSS_ERR_PERM (not permitted, or group or
 *         others may write the image),
 *         LWSS_ERR_BUSY (locked by another process for LWSS_NVM_LOCK_MS),
 *         LWSS_ERR_PERM, LWSS_ERR_IO, LWSS_ERR_NOMEM, LWSS_ERR_STATE (the
 *         image was opened before fork(): close it in the child first);
 *         detail in lwss_last_error().
 */
LWSS_API int lwss_nvm_open(const lwss_nvm_geometry *geo);

/** Close the image: RAM copies zeroized, lock released.  Safe when closed. */
LWSS_API void lwss_nvm_close(void);

/**
 * Store (or atomically replace) the object (meta->label, meta->cls).  Power
 * loss at any point leaves the old or the new object, never a mix.  Handles
 * are valid until lwss_nvm_close(); a replaced object keeps its handle.
 * @return a non-zero handle, or 0 on failure: lwss_nvm_last_status() gives
 *         LWSS_ERR_INVAL (bad meta, class LWSS_NVM_ANY_CLASS, empty value
 *         or one too large for a sector), LWSS_NVM_ERR_FULL (image or object
 *         limit full; nothing lost), LWSS_ERR_STATE (not open),
 *         LWSS_ERR_IO; detail in lwss_last_error().
 */
LWSS_API uint32_t lwss_nvm_save(const lwss_nvm_meta *meta, const uint8_t *data, size_t len);

/**
 * Find by exact label and class (LWSS_NVM_ANY_CLASS: first of any class).
 * @return handle or 0.
 */
LWSS_API uint32_t lwss_nvm_find(const uint8_t *label, size_t label_len, uint32_t cls);

/**
 * Handles of every live object, in a stable order.  Writes at most @p max
 * handles; @p count receives the total number of objects.
 * @return 0, LWSS_ERR_INVAL (NULL count, or NULL handles with max > 0),
 *         LWSS_ERR_STATE (not open).
 */
LWSS_API int lwss_nvm_list(uint32_t *handles, size_t max, size_t *count);

/**
 * Copy the metadata of @p handle.
 * @return 0, LWSS_ERR_INVAL (unknown or destroyed handle, NULL @p out),
 *         LWSS_ERR_STATE (not open).
 */
LWSS_API int lwss_nvm_get_meta(uint32_t handle, lwss_nvm_meta *out);

/**
 * Value of @p handle in a fresh heap copy; release with lwss_nvm_free_value()
 * (zeroizes).  Served from RAM.
 * @return 0, LWSS_ERR_INVAL (unknown or destroyed handle, NULL pointers),
 *         LWSS_ERR_NOMEM, LWSS_ERR_STATE (not open).
 */
LWSS_API int lwss_nvm_get_value(uint32_t handle, uint8_t **data, size_t *len);

/** Zeroize and free a value from lwss_nvm_get_value(). */
LWSS_API void lwss_nvm_free_value(uint8_t *data, size_t len);

/**
 * Remove @p handle's object (power-loss safe: after a cut it is either
 * still complete or gone).
 * @return 0 (also when already destroyed), LWSS_ERR_INVAL (a handle this
 *         open never issued), LWSS_NVM_ERR_FULL (no room for the delete
 *         record), LWSS_ERR_STATE (not open), LWSS_ERR_IO.
 */
LWSS_API int lwss_nvm_destroy(uint32_t handle);

/**
 * Open a transaction: the saves and destroys this thread makes until
 * lwss_nvm_txn_commit() become durable all together, or - after a power
 * loss, a kill, lwss_nvm_txn_abort() or lwss_nvm_close() first - not at
 * all, including when a collection runs in between.  Until then they are
 * visible to this process (every thread) but not durable.  Calls nest: an
 * inner begin/commit joins the outer transaction, an inner abort dooms it.
 * Writes of other threads meanwhile are not part of it (they are durable
 * when they return); another thread's begin waits for this one to end.
 * @return 0, LWSS_ERR_STATE (not open, or opened before fork()),
 *         LWSS_ERR_IO (an earlier write failed: reopen).
 */
LWSS_API int lwss_nvm_txn_begin(void);

/**
 * Commit the transaction this thread opened (the outermost level writes
 * and syncs its commit mark; inner levels only return).
 * @return 0; LWSS_ERR_STATE (none open in this thread, or an inner level
 *         aborted it: rolled back), LWSS_NVM_ERR_FULL or LWSS_ERR_IO (the
 *         commit mark could not be written: rolled back, nothing changed).
 */
LWSS_API int lwss_nvm_txn_commit(void);

/**
 * Abort the transaction this thread opened: at the outermost level its
 * writes are forgotten at once (objects and handles return to their state
 * before lwss_nvm_txn_begin()); at an inner level the outer commit will
 * fail and roll back.
 * @return 0, LWSS_ERR_STATE (none open in this thread).
 */
LWSS_API int lwss_nvm_txn_abort(void);

/**
 * Status of the last lwss_nvm_* call of this thread that failed (handles of
 * 0 carry no status): LWSS_ERR_INVAL, LWSS_ERR_IO, LWSS_ERR_BUSY,
 * LWSS_ERR_NOMEM, LWSS_ERR_STATE (not open), LWSS_NVM_ERR_FULL; 0 after a
 * call that succeeded.
 */
LWSS_API int lwss_nvm_last_status(void);

/**
 * Damaged places (bad CRC, torn write, unreadable sector header) that the
 * last open found and skipped; 0 when closed.  A summary is in
 * lwss_last_error() right after such an open.
 */
LWSS_API size_t lwss_nvm_damage_count(void);

#ifdef __cplusplus
}
#endif

#endif /* LWSS_NVM_H */
