/*
 * Send / Recv / Shutdown / Close on an established TLS connection.
 * Every mbedtls call runs under the connection lock with a non-blocking
 * BIO; waits for the descriptor happen with the lock released, so one
 * thread can block in Recv while another sends.  A would-block or a
 * timeout never destroys the context.
 */
#include "src/tls/tls_internal.h"
#include "lwss/tls.h"
#include "src/core/core.h"
#include "lwss/status.h"

#include <mbedtls/net_sockets.h>

#include <string.h>

static int is_want(int ret)
{
    return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

/*
 * A write that returned WANT_WRITE has already built (encrypted) its record;
 * mbedtls only sends the rest when called again.  Like mbedtls, the seam
 * then reports would-block and expects the caller to retry with the same
 * data, which it recognises by hash and answers with the byte count once
 * the record is out.  A Recv or Close in between pushes the record out too
 * (a peer may be waiting for it before answering).  All under the lock.
 */
static uint64_t fingerprint(const void *buf, size_t len)
{
    /* FNV-1a over 8-byte words (a 16 KiB record is hashed on every would-
     * block and again on the retry: byte by byte that was ~25 us each). */
    const unsigned char *p = buf;
    uint64_t h = 1469598103934665603ull ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 1099511628211ull;
        h ^= h >> 29;
    }
    for (; i < len; i++) {
        h = (h ^ p[i]) * 1099511628211ull;
    }
    return h;
}

/* Push out a built record: 0 when nothing is left to send, WANT_*, or an error. */
static int flush_committed(lwss_tls_conn *c)
{
    static const unsigned char unused[1];
    if (c->write_committed == 0 || c->committed_flushed) {
        return 0;
    }
    /* With output pending, mbedtls flushes and does not read the buffer. */
    int ret = mbedtls_ssl_write(&c->ssl, unused, c->write_committed);
    if (ret >= 0) {
        c->committed_flushed = 1;
        return 0;
    }
    return ret;
}

/* One attempt under the lock: bytes sent (>= 0), WANT_*, or an error. */
static int send_step(lwss_tls_conn *c, const void *buf, size_t len)
{
    if (c->write_committed > 0) {
        int retry = len >= c->write_committed &&
                    fingerprint(buf, c->write_committed) == c->committed_hash;
        int ret = flush_committed(c);
        if (ret != 0) {
            return ret;
        }
        size_t done = c->write_committed;
        c->write_committed = 0;
        c->committed_flushed = 0;
        if (retry) {
            return (int)done;
        }
        /* The caller moved on to other data: what was built went out anyway. */
    }
    int max = mbedtls_ssl_get_max_out_record_payload(&c->ssl);
    size_t chunk = max > 0 && len > (size_t)max ? (size_t)max : len;
    int ret = mbedtls_ssl_write(&c->ssl, buf, chunk);
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        c->write_committed = chunk;
        c->committed_hash = fingerprint(buf, chunk);
        c->committed_flushed = 0;
    }
    return ret;
}

int32_t lwss_tls_send(lwss_tls_conn *c, const void *buf, size_t len, uint32_t timeout_ms,
                      int nonblock)
{
    if (c == NULL || (buf == NULL && len > 0)) {
        return SOCKETS_EINVAL;
    }
    uint64_t deadline = lwss_tls_deadline(timeout_ms);
    for (;;) {
        lwss_os_lock(&c->lock);
        int ret;
        if (c->fatal) {
            ret = MBEDTLS_ERR_SSL_INTERNAL_ERROR;
        } else if (c->write_shut || c->peer_closed) {
            pthread_mutex_unlock(&c->lock);
            return SOCKETS_ECLOSED;
        } else {
            ret = send_step(c, buf, len);
        }
        if (ret < 0 && !is_want(ret) && !c->fatal) {
            c->fatal = 1;
            lwss_tls_record_error(c, ret, SOCKETS_TLS_SEND_ERROR, "send");
        }
        pthread_mutex_unlock(&c->lock);
        if (ret >= 0) {
            return (int32_t)ret;
        }
        if (!is_want(ret)) {
            return ret == MBEDTLS_ERR_NET_CONN_RESET ? SOCKETS_ECLOSED : SOCKETS_TLS_SEND_ERROR;
        }
        if (nonblock) {
            return SOCKETS_EWOULDBLOCK;
        }
        int w = lwss_tls_wait(c, ret, deadline);
        if (w <= 0) {
            return w == 0 ? 0 : SOCKETS_TLS_SEND_ERROR;
        }
    }
}

static int32_t recv_result(lwss_tls_conn *c, int ret)
{
    /* EOF (mbedtls_ssl_read returns 0) with part of a record already read
     * is a truncated record (anyone on the path can cut a connection):
     * an error, not an orderly close. */
    if ((ret == 0 || ret == MBEDTLS_ERR_SSL_CONN_EOF) && c->ssl.in_left > 0) {
        c->fatal = 1;
        return lwss_tls_record_error(c, MBEDTLS_ERR_SSL_CONN_EOF, SOCKETS_TLS_RECV_ERROR,
                                     "receive (cut in the middle of a record)");
    }
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == MBEDTLS_ERR_SSL_CONN_EOF ||
        ret == MBEDTLS_ERR_NET_CONN_RESET) {
        c->peer_closed = 1;
        return SOCKETS_ECLOSED;
    }
    c->fatal = 1;
    return lwss_tls_record_error(c, ret, SOCKETS_TLS_RECV_ERROR, "receive");
}

int32_t lwss_tls_recv(lwss_tls_conn *c, void *buf, size_t len, uint32_t timeout_ms, int nonblock)
{
    if (c == NULL || buf == NULL || len == 0) {
        return SOCKETS_EINVAL;
    }
    uint64_t deadline = lwss_tls_deadline(timeout_ms);
    for (;;) {
        lwss_os_lock(&c->lock);
        int32_t rc = 0;
        int ret = 0;
        if (c->fatal) {
            rc = SOCKETS_TLS_RECV_ERROR;
        } else if (c->peer_closed || c->read_shut) {
            rc = SOCKETS_ECLOSED;
        } else {
            (void)flush_committed(c); /* a Recv must not starve a queued record */
            ret = mbedtls_ssl_read(&c->ssl, buf, len);
            if (ret > 0) {
                rc = ret;
            } else if (!is_want(ret)) {
                rc = recv_result(c, ret);
            }
        }
        int pending_write = c->write_committed > 0 && !c->committed_flushed;
        /* mbedtls stopped short of bytes we hold (it skipped a record) */
        int batched = ret == MBEDTLS_ERR_SSL_WANT_READ && lwss_tls_batched(c) > 0;
        pthread_mutex_unlock(&c->lock);
        if (rc != 0) {
            return rc;
        }
        if (batched) {
            continue;
        }
        if (nonblock) {
            return SOCKETS_EWOULDBLOCK;
        }
        /* With a record still queued, wake up now and then to push it. */
        uint64_t until = deadline;
        if (pending_write) {
            uint64_t soon = lwss_tls_deadline(20);
            until = deadline == 0 || soon < deadline ? soon : deadline;
        }
        int w = lwss_tls_wait(c, ret, until);
        if (w < 0) {
            return SOCKETS_TLS_RECV_ERROR;
        }
        if (w == 0 && until == deadline) {
            return 0;
        }
    }
}

const char *lwss_tls_alpn(lwss_tls_conn *c)
{
    if (c == NULL) {
        return NULL;
    }
    lwss_os_lock(&c->lock);
    const char *p = mbedtls_ssl_get_alpn_protocol(&c->ssl); /* points into our own list */
    pthread_mutex_unlock(&c->lock);
    return p;
}

size_t lwss_tls_pending(lwss_tls_conn *c)
{
    if (c == NULL) {
        return 0;
    }
    lwss_os_lock(&c->lock);
    /* Read-ahead ciphertext counts too: lwip_poll cannot see it. */
    size_t n = mbedtls_ssl_get_bytes_avail(&c->ssl) + lwss_tls_batched(c);
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* close_notify, bounded by LWSS_TLS_CLOSE_NOTIFY_TIMEOUT_MS; best effort. */
static int32_t send_close_notify(lwss_tls_conn *c)
{
    uint64_t deadline = lwss_tls_deadline(LWSS_TLS_CLOSE_NOTIFY_TIMEOUT_MS);
    for (;;) {
        lwss_os_lock(&c->lock);
        int ret = 0;
        if (!c->write_shut && !c->fatal) {
            ret = flush_committed(c);
            if (ret == 0) {
                ret = mbedtls_ssl_close_notify(&c->ssl);
            }
            if (ret == 0 || !is_want(ret)) {
                c->write_shut = 1;
            }
        }
        pthread_mutex_unlock(&c->lock);
        if (!is_want(ret)) {
            return ret == 0 ? SOCKETS_ERROR_NONE : SOCKETS_TLS_SEND_ERROR;
        }
        if (lwss_tls_wait(c, ret, deadline) <= 0) {
            return SOCKETS_TLS_SEND_ERROR;
        }
    }
}

int32_t lwss_tls_shutdown(lwss_tls_conn *c, uint32_t how)
{
    if (c == NULL || how > SOCKETS_SHUT_RDWR) {
        return SOCKETS_EINVAL;
    }
    if (how == SOCKETS_SHUT_RD || how == SOCKETS_SHUT_RDWR) {
        lwss_os_lock(&c->lock);
        c->read_shut = 1;
        pthread_mutex_unlock(&c->lock);
    }
    if (how == SOCKETS_SHUT_WR || how == SOCKETS_SHUT_RDWR) {
        /* The peer learns "no more data" from close_notify; a failure to
         * deliver it is not an error of the shutdown itself. */
        (void)send_close_notify(c);
    }
    return SOCKETS_ERROR_NONE;
}

void lwss_tls_close(lwss_tls_conn *c)
{
    if (c == NULL) {
        return;
    }
    (void)send_close_notify(c);
    lwss_tls_conn_free(c);
}
