/* The Internet checksum (RFC 1071), the one routine every part of lwss that
 * builds or completes an IPv4/TCP/UDP checksum uses (internal). */
#ifndef LWSS_CSUM_H
#define LWSS_CSUM_H

#include <stddef.h>
#include <stdint.h>

/**
 * Ones' complement sum of the @p n bytes at @p p read as big-endian 16-bit
 * words (an odd last byte padded with zero), plus @p initial, folded to 16
 * bits.  The checksum field of a header is the complement (~) of the sum
 * over it with the field zeroed; a received header is intact when its sum
 * is 0xffff.
 */
uint16_t lwss_inet_sum(const void *p, size_t n, uint16_t initial);

#endif
