/**
 * @file using_plaintext.h
 * @brief core FreeRTOS's plaintext network transport (FreeRTOS/FreeRTOS
 * .../network_transport/using_plaintext) over lwss's Secure Sockets.
 *
 * As upstream's demos do, the application defines
 *
 *     struct NetworkContext { PlaintextTransportParams_t *pParams; };
 *
 * (pParams first) and points pParams at its own PlaintextTransportParams_t.
 * Difference from upstream: a 1-byte recv waits for the receive timeout like
 * any other (upstream returns 0 at once when nothing is buffered).
 */
#ifndef USING_PLAINTEXT_H
#define USING_PLAINTEXT_H

#include "iot_secure_sockets.h"

#include "lwss/export.h"
#include <stddef.h>
#include <stdint.h>

#include "lwss/network_context.h" /* NetworkContext_t */

#ifdef __cplusplus
extern "C" {
#endif

/** What the network context points to. */
typedef struct PlaintextTransportParams {
    Socket_t tcpSocket; /**< the Secure Sockets handle; SOCKETS_INVALID_SOCKET when closed */
} PlaintextTransportParams_t;

/** Plaintext Connect / Disconnect status (upstream's values). */
typedef enum PlaintextTransportStatus {
    PLAINTEXT_TRANSPORT_SUCCESS = 1,           /**< Function successfully completed. */
    PLAINTEXT_TRANSPORT_INVALID_PARAMETER = 2, /**< At least one parameter was invalid. */
    PLAINTEXT_TRANSPORT_CONNECT_FAILURE = 3    /**< Name not resolved or TCP connect failed. */
} PlaintextTransportStatus_t;

/**
 * Resolve and connect.  Either timeout 0 makes both recv and send
 * non-blocking (FreeRTOS+TCP's 0 timeout), after the connect.
 * @return PLAINTEXT_TRANSPORT_SUCCESS, PLAINTEXT_TRANSPORT_INVALID_PARAMETER or
 *         PLAINTEXT_TRANSPORT_CONNECT_FAILURE (nothing stays open).
 */
LWSS_API PlaintextTransportStatus_t Plaintext_FreeRTOS_Connect(NetworkContext_t *pNetworkContext,
                                                      const char *pHostName, uint16_t port,
                                                      uint32_t receiveTimeoutMs,
                                                      uint32_t sendTimeoutMs);

/** Shut down and close.
 *  @return PLAINTEXT_TRANSPORT_SUCCESS or PLAINTEXT_TRANSPORT_INVALID_PARAMETER. */
LWSS_API PlaintextTransportStatus_t Plaintext_FreeRTOS_Disconnect(const NetworkContext_t *pNetworkContext);

/** @return bytes (> 0); 0 on timeout with nothing read; negative SOCKETS_* code on error/close. */
LWSS_API int32_t Plaintext_FreeRTOS_recv(NetworkContext_t *pNetworkContext, void *pBuffer,
                                size_t bytesToRecv);

/** @return bytes (> 0); 0 on timeout with nothing sent; negative SOCKETS_* code on error. */
LWSS_API int32_t Plaintext_FreeRTOS_send(NetworkContext_t *pNetworkContext, const void *pBuffer,
                                size_t bytesToSend);

#ifdef __cplusplus
}
#endif

#endif /* USING_PLAINTEXT_H */
