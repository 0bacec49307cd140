/* The one mbedtls TLS server of the project, on blocking kernel descriptors:
 * lwss-echo-server's TLS listener (echo_tls.c), the TLS suites' in-process
 * server (tests/support/tls_test_server.c) and the benchmark peer
 * (tests/bench/bench_peer.c) are all this code with different settings.
 * Not part of the library. */
#ifndef LWSS_TLS_SERVER_H
#define LWSS_TLS_SERVER_H

#include <stddef.h>
#include <stdint.h>

/** Settings of one server; every connection accepted by it shares them. */
typedef struct tls_server_opts {
    const char *cert;             /**< server certificate (PEM file) */
    const char *key;              /**< its private key (PEM file) */
    const char *ca;               /**< CA that client certificates must chain to (PEM file) */
    int authmode;                 /**< MBEDTLS_SSL_VERIFY_NONE, _OPTIONAL or _REQUIRED */
    int tls12_only;               /**< 1: TLS 1.2 and nothing else */
    const int *suites;            /**< 0-terminated suites, or NULL for mbedtls' defaults */
    const char **alpn;            /**< NULL-terminated ALPN protocols, or NULL for none */
    uint32_t ticket_lifetime_s;   /**< session tickets valid this long; 0 = no tickets */
    int session_cache;            /**< 1: also resume by session id */
    const char *drbg_pers;        /**< DRBG personalisation string, or NULL */
} tls_server_opts;

typedef struct tls_server tls_server;
typedef struct tls_server_conn tls_server_conn;

/**
 * Load the files of @p o and set up a server.
 * @return 0 with *out set, or a negative mbedtls code with a message in @p err.
 */
int tls_server_new(tls_server **out, const tls_server_opts *o, char *err, size_t errlen);

/** Free a server (NULL: nothing).  Its connections must be closed first. */
void tls_server_free(tls_server *srv);

/**
 * Handshake on the blocking, connected descriptor @p fd (a socket; timeouts
 * come from its SO_RCVTIMEO / SO_SNDTIMEO).  Sets TCP_NODELAY when it can.
 * @return 0 with *out set, or a negative mbedtls code with a message in
 *         @p err naming the client's SNI and a rejected client certificate.
 */
int tls_server_accept(tls_server *srv, int fd, tls_server_conn **out, char *err, size_t errlen);

/**
 * Read up to @p len bytes.
 * @return bytes (> 0); 0 when the peer closed (close_notify or EOF, see
 *         tls_server_peer_notified()); a negative mbedtls code on error
 *         (MBEDTLS_ERR_SSL_TIMEOUT with errno EAGAIN after an idle timeout).
 */
int tls_server_read(tls_server_conn *c, void *buf, size_t len);

/** Write all of @p len bytes.  @return 0, or a negative mbedtls code. */
int tls_server_write_all(tls_server_conn *c, const void *buf, size_t len);

/** 1 when the peer ended with close_notify (after tls_server_read() returned 0). */
int tls_server_peer_notified(const tls_server_conn *c);
/** 1 when the handshake resumed a session (ticket or session id). */
int tls_server_resumed(const tls_server_conn *c);
/** The server name the client sent, or "-". */
const char *tls_server_sni(const tls_server_conn *c);
/** The negotiated ALPN protocol, or NULL. */
const char *tls_server_alpn(const tls_server_conn *c);
/** The negotiated cipher suite's name. */
const char *tls_server_suite(const tls_server_conn *c);

/**
 * Free the connection; with @p notify, send close_notify first.  The
 * descriptor stays open (the caller closes it after this).
 */
void tls_server_close(tls_server_conn *c, int notify);

#endif
