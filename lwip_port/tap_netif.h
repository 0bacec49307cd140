/* lwss's own TAP netif driver (internal): frames in both directions are
 * handed to the capture before they reach lwIP or the kernel. */
#ifndef LWSS_TAP_NETIF_H
#define LWSS_TAP_NETIF_H

#include "lwip_port/capture.h"
#include "lwip_port/impair.h"
#include "lwip_port/tap_tx.h"
#include "lwss/port.h"

#include "lwip/netif.h"

#include <linux/virtio_net.h>
#include <pthread.h>
#include <stdatomic.h>

/* Received frames may be TSO super-frames (up to 64 KiB of IP) behind a
 * virtio header. */
#define LWSS_TAP_RX_MAX (sizeof(struct virtio_net_hdr) + 65535u)

/**
 * Driver state, a part of the port object (one per process).  The locks and
 * the transmit side are initialised once (LWSS_TAP_INIT) and outlive every
 * lwss_port_down(); the rest is set by lwss_tap_open()/lwss_tap_start().
 */
typedef struct lwss_tap {
    int fd;                 /**< /dev/net/tun attached to the TAP */
    int wake_fd;            /**< eventfd that wakes the receive thread (stopping, or the
                                 TAP was left by an inline reader) */
    int kick_fd;            /**< eventfd that wakes the inline reader (stopping, lwIP fed
                                 from elsewhere, lwss_port_wake_waiters()); written and
                                 closed under kick_lock */
    atomic_int stopping;    /**< set by lwss_tap_stop() before it wakes both */
    pthread_mutex_t kick_lock; /**< leaf: guards kick_fd against a concurrent close */
    lwss_capture *cap;      /**< NULL: no capture */
    lwss_impair *impair;    /**< filter between the TAP and lwIP; NULL when no impairment
                                 is configured (read under the core lock or reader) */
    lwss_port_impairment impair_cfg; /**< what lwss_tap_open() was given */
    int out_open;           /**< linkoutput may send (changed under the core lock) */
    lwss_tap_tx tx;         /**< transmit path (GSO coalescing, writes, flusher) */
    uint16_t mtu;
    uint8_t mac[6];
    struct netif *netif;    /**< fed by the reader */
    pthread_t rx_thread;
    pthread_mutex_t stats_lock; /**< guards stats */
    lwss_port_stats stats;
    /** The TAP reader (receive thread or an inline waiter) holds it while it
     *  reads and feeds lwIP; reading is 0 while the port is down. */
    pthread_mutex_t reader;
    int reading;
    atomic_int inline_reading;      /**< inline readers on the TAP now (0 or 1) */
    atomic_int rx_parked;           /**< the receive thread sleeps until wake_fd */
    atomic_uint wait_epoch;         /**< advanced by lwss_port_wake_waiters() */
    _Atomic uint64_t inline_lease_end; /**< receive thread stays aside until (ms) */
    uint8_t rx_buf[LWSS_TAP_RX_MAX]; /**< the reader's buffer */
} lwss_tap;

/** Static initialiser of an lwss_tap. */
#define LWSS_TAP_INIT                                                                  \
    {.fd = -1, .wake_fd = -1, .kick_fd = -1, .tx = LWSS_TAP_TX_INIT,                                  \
     .stats_lock = PTHREAD_MUTEX_INITIALIZER, .kick_lock = PTHREAD_MUTEX_INITIALIZER,    \
     .reader = PTHREAD_MUTEX_INITIALIZER}

/**
 * Attach to the existing TAP device @p name, start the transmit side and,
 * when @p impair asks for any, the impairment filter (frames can flow as
 * soon as the netif is up).
 * @return LWSS_OK, LWSS_ERR_NOTAP, LWSS_ERR_PERM, LWSS_ERR_BUSY, LWSS_ERR_IO.
 */
int lwss_tap_open(lwss_tap *tap, const char *name, const lwss_port_impairment *impair);

/** netif init callback for netif_add(); state must be an lwss_tap. */
err_t lwss_tap_netif_init(struct netif *netif);

/** Start the receive thread feeding @p netif.  @return LWSS_OK or LWSS_ERR_NOMEM. */
int lwss_tap_start(lwss_tap *tap, struct netif *netif);

/** Stop frames in both directions: receive thread joined, filter and transmit side stopped. */
void lwss_tap_stop(lwss_tap *tap);

/** Close the descriptors (after lwss_tap_stop() and netif removal). */
void lwss_tap_close(lwss_tap *tap);

/** Close descriptors of a TAP whose thread never started. */
void lwss_tap_stop_unstarted(lwss_tap *tap);

/** Copy the counters. */
void lwss_tap_stats(lwss_tap *tap, lwss_port_stats *out);

/**
 * Simulate the cable: 0 pulls it, 1 plugs it back.  Installs the
 * impairment filter on first use when none is configured.
 * @return LWSS_OK or LWSS_ERR_NOMEM.
 */
int lwss_tap_set_link(lwss_tap *tap, int up);

/** The process's TAP driver, inside the port object (port.c). */
lwss_tap *lwss_port_tap(void);

#endif
