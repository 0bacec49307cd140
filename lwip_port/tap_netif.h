/* lwss's own TAP netif driver (internal): frames in both directions are
 * handed to the capture before they reach lwIP or the kernel. */
#ifndef LWSS_TAP_NETIF_H
#define LWSS_TAP_NETIF_H

#include "lwip_port/capture.h"
#include "lwip_port/impair.h"
#include "lwss/port.h"

#include "lwip/netif.h"

/** Driver state, one per netif. */
typedef struct lwss_tap {
    int fd;                 /**< /dev/net/tun attached to the TAP */
    int wake_fd;            /**< eventfd that stops the receive thread */
    lwss_capture *cap;      /**< NULL: no capture */
    lwss_impair *impair;    /**< loss/delay/link-down between the TAP and lwIP */
    struct lwss_tap_tx *tx; /**< transmit path (GSO coalescing, writes) */
    uint16_t mtu;
    uint8_t mac[6];
    lwss_port_stats stats;  /**< counters, updated under stats_lock */
} lwss_tap;

/**
 * Attach to the existing TAP device @p name and start the impairment
 * engine (frames can flow as soon as the netif is up).
 * @return LWSS_OK, LWSS_ERR_NOTAP, LWSS_ERR_PERM, LWSS_ERR_BUSY, LWSS_ERR_IO.
 */
int lwss_tap_open(lwss_tap *tap, const char *name, const lwss_port_impairment *impair);

/** netif init callback for netif_add(); state must be an lwss_tap. */
err_t lwss_tap_netif_init(struct netif *netif);

/** Start the receive thread feeding @p netif.  @return LWSS_OK or LWSS_ERR_NOMEM. */
int lwss_tap_start(lwss_tap *tap, struct netif *netif);

/** Stop frames in both directions: receive thread joined, impairment stopped. */
void lwss_tap_stop(lwss_tap *tap);

/** Close the descriptors (after lwss_tap_stop() and netif removal). */
void lwss_tap_close(lwss_tap *tap);

/** Close descriptors of a TAP whose thread never started. */
void lwss_tap_stop_unstarted(lwss_tap *tap);

/** Copy the counters. */
void lwss_tap_stats(lwss_tap *tap, lwss_port_stats *out);

#endif
