/* Entropy for mbedtls from getrandom(2); also a monotonic clock helper. */
#include "lwss/port.h"
#include "lwip_port/internal.h"

#include <errno.h>
#include <sys/random.h>
#include <time.h>

#define ENTROPY_SOURCE_FAILED (-0x003C) /* MBEDTLS_ERR_ENTROPY_SOURCE_FAILED */

int lwss_entropy_poll(void *data, unsigned char *out, size_t len, size_t *olen)
{
    (void)data;
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(out + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (olen != NULL) {
                *olen = done;
            }
            return ENTROPY_SOURCE_FAILED;
        }
        done += (size_t)n;
    }
    if (olen != NULL) {
        *olen = done;
    }
    return 0;
}

uint64_t lwss_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t lwss_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
