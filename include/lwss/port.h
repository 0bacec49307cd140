/**
 * @file port.h
 * @brief Bring the in-process lwIP stack up on a Linux TAP device, and down.
 *
 * One call brings lwIP up from a config struct (every field has a default and
 * an environment override), one call takes it down.  liblwip's own tcpip
 * thread cannot be stopped: it is started on the first lwss_port_up() and
 * lives for the rest of the process; everything else lwss starts is joined
 * by lwss_port_down().
 *
 * Environment overrides (applied by lwss_port_config_from_env()):
 * | variable        | field      | default            |
 * |-----------------|------------|--------------------|
 * | LWSS_TAP        | tap        | "lwss0"            |
 * | LWSS_IP         | ip         | "192.0.2.2"        |
 * | LWSS_NETMASK    | netmask    | "255.255.255.0"    |
 * | LWSS_GW         | gateway    | "192.0.2.1"        |
 * | LWSS_MAC        | mac        | "02:00:00:00:00:02"|
 * | LWSS_MTU        | mtu        | 1500               |
 * | LWSS_DNS        | dns        | "" (none); comma-separated, up to 3 |
 * | LWSS_PCAP       | pcap_path  | "" (no capture)    |
 * | LWSS_PCAP_MAX   | pcap_max_bytes | 0 (no cap)     |
 * | LWSS_IMPAIR     | impair     | none (see lwss_port_impairment) |
 */
#ifndef LWSS_PORT_H
#define LWSS_PORT_H

#include "lwss/status.h"

#include <stddef.h>
#include <stdint.h>
#include "lwss/config_defaults.h"
#include "lwss/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest number of DNS servers the port keeps. */
#define LWSS_PORT_MAX_DNS 3

/** Smallest TCP send buffer lwss_port_set_tcp_sndbuf() accepts (two segments). */
#define LWSS_TCP_SNDBUF_MIN 2920u
/** Largest: what liblwip's per-connection segment queue (TCP_SND_QUEUELEN) can hold. */
#define LWSS_TCP_SNDBUF_MAX 262144u
/* LWSS_TCP_SNDBUF_DEFAULT (lwss_port_config::tcp_sndbuf): lwss/config_defaults.h */

/**
 * Network impairment applied by lwss inside the TAP driver, in both
 * directions (like tc netem, but needing no kernel module and no root).
 * All zero: none.  Environment: LWSS_IMPAIR="loss=5,delay=50,jitter=20,
 * dup=1,reorder=25,seed=7" (percent, milliseconds).
 */
typedef struct lwss_port_impairment {
    uint16_t loss_permille;     /**< frames dropped, per 1000 */
    uint16_t dup_permille;      /**< frames delivered twice, per 1000 */
    uint16_t reorder_permille;  /**< delayed frames sent at once instead (overtaking), per 1000 */
    uint32_t delay_ms;          /**< added one-way delay */
    uint32_t jitter_ms;         /**< uniform +/- around delay_ms (reorders frames) */
    uint32_t seed;              /**< PRNG seed; 0 = random */
} lwss_port_impairment;

/** Everything the host port needs; see lwss_port_config_default(). */
typedef struct lwss_port_config {
    char tap[16];                 /**< TAP device name (IFNAMSIZ) */
    uint32_t ip;                  /**< IPv4 address, network order */
    uint32_t netmask;             /**< network order */
    uint32_t gateway;             /**< network order; 0 = none */
    uint8_t mac[6];               /**< lwIP side MAC address */
    uint16_t mtu;                 /**< 576..9000 */
    uint32_t dns[LWSS_PORT_MAX_DNS]; /**< DNS servers, network order; 0 = unused */
    char pcap_path[256];          /**< capture file; empty = no capture */
    uint64_t pcap_max_bytes;      /**< stop capturing past this size; 0 = no cap */
    lwss_port_impairment impair;  /**< simulated bad network; zero = none */
    uint32_t tcp_sndbuf;          /**< send buffer of each SOCKETS_* TCP connection, bytes:
                                       LWSS_TCP_SNDBUF_MIN..LWSS_TCP_SNDBUF_MAX; 0 = default */
} lwss_port_config;

/** Fill @p cfg with the defaults (table above). */
LWSS_API void lwss_port_config_default(lwss_port_config *cfg);

/**
 * Apply the LWSS_* environment overrides to @p cfg.
 * @return LWSS_OK, or LWSS_ERR_INVAL naming the bad variable in lwss_last_error().
 */
LWSS_API int lwss_port_config_from_env(lwss_port_config *cfg);

/**
 * Bring lwIP up on the TAP device of @p cfg (NULL: defaults + environment).
 * Opens the TAP, starts the receive thread, adds and raises the netif,
 * opens the capture.  Never aborts or exits.
 * @return LWSS_OK; LWSS_ERR_BUSY when already up; LWSS_ERR_NOTAP,
 *         LWSS_ERR_PERM, LWSS_ERR_INVAL, LWSS_ERR_PCAP, LWSS_ERR_NOMEM with a
 *         message in lwss_last_error().  On error nothing stays open.
 */
LWSS_API int lwss_port_up(const lwss_port_config *cfg);

/**
 * Take the stack down: every thread lwss started joined (the wakeup-callback
 * thread, the TAP receive, transmit and impairment threads; not liblwip's
 * tcpip thread, which cannot stop), netif removed, TAP closed, capture
 * flushed and closed.  Sockets still open stop working; wakeup callbacks
 * stay registered but are not called until one is registered again.  Not
 * from a wakeup callback (it would join its own thread).
 * @return LWSS_OK, or LWSS_ERR_STATE when not up.
 */
LWSS_API int lwss_port_down(void);

/** 1 when lwss_port_up() succeeded and lwss_port_down() has not run. */
LWSS_API int lwss_port_is_up(void);

/**
 * Copy the active configuration into @p out.
 * @return LWSS_OK, or LWSS_ERR_STATE when not up.
 */
LWSS_API int lwss_port_get_config(lwss_port_config *out);

/**
 * Simulate pulling (0) and plugging back (1) the cable: while down, every
 * frame in both directions is dropped; lwIP's TCP retransmits as it would.
 * @return LWSS_OK, or LWSS_ERR_STATE when the port is not up.
 */
LWSS_API int lwss_port_set_link(int up);

/**
 * Set the send buffer of a connected lwIP TCP socket (liblwip's is fixed at
 * 64 KiB otherwise): how much unacknowledged data lwIP keeps in flight and
 * queued.  Any time after connect/accept; SOCKETS_* connections get
 * lwss_port_config::tcp_sndbuf (or SOCKETS_SO_SNDBUF) when they connect.
 * @param lwip_fd an lwIP socket descriptor (lwip_socket()).
 * @param bytes   LWSS_TCP_SNDBUF_MIN .. LWSS_TCP_SNDBUF_MAX.
 * @return LWSS_OK; LWSS_ERR_INVAL for a size out of range; LWSS_ERR_STATE
 *         when the socket is not a TCP connection that can still send, or
 *         more than @p bytes are queued already.
 */
LWSS_API int lwss_port_set_tcp_sndbuf(int lwip_fd, size_t bytes);

/** Frames seen by the port since it came up. */
typedef struct lwss_port_stats {
    uint64_t rx_frames, tx_frames;     /**< frames received from / sent to the TAP */
    uint64_t rx_bytes, tx_bytes;       /**< their bytes */
    uint64_t rx_dropped, tx_errors;    /**< no pbuf / write errors */
    uint64_t pcap_frames;              /**< frames written to the capture */
    uint64_t impaired_drops;           /**< frames dropped by impairment or link-down */
    uint64_t tx_writes;                /**< writes to the TAP: fewer than tx_frames when
                                            consecutive TCP segments left as one GSO frame */
    uint64_t rx_inline;                /**< TAP reads made by application threads while they
                                            waited in lwss (inline receive), not by the port's
                                            receive thread */
} lwss_port_stats;

/** Current counters (zero when down). */
LWSS_API void lwss_port_get_stats(lwss_port_stats *out);

/** Flush the capture file now (it is also flushed at least every 100 ms). */
LWSS_API int lwss_port_flush_capture(void);

#ifdef __cplusplus
}
#endif

#endif /* LWSS_PORT_H */
