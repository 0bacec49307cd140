/*
 * core FreeRTOS's mbedtls + PKCS #11 transport (include/using_mbedtls_pkcs11.h)
 * over Secure Sockets: the socket's TLS (lwss's engine, keys in the token)
 * does what upstream's SSLContext_t does.
 */
#include "using_mbedtls_pkcs11.h"
#include "src/sockets/core_transport.h"
#include "lwss/tls.h"
#include "lwss/status.h"
#include "src/core/core.h"

#include <string.h>

/* The application's definition, as upstream's demos make it (pParams first). */
struct NetworkContext {
    TlsTransportParams_t *pParams;
};

/* The engine takes the device identity by the AFR labels only. */
static int label_ok(const char *given, const char *ours)
{
    return given == NULL || strcmp(given, ours) == 0;
}

static TlsTransportStatus_t status_of(int32_t rc)
{
    switch (rc) {
    case SOCKETS_ERROR_NONE:
        return TLS_TRANSPORT_SUCCESS;
    case SOCKETS_ENOMEM:
        return TLS_TRANSPORT_INSUFFICIENT_MEMORY;
    case SOCKETS_TLS_INIT_ERROR:
        return TLS_TRANSPORT_INVALID_CREDENTIALS;
    case SOCKETS_TLS_HANDSHAKE_ERROR:
    case SOCKETS_TLS_SERVER_UNVERIFIED:
        return TLS_TRANSPORT_HANDSHAKE_FAILED;
    case LWSS_TRANSPORT_NO_HOST:
    case SOCKETS_SOCKET_ERROR:
        return TLS_TRANSPORT_CONNECT_FAILURE;
    default:
        return TLS_TRANSPORT_INTERNAL_ERROR;
    }
}

TlsTransportStatus_t TLS_FreeRTOS_Connect(NetworkContext_t *pNetworkContext, const char *pHostName,
                                          uint16_t port,
                                          const NetworkCredentials_t *pNetworkCredentials,
                                          uint32_t receiveTimeoutMs, uint32_t sendTimeoutMs)
{
    if (pNetworkContext == NULL || pNetworkContext->pParams == NULL || pHostName == NULL ||
        pNetworkCredentials == NULL || port == 0) {
        return TLS_TRANSPORT_INVALID_PARAMETER;
    }
    const NetworkCredentials_t *cr = pNetworkCredentials;
    if (!label_ok(cr->pClientCertLabel, LWSS_TLS_CLIENT_CERT_LABEL) ||
        !label_ok(cr->pPrivateKeyLabel, LWSS_TLS_CLIENT_KEY_LABEL) ||
        (cr->pRootCa != NULL && cr->rootCaSize == 0)) {
        lwss_set_error(LWSS_ERR_INVAL, "TLS_FreeRTOS_Connect: client credentials are the "
                                         "token's \"%s\" / \"%s\"", LWSS_TLS_CLIENT_CERT_LABEL,
                       LWSS_TLS_CLIENT_KEY_LABEL);
        return TLS_TRANSPORT_INVALID_CREDENTIALS;
    }
    /* Without SNI the engine checks the server's address against its
     * certificate (never an unchecked identity). */
    lwss_transport_tls tls = {
        .sni = cr->disableSni ? NULL : pHostName,
        .root = cr->pRootCa,
        .root_len = cr->rootCaSize,
        .alpn = cr->pAlpnProtos,
    };
    TlsTransportParams_t *p = pNetworkContext->pParams;
    int32_t rc = lwss_transport_open(&p->tcpSocket, pHostName, port, receiveTimeoutMs,
                                     sendTimeoutMs, &tls);
    return status_of(rc);
}

void TLS_FreeRTOS_Disconnect(NetworkContext_t *pNetworkContext)
{
    if (pNetworkContext != NULL && pNetworkContext->pParams != NULL) {
        lwss_transport_close(pNetworkContext->pParams->tcpSocket);
        pNetworkContext->pParams->tcpSocket = SOCKETS_INVALID_SOCKET;
    }
}

int32_t TLS_FreeRTOS_recv(NetworkContext_t *pNetworkContext, void *pBuffer, size_t bytesToRecv)
{
    if (pNetworkContext == NULL || pNetworkContext->pParams == NULL) {
        return SOCKETS_EINVAL;
    }
    int32_t n = SOCKETS_Recv(pNetworkContext->pParams->tcpSocket, pBuffer, bytesToRecv, 0);
    return n == SOCKETS_EWOULDBLOCK ? 0 : n;
}

int32_t TLS_FreeRTOS_send(NetworkContext_t *pNetworkContext, const void *pBuffer,
                          size_t bytesToSend)
{
    if (pNetworkContext == NULL || pNetworkContext->pParams == NULL) {
        return SOCKETS_EINVAL;
    }
    int32_t n = SOCKETS_Send(pNetworkContext->pParams->tcpSocket, pBuffer, bytesToSend, 0);
    return n == SOCKETS_EWOULDBLOCK ? 0 : n;
}
