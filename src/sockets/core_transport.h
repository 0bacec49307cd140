/* Internal to the core FreeRTOS transports (core_transport_*.c): opening a
 * Secure Sockets connection the way both need it. */
#ifndef LWSS_CORE_TRANSPORT_H
#define LWSS_CORE_TRANSPORT_H

#include "iot_secure_sockets.h"

#include <stddef.h>
#include <stdint.h>

/** TLS settings for lwss_transport_open (NULL: plaintext). */
typedef struct lwss_transport_tls {
    const char *sni;              /**< NULL: no SNI */
    const unsigned char *root;    /**< NULL: the token's roots */
    size_t root_len;
    const char **alpn;            /**< NULL-terminated, or NULL */
} lwss_transport_tls;

/**
 * Resolve @p host (dotted or by DNS), create a socket, set the timeouts
 * (ms; 0 = non-blocking after connect) and the TLS options, and connect.
 * @return SOCKETS_ERROR_NONE with *out set, or the failing call's code, with
 *         LWSS_TRANSPORT_NO_HOST for a name that does not resolve.  Nothing
 *         stays open on failure.
 */
int32_t lwss_transport_open(Socket_t *out, const char *host, uint16_t port, uint32_t rx_ms,
                            uint32_t tx_ms, const lwss_transport_tls *tls);

/** Name did not resolve (distinct from every SOCKETS_* code). */
#define LWSS_TRANSPORT_NO_HOST (-20001)

/** Shut down both ways and close; safe with SOCKETS_INVALID_SOCKET. */
void lwss_transport_close(Socket_t s);

#endif
