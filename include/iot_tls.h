/**
 * @file iot_tls.h
 * @brief AFR's TLS abstraction (libraries/freertos_plus/standard/tls), over
 * lwss's TLS engine: the one Secure Sockets' TLS uses.
 *
 * Source-compatible with AFR's header: same types, names and codes.  The
 * application supplies the transport as two callbacks (any byte stream: a
 * SOCKETS_* socket, a kernel socket, ...); TLS_Connect runs the handshake
 * over them.  Client credentials come from the PKCS #11 token the way AFR's
 * iot_tls.c finds them: the device certificate and private key by their
 * labels (pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS,
 * pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS), signing through C_Sign.
 *
 * Differences from AFR's implementation, all documented per call below:
 * - Without pcServerCertificate the roots are the token's "Root Cert"
 *   certificates (AFR compiles in its default AWS roots).
 * - A callback returning 0 means "nothing transferred yet" (a timeout of the
 *   caller's transport): TLS_Recv then returns 0, the handshake tries again
 *   until LWSS_TLS_HANDSHAKE_TIMEOUT_MS (lwss/tls.h) has passed.
 * - A failed TLS_Connect is reported as TLS_ERROR_* (or the verify failure)
 *   rather than the raw mbedtls code of the step that failed.
 */
#ifndef __AWS__TLS__H__
#define __AWS__TLS__H__

#include "lwss/export.h"
#include <stddef.h>
#include <stdint.h>

/* The kernel's FreeRTOS.h when the application has one (AFR requires it
 * before this header); else lwss's stand-ins. */
#ifndef INC_FREERTOS_H
#if defined(__has_include)
#if __has_include("FreeRTOS.h")
#include "FreeRTOS.h"
#else
#include "lwss/freertos_compat.h"
#endif
#else
#include "FreeRTOS.h"
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @defgroup TlsErrors TLS Error Codes
 * Also returned: MBEDTLS_ERR_X509_CERT_VERIFY_FAILED from TLS_Connect when
 * the server's certificate is not trusted (as AFR passes mbedtls codes on).
 * @{
 */
#define TLS_ERROR_HANDSHAKE_FAILED (-2001) /**< Error in handshake. */
#define TLS_ERROR_RNG (-2002)              /**< Error in RNG. */
#define TLS_ERROR_SIGN (-2003)             /**< Error in sign operation. */
#define TLS_ERROR_NO_PRIVATE_KEY (-2004)   /**< Private key was not provisioned. */
#define TLS_ERROR_NO_CERTIFICATE (-2005)   /**< Client certificate not provisioned. */
/** @} */

/**
 * Receive callback: fill @p pucReceiveBuffer with up to @p xReceiveLength bytes.
 * @return bytes read (> 0), 0 when nothing arrived in the transport's own
 *         timeout, negative on error or close.
 */
typedef BaseType_t (*NetworkRecv_t)(void *pvCallerContext, unsigned char *pucReceiveBuffer,
                                    size_t xReceiveLength);

/**
 * Send callback.
 * @return bytes sent (> 0), 0 when nothing could be sent yet, negative on error.
 */
typedef BaseType_t (*NetworkSend_t)(void *pvCallerContext, const unsigned char *pucData,
                                    size_t xDataLength);

/** Connection parameters for TLS_Init (copied: they need not outlive the call, but
 *  the callbacks' context must outlive the connection). */
typedef struct xTLS_PARAMS {
    uint32_t ulSize;                  /**< sizeof(TLSParams_t) */
    const char *pcDestination;        /**< server name: SNI and the name checked (a dotted
                                           IPv4 address is checked against iPAddress SANs) */
    const char *pcServerCertificate;  /**< PEM to trust, or NULL: the token's roots */
    uint32_t ulServerCertificateLength; /**< length including the NUL terminator */
    const char **ppcAlpnProtocols;    /**< ALPN names, or NULL */
    uint32_t ulAlpnProtocolsCount;    /**< entries in ppcAlpnProtocols */
    NetworkRecv_t pxNetworkRecv;      /**< transport receive */
    NetworkSend_t pxNetworkSend;      /**< transport send */
    void *pvCallerContext;            /**< passed to both callbacks */
} TLSParams_t;

/**
 * Allocate a context for one connection.
 * @return 0 with *ppvContext set; CKR_ARGUMENTS_BAD (7) for missing arguments
 *         or callbacks; CKR_HOST_MEMORY (2) without memory (AFR returns CK_RV
 *         values here too).
 */
LWSS_API BaseType_t TLS_Init(void **ppvContext, TLSParams_t *pxParams);

/**
 * Run the client handshake over the callbacks.
 * @return 0; MBEDTLS_ERR_X509_CERT_VERIFY_FAILED when the server's certificate
 *         or name does not verify; TLS_ERROR_NO_PRIVATE_KEY or
 *         TLS_ERROR_NO_CERTIFICATE when the handshake failed and the token
 *         lacks the device key or certificate; TLS_ERROR_HANDSHAKE_FAILED
 *         otherwise (timeout, transport error, parse error of
 *         pcServerCertificate, protocol error).
 */
LWSS_API BaseType_t TLS_Connect(void *pvContext);

/**
 * Read decrypted bytes: returns as soon as some are there.
 * @return bytes (> 0); 0 when the receive callback reported nothing (timeout);
 *         negative (an mbedtls code, MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY when the
 *         peer closed) on a hard error or close, after which the context is
 *         unusable (TLS_Cleanup still frees it).
 */
LWSS_API BaseType_t TLS_Recv(void *pvContext, unsigned char *pucReadBuffer, size_t xReadLength);

/**
 * Encrypt and send all of @p pucMsg, stopping early only when the send
 * callback reports 0.
 * @return bytes accepted (0 .. xMsgLength); negative (an mbedtls code) on error.
 */
LWSS_API BaseType_t TLS_Send(void *pvContext, const unsigned char *pucMsg, size_t xMsgLength);

/** Send close_notify (best effort) and free the context.  NULL is ignored. */
LWSS_API void TLS_Cleanup(void *pvContext);

/**
 * Extra expiry check: called with each certificate's notAfter date during
 * verification; non-zero marks the certificate expired.
 */
typedef BaseType_t (*dateIsInThePast_t)(BaseType_t day, BaseType_t month, BaseType_t year);

/** Install the expiry check (NULL: none, the default). Process-wide, as in AFR. */
LWSS_API void TLS_setDateIsInThePastFunction(dateIsInThePast_t DateIsInThePast);

#ifdef __cplusplus
}
#endif

#endif /* __AWS__TLS__H__ */
