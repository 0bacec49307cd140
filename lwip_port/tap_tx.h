/* Frames from lwIP to the TAP (internal): consecutive TCP segments of one
 * flow are held and written as one GSO super-frame (lwip_port/gso.h).  A
 * held super-frame is written when it is complete, when a frame that cannot
 * join it comes, at the end of a transmit bracket (the TAP reader feeding a
 * frame to lwIP, an application's non-blocking send), or, with no bracket
 * open, by a flusher thread that takes the core lock after the producer
 * (lwIP timers) released it: nothing waits longer than the burst of output
 * that produced it. */
#ifndef LWSS_TAP_TX_H
#define LWSS_TAP_TX_H

#include "lwip_port/gso.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/** Transmit counters (frames = lwIP frames; writes = write(2) calls). */
typedef struct lwss_tap_tx_stats {
    uint64_t frames, bytes, errors, writes;
} lwss_tap_tx_stats;

/**
 * The transmit side, a part of the port object (one per process, never
 * freed: a bracket that ends after lwss_port_down() finds it there).
 * Initialise with LWSS_TAP_TX_INIT.
 */
typedef struct lwss_tap_tx {
    int fd;                /**< -1 while stopped: a late flush drops what is held */
    pthread_mutex_t lock;  /**< everything here; taken after the core lock, never before */
    pthread_cond_t kick;   /**< wakes the flusher */
    int kicked, stopping, running;
    unsigned brackets;     /**< open transmit brackets (lwss_tap_tx_begin) */
    pthread_t flusher;
    lwss_tap_tx_stats stats;
    lwss_gso gso;
} lwss_tap_tx;

/** Static initialiser of an lwss_tap_tx. */
#define LWSS_TAP_TX_INIT \
    {.fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER, .kick = PTHREAD_COND_INITIALIZER}

/** Where a frame comes from: decides whether it may be held. */
typedef enum lwss_tx_from {
    LWSS_TX_FROM_OTHER = 0, /**< not lwIP's own output (e.g. a delayed frame): write now */
    LWSS_TX_FROM_LWIP = 1   /**< linkoutput, its producer holds the core lock: may be held */
} lwss_tx_from;

/**
 * Start the transmit side on TAP descriptor @p fd (opened with
 * IFF_VNET_HDR and a 10-byte virtio header) and its flusher thread.
 * @return LWSS_OK, LWSS_ERR_BUSY (already running) or LWSS_ERR_NOMEM.
 */
int lwss_tap_tx_start(lwss_tap_tx *tx, int fd);

/**
 * Send (or hold for a GSO frame) one Ethernet frame.  A held frame is
 * written by whoever closes the last open bracket, or, when no bracket is
 * open, by the flusher once the producer releases the core lock.
 */
void lwss_tap_tx_frame(lwss_tap_tx *tx, const uint8_t *frame, size_t len, lwss_tx_from from);

/**
 * Open a transmit bracket around a call that produces lwIP output and ends
 * soon (a non-blocking lwIP send, feeding one frame to lwIP): frames held
 * meanwhile are written by lwss_tap_tx_end() instead of waking the flusher.
 */
void lwss_tap_tx_begin(lwss_tap_tx *tx);

/** Close a bracket and write whatever is held. */
void lwss_tap_tx_end(lwss_tap_tx *tx);

/** Counters so far. */
void lwss_tap_tx_get_stats(lwss_tap_tx *tx, lwss_tap_tx_stats *out);

/** Write what is held and stop the flusher.  Not under the core lock. */
void lwss_tap_tx_stop(lwss_tap_tx *tx);

#endif
