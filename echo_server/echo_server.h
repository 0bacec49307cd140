/* lwss-echo-server: listener abstraction shared by the plain listener
 * (echo_server.c) and the TLS listener (echo_tls.c).  Internal to the tool. */
#ifndef LWSS_ECHO_SERVER_H
#define LWSS_ECHO_SERVER_H

#include <stddef.h>
#include <sys/types.h>

/** Command-line configuration. */
typedef struct echo_config {
    const char *addr;          /**< listen address (dotted quad) */
    int port;                  /**< plain port */
    int tls_port;              /**< TLS port; 0 = no TLS listener */
    const char *cert;          /**< TLS: server certificate (PEM) */
    const char *key;           /**< TLS: server key (PEM) */
    const char *ca;            /**< TLS: CA that client certificates must chain to */
    const char *ready_file;    /**< created once every listener listens */
    const char *stats_file;    /**< JSON counters, rewritten after every connection */
    unsigned idle_timeout_s;   /**< a connection idle this long is closed */
    int tls_any_client;        /**< TLS: accept any client certificate (like the reference) */
} echo_config;

/**
 * What one kind of listener does with each accepted connection.  All calls
 * run on the connection's own thread with a blocking descriptor whose
 * SO_RCVTIMEO / SO_SNDTIMEO are the idle timeout.
 */
typedef struct echo_conn_ops {
    const char *kind; /**< "plain" or "tls": shown in the log */
    /** Per-connection set-up on accepted @p fd (e.g. the handshake).
     *  0 with *conn set, or -1 with a message in @p err. */
    int (*open)(void *listener_ctx, int fd, void **conn, char *err, size_t errlen);
    /** Read up to @p len: bytes (> 0), 0 on orderly close, < 0 on error or idle timeout. */
    ssize_t (*read)(void *conn, void *buf, size_t len);
    /** Write all of @p len: @p len, or < 0 on error. */
    ssize_t (*write)(void *conn, const void *buf, size_t len);
    /** 1 when this connection resumed a TLS session (NULL: never). */
    int (*resumed)(void *conn);
    /** Free the per-connection state (TLS: close_notify); must not close the fd. */
    void (*close)(void *conn);
    /** Free the listener context at exit (NULL: nothing to free). */
    void (*free_listener)(void *listener_ctx);
} echo_conn_ops;

/**
 * The TLS listener (echo_server/echo_tls.c): load the certificate, key and
 * CA of @p cfg and return the ops of TLS connections.
 * @return 0 with *ops and *listener_ctx set, or -1 with a message in @p err.
 */
int echo_tls_listener_init(const echo_config *cfg, const echo_conn_ops **ops, void **listener_ctx,
                           char *err, size_t errlen);

#endif
