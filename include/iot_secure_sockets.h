/**
 * @file iot_secure_sockets.h
 * @brief FreeRTOS Secure Sockets (V1.3.x API) on a Linux host, over lwIP and mbedtls.
 *
 * Source-compatible with the FreeRTOS header: same types, constants, option
 * numbers, error codes and macros.  Only IPv4 TCP client sockets.
 *
 * Results shared by the calls below:
 * - A handle that was never returned by SOCKETS_Socket(), or that was closed
 *   (including a stale copy of a closed handle), gets SOCKETS_EINVAL; it is
 *   never dereferenced.
 * - Timeouts (SOCKETS_SO_RCVTIMEO / SOCKETS_SO_SNDTIMEO: a TickType_t of the
 *   application's width, 4 or 8 bytes, in the application's ticks; 0 or
 *   portMAX_DELAY = forever) make SOCKETS_Recv() and SOCKETS_Send() return 0
 *   when nothing could be transferred in time, never before the timeout has
 *   passed.  Defaults, applied when the socket is created (ms): the
 *   library's socketsconfigDEFAULT_RECV_TIMEOUT / _SEND_TIMEOUT, or what
 *   lwss_sockets_set_default_timeouts() set.
 * - After SOCKETS_SO_NONBLOCK (its value is ignored, as in AFR), SOCKETS_Recv()
 *   / SOCKETS_Send() never wait and return SOCKETS_EWOULDBLOCK when nothing
 *   could be transferred (LWSS_SO_BLOCKING in lwss/sockets.h goes back).
 *
 * FreeRTOS names (BaseType_t, TickType_t, configTICK_RATE_HZ, pdPASS, ...)
 * come from "FreeRTOS.h": the real kernel's when the application has one on
 * its include path, else lwss's stand-ins (lwss/freertos_compat.h, also
 * reachable as FreeRTOS.h in include/lwss/compat for kernel-less code).
 * - An orderly close by the peer (or a local SHUT_RD) gives SOCKETS_ECLOSED.
 */
#ifndef LWSS_IOT_SECURE_SOCKETS_H
#define LWSS_IOT_SECURE_SOCKETS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The kernel's FreeRTOS.h when the application has one on its include path
 * (its definitions win); else lwss's stand-ins. */
#if defined(__has_include)
#if __has_include("FreeRTOS.h")
#include "FreeRTOS.h"
#else
#include "lwss/freertos_compat.h"
#endif
#else
#include "FreeRTOS.h"
#endif
#include "lwss/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Configuration: socketsconfigDEFAULT_* live in lwss/config_defaults.h.
 * They are the library's build-time values (defining them in the
 * application changes nothing in lwss); change them at run time with
 * lwss_sockets_set_default_timeouts() / lwss_sockets_set_connect_timeout(). */
#include "lwss/config_defaults.h"

/* ---- Types ------------------------------------------------------------- */

struct xSOCKET;
/** Opaque socket handle. */
typedef struct xSOCKET *Socket_t;

/** Address length type. */
typedef uint32_t Socklen_t;

/** The invalid socket handle (what SOCKETS_Socket() returns on error). */
#define SOCKETS_INVALID_SOCKET ((Socket_t) ~0U)

/** IPv4 socket address; port and address in network byte order. */
typedef struct SocketsSockaddr {
    uint8_t ucLength;       /**< length of this struct (not checked by lwss) */
    uint8_t ucSocketDomain; /**< SOCKETS_AF_INET (SOCKETS_Connect refuses others) */
    uint16_t usPort;        /**< port, network order */
    uint32_t ulAddress;     /**< IPv4 address, network order */
} SocketsSockaddr_t;

/* ---- Error codes ------------------------------------------------------- */

#define SOCKETS_ERROR_NONE (0)                /**< no error */
#define SOCKETS_SOCKET_ERROR (-1)             /**< unspecified failure */
#define SOCKETS_EWOULDBLOCK (-11)             /**< non-blocking call could not proceed */
#define SOCKETS_ENOMEM (-12)                  /**< out of memory */
#define SOCKETS_EINVAL (-22)                  /**< invalid argument or handle */
#define SOCKETS_ENOPROTOOPT (-109)            /**< unknown or unsupported option */
#define SOCKETS_ENOTCONN (-126)               /**< socket is not connected */
#define SOCKETS_EISCONN (-127)                /**< socket is already connected */
#define SOCKETS_ECLOSED (-128)                /**< connection closed */
#define SOCKETS_TLS_INIT_ERROR (-1001)        /**< TLS set-up failed */
#define SOCKETS_TLS_HANDSHAKE_ERROR (-1002)   /**< TLS handshake failed */
#define SOCKETS_TLS_SERVER_UNVERIFIED (-1003) /**< server certificate not verified */
#define SOCKETS_TLS_RECV_ERROR (-1004)        /**< TLS receive failed */
#define SOCKETS_TLS_SEND_ERROR (-1005)        /**< TLS send failed */
#define SOCKETS_PERIPHERAL_RESET (-1006)      /**< network peripheral reset */

/* ---- Constants --------------------------------------------------------- */

#define SOCKETS_AF_INET (2)          /**< IPv4 */
#define SOCKETS_PF_INET SOCKETS_AF_INET /**< IPv4 */
#define SOCKETS_AF_INET6 (10)        /**< IPv6 (not supported) */
#define SOCKETS_SOCK_DGRAM (2)       /**< datagram (not supported) */
#define SOCKETS_SOCK_STREAM (1)      /**< stream */
#define SOCKETS_IPPROTO_UDP (17)     /**< UDP (not supported) */
#define SOCKETS_IPPROTO_TCP (6)      /**< TCP */

#define SOCKETS_SO_RCVTIMEO (0)                    /**< TickType_t receive timeout; 0 = forever */
#define SOCKETS_SO_SNDTIMEO (1)                    /**< TickType_t send timeout; 0 = forever */
#define SOCKETS_SO_SNDBUF (4)                      /**< TCP send buffer, bytes, before connect (lwss: 2920..262144) */
#define SOCKETS_SO_RCVBUF (5)                      /**< receive buffer size (int) */
#define SOCKETS_SO_SERVER_NAME_INDICATION (6)      /**< SNI host name, length in bytes */
#define SOCKETS_SO_TRUSTED_SERVER_CERTIFICATE (7)  /**< PEM (length with NUL) or DER */
#define SOCKETS_SO_REQUIRE_TLS (8)                 /**< use TLS; value ignored */
#define SOCKETS_SO_NONBLOCK (9)                    /**< non-blocking (value ignored); after connect only */
#define SOCKETS_SO_ALPN_PROTOCOLS (10)             /**< char *[]; length = number of items */
#define SOCKETS_SO_WAKEUP_CALLBACK (17)            /**< void (*)(Socket_t) passed as the value */
#define SOCKETS_SO_TCPKEEPALIVE (18)               /**< keepalive on/off */
#define SOCKETS_SO_TCPKEEPALIVE_INTERVAL (19)      /**< seconds between probes */
#define SOCKETS_SO_TCPKEEPALIVE_COUNT (20)         /**< probes before giving up */
#define SOCKETS_SO_TCPKEEPALIVE_IDLE_TIME (21)     /**< idle seconds before probing */

#define SOCKETS_SHUT_RD (0)   /**< no more receives */
#define SOCKETS_SHUT_WR (1)   /**< no more sends */
#define SOCKETS_SHUT_RDWR (2) /**< neither */

#define securesocketsMAX_DNS_NAME_LENGTH (253)        /**< longest name GetHostByName accepts */
#define securesocketsDEFAULT_TLS_DESTINATION_PORT 443 /**< usual TLS port */
#define socketsAWS_IOT_ALPN_MQTT "x-amzn-mqtt-ca"     /**< ALPN name of AWS IoT MQTT */

/* ---- Functions --------------------------------------------------------- */

/**
 * Initialise the library; brings the lwIP port up from the environment
 * (lwss_port_up(NULL)) unless the application already did.
 * @return pdPASS, or pdFAIL when the stack could not be brought up
 *         (detail in lwss_last_error()).
 */
LWSS_API BaseType_t SOCKETS_Init(void);

/**
 * Create a TCP socket (at most 4096 open at once), with the default send and
 * receive timeouts.
 * @return a handle, or SOCKETS_INVALID_SOCKET when the arguments are not
 *         (SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP), the
 *         stack is down, or resources ran out (detail in lwss_last_error()).
 */
LWSS_API Socket_t SOCKETS_Socket(int32_t lDomain, int32_t lType, int32_t lProtocol);

/**
 * Choose the local address / port before connecting.
 * @return SOCKETS_ERROR_NONE; SOCKETS_EINVAL (bad handle, NULL address);
 *         SOCKETS_EISCONN (already connected); SOCKETS_SOCKET_ERROR (address in use...).
 */
LWSS_API int32_t SOCKETS_Bind(Socket_t xSocket, SocketsSockaddr_t *pxAddress, Socklen_t xAddressLength);

/**
 * Connect, bounded by the connect timeout; then the TLS handshake when
 * SOCKETS_SO_REQUIRE_TLS was set.  After a failure the socket can only be closed.
 * @param xAddressLength must be sizeof(SocketsSockaddr_t)
 * @return SOCKETS_ERROR_NONE; SOCKETS_EINVAL (bad handle, NULL address,
 *         another length, a family other than SOCKETS_AF_INET, address 0,
 *         port 0); SOCKETS_EISCONN (already connected or failed
 *         before); SOCKETS_SOCKET_ERROR (refused, unreachable, timed out);
 *         SOCKETS_TLS_* codes from the handshake.
 */
LWSS_API int32_t SOCKETS_Connect(Socket_t xSocket, SocketsSockaddr_t *pxAddress, Socklen_t xAddressLength);

/**
 * Receive up to @p xBufferLength bytes.
 * @return bytes received (> 0); 0 when the receive timeout expired;
 *         SOCKETS_EWOULDBLOCK (non-blocking, nothing ready); SOCKETS_ECLOSED
 *         (peer closed, local SHUT_RD, or the socket was closed meanwhile);
 *         SOCKETS_EINVAL (bad handle, NULL buffer); SOCKETS_ENOTCONN;
 *         SOCKETS_TLS_RECV_ERROR; SOCKETS_SOCKET_ERROR.
 */
LWSS_API int32_t SOCKETS_Recv(Socket_t xSocket, void *pvBuffer, size_t xBufferLength, uint32_t ulFlags);

/**
 * Send up to @p xDataLength bytes; blocking sockets keep sending until all
 * is sent or the send timeout expires.
 * @return bytes sent (> 0, possibly fewer than asked); 0 when the timeout
 *         expired before anything was sent; SOCKETS_EWOULDBLOCK (non-blocking,
 *         no room); SOCKETS_ECLOSED (connection closed or SHUT_WR);
 *         SOCKETS_EINVAL; SOCKETS_ENOTCONN; SOCKETS_TLS_SEND_ERROR; SOCKETS_SOCKET_ERROR.
 */
LWSS_API int32_t SOCKETS_Send(Socket_t xSocket, const void *pvBuffer, size_t xDataLength, uint32_t ulFlags);

/**
 * Shut down one or both directions (TLS: close_notify first).
 * @return SOCKETS_ERROR_NONE; SOCKETS_EINVAL (bad handle or @p ulHow);
 *         SOCKETS_ENOTCONN; SOCKETS_SOCKET_ERROR.
 */
LWSS_API int32_t SOCKETS_Shutdown(Socket_t xSocket, uint32_t ulHow);

/**
 * Close the socket and free everything; the handle is dead afterwards.  A
 * Recv/Send blocked in another thread returns SOCKETS_ECLOSED; the wakeup
 * callback cannot run once this returns.
 * @return SOCKETS_ERROR_NONE, or SOCKETS_EINVAL for a bad or closed handle.
 */
LWSS_API int32_t SOCKETS_Close(Socket_t xSocket);

/**
 * Set an option (@p lLevel is ignored).  SOCKETS_SO_WAKEUP_CALLBACK: the
 * callback runs on one event thread shared by all sockets, once when data
 * arrives (again only after the application has called SOCKETS_Recv) and once
 * when the peer closes; it may call SOCKETS_Recv, SOCKETS_Send and
 * SOCKETS_Close on its socket, and should not block for long (it delays the
 * callbacks of other sockets).  Clearing it, or closing the socket, returns
 * only once it cannot run any more.  TLS options (REQUIRE_TLS, SNI,
 * TRUSTED_SERVER_CERTIFICATE, ALPN) must come before connect; setting one
 * again replaces it.
 * SOCKETS_SO_RCVTIMEO / SOCKETS_SO_SNDTIMEO take a TickType_t of 4 or 8
 * bytes (@p xOptionLength says which) in ticks of the application's
 * configTICK_RATE_HZ: this name is a macro that passes configTICK_RATE_HZ to
 * lwss_sockets_setsockopt_hz(); a call through a function pointer reaches
 * the function, which assumes 1000 Hz.
 * @return SOCKETS_ERROR_NONE; SOCKETS_EINVAL (bad handle, NULL / wrong-size
 *         value); SOCKETS_EISCONN (TLS option after connect);
 *         SOCKETS_ENOTCONN (NONBLOCK before connect); SOCKETS_ENOPROTOOPT
 *         (unknown or unsupported option); SOCKETS_ENOMEM.
 */
LWSS_API int32_t SOCKETS_SetSockOpt(Socket_t xSocket, int32_t lLevel, int32_t lOptionName,
                           const void *pvOptionValue, size_t xOptionLength);

/**
 * SOCKETS_SetSockOpt() with the application's tick rate, which converts
 * SOCKETS_SO_RCVTIMEO / SOCKETS_SO_SNDTIMEO ticks to time (the library is
 * built apart from the application, so the rate travels with the call).
 * @param tick_rate_hz ticks per second (configTICK_RATE_HZ); 0 is refused
 *        for the timeout options with SOCKETS_EINVAL
 * @return as SOCKETS_SetSockOpt()
 */
LWSS_API int32_t lwss_sockets_setsockopt_hz(Socket_t xSocket, int32_t lLevel, int32_t lOptionName,
                                   const void *pvOptionValue, size_t xOptionLength,
                                   uint32_t tick_rate_hz);

#ifndef LWSS_NO_SETSOCKOPT_MACRO
/** Every call passes the application's configTICK_RATE_HZ along (define
 *  LWSS_NO_SETSOCKOPT_MACRO for code that must see a plain function: its
 *  calls then assume 1000 Hz). */
#define SOCKETS_SetSockOpt(xSocket, lLevel, lOptionName, pvOptionValue, xOptionLength)        \
    lwss_sockets_setsockopt_hz((xSocket), (lLevel), (lOptionName), (pvOptionValue),           \
                               (xOptionLength), (uint32_t)(configTICK_RATE_HZ))
#endif

/**
 * Resolve a host name (A record) through the DNS servers of the port
 * configuration; dotted quads and the static hosts table (lwss/dns.h) are
 * answered without a query.
 * @return the IPv4 address in network order, or 0 (unknown name, name over
 *         securesocketsMAX_DNS_NAME_LENGTH, no answer in time).
 */
LWSS_API uint32_t SOCKETS_GetHostByName(const char *pcHostName);

/* ---- Byte order and address helpers ----------------------------------- */

#ifndef pdLITTLE_ENDIAN
#define pdLITTLE_ENDIAN 0 /**< as the kernel's projdefs.h (older kernels lack it) */
#endif
#ifndef pdBIG_ENDIAN
#define pdBIG_ENDIAN 1    /**< as the kernel's projdefs.h */
#endif

#if defined(__BYTE_ORDER__) && (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#define LWSS_HOST_BYTE_ORDER pdBIG_ENDIAN /**< the host's order */
#else
#define LWSS_HOST_BYTE_ORDER pdLITTLE_ENDIAN /**< the host's order */
#endif

#ifndef socketsconfigBYTE_ORDER
/** Byte order of the host; AFR code tests it to know what the macros below give. */
#define socketsconfigBYTE_ORDER LWSS_HOST_BYTE_ORDER
#endif
#if socketsconfigBYTE_ORDER != LWSS_HOST_BYTE_ORDER
#error "socketsconfigBYTE_ORDER must be the host's byte order (lwss is built for it)"
#endif

/* As AFR's header defines them for each order.  Arguments are converted to
 * uint32_t first: same results for every unsigned value, and no signed
 * shift overflow for int arguments. */
#if socketsconfigBYTE_ORDER == pdLITTLE_ENDIAN
/** Host to network order, 32 bits. */
#define SOCKETS_htonl(ulIn)                                                     \
    ((uint32_t)((((uint32_t)(ulIn) & 0xFFu) << 24) | (((uint32_t)(ulIn) & 0xFF00u) << 8) | \
                (((uint32_t)(ulIn) & 0xFF0000u) >> 8) |                          \
                (((uint32_t)(ulIn) & 0xFF000000u) >> 24)))
/** Host to network order, 16 bits. */
#define SOCKETS_htons(usIn) ((uint16_t)((((uint32_t)(usIn)) << 8U) | (((uint32_t)(usIn)) >> 8U)))
/** Four octets (a.b.c.d) to an address in network order. */
#define SOCKETS_inet_addr_quick(ucOctet0, ucOctet1, ucOctet2, ucOctet3)               \
    ((((uint32_t)(ucOctet3)) << 24UL) | (((uint32_t)(ucOctet2)) << 16UL) |            \
     (((uint32_t)(ucOctet1)) << 8UL) | ((uint32_t)(ucOctet0)))
/** Address in network order to a dotted quad in @p pucBuffer (at least 16 bytes). */
#define SOCKETS_inet_ntoa(ulIPAddress, pucBuffer)                                        \
    sprintf((char *)(pucBuffer), "%u.%u.%u.%u", ((unsigned)((ulIPAddress) & 0xffUL)),    \
            ((unsigned)(((ulIPAddress) >> 8) & 0xffUL)),                                 \
            ((unsigned)(((ulIPAddress) >> 16) & 0xffUL)), ((unsigned)((ulIPAddress) >> 24)))
#else
/** Host to network order, 32 bits (big-endian host: unchanged). */
#define SOCKETS_htonl(ulIn) ((uint32_t)(ulIn))
/** Host to network order, 16 bits (big-endian host: unchanged). */
#define SOCKETS_htons(usIn) ((uint16_t)(usIn))
/** Four octets (a.b.c.d) to an address in network order. */
#define SOCKETS_inet_addr_quick(ucOctet0, ucOctet1, ucOctet2, ucOctet3)               \
    ((((uint32_t)(ucOctet0)) << 24UL) | (((uint32_t)(ucOctet1)) << 16UL) |            \
     (((uint32_t)(ucOctet2)) << 8UL) | ((uint32_t)(ucOctet3)))
/** Address in network order to a dotted quad in @p pucBuffer (at least 16 bytes). */
#define SOCKETS_inet_ntoa(ulIPAddress, pucBuffer)                                        \
    sprintf((char *)(pucBuffer), "%u.%u.%u.%u", ((unsigned)((ulIPAddress) >> 24)),       \
            ((unsigned)(((ulIPAddress) >> 16) & 0xffUL)),                                \
            ((unsigned)(((ulIPAddress) >> 8) & 0xffUL)), ((unsigned)((ulIPAddress) & 0xffUL)))
#endif
/** Network to host order, 32 bits. */
#define SOCKETS_ntohl(usIn) SOCKETS_htonl(usIn)
/** Network to host order, 16 bits. */
#define SOCKETS_ntohs(usIn) SOCKETS_htons(usIn)

#ifdef __cplusplus
}
#endif

#endif /* LWSS_IOT_SECURE_SOCKETS_H */
