/* Table-driven CRC-32: records and sector headers are checksummed with it. */
#include "pal/crc32.h"

#include <pthread.h>

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_table_build(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) {
            c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        crc_table[n] = c;
    }
}

uint32_t lwss_crc32(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc_once, crc_table_build);
    const uint8_t *p = buf;
    crc = ~crc;
    while (len-- > 0) {
        crc = crc_table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    }
    return ~crc;
}
