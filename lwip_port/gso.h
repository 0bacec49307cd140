/* Coalescing of consecutive outgoing TCP segments into one GSO frame for the
 * TAP (internal).  lwIP sends 1460-byte segments (TCP_MSS is fixed by the
 * Debian build); the kernel accepts one IPv4/TCP super-frame with a virtio
 * header asking it to treat the payload as gso_size-byte segments, so a
 * burst of N segments costs one write(2) and one trip through the kernel's
 * receive path instead of N.  Pure frame arithmetic: no I/O, no locking. */
#ifndef LWSS_GSO_H
#define LWSS_GSO_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

/** Largest super-frame: 14-byte Ethernet header + a 64 KiB IPv4 datagram. */
#define LWSS_GSO_FRAME_MAX (14u + 65535u)

/** One super-frame under construction. */
typedef struct lwss_gso {
    struct virtio_net_hdr vh; /**< filled by lwss_gso_finish() */
    uint8_t frame[LWSS_GSO_FRAME_MAX];
    size_t len;               /**< bytes in frame; 0 = nothing pending */
    unsigned segs;            /**< segments merged into frame */
    uint16_t mss;             /**< payload of the first segment = gso_size */
    uint32_t next_seq;        /**< sequence number the next segment must have */
    int complete;             /**< no further segment may join (PSH, short, full) */
} lwss_gso;

/** Result of lwss_gso_add(). */
enum {
    LWSS_GSO_REFUSED = 0, /**< frame not taken: flush what is pending, send it alone */
    LWSS_GSO_HELD = 1,    /**< frame taken; more may join */
    LWSS_GSO_DONE = 2     /**< frame taken and the super-frame is complete: flush now */
};

/**
 * Offer one Ethernet frame.  With nothing pending, a frame starts a
 * super-frame when it is an IPv4 TCP data segment with only ACK set (PSH
 * would end it at once, so such a frame is refused).  With something
 * pending, the frame joins when it continues the same flow exactly (next
 * sequence number, same ACK, window, options and headers) and its payload
 * is at most the first one's.
 * @return LWSS_GSO_REFUSED, LWSS_GSO_HELD or LWSS_GSO_DONE.
 */
int lwss_gso_add(lwss_gso *g, const uint8_t *frame, size_t len);

/**
 * Finish the pending super-frame: with one segment the frame is left as it
 * was and the virtio header is empty; with several, the IPv4 length and
 * header checksum are rewritten, the TCP checksum field gets the
 * pseudo-header sum and the virtio header asks for TCPv4 GSO with checksum
 * offload.  The caller writes vh + frame[0..len) and then calls
 * lwss_gso_reset().
 * @return the number of segments in the frame (0 when nothing is pending).
 */
unsigned lwss_gso_finish(lwss_gso *g);

/** Forget the pending super-frame. */
void lwss_gso_reset(lwss_gso *g);

#endif
