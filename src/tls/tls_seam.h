/*
 * The seam between the Secure Sockets layer (src/sockets/) and the per-socket
 * TLS layer (src/tls/).  Internal, not installed.  Changing it needs both sides.
 *
 * The sockets layer owns the lwIP descriptor, the handle table and the TLS
 * options set through SOCKETS_SetSockOpt; it calls lwss_tls_connect() after
 * the TCP connect succeeded when REQUIRE_TLS was set.  From then on every
 * Send/Recv/Shutdown/Close of that socket goes through the calls below, which
 * do their own locking (one mbedtls context per socket, touched under a lock;
 * blocking waits happen outside it, through the transport's wait).  The
 * sockets layer also hands in the transport (lwss_tls_io): src/tls/ never
 * calls lwIP or the port itself.
 * Every return value is already a SOCKETS_* code (or a byte count): raw
 * mbedtls codes never cross this seam.
 */
#ifndef LWSS_TLS_SEAM_H
#define LWSS_TLS_SEAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/**
 * Transport under the BIO, supplied by the owner of the descriptor:
 * non-blocking transfers and a readiness wait, so that no mbedtls call
 * blocks while the connection lock is held.
 */
typedef struct lwss_tls_io {
    /** Send without blocking. @return bytes, or -1 with errno (EAGAIN: no room) */
    ssize_t (*send)(int fd, const void *buf, size_t len);
    /** Receive without blocking. @return bytes, 0 at EOF, or -1 with errno */
    ssize_t (*recv)(int fd, void *buf, size_t len);
    /** Wait for readiness.
     *  @return > 0 ready (or an error/hang-up pending), 0 timeout, < 0 error */
    int (*wait)(int fd, int for_write, int timeout_ms);
    /** Set TCP_NODELAY, best effort. */
    void (*no_delay)(int fd);
} lwss_tls_io;

/** TLS options collected by SOCKETS_SetSockOpt before connect. */
typedef struct lwss_tls_options {
    const uint8_t *trusted_cert;   /**< PEM (NUL optional, several certs) or DER; NULL: token roots */
    size_t trusted_cert_len;
    const char *sni;               /**< NUL-terminated; NULL: none (hostname check then uses no name) */
    const char *const *alpn;       /**< NULL-terminated list of protocol names; NULL: none */
    size_t alpn_count;
    int no_resume;                 /**< 1: never resume a cached session for this socket */
    /** Extra expiry check on each certificate's notAfter (iot_tls.h's date callback):
     *  non-zero marks it expired.  NULL: none. */
    long (*date_in_past)(long day, long month, long year);
} lwss_tls_options;

/** One TLS connection (opaque). */
typedef struct lwss_tls_conn lwss_tls_conn;

/**
 * Run the client handshake on the connected socket @p fd, reached through
 * @p io (which must outlive the connection).
 * @p timeout_ms bounds the whole handshake (0 = the default connect timeout).
 * @p peer_ip (network order) / @p peer_port key the session cache.
 * @return SOCKETS_ERROR_NONE with *out set, or SOCKETS_TLS_INIT_ERROR,
 *         SOCKETS_TLS_HANDSHAKE_ERROR, SOCKETS_TLS_SERVER_UNVERIFIED, SOCKETS_ENOMEM.
 *         On error nothing is left allocated and the descriptor stays open.
 */
int32_t lwss_tls_connect(lwss_tls_conn **out, int fd, const lwss_tls_io *io,
                         const lwss_tls_options *opts, uint32_t timeout_ms, uint32_t peer_ip,
                         uint16_t peer_port);

/**
 * Send up to @p len bytes.  @p timeout_ms: 0 waits forever; @p nonblock: never wait.
 * @return bytes sent (> 0), SOCKETS_EWOULDBLOCK (nonblock, nothing sent),
 *         0 on timeout with nothing sent, SOCKETS_ECLOSED, SOCKETS_TLS_SEND_ERROR.
 */
int32_t lwss_tls_send(lwss_tls_conn *c, const void *buf, size_t len, uint32_t timeout_ms,
                      int nonblock);

/**
 * Receive up to @p len bytes of plaintext.
 * @return bytes (> 0), 0 on timeout, SOCKETS_EWOULDBLOCK (nonblock, nothing ready),
 *         SOCKETS_ECLOSED (close_notify or EOF), SOCKETS_TLS_RECV_ERROR.
 */
int32_t lwss_tls_recv(lwss_tls_conn *c, void *buf, size_t len, uint32_t timeout_ms, int nonblock);

/** Decrypted bytes ready to read without touching the network (for the wakeup callback). */
size_t lwss_tls_pending(lwss_tls_conn *c);

/**
 * Shut down: SHUT_WR / SHUT_RDWR send close_notify (bounded wait); the
 * sockets layer then shuts the TCP side down.  @return SOCKETS_* code.
 */
int32_t lwss_tls_shutdown(lwss_tls_conn *c, uint32_t how);

/** Send close_notify (bounded, best effort) and free everything. Does not close @p fd. */
void lwss_tls_close(lwss_tls_conn *c);

/** Protocol the server chose by ALPN, or NULL (none offered or none chosen). */
const char *lwss_tls_alpn(lwss_tls_conn *c);

/** Last mbedtls error of this connection and its message (for lwss_socket_tls_error()). */
int lwss_tls_last_error(const lwss_tls_conn *c, char *msg, size_t msg_len);

#endif
