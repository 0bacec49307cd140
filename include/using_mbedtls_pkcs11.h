/**
 * @file using_mbedtls_pkcs11.h
 * @brief core FreeRTOS's mbedtls + PKCS #11 network transport (FreeRTOS/FreeRTOS
 * FreeRTOS-Plus/Source/Application-Protocols/network_transport/using_mbedtls_pkcs11),
 * over lwss's Secure Sockets: the TLS is lwss's engine, keys stay in the token.
 *
 * Source-compatible for applications: same names, types and transport
 * semantics, so a coreMQTT application swaps upstream's transport source for
 * liblwss.  As in upstream's demos, the application defines
 *
 *     struct NetworkContext { TlsTransportParams_t *pParams; };
 *
 * (pParams must be the first member) and points pParams at its own
 * TlsTransportParams_t before TLS_FreeRTOS_Connect.
 *
 * Differences from upstream (all from running over Secure Sockets):
 * - TlsTransportParams_t holds only the Secure Sockets handle; there is no
 *   SSLContext_t (the mbedtls state lives behind the socket).
 * - The client certificate and key are the token's objects labelled
 *   pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS / ..._PRIVATE_KEY_FOR_TLS;
 *   pClientCertLabel / pPrivateKeyLabel must be NULL or those labels
 *   (anything else is TLS_TRANSPORT_INVALID_CREDENTIALS).
 * - Without pRootCa the token's "Root Cert" certificates are trusted.
 * - pUserName / pPassword are not used by the transport (MQTT's business).
 */
#ifndef USING_MBEDTLS_PKCS11
#define USING_MBEDTLS_PKCS11

#include "iot_secure_sockets.h"

#include "lwss/export.h"
#include <stddef.h>
#include <stdint.h>

#include "lwss/network_context.h" /* NetworkContext_t */

#ifdef __cplusplus
extern "C" {
#endif

/** What the network context points to: the Secure Sockets handle of the connection. */
typedef struct TlsTransportParams {
    Socket_t tcpSocket; /**< a SOCKETS_* socket with REQUIRE_TLS; SOCKETS_INVALID_SOCKET when closed */
} TlsTransportParams_t;

/** Credentials for the TLS connection (upstream's fields and order). */
typedef struct NetworkCredentials {
    const char **pAlpnProtos;        /**< NULL-terminated ALPN list in preference order, or NULL */
    BaseType_t disableSni;           /**< pdTRUE: send no SNI; the server address is then checked
                                          against the certificate's iPAddress SAN instead */
    const unsigned char *pRootCa;    /**< trusted root, PEM (size with NUL) or DER; NULL: the token's */
    size_t rootCaSize;               /**< size of pRootCa */
    const unsigned char *pUserName;  /**< for MQTT, unused here */
    size_t userNameSize;             /**< size of pUserName */
    const unsigned char *pPassword;  /**< for MQTT, unused here */
    size_t passwordSize;             /**< size of pPassword */
    const char *pClientCertLabel;    /**< NULL or pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS */
    const char *pPrivateKeyLabel;    /**< NULL or pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS */
} NetworkCredentials_t;

/** TLS Connect / Disconnect status (upstream's values). */
typedef enum TlsTransportStatus {
    TLS_TRANSPORT_SUCCESS = 0,         /**< Function successfully completed. */
    TLS_TRANSPORT_INVALID_PARAMETER,   /**< At least one parameter was invalid. */
    TLS_TRANSPORT_INSUFFICIENT_MEMORY, /**< Insufficient memory. */
    TLS_TRANSPORT_INVALID_CREDENTIALS, /**< Provided credentials were invalid (unparsable root, labels). */
    TLS_TRANSPORT_HANDSHAKE_FAILED,    /**< TLS handshake failed (server not trusted, wrong name,
                                            no client credentials the server wants, timeout). */
    TLS_TRANSPORT_INTERNAL_ERROR,      /**< A socket call failed. */
    TLS_TRANSPORT_CONNECT_FAILURE      /**< Name not resolved or TCP connect failed. */
} TlsTransportStatus_t;

/**
 * Resolve @p pHostName, connect TCP to @p port and run the TLS handshake
 * (SNI and the name check use @p pHostName unless disableSni).
 * @p receiveTimeoutMs / @p sendTimeoutMs: either one 0 makes both recv and
 * send non-blocking (FreeRTOS+TCP's 0 timeout), after the connect.
 * @return TLS_TRANSPORT_SUCCESS, TLS_TRANSPORT_INVALID_PARAMETER,
 *         TLS_TRANSPORT_INSUFFICIENT_MEMORY, TLS_TRANSPORT_INVALID_CREDENTIALS,
 *         TLS_TRANSPORT_HANDSHAKE_FAILED, TLS_TRANSPORT_INTERNAL_ERROR or
 *         TLS_TRANSPORT_CONNECT_FAILURE.  On failure nothing stays open.
 */
LWSS_API TlsTransportStatus_t TLS_FreeRTOS_Connect(NetworkContext_t *pNetworkContext, const char *pHostName,
                                          uint16_t port,
                                          const NetworkCredentials_t *pNetworkCredentials,
                                          uint32_t receiveTimeoutMs, uint32_t sendTimeoutMs);

/** Send close_notify, shut down and close.  Safe on a closed or NULL context. */
LWSS_API void TLS_FreeRTOS_Disconnect(NetworkContext_t *pNetworkContext);

/**
 * coreMQTT's TransportRecv_t.
 * @return bytes (> 0); 0 when the receive timeout passed with nothing read;
 *         negative (a SOCKETS_* code) on error or when the peer closed.
 */
LWSS_API int32_t TLS_FreeRTOS_recv(NetworkContext_t *pNetworkContext, void *pBuffer, size_t bytesToRecv);

/**
 * coreMQTT's TransportSend_t.
 * @return bytes (> 0); 0 when the send timeout passed with nothing sent;
 *         negative (a SOCKETS_* code) on error.
 */
LWSS_API int32_t TLS_FreeRTOS_send(NetworkContext_t *pNetworkContext, const void *pBuffer,
                          size_t bytesToSend);

#ifdef __cplusplus
}
#endif

#endif /* USING_MBEDTLS_PKCS11 */
