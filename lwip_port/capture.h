/* Packet capture of every frame the netif sends or receives (internal). */
#ifndef LWSS_CAPTURE_H
#define LWSS_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

/** One capture file (opaque). */
typedef struct lwss_capture lwss_capture;

/**
 * Open @p path as a pcap file (Ethernet, microsecond timestamps).
 * @p max_bytes caps the file size (0 = no cap).  @return LWSS_OK or LWSS_ERR_PCAP.
 */
int lwss_capture_open(lwss_capture **out, const char *path, uint64_t max_bytes);

/** Record one frame; thread-safe.  Flushes when the last flush is 100 ms old. */
void lwss_capture_frame(lwss_capture *cap, const uint8_t *frame, size_t len);

/** Flush if anything is pending for more than 100 ms (called by the rx thread tick). */
void lwss_capture_tick(lwss_capture *cap);

/** Flush now.  @return LWSS_OK or LWSS_ERR_PCAP. */
int lwss_capture_flush(lwss_capture *cap);

/** Frames written so far. */
uint64_t lwss_capture_frames(lwss_capture *cap);

/** Flush and close; NULL is fine. */
void lwss_capture_close(lwss_capture *cap);

#endif
