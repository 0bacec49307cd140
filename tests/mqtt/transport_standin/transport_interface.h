/* Stand-in for coreMQTT's transport_interface.h (the names and signatures an
 * application's transport must match), for `make test-transport-headers`. */
#ifndef TRANSPORT_INTERFACE_H
#define TRANSPORT_INTERFACE_H
#include <stddef.h>
#include <stdint.h>
typedef struct NetworkContext NetworkContext_t;
typedef int32_t (*TransportRecv_t)(NetworkContext_t *pNetworkContext, void *pBuffer,
                                   size_t bytesToRecv);
typedef int32_t (*TransportSend_t)(NetworkContext_t *pNetworkContext, const void *pBuffer,
                                   size_t bytesToSend);
typedef struct TransportInterface {
    TransportRecv_t recv;
    TransportSend_t send;
    void *writev;
    NetworkContext_t *pNetworkContext;
} TransportInterface_t;
#endif
