/*
 * Flash emulation over one image file: the only code that touches the file.
 *
 * Semantics of NOR flash: the erased state is 0xFF, a program operation can
 * only clear bits (1 -> 0) and is split into pages, an erase sets a whole
 * range back to 0xFF.  The image is mirrored in RAM at open (one read), so
 * every later read is served from memory: the file is only written.
 *
 * The file is locked for as long as it is open: exclusively when writable,
 * shared when read-only, waiting at most the given bound.
 *
 * A process-wide fault hook emulates a power cut for tests: after N
 * operations succeed, the next one stops after k bytes and every operation
 * after it fails until the hook is disarmed.
 */
#ifndef LWSS_PAL_FLASH_H
#define LWSS_PAL_FLASH_H

#include <stddef.h>
#include <stdint.h>

/** Program page: a program operation never crosses one (one fault step each). */
#define LWSS_FLASH_PAGE 256u
/** Largest image the emulation accepts (it is mirrored in RAM). */
#define LWSS_FLASH_MAX_SIZE (64u * 1024u * 1024u)

/** Open flags. */
#define LWSS_FLASH_WRITE 1u  /**< read-write, exclusive lock (else read-only, shared lock) */
#define LWSS_FLASH_CREATE 2u /**< create the file (mode 0600) when missing or empty */

typedef struct lwss_flash lwss_flash;

/** Counters of what the emulation did since open. */
typedef struct lwss_flash_stats {
    uint64_t file_reads;      /**< read(2)-family calls on the image file */
    uint64_t file_read_bytes; /**< bytes they returned */
    uint64_t programs;        /**< program operations (one per page touched) */
    uint64_t program_bytes;   /**< bytes programmed */
    uint64_t erases;          /**< erase operations */
    uint64_t erase_bytes;     /**< bytes erased */
    uint64_t syncs;           /**< fdatasync calls */
} lwss_flash_stats;

/**
 * Open (and with LWSS_FLASH_CREATE create, @p create_size bytes of 0xFF) the
 * image at @p path, lock it (waiting up to @p lock_ms) and mirror it.
 * @return 0; LWSS_ERR_BUSY (locked by another process), LWSS_ERR_IO,
 *         LWSS_ERR_INVAL, LWSS_ERR_NOMEM, with detail in lwss_last_error().
 */
int lwss_flash_open(lwss_flash **out, const char *path, unsigned flags, uint32_t create_size,
                    unsigned lock_ms);

/**
 * A flash over a RAM copy of @p image (no file, no lock): for the fuzzer.
 * @return 0, LWSS_ERR_INVAL (size), LWSS_ERR_NOMEM.
 */
int lwss_flash_open_mem(lwss_flash **out, const uint8_t *image, size_t len, int writable);

/** Zeroize the mirror, unlock and close.  NULL is fine. */
void lwss_flash_close(lwss_flash *fl);

/** Image size in bytes. */
uint32_t lwss_flash_size(const lwss_flash *fl);

/** 1 when this open created the image (it is blank). */
int lwss_flash_created(const lwss_flash *fl);

/** 1 when opened writable. */
int lwss_flash_writable(const lwss_flash *fl);

/** Read-only view of the whole image (the RAM mirror). */
const uint8_t *lwss_flash_map(const lwss_flash *fl);

/**
 * Program @p len bytes at @p off (bits 1 -> 0 only).
 * @return 0; LWSS_ERR_INVAL (out of range, read-only, or a bit would have to
 *         go 0 -> 1), LWSS_ERR_IO (write failed or power cut by the hook).
 */
int lwss_flash_program(lwss_flash *fl, uint32_t off, const void *data, uint32_t len);

/** Erase [@p off, @p off + @p len) to 0xFF.  @return as lwss_flash_program(). */
int lwss_flash_erase(lwss_flash *fl, uint32_t off, uint32_t len);

/** Make what was written durable (fdatasync unless LWSS_NVM_SYNC=0). */
int lwss_flash_sync(lwss_flash *fl);

/** Copy the counters. */
void lwss_flash_get_stats(const lwss_flash *fl, lwss_flash_stats *out);

/* The hooks below exist only in test builds (compiled with LWSS_TEST_HOOKS,
 * linked from liblwss-test.a); the release library has none of them. */

/**
 * Test hook: let @p ops_ok more program/erase operations through, then cut
 * the next one after @p bytes_in_last bytes; later operations fail.
 */
void lwss_flash_fault_arm(uint64_t ops_ok, uint32_t bytes_in_last);
/** Test hook: power back; operations work again. */
void lwss_flash_fault_disarm(void);
/** Test hook: 1 when the armed cut happened. */
int lwss_flash_fault_tripped(void);
/** Test hook: operations started since the last arm (count with a huge ops_ok). */
uint64_t lwss_flash_fault_ops(void);
/** Test hook: length in bytes of the operation the cut fell on. */
uint32_t lwss_flash_fault_cut_len(void);

#endif
