/*
 * The BIO under each mbedtls context: non-blocking transfers only, so that
 * an mbedtls call never blocks while the connection lock is held.  Waiting
 * for readiness happens outside the lock, in the callers.  The transport
 * itself (lwss_tls_io) comes from the layer that owns the descriptor: the
 * lwIP one from src/sockets/, the kernel one below for tests and benchmarks.
 */
#include "src/tls/tls_internal.h"
#include "src/core/core.h"
#include "lwss/tls.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#ifdef LWSS_TEST_HOOKS
/* Tests run the engine over kernel descriptors (socketpair, kernel TCP). */
static ssize_t kernel_io_send(int fd, const void *buf, size_t len)
{
    return send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static ssize_t kernel_io_recv(int fd, void *buf, size_t len)
{
    return recv(fd, buf, len, MSG_DONTWAIT);
}

static int kernel_io_wait(int fd, int for_write, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = (short)(for_write ? POLLOUT : POLLIN), .revents = 0};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) {
        return 0;
    }
    return n;
}

static void kernel_io_no_delay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails on AF_UNIX: fine */
}

const lwss_tls_io lwss_tls_kernel_io = {kernel_io_send, kernel_io_recv, kernel_io_wait,
                                        kernel_io_no_delay};
#endif

static int would_block(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    const lwss_tls_conn *c = ctx;
    ssize_t n = c->io->send(c->fd, buf, len);
    if (n >= 0) {
        return (int)n;
    }
    if (would_block(errno)) {
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    }
    if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN) {
        return MBEDTLS_ERR_NET_CONN_RESET;
    }
    return MBEDTLS_ERR_NET_SEND_FAILED;
}

/* Receive from the transport and map the result for mbedtls. */
static int transport_recv(const lwss_tls_conn *c, unsigned char *buf, size_t len)
{
    ssize_t n = c->io->recv(c->fd, buf, len);
    if (n >= 0) {
        return (int)n; /* 0 is EOF: mbedtls reports MBEDTLS_ERR_SSL_CONN_EOF */
    }
    if (would_block(errno)) {
        return MBEDTLS_ERR_SSL_WANT_READ;
    }
    if (errno == ECONNRESET || errno == ENOTCONN || errno == ECONNABORTED) {
        return MBEDTLS_ERR_NET_CONN_RESET;
    }
    return MBEDTLS_ERR_NET_RECV_FAILED;
}

/* Hand out read-ahead bytes; the buffer goes once it is empty. */
static int batch_take(lwss_tls_conn *c, unsigned char *buf, size_t len)
{
    size_t k = c->rx_len - c->rx_off < len ? c->rx_len - c->rx_off : len;
    memcpy(buf, c->rx_batch + c->rx_off, k);
    c->rx_off += k;
    if (c->rx_off == c->rx_len) {
        lwss_tls_batch_free(c);
    }
    return (int)k;
}

/*
 * mbedtls asks for exactly what it needs next (a 5-byte header, then the
 * record).  Over lwIP every receive call ends in a window update to the
 * peer, so ask the transport for up to LWSS_TLS_RX_BATCH bytes at once and
 * serve mbedtls from that (ciphertext only).  Without memory for the batch,
 * read directly.
 */
static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    lwss_tls_conn *c = ctx;
    if (c->rx_batch != NULL) {
        return batch_take(c, buf, len);
    }
    static const size_t batch = LWSS_TLS_RX_BATCH;
    if (len >= batch || (c->rx_batch = malloc(batch)) == NULL) {
        return transport_recv(c, buf, len);
    }
    int n = transport_recv(c, c->rx_batch, batch);
    if (n <= 0) {
        lwss_tls_batch_free(c);
        return n;
    }
    c->rx_off = 0;
    c->rx_len = (size_t)n;
    return batch_take(c, buf, len);
}

size_t lwss_tls_batched(const lwss_tls_conn *c)
{
    return c->rx_batch != NULL ? c->rx_len - c->rx_off : 0;
}

void lwss_tls_batch_free(lwss_tls_conn *c)
{
    free(c->rx_batch);
    c->rx_batch = NULL;
    c->rx_off = c->rx_len = 0;
}

void lwss_tls_bio_attach(lwss_tls_conn *c)
{
    c->io->no_delay(c->fd);
    mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
}

/* Microseconds, one past now + timeout: a wait never ends early. */
uint64_t lwss_tls_deadline(uint32_t timeout_ms)
{
    return timeout_ms == 0 ? 0 : lwss_now_us() + (uint64_t)timeout_ms * 1000u + 1u;
}

/* How the thread waits is the transport's business: the lwIP one waits in
 * lwss_port_wait, which under an OS wait hook (lwss/os.h) only polls and
 * sleeps through the hook, whatever slice is asked for here. */
int lwss_tls_wait(const lwss_tls_conn *c, int ret, uint64_t deadline_us)
{
    int for_write = ret == MBEDTLS_ERR_SSL_WANT_WRITE;
    for (;;) {
        int slice = 1000;
        if (deadline_us != 0) {
            uint64_t now = lwss_now_us();
            if (now >= deadline_us) {
                return 0;
            }
            uint64_t left_ms = (deadline_us - now + 999u) / 1000u; /* rounded up */
            slice = left_ms < 1000 ? (int)left_ms : 1000;
        }
        int n = c->io->wait(c->fd, for_write, slice);
        if (n > 0) {
            return 1;
        }
        if (n < 0) {
            return -1;
        }
    }
}
