/* Entropy for mbedtls from getrandom(2). */
#include "lwss/status.h"

#include <errno.h>
#include <sys/random.h>

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
