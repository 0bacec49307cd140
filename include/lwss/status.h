/**
 * @file status.h
 * @brief The core under every lwss layer: status codes of lwss's own calls,
 *        the per-thread error detail, and the entropy source.
 *
 * Every lwss_* call that returns an int status returns one of these codes
 * (0 or negative; a module may add its own below -19, as LWSS_NVM_ERR_FULL
 * in lwss/nvm.h does).  The AFR calls (SOCKETS_*) and the PKCS #11 calls
 * (C_*, PKCS11_PAL_*) keep their own codes; all of them leave a detail
 * message for lwss_last_error() where they fail.
 */
#ifndef LWSS_STATUS_H
#define LWSS_STATUS_H

#include <stddef.h>

#include "lwss/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Error codes of lwss's own (non-AFR) calls: 0 or negative. */
typedef enum lwss_status {
    LWSS_OK = 0,             /**< success */
    LWSS_ERR_INVAL = -1,     /**< invalid argument or configuration value */
    LWSS_ERR_NOTAP = -2,     /**< no TUN/TAP driver, or no such TAP device */
    LWSS_ERR_PERM = -3,      /**< permission denied on /dev/net/tun or the device */
    LWSS_ERR_BUSY = -4,      /**< already up (or the TAP is held by another process) */
    LWSS_ERR_NOMEM = -5,     /**< out of memory */
    LWSS_ERR_IO = -6,        /**< I/O error (see lwss_last_error()) */
    LWSS_ERR_PCAP = -7,      /**< the capture file could not be opened or written */
    LWSS_ERR_STATE = -8,     /**< not up / wrong state for this call */
    LWSS_ERR_TIMEOUT = -9,   /**< gave up waiting */
} lwss_status;

/** A static English message for a status code. */
LWSS_API const char *lwss_strerror(int status);

/** Detail of the last lwss error in this thread ("" when none). */
LWSS_API const char *lwss_last_error(void);

/**
 * Entropy source for mbedtls (signature of mbedtls_entropy_f_source_ptr):
 * fills @p out with @p len bytes from getrandom(2).
 * @return 0, or MBEDTLS_ERR_ENTROPY_SOURCE_FAILED (-0x003C).
 */
LWSS_API int lwss_entropy_poll(void *data, unsigned char *out, size_t len, size_t *olen);

#ifdef __cplusplus
}
#endif

#endif /* LWSS_STATUS_H */
