/*
 * `make test-transport-headers`: a coreMQTT-style application compiles
 * against lwss's core FreeRTOS transports and AFR's iot_tls.h, with and
 * without coreMQTT's transport_interface.h (LWSS_TEST_WITH_TI), and links:
 * TLS_FreeRTOS_* and Plaintext_FreeRTOS_* have the TransportSend_t /
 * TransportRecv_t types coreMQTT expects.
 */
#include "using_mbedtls_pkcs11.h"
#include "using_plaintext.h"
#include "iot_tls.h"

/* As upstream's demos define it. */
struct NetworkContext {
    TlsTransportParams_t *pParams;
};

int main(void)
{
    TlsTransportParams_t params = {SOCKETS_INVALID_SOCKET};
    NetworkContext_t ctx = {&params};
#ifdef LWSS_TEST_WITH_TI
    TransportInterface_t tls = {.recv = TLS_FreeRTOS_recv, .send = TLS_FreeRTOS_send,
                                .pNetworkContext = &ctx};
    TransportInterface_t plain = {.recv = Plaintext_FreeRTOS_recv,
                                  .send = Plaintext_FreeRTOS_send, .pNetworkContext = &ctx};
    (void)tls;
    (void)plain;
#endif
    TLSParams_t p = {.ulSize = sizeof(p)};
    void *afr = NULL;
    /* No stack is up: the calls must fail cleanly, not crash. */
    int bad = TLS_Init(&afr, &p) == 0; /* no callbacks: refused */
    bad |= TLS_FreeRTOS_Connect(&ctx, "x", 0, NULL, 0, 0) != TLS_TRANSPORT_INVALID_PARAMETER;
    bad |= Plaintext_FreeRTOS_Disconnect(NULL) != PLAINTEXT_TRANSPORT_INVALID_PARAMETER;
    return bad;
}
