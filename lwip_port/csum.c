/* The Internet checksum: runs over every byte of every super-frame the
 * kernel hands the TAP reader, so it sums 16 bytes per step into four
 * independent accumulators (twice the speed of one; issue 19 profile). */
#include "lwip_port/csum.h"

#include <string.h>

static uint32_t fold(uint64_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffffu) + (sum >> 16);
    }
    return (uint32_t)sum;
}

/* Summing native-order 32-bit words and swapping the folded result gives
 * the big-endian word sum (RFC 1071 section 2(B), byte order independence). */
uint16_t lwss_inet_sum(const void *p, size_t n, uint16_t initial)
{
    const uint8_t *b = p;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0; /* 2^32 words each before they could carry out */
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint32_t w[4];
        memcpy(w, b + i, 16);
        s0 += w[0];
        s1 += w[1];
        s2 += w[2];
        s3 += w[3];
    }
    uint64_t sum = fold(s0) + fold(s1) + fold(s2) + fold(s3);
    for (; i + 4 <= n; i += 4) {
        uint32_t w;
        memcpy(&w, b + i, 4);
        sum += w;
    }
    uint8_t tail[4] = {0, 0, 0, 0};
    memcpy(tail, b + i, n - i);
    uint32_t w;
    memcpy(&w, tail, 4);
    sum += w;
    uint16_t native = (uint16_t)fold(sum);
    uint8_t bytes[2];
    memcpy(bytes, &native, 2); /* the native-order word, as bytes in memory */
    uint32_t net = (uint32_t)(bytes[0] << 8 | bytes[1]);
    return (uint16_t)fold((uint64_t)net + initial);
}
