/*
 * The NVM store: an append-only log of records in the sectors of a flash,
 * scanned at open into an in-RAM index of live objects, with a collector
 * that moves live records out of the oldest sector before erasing it.
 *
 * Not thread-safe: nvm.c serialises every call.
 */
#ifndef LWSS_PAL_STORE_H
#define LWSS_PAL_STORE_H

#include "lwss/nvm.h"
#include "pal/flash.h"
#include "pal/layout.h"

#include <stddef.h>
#include <stdint.h>

/** Sector states found by the scan. */
enum { LWSS_SEC_FREE = 0, LWSS_SEC_USED = 1, LWSS_SEC_DIRTY = 2 };

/** Kinds of damage the scan reports. */
enum {
    LWSS_DMG_SECTOR = 1, /**< sector header unreadable (sector ignored, erased on reuse) */
    LWSS_DMG_GARBAGE,    /**< bytes that are no valid record header (torn or flipped) */
    LWSS_DMG_BODY,       /**< record header good, body CRC bad (torn or flipped) */
    LWSS_DMG_FOREIGN,    /**< sector header of another geometry or version */
    LWSS_DMG_INTERRUPTED, /**< newest or retried write cut short: not damage (not counted) */
};

/** One object slot; the handle is its index + 1 and never changes while open. */
typedef struct lwss_store_entry {
    lwss_nvm_meta meta;
    uint32_t seq;       /**< sequence of the record that decided the state */
    uint32_t rec_off;   /**< image offset of the live record */
    uint32_t extent;    /**< its aligned size */
    uint32_t data_len;  /**< value length */
    uint8_t live;       /**< 0: destroyed (slot kept) */
} lwss_store_entry;

/** What the scan learnt about one sector. */
typedef struct lwss_store_sector {
    uint8_t state;        /**< LWSS_SEC_* */
    uint8_t count_known;  /**< erase count read from the header */
    uint32_t erase_count;
    uint32_t seq;         /**< log position (USED) */
    uint32_t write_off;   /**< next append offset inside the sector (USED) */
    uint32_t live_bytes;  /**< bytes of live records */
    uint32_t records;     /**< valid records found by the scan or written since */
    uint8_t salvage;      /**< header damaged: records are recovered, then collected */
    uint8_t seq_cut;      /**< scan only: sequence torn, maybe by a cut */
} lwss_store_sector;

/** One damaged place. */
typedef struct lwss_store_damage {
    uint32_t off;   /**< image offset */
    uint8_t kind;   /**< LWSS_DMG_* */
} lwss_store_damage;

/** A slot changed by the open transaction and its state before it. */
typedef struct lwss_store_undo {
    size_t slot;
    lwss_store_entry saved; /**< committed state (its record must survive collections) */
} lwss_store_undo;

/** Sequences first..end-1 covered by one commit record (scan only). */
typedef struct lwss_store_range {
    uint32_t first, end;
} lwss_store_range;

/** A body-damaged record that may be a cut write (settled after the scan). */
typedef struct lwss_store_torn {
    uint32_t off, seq;
    int superseded;
} lwss_store_torn;

typedef struct lwss_store {
    lwss_flash *fl;
    uint32_t size, ssize, nsec;
    lwss_store_sector *sec;
    lwss_store_entry *ent;
    size_t nent, cap;
    size_t live_count, max_objects;
    uint64_t live_total;         /**< bytes of live records */
    uint32_t next_seq, next_sector_seq;
    int head;                    /**< sector appended to, -1 none */
    int broken;                  /**< a write failed: RAM state no longer trusted */
    lwss_store_damage *dmg;      /**< first damages (at most LWSS_STORE_DMG_KEEP) */
    size_t ndmg, dmg_total;
    size_t interrupted;          /**< records left by cut writes (LWSS_DMG_INTERRUPTED) */
    lwss_store_torn *torn;       /**< scan only: candidates (LWSS_STORE_DMG_KEEP) */
    size_t ntorn;
    uint32_t max_valid_seq;      /**< scan only: newest valid record sequence */
    uint64_t bytes_programmed;   /**< by this open, for write amplification */
    int txn_active;              /**< a transaction is open */
    uint32_t txn_first;          /**< its first sequence */
    size_t txn_records;          /**< records it wrote */
    lwss_store_undo *undo;       /**< slots it changed (committed state kept) */
    size_t nundo, undo_cap;
    uint64_t undo_bytes;         /**< live bytes of the kept committed states */
    lwss_store_range *cmt;       /**< scan only: commit ranges */
    size_t ncmt, cmt_cap;
    uint32_t max_any_seq;        /**< scan only: newest sequence of any valid record */
} lwss_store;

#define LWSS_STORE_DMG_KEEP 64u

/**
 * Scan the image of @p fl into a new store (takes @p fl).  A blank image is
 * formatted with @p want (or the default geometry) when @p fl is writable.
 * An image whose version or geometry differs from @p want (when non-NULL)
 * is refused.  @return 0 or a negative lwss_status with lwss_last_error().
 */
int lwss_store_open(lwss_store **out, lwss_flash *fl, const lwss_nvm_geometry *want,
                    size_t max_objects);
/** Free the store and close its flash (RAM zeroized). */
void lwss_store_close(lwss_store *st);

/** Entry for @p handle, or NULL (also for destroyed objects). */
const lwss_store_entry *lwss_store_get(const lwss_store *st, uint32_t handle);
/** Handle of the live object (label, cls) (LWSS_NVM_ANY_CLASS: first), or 0. */
uint32_t lwss_store_find(const lwss_store *st, const uint8_t *label, size_t label_len,
                         uint32_t cls);
/** Pointer to the value of @p e inside the RAM mirror. */
const uint8_t *lwss_store_value(const lwss_store *st, const lwss_store_entry *e);

/**
 * Append a new version of (meta->label, meta->cls); with @p in_txn it is
 * part of the open transaction (invisible after a cut until committed).
 * @return handle or negative.
 */
int64_t lwss_store_put(lwss_store *st, const lwss_nvm_meta *meta, const uint8_t *data,
                       size_t len, int in_txn);
/** Append a delete record for @p handle (@p in_txn: see put).  @return 0 or negative. */
int lwss_store_del(lwss_store *st, uint32_t handle, int in_txn);
/** Open a transaction.  @return 0, LWSS_ERR_STATE (one is open), LWSS_ERR_IO. */
int lwss_store_txn_begin(lwss_store *st);
/** Make the transaction's records durable and visible.  @return 0 or negative (aborted). */
int lwss_store_txn_commit(lwss_store *st);
/** Forget the transaction: the index returns to its committed state. */
void lwss_store_txn_abort(lwss_store *st);
/** Collect the oldest sector now (for tests and the CLI).  @return 0 or negative. */
int lwss_store_gc(lwss_store *st);

/** Largest value a record can carry with this geometry and label/id lengths. */
size_t lwss_store_max_value(const lwss_store *st, size_t label_len, size_t id_len);

/* Internal to the store (scan.c <-> log.c). */
void lwss_store_note_damage(lwss_store *st, uint32_t off, uint8_t kind);
int lwss_store_apply(lwss_store *st, uint32_t rec_off, const uint8_t *rec);
long lwss_store_slot(const lwss_store *st, const uint8_t *label, size_t label_len, uint32_t cls);
int lwss_store_append(lwss_store *st, lwss_rhdr *h, const lwss_nvm_meta *meta,
                      const uint8_t *data, int in_txn);
void lwss_store_txn_note(lwss_store *st, size_t slot, const lwss_store_entry *pre, int in_txn);
uint64_t lwss_store_undo_bytes(const lwss_store *st);
int lwss_store_broken(lwss_store *st);
int lwss_store_format(lwss_store *st);
void lwss_store_recount(lwss_store *st);

#endif
