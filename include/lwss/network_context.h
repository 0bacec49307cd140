/**
 * @file network_context.h
 * @brief NetworkContext_t for lwss's core FreeRTOS transports
 * (using_mbedtls_pkcs11.h, using_plaintext.h): coreMQTT's
 * transport_interface.h when the application has it, else the one name it
 * declares that those headers need.  The application defines
 * struct NetworkContext (pParams first), as upstream's demos do.
 */
#ifndef LWSS_NETWORK_CONTEXT_H
#define LWSS_NETWORK_CONTEXT_H

#if defined(__has_include)
#if __has_include("transport_interface.h")
#include "transport_interface.h"
#define LWSS_HAVE_TRANSPORT_INTERFACE 1
#endif
#endif
#ifndef LWSS_HAVE_TRANSPORT_INTERFACE
/** Defined by the application. */
typedef struct NetworkContext NetworkContext_t;
#endif

#endif
