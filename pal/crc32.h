/* CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320) for the NVM image format. */
#ifndef LWSS_PAL_CRC32_H
#define LWSS_PAL_CRC32_H

#include <stddef.h>
#include <stdint.h>

/**
 * Continue a CRC-32 over @p len bytes: start with crc = 0; the result of one
 * call can be passed as @p crc of the next to cover several buffers.
 */
uint32_t lwss_crc32(uint32_t crc, const void *buf, size_t len);

#endif
