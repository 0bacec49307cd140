/* Frames from lwIP to the TAP (internal): consecutive TCP segments of one
 * flow are held and written as one GSO super-frame (lwip_port/gso.h).  A
 * held super-frame is written when it is complete, when a frame that cannot
 * join it comes, or when the lwIP core lock is released by whoever produced
 * it: the TAP receive thread flushes before it unlocks, and a flusher thread
 * takes the core lock after any other thread (application, lwIP timers), so
 * nothing waits longer than the burst of output that produced it. */
#ifndef LWSS_TAP_TX_H
#define LWSS_TAP_TX_H

#include <stddef.h>
#include <stdint.h>

typedef struct lwss_tap_tx lwss_tap_tx;

/** May lwss_tap_tx_frame() hold the frame, and who writes it then. */
typedef enum lwss_tx_hold {
    LWSS_TX_NOW = 0,          /**< write it (and anything held) now */
    LWSS_TX_HOLD_CALLER = 1,  /**< the caller flushes: before unlocking the core (receive
                                   thread) or right after its non-blocking lwIP call */
    LWSS_TX_HOLD_FLUSHER = 2  /**< caller holds the core lock; the flusher writes it after */
} lwss_tx_hold;

/** Transmit counters (frames = lwIP frames; writes = write(2) calls). */
typedef struct lwss_tap_tx_stats {
    uint64_t frames, bytes, errors, writes;
} lwss_tap_tx_stats;

/**
 * Start the transmit side on TAP descriptor @p fd (opened with
 * IFF_VNET_HDR and a 10-byte virtio header) and its flusher thread.  There
 * is one per process (one port).
 * @return LWSS_OK, LWSS_ERR_BUSY (already running) or LWSS_ERR_NOMEM.
 */
int lwss_tap_tx_start(lwss_tap_tx **out, int fd);

/** Send (or hold, see lwss_tx_hold) one Ethernet frame. */
void lwss_tap_tx_frame(lwss_tap_tx *tx, const uint8_t *frame, size_t len, lwss_tx_hold hold);

/** Write whatever is held now. */
void lwss_tap_tx_flush(lwss_tap_tx *tx);

/** Counters so far. */
void lwss_tap_tx_get_stats(lwss_tap_tx *tx, lwss_tap_tx_stats *out);

/** Write what is held and stop the flusher.  NULL is accepted.  Not under the core lock. */
void lwss_tap_tx_stop(lwss_tap_tx *tx);

/** lwss_tap_tx_flush() on the process's transmit side, running or not (then a no-op). */
void lwss_tap_tx_flush_any(void);

#endif
