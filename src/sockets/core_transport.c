/*
 * core FreeRTOS's plaintext transport (include/using_plaintext.h) and the
 * connection set-up it shares with the TLS one (core_transport_tls.c): both
 * are thin layers over SOCKETS_*, as upstream's are over FreeRTOS+TCP.
 */
#include "using_plaintext.h"
#include "src/sockets/core_transport.h"

#include <arpa/inet.h>
#include <string.h>

/* The application's definition, as upstream's demos make it (pParams first). */
struct NetworkContext {
    PlaintextTransportParams_t *pParams;
};

static uint32_t resolve(const char *host)
{
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) == 1) {
        return a.s_addr;
    }
    return SOCKETS_GetHostByName(host);
}

static int32_t set_timeout(Socket_t s, int32_t opt, uint32_t ms)
{
    /* Ticks of lwss's stand-in FreeRTOS (or the kernel's), rounded up: a
     * timeout never ends early. */
    TickType_t ticks = (TickType_t)(((uint64_t)ms * configTICK_RATE_HZ + 999u) / 1000u);
    return SOCKETS_SetSockOpt(s, 0, opt, &ticks, sizeof(ticks));
}

static int32_t set_tls(Socket_t s, const lwss_transport_tls *tls)
{
    int32_t rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0);
    if (rc == SOCKETS_ERROR_NONE && tls->sni != NULL) {
        rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SERVER_NAME_INDICATION, tls->sni,
                                strlen(tls->sni));
    }
    if (rc == SOCKETS_ERROR_NONE && tls->root != NULL) {
        rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_TRUSTED_SERVER_CERTIFICATE, tls->root,
                                tls->root_len);
    }
    if (rc == SOCKETS_ERROR_NONE && tls->alpn != NULL && tls->alpn[0] != NULL) {
        size_t n = 0;
        while (tls->alpn[n] != NULL) {
            n++;
        }
        rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_ALPN_PROTOCOLS, tls->alpn, n);
    }
    return rc;
}

int32_t lwss_transport_open(Socket_t *out, const char *host, uint16_t port, uint32_t rx_ms,
                            uint32_t tx_ms, const lwss_transport_tls *tls)
{
    *out = SOCKETS_INVALID_SOCKET;
    uint32_t addr = resolve(host);
    if (addr == 0) {
        return LWSS_TRANSPORT_NO_HOST;
    }
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    if (s == SOCKETS_INVALID_SOCKET) {
        return SOCKETS_ENOMEM;
    }
    int32_t rc = SOCKETS_ERROR_NONE;
    if (rx_ms != 0) {
        rc = set_timeout(s, SOCKETS_SO_RCVTIMEO, rx_ms);
    }
    if (rc == SOCKETS_ERROR_NONE && tx_ms != 0) {
        rc = set_timeout(s, SOCKETS_SO_SNDTIMEO, tx_ms);
    }
    if (rc == SOCKETS_ERROR_NONE && tls != NULL) {
        rc = set_tls(s, tls);
    }
    if (rc == SOCKETS_ERROR_NONE) {
        SocketsSockaddr_t sa = {sizeof(sa), SOCKETS_AF_INET, SOCKETS_htons(port), addr};
        rc = SOCKETS_Connect(s, &sa, sizeof(sa));
    }
    /* FreeRTOS+TCP's 0 timeout is "do not block": the same here. */
    if (rc == SOCKETS_ERROR_NONE && (rx_ms == 0 || tx_ms == 0)) {
        rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_NONBLOCK, NULL, 0);
    }
    if (rc != SOCKETS_ERROR_NONE) {
        (void)SOCKETS_Close(s);
        return rc;
    }
    *out = s;
    return SOCKETS_ERROR_NONE;
}

void lwss_transport_close(Socket_t s)
{
    if (s != SOCKETS_INVALID_SOCKET) {
        (void)SOCKETS_Shutdown(s, SOCKETS_SHUT_RDWR);
        (void)SOCKETS_Close(s);
    }
}

PlaintextTransportStatus_t Plaintext_FreeRTOS_Connect(NetworkContext_t *pNetworkContext,
                                                      const char *pHostName, uint16_t port,
                                                      uint32_t receiveTimeoutMs,
                                                      uint32_t sendTimeoutMs)
{
    if (pNetworkContext == NULL || pNetworkContext->pParams == NULL || pHostName == NULL ||
        port == 0) {
        return PLAINTEXT_TRANSPORT_INVALID_PARAMETER;
    }
    PlaintextTransportParams_t *p = pNetworkContext->pParams;
    int32_t rc = lwss_transport_open(&p->tcpSocket, pHostName, port, receiveTimeoutMs,
                                     sendTimeoutMs, NULL);
    return rc == SOCKETS_ERROR_NONE ? PLAINTEXT_TRANSPORT_SUCCESS
                                    : PLAINTEXT_TRANSPORT_CONNECT_FAILURE;
}

PlaintextTransportStatus_t Plaintext_FreeRTOS_Disconnect(const NetworkContext_t *pNetworkContext)
{
    if (pNetworkContext == NULL || pNetworkContext->pParams == NULL) {
        return PLAINTEXT_TRANSPORT_INVALID_PARAMETER;
    }
    lwss_transport_close(pNetworkContext->pParams->tcpSocket);
    pNetworkContext->pParams->tcpSocket = SOCKETS_INVALID_SOCKET;
    return PLAINTEXT_TRANSPORT_SUCCESS;
}

/* SOCKETS_* results to the transport interface's: EWOULDBLOCK (non-blocking,
 * nothing there) is "0 bytes", like a timeout. */
static int32_t transfer_result(int32_t n)
{
    return n == SOCKETS_EWOULDBLOCK ? 0 : n;
}

int32_t Plaintext_FreeRTOS_recv(NetworkContext_t *pNetworkContext, void *pBuffer,
                                size_t bytesToRecv)
{
    if (pNetworkContext == NULL || pNetworkContext->pParams == NULL) {
        return SOCKETS_EINVAL;
    }
    return transfer_result(SOCKETS_Recv(pNetworkContext->pParams->tcpSocket, pBuffer,
                                        bytesToRecv, 0));
}

int32_t Plaintext_FreeRTOS_send(NetworkContext_t *pNetworkContext, const void *pBuffer,
                                size_t bytesToSend)
{
    if (pNetworkContext == NULL || pNetworkContext->pParams == NULL) {
        return SOCKETS_EINVAL;
    }
    return transfer_result(SOCKETS_Send(pNetworkContext->pParams->tcpSocket, pBuffer,
                                        bytesToSend, 0));
}
