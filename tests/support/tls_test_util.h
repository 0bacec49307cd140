/* Helpers for the TLS suites and the TLS benchmark: an mbedtls test server
 * on a kernel descriptor, a software PKCS #11 token, and file loading. */
#ifndef LWSS_TLS_TEST_UTIL_H
#define LWSS_TLS_TEST_UTIL_H

#include "lwss/pkcs11_std.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/** Path of a file under $(BUILD)/certs into @p out. */
const char *lwss_tt_cert_path(const char *name, char *out, size_t size);

/** Whole file into a heap buffer (NUL added, not counted); NULL on error. */
unsigned char *lwss_tt_read_file(const char *path, size_t *len);

/** What the in-process test server does with one connection. */
typedef struct lwss_tt_server {
    int fd;                       /**< accepted/paired kernel descriptor (closed by the server) */
    const char *cert, *key;       /**< names under certs/ */
    int require_client_cert;      /**< 1: verify the client against certs/ca.crt */
    const char *alpn;             /**< protocol the server accepts, or NULL */
    int connections;              /**< handshakes to serve on fd (1), or accept() on fd when > 1 */
    int stall_ms;                 /**< wait this long after the handshake before reading */
    const int *suites;            /**< 0-terminated suites the server allows, or NULL (defaults) */
    /* results */
    int handshakes_ok;            /**< handshakes completed */
    int resumed;                  /**< of which resumed */
    int last_ret;                 /**< last mbedtls error */
    char alpn_seen[32];           /**< ALPN negotiated on the last connection */
    size_t echoed;                /**< bytes echoed */
    int got_close_notify;         /**< the client sent close_notify */
    pthread_t thread;
} lwss_tt_server;

/** Start serving in a thread (echo until close_notify/EOF). 0 on success. */
int lwss_tt_server_start(lwss_tt_server *s);
/** Join the server thread. */
void lwss_tt_server_join(lwss_tt_server *s);

/** Software token holding a root, device cert and device key (EC or RSA) from certs/. */
typedef struct lwss_tt_token_spec {
    const char *root;             /**< cert name for "Root Cert", or NULL */
    const char *device_cert;      /**< e.g. "client-ec.crt", or NULL */
    const char *device_key;       /**< e.g. "client-ec.key", or NULL */
} lwss_tt_token_spec;

/** Build the software token; returns its function list (static storage). */
CK_FUNCTION_LIST_PTR lwss_tt_token(const lwss_tt_token_spec *spec);
/** C_Sign calls the software token served so far. */
int lwss_tt_token_signs(void);
/** Free what lwss_tt_token() loaded. */
void lwss_tt_token_free(void);

#endif
