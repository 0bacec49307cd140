/**
 * @file sockets.h
 * @brief lwss additions to the Secure Sockets API (not in FreeRTOS).
 */
#ifndef LWSS_SOCKETS_H
#define LWSS_SOCKETS_H

#include <stddef.h>
#include <stdint.h>

#include "iot_secure_sockets.h"
#include "lwss/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * lwss socket option (SOCKETS_SetSockOpt, value ignored, before connect):
 * never resume a cached TLS session on this socket; always a full
 * handshake.  After connect: SOCKETS_EISCONN.
 */
#define LWSS_SO_TLS_NO_RESUME 1000

/**
 * lwss socket option (SOCKETS_SetSockOpt, value ignored, after connect):
 * back to blocking mode after SOCKETS_SO_NONBLOCK, whose value AFR ignores.
 * Before connect: SOCKETS_ENOTCONN.
 */
#define LWSS_SO_BLOCKING 1001

/**
 * Set the bound on SOCKETS_Connect() for sockets connected from now on
 * (TCP handshake, then the TLS handshake).
 * @param timeout_ms 1..3600000 ms.
 * @return SOCKETS_ERROR_NONE, or SOCKETS_EINVAL when out of range.
 */
LWSS_API int32_t lwss_sockets_set_connect_timeout(uint32_t timeout_ms);

/** The current connect bound in ms (default socketsconfigDEFAULT_CONNECT_TIMEOUT). */
LWSS_API uint32_t lwss_sockets_connect_timeout(void);

/**
 * Set the receive and send timeouts that sockets created from now on start
 * with (SOCKETS_SO_RCVTIMEO / SNDTIMEO still change one socket).  The
 * starting values are the library's socketsconfigDEFAULT_RECV_TIMEOUT and
 * socketsconfigDEFAULT_SEND_TIMEOUT.
 * @param recv_ms 1..3600000 ms.
 * @param send_ms 1..3600000 ms.
 * @return SOCKETS_ERROR_NONE, or SOCKETS_EINVAL (nothing changed) when
 *         either is out of range.
 */
LWSS_API int32_t lwss_sockets_set_default_timeouts(uint32_t recv_ms, uint32_t send_ms);

/** The current default timeouts of new sockets, ms; either pointer may be NULL. */
LWSS_API void lwss_sockets_default_timeouts(uint32_t *recv_ms, uint32_t *send_ms);

/**
 * Last TLS error of a socket, for diagnosis.
 * @param msg  receives a NUL-terminated message (may be NULL when @p len is 0)
 * @return the last mbedtls error code of the socket's TLS connection; when
 *         the handshake failed (no connection is kept), the SOCKETS_TLS_* code
 *         SOCKETS_Connect returned, with lwss_last_error() of that moment in
 *         @p msg; 0 when there was no TLS error; SOCKETS_EINVAL for a bad handle.
 */
LWSS_API int32_t lwss_socket_tls_error(Socket_t s, char *msg, size_t len);

/**
 * The protocol the server chose by ALPN on a connected TLS socket.
 * @param out receives it, NUL-terminated
 * @return its length (> 0); 0 when the socket has no TLS connection or the
 *         server chose none; SOCKETS_EINVAL for a bad handle, NULL @p out, or
 *         an @p out too small for the name and its NUL.
 */
LWSS_API int32_t lwss_socket_alpn(Socket_t s, char *out, size_t len);

/**
 * The lwIP descriptor behind a socket (for benchmarks and diagnosis only:
 * I/O on it bypasses the Secure Sockets layer).
 * @return the descriptor (>= 0), or SOCKETS_EINVAL for a bad handle.
 */
LWSS_API int32_t lwss_socket_lwip_fd(Socket_t s);

#ifdef __cplusplus
}
#endif

#endif /* LWSS_SOCKETS_H */
